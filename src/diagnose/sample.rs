//! The counters of the target, read at the start and the end of the
//! window, and the evidence their differences give.

use std::collections::HashMap;

use netobs_core::rtnetlink::LinkStats64;
use netobs_core::softnet::{self, SoftnetStat};
use netobs_core::{ErrorInfo, ErrorKind, NetlinkSocket, Netns, Protocol};
use netobs_ethtool::qstats::{counter_name, NetdevNetlink};
use netobs_sockdiag::counters::{self, Counters};
use netobs_sockdiag::query::{Endpoint, Pipeline, Query, Table};
use netobs_sockdiag::{Proto, States};

use super::layers::{self, Layer};
use super::{netns_name, Confidence, Evidence, Source, Target};

/// One socket, as much of it as the triage needs.
#[derive(Debug, Clone)]
pub(crate) struct SocketLine {
    label: String,
    state: &'static str,
    rqueue: u32,
    wqueue: u32,
    rmem_alloc: Option<u32>,
    rcvbuf: Option<u32>,
    drops: Option<u32>,
}

/// One namespace's counters at one moment.
#[derive(Debug, Default)]
pub(crate) struct NsSnapshot {
    netns: String,
    links: Vec<(String, LinkStats64)>,
    /// (device, parent, handle, kind, drops): children of mq all have
    /// handle 0:, so the parent is part of the key.
    qdiscs: Vec<(String, u32, String, String, u64)>,
    counters: Option<Counters>,
    /// (device, [(name, value)]).
    ethtool: Vec<(String, Vec<(String, u64)>)>,
    /// Queue statistics summed per device: (device, [(spec name, value)]).
    qstats: Vec<(String, Vec<(&'static str, u64)>)>,
    /// By cookie.
    sockets: HashMap<u64, SocketLine>,
}

/// Every target namespace, and the host's softnet counters.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    spaces: Vec<NsSnapshot>,
    softnet: Vec<SoftnetStat>,
}

fn note(missing: &mut Vec<String>, what: String) {
    if !missing.contains(&what) {
        missing.push(what);
    }
}

impl Snapshot {
    /// Reads everything now; a source that fails is noted in `missing`.
    pub(crate) fn take(devices: &[(&Netns, Vec<String>)], target: &Target, missing: &mut Vec<String>) -> Snapshot {
        let mut snap = Snapshot::default();
        match softnet::read() {
            Ok(s) => snap.softnet = s,
            Err(e) => note(missing, format!("softnet_stat: {e}")),
        }
        for (ns, devs) in devices {
            let name = netns_name(ns);
            let mut n = NsSnapshot {
                netns: name.clone(),
                ..NsSnapshot::default()
            };
            match NetlinkSocket::open_in(Protocol::Route, ns) {
                Ok(mut sock) => match sock.links() {
                    Ok(links) => {
                        let names: HashMap<u32, String> = links.iter().map(|l| (l.index, l.name.clone())).collect();
                        n.links = links
                            .into_iter()
                            .filter(|l| devs.contains(&l.name))
                            .filter_map(|l| Some((l.name, l.stats64?)))
                            .collect();
                        n.qstats = queue_stats(ns, &name, devs, &names, missing);
                        match sock.qdiscs() {
                            Ok(qs) => {
                                for q in qs {
                                    let Some(dev) = names.get(&q.ifindex) else { continue };
                                    if devs.contains(dev) {
                                        let drops = q.stats.map_or(0, |s| u64::from(s.drops));
                                        n.qdiscs
                                            .push((dev.clone(), q.parent, q.handle_text(), q.kind.clone(), drops));
                                    }
                                }
                            }
                            Err(e) => note(missing, format!("qdiscs of netns {name}: {e}")),
                        }
                    }
                    Err(e) => note(missing, format!("links of netns {name}: {e}")),
                },
                Err(e) => note(missing, format!("rtnetlink in netns {name}: {e}")),
            }
            match counters::read_in(ns) {
                Ok(c) => n.counters = Some(c),
                Err(e) => note(missing, format!("protocol counters of netns {name}: {e}")),
            }
            match netobs_ethtool::Ethtool::open_in(ns) {
                Ok(eth) => {
                    for dev in devs {
                        match eth.stats(dev) {
                            Ok(s) => n
                                .ethtool
                                .push((dev.clone(), s.iter().map(|(k, v)| (k.to_string(), v)).collect())),
                            // Devices without driver statistics (lo, bridges) are not a gap.
                            Err(e) if e.kind() == ErrorKind::Unsupported => {}
                            Err(e) => note(missing, format!("ethtool -S {dev} in netns {name}: {e}")),
                        }
                    }
                }
                Err(e) => note(missing, format!("ethtool in netns {name}: {e}")),
            }
            let mut query = Query::new(&[Table::Inet(Proto::Udp), Table::Inet(Proto::Tcp)]);
            query.states = States::ALL;
            query.memory = true;
            let res = query.run(ns, Pipeline::Sequential, |r| {
                let (local, remote) = (r.local, r.remote);
                let ports = [local, remote].map(|e| match e {
                    Endpoint::Inet { port, .. } => port,
                    _ => 0,
                });
                if target.port.is_some_and(|p| !ports.contains(&p)) {
                    return;
                }
                let mem = r.skmem();
                n.sockets.insert(
                    r.cookie,
                    SocketLine {
                        label: format!("{} {}", r.netid, endpoint_text(&local)),
                        state: r.state_name(),
                        rqueue: r.rqueue,
                        wqueue: r.wqueue,
                        rmem_alloc: mem.map(|m| m.rmem_alloc),
                        rcvbuf: mem.map(|m| m.rcvbuf),
                        drops: mem.and_then(|m| m.drops),
                    },
                );
            });
            if let Err(e) = res {
                note(missing, format!("sockets of netns {name}: {e}"));
            }
            snap.spaces.push(n);
        }
        snap
    }
}

/// The queue statistics of the target's devices, summed per device (a
/// QSTATS_GET dump without a scope). Drivers without them (veth, lo) are
/// left out of the dump by the kernel; a kernel without the netdev family
/// (before 6.10) is noted as a missing source.
fn queue_stats(
    ns: &Netns,
    netns: &str,
    devs: &[String],
    names: &HashMap<u32, String>,
    missing: &mut Vec<String>,
) -> Vec<(String, Vec<(&'static str, u64)>)> {
    let sums = NetdevNetlink::open_in(ns).and_then(|mut nl| nl.qstats(None, false));
    match sums {
        Ok(sums) => sums
            .into_iter()
            .filter_map(|q| {
                let dev = names.get(&q.ifindex).filter(|d| devs.contains(d))?;
                let counters = q
                    .counters
                    .iter()
                    .filter_map(|&(kind, v)| Some((counter_name(kind)?, v)))
                    .collect();
                Some((dev.clone(), counters))
            })
            .collect(),
        Err(e) => {
            note(
                missing,
                format!("queue statistics (netdev QSTATS_GET) in netns {netns}: {e}"),
            );
            Vec::new()
        }
    }
}

fn endpoint_text(e: &Endpoint<'_>) -> String {
    match e {
        Endpoint::Inet {
            addr: std::net::IpAddr::V6(a),
            port,
            ..
        } => format!("[{a}]:{port}"),
        Endpoint::Inet { addr, port, .. } => format!("{addr}:{port}"),
        _ => "*".to_string(),
    }
}

/// The losses between two snapshots, as evidence.
pub(crate) fn deltas(before: &Snapshot, after: &Snapshot) -> Vec<Evidence> {
    let mut out = Vec::new();
    let certain = |layer, source, netns: &str, subject: &str, name: &str, delta| Evidence {
        layer,
        source,
        netns: netns.to_string(),
        subject: subject.to_string(),
        name: name.to_string(),
        location: None,
        delta,
        confidence: Confidence::Certain,
    };
    for (b, a) in before.spaces.iter().zip(&after.spaces) {
        let ns = a.netns.as_str();
        for (dev, s) in &a.links {
            let Some((_, old)) = b.links.iter().find(|(d, _)| d == dev) else {
                continue;
            };
            let old: HashMap<&str, u64> = old.fields().collect();
            for (field, v) in s.fields() {
                let Some(layer) = layers::link_counter_layer(field) else {
                    continue;
                };
                // A device re-created during the window restarts at 0: no delta.
                let d = v.saturating_sub(old.get(field).copied().unwrap_or(v));
                if d > 0 {
                    out.push(certain(layer, Source::Link, ns, dev, field, d));
                }
            }
        }
        for (dev, parent, handle, kind, drops) in &a.qdiscs {
            let old = b
                .qdiscs
                .iter()
                .find(|(d, p, h, _, _)| d == dev && p == parent && h == handle)
                .map(|q| q.4);
            let d = old.map_or(0, |o| drops.saturating_sub(o));
            if d > 0 {
                out.push(certain(
                    Layer::Qdisc,
                    Source::Qdisc,
                    ns,
                    dev,
                    &format!("{kind} {handle} dropped"),
                    d,
                ));
            }
        }
        if let (Some(old), Some(new)) = (&b.counters, &a.counters) {
            for (name, d) in new.delta(old).values {
                if let (Some(layer), true) = (layers::counter_layer(&name), d > 0 && d < u64::MAX / 2) {
                    out.push(certain(layer, Source::Nstat, ns, "", &name, d));
                }
            }
        }
        for (dev, stats) in &a.ethtool {
            let Some((_, old)) = b.ethtool.iter().find(|(d, _)| d == dev) else {
                continue;
            };
            for (i, (name, v)) in stats.iter().enumerate() {
                if !layers::driver_counter_is_loss(name) {
                    continue;
                }
                // Same position and name: drivers may list a name twice.
                let Some((oname, ov)) = old.get(i) else { continue };
                if oname == name && v > ov {
                    out.push(certain(Layer::Driver, Source::Ethtool, ns, dev, name, v - ov));
                }
            }
        }
        for (dev, stats) in &a.qstats {
            let Some((_, old)) = b.qstats.iter().find(|(d, _)| d == dev) else {
                continue;
            };
            for &(name, v) in stats {
                let Some(&(_, ov)) = old.iter().find(|(n, _)| *n == name) else {
                    continue;
                };
                // A device re-created during the window restarts at 0: no delta.
                if layers::queue_counter_is_loss(name) && v > ov {
                    out.push(certain(Layer::Driver, Source::Qstats, ns, dev, name, v - ov));
                }
            }
        }
        for (cookie, s) in &a.sockets {
            let (Some(new), Some(old)) = (s.drops, b.sockets.get(cookie).and_then(|o| o.drops)) else {
                continue;
            };
            if new > old {
                out.push(certain(
                    Layer::Socket,
                    Source::Sockets,
                    ns,
                    &s.label,
                    "sk_drops",
                    u64::from(new - old),
                ));
            }
        }
    }
    out
}

/// What the snapshots show that explains losses without being one: TCP
/// retransmissions (the sender's view of a loss), full queues, sockets
/// piling up in a state.
pub(crate) fn observations(before: &Snapshot, after: &Snapshot) -> Vec<(Layer, String)> {
    let mut out = Vec::new();
    // The backlog counters are the host's, not the target's: a hint, never
    // a verdict (the target's own backlog drops are CPU_BACKLOG kernel
    // drops, joined like any other). Per CPU, wrapping: the words are u32.
    let backlog = |field: fn(&SoftnetStat) -> u32| -> u64 {
        after
            .softnet
            .iter()
            .filter_map(|a| {
                let b = before.softnet.iter().find(|b| b.cpu == a.cpu)?;
                Some(u64::from(field(a).wrapping_sub(field(b))))
            })
            .sum()
    };
    let dropped = backlog(|s| s.dropped);
    if dropped > 0 {
        out.push((
            Layer::Interface,
            format!("{dropped} frames dropped by full per-CPU backlogs on the host (softnet_stat; netdev_max_backlog), not necessarily the target's"),
        ));
    }
    let squeezed = backlog(|s| s.time_squeeze);
    if squeezed > 0 {
        out.push((
            Layer::Interface,
            format!("{squeezed} times the receive softirq ran out of budget with work left (softnet_stat time_squeeze, host-wide)"),
        ));
    }
    for (b, n) in before.spaces.iter().zip(&after.spaces) {
        let ns = if n.netns.is_empty() {
            String::new()
        } else {
            format!(" (netns {})", n.netns)
        };
        if let (Some(old), Some(new)) = (&b.counters, &n.counters) {
            let delta = new.delta(old);
            for (name, what) in [
                ("TcpRetransSegs", "TCP segments retransmitted"),
                ("TcpExtTCPSynRetrans", "SYNs retransmitted"),
                ("TcpExtTCPTimeouts", "TCP retransmission timeouts"),
            ] {
                if let Some(d) = delta.get(name).filter(|d| *d > 0 && *d < u64::MAX / 2) {
                    out.push((
                        Layer::Transport,
                        format!("{d} {what} ({name}){ns}: a sender saw losses"),
                    ));
                }
            }
        }
        let mut by_state: HashMap<&str, usize> = HashMap::new();
        let mut lines: Vec<&SocketLine> = n.sockets.values().collect();
        lines.sort_by(|a, b| a.label.cmp(&b.label));
        for s in lines {
            *by_state.entry(s.state).or_default() += 1;
            // sk_acceptq_is_full (include/net/sock.h): more queued than the backlog.
            if s.state == "LISTEN" && s.rqueue > s.wqueue {
                out.push((
                    Layer::Socket,
                    format!(
                        "listener {}{ns}: accept queue {} of backlog {} (full)",
                        s.label, s.rqueue, s.wqueue
                    ),
                ));
            }
            if let (Some(alloc), Some(buf)) = (s.rmem_alloc, s.rcvbuf) {
                if buf > 0 && u64::from(alloc) * 10 >= u64::from(buf) * 9 {
                    out.push((
                        Layer::Socket,
                        format!(
                            "{}{ns}: receive queue {} bytes of a {}-byte buffer (full)",
                            s.label, alloc, buf
                        ),
                    ));
                }
            }
        }
        for (state, layer, meaning) in [
            ("CLOSE-WAIT", Layer::Socket, "the peer closed, the application has not"),
            ("SYN-SENT", Layer::Transport, "connecting, no answer to the SYN yet"),
            (
                "SYN-RECV",
                Layer::Transport,
                "half-open, waiting for the handshake's last ACK",
            ),
        ] {
            if let Some(&c) = by_state.get(state) {
                out.push((layer, format!("{c} sockets in {state}{ns}: {meaning}")));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_queues(stats: &[(&'static str, u64)]) -> Snapshot {
        Snapshot {
            spaces: vec![NsSnapshot {
                netns: "t".to_string(),
                qstats: vec![("eth0".to_string(), stats.to_vec())],
                ..NsSnapshot::default()
            }],
            softnet: Vec::new(),
        }
    }

    /// Queue statistics give driver evidence for their drop counters only
    /// (packets and bad checksums delivered to the stack are not losses),
    /// and a counter that went backwards (device re-created) gives none.
    #[test]
    fn queue_statistics_drops_are_driver_evidence() {
        let before = with_queues(&[
            ("rx-packets", 10),
            ("rx-hw-drops", 5),
            ("rx-csum-bad", 0),
            ("tx-hw-drops", 9),
        ]);
        let after = with_queues(&[
            ("rx-packets", 90),
            ("rx-hw-drops", 12),
            ("rx-csum-bad", 4),
            ("tx-hw-drops", 1),
        ]);
        let ev = deltas(&before, &after);
        assert_eq!(ev.len(), 1, "{ev:?}");
        let e = &ev[0];
        assert_eq!(
            (e.layer, e.source, e.subject.as_str(), e.name.as_str(), e.delta),
            (Layer::Driver, Source::Qstats, "eth0", "rx-hw-drops", 7)
        );
    }
}
