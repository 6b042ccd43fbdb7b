//! One-line packet summaries in the style of `tcpdump -n -S` for the
//! common cases: ARP, IPv4/IPv6 with TCP (flags, seq, ack, win, options),
//! UDP, ICMP/ICMPv6 echo, 802.1Q/QinQ tags. Anything else is named by
//! its protocol number or EtherType. Application protocols are not
//! decoded. The free functions print absolute sequence numbers (tcpdump's
//! `-S`); a [`Summarizer`] remembers TCP conversations and prints them
//! relative to the first ones seen, as tcpdump does by default.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::Ipv4Addr;

use crate::wire::{
    ethertype, ipproto, ArpPacket, EthernetFrame, IcmpMessage, Ipv4Packet, Ipv6Packet, MacAddr, TcpSegment, UdpDatagram,
};

fn ethertype_name(t: u16) -> Option<&'static str> {
    Some(match t {
        ethertype::IPV4 => "IPv4",
        ethertype::IPV6 => "IPv6",
        ethertype::ARP => "ARP",
        ethertype::RARP => "Reverse ARP",
        ethertype::VLAN => "802.1Q",
        ethertype::QINQ => "802.1Q-QinQ",
        _ => return None,
    })
}

fn ethertype_text(t: u16) -> String {
    match ethertype_name(t) {
        Some(n) => format!("ethertype {n} (0x{t:04x})"),
        None => format!("ethertype Unknown (0x{t:04x})"),
    }
}

/// The `-e` prefix: `SRC > DST, ethertype IPv4 (0x0800), length N: `.
pub fn link_header(frame: &[u8], wire_len: u32) -> String {
    match EthernetFrame::parse(frame) {
        Ok(eth) => format!(
            "{} > {}, {}, length {wire_len}: ",
            eth.src(),
            eth.dst(),
            ethertype_text(eth.ethertype())
        ),
        Err(_) => format!("[|ether], length {wire_len}: "),
    }
}

/// The summary of an Ethernet frame after the timestamp, e.g.
/// `IP 10.0.0.1.4000 > 10.0.0.2.5000: UDP, length 18`.
pub fn summary(frame: &[u8], wire_len: u32) -> String {
    summarize(frame, wire_len, true, None)
}

/// The summary after a [`link_header`] prefix (`tcpdump -e`): the
/// EtherType is already shown, so the protocol name (IP, IP6, ARP) is not.
pub fn summary_after_link(frame: &[u8], wire_len: u32) -> String {
    summarize(frame, wire_len, false, None)
}

/// One TCP conversation, both directions under one key: (lower address,
/// higher address, ports), as tcpdump's tcp_seq_hash orders them.
type ConversationKey = (String, String, u32);

/// Summaries with relative TCP sequence numbers (tcpdump without `-S`):
/// the first segment with ACK of a conversation, or any SYN, records the
/// initial sequence and acknowledgment numbers; later segments print
/// their numbers relative to them.
#[derive(Debug, Default)]
pub struct Summarizer {
    conversations: HashMap<ConversationKey, (u32, u32)>,
}

impl Summarizer {
    /// No conversation seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Like [`summary`], with relative sequence numbers.
    pub fn summary(&mut self, frame: &[u8], wire_len: u32) -> String {
        summarize(frame, wire_len, true, Some(&mut self.conversations))
    }

    /// Like [`summary_after_link`], with relative sequence numbers.
    pub fn summary_after_link(&mut self, frame: &[u8], wire_len: u32) -> String {
        summarize(frame, wire_len, false, Some(&mut self.conversations))
    }
}

type Conversations<'c> = Option<&'c mut HashMap<ConversationKey, (u32, u32)>>;

/// The bytes tcpdump dumps in hex and ASCII by default, without `-x`:
/// the payload of a frame whose EtherType it does not decode.
pub fn undecoded_payload(frame: &[u8]) -> Option<&[u8]> {
    let eth = EthernetFrame::parse(frame).ok()?;
    let known = matches!(
        eth.inner_ethertype(),
        ethertype::IPV4 | ethertype::IPV6 | ethertype::ARP
    );
    (!known && eth.vlan_tags().count() == 0 && !eth.payload().is_empty()).then(|| eth.payload())
}

fn summarize(frame: &[u8], wire_len: u32, name: bool, conv: Conversations<'_>) -> String {
    let Ok(eth) = EthernetFrame::parse(frame) else {
        return "[|ether]".into();
    };
    let mut out = String::new();
    let tags = eth.vlan_tags().count();
    if tags > 0 {
        // Each tag is followed by the EtherType it announces.
        let mut types: Vec<u16> = eth.vlan_tags().skip(1).map(|t| t.tpid).collect();
        types.push(eth.inner_ethertype());
        for (tag, next) in eth.vlan_tags().zip(types) {
            let _ = write!(
                out,
                "vlan {}, p {}, {}, ",
                tag.id(),
                tag.priority(),
                ethertype_text(next)
            );
        }
    }
    let payload = eth.payload();
    let name = name && tags == 0;
    let strip = |s: String, prefix: &str| {
        if name {
            s
        } else {
            s.strip_prefix(prefix).unwrap_or(&s).to_string()
        }
    };
    match eth.inner_ethertype() {
        ethertype::IPV4 => out.push_str(&strip(ipv4(payload, conv), "IP ")),
        ethertype::IPV6 => out.push_str(&strip(ipv6(payload, conv), "IP6 ")),
        ethertype::ARP => out.push_str(&strip(arp(payload), "ARP, ")),
        t if tags > 0 => {
            let _ = write!(out, "length {}", payload.len());
            let _ = t;
        }
        // An EtherType tcpdump does not decode: it shows the link header
        // (already there with -e) and then dumps the payload.
        _ if name => out = link_header(frame, wire_len),
        _ => {}
    }
    out
}

fn arp(p: &[u8]) -> String {
    let Ok(a) = ArpPacket::parse(p) else {
        return "ARP, [|arp]".into();
    };
    let ip = |b: &[u8]| match <[u8; 4]>::try_from(b) {
        Ok(o) => Ipv4Addr::from(o).to_string(),
        Err(_) => "?".into(),
    };
    let mac = |b: &[u8]| match <[u8; 6]>::try_from(b) {
        Ok(o) => MacAddr(o).to_string(),
        Err(_) => "?".into(),
    };
    match a.operation() {
        1 => format!(
            "ARP, Request who-has {} tell {}, length {}",
            ip(a.target_proto()),
            ip(a.sender_proto()),
            p.len()
        ),
        2 => format!(
            "ARP, Reply {} is-at {}, length {}",
            ip(a.sender_proto()),
            mac(a.sender_hw()),
            p.len()
        ),
        op => format!("ARP, op {op}, length {}", p.len()),
    }
}

fn ipv4(p: &[u8], conv: Conversations<'_>) -> String {
    let Ok(ip) = Ipv4Packet::parse(p) else {
        return "IP [|ip]".into();
    };
    let (src, dst) = (ip.src().to_string(), ip.dst().to_string());
    let body = ip.payload();
    if ip.frag_offset() != 0 {
        return format!("IP {src} > {dst}: ip-proto-{}", ip.protocol());
    }
    format!("IP {}", transport(ip.protocol(), &src, &dst, body, false, conv))
}

fn ipv6(p: &[u8], conv: Conversations<'_>) -> String {
    let Ok(ip) = Ipv6Packet::parse(p) else {
        return "IP6 [|ip6]".into();
    };
    let up = ip.upper_layer();
    let (src, dst) = (ip.src().to_string(), ip.dst().to_string());
    format!("IP6 {}", transport(up.protocol, &src, &dst, up.payload, true, conv))
}

fn transport(proto: u8, src: &str, dst: &str, body: &[u8], v6: bool, conv: Conversations<'_>) -> String {
    match proto {
        ipproto::TCP => match TcpSegment::parse(body) {
            Ok(t) => {
                let base = conv.and_then(|c| relative_base(c, &t, src, dst));
                format!("{src}.{} > {dst}.{}: {}", t.src_port(), t.dst_port(), tcp(&t, base))
            }
            Err(_) => format!("{src} > {dst}: tcp [|tcp]"),
        },
        ipproto::UDP => match UdpDatagram::parse(body) {
            Ok(u) => format!(
                "{src}.{} > {dst}.{}: UDP, length {}",
                u.src_port(),
                u.dst_port(),
                u.len().saturating_sub(8)
            ),
            Err(_) => format!("{src} > {dst}: udp [|udp]"),
        },
        ipproto::ICMP if !v6 => format!("{src} > {dst}: ICMP {}", icmp(body)),
        ipproto::ICMPV6 if v6 => format!("{src} > {dst}: ICMP6, {}", icmp6(body)),
        n => format!("{src} > {dst}: ip-proto-{n} {}", body.len()),
    }
}

fn icmp(body: &[u8]) -> String {
    echo(body, 8, 0).unwrap_or_else(|t| format!("type-#{t}, length {}", body.len()))
}

fn icmp6(body: &[u8]) -> String {
    echo(body, 128, 129).unwrap_or_else(|t| format!("type {t}, length {}", body.len()))
}

/// An echo request/reply line, or Err(type) for other messages.
fn echo(body: &[u8], request: u8, reply: u8) -> Result<String, u8> {
    let Ok(m) = IcmpMessage::parse(body) else {
        return Ok("[|icmp]".into());
    };
    let kind = match m.msg_type() {
        t if t == request => "request",
        t if t == reply => "reply",
        t => return Err(t),
    };
    Ok(format!(
        "echo {kind}, id {}, seq {}, length {}",
        m.echo_ident(),
        m.echo_seq(),
        body.len()
    ))
}

/// The (seq, ack) to subtract for this segment, tcpdump's way: only
/// segments with ACK take part; a new conversation or a SYN records the
/// bases (and prints absolute numbers).
fn relative_base(
    conv: &mut HashMap<ConversationKey, (u32, u32)>,
    t: &TcpSegment<'_>,
    src: &str,
    dst: &str,
) -> Option<(u32, u32)> {
    let flags = t.flags().0;
    if flags & 0x10 == 0 {
        return None;
    }
    let (sport, dport) = (t.src_port(), t.dst_port());
    let rev = sport > dport || (sport == dport && src > dst);
    let key = if rev {
        (dst.to_string(), src.to_string(), (dport as u32) << 16 | sport as u32)
    } else {
        (src.to_string(), dst.to_string(), (sport as u32) << 16 | dport as u32)
    };
    let (seq, ack) = (t.seq(), t.ack());
    match conv.get(&key) {
        Some(&(base_seq, base_ack)) if flags & 0x02 == 0 => {
            // Stored in the key's direction: (seq of lower side, its ack).
            Some(if rev {
                (base_ack, base_seq)
            } else {
                (base_seq, base_ack)
            })
        }
        _ => {
            let entry = if rev {
                (ack.wrapping_sub(1), seq)
            } else {
                (seq, ack.wrapping_sub(1))
            };
            conv.insert(key, entry);
            None
        }
    }
}

fn tcp(t: &TcpSegment<'_>, base: Option<(u32, u32)>) -> String {
    let f = t.flags().0;
    let mut flags = String::new();
    for (bit, c) in [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, '.'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'W'),
    ] {
        if f & bit != 0 {
            flags.push(c);
        }
    }
    if flags.is_empty() {
        flags.push_str("none");
    }
    let len = t.payload().len() as u32;
    let (base_seq, base_ack) = base.unwrap_or((0, 0));
    let (seq, ack) = (t.seq().wrapping_sub(base_seq), t.ack().wrapping_sub(base_ack));
    let mut s = format!("Flags [{flags}]");
    if len > 0 || f & 0x07 != 0 {
        if len > 0 {
            let _ = write!(s, ", seq {seq}:{}", seq.wrapping_add(len));
        } else {
            let _ = write!(s, ", seq {seq}");
        }
    }
    if f & 0x10 != 0 {
        let _ = write!(s, ", ack {ack}");
    }
    let _ = write!(s, ", win {}", t.window());
    if f & 0x20 != 0 {
        let _ = write!(s, ", urg {}", t.urgent());
    }
    let opts = tcp_options(t.options());
    if !opts.is_empty() {
        let _ = write!(s, ", options [{opts}]");
    }
    let _ = write!(s, ", length {len}");
    s
}

/// TCP options as tcpdump prints them (RFC 9293, 7323, 2018).
fn tcp_options(mut o: &[u8]) -> String {
    let mut parts = Vec::new();
    while let Some(&kind) = o.first() {
        match kind {
            0 => {
                parts.push("eol".to_string());
                break;
            }
            1 => {
                parts.push("nop".into());
                o = &o[1..];
                continue;
            }
            _ => {}
        }
        let Some(&len) = o.get(1) else {
            parts.push("bad opt".into());
            break;
        };
        let len = len as usize;
        if len < 2 || len > o.len() {
            parts.push("bad opt".into());
            break;
        }
        let v = &o[2..len];
        let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        parts.push(match (kind, v.len()) {
            (2, 2) => format!("mss {}", be16(v)),
            (3, 1) => format!("wscale {}", v[0]),
            (4, 0) => "sackOK".into(),
            (5, n) if n % 8 == 0 => {
                let blocks: Vec<String> = v
                    .chunks(8)
                    .map(|b| format!("{{{}:{}}}", be32(b), be32(&b[4..])))
                    .collect();
                format!("sack {} {}", n / 8, blocks.join(""))
            }
            (8, 8) => format!("TS val {} ecr {}", be32(v), be32(&v[4..])),
            (k, _) => format!(
                "unknown-{k} 0x{}",
                v.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ),
        });
        o = &o[len..];
    }
    parts.join(",")
}
