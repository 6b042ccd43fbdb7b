//! One-line packet summaries as `tcpdump -n -S` (4.99) prints them,
//! through the transport layer: ARP (arp_print), IPv4/IPv6 with TCP
//! (flags, seq, ack, win, options; tcp_print), UDP (udp_print),
//! ICMP/ICMPv6 with every type tcpdump names, quoted headers and neighbour
//! discovery (icmp_print, icmp6_print; module `icmp`), 802.1Q/QinQ tags
//! (shown after the link header with `-e`, skipped without, as
//! ether_print does). Lengths come from the IP and UDP headers, so a capture
//! cut by its snap length reads as the packet that was sent. Other IP
//! protocols are named by number (`ip-proto-N LENGTH`); application
//! protocols are not decoded, so a line stops where tcpdump's would go on
//! into DNS, HTTP and the like. The free functions print absolute sequence
//! numbers (tcpdump's `-S`); a [`Summarizer`] remembers TCP conversations
//! and prints them relative to the first ones seen, as tcpdump does by
//! default, and with [`Summarizer::quick`] prints `tcpdump -q`'s lines.

use std::collections::HashMap;
use std::fmt::Write;
use std::net::Ipv4Addr;

use self::addr::Ip6Text;
use crate::wire::{
    ethertype, ipproto, ArpPacket, EthernetFrame, Ipv4Packet, Ipv6Packet, MacAddr, TcpSegment, UdpDatagram, VlanTag,
};

mod addr;
mod icmp;
mod mptcp;
mod read;

/// ether_type_print (print-ether.c): `ethertype NAME (0xXXXX)`, or with
/// `-q` only the name.
fn ethertype_text(t: u16, quick: bool) -> String {
    match (netobs_core::names::ethertype::tcpdump_name(t), quick) {
        (Some(n), false) => format!("ethertype {n} (0x{t:04x})"),
        (None, false) => format!("ethertype Unknown (0x{t:04x})"),
        (Some(n), true) => n.to_string(),
        (None, true) => format!("Unknown Ethertype (0x{t:04x})"),
    }
}

/// A tag as tcpdump names it (addrtoname.c `ieee8021q_tci_string`):
/// `vlan ID, p PCP`, with `, DEI` when the drop-eligible bit is set.
fn tci_text(tag: VlanTag) -> String {
    let dei = if tag.dei() { ", DEI" } else { "" };
    format!("vlan {}, p {}{dei}", tag.id(), tag.priority())
}

/// The line of a network-layer packet without the protocol's name, as
/// tcpdump prints it after a link header (`-e`: ip_print, ip6_print and
/// arp_print leave out `IP `, `IP6 `, `ARP, `).
fn without_protocol_name(ethertype: u16, line: String) -> String {
    let prefix = match ethertype {
        ethertype::IPV4 => "IP ",
        ethertype::IPV6 => "IP6 ",
        _ => "ARP, ",
    };
    match line.strip_prefix(prefix) {
        Some(rest) => rest.to_string(),
        None => line,
    }
}

/// The `-e` prefix: `SRC > DST, ethertype IPv4 (0x0800), length N: `.
pub fn link_header(frame: &[u8], wire_len: u32) -> String {
    link_header_with(frame, wire_len, false)
}

/// The `-e -q` prefix: `SRC > DST, IPv4, length N: `.
pub fn link_header_quick(frame: &[u8], wire_len: u32) -> String {
    link_header_with(frame, wire_len, true)
}

fn link_header_with(frame: &[u8], wire_len: u32, quick: bool) -> String {
    match EthernetFrame::parse(frame) {
        Ok(eth) => format!(
            "{} > {}, {}, length {wire_len}: ",
            eth.src(),
            eth.dst(),
            ethertype_text(eth.ethertype(), quick)
        ),
        Err(_) => format!("[|ether], length {wire_len}: "),
    }
}

/// The summary of an Ethernet frame after the timestamp, e.g.
/// `IP 10.0.0.1.4000 > 10.0.0.2.5000: UDP, length 18`.
pub fn summary(frame: &[u8], wire_len: u32) -> String {
    summarize(frame, wire_len, true, false, None)
}

/// The summary after a [`link_header`] prefix (`tcpdump -e`): the
/// EtherType is already shown, so the protocol name (IP, IP6, ARP) is not.
pub fn summary_after_link(frame: &[u8], wire_len: u32) -> String {
    summarize(frame, wire_len, false, false, None)
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
    quick: bool,
}

impl Summarizer {
    /// No conversation seen yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// tcpdump's `-q` (quick output): TCP as `tcp LENGTH`, EtherTypes by
    /// name only.
    pub fn quick(mut self, quick: bool) -> Self {
        self.quick = quick;
        self
    }

    /// Like [`summary`], with relative sequence numbers.
    pub fn summary(&mut self, frame: &[u8], wire_len: u32) -> String {
        summarize(frame, wire_len, true, self.quick, Some(&mut self.conversations))
    }

    /// Like [`summary_after_link`], with relative sequence numbers.
    pub fn summary_after_link(&mut self, frame: &[u8], wire_len: u32) -> String {
        summarize(frame, wire_len, false, self.quick, Some(&mut self.conversations))
    }

    /// Like [`sll2_summary`], with relative sequence numbers.
    pub fn sll2_summary(&mut self, frame: &[u8], wire_len: u32, names: &dyn Fn(u32) -> Option<String>) -> String {
        summarize_sll2(frame, wire_len, self.quick, false, Some(&mut self.conversations), names)
    }

    /// Like [`sll2_summary_with_link`], with relative sequence numbers.
    pub fn sll2_summary_with_link(
        &mut self,
        frame: &[u8],
        wire_len: u32,
        names: &dyn Fn(u32) -> Option<String>,
    ) -> String {
        summarize_sll2(frame, wire_len, self.quick, true, Some(&mut self.conversations), names)
    }
}

/// Length of a LINUX_SLL2 header (libpcap's `struct sll2_header`).
pub const SLL2_HDR_LEN: usize = 20;

/// tcpdump's line for a LINUX_SLL2 frame (what `tcpdump -i any` captures;
/// print-sll.c `sll2_if_print`): the interface's name from `names` (`?`
/// when it has none, as `if_indextoname` failing gives) left-aligned in 5
/// columns, the direction (`In`, `Out`, `B`, `M`, `P`) in 3, then the
/// packet as after an Ethernet header; an EtherType tcpdump does not
/// decode gets the cooked header's `ifindex N MAC ethertype ..., length
/// N: ` instead. Absolute sequence numbers (`-S`).
pub fn sll2_summary(frame: &[u8], wire_len: u32, names: &dyn Fn(u32) -> Option<String>) -> String {
    summarize_sll2(frame, wire_len, false, false, None, names)
}

/// [`sll2_summary`] as `tcpdump -e` prints it: the cooked header
/// (`ifindex N MAC ethertype IPv4 (0x0800), length N: `) after the
/// direction, each VLAN tag the kernel left in the data as `vlan ID, p
/// PCP, ethertype ..., `, and the packet without its protocol's name.
pub fn sll2_summary_with_link(frame: &[u8], wire_len: u32, names: &dyn Fn(u32) -> Option<String>) -> String {
    summarize_sll2(frame, wire_len, false, true, None, names)
}

/// print-sll.c `sll2_print`: `ifindex N `, the address when it is six
/// bytes long, then (without -q) the protocol and the frame's `length`.
fn sll2_header(frame: &[u8], length: u32, quick: bool) -> String {
    let ifindex = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let mut out = format!("ifindex {ifindex} ");
    if frame[11] == 6 {
        let mac = MacAddr([frame[12], frame[13], frame[14], frame[15], frame[16], frame[17]]);
        let _ = write!(out, "{mac} ");
    }
    if !quick {
        let protocol = u16::from_be_bytes([frame[0], frame[1]]);
        // LINUX_SLL_P_802_3 and LINUX_SLL_P_802_2 (if_ether.h ETH_P_*).
        let text = match protocol {
            0x0001 => "802.3".to_string(),
            0x0004 => "802.2".to_string(),
            p if p <= 1500 => format!("ethertype Unknown (0x{p:04x})"),
            p => ethertype_text(p, false),
        };
        let _ = write!(out, "{text}, length {length}: ");
    }
    out
}

fn summarize_sll2(
    frame: &[u8],
    wire_len: u32,
    quick: bool,
    link: bool,
    conv: Conversations<'_>,
    names: &dyn Fn(u32) -> Option<String>,
) -> String {
    if frame.len() < SLL2_HDR_LEN {
        return "[|sll2]".into();
    }
    let be16 = |at: usize| u16::from_be_bytes([frame[at], frame[at + 1]]);
    let ifindex = u32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
    let direction = match frame[10] {
        0 => "In",
        1 => "B",
        2 => "M",
        3 => "P",
        4 => "Out",
        _ => "?",
    };
    let name = names(ifindex).unwrap_or_else(|| "?".into());
    let mut out = format!("{name:<5} {direction:<3} ");
    if link {
        out.push_str(&sll2_header(frame, wire_len, quick));
    }
    let (protocol, hatype) = (be16(0), be16(8));
    // Radiotap (ARPHRD_IEEE80211_RADIOTAP) is not decoded here.
    if hatype == 803 {
        return out;
    }
    let mut payload = &frame[SLL2_HDR_LEN..];
    let mut length = wire_len.saturating_sub(SLL2_HDR_LEN as u32);
    let mut protocol = protocol;
    // A VLAN tag the kernel left in the data: named, then what it carries.
    while protocol == ethertype::VLAN {
        if payload.len() < 4 {
            out.push_str("[|vlan]");
            return out;
        }
        if link {
            let tci = u16::from_be_bytes([payload[0], payload[1]]);
            let _ = write!(out, "{}, ", tci_text(VlanTag { tpid: protocol, tci }));
        }
        protocol = u16::from_be_bytes([payload[2], payload[3]]);
        if protocol <= 1500 {
            protocol = 0x0004;
        }
        if !quick {
            let name = netobs_core::names::ethertype::tcpdump_name(protocol).unwrap_or("Unknown");
            let _ = write!(out, "ethertype {name}, ");
        }
        payload = &payload[4..];
        length = length.saturating_sub(4);
    }
    // 802.3 and 802.2 payloads (protocol values up to 1500) are not decoded.
    if protocol <= 1500 {
        return out;
    }
    match network(protocol, payload, length, quick, conv) {
        Some(line) if link => out.push_str(&without_protocol_name(protocol, line)),
        Some(line) => out.push_str(&line),
        // Not decoded: the cooked header stands for it (with -e it is
        // there already).
        None if link => {}
        None => out.push_str(&sll2_header(frame, length + SLL2_HDR_LEN as u32, quick)),
    }
    out
}

/// The line of a network-layer packet tcpdump decodes (IPv4, IPv6, ARP,
/// RARP), with its protocol's name (`IP `, `IP6 `, `ARP, `); None for
/// other EtherTypes.
fn network(protocol: u16, payload: &[u8], length: u32, quick: bool, conv: Conversations<'_>) -> Option<String> {
    Some(match protocol {
        ethertype::IPV4 => ipv4(payload, length, quick, conv),
        ethertype::IPV6 => ipv6(payload, length, quick, conv),
        // ethertype_print hands reverse ARP to arp_print as well.
        ethertype::ARP | ethertype::RARP => arp(payload, length),
        _ => return None,
    })
}

type Conversations<'c> = Option<&'c mut HashMap<ConversationKey, (u32, u32)>>;

/// The bytes tcpdump dumps in hex and ASCII by default, without `-x`:
/// the payload of a frame whose EtherType it does not decode.
pub fn undecoded_payload(frame: &[u8]) -> Option<&[u8]> {
    let eth = EthernetFrame::parse(frame).ok()?;
    let known = matches!(
        eth.inner_ethertype(),
        ethertype::IPV4 | ethertype::IPV6 | ethertype::ARP | ethertype::RARP
    );
    (!known && eth.vlan_tags().count() == 0 && !eth.payload().is_empty()).then(|| eth.payload())
}

fn summarize(frame: &[u8], wire_len: u32, name: bool, quick: bool, conv: Conversations<'_>) -> String {
    let Ok(eth) = EthernetFrame::parse(frame) else {
        return "[|ether]".into();
    };
    let mut out = String::new();
    let tags = eth.vlan_tags().count();
    // Without -e tcpdump prints only the packet inside the tags
    // (ether_print_common hands it to ethertype_print); with -e each tag
    // is shown after the link header.
    if tags > 0 && !name {
        // Each tag is followed by the EtherType it announces.
        let mut types: Vec<u16> = eth.vlan_tags().skip(1).map(|t| t.tpid).collect();
        types.push(eth.inner_ethertype());
        for (tag, next) in eth.vlan_tags().zip(types) {
            let _ = write!(out, "{}, {}, ", tci_text(tag), ethertype_text(next, quick));
        }
    }
    let payload = eth.payload();
    // What the link layer carried, from the frame's length on the wire.
    let network_len = (wire_len as usize).saturating_sub(eth.header_len()) as u32;
    let et = eth.inner_ethertype();
    match network(et, payload, network_len, quick, conv) {
        Some(line) if name => out.push_str(&line),
        Some(line) => out.push_str(&without_protocol_name(et, line)),
        None if tags > 0 && !name => {
            let _ = write!(out, "length {network_len}");
        }
        // An EtherType tcpdump does not decode: it shows the link header
        // (already there with -e) and then dumps the payload.
        None if name => out = link_header_with(frame, wire_len, quick),
        None => {}
    }
    out
}

/// arp_print (print-arp.c); `length` is what the link layer carried.
fn arp(p: &[u8], length: u32) -> String {
    let Ok(a) = ArpPacket::parse(p) else {
        return "ARP, [|arp]".into();
    };
    let (hrd, pro) = (a.hardware_type(), a.protocol_type());
    let (hln, pln) = (a.sender_hw().len(), a.sender_proto().len());
    // Address formats tcpdump does not know: only the types and lengths.
    if (pro != ethertype::IPV4 && pro != 0x1000) || pln != 4 || hln == 0 {
        let hardware = match hrd {
            1 => "Ethernet".to_string(),
            6 => "TokenRing".into(),
            7 => "ArcNet".into(),
            15 => "FrameRelay".into(),
            23 => "Strip".into(),
            24 => "IEEE 1394".into(),
            19 => "ATM".into(),
            32 => "InfiniBand".into(),
            h => format!("Unknown Hardware ({h})"),
        };
        let protocol = match netobs_core::names::ethertype::tcpdump_name(pro) {
            Some(n) => n.to_string(),
            None => format!("Unknown Protocol (0x{pro:04x})"),
        };
        return format!("ARP, {hardware} (len {hln}), {protocol} (len {pln}), length {length}");
    }
    let ip = |b: &[u8]| match <[u8; 4]>::try_from(b) {
        Ok(o) => Ipv4Addr::from(o).to_string(),
        Err(_) => "?".into(),
    };
    // linkaddr_string: the bytes in hex, colon-separated, any length.
    let hw = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":");
    let (sha, spa, tha, tpa) = (a.sender_hw(), a.sender_proto(), a.target_hw(), a.target_proto());
    let text = match a.operation() {
        1 => {
            // The target's hardware address when the sender filled it in.
            let known = if tha.iter().any(|&x| x != 0) {
                format!(" ({})", hw(tha))
            } else {
                String::new()
            };
            format!("Request who-has {}{known} tell {}", ip(tpa), ip(spa))
        }
        2 => format!("Reply {} is-at {}", ip(spa), hw(sha)),
        3 => format!("Reverse Request who-is {} tell {}", hw(tha), hw(sha)),
        4 => format!("Reverse Reply {} at {}", hw(tha), ip(tpa)),
        8 => format!("Inverse Request who-is {} tell {}", hw(tha), hw(sha)),
        9 => format!("Inverse Reply {} at {}", hw(sha), ip(spa)),
        // tcpdump names the operation and dumps the packet in hex.
        10 => return "ARP, NACK Reply ".into(),
        op => return format!("ARP, Unknown ({op}) "),
    };
    format!("ARP, {text}, length {length}")
}

/// ip_print; `link_len` is what the link layer carried, to tell how much
/// of the datagram never arrived.
fn ipv4(p: &[u8], link_len: u32, quick: bool, conv: Conversations<'_>) -> String {
    let Ok(ip) = Ipv4Packet::parse(p) else {
        return "IP [|ip]".into();
    };
    let (src, dst) = (ip.src().to_string(), ip.dst().to_string());
    let body = ip.payload();
    // The transport's length as the IP header declares it (ip_print).
    let length = (ip.total_len() as usize).saturating_sub(ip.header_len()) as u32;
    // A total length beyond what the link carried.
    let missing = match ip.total_len() as u32 > link_len {
        true => format!("truncated-ip - {} bytes missing! ", ip.total_len() as u32 - link_len),
        false => String::new(),
    };
    if ip.frag_offset() != 0 {
        return format!("IP {missing}{src} > {dst}: ip-proto-{}", ip.protocol());
    }
    let net = Network {
        src: &src,
        dst: &dst,
        length,
        fragment: ip.more_frags(),
        v6: false,
        quick,
        after_extensions: false,
    };
    format!("IP {missing}{}", transport(ip.protocol(), net, body, conv))
}

/// ip6_print, with `link_len` as for [`ipv4`].
fn ipv6(p: &[u8], link_len: u32, quick: bool, conv: Conversations<'_>) -> String {
    let Ok(ip) = Ipv6Packet::parse(p) else {
        return "IP6 [|ip6]".into();
    };
    let (src, dst) = (Ip6Text(ip.src()).to_string(), Ip6Text(ip.dst()).to_string());
    let walk = Ipv6Extensions::walk(&ip);
    // A payload length beyond what the link carried (ip6_print, no space
    // after it).
    let declared = 40 + ip.payload_len() as u32;
    let missing = match declared > link_len && ip.payload_len() != 0 {
        true => format!("truncated-ip6 - {} bytes missing!", declared - link_len),
        false => String::new(),
    };
    // The payload length less the extension headers crossed (ip6_print).
    let length = (ip.payload_len() as u32).saturating_sub(walk.consumed);
    if walk.stop {
        return format!("IP6 {missing}{src} > {dst}: {}", walk.printed);
    }
    let net = Network {
        src: &src,
        dst: &dst,
        length,
        fragment: walk.fragment,
        v6: true,
        quick,
        after_extensions: walk.consumed > 0,
    };
    let upper = transport(walk.protocol, net, walk.payload, conv);
    match walk.consumed {
        0 => format!("IP6 {missing}{upper}"),
        // ip6_print names the addresses before the first extension header.
        _ => format!("IP6 {missing}{src} > {dst}: {}{upper}", walk.printed),
    }
}

/// ip6_print's walk over the extension headers it names without -v:
/// hop-by-hop (`HBH `), destination options (`DSTOPT `) and fragment
/// (`frag (OFFSET|LENGTH) `, hbhopt_process, dstopt_process,
/// frag6_print). A later fragment ends the line; a routing header is left
/// to the protocol printer (not decoded).
struct Ipv6Extensions<'a> {
    printed: String,
    protocol: u8,
    payload: &'a [u8],
    /// Bytes of extension headers crossed.
    consumed: u32,
    fragment: bool,
    /// A non-first fragment: nothing after its header is decoded.
    stop: bool,
}

impl<'a> Ipv6Extensions<'a> {
    fn walk(ip: &Ipv6Packet<'a>) -> Self {
        let mut w = Ipv6Extensions {
            printed: String::new(),
            protocol: ip.next_header(),
            payload: ip.payload(),
            consumed: 0,
            fragment: false,
            stop: false,
        };
        loop {
            let rest = w.payload;
            let len = match w.protocol {
                0 | 60 if rest.len() >= 2 => (rest[1] as usize + 1) * 8,
                ipproto::FRAGMENT => 8,
                _ => break,
            };
            if rest.len() < len {
                break;
            }
            match w.protocol {
                0 => w.printed.push_str("HBH "),
                60 => w.printed.push_str("DSTOPT "),
                _ => {
                    let offset = u16::from_be_bytes([rest[2], rest[3]]) & 0xfff8;
                    let remaining = (ip.payload_len() as u32).saturating_sub(w.consumed + 8);
                    let _ = write!(w.printed, "frag ({offset}|{remaining})");
                    w.fragment = true;
                    if offset != 0 {
                        w.stop = true;
                        return w;
                    }
                    w.printed.push(' ');
                }
            }
            w.protocol = rest[0];
            w.payload = &rest[len..];
            w.consumed += len as u32;
        }
        w
    }
}

/// What the network layer tells the transport printers.
#[derive(Debug, Clone, Copy)]
struct Network<'a> {
    src: &'a str,
    dst: &'a str,
    /// The transport's length from the IP header.
    length: u32,
    /// Part of a fragmented datagram (its lengths cannot be checked).
    fragment: bool,
    v6: bool,
    /// `-q`: tcp_print stops after the length.
    quick: bool,
    /// ip6_print has already named the addresses before extension
    /// headers: TCP and UDP show only ports, others nothing.
    after_extensions: bool,
}

/// The endpoints before a transport's text: `SRC.PORT > DST.PORT: ` (tcp_print,
/// udpipaddr_print), `SRC > DST: ` without ports, and after IPv6 extension
/// headers only the ports, or nothing.
struct Endpoints<'a> {
    net: Network<'a>,
    ports: Option<(u16, u16)>,
}

impl std::fmt::Display for Endpoints<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Network { src, dst, .. } = self.net;
        match (self.ports, self.net.after_extensions) {
            (Some((sp, dp)), false) => write!(f, "{src}.{sp} > {dst}.{dp}: "),
            (Some((sp, dp)), true) => write!(f, "{sp} > {dp}: "),
            (None, false) => write!(f, "{src} > {dst}: "),
            (None, true) => Ok(()),
        }
    }
}

/// The transport summary; `length` is the transport's length from the IP
/// header, which may exceed the captured `body`.
fn transport(proto: u8, net: Network<'_>, body: &[u8], conv: Conversations<'_>) -> String {
    let Network {
        src,
        dst,
        length,
        fragment,
        v6,
        quick,
        ..
    } = net;
    let at = |ports: Option<(u16, u16)>| Endpoints { net, ports };
    match proto {
        ipproto::TCP => match TcpSegment::parse(body) {
            Ok(t) if quick => format!(
                "{}tcp {}",
                at(Some((t.src_port(), t.dst_port()))),
                length.saturating_sub(t.header_len() as u32)
            ),
            Ok(t) => {
                let base = conv.and_then(|c| relative_base(c, &t, src, dst));
                format!("{}{}", at(Some((t.src_port(), t.dst_port()))), tcp(&t, base, length))
            }
            Err(_) => format!("{}tcp [|tcp]", at(None)),
        },
        ipproto::UDP => match UdpDatagram::parse(body) {
            Ok(u) => {
                let at = at(Some((u.src_port(), u.dst_port())));
                match u.len() {
                    // udp_print: the UDP header's length, which must cover
                    // the header and stay within the IP payload.
                    _ if length < 8 => format!("{at}truncated-udp {length}"),
                    n if n < 8 => format!("{at}truncated-udplength {n}"),
                    n if n as u32 > length && !fragment => {
                        format!("{at}UDP, bad length {} > {}", n - 8, length - 8)
                    }
                    n => format!("{at}UDP, length {}", n - 8),
                }
            }
            Err(_) => format!("{}udp [|udp]", at(None)),
        },
        ipproto::ICMP if !v6 => format!("{}{}", at(None), icmp::icmp(body, length)),
        ipproto::ICMPV6 if v6 => format!("{}{}", at(None), icmp::icmp6(body, length)),
        // ip_print has printed `SRC > DST: ` and ip_demux_print adds
        // ` ip-proto-N LENGTH` (a first fragment's; later ones stop earlier).
        n => format!("{} ip-proto-{n} {length}", at(None)),
    }
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

/// tcp_print (print-tcp.c); `length` is the segment's length from the IP
/// header, so a truncated capture still shows the sequence range sent.
fn tcp(t: &TcpSegment<'_>, base: Option<(u32, u32)>, length: u32) -> String {
    let f = t.flags().0;
    let flags = t.flags().tcpdump_letters();
    let len = length.saturating_sub(t.header_len() as u32);
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
    // SACK blocks acknowledge the peer's sequence space: relative to the
    // same base as the ack number.
    let opts = tcp_options(t.options(), base_ack, f);
    if !opts.text.is_empty() || opts.bad {
        let _ = write!(s, ", options [{}", opts.text);
        if opts.bad {
            // tcp_print's `bad:` label: the line ends here, and the list
            // is closed only when an option came before the bad one
            s.push_str("[bad opt]");
            if opts.after_first {
                s.push(']');
            }
            return s;
        }
        s.push(']');
    }
    let _ = write!(s, ", length {len}");
    s
}

/// The options as printed inside `options [...]`, and whether tcpdump
/// gave up on one (it then prints `[bad opt]` and nothing after).
struct TcpOptions {
    text: String,
    bad: bool,
    /// The bad option was not the first.
    after_first: bool,
}

/// print_tcp_fastopen_option: a cookie request, a cookie, or invalid.
fn fast_open(cookie: &[u8]) -> String {
    match cookie.len() {
        0 => " cookiereq".into(),
        n if n % 2 != 0 || !(4..=16).contains(&n) => " (invalid)".into(),
        _ => format!(
            " cookie {}",
            cookie.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// TCP options as tcpdump prints them (RFC 9293, 7323, 2018; MPTCP, RFC
/// 8684, through print-mptcp.c): `flags` are the segment's TCP flags,
/// which decide what an MPTCP option may be.
fn tcp_options(mut o: &[u8], sack_base: u32, flags: u8) -> TcpOptions {
    let mut parts: Vec<String> = Vec::new();
    // tcpdump's separator comes before each option's checks
    let bad = |parts: Vec<String>, printed: &str| TcpOptions {
        text: parts.iter().map(|p| format!("{p},")).collect::<String>() + printed,
        bad: true,
        after_first: !parts.is_empty(),
    };
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
            return bad(parts, "");
        };
        let len = len as usize;
        if len < 2 || len > o.len() {
            return bad(parts, "");
        }
        let v = &o[2..len];
        if kind == 30 {
            match mptcp::option(&o[..len], flags) {
                Ok(text) => parts.push(format!("mptcp{text}")),
                Err(text) => return bad(parts, &format!("mptcp{text}")),
            }
            o = &o[len..];
            continue;
        }
        let be16 = |b: &[u8]| u16::from_be_bytes([b[0], b[1]]);
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        parts.push(match (kind, v.len()) {
            (2, 2) => format!("mss {}", be16(v)),
            (3, 1) => format!("wscale {}", v[0]),
            (4, 0) => "sackOK".into(),
            (5, n) if n % 8 == 0 => {
                let blocks: Vec<String> = v
                    .chunks(8)
                    .map(|b| {
                        format!(
                            "{{{}:{}}}",
                            be32(b).wrapping_sub(sack_base),
                            be32(&b[4..]).wrapping_sub(sack_base)
                        )
                    })
                    .collect();
                format!("sack {} {}", n / 8, blocks.join(""))
            }
            (8, 8) => format!("TS val {} ecr {}", be32(v), be32(&v[4..])),
            (6, 4) => format!("echo {}", be32(v)),
            (7, 4) => format!("echoreply {}", be32(v)),
            (11, 4) => format!("cc {}", be32(v)),
            (12, 4) => format!("ccnew {}", be32(v)),
            (13, 4) => format!(" {}", be32(v)),
            // tcpdump built with libcrypto, as Debian's is, without -M.
            (19, 16) => format!("md5 shared secret not supplied with -M, can't check - {}", hex(v)),
            (28, 2) => {
                let uto = be16(v);
                let value = if uto & 1 == 1 {
                    (uto >> 1) as u32 * 60
                } else {
                    (uto >> 1) as u32
                };
                format!("uto 0x{uto:x} {value}")
            }
            // tcp_print adds a space before print_tcp_fastopen_option's own.
            (34, _) => format!("tfo {}", fast_open(v)),
            // RFC 6994 experiment identifiers; TCP Fast Open's is decoded.
            (254, n) if n >= 2 && be16(v) == 0xf989 => format!("exp-tfo{}", fast_open(&v[2..])),
            (254, n) if n >= 2 => format!("exp-{:04x}", be16(v)),
            (k, 0) => format!("unknown-{k}"),
            (k, _) => format!("unknown-{k} 0x{}", hex(v)),
        });
        o = &o[len..];
    }
    TcpOptions {
        text: parts.join(","),
        bad: false,
        after_first: false,
    }
}
