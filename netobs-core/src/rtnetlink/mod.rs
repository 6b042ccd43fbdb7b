//! rtnetlink (NETLINK_ROUTE): links (RTM_GETLINK), link statistics
//! (RTM_GETSTATS), namespace ids (RTM_GETNSID) and qdiscs with their
//! counters (RTM_GETQDISC); links as `ip link show`
//! prints them (text, and `ip -j` JSON with the `serde` feature).

mod ip_link;
#[cfg(feature = "serde")]
mod ip_link_json;
mod link;
mod nsid;
mod qdisc;
mod stats;

pub use ip_link::*;
pub use link::*;
pub use nsid::*;
pub use qdisc::*;
pub use stats::*;

use crate::error::{Error, Result};
use crate::nlmsg::MsgBuf;
use crate::socket::NetlinkSocket;

/// `RTM_NEWLINK`, the answer type of RTM_GETLINK (include/uapi/linux/rtnetlink.h).
pub const RTM_NEWLINK: u16 = libc::RTM_NEWLINK;
/// `RTM_DELLINK`: a link was removed (notifications).
pub const RTM_DELLINK: u16 = libc::RTM_DELLINK;
/// `RTM_GETLINK`.
pub const RTM_GETLINK: u16 = libc::RTM_GETLINK;
/// `RTM_NEWSTATS`, the answer type of RTM_GETSTATS.
pub const RTM_NEWSTATS: u16 = libc::RTM_NEWSTATS;
/// `RTM_GETSTATS`.
pub const RTM_GETSTATS: u16 = libc::RTM_GETSTATS;
/// `RTM_NEWNSID`, the answer type of RTM_GETNSID.
pub const RTM_NEWNSID: u16 = libc::RTM_NEWNSID;
/// `RTM_GETNSID`.
pub const RTM_GETNSID: u16 = libc::RTM_GETNSID;

/// IFLA_EXT_MASK bit: include VF information (include/uapi/linux/rtnetlink.h).
pub const RTEXT_FILTER_VF: u32 = 1 << 0;
/// IFLA_EXT_MASK bit: leave out IFLA_STATS/IFLA_STATS64.
pub const RTEXT_FILTER_SKIP_STATS: u32 = 1 << 3;

/// A request dumping every link of the namespace, the way `ip link show`
/// asks (IFLA_EXT_MASK = RTEXT_FILTER_VF).
pub fn link_dump_request() -> MsgBuf {
    let mut b = MsgBuf::new();
    b.begin(RTM_GETLINK, 0)
        .push(&IfInfoMsg::default().to_bytes())
        .attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_VF);
    b
}

/// A request for one link by index.
pub fn link_get_by_index(buf: &mut MsgBuf, index: u32) {
    let hdr = IfInfoMsg {
        index: index as i32,
        ..Default::default()
    };
    buf.begin(RTM_GETLINK, 0)
        .push(&hdr.to_bytes())
        .attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_VF);
}

/// A request for one link by name; names longer than IFNAMSIZ-1 are looked
/// up as alternative names (IFLA_ALT_IFNAME), as iproute2 does.
pub fn link_get_by_name(buf: &mut MsgBuf, name: &str) {
    let kind = if name.len() < IFNAMSIZ {
        IFLA_IFNAME
    } else {
        IFLA_ALT_IFNAME
    };
    buf.begin(RTM_GETLINK, 0)
        .push(&IfInfoMsg::default().to_bytes())
        .attr_u32(IFLA_EXT_MASK, RTEXT_FILTER_VF)
        .attr_str(kind, name);
}

/// `IFNAMSIZ` (include/uapi/linux/if.h).
pub const IFNAMSIZ: usize = 16;

impl NetlinkSocket {
    /// Fetches one link by name. An unknown name gives
    /// [`Error::NoSuchInterface`].
    pub fn link_by_name(&mut self, name: &str) -> Result<Link<'_>> {
        let mut req = MsgBuf::new();
        link_get_by_name(&mut req, name);
        match self.request(&mut req) {
            Ok(m) => Link::parse(&m).map_err(Error::from),
            Err(e) if e.errno() == Some(libc::ENODEV) => Err(Error::NoSuchInterface(name.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// Fetches one link by index. An unknown index gives
    /// [`Error::NoSuchInterface`].
    pub fn link_by_index(&mut self, index: u32) -> Result<Link<'_>> {
        let mut req = MsgBuf::new();
        link_get_by_index(&mut req, index);
        match self.request(&mut req) {
            Ok(m) => Link::parse(&m).map_err(Error::from),
            Err(e) if e.errno() == Some(libc::ENODEV) => Err(Error::NoSuchInterface(format!("if{index}"))),
            Err(e) => Err(e),
        }
    }

    /// Dumps every link and hands each borrowed view to `f`. An interrupted
    /// dump ends in [`Error::DumpInterrupted`] after `f` has seen every
    /// message; dump again for a consistent picture.
    pub fn for_each_link(&mut self, mut f: impl FnMut(&Link<'_>)) -> Result<()> {
        let mut req = link_dump_request();
        let mut dump = self.dump(&mut req)?;
        while let Some(m) = dump.next()? {
            match Link::parse(&m) {
                Ok(link) => f(&link),
                Err(e) => {
                    let _ = dump.drain();
                    return Err(e.into());
                }
            }
        }
        Ok(())
    }

    /// Owned copies of every link of the namespace; an interrupted dump is
    /// retried (up to 3 times) so the result is consistent.
    pub fn links(&mut self) -> Result<Vec<LinkInfo>> {
        let mut v = Vec::new();
        crate::socket::retry_interrupted(|| {
            v.clear();
            self.for_each_link(|l| v.push(l.to_owned()))
        })?;
        Ok(v)
    }
}

/// Interface names by index in one namespace, for naming the interface of
/// many packets (`tcpdump -i any` names each with `if_indextoname`): each
/// index is asked of the kernel once (RTM_GETLINK by index) and its
/// answer, a name or none, kept.
#[derive(Debug)]
pub struct InterfaceNames {
    sock: NetlinkSocket,
    known: std::collections::HashMap<u32, Option<String>>,
}

impl InterfaceNames {
    /// Names of the caller's namespace.
    pub fn open() -> Result<Self> {
        Ok(InterfaceNames {
            sock: NetlinkSocket::open(crate::socket::Protocol::Route)?,
            known: Default::default(),
        })
    }

    /// Names of `netns`.
    pub fn open_in(netns: &crate::netns::Netns) -> Result<Self> {
        Ok(InterfaceNames {
            sock: NetlinkSocket::open_in(crate::socket::Protocol::Route, netns)?,
            known: Default::default(),
        })
    }

    /// The name of interface `index`; None when the namespace has no such
    /// interface (or the kernel could not be asked).
    pub fn name(&mut self, index: u32) -> Option<String> {
        if let Some(n) = self.known.get(&index) {
            return n.clone();
        }
        let n = self
            .sock
            .link_by_index(index)
            .ok()
            .and_then(|l| l.name().map(str::to_owned));
        self.known.insert(index, n.clone());
        n
    }
}
