#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod btf;
pub mod devices;
pub mod drops;
pub mod error;
pub mod format;
pub mod frames;
pub mod graph;
pub mod hist;
pub mod kallsyms;
pub mod net_dm;
pub mod reader;
pub mod ring;
#[allow(unsafe_code)]
mod sys;
pub mod tcp;
pub mod tracefs;

pub use drops::{
    CountSource, DropCounter, DropCounts, DropDetail, DropFilter, DropKey, DropMonitor, KernelStack, KfreeSkb, SkbDrop,
    SocketStates, StackCounts, TcpSocket,
};
pub use error::{Error, Result};
pub use format::{EventFormat, Field, FieldRef, SymbolTable};
pub use kallsyms::Kallsyms;
pub use reader::{RawReader, TextReader};
pub use ring::{Missed, Page, PageLayout, Record};
pub use tracefs::{Instance, Tracefs};
