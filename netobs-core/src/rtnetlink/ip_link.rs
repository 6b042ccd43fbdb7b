//! What iproute2's `ip link show` prints for a link, as `Display` adapters
//! over the decoded views: the flag list, the operational state, the link
//! mode name, the device type, the device group, the `-s` / `-s -s` counter
//! blocks and, putting them together, [`LinkShow`], one link's whole entry.
//!
//! The reference is iproute2 6.1: ip/ipaddress.c (print_linkinfo,
//! print_link_flags, print_operstate, print_linkmode, print_stats64),
//! lib/utils.c (print_name_and_link), lib/ll_map.c (the index to name
//! cache), lib/ll_types.c (ll_type_n2a) and lib/rt_names.c
//! (rtnl_group_n2a). With the `serde` feature, [`LinkShow`] and its parts
//! also implement `Serialize`: serde_json writes them as `ip -j link` does.

use std::collections::HashMap;
use std::fmt;

use super::{link_type_name, HwAddr, Link, LinkFlags, LinkStats64, OperState, IFLA_LINK, RTM_DELLINK};
use crate::names::Groups;
use crate::socket::NetlinkSocket;

/// The IFF_* flags `ip link` names, in the order it prints them
/// (print_link_flags). IFF_RUNNING is not among them: ip shows its
/// absence on an up link as `NO-CARRIER` instead.
pub const LINK_FLAG_NAMES: [(LinkFlags, &str); 18] = [
    (LinkFlags::LOOPBACK, "LOOPBACK"),
    (LinkFlags::BROADCAST, "BROADCAST"),
    (LinkFlags::POINTOPOINT, "POINTOPOINT"),
    (LinkFlags::MULTICAST, "MULTICAST"),
    (LinkFlags::NOARP, "NOARP"),
    (LinkFlags::ALLMULTI, "ALLMULTI"),
    (LinkFlags::PROMISC, "PROMISC"),
    (LinkFlags::MASTER, "MASTER"),
    (LinkFlags::SLAVE, "SLAVE"),
    (LinkFlags::DEBUG, "DEBUG"),
    (LinkFlags::DYNAMIC, "DYNAMIC"),
    (LinkFlags::AUTOMEDIA, "AUTOMEDIA"),
    (LinkFlags::PORTSEL, "PORTSEL"),
    (LinkFlags::NOTRAILERS, "NOTRAILERS"),
    (LinkFlags::UP, "UP"),
    (LinkFlags::LOWER_UP, "LOWER_UP"),
    (LinkFlags::DORMANT, "DORMANT"),
    (LinkFlags::ECHO, "ECHO"),
];

/// One word of ip's flag list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkFlagWord {
    /// `NO-CARRIER`: administratively up (IFF_UP) but not running
    /// (IFF_RUNNING clear: the driver reports no carrier).
    NoCarrier,
    /// A flag of [`LINK_FLAG_NAMES`], by name.
    Flag(&'static str),
    /// The bits ip has no name for, printed in hex (`%x`).
    Unknown(u32),
    /// `M-DOWN`: the link's lower or peer link (IFLA_LINK, in the same
    /// namespace) is not up.
    LowerDown,
}

impl fmt::Display for LinkFlagWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LinkFlagWord::NoCarrier => f.write_str("NO-CARRIER"),
            LinkFlagWord::Flag(name) => f.write_str(name),
            LinkFlagWord::Unknown(bits) => write!(f, "{bits:x}"),
            LinkFlagWord::LowerDown => f.write_str("M-DOWN"),
        }
    }
}

/// ip's flag list, `<BROADCAST,MULTICAST,UP,LOWER_UP>` (print_link_flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkFlagsDisplay {
    /// The link's IFF_* flags.
    pub flags: LinkFlags,
    /// Whether the lower or peer link is down (adds `M-DOWN`).
    pub lower_down: bool,
}

impl LinkFlagsDisplay {
    /// The words in ip's order: `NO-CARRIER`, the named flags, the unnamed
    /// bits in hex, `M-DOWN`.
    pub fn words(&self) -> impl Iterator<Item = LinkFlagWord> {
        let flags = self.flags;
        let no_carrier = flags.contains(LinkFlags::UP) && !flags.contains(LinkFlags::RUNNING);
        let named = LINK_FLAG_NAMES
            .iter()
            .filter(move |(flag, _)| flags.contains(*flag))
            .map(|&(_, name)| LinkFlagWord::Flag(name));
        let known = LINK_FLAG_NAMES
            .iter()
            .fold(LinkFlags::RUNNING, |all, &(flag, _)| all | flag);
        let unknown = flags.bits() & !known.bits();
        no_carrier
            .then_some(LinkFlagWord::NoCarrier)
            .into_iter()
            .chain(named)
            .chain((unknown != 0).then_some(LinkFlagWord::Unknown(unknown)))
            .chain(self.lower_down.then_some(LinkFlagWord::LowerDown))
    }
}

impl fmt::Display for LinkFlagsDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<")?;
        for (i, word) in self.words().enumerate() {
            // ip writes the comma after every flag but the last, and
            // before M-DOWN in any case (`<,M-DOWN>` when no flag is set).
            if i > 0 || word == LinkFlagWord::LowerDown {
                f.write_str(",")?;
            }
            write!(f, "{word}")?;
        }
        f.write_str(">")
    }
}

/// The state as ip prints it: `UP`, `LOWERLAYERDOWN`, ... (print_operstate's
/// oper_states), a value ip has no name for in hex (`0x7`).
impl fmt::Display for OperState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OperState::Other(v) => write!(f, "{v:#x}"),
            known => f.write_str(known.name().unwrap_or_default()),
        }
    }
}

/// The name ip gives a link mode (IFLA_LINKMODE, IF_LINK_MODE_* of
/// include/uapi/linux/if.h): `DEFAULT`, `DORMANT`; `None` for others
/// (print_linkmode's link_modes).
pub fn link_mode_name(mode: u8) -> Option<&'static str> {
    match mode {
        0 => Some("DEFAULT"),
        1 => Some("DORMANT"),
        _ => None,
    }
}

/// A device type (ARPHRD_*) as ip prints it after `link/`: its name
/// ([`link_type_name`]), or the number in brackets, `[65534]` (ll_type_n2a).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTypeDisplay(pub u16);

impl fmt::Display for LinkTypeDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match link_type_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "[{}]", self.0),
        }
    }
}

/// A device group (IFLA_GROUP) as ip prints it (rtnl_group_n2a): the name
/// /etc/iproute2/group gives it, `default` for group 0 when the file does
/// not name it (ip has that entry built in), else the number as a C `int`.
#[derive(Debug, Clone, Copy)]
pub struct LinkGroupDisplay<'a> {
    /// The group number.
    pub id: u32,
    /// The group names.
    pub groups: &'a Groups,
}

impl fmt::Display for LinkGroupDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.groups.name(self.id) {
            Some(name) => f.write_str(name),
            None if self.id == 0 => f.write_str("default"),
            // rtnl_group_n2a formats the id with "%d".
            None => write!(f, "{}", self.id as i32),
        }
    }
}

/// How much of the counters `ip link` shows: `-s` or `-s -s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatsLevel {
    /// `-s`: the RX and TX lines.
    Counters,
    /// `-s -s` (or more): also the `RX errors` and `TX errors` lines.
    Errors,
}

impl StatsLevel {
    /// The level for `count` `-s` options: none for 0.
    pub fn from_count(count: u32) -> Option<StatsLevel> {
        match count {
            0 => None,
            1 => Some(StatsLevel::Counters),
            _ => Some(StatsLevel::Errors),
        }
    }
}

/// The counter block of `ip -s link` (print_stats64), four lines at
/// [`StatsLevel::Counters`], eight at [`StatsLevel::Errors`], each
/// starting with four spaces, with no newline after the last:
///
/// ```text
///     RX:  bytes packets errors dropped  missed   mcast
///         123456     789      0       0       0       0
///     TX:  bytes packets errors dropped carrier collsns
///         654321     987      0       0       0       0
/// ```
///
/// Every column is as wide as its heading or its widest number across
/// both directions (size_columns); `compressed`, `nohandler` and
/// `otherhost` columns appear only when their counter is not zero.
#[derive(Debug, Clone, Copy)]
pub struct LinkStatsBlock<'a> {
    /// The counters.
    pub stats: &'a LinkStats64,
    /// IFLA_CARRIER_CHANGES, shown as `transns` at [`StatsLevel::Errors`].
    pub carrier_changes: Option<u32>,
    /// How much to show.
    pub level: StatsLevel,
}

/// The counters of the block's lines, in print order: RX (bytes, packets,
/// errors, dropped, missed, mcast), RX errors (length, crc, frame, fifo,
/// overrun), TX (bytes, packets, errors, dropped, carrier, collsns), TX
/// errors (aborted, fifo, window, heartbt; transns, the carrier changes,
/// is not a stats64 counter).
struct CounterLines {
    rx: [u64; 6],
    rx_errors: [u64; 5],
    tx: [u64; 6],
    tx_errors: [u64; 4],
}

/// Column widths of the counter block, indexed as print_stats64's `cols`.
type Columns = [usize; 8];

/// Decimal digits of `v` (size_columns counts them the same way).
fn digits(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Widens each column to fit its value.
fn widen(cols: &mut Columns, values: [u64; 8]) {
    for (col, v) in cols.iter_mut().zip(values) {
        *col = (*col).max(digits(v));
    }
}

/// `%*s`: `text` right-aligned in `width` columns.
fn pad(f: &mut fmt::Formatter<'_>, width: usize, text: &str) -> fmt::Result {
    write!(f, "{text:>width$}")
}

/// print_num without `-h`: `%*llu ` (a space after every number).
fn num(f: &mut fmt::Formatter<'_>, width: usize, v: u64) -> fmt::Result {
    write!(f, "{v:>width$} ")
}

impl LinkStatsBlock<'_> {
    fn errors(&self) -> bool {
        self.level == StatsLevel::Errors
    }

    /// The counters of each line, in print order.
    fn lines(&self) -> CounterLines {
        let s = self.stats;
        CounterLines {
            rx: [
                s.rx_bytes,
                s.rx_packets,
                s.rx_errors,
                s.rx_dropped,
                s.rx_missed_errors,
                s.multicast,
            ],
            rx_errors: [
                s.rx_length_errors,
                s.rx_crc_errors,
                s.rx_frame_errors,
                s.rx_fifo_errors,
                s.rx_over_errors,
            ],
            tx: [
                s.tx_bytes,
                s.tx_packets,
                s.tx_errors,
                s.tx_dropped,
                s.tx_carrier_errors,
                s.collisions,
            ],
            tx_errors: [
                s.tx_aborted_errors,
                s.tx_fifo_errors,
                s.tx_window_errors,
                s.tx_heartbeat_errors,
            ],
        }
    }

    /// print_stats64's column widths: the headings' lengths, widened by
    /// every number shown.
    fn columns(&self) -> Columns {
        let s = self.stats;
        // "*X errors:", "packets", "errors", "dropped", "heartbt",
        // "overrun", "compressed", "otherhost".
        let mut cols = [10, 7, 6, 7, 7, 7, 10, 9];
        let lines = self.lines();
        let [a, b, c, d, e, g] = lines.rx;
        widen(&mut cols, [a, b, c, d, e, g, s.rx_compressed, 0]);
        if self.errors() {
            let [a, b, c, d, e] = lines.rx_errors;
            let nohandler = s.rx_nohandler.unwrap_or(0);
            widen(
                &mut cols,
                [0, a, b, c, d, e, nohandler, s.rx_otherhost_dropped.unwrap_or(0)],
            );
        }
        let [a, b, c, d, e, g] = lines.tx;
        widen(&mut cols, [a, b, c, d, e, g, s.tx_compressed, 0]);
        if self.errors() {
            // iproute2 sizes the TX error counters one column to the right
            // of where it prints them (aborted in 2, printed in 1; transns
            // in 6, printed in 5). Kept, so the widths are the same.
            let [a, b, c, d] = lines.tx_errors;
            widen(
                &mut cols,
                [0, 0, a, b, c, d, self.carrier_changes.map_or(0, u64::from), 0],
            );
        }
        cols
    }

    /// A direction's heading and counter lines: `    RX:  bytes ...` with
    /// the first heading sharing its column with the `RX:` lead-in, and the
    /// compressed column only when that counter is not zero.
    fn direction(
        f: &mut fmt::Formatter<'_>,
        cols: &Columns,
        label: &str,
        headings: [&str; 6],
        values: [u64; 6],
        compressed: u64,
    ) -> fmt::Result {
        write!(f, "    {label}:")?;
        for (i, heading) in headings.into_iter().enumerate() {
            let width = if i == 0 { cols[0].saturating_sub(4) } else { cols[i] };
            f.write_str(" ")?;
            pad(f, width, heading)?;
        }
        f.write_str(" ")?;
        pad(f, cols[6], if compressed != 0 { "compressed" } else { "" })?;
        f.write_str("\n    ")?;
        for (i, v) in values.into_iter().enumerate() {
            num(f, cols[i], v)?;
        }
        if compressed != 0 {
            num(f, cols[6], compressed)?;
        }
        Ok(())
    }

    /// An errors heading line, `    RX errors:` then the headings from
    /// column 1, each after a space.
    fn error_headings(f: &mut fmt::Formatter<'_>, cols: &Columns, label: &str, headings: [&str; 5]) -> fmt::Result {
        write!(f, "\n    {label} errors:")?;
        pad(f, cols[0].saturating_sub(10), "")?;
        for (i, heading) in headings.into_iter().enumerate() {
            f.write_str(" ")?;
            pad(f, cols[i + 1], heading)?;
        }
        Ok(())
    }

    /// The counters under an errors heading, from column 1 on.
    fn error_counts(f: &mut fmt::Formatter<'_>, cols: &Columns, values: impl Iterator<Item = u64>) -> fmt::Result {
        write!(f, "\n{:w$}", "", w = cols[0] + 5)?;
        for (i, v) in values.enumerate() {
            num(f, cols[i + 1], v)?;
        }
        Ok(())
    }
}

impl fmt::Display for LinkStatsBlock<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.stats;
        let cols = self.columns();
        let lines = self.lines();
        let nohandler = s.rx_nohandler.unwrap_or(0);
        let otherhost = s.rx_otherhost_dropped.unwrap_or(0);

        let rx_headings = ["bytes", "packets", "errors", "dropped", "missed", "mcast"];
        Self::direction(f, &cols, "RX", rx_headings, lines.rx, s.rx_compressed)?;
        if self.errors() {
            Self::error_headings(f, &cols, "RX", ["length", "crc", "frame", "fifo", "overrun"])?;
            // The optional headings carry their own leading space and are
            // padded to their column plus one; their numbers go in columns
            // 6 and 7 whichever of them is shown.
            if nohandler != 0 {
                pad(f, cols[6] + 1, " nohandler")?;
            }
            if otherhost != 0 {
                pad(f, cols[7] + 1, " otherhost")?;
            }
            Self::error_counts(f, &cols, lines.rx_errors.into_iter())?;
            if nohandler != 0 {
                num(f, cols[6], nohandler)?;
            }
            if otherhost != 0 {
                num(f, cols[7], otherhost)?;
            }
        }
        f.write_str("\n")?;

        let tx_headings = ["bytes", "packets", "errors", "dropped", "carrier", "collsns"];
        Self::direction(f, &cols, "TX", tx_headings, lines.tx, s.tx_compressed)?;
        if self.errors() {
            let transns = if self.carrier_changes.is_some() { "transns" } else { "" };
            Self::error_headings(f, &cols, "TX", ["aborted", "fifo", "window", "heartbt", transns])?;
            let carrier_changes = self.carrier_changes.map(u64::from);
            Self::error_counts(f, &cols, lines.tx_errors.into_iter().chain(carrier_changes))?;
        }
        Ok(())
    }
}

/// The names `ip link` prints for other links, for namespace ids and for
/// device groups, each looked up once: iproute2's index cache
/// (lib/ll_map.c: name and flags by index, filled from the dump and, on a
/// miss, by RTM_GETLINK for that index), the names of /run/netns by the id
/// this namespace gives them (get_name_from_nsid), and /etc/iproute2/group.
#[derive(Debug, Default)]
pub struct LinkNames {
    links: HashMap<u32, (String, LinkFlags)>,
    netns_by_id: Option<Vec<(i32, String)>>,
    groups: Groups,
}

impl LinkNames {
    /// An empty cache that names groups from `groups`
    /// ([`Groups::system`] for ip's).
    pub fn new(groups: Groups) -> LinkNames {
        LinkNames {
            groups,
            ..LinkNames::default()
        }
    }

    /// Remembers a link's name and flags, e.g. for every link of a dump.
    pub fn remember(&mut self, link: &Link<'_>) {
        self.links
            .insert(link.index(), (link.name_lossy().into_owned(), link.flags()));
    }

    /// The name and flags of link `index`, asked of the kernel on `sock`
    /// when not remembered; `None` when the kernel does not know it either.
    pub fn link(&mut self, sock: &mut NetlinkSocket, index: u32) -> Option<(&str, LinkFlags)> {
        if !self.links.contains_key(&index) {
            let link = sock.link_by_index(index).ok()?;
            self.remember(&link);
        }
        self.links.get(&index).map(|(name, flags)| (name.as_str(), *flags))
    }

    /// The /run/netns name of the namespace `sock`'s namespace knows as
    /// `id` (read on first use); `None` when no name has that id.
    pub fn netns_name(&mut self, sock: &mut NetlinkSocket, id: i32) -> Option<&str> {
        let by_id = self.netns_by_id.get_or_insert_with(|| sock.netns_names_by_id());
        by_id.iter().find(|(i, _)| *i == id).map(|(_, name)| name.as_str())
    }

    /// The group names.
    pub fn groups(&self) -> &Groups {
        &self.groups
    }
}

/// What follows the name after `@` (print_name_and_link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkPeer {
    /// No IFLA_LINK: nothing.
    Absent,
    /// IFLA_LINK is 0: `@NONE` (`"link": null` in JSON).
    Zero,
    /// The lower or peer link in this namespace, by name (`if%u` when
    /// it could not be found), and whether it is down (`M-DOWN`).
    Local {
        /// Its name.
        name: String,
        /// Not administratively up.
        down: bool,
    },
    /// The peer in another namespace (IFLA_LINK_NETNSID is present): its
    /// index there, `@if5` (`"link_index": 5` in JSON).
    OtherNetns {
        /// Its index in its own namespace.
        index: u32,
    },
}

/// The namespace of the lower or peer link, as the text form names it
/// after `link-netns` / `link-netnsid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkNetns {
    /// A /run/netns name: ` link-netns NAME`.
    Named(String),
    /// An id no /run/netns name has: ` link-netnsid ID`; a negative id is
    /// ` link-netnsid unknown`.
    Id(i32),
}

/// One link as `ip link show` prints it (print_linkinfo): the link plus
/// what ip looks up elsewhere (peer, master, group and namespace names).
/// `Display` writes the text entry, every line ending in a newline; with
/// the `serde` feature it serializes as ip's `-j` object.
#[derive(Debug, Clone)]
pub struct LinkShow<'a> {
    /// The link.
    pub link: &'a Link<'a>,
    /// The `@peer` part.
    pub peer: LinkPeer,
    /// The master device's name (`if%u` when it could not be found).
    pub master: Option<String>,
    /// The device group's name.
    pub group: Option<String>,
    /// The peer's namespace (IFLA_LINK_NETNSID).
    pub link_netns: Option<LinkNetns>,
    /// The counters to show: none for `ip link`, `-s`, `-s -s`.
    pub stats: Option<StatsLevel>,
}

impl<'a> LinkShow<'a> {
    /// Looks up what `link`'s entry names (peer, master, group, namespace)
    /// in `names`, asking the kernel on `sock` for what is not cached.
    pub fn resolve(
        link: &'a Link<'a>,
        names: &mut LinkNames,
        sock: &mut NetlinkSocket,
        stats: Option<StatsLevel>,
    ) -> LinkShow<'a> {
        let name_or_index = |found: Option<(&str, LinkFlags)>, index: u32| match found {
            Some((name, flags)) => (name.to_owned(), flags),
            // ll_index_to_name's fallback; the flags of an unknown link are
            // 0, so it counts as down.
            None => (format!("if{index}"), LinkFlags::empty()),
        };
        let peer = match (link.attr(IFLA_LINK).is_some(), link.link().unwrap_or(0)) {
            (false, _) => LinkPeer::Absent,
            (true, 0) => LinkPeer::Zero,
            (true, index) if link.link_netnsid().is_some() => LinkPeer::OtherNetns { index },
            (true, index) => {
                let (name, flags) = name_or_index(names.link(sock, index), index);
                LinkPeer::Local {
                    name,
                    down: !flags.contains(LinkFlags::UP),
                }
            }
        };
        let master = link
            .master()
            .map(|index| name_or_index(names.link(sock, index), index).0);
        let group = link.group().map(|id| {
            LinkGroupDisplay {
                id,
                groups: names.groups(),
            }
            .to_string()
        });
        let link_netns = link.link_netnsid().map(|id| match names.netns_name(sock, id) {
            Some(name) if id >= 0 => LinkNetns::Named(name.to_owned()),
            _ => LinkNetns::Id(id),
        });
        LinkShow {
            link,
            peer,
            master,
            group,
            link_netns,
            stats,
        }
    }

    /// The flag list, with `M-DOWN` when the local peer is down.
    pub fn flags(&self) -> LinkFlagsDisplay {
        LinkFlagsDisplay {
            flags: self.link.flags(),
            lower_down: matches!(self.peer, LinkPeer::Local { down: true, .. }),
        }
    }

    /// A hardware address of this link, formatted for its device type.
    pub fn hw_addr(&self, bytes: &'a [u8]) -> HwAddr<'a> {
        HwAddr {
            bytes,
            link_type: self.link.link_type(),
        }
    }

    /// IFLA_PERM_ADDRESS when it differs from IFLA_ADDRESS (ip shows it
    /// only then).
    pub fn perm_address(&self) -> Option<&'a [u8]> {
        self.link
            .perm_address()
            .filter(|perm| self.link.address() != Some(*perm))
    }

    /// The first line after the flag list: `mtu 1500 qdisc noqueue master
    /// br0 state UP mode DEFAULT group default qlen 1000`. Every piece ends
    /// in a space except `qlen` and an unnamed state, as in ip.
    fn write_attributes(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.link;
        if let Some(mtu) = l.mtu() {
            write!(f, "mtu {mtu} ")?;
        }
        if let Some(qdisc) = l.qdisc() {
            write!(f, "qdisc {qdisc} ")?;
        }
        if let Some(master) = &self.master {
            write!(f, "master {master} ")?;
        }
        match l.operstate() {
            Some(state @ OperState::Other(_)) => write!(f, "state {state}")?,
            Some(state) => write!(f, "state {state} ")?,
            None => {}
        }
        match l.link_mode().map(|mode| (mode, link_mode_name(mode))) {
            Some((_, Some(name))) => write!(f, "mode {name} ")?,
            Some((mode, None)) => write!(f, "mode {mode} ")?,
            None => {}
        }
        if let Some(group) = &self.group {
            write!(f, "group {group} ")?;
        }
        // ip prints no qlen for a queue length of 0 (print_queuelen).
        if let Some(qlen) = l.txqlen().filter(|&q| q != 0) {
            write!(f, "qlen {qlen}")?;
        }
        Ok(())
    }

    /// The second line: `    link/ether ADDR brd ADDR permaddr ADDR
    /// link-netns NAME protodown on `.
    fn write_link_layer(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.link;
        write!(f, "    link/{} ", LinkTypeDisplay(l.link_type()))?;
        if let Some(address) = l.address() {
            write!(f, "{}", self.hw_addr(address))?;
        }
        if let Some(broadcast) = l.broadcast() {
            // On a point-to-point link IFLA_BROADCAST is the peer's address.
            let word = if l.flags().contains(LinkFlags::POINTOPOINT) {
                "peer"
            } else {
                "brd"
            };
            write!(f, " {word} {}", self.hw_addr(broadcast))?;
        }
        if let Some(perm) = self.perm_address() {
            write!(f, " permaddr {}", self.hw_addr(perm))?;
        }
        match &self.link_netns {
            Some(LinkNetns::Named(name)) => write!(f, " link-netns {name}")?,
            Some(LinkNetns::Id(id)) if *id >= 0 => write!(f, " link-netnsid {id}")?,
            Some(LinkNetns::Id(_)) => f.write_str(" link-netnsid unknown")?,
            None => {}
        }
        if l.proto_down() == Some(true) {
            f.write_str(" protodown on ")?;
        }
        Ok(())
    }
}

impl fmt::Display for LinkShow<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = self.link;
        if l.msg_kind() == RTM_DELLINK {
            f.write_str("Deleted ")?;
        }
        write!(f, "{}: {}", l.index(), l.name_lossy())?;
        match &self.peer {
            LinkPeer::Absent => {}
            LinkPeer::Zero => f.write_str("@NONE")?,
            LinkPeer::Local { name, .. } => write!(f, "@{name}")?,
            LinkPeer::OtherNetns { index } => write!(f, "@if{index}")?,
        }
        write!(f, ": {} ", self.flags())?;
        self.write_attributes(f)?;
        f.write_str("\n")?;
        self.write_link_layer(f)?;
        if let Some(alias) = l.alias() {
            write!(f, "\n    alias {alias}")?;
        }
        if let Some(level) = self.stats {
            // ip starts the line even when the kernel sent no counters.
            f.write_str("\n")?;
            if let Some(stats) = l.stats64() {
                let block = LinkStatsBlock {
                    stats: &stats,
                    carrier_changes: l.carrier_changes(),
                    level,
                };
                write!(f, "{block}")?;
            }
        }
        for altname in l.altnames() {
            write!(f, "\n    altname {altname}")?;
        }
        f.write_str("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_list_as_ip_prints_it() {
        let show = |flags: LinkFlags, lower_down| LinkFlagsDisplay { flags, lower_down }.to_string();
        let up = LinkFlags::UP | LinkFlags::RUNNING | LinkFlags::LOWER_UP;
        assert_eq!(
            show(LinkFlags::BROADCAST | LinkFlags::MULTICAST | up, false),
            "<BROADCAST,MULTICAST,UP,LOWER_UP>"
        );
        assert_eq!(
            show(LinkFlags::UP | LinkFlags::BROADCAST, false),
            "<NO-CARRIER,BROADCAST,UP>"
        );
        assert_eq!(show(LinkFlags::BROADCAST, true), "<BROADCAST,M-DOWN>");
        assert_eq!(show(LinkFlags::empty(), true), "<,M-DOWN>");
        assert_eq!(show(LinkFlags::empty(), false), "<>");
        assert_eq!(
            show(LinkFlags::from_bits_retain(0x1 | 0x80000), false),
            "<NO-CARRIER,UP,80000>"
        );
    }

    #[test]
    fn states_modes_types_and_groups() {
        assert_eq!(OperState::LowerLayerDown.to_string(), "LOWERLAYERDOWN");
        assert_eq!(OperState::Other(7).to_string(), "0x7");
        assert_eq!(link_mode_name(1), Some("DORMANT"));
        assert_eq!(link_mode_name(9), None);
        assert_eq!(LinkTypeDisplay(772).to_string(), "loopback");
        assert_eq!(LinkTypeDisplay(4242).to_string(), "[4242]");
        let groups = Groups::parse("5 five\n");
        let group = |id| LinkGroupDisplay { id, groups: &groups }.to_string();
        assert_eq!(group(5), "five");
        assert_eq!(group(0), "default");
        assert_eq!(group(7), "7");
        assert_eq!(group(u32::MAX), "-1");
    }

    /// The counter block for a few non-zero counters, one string a line.
    fn counter_block(level: StatsLevel) -> Vec<String> {
        let stats = LinkStats64 {
            rx_bytes: 12_345_678_901,
            rx_packets: 42,
            tx_bytes: 1_000,
            tx_packets: 10,
            rx_crc_errors: 3,
            tx_aborted_errors: 123_456_789,
            rx_nohandler: Some(5),
            rx_otherhost_dropped: Some(0),
            ..LinkStats64::default()
        };
        let block = LinkStatsBlock {
            stats: &stats,
            carrier_changes: Some(2),
            level,
        };
        block.to_string().split('\n').map(str::to_owned).collect()
    }

    #[test]
    fn counter_blocks_as_ip_prints_them() {
        assert_eq!(
            counter_block(StatsLevel::Counters),
            [
                "    RX:   bytes packets errors dropped  missed   mcast           ",
                "    12345678901      42      0       0       0       0 ",
                "    TX:   bytes packets errors dropped carrier collsns           ",
                "           1000      10      0       0       0       0 ",
            ]
        );
        // The TX error counters widen the column right of theirs (iproute2).
        assert_eq!(
            counter_block(StatsLevel::Errors),
            [
                "    RX:   bytes packets    errors dropped  missed   mcast           ",
                "    12345678901      42         0       0       0       0 ",
                "    RX errors:   length       crc   frame    fifo overrun  nohandler",
                "                      0         3       0       0       0          5 ",
                "    TX:   bytes packets    errors dropped carrier collsns           ",
                "           1000      10         0       0       0       0 ",
                "    TX errors:  aborted      fifo  window heartbt transns",
                "                123456789         0       0       0       2 ",
            ]
        );
    }
}
