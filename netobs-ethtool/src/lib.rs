//! netobs-ethtool: see the README; this crate is not written yet.
#![doc = include_str!("../README.md")]
