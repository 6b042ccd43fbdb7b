//! NET_DM alert and configuration payloads (genlmsghdr + attributes, summary
//! and packet mode):
//! any bytes give an alert or a DecodeError, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_trace::net_dm::{parse_alert, Alert, NetDmConfig};

fuzz_target!(|data: &[u8]| {
    if let Ok(Alert::Summary(s)) = parse_alert(data) {
        assert!(s.points().count() * 12 <= data.len());
    }
    // NET_DM_CMD_CONFIG_NEW answers.
    let _ = NetDmConfig::parse(data);
});
