//! ICMP and ICMPv6 summaries as `tcpdump -n` prints them: the text after
//! `SRC > DST: `. ICMP follows tcpdump's `icmp_print` (print-icmp.c),
//! ICMPv6 its `icmp6_print` and `mld6_print` (print-icmp6.c). `length` is
//! the message length from the IP header, not what was captured; a field
//! tcpdump needs that the capture lacks ends the line with `[|icmp]`
//! (`[|icmp6]`), as tcpdump's bounds-checked reads do.

use std::fmt::Write;

use super::addr::Ip6Text;
use super::read::{be16, be32, ipv4_at, ipv6_at};

use crate::wire::{ipproto, Ipv6Packet};

/// Offset of the quoted IP header in an error message (after type, code,
/// checksum and the 4-byte unused/pointer/MTU field).
const QUOTED: usize = 8;

/// `ICMP ..., length N` for an ICMP message of `length` bytes.
pub(super) fn icmp(body: &[u8], length: u32) -> String {
    match icmp_text(body) {
        Some(text) => format!("ICMP {text}, length {length}"),
        // ip_print has printed `SRC > DST: `; nd_print_trunc adds " [|icmp]".
        None => " [|icmp]".into(),
    }
}

/// The message-specific text of icmp_print, or None when it reads past
/// the captured bytes.
fn icmp_text(b: &[u8]) -> Option<String> {
    let (kind, code) = (*b.first()?, *b.get(1)?);
    // The quoted datagram's destination, read only by the error types.
    let qdst = || ipv4_at(b, QUOTED + 16);
    Some(match kind {
        0 | 8 => format!(
            "echo {}, id {}, seq {}",
            if kind == 8 { "request" } else { "reply" },
            be16(b, 4)?,
            be16(b, 6)?
        ),
        3 => match code {
            0 => format!("net {} unreachable", qdst()?),
            1 => format!("host {} unreachable", qdst()?),
            2 => format!("{} protocol {} unreachable", qdst()?, b.get(QUOTED + 9)?),
            3 => {
                let proto = *b.get(QUOTED + 9)?;
                let hlen = (*b.get(QUOTED)? as usize & 0x0f) * 4;
                let dport = be16(b, QUOTED + hlen + 2)?;
                let dst = qdst()?;
                match proto {
                    ipproto::TCP => format!("{dst} tcp port {dport} unreachable"),
                    ipproto::UDP => format!("{dst} udp port {dport} unreachable"),
                    p => format!("{dst} protocol {p} port {dport} unreachable"),
                }
            }
            4 => match be16(b, 6)? {
                0 => format!("{} unreachable - need to frag", qdst()?),
                mtu => format!("{} unreachable - need to frag (mtu {mtu})", qdst()?),
            },
            5 => format!("{} unreachable - source route failed", qdst()?),
            6 => format!("net {} unreachable - unknown", qdst()?),
            7 => format!("host {} unreachable - unknown", qdst()?),
            8 => format!("{} unreachable - source host isolated", qdst()?),
            9 => format!("net {} unreachable - admin prohibited", qdst()?),
            10 => format!("host {} unreachable - admin prohibited", qdst()?),
            11 => format!("net {} unreachable - tos prohibited", qdst()?),
            12 => format!("host {} unreachable - tos prohibited", qdst()?),
            13 => format!("host {} unreachable - admin prohibited filter", qdst()?),
            14 => format!("host {} unreachable - host precedence violation", qdst()?),
            15 => format!("host {} unreachable - precedence cutoff", qdst()?),
            c => format!("{} unreachable - #{c}", qdst()?),
        },
        5 => {
            let (dst, gw) = (qdst()?, ipv4_at(b, 4)?);
            match code {
                0 => format!("redirect {dst} to net {gw}"),
                1 => format!("redirect {dst} to host {gw}"),
                2 => format!("redirect-tos {dst} to net {gw}"),
                3 => format!("redirect-tos {dst} to host {gw}"),
                c => format!("redirect-#{c} {dst} to {gw}"),
            }
        }
        9 => router_advertisement(b)?,
        11 => {
            qdst()?;
            match code {
                0 => "time exceeded in-transit".into(),
                1 => "ip reassembly time exceeded".into(),
                c => format!("time exceeded-#{c}"),
            }
        }
        12 => match code {
            0 => format!("parameter problem - octet {}", b.get(4)?),
            c => format!("parameter problem - code {c}"),
        },
        18 => format!("address mask is 0x{:08x}", be32(b, 8)?),
        13 => format!("time stamp query id {} seq {}", be16(b, 4)?, be16(b, 6)?),
        14 => format!(
            "time stamp reply id {} seq {}: org {}, recv {}, xmit {}",
            be16(b, 4)?,
            be16(b, 6)?,
            timestamp(be32(b, 8)?),
            timestamp(be32(b, 12)?),
            timestamp(be32(b, 16)?)
        ),
        4 => "source quench".into(),
        10 => "router solicitation".into(),
        15 => "information request".into(),
        16 => "information reply".into(),
        17 => "address mask request".into(),
        t => format!("type-#{t}"),
    })
}

/// icmp_tstamp_print: milliseconds since midnight UTC as hh:mm:ss.mmm
/// (hours past 24 as they come).
fn timestamp(ms: u32) -> String {
    let (s, ms) = (ms / 1000, ms % 1000);
    format!("{:02}:{:02}:{:02}.{ms:03}", s / 3600, (s % 3600) / 60, s % 60)
}

/// icmp_print's ICMP_ROUTERADVERT: lifetime as s, m:ss or h:mm:ss, then
/// the address count and each {address preference}.
fn router_advertisement(b: &[u8]) -> Option<String> {
    let (num, size, lifetime) = (*b.get(4)?, *b.get(5)?, be16(b, 6)?);
    let mut s = String::from("router advertisement lifetime ");
    let _ = match lifetime {
        l if l < 60 => write!(s, "{l}"),
        l if l < 3600 => write!(s, "{}:{:02}", l / 60, l % 60),
        l => write!(s, "{}:{:02}:{:02}", l / 3600, (l % 3600) / 60, l % 60),
    };
    let _ = write!(s, " {num}:");
    if size != 2 {
        let _ = write!(s, " [size {size}]");
        return Some(s);
    }
    for i in 0..num as usize {
        let at = 8 + 8 * i;
        let _ = write!(s, " {{{} {}}}", ipv4_at(b, at)?, be32(b, at + 4)?);
    }
    Some(s)
}

/// `ICMP6, ...` for an ICMPv6 message of `length` bytes.
pub(super) fn icmp6(b: &[u8], length: u32) -> String {
    let Some(&kind) = b.first() else {
        return " [|icmp6]".into();
    };
    let mut s = format!("ICMP6, {}", icmp6_type_name(kind));
    match icmp6_detail(b, kind, length) {
        Some(Detail::Text(t)) => {
            s.push_str(&t);
            let _ = write!(s, ", length {length}");
        }
        // tcpdump dumps these in hex on the following lines.
        Some(Detail::Unknown(t)) => s.push_str(&t),
        None => s.push_str(" [|icmp6]"),
    }
    s
}

/// What follows the type name: text then `, length N`, or a text after
/// which tcpdump dumps the message in hex instead of the length.
enum Detail {
    Text(String),
    Unknown(String),
}

/// icmp6_type_values.
fn icmp6_type_name(kind: u8) -> String {
    let name = match kind {
        1 => "destination unreachable",
        2 => "packet too big",
        3 => "time exceeded in-transit",
        4 => "parameter problem",
        128 => "echo request",
        129 => "echo reply",
        130 => "multicast listener query",
        131 => "multicast listener report",
        132 => "multicast listener done",
        133 => "router solicitation",
        134 => "router advertisement",
        135 => "neighbor solicitation",
        136 => "neighbor advertisement",
        137 => "redirect",
        138 => "router renumbering",
        139 => "node information query",
        140 => "node information reply",
        141 => "inverse neighbor solicitation",
        142 => "inverse neighbor advertisement",
        143 => "multicast listener report v2",
        144 => "ha discovery request",
        145 => "ha discovery reply",
        146 => "mobile router solicitation",
        147 => "mobile router advertisement",
        155 => "RPL",
        200 => "mtrace response",
        201 => "mtrace message",
        t => return format!("unknown icmp6 type ({t})"),
    };
    name.into()
}

fn icmp6_detail(b: &[u8], kind: u8, length: u32) -> Option<Detail> {
    let code = *b.get(1)?;
    let quoted_dst = || ipv6_at(b, QUOTED + 24);
    let text = match kind {
        1 => match code {
            0 => format!(", unreachable route {}", quoted_dst()?),
            1 => format!(",  unreachable prohibited {}", quoted_dst()?),
            3 => format!(", unreachable address {}", quoted_dst()?),
            2 => format!(
                ", beyond scope {}, source address {}",
                quoted_dst()?,
                ipv6_at(b, QUOTED + 8)?
            ),
            4 => {
                let inner = Ipv6Packet::parse(b.get(QUOTED..)?).ok()?;
                let up = inner.upper_layer();
                let dport = be16(up.payload, 2)?;
                let dst = Ip6Text(inner.dst());
                match up.protocol {
                    ipproto::TCP => format!(", unreachable port, {dst} tcp port {dport}"),
                    ipproto::UDP => format!(", unreachable port, {dst} udp port {dport}"),
                    p => format!(", unreachable port, {dst} protocol {p} port {dport} unreachable"),
                }
            }
            c => return Some(Detail::Unknown(format!(", unknown unreach code ({c})"))),
        },
        2 => format!(", mtu {}", be32(b, 4)?),
        3 => match code {
            0 => format!(" for {}", quoted_dst()?),
            1 => " (reassembly)".into(),
            c => format!(", unknown code ({c})"),
        },
        4 => {
            quoted_dst()?;
            let problem = match code {
                0 => "erroneous",
                1 => "next header",
                2 => "option",
                3 => "incomplete header chain",
                c => return Some(Detail::Text(format!(", code-#{c}"))),
            };
            format!(", {problem} - octet {}", be32(b, 4)?)
        }
        128 | 129 => format!(", id {}, seq {}", be16(b, 4)?, be16(b, 6)?),
        130 if length == 24 => mld(b)?,
        130 if length >= 28 => mldv2_query(b, length)?,
        130 => format!(" unknown-version (len {length}) "),
        131 | 132 => mld(b)?,
        133 | 134 | 141 | 142 => String::new(),
        135 => format!(", who has {}", ipv6_at(b, 8)?),
        136 => format!(", tgt is {}", ipv6_at(b, 8)?),
        137 => format!(", {} to {}", ipv6_at(b, 24)?, ipv6_at(b, 8)?),
        143 => {
            if length < 8 {
                format!(" [invalid len {length}]")
            } else {
                format!(", {} group record(s)", be16(b, 6)?)
            }
        }
        144 | 146 => format!(", id 0x{:04x}", be16(b, 4)?),
        145 | 147 => String::new(),
        // Router renumbering, node information and RPL: tcpdump decodes
        // them further; netobs prints the name only.
        138..=140 | 155 => String::new(),
        // tcpdump dumps an unknown type in hex after its length.
        _ => return Some(Detail::Unknown(format!(", length {length}"))),
    };
    Some(Detail::Text(text))
}

/// mld6_print: MLDv1 query, report and done.
fn mld(b: &[u8]) -> Option<String> {
    Some(format!("max resp delay: {} addr: {}", be16(b, 4)?, ipv6_at(b, 8)?))
}

/// mldv2_query_print without -v.
fn mldv2_query(b: &[u8], length: u32) -> Option<String> {
    let mut s = format!(" v2 [gaddr {}", ipv6_at(b, 8)?);
    let sources = be16(b, 26)? as u32;
    if sources > 0 {
        if length < 28 + sources * 16 {
            s.push_str(" [invalid number of sources]");
        } else {
            let _ = write!(s, ", {sources} source(s)");
        }
    }
    s.push(']');
    Some(s)
}
