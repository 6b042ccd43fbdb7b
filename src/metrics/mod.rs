//! Prometheus and OpenMetrics exposition of the network stack.
//!
//! A [`Registry`] holds [`Collector`]s; [`Registry::gather`] runs them into
//! one [`MetricSet`], which writes itself as Prometheus text 0.0.4 or
//! OpenMetrics 1.0 ([`negotiate`] picks the format from a scrape's Accept
//! header). [`http::serve`] answers `GET /metrics` with it.
//!
//! The collectors of this module read the libraries and write what
//! node_exporter 1.5 writes for the families they share, with its names,
//! HELP texts, types, labels and values, so existing dashboards and alerts
//! keep working:
//!
//! | collector | families | source |
//! |---|---|---|
//! | [`netdev::NetdevCollector`] | `node_network_*_total{device}` | rtnetlink RTM_GETLINK stats64, mapped as node_exporter 1.5 maps them (its default netlink path) |
//! | [`netstat::NetstatCollector`] | `node_netstat_*` | /proc/net/{netstat,snmp,snmp6} of the namespace, node_exporter's default field filter |
//! | [`sockstat::SockstatCollector`] | `node_sockstat_*` | /proc/net/sockstat{,6} of the namespace |
//! | [`softnet::SoftnetCollector`] | `node_softnet_*{cpu}` | /proc/net/softnet_stat (host-wide) |
//! | [`ethtool::EthtoolCollector`] | `node_ethtool_*{device}`, `node_ethtool_info`, and the link-mode families (`node_network_supported_speed_bytes`, `node_network_autonegotiate`, ...) | SIOCETHTOOL GSTRINGS/GSTATS, GDRVINFO and GSET |
//!
//! and what no exporter has without eBPF:
//!
//! | collector | families | source |
//! |---|---|---|
//! | [`drops::DropsCollector`] | `netobs_skb_drops_total{reason,location}`, `netobs_skb_drops_lost_total` | `skb:kfree_skb`: a hist trigger where the kernel has them, else the ring reader |
//! | [`sockets::SocketsCollector`] | `netobs_sockets{netid,state}`, `netobs_tcp_listen_queue_length{local}`, `netobs_tcp_listen_backlog{local}` | sock_diag, every family (what `ss -a` lists) |
//! | [`qstats::QstatsCollector`] | `netobs_netdev_queue_*_total{device,queue}` | the netdev generic-netlink family (kernel 6.10+, drivers with queue statistics) |
//!
//! A collector that works in one network namespace takes a [`Target`]; with
//! several targets each one's samples carry a `netns` label (none for the
//! exporter's own namespace, whose series are then node_exporter's). Every
//! source a scrape reads reports itself in
//! `netobs_scrape_collector_success{collector,netns}` and
//! `netobs_scrape_collector_duration_seconds{collector,netns}`; a source
//! that fails (a namespace deleted between scrapes) is left out of the
//! scrape and its success gauge is 0, the rest of the scrape goes on.
//!
//! ```
//! use netobs::metrics::{negotiate, Collector, MetricSet, MetricType, Registry, Scrape};
//!
//! /// A collector of one's own.
//! struct Answer;
//! impl Collector for Answer {
//!     fn collect(&self, scrape: &mut Scrape<'_>) {
//!         scrape.source("answer", None, |m: &mut MetricSet| {
//!             m.add("my_answer", "The answer.", MetricType::Gauge, &[], 42u64);
//!             Ok(())
//!         });
//!     }
//! }
//!
//! let mut registry = Registry::new();
//! registry.register(Box::new(Answer));
//! registry.register(Box::new(netobs::metrics::softnet::SoftnetCollector));
//! let (format, content_type) = negotiate(Some("application/openmetrics-text;version=1.0.0"));
//! let body = registry.gather().encode(format);
//! assert!(body.contains("my_answer 42\n"));
//! assert!(body.contains("node_softnet_processed_total{cpu=\"0\"}"));
//! assert!(content_type.starts_with("application/openmetrics-text"));
//! ```

use std::time::Instant;

use netobs_core::{ErrorInfo, ErrorKind, Netns};

pub mod drops;
pub mod ethtool;
mod exposition;
pub mod http;
pub mod netdev;
pub mod netstat;
pub mod qstats;
pub mod sockets;
pub mod sockstat;
pub mod softnet;

pub use exposition::{negotiate, Family, FamilyId, Format, MetricSet, MetricType, Sample, Value};

/// What went wrong in a collector or the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Netlink, namespaces, /proc files of netobs-core.
    #[error(transparent)]
    Core(#[from] netobs_core::Error),
    /// Sockets and /proc/net counters.
    #[error(transparent)]
    Sockdiag(#[from] netobs_sockdiag::Error),
    /// Driver statistics and the netdev family.
    #[error(transparent)]
    Ethtool(#[from] netobs_ethtool::Error),
    /// Tracefs and drops.
    #[error(transparent)]
    Trace(#[from] netobs_trace::Error),
    /// A socket or file operation of the exporter itself.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A user collector's own error.
    #[error("{0}")]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

impl ErrorInfo for Error {
    fn kind(&self) -> ErrorKind {
        match self {
            Error::Core(e) => e.kind(),
            Error::Sockdiag(e) => e.kind(),
            Error::Ethtool(e) => e.kind(),
            Error::Trace(e) => e.kind(),
            Error::Io { source, .. } => source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            Error::Other(_) => ErrorKind::Io,
        }
    }

    fn errno(&self) -> Option<i32> {
        match self {
            Error::Core(e) => e.errno(),
            Error::Sockdiag(e) => e.errno(),
            Error::Ethtool(e) => e.errno(),
            Error::Trace(e) => e.errno(),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::Other(_) => None,
        }
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Core(e) => e.capability(),
            Error::Sockdiag(e) => e.capability(),
            Error::Ethtool(e) => e.capability(),
            Error::Trace(e) => e.capability(),
            _ => None,
        }
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::Core(e) => e.subject(),
            Error::Sockdiag(e) => e.subject(),
            Error::Ethtool(e) => e.subject(),
            Error::Trace(e) => e.subject(),
            _ => None,
        }
    }
}

/// The result of a collector's source.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A network namespace a collector reads, and the `netns` label its
/// samples carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `None`: the caller's own namespace; else the namespace file
    /// (`/run/netns/NAME`).
    pub path: Option<std::path::PathBuf>,
    /// The `netns` label value; `None` writes no label.
    pub label: Option<String>,
}

impl Target {
    /// The caller's own namespace, without a label.
    pub fn current() -> Self {
        Target {
            path: None,
            label: None,
        }
    }

    /// The namespace `ip netns add NAME` made, labelled `netns="NAME"`
    /// when `labelled`.
    pub fn named(name: &str, labelled: bool) -> Self {
        Target {
            path: Some(std::path::Path::new(netobs_core::netns::NETNS_RUN_DIR).join(name)),
            label: labelled.then(|| name.to_string()),
        }
    }

    /// The namespace to open.
    pub fn netns(&self) -> Netns {
        match &self.path {
            Some(p) => Netns::path(p),
            None => Netns::Current,
        }
    }

    /// The targets of `ip netns list` (every entry of /run/netns, labelled)
    /// and the caller's own namespace (unlabelled) first. Entries that
    /// vanish while listed are left out; a missing /run/netns is no entry.
    pub fn all() -> Vec<Target> {
        let mut names: Vec<String> = std::fs::read_dir(netobs_core::netns::NETNS_RUN_DIR)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        std::iter::once(Target::current())
            .chain(names.iter().map(|n| Target::named(n, true)))
            .collect()
    }
}

/// Which namespaces the namespace-bound collectors read at each scrape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Targets {
    /// A fixed list.
    Fixed(Vec<Target>),
    /// [`Target::all`], listed again at every scrape (namespaces come and go).
    All,
}

impl Targets {
    /// The targets of this scrape.
    pub fn list(&self) -> Vec<Target> {
        match self {
            Targets::Fixed(v) => v.clone(),
            Targets::All => Target::all(),
        }
    }

    /// The namespaces the exporter's `-n NS` options name (none: its own),
    /// labelled when there are several.
    pub fn named(names: &[String]) -> Self {
        match names {
            [] => Targets::Fixed(vec![Target::current()]),
            [one] => Targets::Fixed(vec![Target::named(one, false)]),
            many => Targets::Fixed(many.iter().map(|n| Target::named(n, true)).collect()),
        }
    }
}

/// A source of metrics. `collect` reads its sources through
/// [`Scrape::source`], once per source (a namespace, a file), so a failing
/// source is reported and left out without failing the scrape.
pub trait Collector: Send + Sync {
    /// Reads the collector's sources into `scrape`.
    fn collect(&self, scrape: &mut Scrape<'_>);
}

/// One scrape in progress: the gathered samples and the report of each
/// source read.
#[derive(Debug)]
pub struct Scrape<'a> {
    out: &'a mut MetricSet,
    report: Vec<(String, Option<String>, bool, f64)>,
    errors: Vec<String>,
}

impl Scrape<'_> {
    /// Reads one source: `f` writes into a set of its own (whose samples
    /// carry `netns="LABEL"` when `netns` is given), merged into the scrape
    /// if `f` succeeds and dropped if it fails. Either way the source is
    /// reported in `netobs_scrape_collector_success{collector,netns}` and
    /// `netobs_scrape_collector_duration_seconds`.
    pub fn source(&mut self, collector: &str, netns: Option<&str>, f: impl FnOnce(&mut MetricSet) -> Result<()>) {
        let start = Instant::now();
        let mut set = match netns {
            Some(n) => MetricSet::with_const_label("netns", n),
            None => MetricSet::new(),
        };
        let ok = match f(&mut set) {
            Ok(()) => {
                self.out.merge(set);
                true
            }
            Err(e) => {
                let place = netns.map(|n| format!(" in netns {n}")).unwrap_or_default();
                self.errors.push(format!("{collector}{place}: {e}"));
                false
            }
        };
        self.report.push((
            collector.to_string(),
            netns.map(str::to_string),
            ok,
            start.elapsed().as_secs_f64(),
        ));
    }
}

/// What one [`Registry::gather`] found: the samples, and the errors of the
/// sources left out (for a log).
#[derive(Debug, Default)]
pub struct Gathered {
    /// The samples, the scrape reports included.
    pub metrics: MetricSet,
    /// `collector[ in netns N]: error`, one per failed source.
    pub errors: Vec<String>,
}

impl Gathered {
    /// The samples in `format`.
    pub fn encode(&self, format: Format) -> String {
        self.metrics.encode(format)
    }
}

/// The collectors of an exporter.
#[derive(Default)]
pub struct Registry {
    collectors: Vec<Box<dyn Collector>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("collectors", &self.collectors.len())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a collector; collectors run in the order they were added.
    pub fn register(&mut self, c: Box<dyn Collector>) {
        self.collectors.push(c);
    }

    /// Runs every collector and adds the scrape's own report.
    pub fn gather(&self) -> Gathered {
        let mut metrics = MetricSet::new();
        let mut scrape = Scrape {
            out: &mut metrics,
            report: Vec::new(),
            errors: Vec::new(),
        };
        for c in &self.collectors {
            c.collect(&mut scrape);
        }
        let Scrape { report, errors, .. } = scrape;
        let ok = metrics.family(
            "netobs_scrape_collector_success",
            "Whether a collector's source was read in this scrape (1) or failed and was left out (0). Source: the exporter.",
            MetricType::Gauge,
        );
        let secs = metrics.family(
            "netobs_scrape_collector_duration_seconds",
            "Time a collector's source took in this scrape. Source: the exporter.",
            MetricType::Gauge,
        );
        for (name, netns, success, duration) in &report {
            let mut labels = vec![("collector", name.as_str())];
            if let Some(n) = netns {
                labels.push(("netns", n.as_str()));
            }
            metrics.sample(ok, &labels, *success);
            metrics.sample(secs, &labels, *duration);
        }
        Gathered { metrics, errors }
    }
}

/// The collectors the exporter example serves: netdev, netstat (with
/// node_exporter's default fields) and sockstat for each target, softnet
/// once, ethtool when asked, and with `netobs_families` the sockets and
/// queue statistics no node_exporter has (the drop collector needs a
/// tracefs counter: see [`drops::DropsCollector::new`]).
pub fn standard_registry(targets: Targets, ethtool: bool, netobs_families: bool) -> Registry {
    let mut r = Registry::new();
    r.register(Box::new(netdev::NetdevCollector::new(targets.clone())));
    r.register(Box::new(netstat::NetstatCollector::new(targets.clone())));
    r.register(Box::new(sockstat::SockstatCollector::new(targets.clone())));
    r.register(Box::new(softnet::SoftnetCollector));
    if ethtool {
        r.register(Box::new(ethtool::EthtoolCollector::new(targets.clone())));
    }
    if netobs_families {
        r.register(Box::new(sockets::SocketsCollector::new(targets.clone())));
        r.register(Box::new(qstats::QstatsCollector::new(targets)));
    }
    r
}

/// Runs `f` for each target of `targets` as source `collector` of `scrape`.
pub(crate) fn per_target(
    scrape: &mut Scrape<'_>,
    targets: &Targets,
    collector: &str,
    f: impl Fn(&Target, &mut MetricSet) -> Result<()>,
) {
    for t in targets.list() {
        scrape.source(collector, t.label.as_deref(), |m| f(&t, m));
    }
}
