//! A netlink socket that sends requests and walks their answers as borrowed
//! messages out of one reused receive buffer.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use std::time::Duration;

use netlink_sys::{protocols, Socket};

use crate::error::{Error, Result};
use crate::genl::GenlFamily;
use crate::netns::Netns;
use crate::nlattr::align4;
use crate::nlmsg::consts::*;
use crate::nlmsg::{decode_status, MsgBuf, NlMsg, NlMsgs};
use crate::stop::{self, Stop, Wake};
use crate::sys;

/// Netlink protocols netobs talks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// NETLINK_ROUTE: links, addresses, routes, statistics.
    Route,
    /// NETLINK_SOCK_DIAG: socket dumps (inet_diag, unix_diag, ...).
    SockDiag,
    /// NETLINK_GENERIC: ethtool, netdev, devlink and other families.
    Generic,
    /// Any other protocol number.
    Other(i32),
}

impl Protocol {
    fn number(self) -> isize {
        match self {
            Protocol::Route => protocols::NETLINK_ROUTE,
            Protocol::SockDiag => protocols::NETLINK_SOCK_DIAG,
            Protocol::Generic => protocols::NETLINK_GENERIC,
            Protocol::Other(n) => n as isize,
        }
    }
}

/// How often an interrupted dump is run again by [`retry_interrupted`]
/// before its [`Error::DumpInterrupted`] reaches the caller.
pub const DUMP_RETRIES: u32 = 3;

/// Runs `attempt` (one whole dump, starting from a clean slate each time)
/// again while it ends in [`Error::DumpInterrupted`] (NLM_F_DUMP_INTR: the
/// table changed during the dump, so the answer may be inconsistent), at
/// most [`DUMP_RETRIES`] more times, as iproute2 users do by hand.
///
/// ```no_run
/// use netobs_core::socket::retry_interrupted;
/// use netobs_core::{NetlinkSocket, Protocol};
///
/// let mut sock = NetlinkSocket::open(Protocol::Route)?;
/// let mut names = Vec::new();
/// retry_interrupted(|| {
///     names.clear();
///     sock.for_each_link(|l| names.extend(l.name().map(str::to_owned)))
/// })?;
/// # Ok::<(), netobs_core::Error>(())
/// ```
pub fn retry_interrupted<T>(mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
    let mut tries = 0;
    loop {
        match attempt() {
            Err(Error::DumpInterrupted) if tries < DUMP_RETRIES => tries += 1,
            r => return r,
        }
    }
}

/// Initial receive buffer. The kernel caps a dump datagram at 32 KiB unless a
/// single message is bigger (net/netlink/af_netlink.c, netlink_dump and
/// `max_recvmsg_len`); the buffer grows when a bigger datagram is announced.
const RX_INITIAL: usize = 64 * 1024;

/// Socket receive buffer asked for (SO_RCVBUF), so a burst of dump
/// datagrams does not overrun; the kernel clamps it to rmem_max.
const SO_RCVBUF_SIZE: usize = 1 << 20;

/// Socket send buffer asked for (SO_SNDBUF): iproute2's rtnl_open value,
/// so the socket looks the same as iproute2's in `ss -m` (the kernel
/// doubles it to 65536).
const SO_SNDBUF_SIZE: i32 = 32768;

/// A bound netlink socket with its receive buffer and sequence counter.
#[derive(Debug)]
pub struct NetlinkSocket {
    sock: Socket,
    port: u32,
    seq: u32,
    rx: Vec<u8>,
    pub(crate) families: Vec<GenlFamily>,
    protocol: Protocol,
}

impl NetlinkSocket {
    /// Opens a socket for `protocol` in the caller's network namespace.
    ///
    /// Extended acks (NETLINK_EXT_ACK) are turned on so kernel errors carry
    /// their text, and NETLINK_GET_STRICT_CHK where the kernel has it (4.20+),
    /// so dump filters in requests are honoured instead of ignored.
    pub fn open(protocol: Protocol) -> Result<Self> {
        let mut sock = Socket::new(protocol.number()).map_err(|e| Error::io("open netlink socket", e))?;
        let addr = sock.bind_auto().map_err(|e| Error::io("bind netlink socket", e))?;
        let _ = sock.set_rx_buf_sz(SO_RCVBUF_SIZE);
        let _ = sys::setsockopt_int(sock.as_fd(), libc::SOL_SOCKET, libc::SO_SNDBUF, SO_SNDBUF_SIZE);
        sock.set_ext_ack(true)
            .map_err(|e| Error::io("set NETLINK_EXT_ACK", e))?;
        match sys::setsockopt_int(sock.as_fd(), libc::SOL_NETLINK, libc::NETLINK_GET_STRICT_CHK, 1) {
            Ok(()) => {}
            // Kernels before 4.20 do not know the option: dumps are unfiltered there.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            Err(e) => return Err(Error::io("set NETLINK_GET_STRICT_CHK", e)),
        }
        Ok(NetlinkSocket {
            sock,
            port: addr.port_number(),
            seq: 0,
            rx: vec![0; RX_INITIAL],
            families: Vec::new(),
            protocol,
        })
    }

    /// Opens a socket for `protocol` inside `netns` without moving the
    /// caller's thread (see [`Netns::run`]).
    pub fn open_in(protocol: Protocol, netns: &Netns) -> Result<Self> {
        netns.run(|| Self::open(protocol))?
    }

    /// The protocol this socket speaks.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The port id the kernel assigned to this socket.
    pub fn port(&self) -> u32 {
        self.port
    }

    /// Joins multicast group `group` (NETLINK_ADD_MEMBERSHIP: an
    /// `RTNLGRP_*` number, or a generic netlink family's group id from
    /// [`GenlFamily::mcast_group`]). The kernel then queues the group's
    /// notifications on this socket; read them with
    /// [`recv_events`](Self::recv_events).
    pub fn join_group(&mut self, group: u32) -> Result<()> {
        self.sock
            .add_membership(group)
            .map_err(|e| Error::io("join netlink multicast group", e))
    }

    /// Hands every message of the notifications queued now to `f` (in
    /// order, NLMSG_ERROR and NLMSG_DONE included: they are the sender's
    /// business), first waiting up to `timeout` (None: forever) when none
    /// is queued. A tripped `stop`, or a signal handler of the program
    /// (EINTR), ends the wait. Returns the number of messages; an error of
    /// `f` ends the call. ENOBUFS (the socket's queue overflowed, so
    /// notifications were lost) is [`Error::Overrun`].
    pub fn recv_events(
        &mut self,
        timeout: Option<Duration>,
        stop: Option<&Stop>,
        mut f: impl FnMut(&NlMsg<'_>) -> Result<()>,
    ) -> Result<usize> {
        let mut revents = Vec::with_capacity(1);
        match stop::wait(&[self.sock.as_fd()], timeout, stop, &mut revents)
            .map_err(|e| Error::io("poll netlink socket", e))?
        {
            Wake::Ready => {}
            Wake::Timeout | Wake::Stopped | Wake::Interrupted => return Ok(0),
        }
        let mut n = 0;
        while let Some(len) = self.recv_datagram(true)? {
            for msg in NlMsgs::new(&self.rx[..len]) {
                f(&msg?)?;
                n += 1;
            }
        }
        Ok(n)
    }

    fn send_msg(&mut self, req: &mut MsgBuf, flags: u16) -> Result<u32> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = req.finish(flags, seq);
        loop {
            match self.sock.send(bytes, 0) {
                Ok(_) => return Ok(seq),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io("send netlink request", e)),
            }
        }
    }

    /// Receives one datagram into the reused buffer and returns its length.
    ///
    /// The datagram's size is peeked first (MSG_PEEK | MSG_TRUNC), as
    /// iproute2's `rtnl_recvmsg` does, so the buffer can grow before the read
    /// and nothing is ever cut off.
    fn recv(&mut self) -> Result<usize> {
        self.recv_datagram(false)?
            .ok_or(Error::Protocol("blocking netlink receive returned nothing"))
    }

    /// [`recv`](Self::recv), or with `nowait` (MSG_DONTWAIT) None when
    /// nothing is queued.
    fn recv_datagram(&mut self, nowait: bool) -> Result<Option<usize>> {
        let dontwait = if nowait { libc::MSG_DONTWAIT } else { 0 };
        loop {
            let mut empty: &mut [u8] = &mut [];
            let want = match self.sock.recv(&mut empty, libc::MSG_PEEK | libc::MSG_TRUNC | dontwait) {
                Ok(n) => n,
                Err(e) => match e.raw_os_error() {
                    Some(libc::EAGAIN) if nowait => return Ok(None),
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => return Err(Error::Overrun),
                    _ => return Err(Error::io("recv netlink", e)),
                },
            };
            if want > self.rx.len() {
                self.rx.resize(want.next_power_of_two(), 0);
            }
            let cap = self.rx.len();
            let mut buf: &mut [u8] = &mut self.rx[..];
            match self.sock.recv(&mut buf, libc::MSG_TRUNC | dontwait) {
                Ok(n) if n > cap => return Err(Error::Truncated { len: n, cap }),
                Ok(n) => return Ok(Some(n)),
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => return Err(Error::Overrun),
                    _ => return Err(Error::io("recv netlink", e)),
                },
            }
        }
    }

    /// Sends `req` as a dump request (NLM_F_DUMP) and returns the answer's
    /// walker.
    pub fn dump(&mut self, req: &mut MsgBuf) -> Result<Dump<'_>> {
        let seq = self.send_msg(req, NLM_F_DUMP)?;
        Ok(Dump {
            sock: self,
            seq,
            pos: 0,
            end: 0,
            done: false,
            interrupted: false,
        })
    }

    /// Sends `req` and returns the kernel's single answer message (a get
    /// request such as RTM_GETLINK by index). Kernel errors come back as
    /// [`Error::Kernel`] with their extended-ack text.
    pub fn request(&mut self, req: &mut MsgBuf) -> Result<NlMsg<'_>> {
        let seq = self.send_msg(req, 0)?;
        let (start, len) = loop {
            let n = self.recv()?;
            if let Some(found) = self.find_reply(n, seq)? {
                break found;
            }
        };
        Ok(NlMsg::parse(&self.rx[start..start + len])?)
    }

    /// Scans one received datagram for the reply to `seq`.
    fn find_reply(&self, n: usize, seq: u32) -> Result<Option<(usize, usize)>> {
        let mut pos = 0;
        while pos < n {
            let m = NlMsg::parse(&self.rx[pos..n])?;
            let here = pos;
            pos += align4(m.len());
            if m.seq() != seq || m.pid() != self.port {
                continue;
            }
            match m.kind() {
                NLMSG_NOOP => continue,
                NLMSG_ERROR => {
                    decode_status(&m)?;
                    return Err(Error::Protocol("acknowledgement where an answer was expected"));
                }
                NLMSG_OVERRUN => return Err(Error::Overrun),
                _ => return Ok(Some((here, m.len()))),
            }
        }
        Ok(None)
    }

    /// Sends `req` with NLM_F_ACK and waits for the kernel's acknowledgement,
    /// for requests that change state and answer nothing else.
    pub fn ack(&mut self, req: &mut MsgBuf) -> Result<()> {
        let seq = self.send_msg(req, NLM_F_ACK)?;
        loop {
            let n = self.recv()?;
            let mut pos = 0;
            while pos < n {
                let m = NlMsg::parse(&self.rx[pos..n])?;
                pos += align4(m.len());
                if m.seq() == seq && m.pid() == self.port && m.kind() == NLMSG_ERROR {
                    return decode_status(&m);
                }
            }
        }
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for NetlinkSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

/// The answer to a dump request, walked message by message. Each message is
/// borrowed from the socket's receive buffer until the next call.
///
/// ```no_run
/// use netobs_core::{rtnetlink, NetlinkSocket, Protocol};
/// let mut sock = NetlinkSocket::open(Protocol::Route)?;
/// let mut req = rtnetlink::link_dump_request();
/// let mut dump = sock.dump(&mut req)?;
/// while let Some(msg) = dump.next()? {
///     let link = rtnetlink::Link::parse(&msg)?;
///     println!("{} {:?}", link.index(), link.name());
/// }
/// # Ok::<(), netobs_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Dump<'s> {
    sock: &'s mut NetlinkSocket,
    seq: u32,
    pos: usize,
    end: usize,
    done: bool,
    interrupted: bool,
}

impl Dump<'_> {
    /// The next message of the dump, `Ok(None)` after NLMSG_DONE.
    ///
    /// NLMSG_ERROR and an error status in NLMSG_DONE become
    /// [`Error::Kernel`]. If any message carried NLM_F_DUMP_INTR, all
    /// messages are still delivered and the end of the dump is reported as
    /// [`Error::DumpInterrupted`] so the caller can dump again.
    #[allow(clippy::should_implement_trait)] // a lending iterator: items borrow the buffer
    pub fn next(&mut self) -> Result<Option<NlMsg<'_>>> {
        let (start, len) = loop {
            if self.done {
                return Ok(None);
            }
            if self.pos >= self.end {
                self.end = self.sock.recv()?;
                self.pos = 0;
                continue;
            }
            let m = NlMsg::parse(&self.sock.rx[self.pos..self.end])?;
            let here = self.pos;
            self.pos += align4(m.len());
            // Leftovers of an earlier, abandoned request, or someone else's.
            if m.seq() != self.seq || m.pid() != self.sock.port {
                continue;
            }
            if m.flags() & NLM_F_DUMP_INTR != 0 {
                self.interrupted = true;
            }
            match m.kind() {
                NLMSG_NOOP => continue,
                NLMSG_DONE => {
                    self.done = true;
                    decode_status(&m)?;
                    if self.interrupted {
                        return Err(Error::DumpInterrupted);
                    }
                    return Ok(None);
                }
                NLMSG_ERROR => {
                    self.done = true;
                    decode_status(&m)?;
                    return Ok(None);
                }
                NLMSG_OVERRUN => {
                    self.done = true;
                    return Err(Error::Overrun);
                }
                _ => break (here, m.len()),
            }
        };
        Ok(Some(NlMsg::parse(&self.sock.rx[start..start + len])?))
    }

    /// Whether a message so far carried NLM_F_DUMP_INTR.
    pub fn interrupted(&self) -> bool {
        self.interrupted
    }

    /// Reads and discards the rest of the dump, so the socket can be reused.
    pub fn drain(&mut self) -> Result<()> {
        while self.next()?.is_some() {}
        Ok(())
    }
}
