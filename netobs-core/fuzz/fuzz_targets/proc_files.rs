//! Feeds arbitrary text to the parsers of /proc files in netobs-core
//! (softnet_stat). Run: `cargo fuzz run proc_files`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(stats) = netobs_core::softnet::parse("fuzz", &text) {
        let _ = netobs_core::softnet::total(&stats, |s| s.dropped);
    }
});
