//! netobs: observe the Linux network stack at every layer.
//!
//! The facade re-exports each netobs crate as a module:
//!
//! - [`core`] holds netlink, rtnetlink links and counters, namespaces, generic netlink
//! - [`sockdiag`] shows sockets (what `ss` shows)
//! - [`ethtool`] reads driver statistics (what `ethtool -S` shows)
//! - [`capture`] captures packets (what `tcpdump` shows)
//! - [`trace`] follows kernel paths and drop points (what `dropwatch` and ftrace show)
//!
//! and holds what joins them:
//!
//! - [`correlate`] joins kernel drops to the sockets they belonged to
//! - [`diagnose`] walks the stack and says at which layer packets are lost
//! - [`metrics`] writes the stack's counters for Prometheus (feature `metrics`, on by default)
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod correlate;
pub mod diagnose;
#[cfg(feature = "metrics")]
pub mod metrics;

pub use netobs_capture as capture;
pub use netobs_core as core;
pub use netobs_ethtool as ethtool;
pub use netobs_sockdiag as sockdiag;
pub use netobs_trace as trace;
