//! Ring-buffer sub-buffers as read from `per_cpu/cpuN/trace_pipe_raw`.
//!
//! One `read()` of trace_pipe_raw returns one sub-buffer ("page"): a header
//! (`struct buffer_data_page` in kernel/trace/ring_buffer.c) followed by
//! records. The header layout is published in `events/header_page`:
//!
//! ```text
//! field: u64 timestamp;  offset:0;  size:8; signed:0;
//! field: local_t commit; offset:8;  size:8; signed:1;
//! field: char data;      offset:16; size:4080; signed:0;
//! ```
//!
//! The commit word holds the number of data bytes; its bit 31
//! (`RB_MISSED_EVENTS`) says events were lost before this page and bit 30
//! (`RB_MISSED_STORED`) that the lost count is stored as an `unsigned long`
//! right after the data. The flags are added as `int` constants to a `long`,
//! so the kernel sign-extends bit 31 into the upper half: they are tested
//! as bits, and the size is the low 30 bits.
//!
//! Each record starts with a 32-bit header: `type_len` (5 low bits) and
//! `time_delta` (27 high bits), then `array[]`:
//! - `type_len` 1..=28: data of `type_len * 4` bytes at `array[0]`;
//! - `type_len` 0: `array[0]` is the length (including itself), data at `array[1]`;
//! - 29 padding: `time_delta == 0` ends the page, else `array[0] + 4` bytes to skip;
//! - 30 time extend: the delta is `array[0] << 27 | time_delta`;
//! - 31 absolute time stamp: same encoding, the top 5 bits come from the
//!   current time (`rb_fix_abs_ts`).

use crate::error::{Error, Result};
use crate::format::{parse_field, FieldRef};

/// `RB_MISSED_EVENTS` (kernel/trace/ring_buffer.c).
pub const RB_MISSED_EVENTS: u64 = 1 << 31;
/// `RB_MISSED_STORED` (kernel/trace/ring_buffer.c).
pub const RB_MISSED_STORED: u64 = 1 << 30;
/// The bits of the commit word that hold the data size.
const COMMIT_SIZE_MASK: u64 = (1 << 30) - 1;
/// `TS_SHIFT`: time deltas are 27 bits.
const TS_SHIFT: u32 = 27;
/// `TS_MSB`: the top 5 bits an absolute time stamp does not carry.
const TS_MSB: u64 = 0xf8 << 56;
/// `RINGBUF_TYPE_PADDING`.
pub const TYPE_PADDING: u32 = 29;
/// `RINGBUF_TYPE_TIME_EXTEND`.
pub const TYPE_TIME_EXTEND: u32 = 30;
/// `RINGBUF_TYPE_TIME_STAMP`.
pub const TYPE_TIME_STAMP: u32 = 31;

/// A malformed sub-buffer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Shorter than the header.
    #[error("page of {len} bytes is shorter than its {need}-byte header")]
    Truncated {
        /// Bytes read.
        len: usize,
        /// Header size from header_page.
        need: usize,
    },
    /// The commit size runs past the page.
    #[error("commit size {size} exceeds the page's {capacity} data bytes")]
    BadCommit {
        /// Size from the commit word.
        size: usize,
        /// Data bytes the page can hold.
        capacity: usize,
    },
    /// A record header or length runs past the committed data.
    #[error("record at data offset {offset} ({what}) runs past the {size} committed bytes")]
    BadRecord {
        /// Offset in the data area.
        offset: usize,
        /// What the header claimed.
        what: &'static str,
        /// Committed bytes.
        size: usize,
    },
}

/// Where the page header fields are, from `events/header_page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLayout {
    /// Offset of the u64 base time stamp.
    pub timestamp_offset: usize,
    /// Offset of the commit word.
    pub commit_offset: usize,
    /// Size of the commit word (`local_t`: 8 on 64-bit kernels).
    pub commit_size: usize,
    /// Offset of the first record.
    pub data_offset: usize,
}

impl PageLayout {
    /// Parses the text of `events/header_page`.
    pub fn parse(text: &str) -> Result<Self> {
        let err = |msg: String| Error::Parse {
            what: "events/header_page".into(),
            msg,
        };
        let (mut ts, mut commit, mut data) = (None, None, None);
        for line in text.lines().map(str::trim).filter(|l| l.starts_with("field")) {
            let f = parse_field(line).map_err(err)?;
            match f.name.as_str() {
                "timestamp" if f.size == 8 => ts = Some(f.offset),
                "commit" if f.size == 8 || f.size == 4 => commit = Some((f.offset, f.size)),
                "data" => data = Some(f.offset),
                _ => {}
            }
        }
        let (commit_offset, commit_size) = commit.ok_or_else(|| err("no 4- or 8-byte commit field".into()))?;
        Ok(PageLayout {
            timestamp_offset: ts.ok_or_else(|| err("no 8-byte timestamp field".into()))?,
            commit_offset,
            commit_size,
            data_offset: data.ok_or_else(|| err("no data field".into()))?,
        })
    }

    /// The layout of 64-bit kernels, for tests and fuzzing only: real code
    /// reads header_page.
    pub const fn x86_64() -> Self {
        PageLayout {
            timestamp_offset: 0,
            commit_offset: 8,
            commit_size: 8,
            data_offset: 16,
        }
    }
}

/// Events lost before a page, as the page reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missed {
    /// None lost.
    None,
    /// Lost, count not stored (no room on the page): see per_cpu stats.
    Unknown,
    /// Lost, this many.
    Count(u64),
}

/// One sub-buffer, validated: the header is read, the records are walked lazily.
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    timestamp: u64,
    data: &'a [u8],
    missed: Missed,
}

fn ne_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
    u64::from_ne_bytes(a)
}

fn ne_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Page<'a> {
    /// Checks the header and the commit size once.
    pub fn parse(bytes: &'a [u8], layout: &PageLayout) -> Result<Self, PageError> {
        let need = layout
            .data_offset
            .max(layout.commit_offset + layout.commit_size)
            .max(layout.timestamp_offset + 8);
        if bytes.len() < need {
            return Err(PageError::Truncated { len: bytes.len(), need });
        }
        let timestamp = ne_u64(&bytes[layout.timestamp_offset..layout.timestamp_offset + 8]);
        let commit = ne_u64(&bytes[layout.commit_offset..layout.commit_offset + layout.commit_size]);
        let size = (commit & COMMIT_SIZE_MASK) as usize;
        let data_all = &bytes[layout.data_offset..];
        if size > data_all.len() {
            return Err(PageError::BadCommit {
                size,
                capacity: data_all.len(),
            });
        }
        let missed = if commit & RB_MISSED_EVENTS == 0 {
            Missed::None
        } else if commit & RB_MISSED_STORED != 0 {
            match data_all.get(size..size + 8) {
                Some(b) => Missed::Count(ne_u64(b)),
                None => Missed::Unknown,
            }
        } else {
            Missed::Unknown
        };
        Ok(Page {
            timestamp,
            data: &data_all[..size],
            missed,
        })
    }

    /// The base time stamp of the page (trace_clock units).
    pub fn timestamp(&self) -> u64 {
        self.timestamp
    }

    /// The committed record bytes.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Events lost before this page.
    pub fn missed(&self) -> Missed {
        self.missed
    }

    /// The records of the page, in order, with their absolute time stamps.
    pub fn records(&self) -> Records<'a> {
        Records {
            data: self.data,
            pos: 0,
            ts: self.timestamp,
        }
    }
}

/// One event record: borrowed bytes and its time stamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Absolute time stamp in trace_clock units (ns for the local clock).
    pub timestamp: u64,
    /// The record: common fields first (`common_type` at offset 0).
    pub data: &'a [u8],
}

impl<'a> Record<'a> {
    /// `common_type`: the event id of the record (u16 at offset 0).
    pub fn event_id(&self) -> Option<u16> {
        Some(u16::from_ne_bytes(self.data.get(..2)?.try_into().ok()?))
    }

    /// An integer field.
    pub fn uint(&self, f: &FieldRef) -> Option<u64> {
        f.uint(self.data)
    }

    /// A signed integer field.
    pub fn int(&self, f: &FieldRef) -> Option<i64> {
        f.int(self.data)
    }

    /// A field's bytes (arrays, `__data_loc` followed).
    pub fn bytes(&self, f: &FieldRef) -> Option<&'a [u8]> {
        f.bytes(self.data)
    }

    /// A text field up to its NUL.
    pub fn str(&self, f: &FieldRef) -> Option<&'a str> {
        f.str(self.data)
    }
}

/// Iterator over the records of a [`Page`]. A malformed record yields one
/// error and ends the walk.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    ts: u64,
}

impl<'a> Records<'a> {
    fn fail(&mut self, what: &'static str) -> Option<Result<Record<'a>, PageError>> {
        let offset = self.pos;
        self.pos = self.data.len();
        Some(Err(PageError::BadRecord {
            offset,
            what,
            size: self.data.len(),
        }))
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, PageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let hdr = ne_u32(self.data, self.pos)?;
            let type_len = hdr & 0x1f;
            let delta = (hdr >> 5) as u64;
            let array0 = ne_u32(self.data, self.pos + 4);
            match type_len {
                TYPE_PADDING => {
                    if delta == 0 {
                        // A null padding event: the rest of the page is empty.
                        self.pos = self.data.len();
                        return None;
                    }
                    let Some(len) = array0 else {
                        return self.fail("padding length");
                    };
                    let Some(next) = (self.pos + 4)
                        .checked_add(len as usize)
                        .filter(|&n| n <= self.data.len())
                    else {
                        return self.fail("padding");
                    };
                    self.pos = next;
                }
                TYPE_TIME_EXTEND | TYPE_TIME_STAMP => {
                    let Some(a) = array0 else {
                        return self.fail("time extend");
                    };
                    let value = ((a as u64) << TS_SHIFT) | delta;
                    if type_len == TYPE_TIME_EXTEND {
                        self.ts = self.ts.wrapping_add(value);
                    } else {
                        self.ts = fix_abs_ts(value, self.ts);
                    }
                    self.pos += 8;
                }
                _ => {
                    // Data, type_len 0..=28. type_len 0: array[0] counts itself, payload at array[1];
                    // else the payload is type_len words at array[0].
                    let (start, len) = if type_len == 0 {
                        match array0 {
                            Some(len) if len >= 4 => (self.pos + 8, len as usize - 4),
                            _ => return self.fail("data length"),
                        }
                    } else {
                        (self.pos + 4, type_len as usize * 4)
                    };
                    let end = start + len;
                    if end > self.data.len() {
                        return self.fail("data");
                    }
                    self.ts = self.ts.wrapping_add(delta);
                    self.pos = end;
                    return Some(Ok(Record {
                        timestamp: self.ts,
                        data: &self.data[start..end],
                    }));
                }
            }
        }
    }
}

/// `rb_fix_abs_ts`: an absolute stamp lacks the top 5 bits; take them from
/// the current time and carry if it wrapped.
fn fix_abs_ts(abs: u64, current: u64) -> u64 {
    let mut abs = abs;
    if current & TS_MSB != 0 {
        abs |= current & TS_MSB;
        if abs < current {
            abs = abs.wrapping_add(1 << 59);
        }
    }
    abs
}

/// Builds sub-buffers the way the kernel lays them out, for tests, fuzz seeds
/// and benchmarks.
#[doc(hidden)]
pub mod build {
    use super::*;

    /// A page under construction (64-bit layout).
    #[derive(Debug, Clone)]
    pub struct PageBuilder {
        buf: Vec<u8>,
        capacity: usize,
    }

    impl PageBuilder {
        /// An empty page with `subbuf` total bytes and base time stamp `ts`.
        pub fn new(subbuf: usize, ts: u64) -> Self {
            let mut buf = Vec::with_capacity(subbuf);
            buf.extend_from_slice(&ts.to_ne_bytes());
            buf.extend_from_slice(&0u64.to_ne_bytes());
            PageBuilder { buf, capacity: subbuf }
        }

        fn hdr(&mut self, type_len: u32, delta: u32) {
            self.buf.extend_from_slice(&((delta << 5) | type_len).to_ne_bytes());
        }

        /// Appends a data record (payload padded to 4 bytes) with `delta`.
        pub fn record(&mut self, delta: u32, payload: &[u8]) -> &mut Self {
            let padded = payload.len().div_ceil(4) * 4;
            if padded <= 28 * 4 && padded > 0 {
                self.hdr((padded / 4) as u32, delta);
            } else {
                self.hdr(0, delta);
                self.buf.extend_from_slice(&((padded + 4) as u32).to_ne_bytes());
            }
            self.buf.extend_from_slice(payload);
            self.buf.resize(self.buf.len() + padded - payload.len(), 0);
            self
        }

        /// Appends a time extend of `delta` ns.
        pub fn time_extend(&mut self, delta: u64) -> &mut Self {
            self.hdr(TYPE_TIME_EXTEND, (delta & ((1 << TS_SHIFT) - 1)) as u32);
            self.buf.extend_from_slice(&((delta >> TS_SHIFT) as u32).to_ne_bytes());
            self
        }

        /// Appends an absolute time stamp.
        pub fn time_stamp(&mut self, ts: u64) -> &mut Self {
            self.hdr(TYPE_TIME_STAMP, (ts & ((1 << TS_SHIFT) - 1)) as u32);
            self.buf.extend_from_slice(&((ts >> TS_SHIFT) as u32).to_ne_bytes());
            self
        }

        /// Appends a discarded event (padding with a length) of `len` payload bytes.
        pub fn discarded(&mut self, len: u32) -> &mut Self {
            self.hdr(TYPE_PADDING, 1);
            self.buf.extend_from_slice(&len.to_ne_bytes());
            self.buf.resize(self.buf.len() + len as usize - 4, 0);
            self
        }

        /// Finishes: writes the commit word with the missed flags the way
        /// `ring_buffer_read_page` does (sign-extended int constants).
        pub fn finish(&mut self, missed: Option<u64>, store_missed: bool) -> Vec<u8> {
            let size = self.buf.len() - 16;
            let mut commit = size as i64;
            let mut page = self.buf.clone();
            if let Some(n) = missed {
                if store_missed && self.capacity - 16 - size >= 8 {
                    page.extend_from_slice(&n.to_ne_bytes());
                    commit += (1i32 << 30) as i64;
                }
                commit += (1i32 << 31) as i64; // INT_MIN, sign-extended
            }
            page[8..16].copy_from_slice(&commit.to_ne_bytes());
            page.resize(self.capacity, 0);
            page
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::PageBuilder;
    use super::*;

    const HEADER_PAGE: &str = "\tfield: u64 timestamp;\toffset:0;\tsize:8;\tsigned:0;\n\
        \tfield: local_t commit;\toffset:8;\tsize:8;\tsigned:1;\n\
        \tfield: int overwrite;\toffset:8;\tsize:1;\tsigned:1;\n\
        \tfield: char data;\toffset:16;\tsize:4080;\tsigned:0;\n";

    #[test]
    fn header_page_layout() {
        assert_eq!(PageLayout::parse(HEADER_PAGE).unwrap(), PageLayout::x86_64());
    }

    #[test]
    fn records_time_and_missed() {
        let l = PageLayout::x86_64();
        let big = [7u8; 200];
        let page = PageBuilder::new(4096, 1000)
            .record(5, &[1, 2, 3, 4, 5, 6])
            .discarded(12)
            .time_extend(1 << 30)
            .record(3, &big)
            .time_stamp(42_000)
            .record(1, &[9; 4])
            .finish(Some(17), true);
        let p = Page::parse(&page, &l).unwrap();
        assert_eq!(p.missed(), Missed::Count(17));
        let recs: Vec<_> = p.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 3);
        assert_eq!(recs[0].timestamp, 1005);
        assert_eq!(&recs[0].data[..6], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(recs[1].timestamp, 1005 + (1 << 30) + 3);
        assert_eq!(recs[1].data, &big[..]);
        assert_eq!(recs[2].timestamp, 42_001);
    }

    #[test]
    fn missed_flag_sign_extended_without_count() {
        let l = PageLayout::x86_64();
        let page = PageBuilder::new(4096, 0).record(0, &[0; 8]).finish(Some(3), false);
        let commit = u64::from_ne_bytes(page[8..16].try_into().unwrap());
        assert_eq!(commit >> 32, 0xffff_ffff, "kernel sign-extends RB_MISSED_EVENTS");
        let p = Page::parse(&page, &l).unwrap();
        assert_eq!(p.missed(), Missed::Unknown);
        assert_eq!(p.records().count(), 1);
    }

    #[test]
    fn corrupt_pages_are_errors() {
        let l = PageLayout::x86_64();
        assert!(matches!(Page::parse(&[0; 10], &l), Err(PageError::Truncated { .. })));
        let mut page = PageBuilder::new(64, 0).finish(None, false);
        page[8..16].copy_from_slice(&1000u64.to_ne_bytes());
        assert!(matches!(Page::parse(&page, &l), Err(PageError::BadCommit { .. })));
        page[8..16].copy_from_slice(&8u64.to_ne_bytes());
        page[16..20].copy_from_slice(&20u32.to_ne_bytes()); // type_len 20 = 80 bytes
        let p = Page::parse(&page, &l).unwrap();
        assert!(matches!(p.records().next(), Some(Err(PageError::BadRecord { .. }))));
    }

    #[test]
    fn abs_ts_takes_top_bits() {
        let cur = (0x10u64 << 59) | 5;
        assert_eq!(fix_abs_ts(100, cur), (0x10u64 << 59) | 100);
        assert_eq!(fix_abs_ts(1, cur), ((0x10u64 << 59) | 1) + (1 << 59));
    }
}
