//! Feeds arbitrary bytes to the BTF parser and looks members up in what
//! parses. Run: `cargo fuzz run btf` (a seed: a copy of
//! /sys/kernel/btf/vmlinux, or the sample of the unit tests).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_trace::btf::Btf;

fuzz_target!(|data: &[u8]| {
    if let Ok(btf) = Btf::parse(data) {
        for (s, m) in [("sk_buff", "len"), ("sk_buff", "headers.mac_header"), ("outer", "a"), ("sock", "sk_backlog.len")] {
            let _ = btf.member(s, m);
        }
        for id in 0..(btf.len() as u32).min(64) + 2 {
            let _ = btf.size_of(id);
        }
    }
});
