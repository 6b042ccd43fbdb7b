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
//! - [`genl`] looks up generic netlink families.
//! - [`rates`] turns counter snapshots into and per-second rates (nicstat, sar).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod error;
pub mod genl;
pub mod netns;
pub mod nlattr;
pub mod nlmsg;
pub mod rates;
pub mod rtnetlink;
pub mod socket;
#[allow(unsafe_code)]
mod sys;

pub use error::{DecodeError, Error, Result};
pub use netns::Netns;
pub use nlmsg::{MsgBuf, NlMsg};
pub use socket::{Dump, NetlinkSocket, Protocol};
