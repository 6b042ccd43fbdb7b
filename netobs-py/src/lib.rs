//! netobs-py: see the README; the bindings are not written yet.
#![doc = include_str!("../README.md")]
