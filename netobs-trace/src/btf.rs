//! BPF Type Format (include/uapi/linux/btf.h): the running kernel's own
//! description of its types, at /sys/kernel/btf/vmlinux.
//!
//! Probes that read kernel memory (kprobe and eprobe fetch arguments such
//! as `+OFFSET($skbaddr)`) need structure member offsets; those differ
//! between kernels and configurations, so netobs takes them from BTF and
//! never hard-codes them, as pahole and bpftool do.
//!
//! The file is a header, a type section and a string section:
//!
//! ```text
//! struct btf_header { u16 magic (0xeB9F); u8 version; u8 flags; u32 hdr_len;
//!                     u32 type_off; u32 type_len; u32 str_off; u32 str_len; }
//! struct btf_type   { u32 name_off; u32 info; u32 size_or_type; } + kind data
//! ```
//!
//! `info` holds the member count (`vlen`, bits 0-15), the kind (bits 24-28)
//! and `kind_flag` (bit 31); type ids count from 1 in file order (0 is
//! void). Every offset and count is checked: malformed bytes give
//! [`BtfError`], never a panic.

use std::collections::HashMap;
use std::path::Path;

/// The BTF magic, in the file's (native) byte order.
pub const BTF_MAGIC: u16 = 0xeb9f;

/// Kinds (`BTF_KIND_*`).
mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// Malformed or unusable BTF.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BtfError {
    /// Not BTF, or BTF of the other byte order.
    #[error("not BTF: magic 0x{0:04x} (expected 0xeb9f in this machine's byte order)")]
    BadMagic(u16),
    /// A section or record runs past the data.
    #[error("truncated BTF {what} at offset {offset}")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset in the file.
        offset: usize,
    },
    /// A kind this parser does not know (from a newer kernel): its size is
    /// unknown, so the types after it cannot be found.
    #[error("unknown BTF kind {kind} of type {id}")]
    UnknownKind {
        /// The kind number.
        kind: u32,
        /// The type id.
        id: u32,
    },
    /// A type refers to a type id that does not exist, or the chain of
    /// references does not end.
    #[error("BTF type {0} refers to a missing type or to itself")]
    BadReference(u32),
}

/// Members looked at, at most, to find one member (sk_buff's search visits
/// a few hundred).
const MEMBER_VISITS: u32 = 100_000;

/// One type's record, as found in the type section.
#[derive(Debug, Clone, Copy)]
struct TypeRec {
    name_off: u32,
    info: u32,
    size_or_type: u32,
    /// Offset of the kind data (after the 12-byte record) in the type section.
    data: usize,
}

impl TypeRec {
    fn kind(&self) -> u32 {
        (self.info >> 24) & 0x1f
    }
    fn vlen(&self) -> usize {
        (self.info & 0xffff) as usize
    }
    fn kind_flag(&self) -> bool {
        self.info >> 31 != 0
    }
}

/// Where a structure member lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberLocation {
    /// Byte offset from the start of the outermost structure.
    pub offset: u32,
    /// Size in bytes of the member's type (0 when it has none).
    pub size: u32,
    /// For a bitfield: its width in bits (the offset is then of the
    /// containing byte, and `bit_offset` the bits past it).
    pub bitfield: Option<(u8, u8)>,
}

/// A parsed BTF blob: types indexed by id, structs and unions by name.
#[derive(Debug, Clone)]
pub struct Btf {
    types: Vec<u8>,
    strings: Vec<u8>,
    recs: Vec<TypeRec>,
    /// Named structs and unions: name -> type id (the first of that name).
    by_name: HashMap<String, u32>,
}

fn u32_at(b: &[u8], off: usize, what: &'static str) -> Result<u32, BtfError> {
    b.get(off..off + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(BtfError::Truncated { what, offset: off })
}

impl Btf {
    /// The running kernel's BTF (/sys/kernel/btf/vmlinux).
    pub fn load_vmlinux() -> crate::Result<Btf> {
        Self::load(Path::new("/sys/kernel/btf/vmlinux"))
    }

    /// The BTF in file `path`. A kernel without BTF (no
    /// CONFIG_DEBUG_INFO_BTF) has no such file: [`crate::Error::Unsupported`].
    pub fn load(path: &Path) -> crate::Result<Btf> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(crate::Error::Unsupported {
                    what: "kernel type information (BTF)".into(),
                    path: path.to_owned(),
                    why: "kernel built without CONFIG_DEBUG_INFO_BTF",
                })
            }
            Err(e) => return Err(crate::Error::io("read", path, e)),
        };
        Btf::parse(&bytes).map_err(|e| crate::Error::Parse {
            what: path.display().to_string(),
            msg: e.to_string(),
        })
    }

    /// Parses a BTF blob (header, types, strings).
    pub fn parse(b: &[u8]) -> Result<Btf, BtfError> {
        let magic = b
            .get(0..2)
            .map(|s| u16::from_ne_bytes([s[0], s[1]]))
            .ok_or(BtfError::Truncated {
                what: "header",
                offset: 0,
            })?;
        if magic != BTF_MAGIC {
            return Err(BtfError::BadMagic(magic));
        }
        let hdr_len = u32_at(b, 4, "header")? as usize;
        let type_off = u32_at(b, 8, "header")? as usize;
        let type_len = u32_at(b, 12, "header")? as usize;
        let str_off = u32_at(b, 16, "header")? as usize;
        let str_len = u32_at(b, 20, "header")? as usize;
        let section = |off: usize, len: usize, what| {
            hdr_len
                .checked_add(off)
                .and_then(|s| Some((s, s.checked_add(len)?)))
                .and_then(|(s, e)| b.get(s..e))
                .ok_or(BtfError::Truncated {
                    what,
                    offset: hdr_len.saturating_add(off),
                })
        };
        let types = section(type_off, type_len, "type section")?.to_vec();
        let strings = section(str_off, str_len, "string section")?.to_vec();
        let mut btf = Btf {
            types,
            strings,
            recs: Vec::new(),
            by_name: HashMap::new(),
        };
        btf.index()?;
        Ok(btf)
    }

    /// Walks the type section once, recording where each type is.
    fn index(&mut self) -> Result<(), BtfError> {
        let t = &self.types;
        let mut pos = 0;
        let mut recs = Vec::new();
        while pos < t.len() {
            let id = recs.len() as u32 + 1;
            let rec = TypeRec {
                name_off: u32_at(t, pos, "type")?,
                info: u32_at(t, pos + 4, "type")?,
                size_or_type: u32_at(t, pos + 8, "type")?,
                data: pos + 12,
            };
            let vlen = rec.vlen();
            let extra = match rec.kind() {
                kind::INT | kind::VAR | kind::DECL_TAG => 4,
                kind::PTR
                | kind::FWD
                | kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::FUNC
                | kind::FLOAT
                | kind::TYPE_TAG => 0,
                kind::ARRAY => 12,
                kind::STRUCT | kind::UNION | kind::DATASEC | kind::ENUM64 => 12 * vlen,
                kind::ENUM | kind::FUNC_PROTO => 8 * vlen,
                k => return Err(BtfError::UnknownKind { kind: k, id }),
            };
            let end = rec.data + extra;
            if end > t.len() {
                return Err(BtfError::Truncated {
                    what: "type data",
                    offset: pos,
                });
            }
            recs.push(rec);
            pos = end;
        }
        let mut by_name = HashMap::new();
        for (i, r) in recs.iter().enumerate() {
            if matches!(r.kind(), kind::STRUCT | kind::UNION) && r.name_off != 0 {
                if let Some(n) = self.string(r.name_off) {
                    by_name.entry(n.to_owned()).or_insert(i as u32 + 1);
                }
            }
        }
        self.recs = recs;
        self.by_name = by_name;
        Ok(())
    }

    /// The NUL-terminated string at `off` of the string section.
    fn string(&self, off: u32) -> Option<&str> {
        let s = self.strings.get(off as usize..)?;
        let end = s.iter().position(|&c| c == 0)?;
        std::str::from_utf8(&s[..end]).ok()
    }

    fn rec(&self, id: u32) -> Result<&TypeRec, BtfError> {
        id.checked_sub(1)
            .and_then(|i| self.recs.get(i as usize))
            .ok_or(BtfError::BadReference(id))
    }

    /// Number of types.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// Whether there are no types.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// The type id of struct (or union) `name`.
    pub fn struct_id(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// The size in bytes of type `id`, through typedefs, qualifiers and
    /// arrays (element size times count). A chain of more than 32 such
    /// steps (malformed BTF can make a type its own element) is an error.
    pub fn size_of(&self, id: u32) -> Result<u32, BtfError> {
        let (mut id, mut count) = (id, 1u32);
        for _ in 0..32 {
            if id == 0 {
                return Ok(0);
            }
            let r = self.rec(id)?;
            match r.kind() {
                kind::INT | kind::STRUCT | kind::UNION | kind::ENUM | kind::ENUM64 | kind::FLOAT | kind::DATASEC => {
                    return Ok(r.size_or_type.saturating_mul(count))
                }
                kind::PTR => return Ok(8u32.saturating_mul(count)),
                kind::ARRAY => {
                    id = u32_at(&self.types, r.data, "array")?;
                    count = count.saturating_mul(u32_at(&self.types, r.data + 8, "array")?);
                }
                kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => id = r.size_or_type,
                _ => return Ok(0),
            }
        }
        Err(BtfError::BadReference(id))
    }

    /// The location of member `path` of struct `name`: `"len"`, or a dotted
    /// path through named members (`"headers.mac_header"`). Members of
    /// anonymous structs and unions are found as if they were the
    /// struct's own, as C lets them be named (sk_buff's `mac_header` lives
    /// in an anonymous `struct_group`).
    pub fn member(&self, name: &str, path: &str) -> Result<Option<MemberLocation>, BtfError> {
        let Some(mut id) = self.struct_id(name) else {
            return Ok(None);
        };
        let mut offset_bits: u64 = 0;
        let mut found = None;
        for part in path.split('.') {
            let mut budget = MEMBER_VISITS;
            match self.find_member(id, part, 0, &mut budget)? {
                Some((bits, ty, bitfield)) => {
                    offset_bits += bits;
                    found = Some((ty, bitfield));
                    id = self.strip(ty)?;
                }
                None => return Ok(None),
            }
        }
        let Some((ty, bitfield)) = found else {
            return Ok(None);
        };
        Ok(Some(MemberLocation {
            offset: (offset_bits / 8) as u32,
            size: self.size_of(ty)?,
            bitfield: bitfield.map(|w| (w, (offset_bits % 8) as u8)),
        }))
    }

    /// Type `id` without typedefs and qualifiers.
    fn strip(&self, mut id: u32) -> Result<u32, BtfError> {
        for _ in 0..32 {
            let r = self.rec(id)?;
            match r.kind() {
                kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => id = r.size_or_type,
                _ => return Ok(id),
            }
        }
        Err(BtfError::BadReference(id))
    }

    /// Member `name` of struct/union `id` (searching anonymous members):
    /// (bit offset, type id, bitfield width).
    fn find_member(
        &self,
        id: u32,
        name: &str,
        depth: u32,
        budget: &mut u32,
    ) -> Result<Option<(u64, u32, Option<u8>)>, BtfError> {
        if depth > 16 {
            return Err(BtfError::BadReference(id));
        }
        let r = *self.rec(id)?;
        if !matches!(r.kind(), kind::STRUCT | kind::UNION) {
            return Ok(None);
        }
        for i in 0..r.vlen() {
            // Anonymous members nest; malformed data could nest a struct in
            // itself many times over: bound the whole search.
            *budget = budget.checked_sub(1).ok_or(BtfError::BadReference(id))?;
            let m = r.data + 12 * i;
            let m_name = u32_at(&self.types, m, "member")?;
            let m_type = u32_at(&self.types, m + 4, "member")?;
            let m_off = u32_at(&self.types, m + 8, "member")?;
            // With kind_flag, the offset word is bitfield_size << 24 | bit offset.
            let (bits, width) = if r.kind_flag() {
                (
                    u64::from(m_off & 0x00ff_ffff),
                    Some((m_off >> 24) as u8).filter(|w| *w != 0),
                )
            } else {
                (u64::from(m_off), None)
            };
            if m_name == 0 {
                let inner = self.strip(m_type)?;
                if let Some((b, t, w)) = self.find_member(inner, name, depth + 1, budget)? {
                    return Ok(Some((bits + b, t, w)));
                }
            } else if self.string(m_name) == Some(name) {
                return Ok(Some((bits, m_type, width)));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small BTF blob: `int` (id 1), `struct inner { int a; int b; }`
    /// (id 2), `struct outer { int x; union { struct inner; }; int y:3; }`
    /// built as the kernel lays it out.
    pub(crate) fn sample() -> Vec<u8> {
        let strings = b"\0int\0inner\0a\0b\0outer\0x\0y\0".to_vec();
        let off = |s: &str| {
            let needle = format!("\0{s}\0");
            strings
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .map(|p| p as u32 + 1)
                .unwrap()
        };
        let mut t = Vec::new();
        let mut rec = |name: u32, info: u32, st: u32, extra: &[u32]| {
            for v in [name, info, st].iter().chain(extra) {
                t.extend_from_slice(&v.to_ne_bytes());
            }
        };
        // 1: int, 4 bytes, 32 bits.
        rec(off("int"), kind::INT << 24, 4, &[32]);
        // 2: struct inner { int a; int b; }
        rec(
            off("inner"),
            kind::STRUCT << 24 | 2,
            8,
            &[off("a"), 1, 0, off("b"), 1, 32],
        );
        // 3: anonymous union { struct inner; }
        rec(0, kind::UNION << 24 | 1, 8, &[0, 2, 0]);
        // 4: struct outer { int x; union (anon) at 64; int y:3 at bit 128 }, kind_flag set.
        rec(
            off("outer"),
            1 << 31 | kind::STRUCT << 24 | 3,
            20,
            &[off("x"), 1, 0, 0, 3, 64, off("y"), 1, 3 << 24 | 128],
        );
        blob(&t, &strings)
    }

    /// A BTF file: header (version 1), then the type and string sections.
    fn blob(types: &[u8], strings: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&BTF_MAGIC.to_ne_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [24u32, 0, types.len() as u32, types.len() as u32, strings.len() as u32] {
            b.extend_from_slice(&v.to_ne_bytes());
        }
        b.extend_from_slice(types);
        b.extend_from_slice(strings);
        b
    }

    #[test]
    fn members_through_anonymous_unions_and_bitfields() {
        let btf = Btf::parse(&sample()).unwrap();
        assert_eq!(btf.len(), 4);
        let at = |p| btf.member("outer", p).unwrap();
        assert_eq!(
            at("x"),
            Some(MemberLocation {
                offset: 0,
                size: 4,
                bitfield: None
            })
        );
        assert_eq!(
            at("a"),
            Some(MemberLocation {
                offset: 8,
                size: 4,
                bitfield: None
            })
        );
        assert_eq!(
            at("b"),
            Some(MemberLocation {
                offset: 12,
                size: 4,
                bitfield: None
            })
        );
        assert_eq!(
            at("y"),
            Some(MemberLocation {
                offset: 16,
                size: 4,
                bitfield: Some((3, 0))
            })
        );
        assert_eq!(at("nope"), None);
        assert_eq!(btf.member("inner", "b").unwrap().map(|m| m.offset), Some(4));
        assert_eq!(btf.member("missing", "a").unwrap(), None);
        assert_eq!(btf.size_of(2).unwrap(), 8);
    }

    #[test]
    fn malformed_blobs_are_errors() {
        let good = sample();
        assert!(matches!(Btf::parse(&[]), Err(BtfError::Truncated { .. })));
        let mut swapped = good.clone();
        swapped.swap(0, 1);
        assert!(matches!(Btf::parse(&swapped), Err(BtfError::BadMagic(_))));
        for cut in 0..good.len() {
            // Every prefix either parses (a cut string section ends a name
            // early) or is an error; none panics.
            let _ = Btf::parse(&good[..cut]);
        }
        // A type referring to a missing id.
        let btf = Btf::parse(&good).unwrap();
        assert!(matches!(btf.size_of(99), Err(BtfError::BadReference(99))));
    }

    #[test]
    fn an_array_of_itself_is_an_error_not_a_stack_overflow() {
        // Found by the fuzz target: type 1 is an array whose element is type 1.
        let strings = b"\0".to_vec();
        let mut t = Vec::new();
        for v in [0u32, kind::ARRAY << 24, 0, 1, 1, 4] {
            t.extend_from_slice(&v.to_ne_bytes());
        }
        let btf = Btf::parse(&blob(&t, &strings)).unwrap();
        assert!(matches!(btf.size_of(1), Err(BtfError::BadReference(_))));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        #[test]
        fn any_bytes_parse_or_fail_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Ok(btf) = Btf::parse(&bytes) {
                let _ = btf.member("outer", "a");
                for id in 0..btf.len() as u32 + 2 {
                    let _ = btf.size_of(id);
                }
            }
        }

        #[test]
        fn corrupted_sample_never_panics(pos in 0usize..200, byte in proptest::prelude::any::<u8>()) {
            let mut b = sample();
            if pos < b.len() {
                b[pos] = byte;
            }
            if let Ok(btf) = Btf::parse(&b) {
                for p in ["x", "a", "b", "y"] {
                    let _ = btf.member("outer", p);
                }
            }
        }
    }
}
