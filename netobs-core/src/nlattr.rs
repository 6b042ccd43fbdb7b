//! Netlink attributes (`struct nlattr`, include/uapi/linux/netlink.h).
//!
//! An attribute is a 4-byte header (`nla_len: u16`, `nla_type: u16`) followed
//! by its payload; the next attribute starts at the header plus `nla_len`
//! rounded up to 4 bytes. The top two bits of `nla_type` are flags
//! (NLA_F_NESTED, NLA_F_NET_BYTEORDER).

use crate::error::DecodeError;

/// Size of `struct nlattr`.
pub const NLA_HDRLEN: usize = 4;
/// The payload holds nested attributes (include/uapi/linux/netlink.h).
pub const NLA_F_NESTED: u16 = 1 << 15;
/// The payload is in network byte order.
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
/// Mask that strips the flag bits from `nla_type`.
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Rounds `len` up to the 4-byte netlink alignment (NLA_ALIGN / NLMSG_ALIGN).
#[inline]
pub const fn align4(len: usize) -> usize {
    (len + 3) & !3
}

/// One attribute, borrowed from the message that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    raw_kind: u16,
    payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The attribute type without the flag bits.
    #[inline]
    pub fn kind(&self) -> u16 {
        self.raw_kind & NLA_TYPE_MASK
    }

    /// The raw `nla_type`, flag bits included.
    #[inline]
    pub fn raw_kind(&self) -> u16 {
        self.raw_kind
    }

    /// Whether the kernel marked the payload as nested attributes.
    #[inline]
    pub fn is_nested(&self) -> bool {
        self.raw_kind & NLA_F_NESTED != 0
    }

    /// The payload bytes (without padding).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }

    fn fixed<const N: usize>(&self) -> Result<[u8; N], DecodeError> {
        self.payload.try_into().map_err(|_| DecodeError::AttrSize {
            kind: self.kind(),
            len: self.payload.len(),
            expected: N,
        })
    }

    /// The payload as a `u8`.
    pub fn u8(&self) -> Result<u8, DecodeError> {
        Ok(self.fixed::<1>()?[0])
    }
    /// The payload as a host-order `u16`.
    pub fn u16(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_ne_bytes(self.fixed()?))
    }
    /// The payload as a network-order (big-endian) `u16`, e.g. a port.
    pub fn u16_be(&self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.fixed()?))
    }
    /// The payload as a host-order `u32`.
    pub fn u32(&self) -> Result<u32, DecodeError> {
        Ok(u32::from_ne_bytes(self.fixed()?))
    }
    /// The payload as a host-order `i32`.
    pub fn i32(&self) -> Result<i32, DecodeError> {
        Ok(i32::from_ne_bytes(self.fixed()?))
    }
    /// The payload as a host-order `u64`.
    pub fn u64(&self) -> Result<u64, DecodeError> {
        Ok(u64::from_ne_bytes(self.fixed()?))
    }

    /// The payload as a NUL-terminated string (NLA_NUL_STRING / NLA_STRING).
    ///
    /// The string ends at the first NUL; a payload without NUL is taken whole,
    /// as the kernel's `nla_strscpy` does.
    pub fn str(&self) -> Result<&'a str, DecodeError> {
        std::str::from_utf8(self.cstr_bytes()).map_err(|_| DecodeError::BadString { kind: self.kind() })
    }

    /// The string bytes up to the first NUL, without requiring UTF-8.
    pub fn cstr_bytes(&self) -> &'a [u8] {
        let p = self.payload;
        match p.iter().position(|&b| b == 0) {
            Some(n) => &p[..n],
            None => p,
        }
    }

    /// Iterates the attributes nested in this one's payload.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// Iterator over a run of attributes. Never panics: malformed input yields
/// one `Err` and then the iteration ends.
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Attrs<'a> {
    /// Walks the attributes in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs { buf, pos: 0 }
    }

    /// Checks the whole run once and returns the first error, if any.
    pub fn validate(&self) -> Result<(), DecodeError> {
        for a in self.clone() {
            a?;
        }
        Ok(())
    }

    /// The first attribute of type `kind` (flags ignored).
    pub fn first(&self, kind: u16) -> Result<Option<Attr<'a>>, DecodeError> {
        for a in self.clone() {
            let a = a?;
            if a.kind() == kind {
                return Ok(Some(a));
            }
        }
        Ok(None)
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.len().checked_sub(self.pos)?;
        if rest == 0 {
            return None;
        }
        let start = self.pos;
        if rest < NLA_HDRLEN {
            self.pos = self.buf.len();
            return Some(Err(DecodeError::Truncated {
                what: "nlattr",
                offset: start,
                need: NLA_HDRLEN,
                have: rest,
            }));
        }
        let b = &self.buf[start..];
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let raw_kind = u16::from_ne_bytes([b[2], b[3]]);
        if len < NLA_HDRLEN || len > rest {
            self.pos = self.buf.len();
            return Some(Err(DecodeError::BadLength {
                what: "nlattr",
                offset: start,
                len,
                avail: rest,
            }));
        }
        // The last attribute's padding may be missing; clamp instead of failing.
        self.pos = (start + align4(len)).min(self.buf.len());
        Some(Ok(Attr {
            raw_kind,
            payload: &b[NLA_HDRLEN..len],
        }))
    }
}

/// A run of attributes indexed by type: walked and checked once, then each
/// lookup is a table read. Types `>= N` are not indexed but stay reachable
/// through [`AttrIndex::iter`]. When a type repeats, the first one wins, as
/// in iproute2's `parse_rtattr`.
#[derive(Clone, Debug)]
pub struct AttrIndex<'a, const N: usize> {
    buf: &'a [u8],
    /// Offset + 1 of each attribute header; 0 means absent.
    off: [u32; N],
}

impl<'a, const N: usize> AttrIndex<'a, N> {
    /// Indexes `buf`, failing on the first malformed attribute.
    pub fn parse(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let mut off = [0u32; N];
        let mut it = Attrs::new(buf);
        loop {
            let start = it.pos;
            match it.next() {
                None => break,
                Some(Err(e)) => return Err(e),
                Some(Ok(a)) => {
                    let k = a.kind() as usize;
                    if k < N && off[k] == 0 {
                        // Buffers are netlink datagrams, far below 4 GiB.
                        off[k] = start as u32 + 1;
                    }
                }
            }
        }
        Ok(AttrIndex { buf, off })
    }

    /// The attribute of type `kind`, if present.
    #[inline]
    pub fn get(&self, kind: u16) -> Option<Attr<'a>> {
        let o = *self.off.get(kind as usize)?;
        if o == 0 {
            return None;
        }
        let start = o as usize - 1;
        // Validated in parse(): the header and payload are in bounds.
        let b = self.buf.get(start..)?;
        let len = u16::from_ne_bytes([b[0], b[1]]) as usize;
        let raw_kind = u16::from_ne_bytes([b[2], b[3]]);
        Some(Attr {
            raw_kind,
            payload: b.get(NLA_HDRLEN..len)?,
        })
    }

    /// Whether an attribute of type `kind` is present.
    #[inline]
    pub fn has(&self, kind: u16) -> bool {
        self.off.get(kind as usize).is_some_and(|&o| o != 0)
    }

    /// All attributes in order, indexed or not.
    pub fn iter(&self) -> Attrs<'a> {
        Attrs::new(self.buf)
    }

    /// The raw attribute bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Checks that each present attribute listed in `sizes` as
    /// `(type, payload size)` has exactly that size, so later typed reads
    /// cannot fail.
    pub fn check_sizes(&self, sizes: &[(u16, usize)]) -> Result<(), DecodeError> {
        for &(kind, size) in sizes {
            if let Some(a) = self.get(kind) {
                if a.payload.len() != size {
                    return Err(DecodeError::AttrSize {
                        kind,
                        len: a.payload.len(),
                        expected: size,
                    });
                }
            }
        }
        Ok(())
    }

    /// Typed reads of attributes whose size was checked by
    /// [`check_sizes`](Self::check_sizes); an unchecked wrong size reads as absent.
    #[inline]
    pub fn u8(&self, kind: u16) -> Option<u8> {
        self.get(kind).and_then(|a| a.u8().ok())
    }
    /// See [`u8`](Self::u8).
    #[inline]
    pub fn u16(&self, kind: u16) -> Option<u16> {
        self.get(kind).and_then(|a| a.u16().ok())
    }
    /// See [`u8`](Self::u8).
    #[inline]
    pub fn u32(&self, kind: u16) -> Option<u32> {
        self.get(kind).and_then(|a| a.u32().ok())
    }
    /// See [`u8`](Self::u8).
    #[inline]
    pub fn i32(&self, kind: u16) -> Option<i32> {
        self.get(kind).and_then(|a| a.i32().ok())
    }
    /// See [`u8`](Self::u8).
    #[inline]
    pub fn u64(&self, kind: u16) -> Option<u64> {
        self.get(kind).and_then(|a| a.u64().ok())
    }
    /// A string attribute; `None` if absent or not UTF-8.
    #[inline]
    pub fn str(&self, kind: u16) -> Option<&'a str> {
        self.get(kind).and_then(|a| a.str().ok())
    }
    /// A binary attribute's payload.
    #[inline]
    pub fn bytes_of(&self, kind: u16) -> Option<&'a [u8]> {
        self.get(kind).map(|a| a.payload)
    }
}

/// Reads a fixed-size struct field: `N` bytes at `off`, or `None` when the
/// (older, shorter) struct does not reach that far.
#[inline]
pub fn field<const N: usize>(buf: &[u8], off: usize) -> Option<[u8; N]> {
    buf.get(off..off + N)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&((NLA_HDRLEN + payload.len()) as u16).to_ne_bytes());
        v.extend_from_slice(&kind.to_ne_bytes());
        v.extend_from_slice(payload);
        while v.len() % 4 != 0 {
            v.push(0);
        }
        v
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn walks_and_indexes() -> TestResult {
        let mut b = attr(3, b"eth0\0");
        b.extend(attr(4, &1500u32.to_ne_bytes()));
        b.extend(attr(NLA_F_NESTED | 18, &attr(1, b"veth\0")));
        let idx = AttrIndex::<8>::parse(&b)?;
        assert_eq!(idx.str(3), Some("eth0"));
        assert_eq!(idx.u32(4), Some(1500));
        assert!(idx.get(18).is_none()); // beyond N, still reachable by iter
        let nested = idx.iter().first(18)?.ok_or("nested attribute")?;
        assert!(nested.is_nested());
        assert_eq!(nested.nested().first(1)?.ok_or("inner")?.str()?, "veth");
        Ok(())
    }

    #[test]
    fn malformed_is_an_error() -> TestResult {
        let first = |b: &'static [u8]| Attrs::new(b).next();
        assert!(matches!(first(&[1, 0]), Some(Err(_))));
        assert!(matches!(first(&[2, 0, 1, 0]), Some(Err(_))));
        assert!(matches!(first(&[9, 0, 1, 0, 0]), Some(Err(_))));
        let mut it = Attrs::new(&[9, 0, 1, 0, 0]);
        assert!(matches!(it.next(), Some(Err(_))));
        assert!(it.next().is_none());
        let ok = attr(1, &[7]);
        assert_eq!(
            Attrs::new(&ok[..5])
                .first(1)?
                .ok_or("unpadded last attribute")?
                .payload(),
            &[7]
        );
        let a = Attrs::new(&ok).first(1)?.ok_or("attribute")?;
        assert!(a.u32().is_err());
        Ok(())
    }
}
