//! Where the layers meet: kernel drops joined to the sockets they belonged
//! to.
//!
//! netobs-trace reads tracepoints and knows a socket by its kernel address
//! (`rx_sk`, `skaddr`) and, through the events that carry both, by its
//! cookie; netobs-sockdiag knows sockets by cookie with their state. This
//! module joins the two, so neither crate depends on the other.
//!
//! ```no_run
//! use netobs::core::Netns;
//! use netobs::trace::{DropFilter, DropMonitor, Tracefs};
//!
//! let tracefs = Tracefs::find_or_mount()?;
//! let filter = DropFilter { socket_only: true, ..Default::default() };
//! let mut mon = DropMonitor::open_tracepoint(&tracefs, &filter, None)?;
//! netobs::correlate::join_tcp_sockets(&mut mon, &[Netns::Current])?;
//! mon.poll_detailed(None, |d| {
//!     if let Some(tcp) = d.tcp {
//!         println!("{:?} dropped on {:?}", d.drop.reason, tcp.flow);
//!     }
//! })?;
//! # Ok::<(), netobs::trace::Error>(())
//! ```

use std::collections::HashMap;

use netobs_core::Netns;
use netobs_sockdiag::{Family, InetRequest, Proto, SockDiag, States};
use netobs_trace::{DropMonitor, SocketStates};

/// TCP socket states by cookie from sock_diag dumps of chosen namespaces
/// (IPv4 and IPv6, every state): the [`SocketStates`] of the drop→socket
/// join.
#[derive(Debug)]
pub struct SockDiagStates {
    diags: Vec<SockDiag>,
}

impl SockDiagStates {
    /// sock_diag sockets in each of `netns`.
    pub fn open_in(netns: &[Netns]) -> netobs_sockdiag::Result<Self> {
        Ok(SockDiagStates {
            diags: netns.iter().map(SockDiag::open_in).collect::<Result<_, _>>()?,
        })
    }
}

impl SocketStates for SockDiagStates {
    fn tcp_states(&mut self, states: &mut HashMap<u64, u32>) -> netobs_trace::Result<()> {
        states.clear();
        for diag in &mut self.diags {
            for family in [Family::Inet, Family::Inet6] {
                let req = InetRequest::new(family, Proto::Tcp, States::ALL);
                diag.for_each_inet(&req, |s| {
                    states.insert(s.cookie(), u32::from(s.state_raw()));
                })
                .map_err(trace_error)?;
            }
        }
        Ok(())
    }
}

/// Joins each drop `mon` reports to the TCP socket it belonged to
/// ([`netobs_trace::DropDetail::tcp`]), with states of sockets older than
/// the monitor looked up by sock_diag in `netns`. The tracepoint stays
/// host-wide: drops of other namespaces are still reported, without a
/// socket unless one of `netns` holds it.
pub fn join_tcp_sockets(mon: &mut DropMonitor, netns: &[Netns]) -> netobs_trace::Result<()> {
    let states = SockDiagStates::open_in(netns).map_err(trace_error)?;
    mon.enable_tcp_flows_with(Box::new(states))
}

fn trace_error(e: netobs_sockdiag::Error) -> netobs_trace::Error {
    netobs_trace::Error::SocketStates {
        errno: e.errno(),
        source: Box::new(e),
    }
}
