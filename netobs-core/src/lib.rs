//! netobs-core: zero-copy netlink for observing the Linux network stack.
//!
//! - [`NetlinkSocket`] is a netlink socket (route, sock_diag, generic) that
//!   walks dump answers as borrowed [`NlMsg`] views out of one reused buffer,
//!   with extended-ack errors, NLM_F_DUMP_INTR and ENOBUFS surfaced.
//! - [`nlattr`] and [`nlmsg`] are the codec kit: attribute iterator and index,
//!   message views, request builder. Malformed bytes give [`DecodeError`].
//! - [`rtnetlink`] decodes links ([`rtnetlink::Link`], [`rtnetlink::LinkStats64`]),
//!   RTM_GETSTATS and namespace ids.
//! - [`netns`] opens sockets inside another network namespace without moving the
//!   caller's thread.
//! - [`genl`] speaks generic netlink: family lookup and [`genl::GenlSocket`],
//!   the client of the ethtool, netdev and NET_DM families.
//! - [`names`] holds the names tools print for numbers: services, EtherTypes,
//!   IP protocols, interface groups.
//! - [`stop`] is the wakeable stop handle every blocking call takes (libraries
//!   never install signal handlers) and the one poll(2) wait they block in.
//! - [`rates`] turns counter snapshots into per-second rates (nicstat, sar).
//! - [`softnet`] reads the per-CPU receive backlog counters (/proc/net/softnet_stat).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod error;
pub mod genl;
pub mod names;
pub mod netns;
pub mod nlattr;
pub mod nlmsg;
pub mod rates;
pub mod rtnetlink;
pub mod socket;
pub mod softnet;
pub mod stop;
#[allow(unsafe_code)]
mod sys;

pub use error::{DecodeError, Error, ErrorInfo, ErrorKind, Result};
pub use netns::Netns;
pub use nlmsg::{MsgBuf, NlMsg};
pub use socket::{Dump, NetlinkSocket, Protocol};
pub use stop::{Stop, Wake};

/// The size of a memory page (sysconf `_SC_PAGESIZE`): /proc files count
/// socket memory in pages (`sockstat`'s `mem`), answers are sized by it.
pub fn page_size() -> usize {
    sys::page_size()
}
