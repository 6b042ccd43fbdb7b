//! The pcap-filter compiler over arbitrary text: must never panic, and
//! what it compiles (offline and live code) must pass the checker.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netobs_capture::{bpf, file::linktype, filter};

fuzz_target!(|data: &[u8]| {
    if let Ok(expr) = std::str::from_utf8(data) {
        for mode in [filter::CodeMode::Offline, filter::CodeMode::LinuxLive] {
            if let Ok(p) = filter::compile_with(expr, linktype::ETHERNET, 262144, mode) {
                assert!(bpf::check(&p).is_ok());
            }
        }
    }
});
