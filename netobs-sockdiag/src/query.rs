//! ss's socket listing as a library: what to dump ([`Query`], with ss's
//! defaults as constructors), one record per socket of any family
//! ([`SocketRecord`]: what misc/ss.c normalizes into its `struct
//! sockstat`, so one filter and one printer serve every family), and the
//! pipeline that runs the dumps on the calling thread or on worker threads
//! ([`Query::run`], [`Query::run_with_owners`]).
//!
//! ss lists the tables in a fixed order (netlink, packet, unix, raw, udp,
//! tcp, dccp, sctp, mptcp; misc/ss.c `main`), each inet table over IPv4
//! then IPv6. The kernel filters inet sockets with the compiled bytecode;
//! unix, packet and netlink sockets are filtered here, in user space, as ss
//! does (`run_ssfilter` on what `unix_show_sock`, `packet_show_sock` and
//! `netlink_show_one` fill in).

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};

use netobs_core::{DecodeError, Netns};

use crate::filter::{Expr, SockKey, SocketKey};
use crate::inet_diag::{Extensions, Family, InetRequest, InetSock, Proto, SkMemInfo, States, TcpState};
use crate::netlink_diag::{NetlinkShow, NetlinkSock, NDIAG_PROTO_ALL};
use crate::owners::Owners;
use crate::packet_diag::{PacketShow, PacketSock};
use crate::tcp_info::OwnedTcpInfo;
use crate::unix_diag::{UnixName, UnixShow, UnixSock};
use crate::{bytecode, proc_net, Error, InetSource, Result, SockDiag};

/// One socket table, as ss's `-A` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    /// netlink_diag (`ss -A netlink`), the kernel's own sockets included.
    Netlink,
    /// packet_diag (`ss -0`).
    Packet,
    /// unix_diag (`ss -x`): stream, datagram and seqpacket sockets, which
    /// ss counts as three tables.
    Unix,
    /// inet_diag for one transport protocol (`ss -t`, `-u`, `-w`, `-M`, ...).
    Inet(Proto),
}

impl Table {
    /// Every table, in the order ss lists them (misc/ss.c `main`: netlink,
    /// packet, unix, raw, udp, tcp, dccp, sctp, mptcp); UDP-Lite, which ss
    /// does not list, comes last.
    pub const ALL: [Table; 10] = [
        Table::Netlink,
        Table::Packet,
        Table::Unix,
        Table::Inet(Proto::Raw),
        Table::Inet(Proto::Udp),
        Table::Inet(Proto::Tcp),
        Table::Inet(Proto::Dccp),
        Table::Inet(Proto::Sctp),
        Table::Inet(Proto::Mptcp),
        Table::Inet(Proto::UdpLite),
    ];

    /// What ss lists without a table option (every table the netobs
    /// example supports but MPTCP): the first six, netlink to tcp.
    pub const SS_DEFAULT: &'static [Table] = Table::ALL.split_at(6).0;

    /// `ss -A inet` as the netobs example reads it.
    pub const INET: [Table; 4] = [
        Table::Inet(Proto::Raw),
        Table::Inet(Proto::Udp),
        Table::Inet(Proto::Tcp),
        Table::Inet(Proto::Mptcp),
    ];

    /// The table's name: `netlink`, `packet`, `unix`, `raw`, `udp`, `tcp`,
    /// `dccp`, `sctp`, `mptcp`, `udplite`.
    pub fn name(self) -> &'static str {
        match self {
            Table::Netlink => "netlink",
            Table::Packet => "packet",
            Table::Unix => "unix",
            Table::Inet(Proto::Raw) => "raw",
            Table::Inet(Proto::Udp) => "udp",
            Table::Inet(Proto::Tcp) => "tcp",
            Table::Inet(Proto::Dccp) => "dccp",
            Table::Inet(Proto::Sctp) => "sctp",
            Table::Inet(Proto::Mptcp) => "mptcp",
            Table::Inet(Proto::UdpLite) => "udplite",
        }
    }

    /// The table called `name` ([`Table::name`]), case-insensitively.
    pub fn named(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The states ss lists for the table when given no state, `-a` or
    /// `-l` (misc/ss.c `filter_db_set` with each table's default states):
    /// the connected ones but TIME-WAIT and SYN-RECV for TCP-like and unix
    /// tables, ESTABLISHED for UDP and raw, UNCONN for packet and netlink.
    pub fn default_states(self) -> States {
        match self {
            Table::Netlink | Table::Packet => States::only(TcpState::Close),
            Table::Inet(Proto::Udp | Proto::Raw | Proto::UdpLite) => States::only(TcpState::Established),
            Table::Unix | Table::Inet(_) => States::DEFAULT,
        }
    }

    /// The table's place in ss's order.
    fn rank(self) -> usize {
        Table::ALL.iter().position(|&t| t == self).unwrap_or(Table::ALL.len())
    }
}

bitflags::bitflags! {
    /// The address families inet tables are dumped over (`ss -4`, `-6`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Families: u8 {
        /// IPv4.
        const INET = 1;
        /// IPv6.
        const INET6 = 2;
    }
}

/// What to list: the tables, the inet families, the states, which extra
/// attributes to ask the kernel for, and a filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    /// The socket tables, in ss's order.
    pub tables: Vec<Table>,
    /// The families inet tables are dumped over.
    pub families: Families,
    /// The states wanted. Packet and netlink sockets have none; ss lists
    /// them as UNCONN, so only a set holding CLOSE lists them.
    pub states: States,
    /// Socket memory (`ss -m`): inet MEMINFO and SKMEMINFO, unix MEMINFO.
    pub memory: bool,
    /// TCP internals (`ss -i`): tcp_info (mptcp_info on MPTCP), the
    /// congestion control's name and its info (vegas, bbr, dctcp).
    pub info: bool,
    /// Details (`ss -e`): a unix socket's file (VFS) and pending
    /// connections (ICONS).
    pub details: bool,
    /// The filter: compiled to bytecode for the kernel (inet), evaluated
    /// here for unix, packet and netlink sockets.
    pub filter: Option<Expr>,
}

impl Query {
    /// The sockets of `tables` (in ss's order whatever theirs) in ss's
    /// default states for them ([`Table::default_states`]), over IPv4 and
    /// IPv6, without extras.
    pub fn new(tables: &[Table]) -> Query {
        let mut tables = tables.to_vec();
        tables.sort_by_key(|t| t.rank());
        tables.dedup();
        Query {
            states: tables.iter().fold(States::NONE, |s, t| s | t.default_states()),
            tables,
            families: Families::all(),
            memory: false,
            info: false,
            details: false,
            filter: None,
        }
    }

    /// What ss lists for the table options given (`-t`, `-u`, `-x`, ...,
    /// empty when none) and `filter`: [`Table::SS_DEFAULT`] without a
    /// table option, and only unix sockets when the filter names unix
    /// sockets (ss's `parse_hostcond` then resets the families to
    /// AF_UNIX), in the default states of those tables.
    pub fn ss(tables: &[Table], filter: Option<Expr>) -> Query {
        let tables = if filter.as_ref().is_some_and(Expr::names_unix) {
            &[Table::Unix][..]
        } else if tables.is_empty() {
            Table::SS_DEFAULT
        } else {
            tables
        };
        Query {
            filter,
            ..Query::new(tables)
        }
    }

    /// The dumps the query runs, in ss's order.
    pub fn dumps(&self) -> Vec<Dump> {
        let unconn = self.states.contains(TcpState::Close);
        let mut dumps = Vec::new();
        for &table in &self.tables {
            match table {
                Table::Netlink if unconn => dumps.push(Dump::Netlink),
                Table::Packet if unconn => dumps.push(Dump::Packet),
                Table::Netlink | Table::Packet => {}
                Table::Unix => dumps.push(Dump::Unix),
                Table::Inet(proto) => {
                    for (flag, family) in [(Families::INET, Family::Inet), (Families::INET6, Family::Inet6)] {
                        if self.families.contains(flag) {
                            dumps.push(Dump::Inet(proto, family));
                        }
                    }
                }
            }
        }
        dumps
    }

    /// Runs one dump on `diag`, handing on each answer the filter keeps:
    /// the kernel filtered inet sockets with `bytecode`; unix, packet and
    /// netlink sockets are filtered here, as ss does.
    /// Runs one dump; an error names the table it was listing.
    fn run_dump(
        &self,
        diag: &mut SockDiag,
        dump: Dump,
        bytecode: Option<&[u8]>,
        f: &mut dyn FnMut(Answer<'_, '_>),
    ) -> Result<()> {
        self.run_dump_unnamed(diag, dump, bytecode, f)
            .map_err(|e| Error::Listing {
                table: dump.to_string(),
                source: Box::new(e),
            })
    }

    fn run_dump_unnamed(
        &self,
        diag: &mut SockDiag,
        dump: Dump,
        bytecode: Option<&[u8]>,
        f: &mut dyn FnMut(Answer<'_, '_>),
    ) -> Result<()> {
        let mut emit = |a: Answer<'_, '_>| match &self.filter {
            Some(e) if !matches!(a, Answer::Inet(..)) && !e.matches(&a.record().filter_key()) => {}
            _ => f(a),
        };
        match dump {
            Dump::Netlink => diag.for_each_netlink(NDIAG_PROTO_ALL, NetlinkShow::GROUPS | NetlinkShow::MEMINFO, |s| {
                emit(Answer::Netlink(s))
            }),
            Dump::Packet => {
                let show = PacketShow::INFO
                    | PacketShow::MEMINFO
                    | PacketShow::FILTER
                    | PacketShow::RING_CFG
                    | PacketShow::FANOUT;
                diag.for_each_packet(show, |s| emit(Answer::Packet(s)))
            }
            Dump::Unix => {
                let mut show = UnixShow::NAME | UnixShow::PEER | UnixShow::RQLEN | UnixShow::UID;
                if self.memory {
                    show |= UnixShow::MEMINFO;
                }
                if self.details {
                    show |= UnixShow::VFS | UnixShow::ICONS;
                }
                diag.for_each_unix(self.states, show, |s| emit(Answer::Unix(s)))
            }
            Dump::Inet(proto, family) => {
                let mut req = InetRequest::new(family, proto, self.states);
                if self.memory {
                    req.ext |= Extensions::MEMINFO | Extensions::SKMEMINFO;
                }
                if self.info {
                    req.ext |= Extensions::INFO | Extensions::VEGASINFO | Extensions::CONG;
                }
                req.bytecode = bytecode;
                let dumped = diag.for_each_inet(&req, |s| emit(Answer::Inet(s, proto, InetSource::SockDiag)));
                match dumped {
                    // An old kernel without MPTCP answers ENOENT or EINVAL,
                    // one without the dccp_diag or sctp_diag module ENOENT:
                    // ss stays quiet about these (misc/ss.c `mptcp_show`,
                    // `dccp_show`, `sctp_show` ignore the dump's failure).
                    Err(_) if matches!(proto, Proto::Mptcp | Proto::Dccp | Proto::Sctp) => Ok(()),
                    // Without the protocol's sock_diag module (raw_diag is
                    // often missing) ss reads the /proc/net table.
                    Err(e) if e.errno() == Some(libc::ENOENT) && proc_net::table_name(proto, family).is_some() => {
                        diag.for_each_inet_in_proc(&req, |s| emit(Answer::Inet(s, proto, InetSource::ProcNet)))
                    }
                    r => r,
                }
            }
        }
    }

    /// Runs every dump in turn on `diag`, handing each socket to `f` as it
    /// arrives.
    pub fn for_each(&self, diag: &mut SockDiag, mut f: impl FnMut(&SocketRecord<'_>)) -> Result<()> {
        let bc = self.filter.as_ref().map(bytecode::compile);
        for dump in self.dumps() {
            self.run_dump(diag, dump, bc.as_deref(), &mut |a| f(&a.record()))?;
        }
        Ok(())
    }

    /// Runs the dumps in `netns` as `pipeline` says, handing each socket to
    /// `f` on the calling thread, in ss's order.
    pub fn run(&self, netns: &Netns, pipeline: Pipeline, f: impl FnMut(&SocketRecord<'_>)) -> Result<()> {
        let diag = SockDiag::open_in(netns)?;
        match pipeline {
            Pipeline::Sequential => {
                let mut diag = diag;
                self.for_each(&mut diag, f)
            }
            Pipeline::Parallel { workers } => self.run_parallel(netns, diag, workers, f),
        }
    }

    /// The parallel pipeline: the kernel builds each dump inside the
    /// recvmsg calls of whoever reads it, so worker threads, each with its
    /// own socket and taking the next dump in ss's order, read the dumps
    /// while this thread hands on the answers in that order as they arrive
    /// (in chunks of kept payloads): the kernel's work and the caller's
    /// overlap. The netlink listing runs first, alone, on this thread: it
    /// shows the dumping sockets, and ss has one.
    fn run_parallel(
        &self,
        netns: &Netns,
        mut diag: SockDiag,
        workers: usize,
        mut f: impl FnMut(&SocketRecord<'_>),
    ) -> Result<()> {
        let bc = self.filter.as_ref().map(bytecode::compile);
        let mut dumps = self.dumps();
        if dumps.first() == Some(&Dump::Netlink) {
            dumps.remove(0);
            self.run_dump(&mut diag, Dump::Netlink, None, &mut |a| f(&a.record()))?;
        }
        let mut diags = vec![diag];
        while diags.len() < workers.min(dumps.len()) {
            diags.push(SockDiag::open_in(netns)?);
        }
        let (txs, rxs): (Vec<_>, Vec<_>) = dumps.iter().map(|_| mpsc::channel::<Chunk>()).unzip();
        // A dump's sender is taken by the worker that runs it; the senders
        // of dumps no worker reached (after an error) go when the last
        // worker stops, however it stops, which ends their channels.
        let txs = Mutex::new(txs.into_iter().map(Some).collect::<Vec<_>>());
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let live = AtomicUsize::new(diags.len());
        let (txs, next, stop, live, dumps, bc) = (&txs, &next, &stop, &live, &dumps, bc.as_deref());
        std::thread::scope(|scope| {
            let handles: Vec<_> = diags
                .into_iter()
                .map(|mut diag| {
                    scope.spawn(move || {
                        let _last = LastWorker { live, txs };
                        let r = self.work(&mut diag, dumps, txs, next, stop, bc);
                        if r.is_err() {
                            stop.store(true, Ordering::Relaxed);
                        }
                        r
                    })
                })
                .collect();
            let mut result = Ok(());
            'dumps: for rx in rxs {
                for (origin, buf) in rx {
                    for payload in kept(&buf) {
                        match SocketRecord::parse(origin, payload) {
                            Ok(r) => f(&r),
                            Err(e) => {
                                result = Err(Error::Netlink(e.into()));
                                stop.store(true, Ordering::Relaxed);
                                break 'dumps;
                            }
                        }
                    }
                }
            }
            for h in handles {
                let joined = h.join().unwrap_or(Err(Error::Netlink(netobs_core::Error::Protocol(
                    "socket dump thread panicked",
                ))));
                result = result.and(joined);
            }
            result
        })
    }

    /// A worker of the parallel pipeline: takes the next dump and sends
    /// its answers, in chunks of kept payloads, on that dump's channel.
    fn work(
        &self,
        diag: &mut SockDiag,
        dumps: &[Dump],
        txs: &Mutex<Vec<Option<mpsc::Sender<Chunk>>>>,
        next: &AtomicUsize,
        stop: &AtomicBool,
        bc: Option<&[u8]>,
    ) -> Result<()> {
        while !stop.load(Ordering::Relaxed) {
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(&dump) = dumps.get(j) else { break };
            let Some(tx) = txs.lock().ok().and_then(|mut t| t.get_mut(j).and_then(Option::take)) else {
                break;
            };
            // A chunk holds the answers of one origin (a dump's /proc
            // fallback is another origin).
            let mut chunk = Vec::with_capacity(CHUNK);
            let mut origin = None;
            self.run_dump(diag, dump, bc, &mut |a| {
                let o = a.origin();
                if let Some(last) = origin.filter(|&last| chunk.len() >= CHUNK || last != o) {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    let _ = tx.send((last, full));
                }
                origin = Some(o);
                keep(&mut chunk, a.payload());
            })?;
            if let Some(o) = origin {
                let _ = tx.send((o, chunk));
            }
        }
        Ok(())
    }

    /// Runs the dumps (one after the other, on the calling thread) while
    /// other threads scan /proc for the sockets' owners (`ss -p`, see
    /// [`Owners::scan`]); the answers are kept (their payloads copied) and
    /// handed to `f` with the owners once the scan is done.
    pub fn run_with_owners(&self, netns: &Netns, mut f: impl FnMut(&SocketRecord<'_>, &Owners)) -> Result<()> {
        let scan = std::thread::spawn(Owners::scan);
        let mut diag = SockDiag::open_in(netns)?;
        let mut answers: Vec<Chunk> = Vec::new();
        let bc = self.filter.as_ref().map(bytecode::compile);
        for dump in self.dumps() {
            self.run_dump(&mut diag, dump, bc.as_deref(), &mut |a| {
                let o = a.origin();
                match answers.last_mut() {
                    Some((last, buf)) if *last == o => keep(buf, a.payload()),
                    _ => {
                        let mut buf = Vec::new();
                        keep(&mut buf, a.payload());
                        answers.push((o, buf));
                    }
                }
            })?;
        }
        let owners = scan
            .join()
            .map_err(|_| Error::Netlink(netobs_core::Error::Protocol("owner scan thread panicked")))??;
        for (origin, buf) in &answers {
            for payload in kept(buf) {
                f(
                    &SocketRecord::parse(*origin, payload).map_err(netobs_core::Error::from)?,
                    &owners,
                );
            }
        }
        Ok(())
    }
}

/// One answer of a dump, the family's view as the dump lends it: what a
/// worker keeps (its payload) without making a record of it.
enum Answer<'r, 'a> {
    Inet(&'r InetSock<'a>, Proto, InetSource),
    Unix(&'r UnixSock<'a>),
    Packet(&'r PacketSock<'a>),
    Netlink(&'r NetlinkSock<'a>),
}

impl<'a> Answer<'_, 'a> {
    fn origin(&self) -> Origin {
        match *self {
            Answer::Inet(_, proto, source) => Origin::Inet(proto, source),
            Answer::Unix(_) => Origin::Unix,
            Answer::Packet(_) => Origin::Packet,
            Answer::Netlink(_) => Origin::Netlink,
        }
    }

    fn payload(&self) -> &'a [u8] {
        match self {
            Answer::Inet(s, ..) => s.payload(),
            Answer::Unix(s) => s.payload(),
            Answer::Packet(s) => s.payload(),
            Answer::Netlink(s) => s.payload(),
        }
    }

    fn record(&self) -> SocketRecord<'a> {
        match self {
            Answer::Inet(s, proto, source) => SocketRecord::inet((*s).clone(), *proto, *source),
            Answer::Unix(s) => SocketRecord::unix((*s).clone()),
            Answer::Packet(s) => SocketRecord::packet((*s).clone()),
            Answer::Netlink(s) => SocketRecord::netlink((*s).clone()),
        }
    }
}

/// Held by each worker of the parallel pipeline: the last one to stop
/// (returning or unwinding) drops the senders of the dumps no worker took.
struct LastWorker<'a> {
    live: &'a AtomicUsize,
    txs: &'a Mutex<Vec<Option<mpsc::Sender<Chunk>>>>,
}

impl Drop for LastWorker<'_> {
    fn drop(&mut self) {
        if self.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            // A worker that panicked while holding the lock leaves it
            // poisoned: the senders are dropped all the same.
            let mut t = self.txs.lock().unwrap_or_else(|p| p.into_inner());
            t.iter_mut().for_each(|tx| *tx = None);
        }
    }
}

/// Bytes of kept payloads a worker gathers before handing them on.
const CHUNK: usize = 1 << 18;

/// Kept answer payloads ([`keep`]) of one origin.
type Chunk = (Origin, Vec<u8>);

/// Appends one answer payload to `buf` as `[u32 length][payload][padding]`.
fn keep(buf: &mut Vec<u8>, payload: &[u8]) {
    buf.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
    buf.extend_from_slice(payload);
    buf.resize(buf.len().next_multiple_of(4), 0);
}

/// The payloads [`keep`] stored, in order.
fn kept(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let len = u32::from_ne_bytes(buf.get(at..at + 4)?.try_into().ok()?) as usize;
        let p = buf.get(at + 4..at + 4 + len)?;
        at = (at + 4 + len).next_multiple_of(4);
        Some(p)
    })
}

/// One dump request of a [`Query`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dump {
    /// Every netlink socket.
    Netlink,
    /// Every packet socket.
    Packet,
    /// The unix sockets in the query's states.
    Unix,
    /// The sockets of one inet protocol over one family.
    Inet(Proto, Family),
}

impl std::fmt::Display for Dump {
    /// The table as an error names it: "tcp sockets over IPv6".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (table, family) = match *self {
            Dump::Netlink => (Table::Netlink, None),
            Dump::Packet => (Table::Packet, None),
            Dump::Unix => (Table::Unix, None),
            Dump::Inet(proto, Family::Inet) => (Table::Inet(proto), Some("IPv4")),
            Dump::Inet(proto, Family::Inet6) => (Table::Inet(proto), Some("IPv6")),
        };
        write!(f, "{} sockets", table.name())?;
        match family {
            Some(family) => write!(f, " over {family}"),
            None => Ok(()),
        }
    }
}

/// Where an answer came from: its table and, for inet tables, whether
/// sock_diag or the /proc/net fallback answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// netlink_diag.
    Netlink,
    /// packet_diag.
    Packet,
    /// unix_diag.
    Unix,
    /// inet_diag of a protocol, or its /proc/net table.
    Inet(Proto, InetSource),
}

/// How [`Query::run`] runs its dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pipeline {
    /// Every dump in turn on the calling thread, each socket handed on as
    /// it arrives (what `ss -K` needs: it destroys sockets as they come).
    Sequential,
    /// Dumps read by up to `workers` threads, each with its own socket;
    /// the sockets are handed on in ss's order on the calling thread.
    Parallel {
        /// Most worker threads (and sock_diag sockets).
        workers: usize,
    },
}

/// One side of a socket, as ss shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// An inet address and port.
    Inet {
        /// The address.
        addr: IpAddr,
        /// The port (raw sockets: the IP protocol), 0 for any.
        port: u16,
        /// The bound interface (local end only; 0: none).
        interface: u32,
        /// IPV6_V6ONLY: an IPv6 wildcard is `*` (any family) only without it.
        v6only: bool,
    },
    /// A unix socket.
    Unix {
        /// The bound name; None when unbound, and always for the peer,
        /// whose name unix_diag does not give.
        name: Option<UnixName<'a>>,
        /// The socket's inode (the peer's for the remote end, 0: none).
        inode: u32,
    },
    /// A packet socket's local end.
    Packet {
        /// The EtherType it receives, in host order (3: ETH_P_ALL).
        protocol: u16,
        /// The bound interface (0: every interface).
        interface: u32,
    },
    /// A netlink socket's local end.
    Netlink {
        /// The netlink protocol (NETLINK_ROUTE = 0, ...).
        protocol: u8,
        /// The port id: 0 for the kernel's socket, a process id, negative
        /// when the kernel chose it (ss reads it as an int).
        portid: i32,
    },
    /// The peer of a connected netlink socket.
    NetlinkPeer {
        /// The peer's group.
        group: u32,
        /// The peer's port id.
        portid: i32,
    },
    /// No such end (`*`): the remote end of packet and unconnected netlink
    /// sockets.
    None,
}

/// A socket's own view, for what a record does not normalize.
#[derive(Clone, Debug)]
pub enum Socket<'a> {
    /// An inet socket and where it was read.
    Inet {
        /// The socket.
        sock: InetSock<'a>,
        /// sock_diag, or the /proc/net table (which has no extensions).
        source: InetSource,
    },
    /// A unix socket.
    Unix(UnixSock<'a>),
    /// A packet socket.
    Packet(PacketSock<'a>),
    /// A netlink socket.
    Netlink(NetlinkSock<'a>),
}

/// One socket of any family, normalized as ss normalizes it (misc/ss.c
/// `struct sockstat`), borrowed from the dump's buffer: what the columns
/// of `ss` show and its filter reads. Building one allocates nothing.
#[derive(Clone, Debug)]
pub struct SocketRecord<'a> {
    /// The table it was listed from.
    pub table: Table,
    /// ss's Netid: `tcp`, `udp`, `raw` (or the raw socket's IP protocol:
    /// `icmp6`, `???`), `mptcp`, `u_str`, `u_dgr`, `u_seq`, `p_raw`,
    /// `p_dgr`, `nl`.
    pub netid: &'static str,
    /// The kernel's state number (TCP numbering; packet and netlink
    /// sockets are CLOSE, which ss calls UNCONN).
    pub state: u8,
    /// ss's Recv-Q.
    pub rqueue: u32,
    /// ss's Send-Q.
    pub wqueue: u32,
    /// The local end.
    pub local: Endpoint<'a>,
    /// The remote end.
    pub remote: Endpoint<'a>,
    /// The socket's inode (0 for TIME-WAIT and SYN-RECV minisockets).
    pub inode: u32,
    /// The owner's uid, where the family's answer has it.
    pub uid: Option<u32>,
    /// The socket cookie (the kernel address on the /proc/net path).
    pub cookie: u64,
    /// The bound interface index (inet, packet), 0 otherwise.
    pub interface: u32,
    /// The family's own view.
    pub sock: Socket<'a>,
}

/// ss's Netid of an inet socket of table `proto` whose IP protocol the
/// kernel gave as `ip_protocol` (misc/ss.c `proto_name`; MPTCP sockets are
/// `mptcp`, a raw socket is named by its own IP protocol).
pub fn inet_netid(proto: Proto, ip_protocol: Option<u8>) -> &'static str {
    if proto == Proto::Mptcp {
        return "mptcp";
    }
    let number = match (ip_protocol, proto) {
        (Some(p), _) => i32::from(p),
        (None, Proto::Raw) => 0,
        (None, p) => p.number() as i32,
    };
    match number {
        0 => "raw",
        libc::IPPROTO_UDP => "udp",
        libc::IPPROTO_TCP => "tcp",
        libc::IPPROTO_SCTP => "sctp",
        libc::IPPROTO_DCCP => "dccp",
        libc::IPPROTO_ICMPV6 => "icmp6",
        _ => "???",
    }
}

/// ss's Netid of a unix socket of type `kind` (misc/ss.c
/// `unix_netid_name`): a type it does not know is `u_dgr`.
pub fn unix_netid(kind: u8) -> &'static str {
    match i32::from(kind) {
        libc::SOCK_STREAM => "u_str",
        libc::SOCK_SEQPACKET => "u_seq",
        _ => "u_dgr",
    }
}

/// ss's Netid of a packet socket of type `kind` (misc/ss.c
/// `packet_show_sock`): `p_raw` for SOCK_RAW, `p_dgr` otherwise.
pub fn packet_netid(kind: u8) -> &'static str {
    if i32::from(kind) == libc::SOCK_RAW {
        "p_raw"
    } else {
        "p_dgr"
    }
}

impl<'a> SocketRecord<'a> {
    /// An inet socket of table `proto`, read from `source`.
    pub fn inet(sock: InetSock<'a>, proto: Proto, source: InetSource) -> Self {
        let v6only = sock.family() == libc::AF_INET6 as u8 && sock.v6only().unwrap_or(false);
        SocketRecord {
            table: Table::Inet(proto),
            netid: inet_netid(proto, sock.protocol()),
            state: sock.state_raw(),
            rqueue: sock.rqueue(),
            wqueue: sock.wqueue(),
            local: Endpoint::Inet {
                addr: sock.src(),
                port: sock.sport(),
                interface: sock.interface(),
                v6only,
            },
            remote: Endpoint::Inet {
                addr: sock.dst(),
                port: sock.dport(),
                interface: 0,
                v6only,
            },
            inode: sock.inode(),
            uid: Some(sock.uid()),
            cookie: sock.cookie(),
            interface: sock.interface(),
            sock: Socket::Inet { sock, source },
        }
    }

    /// A unix socket (misc/ss.c `unix_show_sock`): its name and inode, the
    /// peer's inode; the queues from UNIX_DIAG_RQLEN.
    pub fn unix(sock: UnixSock<'a>) -> Self {
        let (rqueue, wqueue) = sock.rqlen().unwrap_or((0, 0));
        SocketRecord {
            table: Table::Unix,
            netid: unix_netid(sock.kind()),
            state: sock.state(),
            rqueue,
            wqueue,
            local: Endpoint::Unix {
                name: sock.name().map(UnixName::new),
                inode: sock.inode(),
            },
            remote: Endpoint::Unix {
                name: None,
                inode: sock.peer().unwrap_or(0),
            },
            inode: sock.inode(),
            uid: sock.uid(),
            cookie: sock.cookie(),
            interface: 0,
            sock: Socket::Unix(sock),
        }
    }

    /// A packet socket (misc/ss.c `packet_show_sock`): UNCONN, its receive
    /// queue from its memory info, nothing sent.
    pub fn packet(sock: PacketSock<'a>) -> Self {
        let interface = sock.info().map_or(0, |i| i.index);
        SocketRecord {
            table: Table::Packet,
            netid: packet_netid(sock.kind()),
            state: TcpState::Close as u8,
            rqueue: sock.meminfo().map_or(0, |m| m.rmem_alloc),
            wqueue: 0,
            local: Endpoint::Packet {
                protocol: sock.protocol(),
                interface,
            },
            remote: Endpoint::None,
            inode: sock.inode(),
            uid: sock.uid(),
            cookie: sock.cookie(),
            interface,
            sock: Socket::Packet(sock),
        }
    }

    /// A netlink socket (misc/ss.c `netlink_show_one`): UNCONN, the queues
    /// from its memory info, the peer when connected.
    pub fn netlink(sock: NetlinkSock<'a>) -> Self {
        let (rqueue, wqueue) = sock.meminfo().map_or((0, 0), |m| (m.rmem_alloc, m.wmem_alloc));
        // NETLINK_CONNECTED
        let remote = if sock.state() == 1 {
            Endpoint::NetlinkPeer {
                group: sock.dst_group(),
                portid: sock.dst_portid() as i32,
            }
        } else {
            Endpoint::None
        };
        SocketRecord {
            table: Table::Netlink,
            netid: "nl",
            state: TcpState::Close as u8,
            rqueue,
            wqueue,
            local: Endpoint::Netlink {
                protocol: sock.protocol(),
                portid: sock.portid() as i32,
            },
            remote,
            inode: sock.inode(),
            uid: None,
            cookie: sock.cookie(),
            interface: 0,
            sock: Socket::Netlink(sock),
        }
    }

    /// The record of an answer payload kept from a dump of `origin`.
    pub fn parse(origin: Origin, payload: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(match origin {
            Origin::Netlink => Self::netlink(NetlinkSock::parse_payload(payload)?),
            Origin::Packet => Self::packet(PacketSock::parse_payload(payload)?),
            Origin::Unix => Self::unix(UnixSock::parse_payload(payload)?),
            Origin::Inet(proto, source) => Self::inet(InetSock::parse_payload(payload)?, proto, source),
        })
    }

    /// Where the record came from.
    pub fn origin(&self) -> Origin {
        match (&self.sock, self.table) {
            (Socket::Inet { source, .. }, Table::Inet(proto)) => Origin::Inet(proto, *source),
            (Socket::Unix(_), _) => Origin::Unix,
            (Socket::Packet(_), _) => Origin::Packet,
            _ => Origin::Netlink,
        }
    }

    /// The answer payload the record reads (to keep it, and
    /// [`parse`](Self::parse) it again).
    pub fn payload(&self) -> &'a [u8] {
        match &self.sock {
            Socket::Inet { sock, .. } => sock.payload(),
            Socket::Unix(s) => s.payload(),
            Socket::Packet(s) => s.payload(),
            Socket::Netlink(s) => s.payload(),
        }
    }

    /// The state as ss names it (`ESTAB`, `LISTEN`, `UNCONN`, ...;
    /// `UNKNOWN` for a number it has no name for).
    pub fn state_name(&self) -> &'static str {
        TcpState::from_u8(self.state).map_or("UNKNOWN", TcpState::ss_name)
    }

    /// Socket memory (SKMEMINFO or the family's MEMINFO), when asked for.
    pub fn skmem(&self) -> Option<SkMemInfo> {
        match &self.sock {
            Socket::Inet { sock, .. } => sock.skmeminfo(),
            Socket::Unix(s) => s.meminfo(),
            Socket::Packet(s) => s.meminfo(),
            Socket::Netlink(s) => s.meminfo(),
        }
    }

    /// What ss's filter sees of the socket (see [`SocketKey`]).
    pub fn filter_key(&self) -> SocketKey<'a> {
        match (&self.sock, self.local, self.remote) {
            (Socket::Inet { sock, .. }, _, _) => SocketKey::from(SockKey::of(sock)),
            (_, Endpoint::Unix { name, inode }, Endpoint::Unix { inode: peer, .. }) => {
                SocketKey::unix(name, inode, peer)
            }
            (_, Endpoint::Packet { protocol, interface }, _) => SocketKey::packet(protocol, interface),
            (_, Endpoint::Netlink { protocol, portid }, _) => SocketKey::netlink(protocol, portid),
            // Not built by this module: a record's local end matches its family.
            _ => SocketKey::netlink(0, 0),
        }
    }

    /// The record kept beyond the dump (see [`OwnedSocketRecord`]).
    pub fn to_owned_record(&self) -> OwnedSocketRecord {
        let queues = Some(Queues {
            rqueue: self.rqueue,
            wqueue: self.wqueue,
        });
        let (queues, family) = match &self.sock {
            Socket::Inet { sock: s, .. } => (
                queues,
                OwnedSocket::Inet(InetRecord {
                    src: s.src(),
                    sport: s.sport(),
                    dst: s.dst(),
                    dport: s.dport(),
                    interface: s.interface(),
                    uid: s.uid(),
                    inode: s.inode(),
                    cookie: s.cookie(),
                    timer: s.timer(),
                    expires: s.expires(),
                    retrans: s.retrans(),
                    congestion: s.congestion().map(str::to_owned),
                    skmem: s.skmeminfo(),
                    tcp_info: s.tcp_info().map(|i| OwnedTcpInfo::new(i.bytes())),
                }),
            ),
            Socket::Unix(s) => (
                queues,
                OwnedSocket::Unix(UnixRecord {
                    name: s.name().map(|n| UnixName::new(n).to_string()),
                    inode: s.inode(),
                    peer: s.peer().unwrap_or(0),
                }),
            ),
            // ss shows a packet socket's queues, but its JSON has none.
            Socket::Packet(s) => (
                None,
                OwnedSocket::Packet(PacketRecord {
                    protocol: s.protocol(),
                    interface: self.interface,
                    inode: s.inode(),
                    uid: s.uid(),
                }),
            ),
            Socket::Netlink(s) => (
                queues,
                OwnedSocket::Netlink(NetlinkRecord {
                    protocol: s.protocol(),
                    portid: s.portid() as i32,
                    inode: s.inode(),
                }),
            ),
        };
        OwnedSocketRecord {
            netid: self.netid,
            state: self.state_name(),
            queues,
            family,
        }
    }
}

/// What `ss -K` does with a socket before showing it: destroys an inet
/// socket with SOCK_DESTROY through `diag` and tells whether to show it
/// (ss skips the sockets the kernel cannot destroy, EOPNOTSUPP, and those
/// already gone, ENOENT); other families are shown as they are.
pub fn kill(diag: &mut SockDiag, r: &SocketRecord<'_>) -> Result<bool> {
    let (Socket::Inet { sock, .. }, Table::Inet(proto)) = (&r.sock, r.table) else {
        return Ok(true);
    };
    match diag.destroy(proto, sock) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.errno(), Some(libc::EOPNOTSUPP) | Some(libc::ENOENT)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A socket kept beyond its dump: the fields the netobs `ss` example
/// prints with `--json`. With the `serde` feature it serializes as that
/// JSON object, field for field: netid, state, the queues, then the
/// family's fields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct OwnedSocketRecord {
    /// ss's Netid.
    pub netid: &'static str,
    /// The state as ss names it.
    pub state: &'static str,
    /// Recv-Q and Send-Q (not kept for packet sockets).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub queues: Option<Queues>,
    /// The family's fields.
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub family: OwnedSocket,
}

/// ss's Recv-Q and Send-Q.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Queues {
    /// Recv-Q.
    #[cfg_attr(feature = "serde", serde(rename = "recv_q"))]
    pub rqueue: u32,
    /// Send-Q.
    #[cfg_attr(feature = "serde", serde(rename = "send_q"))]
    pub wqueue: u32,
}

/// The fields of an [`OwnedSocketRecord`] that depend on its family.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(untagged))]
pub enum OwnedSocket {
    /// An inet socket.
    Inet(InetRecord),
    /// A unix socket.
    Unix(UnixRecord),
    /// A packet socket.
    Packet(PacketRecord),
    /// A netlink socket.
    Netlink(NetlinkRecord),
}

/// An inet socket's own fields, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[allow(missing_docs)] // the fields of InetSock
pub struct InetRecord {
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
    pub interface: u32,
    pub uid: u32,
    pub inode: u32,
    pub cookie: u64,
    pub timer: u8,
    /// Milliseconds until the timer fires.
    #[cfg_attr(feature = "serde", serde(rename = "expires_ms"))]
    pub expires: u32,
    pub retrans: u8,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub congestion: Option<String>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub skmem: Option<SkMemInfo>,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    pub tcp_info: Option<OwnedTcpInfo>,
}

/// A unix socket's own fields, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct UnixRecord {
    /// The name as ss prints it (`*` in JSON when unbound).
    #[cfg_attr(
        feature = "serde",
        serde(rename = "local", serialize_with = "serde_fields::star_if_none")
    )]
    pub name: Option<String>,
    /// The socket's inode.
    pub inode: u32,
    /// The peer's inode, 0 when none.
    #[cfg_attr(feature = "serde", serde(rename = "peer_inode"))]
    pub peer: u32,
}

/// A packet socket's own fields, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct PacketRecord {
    /// The EtherType, host order.
    pub protocol: u16,
    /// The bound interface (0: all).
    pub interface: u32,
    /// The socket's inode.
    pub inode: u32,
    /// The owner's uid (0 in JSON when the kernel did not send it).
    #[cfg_attr(feature = "serde", serde(serialize_with = "serde_fields::zero_if_none"))]
    pub uid: Option<u32>,
}

/// A netlink socket's own fields, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct NetlinkRecord {
    /// The netlink protocol.
    pub protocol: u8,
    /// The port id (negative when the kernel chose it).
    pub portid: i32,
    /// The socket's inode.
    pub inode: u32,
}

/// How the owned records write their optional fields in JSON.
#[cfg(feature = "serde")]
pub(crate) mod serde_fields {
    /// An absent number as 0.
    pub fn zero_if_none<S: serde::Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(v.unwrap_or(0))
    }

    /// An absent name as `*`, as ss prints an unbound socket.
    pub fn star_if_none<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v.as_deref().unwrap_or("*"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netobs_core::ErrorInfo;

    #[test]
    fn a_listing_error_names_its_table_and_keeps_its_cause() {
        let cause = Error::Netlink(netobs_core::Error::Kernel {
            errno: libc::ENOENT,
            msg: None,
            offset: None,
        });
        let e = Error::Listing {
            table: Dump::Inet(Proto::Raw, Family::Inet6).to_string(),
            source: Box::new(cause),
        };
        assert!(e.to_string().starts_with("listing raw sockets over IPv6: "), "{e}");
        assert_eq!(e.errno(), Some(libc::ENOENT));
        assert_eq!(ErrorInfo::kind(&e), netobs_core::ErrorKind::NotFound);
        assert_eq!(Dump::Unix.to_string(), "unix sockets");
        assert_eq!(
            Dump::Inet(Proto::Tcp, Family::Inet).to_string(),
            "tcp sockets over IPv4"
        );
    }
}
