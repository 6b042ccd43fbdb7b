//! Pieces shared by the examples (included with `#[path]`; not an example).

pub mod json;
