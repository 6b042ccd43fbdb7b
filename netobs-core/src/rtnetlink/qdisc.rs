//! Queueing disciplines and their counters (RTM_GETQDISC,
//! include/uapi/linux/rtnetlink.h and pkt_sched.h/gen_stats.h): what
//! `tc -s qdisc show` prints. A qdisc that drops (a full pfifo, a policing
//! netem, fq's flow limit) is where packets die between the socket and the
//! driver on the way out, and its drops show nowhere else.
//!
//! An answer is `struct tcmsg` then attributes: TCA_KIND (the qdisc's name)
//! and TCA_STATS2, a nest of gnet_stats: TCA_STATS_BASIC (`struct
//! gnet_stats_basic`: u64 bytes, u32 packets, padded to 16), TCA_STATS_QUEUE
//! (`struct gnet_stats_queue`: qlen, backlog, drops, requeues, overlimits)
//! and, since 5.0, TCA_STATS_PKT64 (the packet count in 64 bits).

use crate::error::{DecodeError, Result};
use crate::nlattr::AttrIndex;
use crate::nlmsg::{MsgBuf, NlMsg};
use crate::socket::NetlinkSocket;

/// `RTM_NEWQDISC`, the answer type of RTM_GETQDISC.
pub const RTM_NEWQDISC: u16 = libc::RTM_NEWQDISC;
/// `RTM_GETQDISC`.
pub const RTM_GETQDISC: u16 = libc::RTM_GETQDISC;

/// Size of `struct tcmsg` (family, 3 pad bytes, ifindex, handle, parent, info).
pub const TCMSG_LEN: usize = 20;

// enum TCA_* (rtnetlink.h).
const TCA_KIND: u16 = 1;
const TCA_STATS2: u16 = 7;
// enum TCA_STATS_* (gen_stats.h).
const TCA_STATS_BASIC: u16 = 1;
const TCA_STATS_QUEUE: u16 = 3;
const TCA_STATS_PKT64: u16 = 8;

/// `TC_H_ROOT`: the parent of a root qdisc.
pub const TC_H_ROOT: u32 = 0xffff_ffff;
/// `TC_H_INGRESS`: the parent of the ingress qdisc.
pub const TC_H_INGRESS: u32 = 0xffff_fff1;

/// One qdisc of a dump, owned (a few fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Qdisc {
    /// The device's index.
    pub ifindex: u32,
    /// The qdisc's handle (`major:minor` as `handle >> 16 : handle & 0xffff`).
    pub handle: u32,
    /// Its parent's handle ([`TC_H_ROOT`] for a root qdisc).
    pub parent: u32,
    /// TCA_KIND: `pfifo_fast`, `noqueue`, `fq_codel`, `netem`, ...
    pub kind: String,
    /// The counters, when the kernel sent TCA_STATS2.
    pub stats: Option<QdiscStats>,
}

/// A qdisc's counters (gnet_stats_basic + gnet_stats_queue).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QdiscStats {
    /// Bytes sent.
    pub bytes: u64,
    /// Packets sent (TCA_STATS_PKT64 where present, else the 32-bit count).
    pub packets: u64,
    /// Packets dropped by the qdisc.
    pub drops: u32,
    /// Enqueues over the configured limit or rate (shaping, policing).
    pub overlimits: u32,
    /// Packets put back because the driver was busy.
    pub requeues: u32,
    /// Bytes queued now.
    pub backlog: u32,
    /// Packets queued now.
    pub qlen: u32,
}

impl Qdisc {
    /// Decodes one RTM_NEWQDISC message.
    pub fn parse(msg: &NlMsg<'_>) -> std::result::Result<Qdisc, DecodeError> {
        let p = msg.payload();
        let hdr = p.get(..TCMSG_LEN).ok_or(DecodeError::Truncated {
            what: "tcmsg",
            offset: 0,
            need: TCMSG_LEN,
            have: p.len(),
        })?;
        let word = |at: usize| u32::from_ne_bytes([hdr[at], hdr[at + 1], hdr[at + 2], hdr[at + 3]]);
        let idx = AttrIndex::<16>::parse(&p[TCMSG_LEN..])?;
        let stats = match idx.get(TCA_STATS2) {
            Some(nest) => Some(QdiscStats::parse(nest.payload())?),
            None => None,
        };
        Ok(Qdisc {
            ifindex: word(4),
            handle: word(8),
            parent: word(12),
            kind: idx.str(TCA_KIND).unwrap_or_default().to_owned(),
            stats,
        })
    }

    /// The handle as tc prints it: `8001:` (major in hex, colon; a
    /// non-zero minor after it).
    pub fn handle_text(&self) -> String {
        handle_text(self.handle)
    }
}

/// `major:minor` in tc's spelling (print_tc_classid): `0:`, `8001:`, `1:2`.
pub fn handle_text(h: u32) -> String {
    match (h >> 16, h & 0xffff) {
        (major, 0) => format!("{major:x}:"),
        (major, minor) => format!("{major:x}:{minor:x}"),
    }
}

impl QdiscStats {
    /// Decodes the TCA_STATS2 nest.
    pub fn parse(nest: &[u8]) -> std::result::Result<QdiscStats, DecodeError> {
        let idx = AttrIndex::<16>::parse(nest)?;
        let mut s = QdiscStats::default();
        if let Some(a) = idx.get(TCA_STATS_BASIC) {
            let b = a.payload();
            let basic = b.get(..12).ok_or(DecodeError::AttrSize {
                kind: TCA_STATS_BASIC,
                len: b.len(),
                expected: 16,
            })?;
            s.bytes = u64::from_ne_bytes(basic[..8].try_into().unwrap_or_default());
            s.packets = u64::from(u32::from_ne_bytes(basic[8..12].try_into().unwrap_or_default()));
        }
        if let Some(a) = idx.get(TCA_STATS_QUEUE) {
            let q = a.payload();
            let q = q.get(..20).ok_or(DecodeError::AttrSize {
                kind: TCA_STATS_QUEUE,
                len: q.len(),
                expected: 20,
            })?;
            let word = |at: usize| u32::from_ne_bytes([q[at], q[at + 1], q[at + 2], q[at + 3]]);
            s.qlen = word(0);
            s.backlog = word(4);
            s.drops = word(8);
            s.requeues = word(12);
            s.overlimits = word(16);
        }
        if let Some(p) = idx.u64(TCA_STATS_PKT64) {
            s.packets = p;
        }
        Ok(s)
    }
}

/// A request dumping every qdisc of the namespace (`tc qdisc show`).
pub fn qdisc_dump_request() -> MsgBuf {
    let mut b = MsgBuf::new();
    b.begin(RTM_GETQDISC, 0).push(&[0u8; TCMSG_LEN]);
    b
}

impl NetlinkSocket {
    /// Every qdisc of the namespace with its counters (`tc -s qdisc show`);
    /// an interrupted dump is run again.
    pub fn qdiscs(&mut self) -> Result<Vec<Qdisc>> {
        let mut out = Vec::new();
        crate::socket::retry_interrupted(|| {
            out.clear();
            let mut req = qdisc_dump_request();
            let mut dump = self.dump(&mut req)?;
            while let Some(m) = dump.next()? {
                if m.kind() == RTM_NEWQDISC {
                    match Qdisc::parse(&m) {
                        Ok(q) => out.push(q),
                        Err(e) => {
                            let _ = dump.drain();
                            return Err(crate::Error::from(e));
                        }
                    }
                }
            }
            Ok::<(), crate::Error>(())
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = ((4 + payload.len()) as u16).to_ne_bytes().to_vec();
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    #[test]
    fn stats2_nest_with_and_without_pkt64() {
        let mut basic = 1500u64.to_ne_bytes().to_vec();
        basic.extend_from_slice(&7u32.to_ne_bytes());
        basic.extend_from_slice(&[0; 4]);
        let queue: Vec<u8> = [1u32, 100, 3, 4, 5].iter().flat_map(|v| v.to_ne_bytes()).collect();
        let mut nest = attr(TCA_STATS_BASIC, &basic);
        nest.extend(attr(TCA_STATS_QUEUE, &queue));
        let s = QdiscStats::parse(&nest).unwrap();
        assert_eq!(
            s,
            QdiscStats {
                bytes: 1500,
                packets: 7,
                qlen: 1,
                backlog: 100,
                drops: 3,
                requeues: 4,
                overlimits: 5
            }
        );
        nest.extend(attr(TCA_STATS_PKT64, &(1u64 << 33).to_ne_bytes()));
        assert_eq!(QdiscStats::parse(&nest).unwrap().packets, 1 << 33);
        // A short queue struct is an error, not a guess.
        assert!(QdiscStats::parse(&attr(TCA_STATS_QUEUE, &[0; 8])).is_err());
        assert_eq!(handle_text(0x8001_0000), "8001:");
        assert_eq!(handle_text(0x0001_0002), "1:2");
        assert_eq!(handle_text(0), "0:");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn any_nest_parses_or_fails_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let _ = QdiscStats::parse(&bytes);
        }
    }
}
