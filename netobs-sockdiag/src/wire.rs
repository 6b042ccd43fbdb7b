//! Small readers shared by the diag message views.

use netobs_core::nlattr::{field, AttrIndex};
use netobs_core::DecodeError;

/// A native-endian u32 at `off`; callers pass offsets inside a slice whose
/// length was checked when the view was built.
#[inline]
pub(crate) fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_ne_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// The first `N` native-endian u32 words of `b`, or `None` if it is shorter.
pub(crate) fn u32s<const N: usize>(b: &[u8]) -> Option<[u32; N]> {
    let mut out = [0u32; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u32::from_ne_bytes(field(b, i * 4)?);
    }
    Some(out)
}

/// Splits a sock_diag answer into its fixed header (`hdr_len` bytes, named
/// `what` in errors) and its indexed attributes, checking the fixed-size
/// attributes listed in `sizes`.
pub(crate) fn split_msg<'a, const N: usize>(
    p: &'a [u8],
    what: &'static str,
    hdr_len: usize,
    sizes: &[(u16, usize)],
) -> Result<(&'a [u8], AttrIndex<'a, N>), DecodeError> {
    let hdr = p.get(..hdr_len).ok_or(DecodeError::Truncated {
        what,
        offset: 0,
        need: hdr_len,
        have: p.len(),
    })?;
    let attrs = AttrIndex::parse(&p[hdr_len..])?;
    attrs.check_sizes(sizes)?;
    Ok((hdr, attrs))
}
