//! Sending raw frames with an AF_PACKET SOCK_RAW socket: the frame goes
//! out of the interface as given, link-layer header included (the
//! `errframe.py` of the seed articles, as a type).

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::Ordering;

use netobs_core::netns::Netns;

use crate::capture::interface_index;
use crate::error::{Error, Result};
use crate::sys::{self, RingMap};

/// A packet socket bound to one interface, for sending whole frames.
#[derive(Debug)]
pub struct PacketSender {
    fd: OwnedFd,
    ifindex: u32,
}

impl PacketSender {
    /// Opens a sender on `ifname` in the caller's namespace.
    pub fn open(ifname: &str) -> Result<PacketSender> {
        let ifindex = interface_index(ifname)?;
        // Protocol 0: the socket sends but receives nothing.
        let fd = sys::packet_socket(0, false).map_err(|e| Error::os("socket(AF_PACKET, SOCK_RAW)", e))?;
        sys::bind_packet(&fd, ifindex, 0).map_err(|e| Error::os("bind packet socket", e))?;
        Ok(PacketSender { fd, ifindex })
    }

    /// Opens a sender on `ifname` inside `netns`.
    pub fn open_in(netns: &Netns, ifname: &str) -> Result<PacketSender> {
        netns.run(|| PacketSender::open(ifname))?
    }

    /// The interface index the sender is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one frame (from the destination MAC on, for Ethernet).
    /// The kernel refuses frames shorter than the link header (EINVAL) or
    /// longer than the MTU plus header (EMSGSIZE), and an interface that
    /// is down (ENETDOWN).
    pub fn send(&self, frame: &[u8]) -> Result<()> {
        let n = sys::send(&self.fd, frame).map_err(|e| Error::os("send frame", e))?;
        if n != frame.len() {
            return Err(Error::Config(format!("short send: {n} of {} bytes", frame.len())));
        }
        Ok(())
    }
}

/// tpacket2_hdr field offsets (include/uapi/linux/if_packet.h).
const TP2_STATUS: usize = 0;
const TP2_LEN: usize = 4;
/// Frame data starts at TPACKET2_HDRLEN - sizeof(struct sockaddr_ll):
/// TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) = 32.
const TP2_DATA: usize = 32;
/// TP_STATUS_AVAILABLE / SEND_REQUEST / SENDING / WRONG_FORMAT.
const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1;
const TP_STATUS_WRONG_FORMAT: u32 = 4;

/// Bulk injection through a PACKET_TX_RING (TPACKET_V2): frames are
/// written into a shared ring and the kernel sends a whole batch on one
/// send() call, without a system call per frame.
#[derive(Debug)]
pub struct BulkSender {
    // Unmapped before the socket closes: field order.
    ring: RingMap,
    fd: OwnedFd,
    frame_size: usize,
    frame_count: usize,
    next: usize,
    queued: usize,
}

impl BulkSender {
    /// Opens a TX ring of `frames` slots of 2048 bytes (frames up to
    /// 2016 bytes) on `ifname`.
    pub fn open(ifname: &str, frames: u32) -> Result<BulkSender> {
        let ifindex = interface_index(ifname)?;
        let frame_size = 2048u32;
        let per_block = 4096 / frame_size;
        let frames = frames.max(per_block).div_ceil(per_block) * per_block;
        let fd = sys::packet_socket(0, false).map_err(|e| Error::os("socket(AF_PACKET, SOCK_RAW)", e))?;
        sys::setsockopt(
            &fd,
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            &(libc::tpacket_versions::TPACKET_V2 as libc::c_int),
        )
        .map_err(|e| Error::os("setsockopt(PACKET_VERSION, TPACKET_V2)", e))?;
        let req = libc::tpacket_req {
            tp_block_size: 4096,
            tp_block_nr: frames / per_block,
            tp_frame_size: frame_size,
            tp_frame_nr: frames,
        };
        sys::setsockopt(&fd, libc::SOL_PACKET, libc::PACKET_TX_RING, &req)
            .map_err(|e| Error::os("setsockopt(PACKET_TX_RING)", e))?;
        let ring = RingMap::map(&fd, 4096, req.tp_block_nr as usize).map_err(|e| Error::os("mmap TX ring", e))?;
        sys::bind_packet(&fd, ifindex, 0).map_err(|e| Error::os("bind packet socket", e))?;
        Ok(BulkSender {
            ring,
            fd,
            frame_size: frame_size as usize,
            frame_count: frames as usize,
            next: 0,
            queued: 0,
        })
    }

    /// Opens a TX ring on `ifname` inside `netns`.
    pub fn open_in(netns: &Netns, ifname: &str, frames: u32) -> Result<BulkSender> {
        netns.run(|| BulkSender::open(ifname, frames))?
    }

    /// Puts one frame in the next free slot, waiting for the kernel to
    /// free one (and flushing what is queued) when the ring is full.
    pub fn queue(&mut self, frame: &[u8]) -> Result<()> {
        if frame.len() > self.frame_size - TP2_DATA {
            return Err(Error::Config(format!(
                "frame of {} bytes does not fit a {}-byte TX ring slot",
                frame.len(),
                self.frame_size - TP2_DATA
            )));
        }
        let at = self.next * self.frame_size;
        loop {
            match self.ring.word(at + TP2_STATUS).load(Ordering::Acquire) {
                TP_STATUS_AVAILABLE => break,
                TP_STATUS_WRONG_FORMAT => {
                    return Err(Error::Config(
                        "the kernel refused a queued frame (TP_STATUS_WRONG_FORMAT)".into(),
                    ))
                }
                _ => {
                    // Still owned by the kernel: send what is queued, wait.
                    self.flush()?;
                    sys::poll_out(self.fd.as_raw_fd(), 100).map_err(|e| Error::os("poll TX ring", e))?;
                }
            }
        }
        self.ring.bytes_mut(at + TP2_DATA, frame.len()).copy_from_slice(frame);
        self.ring
            .word(at + TP2_LEN)
            .store(frame.len() as u32, Ordering::Relaxed);
        self.ring
            .word(at + TP2_STATUS)
            .store(TP_STATUS_SEND_REQUEST, Ordering::Release);
        self.next = (self.next + 1) % self.frame_count;
        self.queued += 1;
        Ok(())
    }

    /// Asks the kernel to send every queued frame; returns how many were
    /// queued since the last flush.
    pub fn flush(&mut self) -> Result<usize> {
        if self.queued == 0 {
            return Ok(0);
        }
        sys::flush_tx_ring(&self.fd).map_err(|e| Error::os("send TX ring", e))?;
        Ok(std::mem::take(&mut self.queued))
    }

    /// Queues and sends all `frames`; returns how many were sent.
    pub fn send_all<'f>(&mut self, frames: impl IntoIterator<Item = &'f [u8]>) -> Result<usize> {
        let mut n = 0;
        for f in frames {
            self.queue(f)?;
            n += 1;
        }
        self.flush()?;
        Ok(n)
    }
}
