//! Driver statistics of every interface of a namespace at once, and a
//! poller that turns two reads into per-second deltas.
//!
//! The interfaces are listed once with an rtnetlink dump (RTM_GETLINK);
//! each interface's names (ETHTOOL_GSTRINGS) are read on its first poll and
//! kept, so a later poll costs one ETHTOOL_GSTATS ioctl per interface. The
//! kernel returns the driver's current count with the values
//! (net/ethtool/ioctl.c, `ethtool_get_stats`): when it no longer matches the
//! cached names, the names are read again and that interface's rates start
//! over. Values and the kernel's answer area (guarded, see [`crate::ioctl`])
//! are reused across polls.

use std::time::Instant;

use netobs_core::{NetlinkSocket, Netns, Protocol};

use crate::{Error, Ethtool, Result, StatsKind, StringSet, StringSetId};

/// The driver statistics of one interface as of the last poll.
#[derive(Debug, Clone)]
pub struct IfaceStats {
    /// Interface index.
    pub ifindex: u32,
    /// Interface name.
    pub ifname: String,
    /// Counter names in driver order (read once, re-read when the driver's
    /// count changes). Empty for devices without driver statistics (lo).
    pub names: StringSet,
    /// Values of the last poll, one per name.
    pub values: Vec<u64>,
    prev: Vec<u64>,
    /// Per-second change of each counter between the last two polls;
    /// empty after the first read or after the names changed.
    pub per_sec: Vec<f64>,
    /// The interface vanished or refused the last read (its last error).
    pub error: Option<String>,
    names_read: bool,
}

impl IfaceStats {
    /// `(name, value)` pairs in driver order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.names.names().zip(self.values.iter().copied())
    }

    /// `(name, per-second delta)` pairs; empty until two polls were made.
    pub fn rates(&self) -> impl Iterator<Item = (&str, f64)> {
        self.names.names().zip(self.per_sec.iter().copied())
    }
}

/// Polls the driver statistics of every interface of one namespace.
#[derive(Debug)]
pub struct StatsPoller {
    eth: Ethtool,
    rtnl: NetlinkSocket,
    ifaces: Vec<IfaceStats>,
    last: Option<Instant>,
}

impl StatsPoller {
    /// A poller of the caller's namespace, with its interface list read.
    pub fn open() -> Result<Self> {
        let mut p = StatsPoller {
            eth: Ethtool::open()?,
            rtnl: NetlinkSocket::open(Protocol::Route)?,
            ifaces: Vec::new(),
            last: None,
        };
        p.refresh_interfaces()?;
        Ok(p)
    }

    /// A poller of `netns`; its sockets live in that namespace, the
    /// caller's thread does not move.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::open)?
    }

    /// Lists the namespace's interfaces again (RTM_GETLINK dump): new ones
    /// are added, gone ones dropped; known ones keep their cached names.
    pub fn refresh_interfaces(&mut self) -> Result<()> {
        let mut now: Vec<(u32, String)> = Vec::new();
        netobs_core::socket::retry_interrupted(|| {
            now.clear();
            self.rtnl.for_each_link(|l| {
                if let Some(name) = l.name() {
                    now.push((l.index(), name.to_owned()));
                }
            })
        })?;
        let mut old = std::mem::take(&mut self.ifaces);
        for (ifindex, ifname) in now {
            match old.iter().position(|i| i.ifindex == ifindex && i.ifname == ifname) {
                Some(k) => self.ifaces.push(old.swap_remove(k)),
                None => self.ifaces.push(IfaceStats {
                    ifindex,
                    ifname,
                    names: StringSet::default(),
                    values: Vec::new(),
                    prev: Vec::new(),
                    per_sec: Vec::new(),
                    error: None,
                    names_read: false,
                }),
            }
        }
        Ok(())
    }

    /// Reads every interface's counters (names on first sight) and the
    /// per-second deltas since the previous poll. An interface that fails
    /// (vanished, EOPNOTSUPP) keeps its error in [`IfaceStats::error`]; the
    /// others are still read.
    pub fn poll(&mut self) -> Result<&[IfaceStats]> {
        let now = Instant::now();
        let dt = self.last.map(|t| now.duration_since(t).as_secs_f64());
        self.last = Some(now);
        for i in &mut self.ifaces {
            std::mem::swap(&mut i.prev, &mut i.values);
            i.error = None;
            if let Err(e) = read_one(&self.eth, i) {
                i.error = Some(e.to_string());
                i.values.clear();
            }
            i.per_sec.clear();
            if let Some(dt) = dt.filter(|&d| d > 0.0) {
                if i.prev.len() == i.values.len() {
                    i.per_sec.extend(
                        i.values
                            .iter()
                            .zip(&i.prev)
                            .map(|(&v, &p)| v.wrapping_sub(p) as i64 as f64 / dt),
                    );
                }
            }
        }
        Ok(&self.ifaces)
    }

    /// The interfaces as of the last poll.
    pub fn interfaces(&self) -> &[IfaceStats] {
        &self.ifaces
    }
}

/// Reads one interface's values, reading its names first when they are not
/// cached or the driver's count moved. A count change empties `prev`, so no
/// rate is computed across different name lists.
fn read_one(eth: &Ethtool, i: &mut IfaceStats) -> Result<()> {
    if !i.names_read {
        i.names = eth.string_set(&i.ifname, StringSetId::Stats)?;
        i.names_read = true;
    }
    if i.names.is_empty() {
        i.values.clear();
        return Ok(());
    }
    for _ in 0..3 {
        match eth.read_values(&i.ifname, StatsKind::Driver, &i.names, &mut i.values) {
            Err(Error::Unstable(_)) => {
                i.names = eth.string_set(&i.ifname, StringSetId::Stats)?;
                i.prev.clear();
            }
            other => return other,
        }
    }
    Err(Error::Unstable(i.ifname.clone()))
}

/// Driver statistics of every interface of `netns` (or of the caller's
/// namespace for `None`) in one call: names and values per interface.
pub fn all_stats(netns: Option<&Netns>) -> Result<Vec<IfaceStats>> {
    let mut p = match netns {
        Some(ns) => StatsPoller::open_in(ns)?,
        None => StatsPoller::open()?,
    };
    p.poll()?;
    Ok(p.ifaces)
}
