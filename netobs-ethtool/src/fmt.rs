//! What `ethtool` 6.1 prints: `Display` adapters over this crate's records,
//! one per block of output, byte for byte as ethtool lays it out.
//!
//! | option | adapter | ethtool source |
//! |---|---|---|
//! | `-S` | [`DriverStatsDisplay`] | ethtool.c, `do_gstats` |
//! | `-S --groups`, `--all-groups` | [`StdStatsDisplay`] | netlink/stats.c |
//! | `-i` | [`DriverInfoDisplay`] | ethtool.c, `dump_drvinfo` |
//! | `-g` | [`RingsDisplay`] | netlink/rings.c |
//! | `-l` | [`ChannelsDisplay`] | netlink/channels.c |
//! | `-c` | [`CoalesceDisplay`] | netlink/coalesce.c |
//! | `-a`, `-I -a` | [`PauseDisplay`] | netlink/pause.c |
//! | `-k` | [`FeaturesDisplay`] | netlink/features.c, `off_flag_def` in common.c |
//!
//! Each adapter names the device it shows. The knowledge behind the text
//! is public too: ethtool's feature groups ([`FEATURE_GROUPS`],
//! [`FeaturesDisplay::lines`]), its labels and order ([`ring_kinds`],
//! [`channel_kinds`], [`CoalesceDisplay::blocks`], ...).
//!
//! With the `serde` feature each adapter also implements `Serialize` as
//! its device's object of `ethtool --json`: for `-a`, `-k` and the
//! standard groups the object ethtool 6.1 writes; for the others, which
//! ethtool 6.1 answers only in text, an object of ours with ethtool's
//! names. `write_json` lays the objects out as ethtool's json_writer does.

use std::fmt::{self, Display, Formatter};

use crate::netlink::{Bucket, Channels, Coalesce, Feature, Features, Pause, PauseNegotiated, Rings, StdStats};
use crate::{DriverInfo, DriverStats, StatsKind};

#[cfg(feature = "serde")]
mod json;
#[cfg(feature = "serde")]
pub use json::{write_json, JsonWriterFormatter};

/// A `u32` the kernel may leave out, shown as ethtool's `show_u32` shows it
/// (netlink/netlink.h): the number, or `n/a`.
struct OrNa(Option<u32>);

impl Display for OrNa {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => write!(f, "{v}"),
            None => f.write_str("n/a"),
        }
    }
}

/// A flag the kernel may leave out, as ethtool's `u8_to_bool`
/// (netlink/netlink.h): `on`, `off` or `n/a`.
fn on_off(v: Option<bool>) -> &'static str {
    match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "n/a",
    }
}

/// `ethtool -S DEV` (and `--phy-statistics`) over the ioctl: a heading,
/// then every counter in driver order, duplicates kept (ethtool.c,
/// `do_gstats`).
#[derive(Debug, Clone, Copy)]
pub struct DriverStatsDisplay<'a> {
    /// Named in the JSON object only; ethtool's text does not.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    ifname: &'a str,
    kind: StatsKind,
    stats: &'a DriverStats,
}

impl<'a> DriverStatsDisplay<'a> {
    /// The statistics `stats` of `kind` read from `ifname`.
    pub fn new(ifname: &'a str, kind: StatsKind, stats: &'a DriverStats) -> Self {
        DriverStatsDisplay { ifname, kind, stats }
    }
}

impl Display for DriverStatsDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let heading = match self.kind {
            StatsKind::Driver => "NIC",
            StatsKind::Phy => "PHY",
        };
        writeln!(f, "{heading} statistics:")?;
        for (name, value) in self.stats.iter() {
            writeln!(f, "     {name}: {value}")?;
        }
        Ok(())
    }
}

/// `ethtool -i DEV`: `struct ethtool_drvinfo` as `label: value` lines, the
/// counts said as `yes`/`no` (ethtool.c, `dump_drvinfo`).
#[derive(Debug, Clone, Copy)]
pub struct DriverInfoDisplay<'a> {
    /// Named in the JSON object only; ethtool's text does not.
    #[cfg_attr(not(feature = "serde"), allow(dead_code))]
    ifname: &'a str,
    info: &'a DriverInfo,
}

impl<'a> DriverInfoDisplay<'a> {
    /// The driver information `info` of `ifname`.
    pub fn new(ifname: &'a str, info: &'a DriverInfo) -> Self {
        DriverInfoDisplay { ifname, info }
    }

    /// The lines in ethtool's order: (label, value).
    pub fn fields(&self) -> [(&'static str, &'a str); 10] {
        let d = self.info;
        let yes_no = |n: u32| if n != 0 { "yes" } else { "no" };
        [
            ("driver", d.driver.as_str()),
            ("version", d.version.as_str()),
            ("firmware-version", d.fw_version.as_str()),
            ("expansion-rom-version", d.erom_version.as_str()),
            ("bus-info", d.bus_info.as_str()),
            ("supports-statistics", yes_no(d.n_stats)),
            ("supports-test", yes_no(d.testinfo_len)),
            ("supports-eeprom-access", yes_no(d.eedump_len)),
            ("supports-register-dump", yes_no(d.regdump_len)),
            ("supports-priv-flags", yes_no(d.n_priv_flags)),
        ]
    }
}

impl Display for DriverInfoDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (label, value) in self.fields() {
            writeln!(f, "{label}: {value}")?;
        }
        Ok(())
    }
}

/// One kind of ring (`-g`) or channel (`-l`): ethtool shows its maximum
/// under "Pre-set maximums:" and its size under "Current hardware
/// settings:", both after the same label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxAndCurrent {
    /// Label, with ethtool's tabs ("RX Mini:\t").
    pub label: &'static str,
    /// JSON key of the current size; the maximum's adds `-max`.
    pub key: &'static str,
    /// Maximum; `None` when the kernel did not send it.
    pub max: Option<u32>,
    /// Current size; `None` when the kernel did not send it.
    pub current: Option<u32>,
}

fn max_and_current(label: &'static str, key: &'static str, max: Option<u32>, current: Option<u32>) -> MaxAndCurrent {
    MaxAndCurrent {
        label,
        key,
        max,
        current,
    }
}

/// The rings of `-g` in ethtool's order.
pub fn ring_kinds(r: &Rings) -> [MaxAndCurrent; 4] {
    [
        max_and_current("RX:\t\t", "rx", r.rx_max, r.rx),
        max_and_current("RX Mini:\t", "rx-mini", r.rx_mini_max, r.rx_mini),
        max_and_current("RX Jumbo:\t", "rx-jumbo", r.rx_jumbo_max, r.rx_jumbo),
        max_and_current("TX:\t\t", "tx", r.tx_max, r.tx),
    ]
}

/// The kinds of channel of `-l` in ethtool's order.
pub fn channel_kinds(c: &Channels) -> [MaxAndCurrent; 4] {
    [
        max_and_current("RX:\t\t", "rx", c.rx_max, c.rx),
        max_and_current("TX:\t\t", "tx", c.tx_max, c.tx),
        max_and_current("Other:\t\t", "other", c.other_max, c.other),
        max_and_current("Combined:\t", "combined", c.combined_max, c.combined),
    ]
}

/// The two blocks `-g` and `-l` share: the maximums, then the current sizes.
fn write_max_and_current(f: &mut Formatter<'_>, kinds: &[MaxAndCurrent]) -> fmt::Result {
    writeln!(f, "Pre-set maximums:")?;
    for k in kinds {
        writeln!(f, "{}{}", k.label, OrNa(k.max))?;
    }
    writeln!(f, "Current hardware settings:")?;
    for k in kinds {
        writeln!(f, "{}{}", k.label, OrNa(k.current))?;
    }
    Ok(())
}

/// `ethtool -g DEV`: ring sizes, maximums then current settings, then the
/// buffer sizes and flags (netlink/rings.c, `rings_reply_cb`).
#[derive(Debug, Clone, Copy)]
pub struct RingsDisplay<'a> {
    ifname: &'a str,
    rings: &'a Rings,
}

impl<'a> RingsDisplay<'a> {
    /// The ring sizes `rings` of `ifname`.
    pub fn new(ifname: &'a str, rings: &'a Rings) -> Self {
        RingsDisplay { ifname, rings }
    }

    /// The buffer sizes after the rings: (label with its tabs, JSON key,
    /// value).
    pub fn buffers(&self) -> [(&'static str, &'static str, Option<u32>); 2] {
        [
            ("RX Buf Len:\t\t", "rx-buf-len", self.rings.rx_buf_len),
            ("CQE Size:\t\t", "cqe-size", self.rings.cqe_size),
        ]
    }
}

impl Display for RingsDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "Ring parameters for {}:", self.ifname)?;
        write_max_and_current(f, &ring_kinds(self.rings))?;
        for (label, _, value) in self.buffers() {
            writeln!(f, "{label}{}", OrNa(value))?;
        }
        writeln!(f, "TX Push:\t{}", on_off(self.rings.tx_push))?;
        // ETHTOOL_TCP_DATA_SPLIT_{UNKNOWN,DISABLED,ENABLED}; an absent
        // attribute reads as UNKNOWN.
        match self.rings.tcp_data_split.unwrap_or(0) {
            0 => writeln!(f, "TCP data split:\tn/a"),
            1 => writeln!(f, "TCP data split:\toff"),
            2 => writeln!(f, "TCP data split:\ton"),
            other => writeln!(f, "TCP data split:\tunknown({other})"),
        }
    }
}

/// `ethtool -l DEV`: queue counts, maximums then current settings
/// (netlink/channels.c, `channels_reply_cb`).
#[derive(Debug, Clone, Copy)]
pub struct ChannelsDisplay<'a> {
    ifname: &'a str,
    channels: &'a Channels,
}

impl<'a> ChannelsDisplay<'a> {
    /// The channel counts `channels` of `ifname`.
    pub fn new(ifname: &'a str, channels: &'a Channels) -> Self {
        ChannelsDisplay { ifname, channels }
    }
}

impl Display for ChannelsDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "Channel parameters for {}:", self.ifname)?;
        write_max_and_current(f, &channel_kinds(self.channels))
    }
}

/// `ethtool -c DEV`: interrupt coalescing (netlink/coalesce.c,
/// `coalesce_reply_cb`): the adaptive flags, five blocks of parameters
/// each closed by a blank line, the CQE mode flags and a blank line.
#[derive(Debug, Clone, Copy)]
pub struct CoalesceDisplay<'a> {
    ifname: &'a str,
    coalesce: &'a Coalesce,
}

impl<'a> CoalesceDisplay<'a> {
    /// The coalescing parameters `coalesce` of `ifname`.
    pub fn new(ifname: &'a str, coalesce: &'a Coalesce) -> Self {
        CoalesceDisplay { ifname, coalesce }
    }

    /// The `u32` parameters in ethtool's blocks and order: (label, value).
    /// The label is also the JSON key.
    pub fn blocks(&self) -> [[(&'static str, Option<u32>); 4]; 5] {
        let c = self.coalesce;
        // One row per block, as in COALESCE_LABELS.
        #[rustfmt::skip]
        let values = [
            [c.stats_block_usecs, c.rate_sample_interval, c.pkt_rate_low, c.pkt_rate_high],
            [c.rx_usecs, c.rx_max_frames, c.rx_usecs_irq, c.rx_max_frames_irq],
            [c.tx_usecs, c.tx_max_frames, c.tx_usecs_irq, c.tx_max_frames_irq],
            [c.rx_usecs_low, c.rx_max_frames_low, c.tx_usecs_low, c.tx_max_frames_low],
            [c.rx_usecs_high, c.rx_max_frames_high, c.tx_usecs_high, c.tx_max_frames_high],
        ];
        std::array::from_fn(|b| std::array::from_fn(|i| (COALESCE_LABELS[b][i], values[b][i])))
    }
}

/// The labels of `ethtool -c`'s five blocks of parameters
/// (coalesce_reply_cb). Note `rx-frame-low` and the like, without the `s`
/// of `rx-frames`.
const COALESCE_LABELS: [[&str; 4]; 5] = [
    ["stats-block-usecs", "sample-interval", "pkt-rate-low", "pkt-rate-high"],
    ["rx-usecs", "rx-frames", "rx-usecs-irq", "rx-frames-irq"],
    ["tx-usecs", "tx-frames", "tx-usecs-irq", "tx-frames-irq"],
    ["rx-usecs-low", "rx-frame-low", "tx-usecs-low", "tx-frame-low"],
    ["rx-usecs-high", "rx-frame-high", "tx-usecs-high", "tx-frame-high"],
];

impl Display for CoalesceDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let c = self.coalesce;
        writeln!(f, "Coalesce parameters for {}:", self.ifname)?;
        let (rx, tx) = (on_off(c.use_adaptive_rx), on_off(c.use_adaptive_tx));
        writeln!(f, "Adaptive RX: {rx}  TX: {tx}")?;
        for block in self.blocks() {
            for (label, value) in block {
                writeln!(f, "{label}: {}", OrNa(value))?;
            }
            writeln!(f)?;
        }
        let (rx, tx) = (on_off(c.use_cqe_mode_rx), on_off(c.use_cqe_mode_tx));
        writeln!(f, "CQE mode RX: {rx}  TX: {tx}\n")
    }
}

/// `ethtool -a DEV` and `ethtool -I -a DEV`: pause frame settings
/// (netlink/pause.c, `pause_reply_cb`), the directions autonegotiation
/// resolved when it is on, the pause frame counters the driver keeps when
/// they were asked for, and a blank line.
#[derive(Debug, Clone, Copy)]
pub struct PauseDisplay<'a> {
    ifname: &'a str,
    pause: &'a Pause,
    negotiated: Option<PauseNegotiated>,
}

impl<'a> PauseDisplay<'a> {
    /// The pause settings `pause` of `ifname`, with what autonegotiation
    /// resolved (from [`EthtoolNetlink::pause_negotiated`]).
    ///
    /// [`EthtoolNetlink::pause_negotiated`]: crate::netlink::EthtoolNetlink::pause_negotiated
    pub fn new(ifname: &'a str, pause: &'a Pause, negotiated: Option<PauseNegotiated>) -> Self {
        PauseDisplay {
            ifname,
            pause,
            negotiated,
        }
    }

    /// The pause frame counters the kernel sent, under ethtool's names.
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, u64)> {
        let p = self.pause;
        [
            ("tx_pause_frames", p.tx_pause_frames),
            ("rx_pause_frames", p.rx_pause_frames),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }
}

impl Display for PauseDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let p = self.pause;
        writeln!(f, "Pause parameters for {}:", self.ifname)?;
        writeln!(f, "Autonegotiate:\t{}", on_off(p.autoneg))?;
        writeln!(f, "RX:\t\t{}", on_off(p.rx))?;
        writeln!(f, "TX:\t\t{}", on_off(p.tx))?;
        if let Some(n) = self.negotiated {
            writeln!(f, "RX negotiated: {}", on_off(Some(n.rx)))?;
            writeln!(f, "TX negotiated: {}", on_off(Some(n.tx)))?;
        }
        // The heading only above a counter (show_pause_stats).
        for (i, (name, value)) in self.counters().enumerate() {
            if i == 0 {
                writeln!(f, "Statistics:")?;
            }
            writeln!(f, "  {name}: {value}")?;
        }
        writeln!(f)
    }
}

/// The kernel feature names a [`FeatureGroup`] stands for. ethtool writes
/// them as patterns with at most one `*` (`tx-tcp*-segmentation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeaturePattern {
    /// Exactly this name.
    Exact(&'static str),
    /// `head*tail`: names that start with `head` and end with `tail`, the
    /// two not overlapping (ethtool's `flag_pattern_match`,
    /// netlink/features.c).
    Wildcard(&'static str, &'static str),
}

impl FeaturePattern {
    /// Whether kernel feature `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        match *self {
            FeaturePattern::Exact(exact) => name == exact,
            FeaturePattern::Wildcard(head, tail) => {
                name.len() >= head.len() + tail.len() && name.starts_with(head) && name.ends_with(tail)
            }
        }
    }
}

/// As ethtool writes it: `tx-tcp*-segmentation`.
impl Display for FeaturePattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            FeaturePattern::Exact(exact) => f.write_str(exact),
            FeaturePattern::Wildcard(head, tail) => write!(f, "{head}*{tail}"),
        }
    }
}

/// One of ethtool's legacy offload flags (`off_flag_def` in common.c): a
/// name from before netdev features had names of their own, standing for
/// the kernel features its pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureGroup {
    /// Short name of `ethtool -K` ("sg").
    pub short_name: &'static str,
    /// Long name, shown by `ethtool -k` ("scatter-gather").
    pub long_name: &'static str,
    /// Kernel feature names it stands for.
    pub pattern: FeaturePattern,
}

impl FeatureGroup {
    /// Whether kernel feature `name` falls under this group.
    pub fn matches(&self, name: &str) -> bool {
        self.pattern.matches(name)
    }

    /// Whether `ethtool -k` over netlink shows the group: not UFO, which
    /// "no kernel with netlink interface supports" (netlink/features.c).
    pub fn shown(&self) -> bool {
        self.short_name != "ufo"
    }
}

const fn group(short_name: &'static str, long_name: &'static str, pattern: FeaturePattern) -> FeatureGroup {
    FeatureGroup {
        short_name,
        long_name,
        pattern,
    }
}

/// ethtool 6.1's legacy offload flags, in its order (`off_flag_def`,
/// common.c): short name, long name, kernel feature names.
pub const FEATURE_GROUPS: [FeatureGroup; 12] = {
    use FeaturePattern::{Exact, Wildcard};
    [
        group("rx", "rx-checksumming", Exact("rx-checksum")),
        group("tx", "tx-checksumming", Wildcard("tx-checksum-", "")),
        group("sg", "scatter-gather", Wildcard("tx-scatter-gather", "")),
        group("tso", "tcp-segmentation-offload", Wildcard("tx-tcp", "-segmentation")),
        group("ufo", "udp-fragmentation-offload", Exact("tx-udp-fragmentation")),
        group("gso", "generic-segmentation-offload", Exact("tx-generic-segmentation")),
        group("gro", "generic-receive-offload", Exact("rx-gro")),
        group("lro", "large-receive-offload", Exact("rx-lro")),
        group("rxvlan", "rx-vlan-offload", Exact("rx-vlan-hw-parse")),
        group("txvlan", "tx-vlan-offload", Exact("tx-vlan-hw-insert")),
        group("ntuple", "ntuple-filters", Exact("rx-ntuple-filter")),
        group("rxhash", "receive-hashing", Exact("rx-hashing")),
    ]
};

/// The group of [`FEATURE_GROUPS`] kernel feature `name` falls under, the
/// first that matches, as ethtool maps them; `None` for an empty name.
pub fn feature_group(name: &str) -> Option<&'static FeatureGroup> {
    if name.is_empty() {
        return None;
    }
    FEATURE_GROUPS.iter().find(|g| g.matches(name))
}

/// One line of `ethtool -k`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureLine<'a> {
    /// A group standing for several features, or for none: its long name
    /// and whether any of them is active. Its members follow, indented.
    Group {
        /// The group's long name.
        name: &'static str,
        /// Whether any member is active.
        active: bool,
    },
    /// One feature, shown under `name`: the long name of a group it is the
    /// only member of, else its own name, indented by a tab when it is one
    /// of a group's several members.
    Feature {
        /// The name shown.
        name: &'a str,
        /// Whether it is shown indented under its group.
        indented: bool,
        /// The feature.
        feature: Feature<'a>,
    },
}

/// `ethtool -k DEV`: the legacy groups first, each either as the line of
/// its only feature or as a summary line followed by its members, then
/// every other named feature in bit order (netlink/features.c,
/// `dump_features`). A feature is `on`/`off`, with `[fixed]` when it cannot
/// change, else `[requested on]`/`[requested off]` when the user asked for
/// the other state.
#[derive(Debug, Clone, Copy)]
pub struct FeaturesDisplay<'a> {
    ifname: &'a str,
    features: &'a Features,
}

impl<'a> FeaturesDisplay<'a> {
    /// The features `features` of `ifname`.
    pub fn new(ifname: &'a str, features: &'a Features) -> Self {
        FeaturesDisplay { ifname, features }
    }

    /// The lines in ethtool's order.
    pub fn lines(&self) -> Vec<FeatureLine<'a>> {
        let features: Vec<(Feature<'a>, Option<&'static FeatureGroup>)> =
            self.features.iter().map(|f| (f, feature_group(f.name))).collect();
        let mut lines = Vec::with_capacity(features.len() + FEATURE_GROUPS.len());
        for group in FEATURE_GROUPS.iter().filter(|g| g.shown()) {
            let members: Vec<Feature<'a>> = features
                .iter()
                .filter(|(_, g)| *g == Some(group))
                .map(|(f, _)| *f)
                .collect();
            if let [only] = members.as_slice() {
                lines.push(FeatureLine::Feature {
                    name: group.long_name,
                    indented: false,
                    feature: *only,
                });
                continue;
            }
            lines.push(FeatureLine::Group {
                name: group.long_name,
                active: members.iter().any(|f| f.active),
            });
            lines.extend(members.into_iter().map(|f| FeatureLine::Feature {
                name: f.name,
                indented: true,
                feature: f,
            }));
        }
        lines.extend(
            features
                .iter()
                .filter(|(f, g)| g.is_none() && !f.name.is_empty())
                .map(|(f, _)| FeatureLine::Feature {
                    name: f.name,
                    indented: false,
                    feature: *f,
                }),
        );
        lines
    }
}

/// The annotation after a feature's state (netlink/features.c, `dump_feature`).
fn feature_note(f: &Feature<'_>) -> &'static str {
    if f.fixed {
        " [fixed]"
    } else if f.active == f.wanted {
        ""
    } else if f.wanted {
        " [requested on]"
    } else {
        " [requested off]"
    }
}

impl Display for FeaturesDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "Features for {}:", self.ifname)?;
        for line in self.lines() {
            match line {
                FeatureLine::Group { name, active } => writeln!(f, "{name}: {}", on_off(Some(active)))?,
                FeatureLine::Feature {
                    name,
                    indented,
                    feature,
                } => {
                    let indent = if indented { "\t" } else { "" };
                    let (state, note) = (on_off(Some(feature.active)), feature_note(&feature));
                    writeln!(f, "{indent}{name}: {state}{note}")?;
                }
            }
        }
        Ok(())
    }
}

/// `ethtool -S DEV --all-groups` / `--groups G..`: the standard statistics
/// (netlink/stats.c): `group-counter: value` lines, counters without a
/// name left out, then the RMON frame-length histograms.
#[derive(Debug, Clone, Copy)]
pub struct StdStatsDisplay<'a> {
    ifname: &'a str,
    stats: &'a StdStats,
}

impl<'a> StdStatsDisplay<'a> {
    /// The standard statistics `stats` of `ifname`.
    pub fn new(ifname: &'a str, stats: &'a StdStats) -> Self {
        StdStatsDisplay { ifname, stats }
    }
}

/// A histogram bucket's name after `etherStatsPkts` (netlink/stats.c,
/// `parse_rmon_hist_one`): `64to127Octets`, `64Octets` for a bucket with
/// no lower bound, `1519toMaxOctets` for the open last one; `None` for a
/// bucket without bounds, which ethtool rejects as malformed.
fn bucket_name(b: &Bucket) -> Option<String> {
    match (b.low, b.high) {
        (0, 0) => None,
        (0, high) => Some(format!("{high}Octets")),
        (low, 0) => Some(format!("{low}toMaxOctets")),
        (low, high) => Some(format!("{low}to{high}Octets")),
    }
}

impl Display for StdStatsDisplay<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        writeln!(f, "Standard stats for {}:", self.ifname)?;
        for g in &self.stats.groups {
            for (name, value) in g.counters.iter().filter(|(n, _)| !n.is_empty()) {
                writeln!(f, "{}-{name}: {value}", g.name)?;
            }
            for (dir, hist) in [("rx", &g.hist_rx), ("tx", &g.hist_tx)] {
                for b in hist {
                    if let Some(bucket) = bucket_name(b) {
                        writeln!(f, "{dir}-{}-etherStatsPkts{bucket}: {}", g.name, b.value)?;
                    }
                }
            }
        }
        Ok(())
    }
}
