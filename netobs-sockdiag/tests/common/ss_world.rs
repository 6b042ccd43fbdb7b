//! Answers of every family recorded from a world of sockets
//! (tests/data/ss_world.bin, shared with the ss example's tests): records
//! of `[table, protocol, family, 0][u32 length][payload]`, padded to 4
//! bytes; table 0 netlink, 1 packet, 2 unix, 3 inet from sock_diag, 4
//! inet from /proc/net; protocol 255 raw, 17 udp, 6 tcp, 200 mptcp.

use netobs_sockdiag::query::Origin;
use netobs_sockdiag::{InetSource, Proto};

/// The recorded answers, each with the dump it came from.
pub fn answers() -> Vec<(Origin, Vec<u8>)> {
    let data: &[u8] = include_bytes!("../data/ss_world.bin");
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let len = u32::from_ne_bytes(data[at + 4..at + 8].try_into().unwrap()) as usize;
        let proto = match data[at + 1] {
            255 => Proto::Raw,
            17 => Proto::Udp,
            6 => Proto::Tcp,
            _ => Proto::Mptcp,
        };
        let origin = match data[at] {
            0 => Origin::Netlink,
            1 => Origin::Packet,
            2 => Origin::Unix,
            3 => Origin::Inet(proto, InetSource::SockDiag),
            _ => Origin::Inet(proto, InetSource::ProcNet),
        };
        out.push((origin, data[at + 8..at + 8 + len].to_vec()));
        at = (at + 8 + len).next_multiple_of(4);
    }
    out
}
