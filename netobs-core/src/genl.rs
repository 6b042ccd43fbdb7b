//! Generic netlink (include/uapi/linux/genetlink.h): family lookup by name
//! through the `nlctrl` family (CTRL_CMD_GETFAMILY), cached per socket.

use crate::error::{Error, Result};
use crate::nlattr::{AttrIndex, Attrs};
use crate::nlmsg::{MsgBuf, NlMsg, NLMSG_HDRLEN};
use crate::socket::{NetlinkSocket, Protocol};

/// Size of `struct genlmsghdr` (cmd: u8, version: u8, reserved: u16).
pub const GENL_HDRLEN: usize = 4;
/// The controller family's fixed id (GENL_ID_CTRL).
pub const GENL_ID_CTRL: u16 = libc::GENL_ID_CTRL as u16;

// enum ctrl_attr / ctrl_attr_mcast_grp, include/uapi/linux/genetlink.h
const CTRL_CMD_GETFAMILY: u8 = libc::CTRL_CMD_GETFAMILY as u8;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_VERSION: u16 = 3;
const CTRL_ATTR_HDRSIZE: u16 = 4;
const CTRL_ATTR_MAXATTR: u16 = 5;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;

/// A generic netlink family as the kernel registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenlFamily {
    /// Family id: the `nlmsg_type` of its messages.
    pub id: u16,
    /// Family name (`"ethtool"`, `"netdev"`, ...).
    pub name: String,
    /// Family version.
    pub version: u32,
    /// Size of the family's own header after `genlmsghdr`.
    pub hdrsize: u32,
    /// Highest attribute type the family accepts.
    pub maxattr: u32,
    /// Multicast groups as (name, id).
    pub mcast_groups: Vec<(String, u32)>,
}

impl GenlFamily {
    /// Decodes a CTRL_CMD_NEWFAMILY answer.
    pub fn parse(msg: &NlMsg<'_>) -> Result<Self> {
        let p = msg.payload();
        let attrs = p.get(GENL_HDRLEN..).ok_or(crate::DecodeError::Truncated {
            what: "genlmsghdr",
            offset: NLMSG_HDRLEN,
            need: GENL_HDRLEN,
            have: p.len(),
        })?;
        let idx = AttrIndex::<8>::parse(attrs)?;
        idx.check_sizes(&[
            (CTRL_ATTR_FAMILY_ID, 2),
            (CTRL_ATTR_VERSION, 4),
            (CTRL_ATTR_HDRSIZE, 4),
            (CTRL_ATTR_MAXATTR, 4),
        ])?;
        let id = idx
            .u16(CTRL_ATTR_FAMILY_ID)
            .ok_or(Error::Protocol("family answer without CTRL_ATTR_FAMILY_ID"))?;
        let mut mcast_groups = Vec::new();
        if let Some(groups) = idx.get(CTRL_ATTR_MCAST_GROUPS) {
            for g in groups.nested() {
                let g = AttrIndex::<4>::parse(g?.payload())?;
                if let (Some(name), Some(Ok(gid))) = (
                    g.str(CTRL_ATTR_MCAST_GRP_NAME),
                    g.get(CTRL_ATTR_MCAST_GRP_ID).map(|a| a.u32()),
                ) {
                    mcast_groups.push((name.to_owned(), gid));
                }
            }
        }
        Ok(GenlFamily {
            id,
            name: idx.str(CTRL_ATTR_FAMILY_NAME).unwrap_or_default().to_owned(),
            version: idx.u32(CTRL_ATTR_VERSION).unwrap_or(0),
            hdrsize: idx.u32(CTRL_ATTR_HDRSIZE).unwrap_or(0),
            maxattr: idx.u32(CTRL_ATTR_MAXATTR).unwrap_or(0),
            mcast_groups,
        })
    }

    /// The id of multicast group `name`.
    pub fn mcast_group(&self, name: &str) -> Option<u32> {
        self.mcast_groups.iter().find(|(n, _)| n == name).map(|&(_, id)| id)
    }
}

/// Starts a generic netlink request: `nlmsghdr` for `family`, then
/// `genlmsghdr { cmd, version }`.
pub fn genl_request(buf: &mut MsgBuf, family: u16, cmd: u8, version: u8) -> &mut MsgBuf {
    buf.begin(family, 0).push(&[cmd, version, 0, 0])
}

/// The attributes of a generic netlink message (after `genlmsghdr` and the
/// family's own `hdrsize` bytes).
pub fn genl_attrs<'a>(msg: &NlMsg<'a>, hdrsize: usize) -> Result<Attrs<'a>> {
    let p = msg.payload();
    let need = GENL_HDRLEN + crate::nlattr::align4(hdrsize);
    let a = p.get(need..).ok_or(crate::DecodeError::Truncated {
        what: "genlmsghdr",
        offset: NLMSG_HDRLEN,
        need,
        have: p.len(),
    })?;
    Ok(Attrs::new(a))
}

impl NetlinkSocket {
    /// Resolves generic netlink family `name` (its id and multicast groups),
    /// asking the kernel once per socket. A family this kernel lacks gives
    /// [`Error::NoSuchFamily`].
    pub fn genl_family(&mut self, name: &str) -> Result<&GenlFamily> {
        if self.protocol() != Protocol::Generic {
            return Err(Error::Protocol(
                "generic netlink family lookup needs a NETLINK_GENERIC socket",
            ));
        }
        if let Some(i) = self.families.iter().position(|f| f.name == name) {
            return Ok(&self.families[i]);
        }
        let mut req = MsgBuf::new();
        genl_request(&mut req, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1).attr_str(CTRL_ATTR_FAMILY_NAME, name);
        let fam = match self.request(&mut req) {
            Ok(msg) => GenlFamily::parse(&msg)?,
            Err(e) if e.errno() == Some(libc::ENOENT) => return Err(Error::NoSuchFamily(name.to_owned())),
            Err(e) => return Err(e),
        };
        let i = self.families.len();
        self.families.push(fam);
        Ok(&self.families[i])
    }
}

/// A NETLINK_GENERIC socket bound to one family: the client the ethtool,
/// netdev and NET_DM families are spoken through. It resolves the family
/// once, builds requests in one reused buffer, and joins the family's
/// multicast groups by name.
///
/// ```no_run
/// use netobs_core::genl::GenlSocket;
///
/// // The kernel's view of the netdev family: its id and groups.
/// let genl = GenlSocket::open("netdev")?;
/// println!("{} = {}, groups {:?}", genl.family().name, genl.family().id, genl.family().mcast_groups);
/// # Ok::<(), netobs_core::Error>(())
/// ```
#[derive(Debug)]
pub struct GenlSocket {
    sock: NetlinkSocket,
    family: GenlFamily,
    req: MsgBuf,
}

impl GenlSocket {
    /// Opens a socket in the caller's namespace and resolves family `name`;
    /// a kernel without it gives [`Error::NoSuchFamily`].
    pub fn open(name: &str) -> Result<Self> {
        let mut sock = NetlinkSocket::open(Protocol::Generic)?;
        let family = sock.genl_family(name)?.clone();
        Ok(GenlSocket {
            sock,
            family,
            req: MsgBuf::new(),
        })
    }

    /// [`open`](Self::open) inside `netns`, without moving the caller's thread.
    pub fn open_in(name: &str, netns: &crate::Netns) -> Result<Self> {
        netns.run(|| Self::open(name))?
    }

    /// The family as the kernel registered it.
    pub fn family(&self) -> &GenlFamily {
        &self.family
    }

    /// Starts a request of the family: `cmd` at `version`. Add attributes
    /// to the returned buffer (or later through [`msg`](Self::msg)), then
    /// send it with [`request`](Self::request), [`dump`](Self::dump) or
    /// [`ack`](Self::ack).
    pub fn begin(&mut self, cmd: u8, version: u8) -> &mut MsgBuf {
        genl_request(&mut self.req, self.family.id, cmd, version)
    }

    /// The request being built.
    pub fn msg(&mut self) -> &mut MsgBuf {
        &mut self.req
    }

    /// Sends the request built and returns the single answer message.
    pub fn request(&mut self) -> Result<NlMsg<'_>> {
        self.sock.request(&mut self.req)
    }

    /// Sends the request built as a dump and returns the answer's walker.
    pub fn dump(&mut self) -> Result<crate::socket::Dump<'_>> {
        self.sock.dump(&mut self.req)
    }

    /// Sends the request built with NLM_F_ACK and waits for the kernel's
    /// acknowledgement.
    pub fn ack(&mut self) -> Result<()> {
        self.sock.ack(&mut self.req)
    }

    /// Joins the family's multicast group `group` by name; notifications
    /// are then read with [`recv_events`](Self::recv_events). A group the
    /// family lacks is [`Error::Protocol`].
    pub fn join(&mut self, group: &str) -> Result<()> {
        let id = self
            .family
            .mcast_group(group)
            .ok_or(Error::Protocol("the family has no multicast group of that name"))?;
        self.sock.join_group(id)
    }

    /// [`NetlinkSocket::recv_events`] on this socket.
    pub fn recv_events(
        &mut self,
        timeout: Option<std::time::Duration>,
        stop: Option<&crate::stop::Stop>,
        f: impl FnMut(&NlMsg<'_>) -> Result<()>,
    ) -> Result<usize> {
        self.sock.recv_events(timeout, stop, f)
    }
}

impl std::os::fd::AsFd for GenlSocket {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.sock.as_fd()
    }
}
