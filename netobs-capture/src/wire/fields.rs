//! The outer columns of a frame, read once: what a packet table shows
//! for each packet (the outermost Ethernet, VLAN, IP and transport
//! headers, as tshark's `eth`, `vlan`, `ip`/`ipv6`, `tcp`/`udp` and
//! `icmp`/`icmpv6` fields show them first).

use std::net::IpAddr;

use super::*;

/// Header fields of one Ethernet frame; None where the frame has no such
/// header or it is cut short.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameFields {
    /// Source MAC address.
    pub src_mac: Option<MacAddr>,
    /// Destination MAC address.
    pub dst_mac: Option<MacAddr>,
    /// VLAN id of the outermost 802.1Q or 802.1ad tag.
    pub vlan: Option<u16>,
    /// EtherType after the tags (None for an 802.3 frame, whose field is
    /// a length).
    pub ethertype: Option<u16>,
    /// IPv4 or IPv6 source address.
    pub src: Option<IpAddr>,
    /// IPv4 or IPv6 destination address.
    pub dst: Option<IpAddr>,
    /// IP protocol of the payload (IPv6: after the extension headers).
    pub ip_protocol: Option<u8>,
    /// TCP or UDP source port (not in a fragment after the first).
    pub sport: Option<u16>,
    /// TCP or UDP destination port.
    pub dport: Option<u16>,
    /// TCP flags.
    pub tcp_flags: Option<TcpFlags>,
    /// ICMP or ICMPv6 type.
    pub icmp_type: Option<u8>,
    /// ICMP or ICMPv6 code.
    pub icmp_code: Option<u8>,
}

impl FrameFields {
    /// Reads the fields of an Ethernet frame (DLT_EN10MB). Never panics;
    /// a header cut short ends the reading there.
    pub fn of_ethernet(frame: &[u8]) -> FrameFields {
        let mut f = FrameFields::default();
        let Ok(eth) = EthernetFrame::parse(frame) else {
            return f;
        };
        f.src_mac = Some(eth.src());
        f.dst_mac = Some(eth.dst());
        f.vlan = eth.vlan_tags().next().map(|t| t.id());
        f.network(eth.inner_ethertype(), eth.payload());
        f
    }

    /// Reads the fields of a LINUX_SLL2 frame (what a capture on "any"
    /// gives): the cooked header's protocol as the EtherType and its
    /// link-layer address, when it is a MAC, as `src_mac` (the sender's
    /// for a received packet, the interface's own for a sent one).
    pub fn of_linux_sll2(frame: &[u8]) -> FrameFields {
        let mut f = FrameFields::default();
        let Some(header) = frame.get(..crate::summary::SLL2_HDR_LEN) else {
            return f;
        };
        if header[11] == 6 {
            let mut mac = [0u8; 6];
            mac.copy_from_slice(&header[12..18]);
            f.src_mac = Some(MacAddr(mac));
        }
        let protocol = u16::from_be_bytes([header[0], header[1]]);
        f.network(protocol, &frame[crate::summary::SLL2_HDR_LEN..]);
        f
    }

    /// The network and transport columns of a payload of EtherType `et`.
    fn network(&mut self, et: u16, payload: &[u8]) {
        // Values below 0x0600 are an 802.3 length (IEEE 802.3 clause 3.2.6).
        if et < 0x0600 {
            return;
        }
        self.ethertype = Some(et);
        let (proto, transport, first_fragment) = match et {
            ethertype::IPV4 => match Ipv4Packet::parse(payload) {
                Ok(ip) => {
                    self.src = Some(IpAddr::V4(ip.src()));
                    self.dst = Some(IpAddr::V4(ip.dst()));
                    (ip.protocol(), ip.payload(), ip.frag_offset() == 0)
                }
                Err(_) => return,
            },
            ethertype::IPV6 => match Ipv6Packet::parse(payload) {
                Ok(ip) => {
                    self.src = Some(IpAddr::V6(ip.src()));
                    self.dst = Some(IpAddr::V6(ip.dst()));
                    let up = ip.upper_layer();
                    (up.protocol, up.payload, up.fragment.is_none_or(|x| x.offset == 0))
                }
                Err(_) => return,
            },
            _ => return,
        };
        self.ip_protocol = Some(proto);
        if !first_fragment {
            return;
        }
        match proto {
            ipproto::TCP => {
                if let Ok(t) = TcpSegment::parse(transport) {
                    self.sport = Some(t.src_port());
                    self.dport = Some(t.dst_port());
                    self.tcp_flags = Some(t.flags());
                }
            }
            ipproto::UDP => {
                if let Ok(u) = UdpDatagram::parse(transport) {
                    self.sport = Some(u.src_port());
                    self.dport = Some(u.dst_port());
                }
            }
            ipproto::ICMP | ipproto::ICMPV6 => {
                if let Ok(i) = IcmpMessage::parse(transport) {
                    self.icmp_type = Some(i.msg_type());
                    self.icmp_code = Some(i.code());
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_udp_datagram_over_a_vlan() {
        let mut ip = vec![0x45, 0, 0, 28, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.extend_from_slice(&[0x13, 0x88, 0, 53, 0, 8, 0, 0]);
        let mut payload = vec![0x20, 0x0a, 0x08, 0x00]; // VID 10, then IPv4
        payload.extend_from_slice(&ip);
        let frame = build_frame(
            MacAddr([2, 0, 0, 0, 0, 2]),
            MacAddr([2, 0, 0, 0, 0, 1]),
            ethertype::VLAN,
            &payload,
        );
        let f = FrameFields::of_ethernet(&frame);
        assert_eq!(f.vlan, Some(10));
        assert_eq!(f.ethertype, Some(ethertype::IPV4));
        assert_eq!(f.src, Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!((f.ip_protocol, f.sport, f.dport), (Some(17), Some(5000), Some(53)));
        assert_eq!(f.src_mac, Some(MacAddr([2, 0, 0, 0, 0, 1])));
        // cut inside the UDP header: the IP columns stay, the ports go
        let cut = FrameFields::of_ethernet(&frame[..frame.len() - 4]);
        assert_eq!((cut.src, cut.sport), (f.src, None));
        // The same datagram behind a cooked header, as a capture on "any"
        // gives it: protocol 0x0800, ifindex 3, ARPHRD_ETHER, outgoing.
        let mut cooked = vec![0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0];
        cooked.extend_from_slice(&ip);
        let c = FrameFields::of_linux_sll2(&cooked);
        assert_eq!(
            (c.src_mac, c.dst_mac, c.vlan),
            (Some(MacAddr([2, 0, 0, 0, 0, 1])), None, None)
        );
        assert_eq!(
            (c.ethertype, c.src, c.sport, c.dport),
            (Some(0x0800), f.src, f.sport, f.dport)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]
        /// Any bytes: no panic, and fields only where their header fits.
        #[test]
        fn any_bytes_read_without_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let f = FrameFields::of_ethernet(&bytes);
            if bytes.len() < ETH_HLEN {
                prop_assert_eq!(f, FrameFields::default());
            }
            let c = FrameFields::of_linux_sll2(&bytes);
            if bytes.len() < 20 {
                prop_assert_eq!(c, FrameFields::default());
            }
        }
    }
}
