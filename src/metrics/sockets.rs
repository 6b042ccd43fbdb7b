//! Sockets by kind and state, and TCP listeners' queues, from sock_diag.
//!
//! - `netobs_sockets{netid,state}`: sockets of the tables `ss -a` lists
//!   (netlink, packet, unix, raw, udp, tcp; [`Table::SS_DEFAULT`]) in every
//!   state, counted by ss's Netid (`tcp`, `u_str`, `p_raw`, `nl`, ...) and
//!   state name (`ESTAB`, `LISTEN`, `UNCONN`, ...). The tables whose
//!   sock_diag modules the kernel would have to load (dccp, sctp, mptcp)
//!   are not asked for.
//! - `netobs_tcp_listen_queue_length{local}` and
//!   `netobs_tcp_listen_backlog{local}`: for each TCP listener, the
//!   connections waiting in its accept queue and the queue's limit (the
//!   Recv-Q and Send-Q `ss -lt` shows), `local` its address as
//!   `ADDR:PORT` (`[ADDR]:PORT` for IPv6). One series per listener: their
//!   number is the number of listening sockets.

use std::collections::BTreeMap;

use netobs_sockdiag::query::{Endpoint, Pipeline, Query, Table};
use netobs_sockdiag::{States, TcpState};

use super::{per_target, Collector, MetricSet, MetricType, Scrape, Targets};

/// The sockets collector (source name `sockets`).
#[derive(Debug, Clone)]
pub struct SocketsCollector {
    targets: Targets,
}

impl SocketsCollector {
    /// Lists the sockets of each of `targets`.
    pub fn new(targets: Targets) -> Self {
        SocketsCollector { targets }
    }
}

fn local_text(e: &Endpoint<'_>) -> Option<String> {
    match e {
        Endpoint::Inet {
            addr: std::net::IpAddr::V6(a),
            port,
            ..
        } => Some(format!("[{a}]:{port}")),
        Endpoint::Inet { addr, port, .. } => Some(format!("{addr}:{port}")),
        _ => None,
    }
}

/// Reads the sockets of `netns` and writes the families.
pub fn write_sockets(out: &mut MetricSet, netns: &netobs_core::Netns) -> super::Result<()> {
    let mut q = Query::new(Table::SS_DEFAULT);
    q.states = States::ALL;
    let mut counts: BTreeMap<(&'static str, &'static str), u64> = BTreeMap::new();
    let mut listeners: Vec<(String, u32, u32)> = Vec::new();
    q.run(netns, Pipeline::Sequential, |r| {
        *counts.entry((r.netid, r.state_name())).or_insert(0) += 1;
        if r.table == Table::Inet(netobs_sockdiag::Proto::Tcp) && r.state == TcpState::Listen as u8 {
            if let Some(local) = local_text(&r.local) {
                listeners.push((local, r.rqueue, r.wqueue));
            }
        }
    })?;
    let id = out.family(
        "netobs_sockets",
        "Sockets by ss's Netid and state. Source: sock_diag (netlink, packet, unix, raw, udp and tcp tables, as ss -a lists them).",
        MetricType::Gauge,
    );
    for ((netid, state), n) in counts {
        out.sample(id, &[("netid", netid), ("state", state)], n);
    }
    let len = out.family(
        "netobs_tcp_listen_queue_length",
        "Connections waiting in a TCP listener's accept queue (ss -lt Recv-Q). Source: sock_diag.",
        MetricType::Gauge,
    );
    let backlog = out.family(
        "netobs_tcp_listen_backlog",
        "The limit of a TCP listener's accept queue, the listen(2) backlog capped by net.core.somaxconn (ss -lt Send-Q). Source: sock_diag.",
        MetricType::Gauge,
    );
    for (local, r, w) in &listeners {
        out.sample(len, &[("local", local)], *r);
        out.sample(backlog, &[("local", local)], *w);
    }
    Ok(())
}

impl Collector for SocketsCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        per_target(scrape, &self.targets, "sockets", |t, out| {
            write_sockets(out, &t.netns())
        });
    }
}
