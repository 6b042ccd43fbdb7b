//! Sending raw frames with an AF_PACKET SOCK_RAW socket: the frame goes
//! out of the interface as given, link-layer header included (the
//! `errframe.py` of the seed articles, as a type).

use std::os::fd::OwnedFd;

use netobs_core::netns::Netns;

use crate::capture::interface_index;
use crate::error::{Error, Result};
use crate::sys;

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
        let fd = sys::packet_socket(0).map_err(|e| Error::os("socket(AF_PACKET, SOCK_RAW)", e))?;
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
