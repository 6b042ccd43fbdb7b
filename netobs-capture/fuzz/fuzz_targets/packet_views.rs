//! Every packet view over arbitrary bytes: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netobs_capture::wire::walk_ethernet(data);
    netobs_capture::wire::FrameFields::of_ethernet(data);
});
