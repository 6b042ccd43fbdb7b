//! `ip -j link`, `ip -j -s link`, `ip -j -s -s link`: [`LinkShow`] and its
//! parts serialize as the objects iproute2 6.1 writes in JSON context
//! (ip/ipaddress.c print_linkinfo, print_link_flags, print_stats64;
//! lib/utils.c print_name_and_link): the same keys, in the same order,
//! present under the same conditions. With serde_json's compact writer
//! the bytes are ip's: numbers in decimal, strings escaped as ip's
//! json_writer escapes them (serde_json also escapes the other control
//! characters as `\u00XX`, which ip writes raw, so its output stays JSON).

use serde::ser::{Serialize, Serializer};

use super::{
    link_mode_name, HwAddr, Link, LinkFlagWord, LinkFlags, LinkFlagsDisplay, LinkGroupDisplay, LinkPeer, LinkShow,
    LinkStatsBlock, LinkTypeDisplay, OperState, StatsLevel, IFLA_PROP_LIST, IFLA_STATS64, RTM_DELLINK,
};

/// A word of the `flags` array, as a string.
impl Serialize for LinkFlagWord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The `flags` array: `["BROADCAST","MULTICAST","UP","LOWER_UP"]`.
impl Serialize for LinkFlagsDisplay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.words())
    }
}

/// The `link_type` string: `"ether"`, `"[65534]"`.
impl Serialize for LinkTypeDisplay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The `group` string: ip writes it as a string even when it is a number.
impl Serialize for LinkGroupDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// An `address`, `broadcast` or `permaddr` string.
impl Serialize for HwAddr<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The `rx` object of print_stats64. The error counters are there only at
/// `-s -s`; `compressed`, `nohandler` and `otherhost` only when not zero.
#[derive(serde::Serialize)]
struct RxCounters {
    bytes: u64,
    packets: u64,
    errors: u64,
    dropped: u64,
    over_errors: u64,
    multicast: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    compressed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    length_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    crc_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frame_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fifo_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missed_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nohandler: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    otherhost: Option<u64>,
}

/// The `tx` object of print_stats64; `carrier_changes` is
/// IFLA_CARRIER_CHANGES, at `-s -s` when the kernel sent it.
#[derive(serde::Serialize)]
struct TxCounters {
    bytes: u64,
    packets: u64,
    errors: u64,
    dropped: u64,
    carrier_errors: u64,
    collisions: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    compressed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aborted_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fifo_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    window_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    heartbeat_errors: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    carrier_changes: Option<u32>,
}

#[derive(serde::Serialize)]
struct Counters {
    rx: RxCounters,
    tx: TxCounters,
}

/// `{"rx":{...},"tx":{...}}`, the value of ip's `stats64` key.
impl Serialize for LinkStatsBlock<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.stats;
        let errors = |v: u64| (self.level == StatsLevel::Errors).then_some(v);
        let non_zero = |v: u64| (v != 0).then_some(v);
        Counters {
            rx: RxCounters {
                bytes: s.rx_bytes,
                packets: s.rx_packets,
                errors: s.rx_errors,
                dropped: s.rx_dropped,
                over_errors: s.rx_over_errors,
                multicast: s.multicast,
                compressed: non_zero(s.rx_compressed),
                length_errors: errors(s.rx_length_errors),
                crc_errors: errors(s.rx_crc_errors),
                frame_errors: errors(s.rx_frame_errors),
                fifo_errors: errors(s.rx_fifo_errors),
                missed_errors: errors(s.rx_missed_errors),
                nohandler: s.rx_nohandler.and_then(non_zero).and_then(errors),
                otherhost: s.rx_otherhost_dropped.and_then(non_zero).and_then(errors),
            },
            tx: TxCounters {
                bytes: s.tx_bytes,
                packets: s.tx_packets,
                errors: s.tx_errors,
                dropped: s.tx_dropped,
                carrier_errors: s.tx_carrier_errors,
                collisions: s.collisions,
                compressed: non_zero(s.tx_compressed),
                aborted_errors: errors(s.tx_aborted_errors),
                fifo_errors: errors(s.tx_fifo_errors),
                window_errors: errors(s.tx_window_errors),
                heartbeat_errors: errors(s.tx_heartbeat_errors),
                carrier_changes: self.carrier_changes.filter(|_| self.level == StatsLevel::Errors),
            },
        }
        .serialize(serializer)
    }
}

/// The `altnames` array: every IFLA_ALT_IFNAME of IFLA_PROP_LIST.
struct AltNames<'a>(&'a Link<'a>);

impl Serialize for AltNames<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.altnames())
    }
}

/// print_linkinfo's object, keys in ip's order.
#[derive(serde::Serialize)]
struct LinkObject<'a> {
    #[serde(skip_serializing_if = "is_false")]
    deleted: bool,
    ifindex: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_index: Option<u32>,
    /// `Some(None)` is IFLA_LINK 0: `"link":null`.
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<Option<&'a str>>,
    ifname: std::borrow::Cow<'a, str>,
    flags: LinkFlagsDisplay,
    #[serde(skip_serializing_if = "Option::is_none")]
    mtu: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qdisc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    master: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operstate: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    operstate_index: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkmode: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkmode_index: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    txqlen: Option<u32>,
    link_type: LinkTypeDisplay,
    #[serde(skip_serializing_if = "Option::is_none")]
    address: Option<HwAddr<'a>>,
    #[serde(skip_serializing_if = "is_false")]
    link_pointtopoint: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    broadcast: Option<HwAddr<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    permaddr: Option<HwAddr<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    link_netnsid: Option<i32>,
    #[serde(skip_serializing_if = "is_false")]
    proto_down: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    ifalias: Option<&'a str>,
    /// Counters from IFLA_STATS64.
    #[serde(skip_serializing_if = "Option::is_none")]
    stats64: Option<LinkStatsBlock<'a>>,
    /// Counters from the 32-bit IFLA_STATS: ip names the key after the
    /// size of what it read (__print_link_stats).
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<LinkStatsBlock<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    altnames: Option<AltNames<'a>>,
}

/// The object ip prints for the link in JSON context.
impl Serialize for LinkShow<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let l = self.link;
        let (link_index, link) = match &self.peer {
            LinkPeer::Absent => (None, None),
            LinkPeer::Zero => (None, Some(None)),
            LinkPeer::Local { name, .. } => (None, Some(Some(name.as_str()))),
            LinkPeer::OtherNetns { index } => (Some(*index), None),
        };
        let (operstate, operstate_index) = match l.operstate() {
            Some(OperState::Other(v)) => (None, Some(v)),
            Some(state) => (state.name(), None),
            None => (None, None),
        };
        let (linkmode, linkmode_index) = match l.link_mode() {
            Some(mode) => (link_mode_name(mode), link_mode_name(mode).is_none().then_some(mode)),
            None => (None, None),
        };
        let counters = l.stats64();
        let block = counters.as_ref().zip(self.stats).map(|(stats, level)| LinkStatsBlock {
            stats,
            carrier_changes: l.carrier_changes(),
            level,
        });
        let from_stats64 = l.attr(IFLA_STATS64).is_some();
        let broadcast = l.broadcast();
        LinkObject {
            deleted: l.msg_kind() == RTM_DELLINK,
            ifindex: l.index(),
            link_index,
            link,
            ifname: l.name_lossy(),
            flags: self.flags(),
            mtu: l.mtu(),
            qdisc: l.qdisc(),
            master: self.master.as_deref(),
            operstate,
            operstate_index,
            linkmode,
            linkmode_index,
            group: self.group.as_deref(),
            txqlen: l.txqlen().filter(|&q| q != 0),
            link_type: LinkTypeDisplay(l.link_type()),
            address: l.address().map(|a| self.hw_addr(a)),
            link_pointtopoint: broadcast.is_some() && l.flags().contains(LinkFlags::POINTOPOINT),
            broadcast: broadcast.map(|b| self.hw_addr(b)),
            permaddr: self.perm_address().map(|p| self.hw_addr(p)),
            link_netnsid: l.link_netnsid(),
            proto_down: l.proto_down() == Some(true),
            ifalias: l.alias(),
            stats64: block.filter(|_| from_stats64),
            stats: block.filter(|_| !from_stats64),
            altnames: l.attr(IFLA_PROP_LIST).map(|_| AltNames(l)),
        }
        .serialize(serializer)
    }
}
