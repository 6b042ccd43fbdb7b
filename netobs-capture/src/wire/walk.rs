//! A full walk of a frame through every view, touching every accessor:
//! used by the mutation test and the fuzz target, and by callers that
//! want a quick layer summary.

use super::*;

/// The layers a walk found, outermost first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layers {
    /// VLAN tags crossed.
    pub vlans: usize,
    /// EtherType after the tags.
    pub ethertype: Option<u16>,
    /// IP protocol of the transport, when an IP header parsed.
    pub ip_protocol: Option<u8>,
    /// Transport ports, when TCP or UDP parsed.
    pub ports: Option<(u16, u16)>,
    /// The layers of the frame inside a VXLAN or GRE (Ethernet) tunnel.
    pub inner: Option<Box<Layers>>,
}

/// Walks an Ethernet frame through Ethernet, ARP, IPv4, IPv6 (with
/// extension headers), TCP, UDP, ICMP and ICMPv6 views, and into VXLAN
/// and Ethernet-over-GRE tunnels (8 levels at most). Never panics.
pub fn walk_ethernet(frame: &[u8]) -> Layers {
    walk(frame, 8)
}

fn walk(frame: &[u8], depth: u32) -> Layers {
    let mut l = Layers::default();
    let Ok(eth) = EthernetFrame::parse(frame) else {
        return l;
    };
    let _ = (eth.src(), eth.dst().is_multicast(), eth.ethertype());
    l.vlans = eth.vlan_tags().filter(|t| t.id() <= 4095 && t.priority() <= 7).count();
    let et = eth.inner_ethertype();
    l.ethertype = Some(et);
    let payload = eth.payload();
    let (proto, transport) = match et {
        ethertype::ARP | ethertype::RARP => {
            if let Ok(a) = ArpPacket::parse(payload) {
                let _ = (a.hardware_type(), a.protocol_type(), a.operation());
                let _ = (a.sender_hw(), a.sender_proto(), a.target_hw(), a.target_proto());
            }
            return l;
        }
        ethertype::IPV4 => match Ipv4Packet::parse(payload) {
            Ok(ip) => {
                let _ = (
                    ip.tos(),
                    ip.ident(),
                    ip.dont_frag(),
                    ip.more_frags(),
                    ip.ttl(),
                    ip.checksum(),
                );
                let _ = (ip.src(), ip.dst());
                if ip.frag_offset() != 0 {
                    return l;
                }
                (ip.protocol(), ip.payload())
            }
            Err(_) => return l,
        },
        ethertype::IPV6 => match Ipv6Packet::parse(payload) {
            Ok(ip) => {
                let _ = (ip.traffic_class(), ip.flow_label(), ip.hop_limit(), ip.src(), ip.dst());
                let up = ip.upper_layer();
                if up.fragment.is_some_and(|f| f.offset != 0) {
                    return l;
                }
                (up.protocol, up.payload)
            }
            Err(_) => return l,
        },
        _ => return l,
    };
    l.ip_protocol = Some(proto);
    match proto {
        ipproto::TCP => {
            if let Ok(t) = TcpSegment::parse(transport) {
                let _ = (
                    t.seq(),
                    t.ack(),
                    t.flags().has(TcpFlags::SYN),
                    t.window(),
                    t.checksum(),
                    t.urgent(),
                );
                let _ = (t.options(), t.payload());
                l.ports = Some((t.src_port(), t.dst_port()));
            }
        }
        ipproto::UDP => {
            if let Ok(u) = UdpDatagram::parse(transport) {
                let _ = (u.len(), u.checksum());
                l.ports = Some((u.src_port(), u.dst_port()));
                if u.dst_port() == VXLAN_PORT && depth > 0 {
                    if let Ok(v) = VxlanPacket::parse(u.payload()) {
                        let _ = (v.flags(), v.vni());
                        l.inner = Some(Box::new(walk(v.payload(), depth - 1)));
                    }
                }
            }
        }
        ipproto::GRE => {
            if let Ok(g) = GrePacket::parse(transport) {
                let _ = (g.version(), g.checksum(), g.key(), g.sequence());
                // 0x6558: transparent Ethernet bridging.
                if g.protocol() == 0x6558 && depth > 0 {
                    l.inner = Some(Box::new(walk(g.payload(), depth - 1)));
                }
            }
        }
        ipproto::ICMP | ipproto::ICMPV6 => {
            if let Ok(i) = IcmpMessage::parse(transport) {
                let _ = (
                    i.msg_type(),
                    i.code(),
                    i.checksum(),
                    i.echo_ident(),
                    i.echo_seq(),
                    i.body(),
                );
            }
        }
        _ => {}
    }
    l
}
