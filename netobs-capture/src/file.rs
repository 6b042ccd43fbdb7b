//! Capture files: pcap (microsecond and nanosecond magic) and pcapng
//! (SHB, IDB with if_tsresol, EPB, SPB), read in either byte order and
//! written in the host's.
//!
//! Formats: the pcap file format (draft-ietf-opsawg-pcap) and pcapng
//! (draft-ietf-opsawg-pcapng). A reader hands out every good record and
//! then, for a truncated or corrupt file, an error with the file offset of
//! the broken item.

use std::io::{self, Read, Write};

use crate::error::FileError;

/// pcap magic for microsecond timestamps.
pub const PCAP_MAGIC_USEC: u32 = 0xa1b2_c3d4;
/// pcap magic for nanosecond timestamps.
pub const PCAP_MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// pcapng Section Header Block type.
pub const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
/// pcapng Interface Description Block type.
pub const PCAPNG_IDB: u32 = 1;
/// pcapng Simple Packet Block type.
pub const PCAPNG_SPB: u32 = 3;
/// pcapng Enhanced Packet Block type.
pub const PCAPNG_EPB: u32 = 6;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_NAME: u16 = 2;
const OPT_IF_TSRESOL: u16 = 9;
/// The largest block or record we accept (libpcap's limit is 256 MiB for
/// pcapng; a larger length means a corrupt file, not a huge packet).
const MAX_BLOCK: usize = 16 * 1024 * 1024;

/// Link-layer header types (LINKTYPE_* of the tcpdump.org registry).
pub mod linktype {
    /// Ethernet (LINKTYPE_ETHERNET, DLT_EN10MB).
    pub const ETHERNET: u16 = 1;
    /// Raw IPv4/IPv6 (LINKTYPE_RAW).
    pub const RAW: u16 = 101;
    /// Linux cooked capture v1 (LINKTYPE_LINUX_SLL).
    pub const LINUX_SLL: u16 = 113;
    /// Linux cooked capture v2 (LINKTYPE_LINUX_SLL2).
    pub const LINUX_SLL2: u16 = 276;
}

/// Byte order of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

impl ByteOrder {
    /// The host's byte order.
    pub fn native() -> Self {
        if cfg!(target_endian = "little") {
            ByteOrder::Little
        } else {
            ByteOrder::Big
        }
    }

    fn u16(self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        match self {
            ByteOrder::Little => u16::from_le_bytes(a),
            ByteOrder::Big => u16::from_be_bytes(a),
        }
    }

    fn u32(self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        match self {
            ByteOrder::Little => u32::from_le_bytes(a),
            ByteOrder::Big => u32::from_be_bytes(a),
        }
    }

    fn put16(self, out: &mut Vec<u8>, v: u16) {
        out.extend_from_slice(&match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        });
    }

    fn bytes32(self, v: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        }
    }

    fn put32(self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&self.bytes32(v));
    }
}

/// Timestamp precision of a pcap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Microseconds (magic 0xa1b2c3d4).
    Micro,
    /// Nanoseconds (magic 0xa1b23c4d).
    Nano,
}

/// One packet record, borrowed from the reader's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// Timestamp in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured bytes (at most the snap length).
    pub data: &'a [u8],
    /// Link type of the interface the packet came from.
    pub linktype: u16,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
}

/// Reads up to `buf.len()` bytes, stopping only at end of file.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Reads exactly `buf.len()` bytes or reports the truncation at `offset`.
fn read_exact_at(r: &mut impl Read, buf: &mut [u8], what: &'static str, offset: u64) -> Result<(), FileError> {
    let got = read_full(r, buf)?;
    if got < buf.len() {
        return Err(FileError::Truncated {
            what,
            offset,
            need: buf.len(),
            have: got,
        });
    }
    Ok(())
}

/// A pcap file reader.
#[derive(Debug)]
pub struct PcapReader<R> {
    r: R,
    order: ByteOrder,
    precision: Precision,
    linktype: u16,
    snaplen: u32,
    offset: u64,
    buf: Vec<u8>,
    failed: bool,
}

impl<R: Read> PcapReader<R> {
    /// Reads and checks the 24-byte file header.
    pub fn new(mut r: R) -> Result<Self, FileError> {
        let mut magic = [0u8; 4];
        read_exact_at(&mut r, &mut magic, "pcap file header", 0)?;
        Self::after_magic(r, magic)
    }

    fn after_magic(mut r: R, magic: [u8; 4]) -> Result<Self, FileError> {
        let (order, precision) = match (u32::from_le_bytes(magic), u32::from_be_bytes(magic)) {
            (PCAP_MAGIC_USEC, _) => (ByteOrder::Little, Precision::Micro),
            (PCAP_MAGIC_NSEC, _) => (ByteOrder::Little, Precision::Nano),
            (_, PCAP_MAGIC_USEC) => (ByteOrder::Big, Precision::Micro),
            (_, PCAP_MAGIC_NSEC) => (ByteOrder::Big, Precision::Nano),
            (m, _) => {
                return Err(FileError::Corrupt {
                    what: "pcap file header",
                    offset: 0,
                    detail: format!("magic {m:#010x} is not a pcap magic"),
                })
            }
        };
        let mut rest = [0u8; 20];
        read_exact_at(&mut r, &mut rest, "pcap file header", 4)?;
        let major = order.u16(&rest[0..]);
        if major != 2 {
            return Err(FileError::Corrupt {
                what: "pcap file header",
                offset: 0,
                detail: format!("version {major} is not 2"),
            });
        }
        Ok(PcapReader {
            r,
            order,
            precision,
            snaplen: order.u32(&rest[12..]),
            // The upper bits of the link type field carry FCS information.
            linktype: (order.u32(&rest[16..]) & 0x0fff_ffff) as u16,
            offset: 24,
            buf: Vec::new(),
            failed: false,
        })
    }

    /// The file's link type.
    pub fn linktype(&self) -> u16 {
        self.linktype
    }

    /// The file's snap length.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// The file's timestamp precision.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The file's byte order.
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// The next record, `None` at a clean end of file. After an error the
    /// reader returns `None`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, FileError> {
        if self.failed {
            return Ok(None);
        }
        match self.read_record() {
            Ok(Some((ts_ns, orig_len))) => Ok(Some(Record {
                ts_ns,
                orig_len,
                data: &self.buf,
                linktype: self.linktype,
                interface: 0,
            })),
            Ok(None) => Ok(None),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn read_record(&mut self) -> Result<Option<(u64, u32)>, FileError> {
        let mut hdr = [0u8; 16];
        let got = read_full(&mut self.r, &mut hdr)?;
        if got == 0 {
            return Ok(None);
        }
        if got < 16 {
            return Err(FileError::Truncated {
                what: "pcap record header",
                offset: self.offset,
                need: 16,
                have: got,
            });
        }
        let o = self.order;
        let (sec, frac, caplen, orig_len) = (o.u32(&hdr[0..]), o.u32(&hdr[4..]), o.u32(&hdr[8..]), o.u32(&hdr[12..]));
        if caplen as usize > MAX_BLOCK {
            return Err(FileError::Corrupt {
                what: "pcap record header",
                offset: self.offset,
                detail: format!("captured length {caplen} is larger than any packet"),
            });
        }
        self.buf.resize(caplen as usize, 0);
        read_exact_at(&mut self.r, &mut self.buf, "pcap record data", self.offset + 16)?;
        self.offset += 16 + caplen as u64;
        let frac_ns = match self.precision {
            Precision::Micro => frac as u64 * 1000,
            Precision::Nano => frac as u64,
        };
        Ok(Some((sec as u64 * 1_000_000_000 + frac_ns, orig_len)))
    }
}

/// One interface of a pcapng section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapngInterface {
    /// Link type.
    pub linktype: u16,
    /// Snap length (0 = unlimited).
    pub snaplen: u32,
    /// if_tsresol: timestamp units per second.
    pub units_per_sec: u64,
    /// if_name, when present.
    pub name: Option<String>,
}

/// Where a packet block's data lies in the reader's buffer.
struct PacketMeta {
    ts_ns: u64,
    orig_len: u32,
    interface: u32,
    start: usize,
    caplen: usize,
}

/// A pcapng file reader.
#[derive(Debug)]
pub struct PcapngReader<R> {
    r: R,
    order: ByteOrder,
    interfaces: Vec<PcapngInterface>,
    offset: u64,
    buf: Vec<u8>,
    failed: bool,
}

/// Options of a pcapng block body (code, value), in the block's byte
/// order. Stops at opt_endofopt or at the end of the body, whichever
/// comes first; a truncated option ends the walk.
fn options(order: ByteOrder, mut body: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        if body.len() < 4 {
            return None;
        }
        let code = order.u16(body);
        let len = order.u16(&body[2..]) as usize;
        if code == OPT_ENDOFOPT || body.len() < 4 + len {
            return None;
        }
        let value = &body[4..4 + len];
        let padded = (4 + len + 3) & !3;
        body = &body[padded.min(body.len())..];
        Some((code, value))
    })
}

fn units_per_sec(tsresol: u8) -> u64 {
    let exp = (tsresol & 0x7f) as u32;
    if tsresol & 0x80 != 0 {
        1u64.checked_shl(exp).unwrap_or(0)
    } else {
        10u64.checked_pow(exp).unwrap_or(0)
    }
}

impl<R: Read> PcapngReader<R> {
    /// Reads and checks the first Section Header Block.
    pub fn new(mut r: R) -> Result<Self, FileError> {
        let mut magic = [0u8; 4];
        read_exact_at(&mut r, &mut magic, "pcapng section header", 0)?;
        Self::after_magic(r, magic)
    }

    fn after_magic(r: R, magic: [u8; 4]) -> Result<Self, FileError> {
        if u32::from_le_bytes(magic) != PCAPNG_SHB {
            return Err(FileError::Corrupt {
                what: "pcapng section header",
                offset: 0,
                detail: "first block is not a section header block".into(),
            });
        }
        let mut reader = PcapngReader {
            r,
            order: ByteOrder::native(),
            interfaces: Vec::new(),
            offset: 0,
            buf: Vec::new(),
            failed: false,
        };
        let mut len = [0u8; 4];
        read_exact_at(&mut reader.r, &mut len, "pcapng section header", 4)?;
        reader.read_shb(0, len)?;
        Ok(reader)
    }

    /// Reads the rest of a Section Header Block at `start` whose type and
    /// length fields were read; the length's byte order is only known
    /// after the byte-order magic that follows it.
    fn read_shb(&mut self, start: u64, len: [u8; 4]) -> Result<(), FileError> {
        let mut bom = [0u8; 4];
        read_exact_at(&mut self.r, &mut bom, "pcapng section header", start + 8)?;
        self.order = if u32::from_le_bytes(bom) == PCAPNG_BYTE_ORDER_MAGIC {
            ByteOrder::Little
        } else if u32::from_be_bytes(bom) == PCAPNG_BYTE_ORDER_MAGIC {
            ByteOrder::Big
        } else {
            return Err(FileError::Corrupt {
                what: "pcapng section header",
                offset: start,
                detail: format!("byte-order magic {:#010x} is not 0x1a2b3c4d", u32::from_le_bytes(bom)),
            });
        };
        let len = self.order.u32(&len) as usize;
        self.check_len(len, 28, start)?;
        self.buf.resize(len - 12, 0);
        read_exact_at(&mut self.r, &mut self.buf, "pcapng section header", start + 12)?;
        let major = self.order.u16(&self.buf[0..]);
        if major != 1 {
            return Err(FileError::Corrupt {
                what: "pcapng section header",
                offset: start,
                detail: format!("major version {major} is not 1"),
            });
        }
        self.check_trailer(len, start)?;
        self.interfaces.clear();
        self.offset = start + len as u64;
        Ok(())
    }

    fn check_len(&self, len: usize, min: usize, offset: u64) -> Result<(), FileError> {
        if len < min || len % 4 != 0 || len > MAX_BLOCK {
            return Err(FileError::Corrupt {
                what: "pcapng block",
                offset,
                detail: format!("block length {len} (must be a multiple of 4, at least {min})"),
            });
        }
        Ok(())
    }

    /// Checks the trailing copy of the block length (last 4 bytes of buf).
    fn check_trailer(&self, len: usize, offset: u64) -> Result<(), FileError> {
        let n = self.buf.len();
        let trailer = self.order.u32(&self.buf[n - 4..]) as usize;
        if trailer != len {
            return Err(FileError::Corrupt {
                what: "pcapng block",
                offset,
                detail: format!("trailing length {trailer} differs from leading length {len}"),
            });
        }
        Ok(())
    }

    /// The interfaces described so far in the current section.
    pub fn interfaces(&self) -> &[PcapngInterface] {
        &self.interfaces
    }

    /// The current section's byte order.
    pub fn byte_order(&self) -> ByteOrder {
        self.order
    }

    /// Link type of interface 0 (Ethernet when none was described yet).
    pub fn linktype(&self) -> u16 {
        self.interfaces.first().map_or(linktype::ETHERNET, |i| i.linktype)
    }

    /// The next packet record (EPB or SPB), skipping other blocks; `None`
    /// at a clean end of file. After an error the reader returns `None`.
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, FileError> {
        if self.failed {
            return Ok(None);
        }
        match self.read_packet_block() {
            Ok(Some(PacketMeta {
                ts_ns,
                orig_len,
                interface,
                start,
                caplen,
            })) => Ok(Some(Record {
                ts_ns,
                orig_len,
                data: &self.buf[start..start + caplen],
                linktype: self.interfaces[interface as usize].linktype,
                interface,
            })),
            Ok(None) => Ok(None),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// Reads blocks up to the next packet block.
    fn read_packet_block(&mut self) -> Result<Option<PacketMeta>, FileError> {
        loop {
            let start = self.offset;
            let mut head = [0u8; 8];
            let got = read_full(&mut self.r, &mut head)?;
            if got == 0 {
                return Ok(None);
            }
            if got < 8 {
                return Err(FileError::Truncated {
                    what: "pcapng block header",
                    offset: start,
                    need: 8,
                    have: got,
                });
            }
            let kind = self.order.u32(&head[0..]);
            if kind == PCAPNG_SHB {
                // A new section, maybe in the other byte order.
                self.read_shb(start, head[4..8].try_into().unwrap_or_default())?;
                continue;
            }
            let len = self.order.u32(&head[4..]) as usize;
            self.check_len(len, 12, start)?;
            self.buf.resize(len - 8, 0);
            read_exact_at(&mut self.r, &mut self.buf, "pcapng block body", start + 8)?;
            self.check_trailer(len, start)?;
            self.offset = start + len as u64;
            let body_len = len - 12;
            let o = self.order;
            let corrupt = |detail: String| FileError::Corrupt {
                what: "pcapng block",
                offset: start,
                detail,
            };
            match kind {
                PCAPNG_IDB => {
                    if body_len < 8 {
                        return Err(corrupt(format!("interface description block body of {body_len} bytes")));
                    }
                    let mut iface = PcapngInterface {
                        linktype: o.u16(&self.buf[0..]),
                        snaplen: o.u32(&self.buf[4..]),
                        units_per_sec: 1_000_000,
                        name: None,
                    };
                    for (code, value) in options(o, &self.buf[8..body_len]) {
                        match (code, value) {
                            (OPT_IF_TSRESOL, [v, ..]) => iface.units_per_sec = units_per_sec(*v),
                            (OPT_IF_NAME, v) => {
                                iface.name = Some(String::from_utf8_lossy(v).trim_end_matches('\0').to_string())
                            }
                            _ => {}
                        }
                    }
                    if iface.units_per_sec == 0 {
                        return Err(corrupt("if_tsresol out of range".into()));
                    }
                    self.interfaces.push(iface);
                }
                PCAPNG_EPB => {
                    if body_len < 20 {
                        return Err(corrupt(format!("enhanced packet block body of {body_len} bytes")));
                    }
                    let interface = o.u32(&self.buf[0..]);
                    let ts = ((o.u32(&self.buf[4..]) as u64) << 32) | o.u32(&self.buf[8..]) as u64;
                    let caplen = o.u32(&self.buf[12..]) as usize;
                    let orig_len = o.u32(&self.buf[16..]);
                    if caplen > body_len - 20 {
                        return Err(corrupt(format!("captured length {caplen} runs past the block")));
                    }
                    let Some(iface) = self.interfaces.get(interface as usize) else {
                        return Err(corrupt(format!("interface {interface} was never described")));
                    };
                    let ts_ns = (ts as u128 * 1_000_000_000 / iface.units_per_sec as u128) as u64;
                    return Ok(Some(PacketMeta {
                        ts_ns,
                        orig_len,
                        interface,
                        start: 20,
                        caplen,
                    }));
                }
                PCAPNG_SPB => {
                    if body_len < 4 {
                        return Err(corrupt(format!("simple packet block body of {body_len} bytes")));
                    }
                    let Some(iface) = self.interfaces.first() else {
                        return Err(corrupt("simple packet block before any interface".into()));
                    };
                    let orig_len = o.u32(&self.buf[0..]);
                    let mut caplen = (orig_len as usize).min(body_len - 4);
                    if iface.snaplen != 0 {
                        caplen = caplen.min(iface.snaplen as usize);
                    }
                    return Ok(Some(PacketMeta {
                        ts_ns: 0,
                        orig_len,
                        interface: 0,
                        start: 4,
                        caplen,
                    }));
                }
                // Name resolution, statistics, custom blocks...: skipped.
                _ => {}
            }
        }
    }
}

/// A pcap or pcapng reader, chosen by the file's magic number.
#[derive(Debug)]
pub enum CaptureReader<R> {
    /// A pcap file.
    Pcap(PcapReader<R>),
    /// A pcapng file.
    Pcapng(PcapngReader<R>),
}

impl<R: Read> CaptureReader<R> {
    /// Reads the magic number and opens the matching reader.
    pub fn new(mut r: R) -> Result<Self, FileError> {
        let mut magic = [0u8; 4];
        read_exact_at(&mut r, &mut magic, "capture file header", 0)?;
        if u32::from_le_bytes(magic) == PCAPNG_SHB {
            PcapngReader::after_magic(r, magic).map(CaptureReader::Pcapng)
        } else {
            PcapReader::after_magic(r, magic).map(CaptureReader::Pcap)
        }
    }

    /// Link type of the file (of pcapng interface 0).
    pub fn linktype(&self) -> u16 {
        match self {
            CaptureReader::Pcap(p) => p.linktype(),
            CaptureReader::Pcapng(p) => p.linktype(),
        }
    }

    /// The next record; see [`PcapReader::next_record`].
    pub fn next_record(&mut self) -> Result<Option<Record<'_>>, FileError> {
        match self {
            CaptureReader::Pcap(p) => p.next_record(),
            CaptureReader::Pcapng(p) => p.next_record(),
        }
    }
}

/// A pcap file writer.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    w: W,
    order: ByteOrder,
    precision: Precision,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes a host-order file header.
    pub fn new(w: W, linktype: u16, snaplen: u32, precision: Precision) -> io::Result<Self> {
        Self::with_byte_order(w, linktype, snaplen, precision, ByteOrder::native())
    }

    /// Writes a file header in the given byte order.
    pub fn with_byte_order(
        mut w: W,
        linktype: u16,
        snaplen: u32,
        precision: Precision,
        order: ByteOrder,
    ) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        let magic = match precision {
            Precision::Micro => PCAP_MAGIC_USEC,
            Precision::Nano => PCAP_MAGIC_NSEC,
        };
        order.put32(&mut h, magic);
        order.put16(&mut h, 2);
        order.put16(&mut h, 4);
        order.put32(&mut h, 0); // thiszone
        order.put32(&mut h, 0); // sigfigs
        order.put32(&mut h, snaplen);
        order.put32(&mut h, linktype as u32);
        w.write_all(&h)?;
        Ok(PcapWriter {
            w,
            order,
            precision,
            snaplen,
        })
    }

    /// Writes one record; `data` is cut to the snap length.
    #[inline]
    pub fn write_packet(&mut self, ts_ns: u64, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let data = &data[..data.len().min(self.snaplen as usize)];
        let frac = match self.precision {
            Precision::Micro => (ts_ns % 1_000_000_000) / 1000,
            Precision::Nano => ts_ns % 1_000_000_000,
        };
        let fields = [(ts_ns / 1_000_000_000) as u32, frac as u32, data.len() as u32, orig_len];
        let mut hdr = [0u8; 16];
        for (out, v) in hdr.chunks_exact_mut(4).zip(fields) {
            out.copy_from_slice(&self.order.bytes32(v));
        }
        // Header and data straight into the writer: no intermediate copy.
        self.w.write_all(&hdr)?;
        self.w.write_all(data)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.w
    }
}

/// A pcapng writer: one section, interfaces with nanosecond if_tsresol,
/// Enhanced Packet Blocks.
#[derive(Debug)]
pub struct PcapngWriter<W: Write> {
    w: W,
    order: ByteOrder,
    snaplens: Vec<u32>,
    block: Vec<u8>,
}

impl<W: Write> PcapngWriter<W> {
    /// Writes a host-order Section Header Block.
    pub fn new(w: W) -> io::Result<Self> {
        Self::with_byte_order(w, ByteOrder::native())
    }

    /// Writes a Section Header Block in the given byte order.
    pub fn with_byte_order(w: W, order: ByteOrder) -> io::Result<Self> {
        let mut me = PcapngWriter {
            w,
            order,
            snaplens: Vec::new(),
            block: Vec::new(),
        };
        let mut body = Vec::new();
        order.put32(&mut body, PCAPNG_BYTE_ORDER_MAGIC);
        order.put16(&mut body, 1);
        order.put16(&mut body, 0);
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length unknown
        me.write_block(PCAPNG_SHB, &body)?;
        Ok(me)
    }

    fn write_block(&mut self, kind: u32, body: &[u8]) -> io::Result<()> {
        let padded = (body.len() + 3) & !3;
        let len = (12 + padded) as u32;
        self.block.clear();
        self.order.put32(&mut self.block, kind);
        self.order.put32(&mut self.block, len);
        self.block.extend_from_slice(body);
        self.block.resize(8 + padded, 0);
        self.order.put32(&mut self.block, len);
        self.w.write_all(&self.block)
    }

    fn put_option(&self, body: &mut Vec<u8>, code: u16, value: &[u8]) {
        self.order.put16(body, code);
        self.order.put16(body, value.len() as u16);
        body.extend_from_slice(value);
        body.resize((body.len() + 3) & !3, 0);
    }

    /// Describes an interface (IDB with if_tsresol = 9, nanoseconds, and
    /// if_name when given); returns its id for [`write_packet`](Self::write_packet).
    pub fn add_interface(&mut self, linktype: u16, snaplen: u32, name: Option<&str>) -> io::Result<u32> {
        let mut body = Vec::new();
        self.order.put16(&mut body, linktype);
        self.order.put16(&mut body, 0);
        self.order.put32(&mut body, snaplen);
        if let Some(n) = name {
            self.put_option(&mut body, OPT_IF_NAME, n.as_bytes());
        }
        self.put_option(&mut body, OPT_IF_TSRESOL, &[9]);
        self.put_option(&mut body, OPT_ENDOFOPT, &[]);
        self.write_block(PCAPNG_IDB, &body)?;
        self.snaplens.push(snaplen);
        Ok(self.snaplens.len() as u32 - 1)
    }

    /// Writes an Enhanced Packet Block; `data` is cut to the interface's
    /// snap length.
    pub fn write_packet(&mut self, interface: u32, ts_ns: u64, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let Some(&snaplen) = self.snaplens.get(interface as usize) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("pcapng interface {interface} was never added"),
            ));
        };
        let data = &data[..data.len().min(if snaplen == 0 { usize::MAX } else { snaplen as usize })];
        let mut body = Vec::with_capacity(20 + data.len());
        self.order.put32(&mut body, interface);
        self.order.put32(&mut body, (ts_ns >> 32) as u32);
        self.order.put32(&mut body, ts_ns as u32);
        self.order.put32(&mut body, data.len() as u32);
        self.order.put32(&mut body, orig_len);
        body.extend_from_slice(data);
        self.write_block(PCAPNG_EPB, &body)
    }

    /// Flushes the underlying writer.
    pub fn flush(&mut self) -> io::Result<()> {
        self.w.flush()
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.w
    }
}
