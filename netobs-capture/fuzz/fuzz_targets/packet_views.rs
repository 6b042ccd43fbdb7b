//! Every packet view and every summary printer over arbitrary bytes:
//! must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netobs_capture::wire::walk_ethernet(data);
    netobs_capture::wire::FrameFields::of_ethernet(data);
    netobs_capture::wire::FrameFields::of_linux_sll2(data);
    // the length on the wire: as captured, and longer (a truncated capture)
    for wire_len in [data.len() as u32, 65535] {
        netobs_capture::summary::summary(data, wire_len);
        netobs_capture::summary::Summarizer::new().quick(true).summary(data, wire_len);
        netobs_capture::summary::sll2_summary(data, wire_len, &|i| Some(format!("if{i}")));
        netobs_capture::summary::Summarizer::new()
            .quick(true)
            .sll2_summary_with_link(data, wire_len, &|_| None);
        netobs_capture::summary::sll2_summary_with_link(data, wire_len, &|i| Some(format!("if{i}")));
    }
});
