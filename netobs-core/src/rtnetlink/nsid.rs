//! Namespace ids (RTM_GETNSID, include/uapi/linux/net_namespace.h): the
//! number by which one namespace refers to another, e.g. in a veth's
//! IFLA_LINK_NETNSID.

use super::RTM_GETNSID;
use crate::error::{Error, Result};
use crate::netns::NETNS_RUN_DIR;
use crate::nlattr::AttrIndex;
use crate::nlmsg::MsgBuf;
use crate::socket::NetlinkSocket;
use std::os::fd::{AsRawFd, BorrowedFd};

/// NETNSA_NSID: the id (s32, negative when none is assigned).
pub const NETNSA_NSID: u16 = 1;
/// NETNSA_FD: ask about the namespace behind this fd.
pub const NETNSA_FD: u16 = 3;
/// `NETNSA_NSID_NOT_ASSIGNED`.
pub const NETNSA_NSID_NOT_ASSIGNED: i32 = -1;

impl NetlinkSocket {
    /// The id this socket's namespace uses for the namespace behind `ns`;
    /// `None` when no id is assigned.
    pub fn nsid_of(&mut self, ns: BorrowedFd<'_>) -> Result<Option<i32>> {
        let mut req = MsgBuf::new();
        // struct rtgenmsg { unsigned char rtgen_family; } padded to 4.
        req.begin(RTM_GETNSID, 0)
            .push(&[libc::AF_UNSPEC as u8])
            .attr_u32(NETNSA_FD, ns.as_raw_fd() as u32);
        let msg = self.request(&mut req)?;
        let attrs = msg.payload().get(4..).ok_or(Error::Protocol("short RTM_NEWNSID"))?;
        let idx = AttrIndex::<4>::parse(attrs)?;
        Ok(idx.i32(NETNSA_NSID).filter(|&id| id >= 0))
    }

    /// Names of the namespaces under /run/netns by the id this socket's
    /// namespace gives them, in directory order, the first name winning
    /// for an id (what `ip` prints as `link-netns NAME`).
    pub fn netns_names_by_id(&mut self) -> Vec<(i32, String)> {
        let mut out: Vec<(i32, String)> = Vec::new();
        let Ok(dir) = std::fs::read_dir(NETNS_RUN_DIR) else {
            return out;
        };
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(f) = std::fs::File::open(entry.path()) else {
                continue;
            };
            use std::os::fd::AsFd;
            if let Ok(Some(id)) = self.nsid_of(f.as_fd()) {
                if !out.iter().any(|(i, _)| *i == id) {
                    out.push((id, name));
                }
            }
        }
        out
    }
}
