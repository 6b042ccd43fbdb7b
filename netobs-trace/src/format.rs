//! Event format files: `events/SYSTEM/EVENT/format`.
//!
//! The kernel describes the binary layout of every tracepoint's record in
//! text (kernel/trace/trace_events.c `f_show`):
//!
//! ```text
//! name: kfree_skb
//! ID: 2310
//! format:
//!     field:unsigned short common_type;    offset:0;    size:2;    signed:0;
//!     field:void * location;    offset:16;    size:8;    signed:0;
//!     field:__data_loc char[] name;    offset:8;    size:4;    signed:0;
//!
//! print fmt: "...", REC->x, __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, ...)
//! ```
//!
//! [`EventFormat::parse`] turns this into fields with offset, size and
//! signedness, resolves each field once into a [`FieldRef`] for the record
//! accessors, and reads the `__print_symbolic` tables of the print format so a
//! number such as the drop reason gets the running kernel's own name.

use crate::error::{Error, Result};

/// How a field's bytes are found in the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldLocation {
    /// The value lives at `offset..offset+size`.
    Inline,
    /// `__data_loc`: a u32 at the field's offset holds `len << 16 | offset`,
    /// the offset counted from the start of the record.
    DataLoc,
    /// `__rel_loc`: like `__data_loc`, but the offset is counted from the end
    /// of the 4-byte location word itself.
    RelLoc,
}

/// One field of an event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The C type as the kernel printed it (`unsigned short`, `void *`, `char[]`).
    pub type_name: String,
    /// The field name.
    pub name: String,
    /// Byte offset in the record (of the location word for dynamic fields).
    pub offset: usize,
    /// Byte size in the record.
    pub size: usize,
    /// Whether the kernel marks the value signed.
    pub signed: bool,
    /// Element count of a fixed array (`__u8 saddr[4]` gives 4).
    pub array_len: Option<usize>,
    /// Inline or dynamic (`__data_loc`, `__rel_loc`).
    pub location: FieldLocation,
}

impl Field {
    /// The field resolved for fast access from records.
    pub fn as_ref(&self) -> FieldRef {
        FieldRef {
            offset: self.offset,
            size: self.size,
            signed: self.signed,
            location: self.location,
        }
    }

    /// Whether the field holds text (`char` arrays and `__data_loc char[]`).
    pub fn is_string(&self) -> bool {
        let t = self
            .type_name
            .trim_start_matches("__data_loc ")
            .trim_start_matches("__rel_loc ");
        t.starts_with("char") || t.starts_with("const char")
    }
}

/// A field resolved once by name: the record accessors use only these
/// numbers, never the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef {
    /// Byte offset in the record.
    pub offset: usize,
    /// Byte size in the record.
    pub size: usize,
    /// Signed integer.
    pub signed: bool,
    /// Inline or dynamic.
    pub location: FieldLocation,
}

impl FieldRef {
    /// The field's bytes in `record` (dynamic fields followed through their
    /// location word), or `None` if the record is too short.
    pub fn bytes<'a>(&self, record: &'a [u8]) -> Option<&'a [u8]> {
        let raw = record.get(self.offset..self.offset.checked_add(self.size)?)?;
        match self.location {
            FieldLocation::Inline => Some(raw),
            FieldLocation::DataLoc | FieldLocation::RelLoc => {
                let word = u32::from_ne_bytes(raw.get(..4)?.try_into().ok()?);
                let len = (word >> 16) as usize;
                let mut off = (word & 0xffff) as usize;
                if self.location == FieldLocation::RelLoc {
                    off += self.offset + 4;
                }
                record.get(off..off.checked_add(len)?)
            }
        }
    }

    /// The field as an unsigned integer (1, 2, 4 or 8 bytes, native endian).
    pub fn uint(&self, record: &[u8]) -> Option<u64> {
        let b = record.get(self.offset..self.offset.checked_add(self.size)?)?;
        Some(match self.size {
            1 => b[0] as u64,
            2 => u16::from_ne_bytes(b.try_into().ok()?) as u64,
            4 => u32::from_ne_bytes(b.try_into().ok()?) as u64,
            8 => u64::from_ne_bytes(b.try_into().ok()?),
            _ => return None,
        })
    }

    /// The field as a signed integer, sign-extended from its size.
    pub fn int(&self, record: &[u8]) -> Option<i64> {
        let v = self.uint(record)?;
        let bits = self.size as u32 * 8;
        Some(if bits == 64 {
            v as i64
        } else {
            ((v << (64 - bits)) as i64) >> (64 - bits)
        })
    }

    /// The field as text up to its first NUL (char arrays, `__data_loc char[]`).
    pub fn str<'a>(&self, record: &'a [u8]) -> Option<&'a str> {
        let b = self.bytes(record)?;
        let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
        std::str::from_utf8(&b[..end]).ok()
    }
}

/// A `__print_symbolic(REC->field, { value, "NAME" }, ...)` table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SymbolTable {
    entries: Vec<(u64, String)>,
    /// Names whose value the kernel left as an unresolved enum identifier
    /// (`{ TCP_ESTABLISHED, "TCP_ESTABLISHED" }`).
    unresolved: Vec<String>,
}

impl SymbolTable {
    /// The name for `value`, if the kernel's table has one.
    pub fn name(&self, value: u64) -> Option<&str> {
        self.entries.iter().find(|(v, _)| *v == value).map(|(_, n)| n.as_str())
    }

    /// The value for `name` (exact match).
    pub fn value(&self, name: &str) -> Option<u64> {
        self.entries.iter().find(|(_, n)| n == name).map(|(v, _)| *v)
    }

    /// Up to `n` names closest to `name` (case-insensitive edit distance,
    /// names containing it first), for "did you mean" messages instead of
    /// the whole table.
    pub fn closest(&self, name: &str, n: usize) -> Vec<&str> {
        let want = name.to_ascii_uppercase();
        let mut scored: Vec<(usize, &str)> = self
            .entries()
            .map(|(_, e)| {
                let upper = e.to_ascii_uppercase();
                let d = if upper.contains(&want) || want.contains(&upper) {
                    0
                } else {
                    edit_distance(&want, &upper)
                };
                (d, e)
            })
            .collect();
        scored.sort();
        scored.into_iter().take(n).map(|(_, e)| e).collect()
    }

    /// Every (value, name) pair, in the kernel's order.
    pub fn entries(&self) -> impl Iterator<Item = (u64, &str)> {
        self.entries.iter().map(|(v, n)| (*v, n.as_str()))
    }

    /// Names the kernel printed without a numeric value.
    pub fn unresolved(&self) -> &[String] {
        &self.unresolved
    }

    /// Gives values to unresolved names from another kernel table that has
    /// the same names with numbers (e.g. the TCP states of
    /// `sock:inet_sock_set_state` for `tcp:tcp_retransmit_skb`).
    pub fn resolve_from(&mut self, other: &SymbolTable) {
        let mut still = Vec::new();
        for n in std::mem::take(&mut self.unresolved) {
            match other.value(&n) {
                Some(v) => self.entries.push((v, n)),
                None => still.push(n),
            }
        }
        self.unresolved = still;
    }
}

/// A parsed `format` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFormat {
    /// Event name.
    pub name: String,
    /// The event's type id: the `common_type` of its records.
    pub id: u16,
    /// Every field, common ones first, in the kernel's order.
    pub fields: Vec<Field>,
    /// The print format line after `print fmt: `.
    pub print_fmt: String,
    symbolic: Vec<(String, SymbolTable)>,
}

impl EventFormat {
    /// Parses the text of a format file. `what` names the file in errors.
    pub fn parse(text: &str, what: &str) -> Result<Self> {
        let err = |msg: String| Error::Parse {
            what: what.to_owned(),
            msg,
        };
        let mut name = None;
        let mut id = None;
        let mut fields = Vec::new();
        let mut print_fmt = String::new();
        for (n, line) in text.lines().enumerate() {
            let t = line.trim();
            if let Some(v) = t.strip_prefix("name:") {
                name = Some(v.trim().to_owned());
            } else if let Some(v) = t.strip_prefix("ID:") {
                let v = v.trim();
                id = Some(
                    v.parse::<u16>()
                        .map_err(|_| err(format!("line {}: bad ID {v:?}", n + 1)))?,
                );
            } else if t.starts_with("field:") || t.starts_with("field ") {
                fields.push(parse_field(t).map_err(|m| err(format!("line {}: {m}", n + 1)))?);
            } else if let Some(v) = t.strip_prefix("print fmt:") {
                print_fmt = v.trim().to_owned();
            }
        }
        let name = name.ok_or_else(|| err("no `name:` line".into()))?;
        let id = id.ok_or_else(|| err("no `ID:` line".into()))?;
        let symbolic = parse_print_symbolic(&print_fmt);
        Ok(EventFormat {
            name,
            id,
            fields,
            print_fmt,
            symbolic,
        })
    }

    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The field called `name`, resolved for record access, or an error that
    /// lists the fields that do exist.
    pub fn field_ref(&self, name: &str) -> Result<FieldRef> {
        self.field(name).map(Field::as_ref).ok_or_else(|| Error::NoSuchField {
            event: self.name.clone(),
            field: name.to_owned(),
            known: self
                .fields
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The `__print_symbolic` table the print format applies to `field`.
    pub fn symbols(&self, field: &str) -> Option<&SymbolTable> {
        self.symbolic.iter().find(|(f, _)| f == field).map(|(_, t)| t)
    }

    /// Mutable access to a symbol table (to resolve enum names).
    pub fn symbols_mut(&mut self, field: &str) -> Option<&mut SymbolTable> {
        self.symbolic.iter_mut().find(|(f, _)| f == field).map(|(_, t)| t)
    }
}

/// `field:TYPE NAME[N];\toffset:O;\tsize:S;\tsigned:G;`
pub(crate) fn parse_field(line: &str) -> std::result::Result<Field, String> {
    let mut decl = None;
    let (mut offset, mut size, mut signed) = (None, None, false);
    for part in line.split(';') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("field:").or_else(|| part.strip_prefix("field ")) {
            decl = Some(v.trim());
        } else if let Some(v) = part.strip_prefix("offset:") {
            offset = Some(v.trim().parse::<usize>().map_err(|_| format!("bad offset {v:?}"))?);
        } else if let Some(v) = part.strip_prefix("size:") {
            size = Some(v.trim().parse::<usize>().map_err(|_| format!("bad size {v:?}"))?);
        } else if let Some(v) = part.strip_prefix("signed:") {
            signed = v.trim() == "1";
        }
    }
    let decl = decl.ok_or("no field declaration")?;
    let offset = offset.ok_or("no offset")?;
    let size = size.ok_or("no size")?;
    if offset > u16::MAX as usize || size > u16::MAX as usize {
        return Err(format!("offset {offset} / size {size} beyond any event record"));
    }
    let location = if decl.starts_with("__data_loc") {
        FieldLocation::DataLoc
    } else if decl.starts_with("__rel_loc") {
        FieldLocation::RelLoc
    } else {
        FieldLocation::Inline
    };
    if location != FieldLocation::Inline && size < 4 {
        return Err(format!("dynamic field with size {size} (needs 4)"));
    }
    // A fixed array ends in [N]; `char[]` of a __data_loc type is part of the type.
    let (head, array_len) = match decl.strip_suffix(']') {
        Some(d) if location == FieldLocation::Inline => {
            let open = d.rfind('[').ok_or("unbalanced [")?;
            let n = d[open + 1..].trim();
            (&d[..open], n.parse::<usize>().ok())
        }
        _ => (decl, None),
    };
    let split = head
        .rfind(|c: char| c.is_whitespace() || c == '*')
        .ok_or_else(|| format!("no type in {decl:?}"))?;
    let name = head[split + 1..].trim();
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!("bad field name in {decl:?}"));
    }
    let type_name = head[..=split].trim().to_owned();
    Ok(Field {
        type_name,
        name: name.to_owned(),
        offset,
        size,
        signed,
        array_len,
        location,
    })
}

/// Finds every `__print_symbolic(REC->FIELD, { V, "NAME" }, ...)` in a print
/// format. Entries whose value is not a number stay unresolved.
fn parse_print_symbolic(fmt: &str) -> Vec<(String, SymbolTable)> {
    const KEY: &str = "__print_symbolic(";
    let mut out: Vec<(String, SymbolTable)> = Vec::new();
    let mut rest = fmt;
    while let Some(at) = rest.find(KEY) {
        rest = &rest[at + KEY.len()..];
        let Some(rec) = rest.find("REC->") else { break };
        let name_start = &rest[rec + 5..];
        let name: String = name_start
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let mut table = SymbolTable::default();
        // Walk `{ value, "name" }` pairs until the call's closing paren.
        let mut s = &name_start[name.len()..];
        loop {
            let t = s.trim_start_matches(|c: char| c == ',' || c.is_whitespace() || c == ')');
            if !t.starts_with('{') {
                s = t;
                break;
            }
            let Some(close) = t.find('}') else {
                s = "";
                break;
            };
            let body = &t[1..close];
            s = &t[close + 1..];
            let Some((value, label)) = body.split_once(',') else {
                continue;
            };
            let label = label.trim().trim_matches('"').to_owned();
            match parse_number(value.trim()) {
                Some(v) => table.entries.push((v, label)),
                None => table.unresolved.push(label),
            }
            if s.trim_start().starts_with(')') {
                break;
            }
        }
        rest = s;
        if !name.is_empty() && !out.iter().any(|(f, _)| *f == name) {
            out.push((name, table));
        }
    }
    out
}

fn parse_number(s: &str) -> Option<u64> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s),
    };
    let v = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok()?,
        None => s.parse::<u64>().ok()?,
    };
    Some(if neg { (v as i64).wrapping_neg() as u64 } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DYN: &str = "name: sched_process_exec\nID: 300\nformat:\n\
        \tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\
        \tfield:__data_loc char[] filename;\toffset:8;\tsize:4;\tsigned:0;\n\
        \tfield:__rel_loc char[] rel;\toffset:12;\tsize:4;\tsigned:0;\n\
        \tfield:__u8 saddr[4];\toffset:16;\tsize:4;\tsigned:0;\n\
        \tfield:int err;\toffset:20;\tsize:4;\tsigned:1;\n\n\
        print fmt: \"filename=%s\", __get_str(filename)\n";

    #[test]
    fn dynamic_and_array_fields() {
        let f = EventFormat::parse(DYN, "test").unwrap();
        assert_eq!(f.id, 300);
        let fname = f.field("filename").unwrap();
        assert_eq!(fname.location, FieldLocation::DataLoc);
        assert!(fname.is_string());
        assert_eq!(f.field("saddr").unwrap().array_len, Some(4));
        assert_eq!(f.field("saddr").unwrap().type_name, "__u8");
        let mut rec = vec![0u8; 40];
        rec[8..12].copy_from_slice(&((3u32 << 16) | 24).to_ne_bytes());
        rec[24..27].copy_from_slice(b"ab\0");
        // rel_loc: offset 4 counted from the end of the word at 12 → byte 20.
        rec[12..16].copy_from_slice(&((2u32 << 16) | 4).to_ne_bytes());
        rec[20..24].copy_from_slice(&(-5i32).to_ne_bytes());
        assert_eq!(f.field_ref("filename").unwrap().str(&rec), Some("ab"));
        assert_eq!(f.field_ref("rel").unwrap().bytes(&rec), Some(&rec[20..22]));
        assert_eq!(f.field_ref("err").unwrap().int(&rec), Some(-5));
        assert!(matches!(f.field_ref("nope"), Err(Error::NoSuchField { .. })));
    }

    #[test]
    fn symbolic_tables_with_unresolved_names() {
        let fmt = "print fmt: \"x=%s y=%s\", __print_symbolic(REC->state, { TCP_ESTABLISHED, \"TCP_ESTABLISHED\" }), \
                   __print_symbolic(REC->reason, { 2, \"NOT_SPECIFIED\" }, { 0x4a, \"UNHANDLED_PROTO\" })";
        let text = format!("name: e\nID: 1\nformat:\n{fmt}\n");
        let mut f = EventFormat::parse(&text, "t").unwrap();
        let r = f.symbols("reason").unwrap();
        assert_eq!(r.name(74), Some("UNHANDLED_PROTO"));
        assert_eq!(r.value("NOT_SPECIFIED"), Some(2));
        let other = EventFormat::parse(
            "name: o\nID: 2\nprint fmt: \"\", __print_symbolic(REC->newstate, { 1, \"TCP_ESTABLISHED\" })",
            "o",
        )
        .unwrap();
        let st = f.symbols_mut("state").unwrap();
        assert_eq!(st.unresolved(), ["TCP_ESTABLISHED".to_owned()]);
        st.resolve_from(other.symbols("newstate").unwrap());
        assert_eq!(f.symbols("state").unwrap().name(1), Some("TCP_ESTABLISHED"));
    }
}

/// Levenshtein distance of two short names.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j])).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod closest_tests {
    use super::*;

    #[test]
    fn closest_names_first_by_containment_then_distance() {
        let t = SymbolTable {
            entries: vec![
                (2, "NO_SOCKET".into()),
                (3, "PKT_TOO_SMALL".into()),
                (4, "TCP_CSUM".into()),
                (5, "UNHANDLED_PROTO".into()),
            ],
            unresolved: Vec::new(),
        };
        assert_eq!(t.closest("socket", 1), ["NO_SOCKET"]);
        assert_eq!(t.closest("UNHANDLED_PROT", 2)[0], "UNHANDLED_PROTO");
        assert_eq!(t.closest("TCP_CSUMM", 1), ["TCP_CSUM"]);
        assert_eq!(t.closest("x", 9).len(), 4);
    }
}
