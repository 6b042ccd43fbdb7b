//! netobs-capture: packets on the wire.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod bpf;
pub mod capture;
pub mod error;
pub mod file;
pub mod filter;
pub mod hexdump;
pub mod inject;
pub mod ptype;
pub mod summary;
#[allow(unsafe_code)]
mod sys;
pub mod wire;

pub use capture::{kernel_accepts, Block, Capture, CaptureConfig, Direction, Fanout, Packet, Stats};
pub use error::{CheckError, Error, FileError, FilterError, Result, WireError};
pub use inject::{BulkSender, PacketSender};
