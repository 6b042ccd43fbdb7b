//! The layered triage: "at which layer are my packets lost?", answered by
//! one call, with evidence.
//!
//! [`diagnose`] watches a [`Target`] (namespaces, optionally one interface
//! or one port) for a window and walks the stack the way the seed articles
//! do by hand: socket queues and drops (ss), protocol counters (nstat),
//! per-CPU backlog drops (/proc/net/softnet_stat), qdisc counters (tc -s),
//! interface counters (ip -s link), driver counters (ethtool -S, and the
//! per-device queue statistics where the driver keeps them), and the
//! kernel's own drop points with their reasons (skb:kfree_skb, as
//! dropwatch). Counters are read at the start and the end of the window;
//! kernel drops are streamed during it.
//!
//! The kfree_skb tracepoint is host-wide and names no namespace or device,
//! so every drop is joined to the device its skb was last seen on
//! ([`netobs_trace::DropMonitor::enable_devices`]); only drops whose device
//! belongs to the target count, each with a [`Confidence`]; the others are
//! reported as unattributed and never change the verdict.
//!
//! ```no_run
//! use std::time::Duration;
//! use netobs::core::Netns;
//! use netobs::diagnose::{diagnose, Options, Target};
//!
//! let target = Target { namespaces: vec![Netns::named("server")], ..Target::default() };
//! let report = diagnose(&target, &Options { window: Duration::from_secs(5), ..Options::default() })?;
//! println!("{}: {}", report.verdict.layer, report.verdict.summary);
//! for e in &report.verdict.evidence {
//!     println!("  {e}");
//! }
//! # Ok::<(), netobs::core::Error>(())
//! ```

mod frames;
pub mod html;
pub mod layers;
mod sample;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use netobs_core::stop::Stop;
use netobs_core::{NetlinkSocket, Netns, Protocol};
use netobs_trace::{DropFilter, DropMonitor, Kallsyms, Tracefs};

pub use layers::Layer;

use sample::Snapshot;

/// What to watch.
#[derive(Debug, Default)]
pub struct Target {
    /// The namespaces (empty: the caller's own).
    pub namespaces: Vec<Netns>,
    /// Only this interface (by name, in any of the namespaces).
    pub interface: Option<String>,
    /// Only sockets with this local or remote port (socket evidence).
    pub port: Option<u16>,
}

impl Target {
    /// `ns1,ns2 dev IF port P` as the report names the target.
    pub fn describe(&self) -> String {
        let mut s = if self.namespaces.is_empty() {
            "this namespace".to_string()
        } else {
            self.namespaces.iter().map(netns_name).collect::<Vec<_>>().join(", ")
        };
        if let Some(i) = &self.interface {
            s.push_str(&format!(" dev {i}"));
        }
        if let Some(p) = self.port {
            s.push_str(&format!(" port {p}"));
        }
        s
    }
}

/// How to watch.
#[derive(Debug, Clone)]
pub struct Options {
    /// How long to watch (counters are read at its start and end).
    pub window: Duration,
    /// Ends the window early when tripped (from a signal handler or another thread).
    pub stop: Option<Stop>,
    /// Stream kernel drops (skb:kfree_skb) during the window.
    pub kernel_drops: bool,
    /// Name the frames behind UNHANDLED_PROTO drops (an eprobe on the skb
    /// where the kernel has eprobes, else a capture after the window).
    pub identify_frames: bool,
    /// How long the capture that names frames runs, when one is needed.
    pub capture_window: Duration,
    /// A device event older than this at the drop does not attribute it.
    pub max_trail_age: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            window: Duration::from_secs(5),
            stop: None,
            kernel_drops: true,
            identify_frames: true,
            capture_window: Duration::from_secs(1),
            max_trail_age: Duration::from_millis(200),
        }
    }
}

/// How sure an attribution to the target is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Confidence {
    /// A counter of the target's own namespace or device: no doubt.
    Certain,
    /// A kernel drop whose skb was last seen on a target device whose name
    /// no other known namespace uses.
    High,
    /// A kernel drop joined by a device name that other namespaces use too.
    Medium,
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Confidence::Certain => "certain",
            Confidence::High => "high",
            Confidence::Medium => "medium",
        })
    }
}

/// Where a piece of evidence comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Source {
    /// sock_diag socket records (ss).
    Sockets,
    /// /proc/net/snmp, netstat, snmp6 (nstat).
    Nstat,
    /// RTM_GETQDISC statistics (tc -s qdisc).
    Qdisc,
    /// Link counters (ip -s link).
    Link,
    /// Driver statistics (ethtool -S).
    Ethtool,
    /// Per-device queue statistics of drivers that keep them (the netdev
    /// generic-netlink family's QSTATS_GET, `ynl --dump qstats-get`).
    Qstats,
    /// skb:kfree_skb drops (dropwatch).
    Drops,
}

impl Source {
    /// The name used in reports (`nstat`, `ip -s link`).
    pub fn name(self) -> &'static str {
        match self {
            Source::Sockets => "ss",
            Source::Nstat => "nstat",
            Source::Qdisc => "tc -s qdisc",
            Source::Link => "ip -s link",
            Source::Ethtool => "ethtool -S",
            Source::Qstats => "netdev qstats",
            Source::Drops => "kfree_skb",
        }
    }
}

/// One observation that packets were lost.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Evidence {
    /// The layer it points at.
    pub layer: Layer,
    /// Where it was read.
    pub source: Source,
    /// The namespace.
    pub netns: String,
    /// What it is about: a device, a socket, a CPU, or empty for the namespace.
    pub subject: String,
    /// The counter or the kernel's drop reason (`rx_dropped`, `UdpRcvbufErrors`, `NO_SOCKET`).
    pub name: String,
    /// For kernel drops, the function that dropped (`__netif_receive_skb_core`).
    pub location: Option<String>,
    /// Packets lost during the window.
    pub delta: u64,
    /// How sure it concerns the target.
    pub confidence: Confidence,
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} +{}", self.source.name(), self.name, self.delta)?;
        if let Some(l) = &self.location {
            write!(f, " at {l}")?;
        }
        if !self.subject.is_empty() {
            write!(f, " on {}", self.subject)?;
        }
        if !self.netns.is_empty() {
            write!(f, " (netns {})", self.netns)?;
        }
        if self.confidence != Confidence::Certain {
            write!(f, " [{} confidence]", self.confidence)?;
        }
        Ok(())
    }
}

/// What one layer showed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct LayerReport {
    /// The layer.
    pub layer: Layer,
    /// Packets lost here: the largest delta among its evidence (several
    /// counters usually count the same packets).
    pub lost: u64,
    /// The evidence, largest first.
    pub evidence: Vec<Evidence>,
    /// What was seen here that is not a loss but explains one (a full
    /// accept queue, a receive queue at its buffer, sockets piling up in a state).
    pub observations: Vec<String>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Verdict {
    /// Where packets are lost (`none` when nowhere).
    pub layer: Layer,
    /// The kernel's drop reason, when it gave one.
    pub reason: Option<String>,
    /// One sentence: what is lost where, and the next thing to look at.
    pub summary: String,
    /// The evidence of that layer.
    pub evidence: Vec<Evidence>,
}

/// Frames the kernel dropped as UNHANDLED_PROTO, by sender and EtherType.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FrameGroup {
    /// The device they arrived on.
    pub device: String,
    /// Source MAC address (`aa:bb:cc:dd:ee:ff`).
    pub source: String,
    /// The EtherType (or 802.3 length) field.
    pub ethertype: u16,
    /// Frames seen.
    pub count: u64,
}

/// Kernel drops that could not be tied to the target, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Unattributed {
    /// All of them.
    pub total: u64,
    /// By reason, most first.
    pub by_reason: Vec<(String, u64)>,
}

/// What [`diagnose`] found.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Report {
    /// The target as words.
    pub target: String,
    /// How long it watched, seconds.
    pub seconds: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Every layer from the driver up, with its evidence.
    pub layers: Vec<LayerReport>,
    /// The frames behind UNHANDLED_PROTO drops, when named.
    pub frames: Vec<FrameGroup>,
    /// How the frames were named, or why they could not be.
    pub frames_note: Option<String>,
    /// Host-wide drops that were not the target's.
    pub unattributed: Unattributed,
    /// Sources that were not available on this kernel or to this user, with
    /// the reason (the verdict was reached without them).
    pub missing: Vec<String>,
    /// Kernel events lost by the ring reader (counts may be short by this).
    pub events_lost: u64,
    /// Whether the window was cut short by the stop handle (Ctrl-C).
    pub interrupted: bool,
}

impl Report {
    /// The report of one layer.
    pub fn layer(&self, layer: Layer) -> Option<&LayerReport> {
        self.layers.iter().find(|l| l.layer == layer)
    }
}

pub(crate) fn netns_name(n: &Netns) -> String {
    match n {
        Netns::Current => String::new(),
        Netns::Path(p) => match p.strip_prefix("/run/netns") {
            Ok(name) => name.display().to_string(),
            Err(_) => p.display().to_string(),
        },
        Netns::Fd(fd) => format!("fd {}", std::os::fd::AsRawFd::as_raw_fd(fd)),
    }
}

/// The identity of a namespace: its nsfs file's device and inode.
fn netns_id(n: &Netns) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let path = match n {
        Netns::Current => std::path::PathBuf::from("/proc/thread-self/ns/net"),
        Netns::Path(p) => p.clone(),
        Netns::Fd(fd) => format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(fd)).into(),
    };
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// How many namespaces this process can enumerate (/run/netns, its own,
/// and the targets) have a device of each name, and whether that covers
/// every namespace the targets could share names with: a target found
/// only by a path elsewhere (a container's /proc/PID/ns/net) says that
/// namespaces exist which /run/netns does not list.
fn known_device_names(targets: &[&Netns]) -> (HashMap<String, usize>, bool) {
    let mut spaces: Vec<Netns> = vec![Netns::Current];
    if let Ok(dir) = std::fs::read_dir("/run/netns") {
        for e in dir.flatten() {
            spaces.push(Netns::Path(e.path()));
        }
    }
    let listed: Vec<(u64, u64)> = spaces.iter().filter_map(netns_id).collect();
    let complete = targets
        .iter()
        .all(|t| netns_id(t).is_some_and(|id| listed.contains(&id)));
    let mut seen = Vec::new();
    let mut count: HashMap<String, usize> = HashMap::new();
    for ns in spaces.iter().chain(targets.iter().copied()) {
        let Some(id) = netns_id(ns) else { continue };
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        if let Ok(mut sock) = NetlinkSocket::open_in(Protocol::Route, ns) {
            if let Ok(links) = sock.links() {
                for l in links {
                    *count.entry(l.name).or_default() += 1;
                }
            }
        }
    }
    (count, complete)
}

/// Kernel drops joined to the target during the window.
#[derive(Default)]
struct DropTally {
    /// (reason, location address, target device index) -> count.
    attributed: HashMap<(u32, u64, usize), u64>,
    /// skbaddr, time stamp and device index of attributed UNHANDLED_PROTO
    /// drops, to join frames: the first [`FRAME_SAMPLE`].
    unhandled: Vec<(u64, u64, usize)>,
    /// By reason number. Nothing here allocates per drop: a flood
    /// elsewhere on the host must cost the watcher little.
    unattributed: HashMap<u32, u64>,
    lost: u64,
}

impl DropTally {
    /// Counts one drop of the window `(from, to)` (trace clock): to the
    /// target device it was last seen on, or as unattributed.
    fn count(
        &mut self,
        d: &netobs_trace::DropDetail<'_>,
        target_devices: &HashMap<&str, usize>,
        unhandled_proto: Option<u32>,
        (from, to): (u64, u64),
    ) {
        if d.drop.timestamp < from || d.drop.timestamp > to {
            return;
        }
        match d.device.and_then(|seen| target_devices.get(seen.name)) {
            Some(&dev) => {
                if Some(d.drop.reason) == unhandled_proto && self.unhandled.len() < FRAME_SAMPLE {
                    self.unhandled.push((d.drop.skbaddr, d.drop.timestamp, dev));
                }
                *self
                    .attributed
                    .entry((d.drop.reason, d.drop.location, dev))
                    .or_default() += 1;
            }
            None => *self.unattributed.entry(d.drop.reason).or_default() += 1,
        }
    }
}

/// Watches `target` for `options.window` and says where its packets are lost.
///
/// Fails only when the target itself is wrong (a namespace that cannot be
/// opened, an interface that exists in none of them); a source this kernel
/// or user lacks is listed in [`Report::missing`] instead.
pub fn diagnose(target: &Target, options: &Options) -> netobs_core::Result<Report> {
    run(target, options, None)
}

/// Like [`diagnose`], running `workload` (a reproduction: traffic, a
/// client, a test) on another thread once the start counters are read. The
/// window lasts `options.window` and at least until the workload returns,
/// plus [`SETTLE`] for the kernel to finish with its last packets.
pub fn diagnose_during<F: FnOnce() + Send>(
    target: &Target,
    options: &Options,
    workload: F,
) -> netobs_core::Result<Report> {
    run(target, options, Some(Box::new(workload)))
}

/// How many UNHANDLED_PROTO drops (and probe records) are kept to name
/// their frames: a sample is enough, a flood must not grow memory.
pub(crate) const FRAME_SAMPLE: usize = 100_000;

/// The shortest time between two reads of the kernel's drop events.
const READ_EVERY: Duration = Duration::from_millis(50);

/// How long the window goes on after a workload returns: packets it sent
/// may still be in a backlog or a qdisc.
pub const SETTLE: Duration = Duration::from_millis(300);

type Workload<'a> = Box<dyn FnOnce() + Send + 'a>;

fn run(target: &Target, options: &Options, workload: Option<Workload<'_>>) -> netobs_core::Result<Report> {
    let current = [Netns::Current];
    let spaces: &[Netns] = if target.namespaces.is_empty() {
        &current
    } else {
        &target.namespaces
    };
    // The target's devices, per namespace; an unknown name is an error.
    let mut devices: Vec<(&Netns, Vec<String>)> = Vec::new();
    for ns in spaces {
        let mut sock = NetlinkSocket::open_in(Protocol::Route, ns)?;
        let names: Vec<String> = sock.links()?.into_iter().map(|l| l.name).collect();
        let mine = match &target.interface {
            Some(i) => names.into_iter().filter(|n| n == i).collect(),
            None => names.into_iter().filter(|n| n != "lo").collect(),
        };
        devices.push((ns, mine));
    }
    if let Some(i) = &target.interface {
        if devices.iter().all(|(_, d)| d.is_empty()) {
            return Err(netobs_core::Error::NoSuchInterface(i.clone()));
        }
    }
    // Every target device once: (name, namespace name, confidence); the
    // drop loop looks names up by index.
    // A name several namespaces use is medium at best; so is every name
    // when the target lives where /run/netns does not list it.
    let (shared, complete) = known_device_names(&devices.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    let mut device_list: Vec<(String, String, Confidence)> = Vec::new();
    for (ns, names) in &devices {
        for d in names {
            let c = if !complete || shared.get(d).copied().unwrap_or(1) > 1 {
                Confidence::Medium
            } else {
                Confidence::High
            };
            // The join knows names only: one name in two target
            // namespaces is one entry, named after the first.
            if !device_list.iter().any(|(n, _, _)| n == d) {
                device_list.push((d.clone(), netns_name(ns), c));
            }
        }
    }
    let target_devices: HashMap<&str, usize> = device_list
        .iter()
        .enumerate()
        .map(|(i, (n, _, _))| (n.as_str(), i))
        .collect();

    let mut missing = Vec::new();
    let mut monitor = None;
    let mut syms = None;
    let mut eprobe = None;
    if options.kernel_drops {
        match open_monitor(options) {
            Ok((m, s)) => {
                monitor = Some(m);
                syms = Some(s);
            }
            Err(e) => missing.push(format!("kernel drops (skb:kfree_skb): {e}")),
        }
        if options.identify_frames && monitor.is_some() {
            match frames::open_eprobe(options) {
                Ok(f) => eprobe = Some(f),
                Err(e) => missing.push(format!("frames from the dropped skbs (eprobe): {e}")),
            }
        }
    }

    let start = Instant::now();
    let mut interrupted = false;
    let mut poll_failed = false;
    let unhandled_proto = monitor
        .as_ref()
        .and_then(|m| m.kfree_skb().reasons().value("UNHANDLED_PROTO"))
        .map(|v| v as u32);
    // Kernel drops count from the middle of the first snapshot to the
    // middle of the last (mono trace clock, the monitor's): the counters'
    // deltas cover the same span, whatever the snapshots' own durations.
    let t0 = netobs_trace::tracefs::mono_clock_now();
    let before = Snapshot::take(&devices, target, &mut missing);
    let window_start = t0 / 2 + netobs_trace::tracefs::mono_clock_now() / 2;
    let mut tally = DropTally::default();
    let deadline = start + options.window;
    let mut frames_seen = Vec::new();
    std::thread::scope(|scope| {
        let worker = workload.map(|w| scope.spawn(w));
        let mut finished: Option<Instant> = None;
        // The end of the window as known now: the deadline, and for a
        // workload its end plus SETTLE; None while the workload runs.
        let mut end = || match &worker {
            Some(w) if !w.is_finished() => None,
            Some(_) => {
                let at = *finished.get_or_insert_with(Instant::now);
                Some(deadline.max(at + SETTLE))
            }
            None => Some(deadline),
        };
        match monitor.as_mut() {
            Some(mon) => {
                if let Some(stop) = &options.stop {
                    mon.set_stop(stop);
                }
                let mut last_read: Option<Instant> = None;
                loop {
                    // Read at most every READ_EVERY: the ring buffer holds
                    // the events meanwhile, and whole pages cost far less
                    // per event than a read per wakeup (a flood elsewhere
                    // would otherwise keep the watcher reading).
                    if let Some(t) = last_read {
                        wait_until(t + READ_EVERY, options.stop.as_ref());
                    }
                    last_read = Some(Instant::now());
                    let now = Instant::now();
                    let end_now = end();
                    if options.stop.as_ref().is_some_and(Stop::woken) {
                        interrupted = true;
                        break;
                    }
                    if end_now.is_some_and(|e| now >= e) {
                        break;
                    }
                    let wait = end_now
                        .map_or(Duration::from_millis(50), |e| e - now)
                        .min(Duration::from_millis(250));
                    let polled = mon.poll_detailed(Some(wait), |d| {
                        tally.count(d, &target_devices, unhandled_proto, (window_start, u64::MAX))
                    });
                    match polled {
                        Ok(lost) => tally.lost += lost,
                        Err(e) => {
                            missing.push(format!("kernel drops stopped early: {e}"));
                            poll_failed = true;
                            break;
                        }
                    }
                    if let Some(f) = eprobe.as_mut() {
                        if let Err(e) = frames::poll_eprobe(f, &mut frames_seen) {
                            missing.push(format!("frames from the dropped skbs stopped early: {e}"));
                            eprobe = None;
                        }
                    }
                }
            }
            None => loop {
                if options.stop.as_ref().is_some_and(Stop::woken) {
                    interrupted = true;
                    break;
                }
                match end() {
                    Some(e) if Instant::now() >= e => break,
                    Some(e) => wait_until(e, options.stop.as_ref()),
                    None => wait_until(Instant::now() + Duration::from_millis(50), options.stop.as_ref()),
                }
            },
        }
        if let Some(w) = worker {
            if w.join().is_err() {
                missing.push("the workload panicked".to_string());
            }
        }
    });
    if let Some(f) = eprobe.as_mut() {
        let _ = frames::poll_eprobe(f, &mut frames_seen);
    }
    let eprobe_used = eprobe.is_some();
    drop(eprobe);
    let t1 = netobs_trace::tracefs::mono_clock_now();
    let after = Snapshot::take(&devices, target, &mut missing);
    let window_end = t1 / 2 + netobs_trace::tracefs::mono_clock_now() / 2;
    // The last read, after the last snapshot: what the window's last
    // moments wrote, and the drops the device join held back for a later
    // read.
    if let Some(mon) = monitor.as_mut().filter(|_| !poll_failed) {
        let read =
            mon.finish_detailed(|d| tally.count(d, &target_devices, unhandled_proto, (window_start, window_end)));
        match read {
            Ok(lost) => tally.lost += lost,
            Err(e) => missing.push(format!("kernel drops: the last read failed: {e}")),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let kfree = monitor.as_ref().map(|m| m.kfree_skb().clone());
    drop(monitor);
    // A number the format file does not name (a subsystem's own reasons)
    // stays a number: it must not pass for NOT_SPECIFIED.
    let reason_name = |r: u32| match kfree.as_ref().and_then(|k| k.reason_name(r)) {
        Some(name) => name.to_string(),
        None => format!("reason#{r}"),
    };

    let mut evidence = sample::deltas(&before, &after);
    // Drops at different offsets of one function are one piece of evidence.
    let mut by_function: BTreeMap<(String, String, usize), u64> = BTreeMap::new();
    for (&(reason, location, dev), &count) in &tally.attributed {
        let function = syms
            .as_ref()
            .and_then(|s| s.lookup(location))
            .map(|l| netobs_trace::kallsyms::base_name(l.name).to_string())
            .unwrap_or_else(|| format!("{location:#x}"));
        *by_function.entry((reason_name(reason), function, dev)).or_default() += count;
    }
    let mut observations = sample::observations(&before, &after);
    for ((reason, location, dev), count) in by_function {
        let (subject, netns, confidence) = &device_list[dev];
        if reason == "NOT_SPECIFIED" && location == "ip6_mc_input" {
            // IPv6 multicast for a group nobody here joined (router
            // solicitations, MLD): freed by ip6_mc_input as a matter of
            // course (net/ipv6/ip6_input.c), not a loss.
            observations.push((
                Layer::Ip,
                format!("{count} IPv6 multicast packets on {subject} for groups not joined here, freed by ip6_mc_input (normal)"),
            ));
            continue;
        }
        let Some(layer) = layers::reason_layer(&reason).or_else(|| layers::location_layer(&location)) else {
            // Neither the reason nor the function names a layer: shown,
            // never deciding.
            observations.push((
                Layer::Interface,
                format!("{count} drops on {subject} that name no layer: {reason} at {location}"),
            ));
            continue;
        };
        evidence.push(Evidence {
            layer,
            source: Source::Drops,
            netns: netns.clone(),
            subject: subject.clone(),
            name: reason,
            location: Some(location),
            delta: count,
            confidence: *confidence,
        });
    }
    let layers = build_layers(evidence, observations);
    let verdict = decide(&layers);

    let mut frames = Vec::new();
    let mut frames_note = None;
    // Frames are named when the interface loses them to no handler: the
    // kernel said UNHANDLED_PROTO, or (no kernel drops to tell) the device
    // counted them in rx_dropped / rx_nohandler and nothing else explains it.
    let no_handler = verdict.reason.as_deref() == Some("UNHANDLED_PROTO")
        || (verdict.reason.is_none()
            && verdict
                .evidence
                .first()
                .is_some_and(|e| e.source == Source::Link && matches!(e.name.as_str(), "rx_dropped" | "rx_nohandler")));
    if options.identify_frames && verdict.layer == Layer::Interface && no_handler {
        let unhandled: Vec<(u64, u64, String)> = tally
            .unhandled
            .iter()
            .map(|&(addr, ts, dev)| (addr, ts, device_list[dev].0.clone()))
            .collect();
        let (f, note) = frames::name_frames(&unhandled, &frames_seen, eprobe_used, &devices, &verdict, options);
        frames = f;
        frames_note = Some(note);
    }
    let mut by_reason: Vec<(String, u64)> = tally
        .unattributed
        .into_iter()
        .map(|(r, n)| (reason_name(r), n))
        .collect();
    by_reason.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Report {
        target: target.describe(),
        seconds,
        verdict,
        layers,
        frames,
        frames_note,
        unattributed: Unattributed {
            total: by_reason.iter().map(|(_, n)| n).sum(),
            by_reason,
        },
        missing,
        events_lost: tally.lost,
        interrupted,
    })
}

/// Sleeps until `deadline` or until `stop` is tripped.
fn wait_until(deadline: Instant, stop: Option<&Stop>) {
    let mut revents = Vec::new();
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        match netobs_core::stop::wait(&[], Some(deadline - now), stop, &mut revents) {
            Ok(netobs_core::Wake::Interrupted) => continue,
            _ => return,
        }
    }
}

fn open_monitor(options: &Options) -> netobs_trace::Result<(DropMonitor, Kallsyms)> {
    let tracefs = Tracefs::find_or_mount()?;
    let syms = Kallsyms::load()?;
    let mut mon = DropMonitor::open_tracepoint(&tracefs, &DropFilter::default(), Some(&syms))?;
    mon.enable_devices(options.max_trail_age)?;
    Ok((mon, syms))
}

/// Groups evidence and observations by layer, driver first.
fn build_layers(evidence: Vec<Evidence>, observations: Vec<(Layer, String)>) -> Vec<LayerReport> {
    Layer::STACK
        .iter()
        .map(|&layer| {
            let mut ev: Vec<Evidence> = evidence.iter().filter(|e| e.layer == layer).cloned().collect();
            ev.sort_by(|a, b| b.delta.cmp(&a.delta).then(a.name.cmp(&b.name)));
            let obs = observations
                .iter()
                .filter(|(l, _)| *l == layer)
                .map(|(_, o)| o.clone())
                .collect();
            LayerReport {
                layer,
                lost: ev.iter().map(|e| e.delta).max().unwrap_or(0),
                evidence: ev,
                observations: obs,
            }
        })
        .collect()
}

/// The losing layer: the one with most packets lost; a tie goes to the
/// layer whose evidence includes a kernel drop reason, then to the lower
/// layer (where the packets died first).
fn decide(layers: &[LayerReport]) -> Verdict {
    let has_reason = |l: &LayerReport| l.evidence.iter().any(|e| e.source == Source::Drops);
    let best = layers.iter().filter(|l| l.lost > 0).max_by(|a, b| {
        a.lost
            .cmp(&b.lost)
            .then(has_reason(a).cmp(&has_reason(b)))
            .then(b.layer.cmp(&a.layer))
    });
    let Some(best) = best else {
        return Verdict {
            layer: Layer::None,
            reason: None,
            summary: layers::next_step(Layer::None, None, None, ""),
            evidence: Vec::new(),
        };
    };
    let top_drop = best.evidence.iter().find(|e| e.source == Source::Drops);
    let reason = top_drop.map(|e| e.name.clone());
    // Advice follows the named protocol counters first (ListenOverflows
    // says more than a socket's sk_drops, which counts every kind of drop).
    let counter = best
        .evidence
        .iter()
        .find(|e| e.source == Source::Nstat)
        .or_else(|| best.evidence.iter().find(|e| e.source != Source::Drops));
    let subject = best
        .evidence
        .iter()
        .map(|e| e.subject.as_str())
        .find(|s| !s.is_empty())
        .unwrap_or("");
    let counter_name = counter.map(|c| c.name.as_str());
    let step = layers::next_step(best.layer, reason.as_deref(), counter_name, subject);
    Verdict {
        layer: best.layer,
        reason,
        summary: format!("{} packets lost at the {} layer: {step}", best.lost, best.layer),
        evidence: best.evidence.clone(),
    }
}

/// The report as text, the way the triage example prints it.
pub struct ReportText<'a>(pub &'a Report);

impl fmt::Display for ReportText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "target: {} ({:.1} s{})",
            r.target,
            r.seconds,
            if r.interrupted { ", cut short" } else { "" }
        )?;
        writeln!(
            f,
            "verdict: {}{}",
            r.verdict.layer,
            r.verdict.reason.as_ref().map(|x| format!(" ({x})")).unwrap_or_default()
        )?;
        writeln!(f, "  {}", r.verdict.summary)?;
        for l in &r.layers {
            writeln!(f, "{:<10} lost {}", l.layer.name(), l.lost)?;
            for e in &l.evidence {
                writeln!(f, "    {e}")?;
            }
            for o in &l.observations {
                writeln!(f, "    ({o})")?;
            }
        }
        if !r.frames.is_empty() {
            writeln!(f, "frames dropped as UNHANDLED_PROTO:")?;
            for g in &r.frames {
                writeln!(
                    f,
                    "    {} ethertype 0x{:04x} on {}: {} frames",
                    g.source, g.ethertype, g.device, g.count
                )?;
            }
        }
        if let Some(n) = &r.frames_note {
            writeln!(f, "frames: {n}")?;
        }
        if r.unattributed.total > 0 {
            let top: Vec<String> = r
                .unattributed
                .by_reason
                .iter()
                .take(3)
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            writeln!(
                f,
                "not the target's: {} kernel drops elsewhere on the host ({})",
                r.unattributed.total,
                top.join(", ")
            )?;
        }
        if r.events_lost > 0 {
            writeln!(f, "kernel events lost by the reader: {}", r.events_lost)?;
        }
        for m in &r.missing {
            writeln!(f, "missing: {m}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(layer: Layer, source: Source, name: &str, delta: u64) -> Evidence {
        Evidence {
            layer,
            source,
            netns: "n".into(),
            subject: "veth1".into(),
            name: name.into(),
            location: None,
            delta,
            confidence: Confidence::Certain,
        }
    }

    #[test]
    fn the_layer_with_most_losses_wins_and_ties_go_to_the_kernel_reason() {
        let layers = build_layers(
            vec![
                ev(Layer::Qdisc, Source::Qdisc, "drops", 10),
                ev(Layer::Qdisc, Source::Drops, "QDISC_DROP", 10),
                ev(Layer::Ip, Source::Nstat, "IpOutDiscards", 10),
            ],
            Vec::new(),
        );
        let v = decide(&layers);
        assert_eq!(v.layer, Layer::Qdisc);
        assert_eq!(v.reason.as_deref(), Some("QDISC_DROP"));
        let none = decide(&build_layers(Vec::new(), Vec::new()));
        assert_eq!(none.layer, Layer::None);
    }
}
