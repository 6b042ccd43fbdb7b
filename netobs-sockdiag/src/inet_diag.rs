//! inet_diag: TCP, UDP, RAW and MPTCP sockets over IPv4 and IPv6
//! (include/uapi/linux/inet_diag.h, net/ipv4/inet_diag.c).
//!
//! A request is an `inet_diag_req_v2` (family, protocol, wanted extensions,
//! state mask, socket id) optionally followed by INET_DIAG_REQ_BYTECODE (a
//! filter program, see [`crate::bytecode`]) and INET_DIAG_REQ_PROTOCOL (for
//! protocols above 255, i.e. MPTCP). Each answer is an `inet_diag_msg`
//! followed by attributes, read here through the zero-copy [`InetSock`] view.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netobs_core::nlattr::{field, AttrIndex};
use netobs_core::{DecodeError, MsgBuf, NlMsg};

use crate::tcp_info::{InfoFields, TcpInfo};
use crate::wire::{split_msg, u32_at, u32s};

/// `SOCK_DIAG_BY_FAMILY` (include/uapi/linux/sock_diag.h).
pub const SOCK_DIAG_BY_FAMILY: u16 = 20;
/// `SOCK_DESTROY` (include/uapi/linux/sock_diag.h).
pub const SOCK_DESTROY: u16 = 21;

/// Request attribute: filter bytecode.
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;
/// Request attribute: protocol as u32, for protocols that do not fit the
/// request's u8 field (IPPROTO_MPTCP = 262).
pub const INET_DIAG_REQ_PROTOCOL: u16 = 3;

/// Answer attributes (`enum { INET_DIAG_NONE, ... }` in inet_diag.h).
pub mod attr {
    /// struct inet_diag_meminfo.
    pub const MEMINFO: u16 = 1;
    /// struct tcp_info (or the protocol's info).
    pub const INFO: u16 = 2;
    /// struct tcpvegas_info.
    pub const VEGASINFO: u16 = 3;
    /// Congestion control name.
    pub const CONG: u16 = 4;
    /// IPv4 TOS byte.
    pub const TOS: u16 = 5;
    /// IPv6 traffic class.
    pub const TCLASS: u16 = 6;
    /// `u32 sk_meminfo[SK_MEMINFO_VARS]`.
    pub const SKMEMINFO: u16 = 7;
    /// Shutdown state (bit 0 RCV_SHUTDOWN, bit 1 SEND_SHUTDOWN).
    pub const SHUTDOWN: u16 = 8;
    /// struct tcp_dctcp_info.
    pub const DCTCPINFO: u16 = 9;
    /// u8 protocol (for RAW: the socket's IP protocol).
    pub const PROTOCOL: u16 = 10;
    /// u8 IPV6_V6ONLY.
    pub const SKV6ONLY: u16 = 11;
    /// SCTP local addresses.
    pub const LOCALS: u16 = 12;
    /// SCTP peer addresses.
    pub const PEERS: u16 = 13;
    /// Padding.
    pub const PAD: u16 = 14;
    /// u32 SO_MARK (only sent to CAP_NET_ADMIN).
    pub const MARK: u16 = 15;
    /// struct tcp_bbr_info.
    pub const BBRINFO: u16 = 16;
    /// u32 net_cls class id.
    pub const CLASS_ID: u16 = 17;
    /// struct tcp_diag_md5sig[] (only sent to CAP_NET_ADMIN).
    pub const MD5SIG: u16 = 18;
    /// Nested upper-layer protocol info (tls, mptcp subflow).
    pub const ULP_INFO: u16 = 19;
    /// BPF socket storages.
    pub const SK_BPF_STORAGES: u16 = 20;
    /// u64 cgroup v2 id.
    pub const CGROUP_ID: u16 = 21;
    /// struct inet_diag_sockopt.
    pub const SOCKOPT: u16 = 22;
    /// One past the highest attribute this crate indexes.
    pub const MAX: usize = 24;
}

bitflags::bitflags! {
    /// Extensions asked for in `idiag_ext`: bit `N-1` asks for attribute `N`
    /// (only the first eight attributes have a bit; the kernel sends the
    /// others when it has them).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct Extensions: u8 {
        /// INET_DIAG_MEMINFO.
        const MEMINFO = 1 << (attr::MEMINFO - 1);
        /// INET_DIAG_INFO: tcp_info (and BBR/DCTCP info of the congestion control).
        const INFO = 1 << (attr::INFO - 1);
        /// INET_DIAG_VEGASINFO; also what makes BBR send INET_DIAG_BBRINFO and
        /// DCTCP send INET_DIAG_DCTCPINFO (BBRINFO's own bit, 15, does not fit
        /// the u8; net/ipv4/tcp_bbr.c `bbr_get_info`).
        const VEGASINFO = 1 << (attr::VEGASINFO - 1);
        /// INET_DIAG_CONG.
        const CONG = 1 << (attr::CONG - 1);
        /// INET_DIAG_TOS.
        const TOS = 1 << (attr::TOS - 1);
        /// INET_DIAG_TCLASS.
        const TCLASS = 1 << (attr::TCLASS - 1);
        /// INET_DIAG_SKMEMINFO.
        const SKMEMINFO = 1 << (attr::SKMEMINFO - 1);
        /// INET_DIAG_SHUTDOWN.
        const SHUTDOWN = 1 << (attr::SHUTDOWN - 1);
    }
}

/// TCP states as the kernel numbers them (include/net/tcp_states.h); UDP and
/// RAW sockets use ESTABLISHED (connected) and CLOSE (unconnected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum TcpState {
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
    BoundInactive = 13,
}

impl TcpState {
    /// Every state, in kernel order.
    pub const ALL: [TcpState; 13] = [
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
        TcpState::BoundInactive,
    ];

    /// The state with kernel number `n`.
    pub fn from_u8(n: u8) -> Option<TcpState> {
        TcpState::ALL.get((n as usize).wrapping_sub(1)).copied()
    }

    /// The name ss prints (`ESTAB`, `SYN-SENT`, `UNCONN`, ...).
    pub fn ss_name(self) -> &'static str {
        match self {
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            // ss 6.1 has no names for these two and prints "UNKNOWN".
            TcpState::NewSynRecv | TcpState::BoundInactive => "UNKNOWN",
        }
    }
}

/// A set of states, as the `idiag_states` bit mask (bit N = state N).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct States(pub u32);

const fn bit(s: TcpState) -> u32 {
    1 << s as u8
}

impl States {
    /// ss `all`: states 0 to 11, as iproute2's SS_ALL. NEW_SYN_RECV and
    /// BOUND_INACTIVE (6.8+) are outside it, as they are for ss.
    pub const ALL: States = States((1 << 12) - 1);
    /// No state.
    pub const NONE: States = States(0);
    /// ss `connected`: all but LISTEN and CLOSE.
    pub const CONNECTED: States = States(States::ALL.0 & !(bit(TcpState::Listen) | bit(TcpState::Close)));
    /// ss `synchronized`: connected but not SYN-SENT.
    pub const SYNCHRONIZED: States = States(States::CONNECTED.0 & !bit(TcpState::SynSent));
    /// ss `bucket`: SYN-RECV and TIME-WAIT (minisockets).
    pub const BUCKET: States = States(bit(TcpState::SynRecv) | bit(TcpState::TimeWait));
    /// ss `big`: all but the bucket states.
    pub const BIG: States = States(States::ALL.0 & !States::BUCKET.0);
    /// What ss shows without -a, -l or a state: connected sockets, minus
    /// TIME-WAIT and SYN-RECV (iproute2's SS_CONN).
    pub const DEFAULT: States = States(States::CONNECTED.0 & !States::BUCKET.0);
    /// ss `-l`: LISTEN and CLOSE (unconnected datagram sockets).
    pub const LISTENING: States = States(bit(TcpState::Listen) | bit(TcpState::Close));

    /// The set holding only `s`.
    pub fn only(s: TcpState) -> States {
        States(bit(s))
    }

    /// Whether `s` is in the set.
    pub fn contains(self, s: TcpState) -> bool {
        self.0 & bit(s) != 0
    }

    /// Whether the kernel state number `n` is in the set.
    pub fn contains_raw(self, n: u8) -> bool {
        n < 32 && self.0 & (1 << n) != 0
    }

    /// Whether the set holds more than one state.
    pub fn is_multiple(self) -> bool {
        self.0 & self.0.wrapping_sub(1) != 0
    }

    /// Parses one of ss's state words, case-insensitively: a state name
    /// (`established`, `syn-sent`, `syn-recv`/`syn-rcv`, `fin-wait-1`,
    /// `fin-wait-2`, `time-wait`, `unconnected`/`close`/`closed`,
    /// `close-wait`, `last-ack`, `listening`, `closing`, `unknown`) or a
    /// group (`all`, `connected`, `synchronized`, `bucket`, `big`).
    pub fn parse(word: &str) -> Option<States> {
        let w = word.to_ascii_lowercase();
        let s = match w.as_str() {
            "all" => return Some(States::ALL),
            "connected" => return Some(States::CONNECTED),
            "synchronized" => return Some(States::SYNCHRONIZED),
            "bucket" => return Some(States::BUCKET),
            "big" => return Some(States::BIG),
            "unknown" => return Some(States(1)),
            "established" => TcpState::Established,
            "syn-sent" => TcpState::SynSent,
            "syn-recv" | "syn-rcv" => TcpState::SynRecv,
            "fin-wait-1" => TcpState::FinWait1,
            "fin-wait-2" => TcpState::FinWait2,
            "time-wait" => TcpState::TimeWait,
            "unconnected" | "close" | "closed" => TcpState::Close,
            "close-wait" => TcpState::CloseWait,
            "last-ack" => TcpState::LastAck,
            "listening" => TcpState::Listen,
            "closing" => TcpState::Closing,
            _ => return None,
        };
        Some(States::only(s))
    }
}

impl std::ops::BitOr for States {
    type Output = States;
    fn bitor(self, o: States) -> States {
        States(self.0 | o.0)
    }
}

/// Address family of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// AF_INET.
    Inet,
    /// AF_INET6.
    Inet6,
}

impl Family {
    /// The AF_* number.
    pub fn af(self) -> u8 {
        match self {
            Family::Inet => libc::AF_INET as u8,
            Family::Inet6 => libc::AF_INET6 as u8,
        }
    }
}

/// Transport protocols inet_diag answers for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    /// IPPROTO_TCP.
    Tcp,
    /// IPPROTO_UDP.
    Udp,
    /// IPPROTO_UDPLITE.
    UdpLite,
    /// IPPROTO_RAW: every raw socket, whatever its IP protocol.
    Raw,
    /// IPPROTO_SCTP.
    Sctp,
    /// IPPROTO_MPTCP (262, sent as INET_DIAG_REQ_PROTOCOL).
    Mptcp,
    /// IPPROTO_DCCP.
    Dccp,
}

impl Proto {
    /// The IPPROTO_* number.
    pub fn number(self) -> u32 {
        match self {
            Proto::Tcp => libc::IPPROTO_TCP as u32,
            Proto::Udp => libc::IPPROTO_UDP as u32,
            Proto::UdpLite => libc::IPPROTO_UDPLITE as u32,
            Proto::Raw => libc::IPPROTO_RAW as u32,
            Proto::Sctp => libc::IPPROTO_SCTP as u32,
            Proto::Mptcp => 262,
            Proto::Dccp => libc::IPPROTO_DCCP as u32,
        }
    }
}

/// An inet_diag dump request. Built into a reusable [`MsgBuf`].
#[derive(Clone, Debug)]
pub struct InetRequest<'a> {
    /// Address family.
    pub family: Family,
    /// Transport protocol.
    pub protocol: Proto,
    /// States wanted; the kernel skips the rest.
    pub states: States,
    /// Extensions wanted.
    pub ext: Extensions,
    /// Filter program (see [`crate::bytecode`]); the kernel audits it and
    /// answers EINVAL if it is malformed.
    pub bytecode: Option<&'a [u8]>,
}

/// Size of `struct inet_diag_req_v2`.
pub const REQ_V2_LEN: usize = 56;
/// Size of `struct inet_diag_msg`.
pub const MSG_LEN: usize = 72;

impl InetRequest<'_> {
    /// A request for every socket of `protocol` over `family` in `states`.
    pub fn new(family: Family, protocol: Proto, states: States) -> Self {
        InetRequest {
            family,
            protocol,
            states,
            ext: Extensions::empty(),
            bytecode: None,
        }
    }

    /// Writes the request (header, struct, attributes) into `buf`.
    pub fn write(&self, buf: &mut MsgBuf) {
        buf.begin(SOCK_DIAG_BY_FAMILY, 0);
        let mut r = [0u8; REQ_V2_LEN];
        r[0] = self.family.af();
        let proto = self.protocol.number();
        r[1] = if proto > 255 { 0 } else { proto as u8 };
        r[2] = self.ext.bits();
        r[4..8].copy_from_slice(&self.states.0.to_ne_bytes());
        // id: wildcard; cookie INET_DIAG_NOCOOKIE (~0) is only needed for
        // exact lookups, dumps ignore it.
        buf.push(&r);
        if let Some(bc) = self.bytecode {
            buf.attr(INET_DIAG_REQ_BYTECODE, bc);
        }
        if proto > 255 {
            buf.attr_u32(INET_DIAG_REQ_PROTOCOL, proto);
        }
    }
}

/// Writes a SOCK_DESTROY request for the socket `sock` of `protocol`
/// (net/core/sock_diag.c: needs CAP_NET_ADMIN in the socket's namespace and
/// CONFIG_INET_DIAG_DESTROY).
pub fn write_destroy(buf: &mut MsgBuf, protocol: Proto, sock: &InetSock<'_>) {
    buf.begin(SOCK_DESTROY, 0);
    let mut r = [0u8; REQ_V2_LEN];
    r[0] = sock.family();
    r[1] = protocol.number().min(255) as u8;
    if protocol == Proto::Raw {
        // inet_diag_req_raw: the pad byte is sdiag_raw_protocol.
        r[3] = sock.protocol().unwrap_or(0);
    }
    // The socket id (ports, addresses, interface, cookie) as the kernel sent it.
    r[8..56].copy_from_slice(&sock.hdr[4..52]);
    buf.push(&r);
    if protocol.number() > 255 {
        buf.attr_u32(INET_DIAG_REQ_PROTOCOL, protocol.number());
    }
}

/// One socket of an inet_diag answer, borrowed from the receive buffer.
#[derive(Clone, Debug)]
pub struct InetSock<'a> {
    payload: &'a [u8],
    hdr: &'a [u8],
    attrs: AttrIndex<'a, { attr::MAX }>,
}

/// Fixed attribute sizes checked once at parse time.
const SIZES: &[(u16, usize)] = &[
    (attr::TOS, 1),
    (attr::TCLASS, 1),
    (attr::SHUTDOWN, 1),
    (attr::PROTOCOL, 1),
    (attr::SKV6ONLY, 1),
    (attr::MARK, 4),
    (attr::CLASS_ID, 4),
    (attr::CGROUP_ID, 8),
];

impl<'a> InetSock<'a> {
    /// Parses one SOCK_DIAG_BY_FAMILY answer message.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.payload())
    }

    /// Parses the payload of an answer (an `inet_diag_msg` and attributes).
    pub fn parse_payload(p: &'a [u8]) -> Result<Self, DecodeError> {
        let (hdr, attrs) = split_msg(p, "inet_diag_msg", MSG_LEN, SIZES)?;
        Ok(InetSock { payload: p, hdr, attrs })
    }

    /// The message payload this view reads (`inet_diag_msg` and
    /// attributes): copy it to keep a socket beyond the dump, and view it
    /// again with [`InetSock::parse_payload`].
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// AF_INET or AF_INET6.
    pub fn family(&self) -> u8 {
        self.hdr[0]
    }
    /// Kernel state number (see [`TcpState`]).
    pub fn state_raw(&self) -> u8 {
        self.hdr[1]
    }
    /// The state, if it is one this crate knows.
    pub fn state(&self) -> Option<TcpState> {
        TcpState::from_u8(self.hdr[1])
    }
    /// Pending timer: 0 none, 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 zero-window probe.
    pub fn timer(&self) -> u8 {
        self.hdr[2]
    }
    /// Retransmits (or probes) of the pending timer.
    pub fn retrans(&self) -> u8 {
        self.hdr[3]
    }
    /// Local port.
    pub fn sport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[4], self.hdr[5]])
    }
    /// Remote port.
    pub fn dport(&self) -> u16 {
        u16::from_be_bytes([self.hdr[6], self.hdr[7]])
    }
    fn addr(&self, off: usize) -> IpAddr {
        let b = &self.hdr[off..off + 16];
        if self.family() == libc::AF_INET as u8 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }
    /// Local address.
    pub fn src(&self) -> IpAddr {
        self.addr(8)
    }
    /// Remote address.
    pub fn dst(&self) -> IpAddr {
        self.addr(24)
    }
    /// Raw 16 bytes of the local address (IPv4 in the first four).
    pub fn src_bytes(&self) -> &'a [u8] {
        &self.hdr[8..24]
    }
    /// Raw 16 bytes of the remote address.
    pub fn dst_bytes(&self) -> &'a [u8] {
        &self.hdr[24..40]
    }
    /// Bound interface index (SO_BINDTODEVICE), 0 if none.
    pub fn interface(&self) -> u32 {
        u32_at(self.hdr, 40)
    }
    /// The socket cookie (unique per socket for the life of the kernel).
    pub fn cookie(&self) -> u64 {
        u32_at(self.hdr, 44) as u64 | (u32_at(self.hdr, 48) as u64) << 32
    }
    /// Milliseconds until the pending timer fires.
    pub fn expires(&self) -> u32 {
        u32_at(self.hdr, 52)
    }
    /// Receive queue: unread bytes, or for LISTEN the accept backlog length.
    pub fn rqueue(&self) -> u32 {
        u32_at(self.hdr, 56)
    }
    /// Send queue: unacknowledged bytes, or for LISTEN the backlog limit.
    pub fn wqueue(&self) -> u32 {
        u32_at(self.hdr, 60)
    }
    /// Owner's uid (in the socket's user namespace, as seen by the kernel).
    pub fn uid(&self) -> u32 {
        u32_at(self.hdr, 64)
    }
    /// Inode number of the socket (`socket:[INODE]` in /proc/PID/fd), 0 for
    /// TIME-WAIT and SYN-RECV minisockets.
    pub fn inode(&self) -> u32 {
        u32_at(self.hdr, 68)
    }
    /// The raw attribute index, for attributes newer than this crate.
    pub fn attrs(&self) -> &AttrIndex<'a, { attr::MAX }> {
        &self.attrs
    }
    /// tcp_info (INET_DIAG_INFO), when asked for with [`Extensions::INFO`] on TCP.
    pub fn tcp_info(&self) -> Option<TcpInfo<'a>> {
        self.attrs.bytes_of(attr::INFO).map(TcpInfo::new)
    }
    /// INET_DIAG_INFO of an MPTCP socket (a dump with [`Proto::Mptcp`]),
    /// which is a `struct mptcp_info`, not a `tcp_info`.
    pub fn mptcp_info(&self) -> Option<MptcpInfo> {
        self.attrs.bytes_of(attr::INFO).map(MptcpInfo::parse)
    }
    /// The fields of the `struct mptcp_info` of an MPTCP socket that the
    /// kernel sent ([`MPTCP_INFO_FIELDS`]), with their values.
    pub fn mptcp_info_fields(&self) -> Option<InfoFields<'a>> {
        Some(InfoFields::new(self.attrs.bytes_of(attr::INFO)?, MPTCP_INFO_FIELDS))
    }
    /// Congestion control name (INET_DIAG_CONG).
    pub fn congestion(&self) -> Option<&'a str> {
        self.attrs.str(attr::CONG)
    }
    /// IPv4 TOS byte.
    pub fn tos(&self) -> Option<u8> {
        self.attrs.u8(attr::TOS)
    }
    /// IPv6 traffic class.
    pub fn tclass(&self) -> Option<u8> {
        self.attrs.u8(attr::TCLASS)
    }
    /// Shutdown mask: bit 0 receive side shut, bit 1 send side shut.
    pub fn shutdown(&self) -> Option<u8> {
        self.attrs.u8(attr::SHUTDOWN)
    }
    /// The socket's IP protocol (raw sockets: the protocol it was opened with).
    pub fn protocol(&self) -> Option<u8> {
        self.attrs.u8(attr::PROTOCOL)
    }
    /// IPV6_V6ONLY for IPv6 sockets.
    pub fn v6only(&self) -> Option<bool> {
        self.attrs.u8(attr::SKV6ONLY).map(|v| v != 0)
    }
    /// SO_MARK (the kernel sends it only to CAP_NET_ADMIN).
    pub fn mark(&self) -> Option<u32> {
        self.attrs.u32(attr::MARK)
    }
    /// net_cls class id (or the TOS/priority fallback the kernel sends).
    pub fn class_id(&self) -> Option<u32> {
        self.attrs.u32(attr::CLASS_ID)
    }
    /// cgroup v2 id of the socket's cgroup.
    pub fn cgroup_id(&self) -> Option<u64> {
        self.attrs.u64(attr::CGROUP_ID)
    }
    /// sk_meminfo (INET_DIAG_SKMEMINFO).
    pub fn skmeminfo(&self) -> Option<SkMemInfo> {
        self.attrs.bytes_of(attr::SKMEMINFO).and_then(SkMemInfo::parse)
    }
    /// inet_diag_meminfo (INET_DIAG_MEMINFO).
    pub fn meminfo(&self) -> Option<MemInfo> {
        let [rmem, wmem, fmem, tmem] = u32s(self.attrs.bytes_of(attr::MEMINFO)?)?;
        Some(MemInfo { rmem, wmem, fmem, tmem })
    }
    /// inet_diag_sockopt flags (INET_DIAG_SOCKOPT), kernel 5.10+.
    pub fn sockopt(&self) -> Option<SockOpt> {
        let b = self.attrs.bytes_of(attr::SOCKOPT)?;
        let v: [u8; 2] = field(b, 0)?;
        Some(SockOpt::from_bits_retain(u16::from_ne_bytes(v)))
    }
    /// Upper-layer protocol name (INET_ULP_INFO_NAME in INET_DIAG_ULP_INFO), e.g. `tls`.
    pub fn ulp_name(&self) -> Option<&'a str> {
        self.ulp()?.name()
    }
    /// The upper-layer protocol's own info (INET_DIAG_ULP_INFO); None when
    /// absent or malformed.
    pub fn ulp(&self) -> Option<UlpInfo<'a>> {
        UlpInfo::parse(self.attrs.get(attr::ULP_INFO)?.payload()).ok()
    }
    /// TCP Vegas info (INET_DIAG_VEGASINFO).
    pub fn vegas(&self) -> Option<VegasInfo> {
        let [enabled, rttcnt, rtt, minrtt] = u32s(self.attrs.bytes_of(attr::VEGASINFO)?)?;
        Some(VegasInfo {
            enabled,
            rttcnt,
            rtt,
            minrtt,
        })
    }
    /// DCTCP info (INET_DIAG_DCTCPINFO).
    pub fn dctcp(&self) -> Option<DctcpInfo> {
        let b = self.attrs.bytes_of(attr::DCTCPINFO)?;
        let b: [u8; 16] = field(b, 0)?;
        Some(DctcpInfo {
            enabled: u16::from_ne_bytes([b[0], b[1]]),
            ce_state: u16::from_ne_bytes([b[2], b[3]]),
            alpha: u32_at(&b, 4),
            ab_ecn: u32_at(&b, 8),
            ab_tot: u32_at(&b, 12),
        })
    }
    /// BBR info (INET_DIAG_BBRINFO).
    pub fn bbr(&self) -> Option<BbrInfo> {
        let [bw_lo, bw_hi, min_rtt, pacing_gain, cwnd_gain] = u32s(self.attrs.bytes_of(attr::BBRINFO)?)?;
        Some(BbrInfo {
            bw: bw_lo as u64 | (bw_hi as u64) << 32,
            min_rtt,
            pacing_gain,
            cwnd_gain,
        })
    }
    /// TCP MD5 keys (INET_DIAG_MD5SIG; the kernel sends them only to
    /// CAP_NET_ADMIN), each 100 bytes: family, prefix length, key length,
    /// address, key.
    pub fn md5_keys(&self) -> Option<impl Iterator<Item = Md5Key<'a>>> {
        let b = self.attrs.bytes_of(attr::MD5SIG)?;
        Some(b.chunks_exact(MD5SIG_LEN).map(Md5Key))
    }
}

/// `struct inet_diag_meminfo`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MemInfo {
    pub rmem: u32,
    pub wmem: u32,
    pub fmem: u32,
    pub tmem: u32,
}

/// `u32 sk_meminfo[SK_MEMINFO_VARS]` (include/uapi/linux/sock_diag.h); the
/// last two entries are newer and `None` when the kernel sends fewer.
/// With the `serde` feature the two newer entries serialize as 0 when absent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[allow(missing_docs)]
pub struct SkMemInfo {
    pub rmem_alloc: u32,
    pub rcvbuf: u32,
    pub wmem_alloc: u32,
    pub sndbuf: u32,
    pub fwd_alloc: u32,
    pub wmem_queued: u32,
    pub optmem: u32,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::query::serde_fields::zero_if_none")
    )]
    pub backlog: Option<u32>,
    #[cfg_attr(
        feature = "serde",
        serde(serialize_with = "crate::query::serde_fields::zero_if_none")
    )]
    pub drops: Option<u32>,
}

impl SkMemInfo {
    /// Reads the array; `None` if it is shorter than the seven original entries.
    pub fn parse(b: &[u8]) -> Option<SkMemInfo> {
        let [rmem_alloc, rcvbuf, wmem_alloc, sndbuf, fwd_alloc, wmem_queued, optmem] = u32s(b)?;
        let at = |i: usize| field::<4>(b, i * 4).map(u32::from_ne_bytes);
        Some(SkMemInfo {
            rmem_alloc,
            rcvbuf,
            wmem_alloc,
            sndbuf,
            fwd_alloc,
            wmem_queued,
            optmem,
            backlog: at(7),
            drops: at(8),
        })
    }
}

/// INET_DIAG_ULP_INFO: a TCP socket's upper-layer protocol
/// (include/uapi/linux/inet_diag.h `INET_ULP_INFO_*`).
#[derive(Clone, Debug)]
pub struct UlpInfo<'a>(AttrIndex<'a, 4>);

impl<'a> UlpInfo<'a> {
    /// Parses the payload of INET_DIAG_ULP_INFO (nested attributes).
    pub fn parse(payload: &'a [u8]) -> Result<Self, DecodeError> {
        Ok(UlpInfo(AttrIndex::parse(payload)?))
    }
    /// INET_ULP_INFO_NAME: `tls`, `mptcp`, ...
    pub fn name(&self) -> Option<&'a str> {
        self.0.str(1)
    }
    /// INET_ULP_INFO_TLS (kTLS, include/uapi/linux/tls.h `TLS_INFO_*`).
    pub fn tls(&self) -> Option<TlsInfo> {
        let t = AttrIndex::<7>::parse(self.0.get(2)?.payload()).ok()?;
        Some(TlsInfo {
            version: t.u16(1),
            cipher: t.u16(2),
            txconf: t.u16(3),
            rxconf: t.u16(4),
            zc_ro_tx: t.has(5),
            rx_no_pad: t.has(6),
        })
    }
    /// INET_ULP_INFO_MPTCP: an MPTCP subflow (include/uapi/linux/mptcp.h
    /// `MPTCP_SUBFLOW_ATTR_*`).
    pub fn mptcp(&self) -> Option<MptcpSubflow> {
        let m = AttrIndex::<12>::parse(self.0.get(3)?.payload()).ok()?;
        Some(MptcpSubflow {
            token_rem: m.u32(1),
            token_loc: m.u32(2),
            relwrite_seq: m.u32(3),
            map_seq: m.u64(4),
            map_sfseq: m.u32(5),
            ssn_offset: m.u32(6),
            map_datalen: m.u16(7),
            flags: m.u32(8),
            id_rem: m.u8(9),
            id_loc: m.u8(10),
        })
    }
}

/// kTLS state of a socket (`TLS_INFO_*`); None where the kernel left the
/// attribute out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TlsInfo {
    /// TLS_INFO_VERSION: 0x0303 for TLS 1.2, 0x0304 for 1.3.
    pub version: Option<u16>,
    /// TLS_INFO_CIPHER: TLS_CIPHER_* (51 AES-GCM-128, 52 AES-GCM-256, ...).
    pub cipher: Option<u16>,
    /// TLS_INFO_TXCONF: TLS_CONF_BASE 1, SW 2, HW 3, HW_RECORD 4.
    pub txconf: Option<u16>,
    /// TLS_INFO_RXCONF, as txconf.
    pub rxconf: Option<u16>,
    /// TLS_INFO_ZC_RO_TX: zero-copy sendfile allowed.
    pub zc_ro_tx: bool,
    /// TLS_INFO_RX_NO_PAD: TLS 1.3 receive without padding.
    pub rx_no_pad: bool,
}

/// An MPTCP subflow's state (`MPTCP_SUBFLOW_ATTR_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MptcpSubflow {
    pub token_rem: Option<u32>,
    pub token_loc: Option<u32>,
    pub relwrite_seq: Option<u32>,
    pub map_seq: Option<u64>,
    pub map_sfseq: Option<u32>,
    pub ssn_offset: Option<u32>,
    pub map_datalen: Option<u16>,
    /// MPTCP_SUBFLOW_FLAG_* bits.
    pub flags: Option<u32>,
    pub id_rem: Option<u8>,
    pub id_loc: Option<u8>,
}

/// `struct mptcp_info` (include/uapi/linux/mptcp.h), the INET_DIAG_INFO of
/// an MPTCP socket. A shorter struct from an older kernel reads its
/// missing fields as 0, as ss does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct MptcpInfo {
    pub subflows: u8,
    pub add_addr_signal: u8,
    pub add_addr_accepted: u8,
    pub subflows_max: u8,
    pub add_addr_signal_max: u8,
    pub add_addr_accepted_max: u8,
    /// MPTCP_INFO_FLAG_FALLBACK 1, MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED 2.
    pub flags: u32,
    pub token: u32,
    pub write_seq: u64,
    pub snd_una: u64,
    pub rcv_nxt: u64,
    pub local_addr_used: u8,
    pub local_addr_max: u8,
    pub csum_enabled: u8,
    pub retransmits: u32,
    pub bytes_retrans: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    pub bytes_acked: u64,
}

/// Names, offsets and sizes of the fields of `struct mptcp_info`
/// (include/uapi/linux/mptcp.h, without the `mptcpi_` prefix), in struct
/// order; `subflows_total` and the `last_*` times are 6.10+.
pub const MPTCP_INFO_FIELDS: &[(&str, usize, usize)] = &[
    ("subflows", 0, 1),
    ("add_addr_signal", 1, 1),
    ("add_addr_accepted", 2, 1),
    ("subflows_max", 3, 1),
    ("add_addr_signal_max", 4, 1),
    ("add_addr_accepted_max", 5, 1),
    ("flags", 8, 4),
    ("token", 12, 4),
    ("write_seq", 16, 8),
    ("snd_una", 24, 8),
    ("rcv_nxt", 32, 8),
    ("local_addr_used", 40, 1),
    ("local_addr_max", 41, 1),
    ("csum_enabled", 42, 1),
    ("retransmits", 44, 4),
    ("bytes_retrans", 48, 8),
    ("bytes_sent", 56, 8),
    ("bytes_received", 64, 8),
    ("bytes_acked", 72, 8),
    ("subflows_total", 80, 1),
    ("last_data_sent", 84, 4),
    ("last_data_recv", 88, 4),
    ("last_ack_recv", 92, 4),
];

impl MptcpInfo {
    /// Reads the struct from `b`, zero-filling what a shorter one lacks.
    pub fn parse(b: &[u8]) -> MptcpInfo {
        let mut z = [0u8; 80];
        let n = b.len().min(z.len());
        z[..n].copy_from_slice(&b[..n]);
        let u32_at = |o: usize| u32::from_ne_bytes([z[o], z[o + 1], z[o + 2], z[o + 3]]);
        let u64_at = |o: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&z[o..o + 8]);
            u64::from_ne_bytes(w)
        };
        MptcpInfo {
            subflows: z[0],
            add_addr_signal: z[1],
            add_addr_accepted: z[2],
            subflows_max: z[3],
            add_addr_signal_max: z[4],
            add_addr_accepted_max: z[5],
            flags: u32_at(8),
            token: u32_at(12),
            write_seq: u64_at(16),
            snd_una: u64_at(24),
            rcv_nxt: u64_at(32),
            local_addr_used: z[40],
            local_addr_max: z[41],
            csum_enabled: z[42],
            retransmits: u32_at(44),
            bytes_retrans: u64_at(48),
            bytes_sent: u64_at(56),
            bytes_received: u64_at(64),
            bytes_acked: u64_at(72),
        }
    }
}

/// `struct tcpvegas_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct VegasInfo {
    pub enabled: u32,
    pub rttcnt: u32,
    pub rtt: u32,
    pub minrtt: u32,
}

/// `struct tcp_dctcp_info`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct DctcpInfo {
    pub enabled: u16,
    pub ce_state: u16,
    pub alpha: u32,
    pub ab_ecn: u32,
    pub ab_tot: u32,
}

/// `struct tcp_bbr_info`; `bw` in bytes per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct BbrInfo {
    pub bw: u64,
    pub min_rtt: u32,
    pub pacing_gain: u32,
    pub cwnd_gain: u32,
}

/// Size of `struct tcp_diag_md5sig`.
pub const MD5SIG_LEN: usize = 100;

/// One `struct tcp_diag_md5sig`.
#[derive(Clone, Copy, Debug)]
pub struct Md5Key<'a>(&'a [u8]);

impl<'a> Md5Key<'a> {
    /// AF_INET or AF_INET6.
    pub fn family(&self) -> u8 {
        self.0[0]
    }
    /// Prefix length of the peer address.
    pub fn prefix_len(&self) -> u8 {
        self.0[1]
    }
    /// The peer address.
    pub fn addr(&self) -> IpAddr {
        let b = &self.0[4..20];
        if self.family() == libc::AF_INET as u8 {
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        } else {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            IpAddr::V6(Ipv6Addr::from(a))
        }
    }
    /// The key bytes.
    pub fn key(&self) -> &'a [u8] {
        let n = (u16::from_ne_bytes([self.0[2], self.0[3]]) as usize).min(80);
        &self.0[20..20 + n]
    }
}

bitflags::bitflags! {
    /// `struct inet_diag_sockopt` bits, in declaration order
    /// (include/uapi/linux/inet_diag.h, little-endian bitfield layout).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct SockOpt: u16 {
        /// IP_RECVERR.
        const RECVERR = 1 << 0;
        /// Connection-oriented (inet_connection_sock).
        const IS_ICSK = 1 << 1;
        /// IP_FREEBIND.
        const FREEBIND = 1 << 2;
        /// IP_HDRINCL.
        const HDRINCL = 1 << 3;
        /// IP_MULTICAST_LOOP.
        const MC_LOOP = 1 << 4;
        /// IP_TRANSPARENT.
        const TRANSPARENT = 1 << 5;
        /// IP_MULTICAST_ALL.
        const MC_ALL = 1 << 6;
        /// IP_NODEFRAG.
        const NODEFRAG = 1 << 7;
        /// IP_BIND_ADDRESS_NO_PORT.
        const BIND_ADDRESS_NO_PORT = 1 << 8;
        /// IP_RECVERR_RFC4884.
        const RECVERR_RFC4884 = 1 << 9;
        /// TCP_FASTOPEN_CONNECT deferred connect.
        const DEFER_CONNECT = 1 << 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The attributes written into `b` after its (empty) message header.
    fn attrs(b: &MsgBuf) -> &[u8] {
        &b.bytes()[16..]
    }

    #[test]
    fn ulp_tls_and_mptcp() {
        // As tls_get_info() builds it: name, then a nest of u16s and flags.
        let mut b = MsgBuf::new();
        b.begin(0, 0).attr_str(1, "tls");
        let nest = b.nest_begin(2);
        b.attr_u16(1, 0x0304)
            .attr_u16(2, 52)
            .attr_u16(3, 2)
            .attr_u16(4, 3)
            .attr(5, &[]);
        b.nest_end(nest);
        let u = UlpInfo::parse(attrs(&b)).unwrap();
        assert_eq!(u.name(), Some("tls"));
        assert_eq!(
            u.tls(),
            Some(TlsInfo {
                version: Some(0x0304),
                cipher: Some(52),
                txconf: Some(2),
                rxconf: Some(3),
                zc_ro_tx: true,
                rx_no_pad: false,
            })
        );
        assert_eq!(u.mptcp(), None);
        let mut b = MsgBuf::new();
        b.begin(0, 0).attr_str(1, "mptcp");
        let nest = b.nest_begin(3);
        b.attr_u32(2, 0x92089ac0)
            .attr_u16(7, 5)
            .attr_u32(8, 0xc3)
            .attr_u8(10, 1);
        b.nest_end(nest);
        let m = UlpInfo::parse(attrs(&b)).unwrap().mptcp().unwrap();
        assert_eq!(
            (m.token_loc, m.map_datalen, m.flags, m.id_loc),
            (Some(0x92089ac0), Some(5), Some(0xc3), Some(1))
        );
        assert_eq!(m.token_rem, None);
        // A truncated nest is an error, not a panic.
        let all = attrs(&b);
        assert!(UlpInfo::parse(&all[..all.len() - 3]).is_err());
    }

    #[test]
    fn mptcp_info_short_struct_reads_zero() {
        let mut b = vec![2u8, 0, 0, 8, 0, 0, 0, 0];
        b.extend_from_slice(&2u32.to_ne_bytes());
        b.extend_from_slice(&0xe839cedau32.to_ne_bytes());
        b.extend_from_slice(&0x2c26871e8ea451bu64.to_ne_bytes());
        let m = MptcpInfo::parse(&b);
        assert_eq!((m.subflows, m.subflows_max, m.flags, m.token), (2, 8, 2, 0xe839ceda));
        assert_eq!((m.write_seq, m.snd_una, m.bytes_acked), (0x2c26871e8ea451b, 0, 0));
    }
}
