//! Live capture on an AF_PACKET socket with a TPACKET_V3 receive ring
//! (net/packet/af_packet.c, Documentation/networking/packet_mmap.rst).
//!
//! The kernel fills fixed-size blocks with packets and hands a block to
//! user space when it is full or when the retire timeout expires. A
//! [`Block`] borrows one such block; its [`Packet`]s are views into it,
//! and dropping the block gives it back to the kernel.

use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use netobs_core::netns::Netns;
use netobs_core::stop::{self, Stop, Wake};

use crate::bpf::{self, Metadata, Program};
use crate::error::{Error, Result};
use crate::file::linktype;
use crate::filter;
use crate::sys::{self, RingMap};
use crate::wire::{ethertype, VlanTag};

/// ETH_P_ALL (include/uapi/linux/if_ether.h): every protocol.
const ETH_P_ALL: u16 = 0x0003;
/// VLAN_TAG_LEN: bytes of an 802.1Q tag.
const VLAN_TAG_LEN: usize = 4;
/// Size of `struct tpacket3_hdr` rounded to TPACKET_ALIGNMENT (16).
const TPACKET3_HDRLEN: usize = 48;
/// The cooked header a capture on "any" puts before each packet.
const SLL2_HDR_LEN: usize = crate::summary::SLL2_HDR_LEN;
/// Size of `struct sockaddr_ll`, which follows the tpacket3_hdr.
const SOCKADDR_LL_LEN: usize = 20;
/// The interface name that captures every interface in cooked mode.
pub const ANY: &str = "any";
/// ARPHRD_ETHER and ARPHRD_LOOPBACK (include/uapi/linux/if_arp.h).
const ARPHRD_ETHER: u16 = 1;
const ARPHRD_LOOPBACK: u16 = 772;

/// Which packets of an interface to capture, by `sll_pkttype`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Received and sent (`tcpdump -Q inout`).
    #[default]
    Both,
    /// Received only (`-Q in`): everything but PACKET_OUTGOING.
    In,
    /// Sent only (`-Q out`): PACKET_OUTGOING.
    Out,
}

/// PACKET_FANOUT modes (include/uapi/linux/if_packet.h).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fanout {
    /// PACKET_FANOUT_HASH: by flow hash, a flow stays on one socket.
    Hash,
    /// PACKET_FANOUT_LB: round robin.
    LoadBalance,
    /// PACKET_FANOUT_CPU: by the CPU that received the packet.
    Cpu,
}

/// Capture counters from PACKET_STATISTICS, summed over every read (the
/// kernel resets its counters each time they are read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets the socket received (passed the filter), drops included.
    pub packets: u64,
    /// Packets dropped because the ring was full.
    pub drops: u64,
    /// Times the ring was frozen (all blocks in user space).
    pub freeze_count: u64,
}

/// Settings of a capture; `open` creates the socket and ring.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    interface: Option<String>,
    snaplen: u32,
    promiscuous: bool,
    block_size: u32,
    block_count: u32,
    frame_size: u32,
    retire_timeout_ms: u32,
    direction: Direction,
    filter: Option<Program>,
    filter_expression: Option<String>,
    userspace_filter: Option<Program>,
    fanout: Option<(u16, Fanout)>,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            interface: None,
            snaplen: 262144,
            promiscuous: false,
            block_size: 1 << 20,
            block_count: 4,
            frame_size: 2048,
            retire_timeout_ms: 100,
            direction: Direction::Both,
            filter: None,
            filter_expression: None,
            userspace_filter: None,
            fanout: None,
        }
    }
}

impl CaptureConfig {
    /// Defaults: all interfaces, snap length 262144, four 1 MiB blocks,
    /// 100 ms retire timeout, both directions, no filter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Capture on one interface (default: all interfaces, each packet
    /// from its own link-layer header). `"any"` ([`ANY`]) captures every
    /// interface the way `tcpdump -i any` does: a cooked (SOCK_DGRAM)
    /// socket, each packet behind a LINUX_SLL2 header (protocol,
    /// interface index, ARPHRD type, direction, link-layer address) built
    /// from its `sockaddr_ll`, and filters compiled for LINUX_SLL2 (see
    /// [`Capture::linktype`]).
    pub fn interface(mut self, name: &str) -> Self {
        self.interface = Some(name.to_string());
        self
    }

    /// Bytes kept of each packet.
    pub fn snaplen(mut self, n: u32) -> Self {
        self.snaplen = n.max(1);
        self
    }

    /// Put the interface into promiscuous mode (PACKET_ADD_MEMBERSHIP,
    /// PACKET_MR_PROMISC; undone by the kernel when the socket closes).
    pub fn promiscuous(mut self, on: bool) -> Self {
        self.promiscuous = on;
        self
    }

    /// Block size in bytes (a multiple of the page size). The kernel
    /// wakes the reader once per retired block, so larger blocks mean
    /// fewer wakeups; it zeroes the whole ring when the capture opens
    /// (PACKET_RX_RING allocates with __GFP_ZERO), so larger rings cost
    /// more to open.
    pub fn block_size(mut self, n: u32) -> Self {
        self.block_size = n;
        self
    }

    /// Number of blocks in the ring. Keep at least 4 (the default) under
    /// sustained traffic: on kernels whose retire timer is an hrtimer
    /// with a fixed period (net/packet/af_packet.c since Linux 6.18) the
    /// timer also retires a block that was opened just before it fires,
    /// and with 2 or 3 blocks we measured a few packets dropped at each
    /// such early retire (a 0.7 Mpps veth flood, `tp_drops` without a
    /// queue freeze); with 4 blocks none.
    pub fn block_count(mut self, n: u32) -> Self {
        self.block_count = n;
        self
    }

    /// tp_frame_size (TPACKET_V3 only uses it for the frame-count check).
    pub fn frame_size(mut self, n: u32) -> Self {
        self.frame_size = n;
        self
    }

    /// Milliseconds after which a partly filled block is handed over
    /// (`tp_retire_blk_tov`): the longest a captured packet waits in the
    /// ring when traffic is slow. Since Linux 6.18 the timer runs at this
    /// fixed period, so under load it also cuts the open block short once
    /// per period (see [`block_count`](Self::block_count)).
    pub fn retire_timeout_ms(mut self, ms: u32) -> Self {
        self.retire_timeout_ms = ms;
        self
    }

    /// Which direction to capture.
    pub fn direction(mut self, d: Direction) -> Self {
        self.direction = d;
        self
    }

    /// A classic BPF filter, attached before the socket is bound so no
    /// packet ever bypasses it. The kernel runs it on the packet as the
    /// stack holds it: the outermost VLAN tag of a received frame is in
    /// the skb metadata, not in the bytes (live-mode code handles that).
    /// Replaces a [`filter_expression`](Self::filter_expression).
    pub fn filter(mut self, prog: Program) -> Self {
        self.filter = Some(prog);
        self.filter_expression = None;
        self
    }

    /// A pcap-filter expression, compiled when the capture opens in live
    /// Linux mode ([`crate::filter::CodeMode::LinuxLive`]) for the
    /// capture's link type (Ethernet; LINUX_SLL2 on "any") with its snap
    /// length, and run in the kernel (on "any", where the kernel cannot
    /// read a cooked-header field the program reads, in user space, as
    /// libpcap does): `vlan`
    /// reads the tag the kernel moved into the skb metadata, as libpcap's
    /// live code does, and `inbound`/`outbound`/`ifindex` work. An invalid
    /// expression makes [`open`](Self::open) fail with
    /// [`Error::Filter`]. Replaces a [`filter`](Self::filter) program.
    pub fn filter_expression(mut self, expr: &str) -> Self {
        self.filter_expression = Some(expr.to_string());
        self.filter = None;
        self
    }

    /// A filter run in user space on every packet after its VLAN tag was
    /// put back (on "any": after its LINUX_SLL2 header was built), so offline-mode programs (what [`crate::filter::compile`]
    /// emits, reading tags from the packet bytes) see the frame as it was
    /// on the wire. Every packet is then copied into the ring: prefer
    /// [`filter_expression`](Self::filter_expression), which filters
    /// `vlan` in the kernel; combine with [`filter`](Self::filter) to drop
    /// what can be dropped early.
    pub fn userspace_filter(mut self, prog: Program) -> Self {
        self.userspace_filter = Some(prog);
        self
    }

    /// Join fanout group `group` with a mode; every socket of the group
    /// gets a share of the packets.
    pub fn fanout(mut self, group: u16, mode: Fanout) -> Self {
        self.fanout = Some((group, mode));
        self
    }

    /// Opens the capture in the caller's network namespace.
    pub fn open(&self) -> Result<Capture> {
        Capture::open(self)
    }

    /// Opens the capture inside `netns` (the socket stays in that
    /// namespace for its life; the caller's thread does not move).
    pub fn open_in(&self, netns: &Netns) -> Result<Capture> {
        netns.run(|| Capture::open(self))?
    }
}

/// A TPACKET_V3 capture socket and its ring.
#[derive(Debug)]
pub struct Capture {
    // The mapping must be unmapped before the socket closes: field order.
    ring: RingMap,
    fd: OwnedFd,
    next: usize,
    block_count: usize,
    snaplen: u32,
    direction: Direction,
    /// Blocks still to filter in user space after a filter change.
    userland_blocks: usize,
    /// The filter in the capture's link type: what the kernel runs on an
    /// interface; on "any" the LINUX_SLL2 program, of which the kernel
    /// runs the translation ([`bpf::for_cooked_socket`]).
    filter: Option<Program>,
    userspace_filter: Option<Program>,
    /// On "any": a filter the kernel cannot run, run in user space.
    punted_filter: Option<Program>,
    /// A cooked capture ("any"): packets get a LINUX_SLL2 header.
    cooked: bool,
    stats: Stats,
    stop: Option<Stop>,
    /// poll(2)'s answer, kept so a wait allocates nothing.
    revents: Vec<i16>,
}

fn io_err(op: &'static str) -> impl FnOnce(std::io::Error) -> Error {
    move |e| Error::os(op, e)
}

/// SO_ATTACH_FILTER's error. ENOMEM is not a refused program: the kernel
/// charges the converted program to the socket's option memory
/// (net/core/filter.c, `sk_filter_charge`), which fails for programs larger
/// than `net.core.optmem_max` allows (20480 bytes by default before Linux
/// 6.9, about 2500 instructions).
fn attach_err(e: std::io::Error) -> Error {
    if e.raw_os_error() == Some(libc::ENOMEM) {
        Error::os(
            "attach filter (SO_ATTACH_FILTER): the program is larger than net.core.optmem_max lets a socket hold",
            e,
        )
    } else {
        Error::os("attach filter (SO_ATTACH_FILTER)", e)
    }
}

/// Interface index of `name`.
pub fn interface_index(name: &str) -> Result<u32> {
    sys::if_nametoindex(name).ok_or_else(|| Error::NoSuchInterface(name.to_string()))
}

impl Capture {
    fn open(cfg: &CaptureConfig) -> Result<Capture> {
        let page = 4096u32;
        if cfg.block_size == 0 || cfg.block_size % page != 0 {
            return Err(Error::Config(format!(
                "block size {} is not a positive multiple of the page size {page}",
                cfg.block_size
            )));
        }
        if cfg.block_count == 0 || cfg.frame_size < TPACKET3_HDRLEN as u32 || cfg.frame_size % 16 != 0 {
            return Err(Error::Config(format!(
                "block count {} must be > 0 and frame size {} a multiple of 16 of at least {TPACKET3_HDRLEN}",
                cfg.block_count, cfg.frame_size
            )));
        }
        let cooked = cfg.interface.as_deref() == Some(ANY);
        let link = if cooked {
            linktype::LINUX_SLL2
        } else {
            linktype::ETHERNET
        };
        let compiled = match &cfg.filter_expression {
            Some(expr) => Some(compile_live(expr, link, cfg.snaplen)?),
            None => None,
        };
        let filter = compiled.or_else(|| cfg.filter.clone());
        for f in filter.iter().chain(&cfg.userspace_filter) {
            bpf::check(f)?;
        }
        let (kernel_filter, punted_filter) = match (&filter, cooked) {
            (Some(f), true) => match bpf::for_cooked_socket(f) {
                Some(k) => (Some(k), None),
                None => (None, Some(f.clone())),
            },
            (f, _) => (f.clone(), None),
        };
        let ifindex = match &cfg.interface {
            Some(_) if cooked => 0,
            Some(name) => interface_index(name)?,
            None => 0,
        };
        // Protocol 0: nothing is queued until bind(), so the filter below
        // is in place before the first packet arrives.
        let op = if cooked {
            "socket(AF_PACKET, SOCK_DGRAM)"
        } else {
            "socket(AF_PACKET, SOCK_RAW)"
        };
        let fd = sys::packet_socket(0, cooked).map_err(io_err(op))?;
        if let Some(f) = &kernel_filter {
            sys::attach_filter(&fd, f).map_err(attach_err)?;
        }
        sys::setsockopt(
            &fd,
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V3 as libc::c_int),
        )
        .map_err(io_err("setsockopt(PACKET_VERSION, TPACKET_V3)"))?;
        // Room before the MAC header for a reinserted VLAN tag; on a cooked
        // socket for the LINUX_SLL2 header, less the 16 bytes the kernel
        // leaves there anyway (af_packet.c tpacket_rcv, SOCK_DGRAM), as
        // libpcap reserves it.
        let reserve = if cooked {
            VLAN_TAG_LEN + SLL2_HDR_LEN - 16
        } else {
            VLAN_TAG_LEN
        };
        sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RESERVE, &(reserve as libc::c_uint))
            .map_err(io_err("setsockopt(PACKET_RESERVE)"))?;
        if cfg.direction == Direction::In {
            // Kernel >= 4.20; older kernels are handled by the user-space check.
            let _ = sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_IGNORE_OUTGOING, &(1 as libc::c_int));
        }
        let req = libc::tpacket_req3 {
            tp_block_size: cfg.block_size,
            tp_block_nr: cfg.block_count,
            tp_frame_size: cfg.frame_size,
            tp_frame_nr: (cfg.block_size / cfg.frame_size) * cfg.block_count,
            tp_retire_blk_tov: cfg.retire_timeout_ms,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        };
        sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req)
            .map_err(io_err("setsockopt(PACKET_RX_RING)"))?;
        let ring =
            RingMap::map(&fd, cfg.block_size as usize, cfg.block_count as usize).map_err(io_err("mmap packet ring"))?;
        sys::bind_packet(&fd, ifindex, ETH_P_ALL).map_err(io_err("bind packet socket"))?;
        if cfg.promiscuous && ifindex != 0 {
            // SAFETY-free: packet_mreq is plain integers.
            let mreq = libc::packet_mreq {
                mr_ifindex: ifindex as i32,
                mr_type: libc::PACKET_MR_PROMISC as u16,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)
                .map_err(io_err("setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)"))?;
        }
        if let Some((group, mode)) = cfg.fanout {
            let mode = match mode {
                Fanout::Hash => libc::PACKET_FANOUT_HASH,
                Fanout::LoadBalance => libc::PACKET_FANOUT_LB,
                Fanout::Cpu => libc::PACKET_FANOUT_CPU,
            };
            let arg: u32 = group as u32 | (mode << 16);
            sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_FANOUT, &arg)
                .map_err(io_err("setsockopt(PACKET_FANOUT)"))?;
        }
        Ok(Capture {
            ring,
            fd,
            next: 0,
            block_count: cfg.block_count as usize,
            snaplen: cfg.snaplen,
            direction: cfg.direction,
            userland_blocks: 0,
            filter,
            userspace_filter: cfg.userspace_filter.clone(),
            punted_filter,
            cooked,
            stats: Stats::default(),
            stop: None,
            revents: Vec::with_capacity(1),
        })
    }

    /// Replaces the filter without letting through a packet that does not
    /// match the new one: a reject-all program is attached first, then the
    /// new one, and the blocks that were already in the ring (filled under
    /// the old program) are filtered in user space with the new program
    /// by our interpreter, on the packets as the kernel's filter sees them
    /// (VLAN tag in the metadata, before it is put back), as libpcap does.
    ///
    /// On "any" `prog` is a LINUX_SLL2 program: the kernel runs its
    /// translation, or, when the program reads a cooked-header field the
    /// kernel cannot give, accepts everything and the program runs in user
    /// space.
    pub fn set_filter(&mut self, prog: &Program) -> Result<()> {
        bpf::check(prog)?;
        let (kernel, punted) = if self.cooked {
            match bpf::for_cooked_socket(prog) {
                Some(k) => (k, None),
                None => (Program::accept_all(self.snaplen), Some(prog.clone())),
            }
        } else {
            (prog.clone(), None)
        };
        sys::attach_filter(&self.fd, &Program::reject_all()).map_err(io_err("attach reject-all filter"))?;
        sys::attach_filter(&self.fd, &kernel).map_err(attach_err)?;
        self.filter = Some(prog.clone());
        self.punted_filter = punted;
        self.userland_blocks = self.block_count;
        Ok(())
    }

    /// [`set_filter`](Self::set_filter) with a pcap-filter expression
    /// compiled as for [`CaptureConfig::filter_expression`].
    pub fn set_filter_expression(&mut self, expr: &str) -> Result<()> {
        let prog = compile_live(expr, self.linktype(), self.snaplen)?;
        self.set_filter(&prog)
    }

    /// The link type of the captured bytes: LINUX_SLL2 on "any", else
    /// Ethernet (`file::linktype`), what a pcap file of them says.
    pub fn linktype(&self) -> u16 {
        if self.cooked {
            linktype::LINUX_SLL2
        } else {
            linktype::ETHERNET
        }
    }

    /// Makes [`next_block`](Self::next_block) return `None` at once when
    /// `stop` is tripped (from another thread or a signal handler), as it
    /// does on timeout. The library installs no signal handler itself.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.stop = Some(stop.clone());
    }

    /// Waits up to `timeout` (forever with `None`) for the next block.
    /// Returns `None` on timeout, when the [`Stop`] given to
    /// [`set_stop`](Self::set_stop) is tripped, or when a signal handler of
    /// the program interrupted the wait (EINTR).
    pub fn next_block(&mut self, timeout: Option<Duration>) -> Result<Option<Block<'_>>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.ring.is_user(self.next) {
                break;
            }
            let left = match deadline {
                None => None,
                Some(d) => {
                    let left = d.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(None);
                    }
                    Some(left)
                }
            };
            match stop::wait(&[self.fd.as_fd()], left, self.stop.as_ref(), &mut self.revents)
                .map_err(io_err("poll packet socket"))?
            {
                Wake::Stopped | Wake::Interrupted => return Ok(None),
                Wake::Timeout => {}
                Wake::Ready => {
                    if self.revents[0] & libc::POLLERR != 0 {
                        let err: libc::c_int = sys::getsockopt(&self.fd, libc::SOL_SOCKET, libc::SO_ERROR)
                            .map_err(io_err("getsockopt(SO_ERROR)"))?;
                        return Err(Error::os("capture", std::io::Error::from_raw_os_error(err)));
                    }
                }
            }
        }
        let index = self.next;
        self.next = (self.next + 1) % self.block_count;
        let userland = if self.userland_blocks > 0 {
            self.userland_blocks -= 1;
            self.filter.as_ref()
        } else {
            None
        };
        Ok(Some(Block {
            data: self.ring.block_mut(index),
            index,
            snaplen: self.snaplen,
            direction: self.direction,
            cooked: self.cooked,
            userland_filter: userland,
            userspace_filter: self.userspace_filter.as_ref(),
            punted_filter: self.punted_filter.as_ref(),
        }))
    }

    /// Counters since the capture opened (PACKET_STATISTICS, accumulated).
    pub fn stats(&mut self) -> Result<Stats> {
        let s: [u32; 3] = sys::getsockopt(&self.fd, libc::SOL_PACKET, libc::PACKET_STATISTICS)
            .map_err(io_err("getsockopt(PACKET_STATISTICS)"))?;
        self.stats.packets += s[0] as u64;
        self.stats.drops += s[1] as u64;
        self.stats.freeze_count += s[2] as u64;
        Ok(self.stats)
    }
}

/// Live-mode code for a capture of link type `link`.
fn compile_live(expr: &str, link: u16, snaplen: u32) -> Result<Program> {
    Ok(filter::compile_with(expr, link, snaplen, filter::CodeMode::LinuxLive)?)
}

#[inline]
fn le16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2).map_or(0, |s| u16::from_ne_bytes([s[0], s[1]]))
}

#[inline]
fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn put32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_ne_bytes());
    }
}

fn put16(b: &mut [u8], at: usize, v: u16) {
    if let Some(s) = b.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_ne_bytes());
    }
}

// struct tpacket_block_desc / tpacket_hdr_v1 offsets.
const BD_NUM_PKTS: usize = 12;
const BD_FIRST_PKT: usize = 16;
// struct tpacket3_hdr offsets.
const H_NEXT: usize = 0;
const H_SEC: usize = 4;
const H_NSEC: usize = 8;
const H_SNAPLEN: usize = 12;
const H_LEN: usize = 16;
const H_STATUS: usize = 20;
const H_MAC: usize = 24;
const H_NET: usize = 26;
const H_RXHASH: usize = 28;
const H_VLAN_TCI: usize = 32;
const H_VLAN_TPID: usize = 36;
/// A private flag in tp_padding: the tag was already put back.
const H_REINSERTED: usize = 40;
/// A private flag in tp_padding: the user-space run of a new filter
/// rejected the packet.
const H_REJECTED: usize = 41;
// struct sockaddr_ll after the header.
const L_PROTOCOL: usize = TPACKET3_HDRLEN + 2;
const L_IFINDEX: usize = TPACKET3_HDRLEN + 4;
const L_HATYPE: usize = TPACKET3_HDRLEN + 8;
const L_PKTTYPE: usize = TPACKET3_HDRLEN + 10;
const L_HALEN: usize = TPACKET3_HDRLEN + 11;
const L_ADDR: usize = TPACKET3_HDRLEN + 12;

/// Builds the LINUX_SLL2 header of a cooked packet in the room before it
/// (the kernel's 16 bytes plus PACKET_RESERVE), from its `sockaddr_ll`, as
/// libpcap does (pcap-linux.c): protocol (already big-endian), interface
/// index, ARPHRD type, packet type, address length and 8 address bytes;
/// the packet then starts at the header. A packet without the room (which
/// the reserve rules out) is marked rejected; one already done (a block
/// walked twice) is left alone.
#[inline]
fn insert_sll2_header(pkt: &mut [u8]) {
    if pkt[H_REINSERTED] == 1 {
        return;
    }
    let mac = le16(pkt, H_MAC) as usize;
    let snap = le32(pkt, H_SNAPLEN) as usize;
    if mac < TPACKET3_HDRLEN + SOCKADDR_LL_LEN + SLL2_HDR_LEN || mac + snap > pkt.len() {
        pkt[H_REJECTED] = 1;
        return;
    }
    let mut h = [0u8; SLL2_HDR_LEN];
    h[0..2].copy_from_slice(&pkt[L_PROTOCOL..L_PROTOCOL + 2]);
    h[4..8].copy_from_slice(&le32(pkt, L_IFINDEX).to_be_bytes());
    h[8..10].copy_from_slice(&le16(pkt, L_HATYPE).to_be_bytes());
    h[10] = pkt[L_PKTTYPE];
    h[11] = pkt[L_HALEN];
    h[12..20].copy_from_slice(&pkt[L_ADDR..L_ADDR + 8]);
    let at = mac - SLL2_HDR_LEN;
    pkt[at..mac].copy_from_slice(&h);
    put16(pkt, H_MAC, at as u16);
    put32(pkt, H_SNAPLEN, (snap + SLL2_HDR_LEN) as u32);
    let len = le32(pkt, H_LEN);
    put32(pkt, H_LEN, len + SLL2_HDR_LEN as u32);
    pkt[H_REINSERTED] = 1;
}

/// Puts back the VLAN tag the kernel (or the NIC) stripped from the packet
/// whose `tpacket3_hdr` starts `pkt`, as libpcap does: when
/// TP_STATUS_VLAN_VALID is set (or the TCI is non-zero on old kernels), the
/// MAC addresses move 4 bytes earlier (into the room that PACKET_RESERVE
/// left) and the tag with its TPID (TP_STATUS_VLAN_TPID_VALID, else 0x8100)
/// goes between them and the EtherType. Only Ethernet frames; a packet
/// already done (a block walked twice) is left alone.
#[inline]
fn reinsert_vlan_tag(pkt: &mut [u8]) {
    let status = le32(pkt, H_STATUS);
    let tci = le32(pkt, H_VLAN_TCI) as u16;
    let valid = status & libc::TP_STATUS_VLAN_VALID != 0 || tci != 0;
    if !valid || pkt[H_REINSERTED] == 1 || le16(pkt, L_HATYPE) != ARPHRD_ETHER {
        return;
    }
    let tpid = if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
        le16(pkt, H_VLAN_TPID)
    } else {
        ethertype::VLAN
    };
    let mac = le16(pkt, H_MAC) as usize;
    let snap = le32(pkt, H_SNAPLEN) as usize;
    // The reserve guarantees mac - 4 is past the sockaddr_ll.
    if snap < 12 || mac < TPACKET3_HDRLEN + 20 + VLAN_TAG_LEN || mac + snap > pkt.len() {
        return;
    }
    pkt.copy_within(mac..mac + 12, mac - VLAN_TAG_LEN);
    pkt[mac + 8..mac + 10].copy_from_slice(&tpid.to_be_bytes());
    pkt[mac + 10..mac + 12].copy_from_slice(&tci.to_be_bytes());
    put16(pkt, H_MAC, (mac - VLAN_TAG_LEN) as u16);
    put32(pkt, H_SNAPLEN, (snap + VLAN_TAG_LEN) as u32);
    let len = le32(pkt, H_LEN);
    put32(pkt, H_LEN, len + VLAN_TAG_LEN as u32);
    pkt[H_REINSERTED] = 1;
}

/// Walks a block's packets in one pass, handing out each packet's bytes
/// (from its header to the next packet's) exclusively: the kernel lays
/// packets out at increasing offsets (`tp_next_offset`), so each is split
/// off the rest of the block, its VLAN tag put back, and then shared.
/// Offsets are bounds-checked: a corrupt one ends the walk.
struct PacketWalk<'a> {
    rest: &'a mut [u8],
    /// Offset of the next header within `rest`.
    next: usize,
    left: u32,
    /// A new kernel filter to run on packets filled before it, and the
    /// snap length.
    refilter: Option<(&'a Program, u32)>,
    /// Cooked packets: build their LINUX_SLL2 header.
    cooked: bool,
}

impl<'a> PacketWalk<'a> {
    fn new(block: &'a mut [u8], refilter: Option<(&'a Program, u32)>, cooked: bool) -> Self {
        let left = le32(block, BD_NUM_PKTS);
        let next = le32(block, BD_FIRST_PKT) as usize;
        PacketWalk {
            rest: block,
            next,
            left,
            refilter,
            cooked,
        }
    }
}

impl<'a> Iterator for PacketWalk<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.left == 0 || self.next.checked_add(TPACKET3_HDRLEN + 20)? > self.rest.len() {
            return None;
        }
        self.left -= 1;
        let rest = std::mem::take(&mut self.rest);
        let (_, from_here) = rest.split_at_mut(self.next);
        // The last packet (tp_next_offset 0), or one whose successor would
        // overlap it, owns the rest of the block.
        let step = le32(from_here, H_NEXT) as usize;
        let (pkt, tail) = if step >= TPACKET3_HDRLEN && step <= from_here.len() {
            from_here.split_at_mut(step)
        } else {
            self.left = 0;
            from_here.split_at_mut(from_here.len())
        };
        self.rest = tail;
        self.next = 0;
        if self.cooked {
            // The new LINUX_SLL2 program judges the packet with its header.
            insert_sll2_header(pkt);
            if let Some((prog, snaplen)) = self.refilter {
                let rejected = Packet::at(pkt, 0, snaplen)
                    .is_some_and(|p| bpf::run(&prog.insns, p.data, p.wire_len(), &Metadata::default()) == 0);
                if rejected {
                    pkt[H_REJECTED] = 1;
                }
            }
            return Some(pkt);
        }
        // The new filter judges the packet as the kernel's filter would:
        // before its tag is put back (the tag is in the metadata), as
        // libpcap does.
        if let Some((prog, snaplen)) = self.refilter {
            let rejected = pkt[H_REINSERTED] == 0
                && Packet::at(pkt, 0, snaplen)
                    .is_some_and(|p| bpf::run(&prog.insns, p.data, p.wire_len(), &p.metadata()) == 0);
            if rejected {
                pkt[H_REJECTED] = 1;
            }
        }
        reinsert_vlan_tag(pkt);
        Some(pkt)
    }
}

/// One block of the ring, owned by us until dropped.
#[derive(Debug)]
pub struct Block<'c> {
    data: &'c mut [u8],
    index: usize,
    snaplen: u32,
    direction: Direction,
    cooked: bool,
    /// The new kernel filter, re-applied to blocks filled before it.
    userland_filter: Option<&'c Program>,
    /// [`CaptureConfig::userspace_filter`].
    userspace_filter: Option<&'c Program>,
    /// On "any": the filter the kernel could not run.
    punted_filter: Option<&'c Program>,
}

impl<'c> Block<'c> {
    /// The packets of the block, as views into it (skipping those the
    /// direction setting or a pending user-space filter excludes, and the
    /// duplicate outgoing copy of loopback packets, as libpcap does). VLAN
    /// tags the kernel stripped are put back on the way.
    #[inline]
    pub fn packets(&mut self) -> impl Iterator<Item = Packet<'_>> + '_ {
        let (snaplen, direction) = (self.snaplen, self.direction);
        let (userland, userspace, punted) = (self.userland_filter, self.userspace_filter, self.punted_filter);
        PacketWalk::new(self.data, userland.map(|f| (f, snaplen)), self.cooked).filter_map(move |pkt| {
            let p = Packet::at(pkt, 0, snaplen)?;
            let outgoing = p.pkttype() == libc::PACKET_OUTGOING;
            let keep = match direction {
                Direction::Both => !(outgoing && p.hatype() == ARPHRD_LOOPBACK),
                Direction::In => !outgoing,
                Direction::Out => outgoing,
            };
            if !keep {
                return None;
            }
            if p.block[H_REJECTED] == 1 {
                return None;
            }
            for f in [punted, userspace].into_iter().flatten() {
                // Offline semantics: the frame with its tag (or its cooked
                // header), no metadata.
                if bpf::run(&f.insns, p.data, p.wire_len(), &Metadata::default()) == 0 {
                    return None;
                }
            }
            Some(p)
        })
    }

    /// Index of the block in the ring.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        sys::release_block(self.data);
    }
}

/// One captured packet, borrowed from its block. The fields of its
/// `tpacket3_hdr` and `sockaddr_ll` are read on demand.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    block: &'a [u8],
    h: usize,
    data: &'a [u8],
}

impl<'a> Packet<'a> {
    #[inline]
    fn at(block: &'a [u8], h: usize, snaplen: u32) -> Option<Packet<'a>> {
        let mac = le16(block, h + H_MAC) as usize;
        let snap = le32(block, h + H_SNAPLEN) as usize;
        let data = block.get(h + mac..h + mac + snap)?;
        let data = &data[..data.len().min(snaplen as usize)];
        Some(Packet { block, h, data })
    }

    #[inline]
    fn u16_at(&self, off: usize) -> u16 {
        le16(self.block, self.h + off)
    }

    #[inline]
    fn u32_at(&self, off: usize) -> u32 {
        le32(self.block, self.h + off)
    }

    /// The captured bytes from the link-layer header on (VLAN tag
    /// reinserted), at most the snap length.
    #[inline]
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Length on the wire (plus 4 when a tag was reinserted).
    #[inline]
    pub fn wire_len(&self) -> u32 {
        self.u32_at(H_LEN)
    }

    /// Timestamp in nanoseconds since the epoch.
    #[inline]
    pub fn ts_ns(&self) -> u64 {
        self.u32_at(H_SEC) as u64 * 1_000_000_000 + self.u32_at(H_NSEC) as u64
    }

    /// Interface index.
    pub fn ifindex(&self) -> u32 {
        self.u32_at(L_IFINDEX)
    }

    /// sll_pkttype: PACKET_HOST, PACKET_BROADCAST, PACKET_MULTICAST,
    /// PACKET_OTHERHOST, PACKET_OUTGOING.
    #[inline]
    pub fn pkttype(&self) -> u8 {
        self.block.get(self.h + L_PKTTYPE).copied().unwrap_or(0)
    }

    /// sll_hatype (ARPHRD_*).
    #[inline]
    pub fn hatype(&self) -> u16 {
        self.u16_at(L_HATYPE)
    }

    /// sll_protocol (EtherType, host order).
    pub fn protocol(&self) -> u16 {
        u16::from_be(self.u16_at(L_PROTOCOL))
    }

    /// The VLAN tag the kernel reported, if any (already reinserted into
    /// `data` for Ethernet).
    pub fn vlan(&self) -> Option<VlanTag> {
        let status = self.u32_at(H_STATUS);
        let tci = self.u32_at(H_VLAN_TCI) as u16;
        (status & libc::TP_STATUS_VLAN_VALID != 0 || tci != 0).then(|| VlanTag {
            tpid: if status & libc::TP_STATUS_VLAN_TPID_VALID != 0 {
                self.u16_at(H_VLAN_TPID)
            } else {
                ethertype::VLAN
            },
            tci,
        })
    }

    /// Offset of the network header in `data`.
    pub fn net_offset(&self) -> u32 {
        (self.u16_at(H_NET) as u32).saturating_sub(self.u16_at(H_MAC) as u32)
    }

    /// Flow hash.
    pub fn rxhash(&self) -> u32 {
        self.u32_at(H_RXHASH)
    }

    /// Metadata for ancillary BPF loads, as the kernel would see it.
    pub fn metadata(&self) -> Metadata {
        let vlan = self.vlan();
        Metadata {
            protocol: self.protocol(),
            pkttype: self.pkttype(),
            ifindex: self.ifindex(),
            hatype: self.hatype(),
            rxhash: self.rxhash(),
            vlan_tci: vlan.map(|v| v.tci),
            vlan_tpid: vlan.map_or(0, |v| v.tpid),
            net_offset: self.net_offset(),
            ..Metadata::default()
        }
    }
}

/// Asks the kernel whether it accepts `prog` as a socket filter, without
/// our checker: attaches it to an unbound packet socket (which receives
/// nothing). Returns the kernel's error (EINVAL for a refused program).
pub fn kernel_accepts(prog: &Program) -> std::io::Result<()> {
    let fd = sys::packet_socket(0, false)?;
    sys::attach_filter(&fd, prog)
}
