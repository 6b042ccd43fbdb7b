//! The kernel's registered packet handlers: /proc/net/ptype.
//!
//! `__netif_receive_skb_core` (net/core/dev.c) hands every received frame
//! to the handlers of `ptype_all` (packet sockets bound to ETH_P_ALL: taps
//! such as tcpdump) and to those registered for the frame's EtherType
//! (`ptype_base`: ip_rcv, arp_rcv, ipv6_rcv, packet sockets bound to one
//! protocol). A frame no handler takes is freed with
//! SKB_DROP_REASON_UNHANDLED_PROTO and counted in the device's
//! `rx_dropped` (or `rx_nohandler` for an exact-match-only delivery). So
//! the EtherTypes that have no handler here are the ones that die as
//! UNHANDLED_PROTO — and a tap on the device (a `ALL` line) makes the
//! kernel deliver such frames to it instead of dropping them.
//!
//! `ptype_seq_show` (net/core/net-procfs.c) writes a header line, then per
//! handler `Type Device Function`: the type as `ALL` or 4 hex digits, the
//! device name (blank for handlers of every device; padded to 8), and the
//! handler's `%ps` symbol. The file shows the handlers visible from the
//! reading thread's network namespace (those bound to its devices, and the
//! unbound ones).

use netobs_core::Netns;

use crate::error::Result;

/// Which frames a handler takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HandlerType {
    /// Every frame (ETH_P_ALL): a tap.
    All,
    /// Frames of this EtherType (host order).
    EtherType(u16),
}

/// One registered packet handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketHandler {
    /// Which frames it takes.
    pub kind: HandlerType,
    /// The device it is bound to, or None for every device.
    pub device: Option<String>,
    /// The handler function (`ip_rcv`, `packet_rcv`, `tpacket_rcv`).
    pub function: String,
    /// The module it lives in (`llc` for llc_rcv where LLC is a module).
    pub module: Option<String>,
}

/// The handlers of one namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketHandlers {
    /// In file order.
    pub handlers: Vec<PacketHandler>,
}

/// Where the kernel writes it (per namespace, through /proc/thread-self/net).
pub const PATH: &str = "/proc/thread-self/net/ptype";

impl PacketHandlers {
    /// Parses the file's text (`path` names it in errors).
    pub fn parse(path: &str, text: &str) -> Result<Self> {
        let bad = |line: usize, reason| netobs_core::Error::ProcFormat {
            path: path.to_string(),
            line,
            reason,
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, h)) if h.split_whitespace().eq(["Type", "Device", "Function"]) => {}
            Some(_) => return Err(bad(1, "expected the header `Type Device Function`").into()),
            None => return Ok(PacketHandlers::default()),
        }
        let mut handlers = Vec::new();
        for (n, line) in lines {
            let mut words: Vec<&str> = line.split_whitespace().collect();
            // `%ps` of a module's function ends in ` [module]`
            // (__sprint_symbol, kernel/kallsyms.c): `llc_rcv [llc]`.
            let module = match words.last() {
                Some(w) if words.len() > 1 && w.starts_with('[') && w.ends_with(']') => words.pop(),
                _ => None,
            };
            let (ty, device, function) = match words[..] {
                [] => continue,
                [ty, function] => (ty, None, function),
                [ty, device, function] => (ty, Some(device.to_string()), function),
                _ => return Err(bad(n + 1, "expected TYPE [DEVICE] FUNCTION").into()),
            };
            let kind = if ty == "ALL" {
                HandlerType::All
            } else if ty.len() == 4 {
                HandlerType::EtherType(
                    u16::from_str_radix(ty, 16).map_err(|_| bad(n + 1, "type is neither ALL nor 4 hex digits"))?,
                )
            } else {
                return Err(bad(n + 1, "type is neither ALL nor 4 hex digits").into());
            };
            handlers.push(PacketHandler {
                kind,
                device,
                function: function.to_string(),
                module: module.map(|m| m.trim_matches(['[', ']']).to_string()),
            });
        }
        Ok(PacketHandlers { handlers })
    }

    /// The handlers seen from the calling thread's namespace.
    pub fn read() -> Result<Self> {
        let text = std::fs::read_to_string(PATH).map_err(|e| netobs_core::Error::Io {
            op: "read /proc/net/ptype",
            source: e,
        })?;
        Self::parse(PATH, &text)
    }

    /// The handlers of `netns`.
    pub fn read_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::read)?
    }

    /// Whether a frame of `ethertype` arriving on `device` has a protocol
    /// handler (taps aside): false means the kernel drops it as
    /// UNHANDLED_PROTO when no tap is on the device.
    pub fn handles(&self, ethertype: u16, device: &str) -> bool {
        self.handlers
            .iter()
            .any(|h| h.kind == HandlerType::EtherType(ethertype) && h.device.as_deref().is_none_or(|d| d == device))
    }

    /// The taps (ETH_P_ALL handlers) that see frames of `device`.
    pub fn taps_on<'a>(&'a self, device: &'a str) -> impl Iterator<Item = &'a PacketHandler> + 'a {
        self.handlers
            .iter()
            .filter(move |h| h.kind == HandlerType::All && h.device.as_deref().is_none_or(|d| d == device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Recorded on this host (6.18) with a tcpdump on veth1; the module
    // handler lines as Debian's kernels (CONFIG_LLC=m, bridge loaded) write
    // them.
    const TEXT: &str = "Type Device      Function\nALL  veth1    tpacket_rcv\n0800          ip_rcv\n0004          llc_rcv [llc]\n0806          arp_rcv\n86dd          ipv6_rcv\n88cc eth0     lldp_rcv [lldpd]\n";

    #[test]
    fn parses_the_kernel_layout() {
        let p = PacketHandlers::parse("x", TEXT).unwrap();
        assert_eq!(p.handlers.len(), 6);
        assert_eq!(p.handlers[2].function, "llc_rcv");
        assert_eq!(
            (p.handlers[2].device.as_deref(), p.handlers[2].module.as_deref()),
            (None, Some("llc"))
        );
        assert!(p.handles(0x0004, "veth1"));
        assert!(p.handles(0x88cc, "eth0") && !p.handles(0x88cc, "eth1"));
        assert_eq!(p.handlers[0].kind, HandlerType::All);
        assert_eq!(p.handlers[0].device.as_deref(), Some("veth1"));
        assert!(p.handles(0x0800, "eth0"));
        assert!(!p.handles(0x4321, "veth1"));
        assert_eq!(p.taps_on("veth1").count(), 1);
        assert_eq!(p.taps_on("veth0").count(), 0);
    }

    #[test]
    fn malformed_files_are_errors() {
        assert!(PacketHandlers::parse("x", "nonsense\n").is_err());
        let e = PacketHandlers::parse("x", "Type Device      Function\n08000 ip_rcv\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(PacketHandlers::parse("x", "Type Device      Function\na b c d\n").is_err());
    }

    #[test]
    fn reads_this_namespace() {
        let p = PacketHandlers::read().unwrap();
        assert!(p.handles(0x0800, "lo"), "{p:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics(text in "(Type Device      Function\n)?([0-9A-Za-z ]{0,20}\n){0,6}") {
            let _ = PacketHandlers::parse("x", &text);
        }
    }
}
