//! Which layer of the stack a counter or a kernel drop belongs to, and what
//! to look at next.
//!
//! The layers are those a frame crosses on its way from the wire to
//! `recv()` (and back down for transmission): the NIC and its driver, the
//! device layer (`__netif_receive_skb_core`, the per-CPU backlog, veth
//! forwarding), the queueing disciplines, netfilter, IP, the transport
//! protocols, and the socket's own queues and limits.

use std::fmt;

/// A layer of the network stack, from the wire up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Layer {
    /// The NIC and its driver: frames lost before they became skbs
    /// (ring overruns, missed frames, CRC errors).
    Driver,
    /// The device layer: frames no protocol handles, frames larger than
    /// the device's MTU, the per-CPU backlog, device drop counters.
    Interface,
    /// Queueing disciplines and traffic control.
    Qdisc,
    /// Netfilter (nftables, iptables) rules.
    Netfilter,
    /// IPv4/IPv6: headers, addresses, routes, fragments, neighbours.
    Ip,
    /// TCP, UDP, ICMP: checksums, closed ports, TCP state.
    Transport,
    /// The socket: receive buffers, backlogs, listen queues.
    Socket,
    /// No loss seen.
    None,
}

impl Layer {
    /// Every layer that can lose packets, from the wire up.
    pub const STACK: [Layer; 7] = [
        Layer::Driver,
        Layer::Interface,
        Layer::Qdisc,
        Layer::Netfilter,
        Layer::Ip,
        Layer::Transport,
        Layer::Socket,
    ];

    /// The lowercase name used in reports and JSON (`interface`).
    pub fn name(self) -> &'static str {
        match self {
            Layer::Driver => "driver",
            Layer::Interface => "interface",
            Layer::Qdisc => "qdisc",
            Layer::Netfilter => "netfilter",
            Layer::Ip => "ip",
            Layer::Transport => "transport",
            Layer::Socket => "socket",
            Layer::None => "none",
        }
    }

    /// The anchor tool that shows this layer, as the seed articles walk it.
    pub fn tool(self) -> &'static str {
        match self {
            Layer::Driver => "ethtool -S",
            Layer::Interface => "ip -s link",
            Layer::Qdisc => "tc -s qdisc",
            Layer::Netfilter => "nft list ruleset",
            Layer::Ip => "nstat",
            Layer::Transport => "nstat",
            Layer::Socket => "ss -m",
            Layer::None => "",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The layer of a kernel drop reason (`enum skb_drop_reason`,
/// include/net/dropreason-core.h), by the kernel's name without the
/// `SKB_DROP_REASON_` prefix. None for reasons that name no layer
/// (`NOT_SPECIFIED`, `NOMEM`): then [`location_layer`] decides.
pub fn reason_layer(reason: &str) -> Option<Layer> {
    const EXACT: &[(&str, Layer)] = &[
        ("UNHANDLED_PROTO", Layer::Interface),
        ("PKT_TOO_BIG", Layer::Interface),
        ("DEV_READY", Layer::Interface),
        ("DEV_HDR", Layer::Interface),
        ("FULL_RING", Layer::Interface),
        ("CPU_BACKLOG", Layer::Interface),
        ("XDP", Layer::Interface),
        ("MAC_IEEE_MAC_CONTROL", Layer::Interface),
        ("OTHERHOST", Layer::Ip),
        ("PKT_TOO_SMALL", Layer::Ip),
        ("UNICAST_IN_L2_MULTICAST", Layer::Ip),
        ("INVALID_PROTO", Layer::Ip),
        ("NO_SOCKET", Layer::Transport),
        ("UDP_CSUM", Layer::Transport),
        ("ICMP_CSUM", Layer::Transport),
        ("SOCKET_FILTER", Layer::Socket),
        ("SOCKET_RCVBUFF", Layer::Socket),
        ("SOCKET_BACKLOG", Layer::Socket),
        ("SOCKET_CLOSE", Layer::Socket),
        ("PROTO_MEM", Layer::Socket),
        ("TCP_LISTEN_OVERFLOW", Layer::Socket),
        ("TCP_OFO_QUEUE_PRUNE", Layer::Socket),
        ("TCP_ZEROWINDOW", Layer::Socket),
    ];
    if let Some((_, l)) = EXACT.iter().find(|(n, _)| *n == reason) {
        return Some(*l);
    }
    const PREFIX: &[(&str, Layer)] = &[
        ("QDISC_", Layer::Qdisc),
        ("TC_", Layer::Qdisc),
        ("FQ_", Layer::Qdisc),
        ("CAKE_", Layer::Qdisc),
        ("NETFILTER", Layer::Netfilter),
        ("IP_", Layer::Ip),
        ("IPV6", Layer::Ip),
        ("NEIGH_", Layer::Ip),
        ("FRAG_", Layer::Ip),
        ("XFRM_", Layer::Ip),
        ("IPSEC", Layer::Ip),
        ("TCP_", Layer::Transport),
        ("UDP_", Layer::Transport),
        ("ICMP", Layer::Transport),
        ("SOCKET_", Layer::Socket),
        ("VXLAN_", Layer::Interface),
        ("MACSEC", Layer::Interface),
        ("BRIDGE_", Layer::Interface),
    ];
    PREFIX.iter().find(|(p, _)| reason.starts_with(p)).map(|(_, l)| *l)
}

/// The layer of a drop whose reason names none, by the function that
/// dropped it (`__dev_forward_skb2`, `tbf_enqueue`, `nf_hook_slow`).
pub fn location_layer(function: &str) -> Option<Layer> {
    let f = function.trim_start_matches('_');
    const PREFIX: &[(&str, Layer)] = &[
        ("netif_", Layer::Interface),
        ("dev_forward_skb", Layer::Interface),
        ("dev_core", Layer::Interface),
        ("enqueue_to_backlog", Layer::Interface),
        ("veth_", Layer::Interface),
        ("process_backlog", Layer::Interface),
        ("napi_", Layer::Interface),
        ("dev_queue_xmit", Layer::Qdisc),
        ("qdisc", Layer::Qdisc),
        ("sch_", Layer::Qdisc),
        ("tbf_", Layer::Qdisc),
        ("pfifo", Layer::Qdisc),
        ("bfifo", Layer::Qdisc),
        ("htb_", Layer::Qdisc),
        ("fq_", Layer::Qdisc),
        ("tcf_", Layer::Qdisc),
        ("nf_", Layer::Netfilter),
        ("nft_", Layer::Netfilter),
        ("ipt_", Layer::Netfilter),
        ("ip_", Layer::Ip),
        ("ip6_", Layer::Ip),
        ("ipv6_", Layer::Ip),
        ("neigh_", Layer::Ip),
        ("arp_", Layer::Ip),
        ("icmp", Layer::Transport),
        ("tcp_", Layer::Transport),
        ("udp", Layer::Transport),
        ("raw_", Layer::Transport),
        ("sk_", Layer::Socket),
        ("sock_", Layer::Socket),
        ("inet_csk", Layer::Socket),
    ];
    PREFIX.iter().find(|(p, _)| f.starts_with(p)).map(|(_, l)| *l)
}

/// The layer of a protocol counter (nstat's names), for the counters that
/// count packets lost; None for the others (traffic, retransmissions).
///
/// `UdpInErrors` is left out: the kernel counts every receive-buffer
/// error in it too (`__udp_queue_rcv_skb`, net/ipv4/udp.c), so it would
/// blame the transport for what `UdpRcvbufErrors` puts on the socket.
/// `UdpSndbufErrors` too: it counts every ENOBUFS from below (a qdisc
/// drop, ip_send_skb in net/ipv4/ip_output.c), whatever the layer.
pub fn counter_layer(name: &str) -> Option<Layer> {
    const COUNTERS: &[(&str, Layer)] = &[
        ("IpInHdrErrors", Layer::Ip),
        ("IpInAddrErrors", Layer::Ip),
        ("IpInUnknownProtos", Layer::Ip),
        ("IpInDiscards", Layer::Ip),
        ("IpOutDiscards", Layer::Ip),
        ("IpOutNoRoutes", Layer::Ip),
        ("IpReasmFails", Layer::Ip),
        ("IpFragFails", Layer::Ip),
        ("IpExtInNoRoutes", Layer::Ip),
        ("IpExtInTruncatedPkts", Layer::Ip),
        ("IpExtInCsumErrors", Layer::Ip),
        ("Ip6InHdrErrors", Layer::Ip),
        ("Ip6InTooBigErrors", Layer::Ip),
        ("Ip6InNoRoutes", Layer::Ip),
        ("Ip6InAddrErrors", Layer::Ip),
        ("Ip6InUnknownProtos", Layer::Ip),
        ("Ip6InTruncatedPkts", Layer::Ip),
        ("Ip6InDiscards", Layer::Ip),
        ("Ip6OutDiscards", Layer::Ip),
        ("Ip6OutNoRoutes", Layer::Ip),
        ("Ip6ReasmFails", Layer::Ip),
        ("Ip6FragFails", Layer::Ip),
        ("TcpInErrs", Layer::Transport),
        ("TcpInCsumErrors", Layer::Transport),
        ("UdpNoPorts", Layer::Transport),
        ("UdpInCsumErrors", Layer::Transport),
        ("Udp6NoPorts", Layer::Transport),
        ("Udp6InCsumErrors", Layer::Transport),
        ("UdpRcvbufErrors", Layer::Socket),
        ("UdpMemErrors", Layer::Socket),
        ("Udp6RcvbufErrors", Layer::Socket),
        ("Udp6MemErrors", Layer::Socket),
        ("TcpExtListenOverflows", Layer::Socket),
        ("TcpExtListenDrops", Layer::Socket),
        ("TcpExtTCPBacklogDrop", Layer::Socket),
        ("TcpExtTCPRcvQDrop", Layer::Socket),
        ("TcpExtTCPZeroWindowDrop", Layer::Socket),
        ("TcpExtPFMemallocDrop", Layer::Socket),
        ("TcpExtTCPReqQFullDrop", Layer::Socket),
        ("TcpExtRcvPruned", Layer::Socket),
        ("TcpExtOfoPruned", Layer::Socket),
    ];
    COUNTERS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// The layer of a `struct rtnl_link_stats64` field that counts lost frames.
pub fn link_counter_layer(field: &str) -> Option<Layer> {
    match field {
        "rx_dropped" | "tx_dropped" | "rx_nohandler" => Some(Layer::Interface),
        "rx_otherhost_dropped" => Some(Layer::Ip),
        "rx_errors"
        | "tx_errors"
        | "rx_length_errors"
        | "rx_over_errors"
        | "rx_crc_errors"
        | "rx_frame_errors"
        | "rx_fifo_errors"
        | "rx_missed_errors"
        | "tx_aborted_errors"
        | "tx_carrier_errors"
        | "tx_fifo_errors"
        | "tx_heartbeat_errors"
        | "tx_window_errors" => Some(Layer::Driver),
        _ => None,
    }
}

/// Whether a driver statistic (`ethtool -S` name) counts lost or broken
/// frames: the words drivers use for it.
pub fn driver_counter_is_loss(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "drop", "discard", "miss", "err", "fifo", "no_buf", "nobuf", "overrun", "overflow", "timeout",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// Whether a queue statistic (its name in the netdev family's spec,
/// Documentation/netlink/specs/netdev.yaml) counts lost frames: the
/// hardware's and the driver's drops, and receive buffer allocation
/// failures (which the spec says may or may not drop a frame; drivers that
/// count them refill the ring without the frame). `rx-csum-bad` is not a
/// loss: those frames are delivered to the stack.
pub fn queue_counter_is_loss(name: &str) -> bool {
    matches!(
        name,
        "rx-alloc-fail"
            | "rx-hw-drops"
            | "rx-hw-drop-overruns"
            | "rx-hw-drop-ratelimits"
            | "tx-hw-drops"
            | "tx-hw-drop-errors"
            | "tx-hw-drop-ratelimits"
    )
}

/// What to look at next, in the seed articles' spirit, for a verdict in
/// `layer` with the kernel's `reason` (if any) and the counter that showed it.
pub fn next_step(layer: Layer, reason: Option<&str>, counter: Option<&str>, subject: &str) -> String {
    match (layer, reason) {
        (Layer::Driver, _) => format!(
            "the NIC or its driver lost frames on {subject} before the kernel saw them ({}): check the ring sizes (ethtool -g), \
             interrupt coalescing (ethtool -c) and the CPU handling its interrupts",
            counter.unwrap_or("driver counters")
        ),
        (Layer::Interface, Some("UNHANDLED_PROTO")) => format!(
            "frames of a protocol nothing in this kernel handles arrive on {subject} (UNHANDLED_PROTO, counted in rx_dropped): \
             find who sends them (source MACs and EtherTypes below); they do not hurt other traffic unless you expected them to be received"
        ),
        (Layer::Interface, Some("CPU_BACKLOG")) => "the per-CPU receive backlog overflowed (CPU_BACKLOG, softnet_stat \
                                                     dropped): raise net.core.netdev_max_backlog or spread the load \
                                                     over CPUs (RPS/RSS)"
            .to_string(),
        (Layer::Interface, _) => format!(
            "the device layer dropped frames on {subject} ({}): compare the MTUs along the path (ip link), the device's \
             state, and the frames' EtherTypes",
            reason.or(counter).unwrap_or("rx_dropped")
        ),
        (Layer::Qdisc, _) => format!(
            "the queueing discipline on {subject} dropped packets ({}): its limit or rate is too small for the traffic \
             (tc -s qdisc show dev {subject})",
            reason.or(counter).unwrap_or("qdisc drops")
        ),
        (Layer::Netfilter, _) => "netfilter drops these packets (NETFILTER_DROP): a rule (nft list ruleset, \
                                   iptables -L -v -n, with their counters) or connection tracking (a full table or \
                                   invalid state: conntrack -S, net.netfilter.nf_conntrack_count against \
                                   nf_conntrack_max)"
            .to_string(),
        (Layer::Ip, _) => format!(
            "the IP layer discarded packets ({}): check addresses and routes (ip route get), reverse-path filtering \
             (rp_filter), fragments and neighbours",
            reason.or(counter).unwrap_or("IP counters")
        ),
        (Layer::Transport, Some("NO_SOCKET")) => format!(
            "packets arrive for a port nothing listens on (NO_SOCKET): check that the service runs and is bound to the \
             right address and port (ss -ltn, ss -lun){}",
            if subject.is_empty() { String::new() } else { format!("; seen on {subject}") }
        ),
        (Layer::Transport, _) => format!(
            "the transport protocol discarded segments ({}): checksums, TCP sequence or state problems",
            reason.or(counter).unwrap_or("TCP/UDP counters")
        ),
        (Layer::Socket, Some("SOCKET_RCVBUFF")) | (Layer::Socket, None)
            if matches!(counter, Some("UdpRcvbufErrors" | "Udp6RcvbufErrors") | None)
                && !matches!(reason, Some("TCP_LISTEN_OVERFLOW")) =>
        {
            format!(
                "the application does not read fast enough: Recv-Q at the receive buffer (SOCKET_RCVBUFF){}; read faster \
                 or raise SO_RCVBUF (net.core.rmem_max)",
                if subject.is_empty() { String::new() } else { format!(" on {subject}") }
            )
        }
        (Layer::Socket, _)
            if matches!(counter, Some("TcpExtListenOverflows" | "TcpExtListenDrops"))
                || reason == Some("TCP_LISTEN_OVERFLOW") =>
        {
            format!(
                "the application does not accept() fast enough: the listener's accept queue is at its backlog \
                 (ListenOverflows){}; accept faster or raise the listen() backlog and net.core.somaxconn",
                if subject.is_empty() { String::new() } else { format!(" on {subject}") }
            )
        }
        (Layer::Socket, _) => format!(
            "the socket layer dropped packets ({}): the application's sockets are full or over their memory limits (ss -m)",
            reason.or(counter).unwrap_or("socket counters")
        ),
        (Layer::None, _) => "no packet of the target was lost during the window".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_and_locations_name_layers() {
        assert_eq!(reason_layer("UNHANDLED_PROTO"), Some(Layer::Interface));
        assert_eq!(reason_layer("QDISC_DROP"), Some(Layer::Qdisc));
        assert_eq!(reason_layer("NETFILTER_DROP"), Some(Layer::Netfilter));
        assert_eq!(reason_layer("IP_INADDRERRORS"), Some(Layer::Ip));
        assert_eq!(reason_layer("NO_SOCKET"), Some(Layer::Transport));
        assert_eq!(reason_layer("SOCKET_RCVBUFF"), Some(Layer::Socket));
        assert_eq!(reason_layer("NOT_SPECIFIED"), None);
        assert_eq!(location_layer("__dev_forward_skb2"), Some(Layer::Interface));
        assert_eq!(location_layer("tbf_enqueue"), Some(Layer::Qdisc));
        assert_eq!(location_layer("nf_hook_slow"), Some(Layer::Netfilter));
        assert_eq!(location_layer("__udp4_lib_rcv"), Some(Layer::Transport));
        assert_eq!(counter_layer("UdpRcvbufErrors"), Some(Layer::Socket));
        assert_eq!(counter_layer("UdpInErrors"), None);
        assert_eq!(link_counter_layer("rx_dropped"), Some(Layer::Interface));
        assert!(driver_counter_is_loss("rx_queue_0_drops"));
        assert!(!driver_counter_is_loss("peer_ifindex"));
    }

    #[test]
    fn next_steps_follow_the_evidence() {
        assert!(next_step(Layer::Socket, Some("SOCKET_RCVBUFF"), None, "").contains("does not read fast enough"));
        assert!(next_step(Layer::Socket, None, Some("TcpExtListenOverflows"), "").contains("accept()"));
        assert!(next_step(Layer::Transport, Some("NO_SOCKET"), None, "veth1").contains("nothing listens"));
    }
}
