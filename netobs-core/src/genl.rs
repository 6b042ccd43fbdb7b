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
