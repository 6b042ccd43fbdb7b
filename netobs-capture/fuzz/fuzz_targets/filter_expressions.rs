//! The pcap-filter compiler over arbitrary text: must never panic, and
//! what it compiles must pass the checker.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netobs_capture::{bpf, file::linktype, filter};

fuzz_target!(|data: &[u8]| {
    if let Ok(expr) = std::str::from_utf8(data) {
        if let Ok(p) = filter::compile(expr, linktype::ETHERNET, 262144) {
            assert!(bpf::check(&p).is_ok());
        }
    }
});
