//! netobs-sockdiag: every socket of a network namespace, its TCP internals
//! and its owner, from NETLINK_SOCK_DIAG.
//!
//! - [`SockDiag`] is a sock_diag netlink socket (in this or another
//!   namespace) that dumps inet ([`inet_diag::InetSock`]), unix
//!   ([`unix_diag::UnixSock`]), packet ([`packet_diag::PacketSock`]) and
//!   netlink ([`netlink_diag::NetlinkSock`]) sockets as zero-copy views.
//! - [`tcp_info::TcpInfo`] reads `struct tcp_info` in place, whatever its
//!   length.
//! - [`filter`] parses ss's filter language; [`bytecode`] compiles it to
//!   the kernel's inet_diag bytecode so the kernel drops what is not wanted.
//! - [`owners`] maps socket inodes to processes (`ss -p`).
//! - [`query`] is what `ss` lists: the dumps it runs, one
//!   [`query::SocketRecord`] per socket of any family, and the pipeline
//!   that runs the dumps; [`fmt`] writes what ss prints for a record.
//! - [`counters`] reads /proc/net/snmp, netstat, snmp6 and sockstat
//!   (`nstat`, `netstat -s`, `ss -s`).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod bytecode;
pub mod cgroup;
pub mod counters;
pub mod error;
pub mod filter;
pub mod fmt;
pub mod inet_diag;
pub mod netlink_diag;
pub mod owners;
pub mod packet_diag;
pub mod proc_net;
pub mod query;
#[allow(unsafe_code)]
mod sys;
pub mod tcp_info;
pub mod unix_diag;
mod wire;

pub use error::{Error, Result};
pub use inet_diag::{Extensions, Family, InetRequest, InetSock, Proto, States, TcpState};
pub use tcp_info::TcpInfo;

use netobs_core::{MsgBuf, NetlinkSocket, Netns, NlMsg, Protocol};

/// A NETLINK_SOCK_DIAG socket and a reusable request buffer.
///
/// Each dump walks the kernel's answer message by message out of one
/// receive buffer; the closure sees each socket as a view valid for that
/// call only.
#[derive(Debug)]
pub struct SockDiag {
    sock: NetlinkSocket,
    req: MsgBuf,
    /// The namespace the socket was opened in (None: the caller's), for
    /// the /proc tables of [`SockDiag::for_each_inet_or_proc`].
    netns: Option<std::os::fd::OwnedFd>,
}

/// Which source listed the sockets of an inet request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InetSource {
    /// The kernel's sock_diag dump.
    SockDiag,
    /// The /proc/net text table ([`proc_net`]): the protocol's sock_diag
    /// module is missing.
    ProcNet,
}

impl SockDiag {
    /// Opens a sock_diag socket in the caller's namespace.
    pub fn open() -> Result<Self> {
        Self::open_in(&Netns::Current)
    }

    /// Opens a sock_diag socket inside `netns`: every answer then describes
    /// that namespace's sockets.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        Ok(SockDiag {
            sock: NetlinkSocket::open_in(Protocol::SockDiag, netns)?,
            req: MsgBuf::new(),
            netns: netns.open()?,
        })
    }

    /// Sends the request in `self.req` and hands each answer to `f`.
    fn dump(&mut self, mut f: impl FnMut(&NlMsg<'_>) -> Result<()>) -> Result<()> {
        let mut dump = self.sock.dump(&mut self.req)?;
        while let Some(m) = dump.next()? {
            f(&m)?;
        }
        Ok(())
    }

    /// Dumps inet sockets matching `req`, calling `f` for each.
    pub fn for_each_inet(&mut self, req: &InetRequest<'_>, mut f: impl FnMut(&InetSock<'_>)) -> Result<()> {
        req.write(&mut self.req);
        self.dump(|m| {
            f(&InetSock::parse(m).map_err(netobs_core::Error::from)?);
            Ok(())
        })
    }

    /// [`for_each_inet`](Self::for_each_inet), or, where the kernel has no
    /// sock_diag module for the protocol (the dump answers ENOENT, as
    /// without raw_diag), [`for_each_inet_in_proc`](Self::for_each_inet_in_proc),
    /// as ss does. Returns which source answered.
    pub fn for_each_inet_or_proc(
        &mut self,
        req: &InetRequest<'_>,
        mut f: impl FnMut(&InetSock<'_>),
    ) -> Result<InetSource> {
        match self.for_each_inet(req, &mut f) {
            Ok(()) => Ok(InetSource::SockDiag),
            Err(e) if e.errno() == Some(libc::ENOENT) && proc_net::table_name(req.protocol, req.family).is_some() => {
                self.for_each_inet_in_proc(req, f).map(|()| InetSource::ProcNet)
            }
            Err(e) => Err(e),
        }
    }

    /// The sockets of the /proc/net table ss reads for `req`'s protocol and
    /// family ([`proc_net`]), in this handle's namespace, with the
    /// request's states and filter bytecode applied here
    /// ([`bytecode::run`]). Extensions (tcp_info, memory, mark, cgroup) do
    /// not exist on this path, and ss prints no `-e` details for it.
    pub fn for_each_inet_in_proc(&mut self, req: &InetRequest<'_>, mut f: impl FnMut(&InetSock<'_>)) -> Result<()> {
        let ns = match &self.netns {
            None => Netns::Current,
            Some(fd) => Netns::Fd(
                fd.try_clone()
                    .map_err(|e| Error::proc("dup of the namespace descriptor", e))?,
            ),
        };
        let text = ns.run(|| proc_net::read_table(req.protocol, req.family))??;
        let path = format!(
            "/proc/net/{}",
            proc_net::table_name(req.protocol, req.family).unwrap_or("?")
        );
        for m in proc_net::inet_diag_messages(&text, req.family, &path)? {
            let s = InetSock::parse_payload(&m).map_err(netobs_core::Error::from)?;
            if !req.states.contains_raw(s.state_raw()) {
                continue;
            }
            if let Some(b) = req.bytecode {
                if !bytecode::run(b, &filter::SockKey::of(&s)) {
                    continue;
                }
            }
            f(&s);
        }
        Ok(())
    }

    /// Dumps unix sockets in `states` with the attributes in `show`.
    pub fn for_each_unix(
        &mut self,
        states: States,
        show: unix_diag::UnixShow,
        mut f: impl FnMut(&unix_diag::UnixSock<'_>),
    ) -> Result<()> {
        unix_diag::write_request(&mut self.req, states.0, show);
        self.dump(|m| {
            f(&unix_diag::UnixSock::parse(m).map_err(netobs_core::Error::from)?);
            Ok(())
        })
    }

    /// Dumps packet sockets with the attributes in `show`.
    pub fn for_each_packet(
        &mut self,
        show: packet_diag::PacketShow,
        mut f: impl FnMut(&packet_diag::PacketSock<'_>),
    ) -> Result<()> {
        packet_diag::write_request(&mut self.req, show);
        self.dump(|m| {
            f(&packet_diag::PacketSock::parse(m).map_err(netobs_core::Error::from)?);
            Ok(())
        })
    }

    /// Dumps netlink sockets of `protocol` ([`netlink_diag::NDIAG_PROTO_ALL`] for all).
    pub fn for_each_netlink(
        &mut self,
        protocol: u8,
        show: netlink_diag::NetlinkShow,
        mut f: impl FnMut(&netlink_diag::NetlinkSock<'_>),
    ) -> Result<()> {
        netlink_diag::write_request(&mut self.req, protocol, show);
        self.dump(|m| {
            f(&netlink_diag::NetlinkSock::parse(m).map_err(netobs_core::Error::from)?);
            Ok(())
        })
    }

    /// Closes the socket `sock` (of `protocol`) from outside, like `ss -K`:
    /// the owner sees ECONNABORTED. The kernel needs CAP_NET_ADMIN and
    /// CONFIG_INET_DIAG_DESTROY; it answers EOPNOTSUPP where it cannot
    /// destroy that kind of socket and ENOENT when the socket is already gone.
    pub fn destroy(&mut self, protocol: Proto, sock: &InetSock<'_>) -> Result<()> {
        let mut req = MsgBuf::new();
        inet_diag::write_destroy(&mut req, protocol, sock);
        self.sock.ack(&mut req).map_err(|e| match e.errno() {
            Some(libc::EPERM) => Error::Netlink(netobs_core::Error::Permission {
                cap: "CAP_NET_ADMIN",
                what: "destroy sockets (SOCK_DESTROY)",
            }),
            _ => Error::Netlink(e),
        })
    }

    /// The underlying netlink socket (e.g. to issue destroy requests while
    /// a dump runs on another [`SockDiag`]).
    pub fn netlink(&mut self) -> &mut NetlinkSocket {
        &mut self.sock
    }
}

/// Decodes every message in `buf` (a recorded sock_diag answer) with every
/// view and reads every accessor, returning how many messages parsed as an
/// inet socket. Never panics, whatever the bytes: the fuzz target and the
/// mutation tests run it on arbitrary input.
pub fn decode_all(buf: &[u8]) -> usize {
    let mut n = 0;
    for m in netobs_core::nlmsg::NlMsgs::new(buf) {
        let Ok(m) = m else { break };
        if let Ok(s) = InetSock::parse(&m) {
            n += 1;
            let _ = (s.src(), s.dst(), s.sport(), s.dport(), s.state(), s.cookie(), s.inode());
            let _ = (
                s.congestion(),
                s.tos(),
                s.tclass(),
                s.shutdown(),
                s.mark(),
                s.cgroup_id(),
            );
            let _ = (
                s.skmeminfo(),
                s.meminfo(),
                s.sockopt(),
                s.ulp_name(),
                s.vegas(),
                s.dctcp(),
                s.bbr(),
                s.mptcp_info(),
            );
            if let Some(u) = s.ulp() {
                let _ = (u.tls(), u.mptcp());
            }
            if let Some(k) = s.md5_keys() {
                for key in k {
                    let _ = (key.addr(), key.key(), key.prefix_len());
                }
            }
            if let Some(i) = s.tcp_info() {
                let _ = i.fields().count();
                let _ = (
                    i.rtt(),
                    i.snd_wscale(),
                    i.rcv_wscale(),
                    i.delivery_rate_app_limited(),
                    i.received_ce_bytes(),
                );
            }
            let _ = bytecode::run(m.payload(), &filter::SockKey::of(&s));
        }
        if let Ok(u) = unix_diag::UnixSock::parse(&m) {
            let _ = (u.name(), u.vfs(), u.peer(), u.rqlen(), u.meminfo(), u.uid());
            let _ = u.pending().map(|p| p.count());
        }
        if let Ok(p) = packet_diag::PacketSock::parse(&m) {
            let _ = (
                p.info(),
                p.rx_ring(),
                p.tx_ring(),
                p.fanout(),
                p.filter_len(),
                p.cookie(),
            );
            let _ = p.mclist().map(|l| l.count());
        }
        if let Ok(l) = netlink_diag::NetlinkSock::parse(&m) {
            let _ = (l.groups().count(), l.flags(), l.meminfo(), l.cookie());
        }
        show_all(m.payload());
    }
    n
}

/// Reads `payload` as a record of every origin and writes what ss prints
/// for it with every option (but lookups of interfaces, owners and process
/// names), for [`decode_all`].
fn show_all(payload: &[u8]) {
    use query::{Origin, SocketRecord};
    let Ok(names) = fmt::Names::new(&Netns::Current) else {
        return;
    };
    let names = names.with_cgroup_paths(Default::default());
    let opts = fmt::Options {
        numeric: true,
        timers: true,
        details: true,
        memory: true,
        info: true,
        oneline: false,
    };
    for origin in [
        Origin::Netlink,
        Origin::Packet,
        Origin::Unix,
        Origin::Inet(Proto::Tcp, InetSource::SockDiag),
        Origin::Inet(Proto::Mptcp, InetSource::SockDiag),
    ] {
        if let Ok(r) = SocketRecord::parse(origin, payload) {
            let _ = (r.filter_key(), r.state_name(), r.to_owned_record());
            let mut text = String::new();
            for extra in fmt::extras(&r, &opts, &names, None) {
                let _ = std::fmt::Write::write_fmt(&mut text, format_args!("{extra}"));
            }
        }
    }
}
