//! Feeds arbitrary text to the ss filter parser; whatever parses must
//! compile to a program the kernel's audit rules accept.
//! Run: `cargo fuzz run ss_filter`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(Some(e)) = netobs_sockdiag::filter::parse(text) {
        let bc = netobs_sockdiag::bytecode::compile(&e);
        assert!(netobs_sockdiag::bytecode::audit(&bc, true).is_ok(), "{text}");
    }
});
