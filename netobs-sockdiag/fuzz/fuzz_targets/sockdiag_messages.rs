//! Feeds arbitrary bytes to every sock_diag view (inet, tcp_info, unix,
//! packet, netlink) and to the bytecode auditor and interpreter.
//! Run: `cargo fuzz run sockdiag_messages` (seed: ../tests/data/inet_tcp.bin).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = netobs_sockdiag::decode_all(data);
    let _ = netobs_sockdiag::bytecode::audit(data, true);
});
