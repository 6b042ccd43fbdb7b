//! Feeds arbitrary text to the /proc/net/ptype parser. Run:
//! `cargo fuzz run proc_ptype`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_capture::ptype::PacketHandlers;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = PacketHandlers::parse("fuzz", &text) {
        let _ = (p.handles(0x0800, "eth0"), p.taps_on("eth0").count());
    }
});
