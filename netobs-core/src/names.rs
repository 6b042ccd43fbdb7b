//! The names the tools print for numbers, in one place: service names of
//! /etc/services (parsed once per process, looked up by name and by
//! port), link-layer protocol (EtherType) names as iproute2, tcpdump and
//! libpcap spell them, IP protocol names, and iproute2's interface groups
//! (/etc/iproute2/group).
//!
//! None of this is a network lookup: like glibc's `files` NSS source, only
//! the local files are read.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One line of /etc/services: `name port/protocol [aliases...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// The official name.
    pub name: String,
    /// The port.
    pub port: u16,
    /// `tcp`, `udp`, `sctp`, `ddp`, ...
    pub protocol: String,
    /// Other names of the same service.
    pub aliases: Vec<String>,
}

/// The services database (services(5)), in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Services {
    entries: Vec<Service>,
    /// Entry indexes by port, in file order (ss names every socket's ports).
    by_port: HashMap<u16, Vec<usize>>,
}

impl Services {
    /// Parses services(5) text: `#` starts a comment, fields are separated
    /// by blanks; lines without a valid `port/protocol` are skipped, as
    /// glibc skips them.
    pub fn parse(text: &str) -> Services {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(pp)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, protocol)) = pp.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            entries.push(Service {
                name: name.to_owned(),
                port,
                protocol: protocol.to_owned(),
                aliases: words.map(str::to_owned).collect(),
            });
        }
        let mut by_port: HashMap<u16, Vec<usize>> = HashMap::new();
        for (i, s) in entries.iter().enumerate() {
            by_port.entry(s.port).or_default().push(i);
        }
        Services { entries, by_port }
    }

    /// /etc/services of this machine, read and parsed on first use (an
    /// unreadable file is an empty database, as for getservbyname).
    pub fn system() -> &'static Services {
        static SYSTEM: OnceLock<Services> = OnceLock::new();
        SYSTEM.get_or_init(|| Services::parse(&std::fs::read_to_string("/etc/services").unwrap_or_default()))
    }

    /// getservbyname(name, protocol): the first entry of `protocol` whose
    /// name or alias is `name`.
    pub fn port(&self, name: &str, protocol: &str) -> Option<u16> {
        self.entries
            .iter()
            .find(|s| s.protocol == protocol && (s.name == name || s.aliases.iter().any(|a| a == name)))
            .map(|s| s.port)
    }

    /// getservbyport(port, protocol): the first entry's official name.
    pub fn name(&self, port: u16, protocol: &str) -> Option<&str> {
        self.by_port
            .get(&port)?
            .iter()
            .map(|&i| &self.entries[i])
            .find(|s| s.protocol == protocol)
            .map(|s| s.name.as_str())
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[Service] {
        &self.entries
    }
}

/// Link-layer protocol numbers and their names (include/uapi/linux/if_ether.h).
pub mod ethertype {
    /// One link-layer protocol and how each tool names it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct EtherTypeName {
        /// The number (`ETH_P_*`).
        pub value: u16,
        /// iproute2's name (lib/ll_proto.c), as `ss` and `ip` print it.
        pub iproute2: Option<&'static str>,
        /// tcpdump's name in `ethertype NAME (0x....)` (`-e`).
        pub tcpdump: Option<&'static str>,
        /// libpcap's keyword for `ether proto \NAME` (its eproto_db).
        pub pcap: Option<&'static str>,
    }

    const fn e(value: u16, iproute2: &'static str) -> EtherTypeName {
        EtherTypeName {
            value,
            iproute2: Some(iproute2),
            tcpdump: None,
            pcap: None,
        }
    }

    const fn t(value: u16, iproute2: &'static str, tcpdump: &'static str, pcap: Option<&'static str>) -> EtherTypeName {
        EtherTypeName {
            value,
            iproute2: Some(iproute2),
            tcpdump: Some(tcpdump),
            pcap,
        }
    }

    /// Every protocol any of the tools names, in iproute2's table order.
    pub const TABLE: &[EtherTypeName] = &[
        e(0x0060, "loop"),
        e(0x0200, "pup"),
        e(0x0201, "pupat"),
        t(0x0800, "ip", "IPv4", Some("ip")),
        e(0x0805, "x25"),
        t(0x0806, "arp", "ARP", Some("arp")),
        e(0x08FF, "bpq"),
        e(0x0a00, "ieeepup"),
        e(0x0a01, "ieeepupat"),
        e(0x6000, "dec"),
        e(0x6001, "dna_dl"),
        e(0x6002, "dna_rc"),
        e(0x6003, "dna_rt"),
        e(0x6004, "lat"),
        e(0x6005, "diag"),
        e(0x6006, "cust"),
        e(0x6007, "sca"),
        t(0x8035, "rarp", "Reverse ARP", Some("rarp")),
        e(0x809B, "atalk"),
        e(0x80F3, "aarp"),
        e(0x8137, "ipx"),
        t(0x86DD, "ipv6", "IPv6", Some("ip6")),
        e(0x8863, "ppp_disc"),
        e(0x8864, "ppp_ses"),
        e(0x884c, "atmmpoa"),
        e(0x8884, "atmfate"),
        e(0x0001, "802_3"),
        e(0x0002, "ax25"),
        e(0x0003, "all"),
        e(0x0004, "802_2"),
        e(0x0005, "snap"),
        e(0x0006, "ddcmp"),
        e(0x0007, "wan_ppp"),
        e(0x0008, "ppp_mp"),
        e(0x0009, "localtalk"),
        e(0x000C, "can"),
        e(0x0010, "ppptalk"),
        e(0x0011, "tr_802_2"),
        e(0x0015, "mobitex"),
        e(0x0016, "control"),
        e(0x0017, "irda"),
        e(0x0018, "econet"),
        e(0x88CA, "tipc"),
        e(0x8892, "profinet"),
        e(0x88A2, "aoe"),
        e(0x88A4, "ethercat"),
        t(0x8100, "802.1Q", "802.1Q", None),
        t(0x88A8, "802.1ad", "802.1Q-QinQ", None),
        e(0x8847, "mpls_uc"),
        e(0x8848, "mpls_mc"),
        e(0x6558, "teb"),
        EtherTypeName {
            value: 0x9000,
            iproute2: None,
            tcpdump: None,
            pcap: Some("loopback"),
        },
        // Pre-standard QinQ TPIDs, as tcpdump's ethertype_values name them.
        EtherTypeName {
            value: 0x9100,
            iproute2: None,
            tcpdump: Some("802.1Q-9100"),
            pcap: None,
        },
        EtherTypeName {
            value: 0x9200,
            iproute2: None,
            tcpdump: Some("802.1Q-9200"),
            pcap: None,
        },
    ];

    fn find(value: u16, pick: impl Fn(&EtherTypeName) -> Option<&'static str>) -> Option<&'static str> {
        TABLE.iter().filter(|n| n.value == value).find_map(pick)
    }

    /// iproute2's name (`ll_proto_n2a`), None for a number it prints in hex.
    pub fn iproute2_name(value: u16) -> Option<&'static str> {
        find(value, |n| n.iproute2)
    }

    /// tcpdump's name, None for `Unknown`.
    pub fn tcpdump_name(value: u16) -> Option<&'static str> {
        find(value, |n| n.tcpdump)
    }

    /// The number of libpcap's `ether proto` keyword.
    pub fn pcap_keyword(word: &str) -> Option<u16> {
        TABLE.iter().find(|n| n.pcap == Some(word)).map(|n| n.value)
    }
}

/// IP protocol numbers and names (include/uapi/linux/in.h; the names as
/// /etc/protocols and libpcap's `ip proto \NAME` spell them).
pub mod ipproto {
    /// (number, name) of the protocols the tools name.
    pub const TABLE: &[(u8, &str)] = &[
        (1, "icmp"),
        (2, "igmp"),
        (6, "tcp"),
        (9, "igrp"),
        (17, "udp"),
        (33, "dccp"),
        (47, "gre"),
        (50, "esp"),
        (51, "ah"),
        (58, "icmp6"),
        (103, "pim"),
        (112, "vrrp"),
        (132, "sctp"),
        (136, "udplite"),
    ];

    /// The name of protocol `p`.
    pub fn name(p: u8) -> Option<&'static str> {
        TABLE.iter().find(|(v, _)| *v == p).map(|(_, n)| *n)
    }

    /// The number of protocol `name`.
    pub fn number(name: &str) -> Option<u8> {
        TABLE.iter().find(|(_, n)| *n == name).map(|(v, _)| *v)
    }
}

/// iproute2's interface groups (/etc/iproute2/group): `NUMBER NAME` lines,
/// the number decimal or `0x` hex, `#` comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Groups {
    entries: Vec<(u32, String)>,
}

impl Groups {
    /// Parses the file's text as iproute2's rtnl_tab_initialize does.
    pub fn parse(text: &str) -> Groups {
        let mut entries = Vec::new();
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            let mut it = line.split_whitespace();
            let (Some(id), Some(name)) = (it.next(), it.next()) else {
                continue;
            };
            let id = match id.strip_prefix("0x") {
                Some(h) => u32::from_str_radix(h, 16).ok(),
                None => id.parse().ok(),
            };
            if let Some(id) = id {
                entries.push((id, name.to_owned()));
            }
        }
        Groups { entries }
    }

    /// /etc/iproute2/group of this machine (empty when unreadable).
    pub fn system() -> Groups {
        Groups::parse(&std::fs::read_to_string("/etc/iproute2/group").unwrap_or_default())
    }

    /// The name of group `id` (`rtnl_group_n2a`): the last line that
    /// names it, since iproute2 reads the file into a table whose later
    /// entries replace earlier ones.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.as_str())
    }

    /// The number of group `name`.
    pub fn id(&self, name: &str) -> Option<u32> {
        self.entries.iter().find(|(_, n)| n == name).map(|(i, _)| *i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_by_name_alias_and_port() {
        let s = Services::parse(
            "# comment\nssh 22/tcp\nhttp 80/tcp www # WorldWideWeb\nhttp 80/udp\ndomain 53/udp\nbad x/tcp\nshort\n",
        );
        assert_eq!(s.port("www", "tcp"), Some(80));
        assert_eq!(s.port("http", "udp"), Some(80));
        assert_eq!(s.port("ssh", "udp"), None);
        assert_eq!(s.name(53, "udp"), Some("domain"));
        assert_eq!(s.name(53, "tcp"), None);
        assert_eq!(s.entries().len(), 4);
    }

    #[test]
    fn ethertype_names_per_tool() {
        assert_eq!(ethertype::iproute2_name(0x86dd), Some("ipv6"));
        assert_eq!(ethertype::tcpdump_name(0x86dd), Some("IPv6"));
        assert_eq!(ethertype::pcap_keyword("ip6"), Some(0x86dd));
        assert_eq!(ethertype::tcpdump_name(0x88a8), Some("802.1Q-QinQ"));
        assert_eq!(ethertype::iproute2_name(0x9000), None);
        assert_eq!(ethertype::tcpdump_name(0x1234), None);
    }

    #[test]
    fn groups_decimal_hex_and_comments() {
        let g = Groups::parse("# x\n0 default\n0x10 ten\n  7\tseven extra\nnope\n16 sixteen\n");
        assert_eq!(g.name(16), Some("sixteen"));
        assert_eq!(g.name(0), Some("default"));
        assert_eq!(g.id("seven"), Some(7));
        assert_eq!(g.name(1), None);
    }
}
