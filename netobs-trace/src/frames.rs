//! The frames behind drops: for every `skb:kfree_skb`, the dropped frame's
//! link-layer header, read from the skb by an event probe (eprobe), with
//! structure offsets from the running kernel's BTF.
//!
//! The seed question "which frames are dropped with UNHANDLED_PROTO, from
//! whom, with which EtherType" was answered with SystemTap; an eprobe on
//! the tracepoint answers it from tracefs alone. The probe records, per
//! drop, the tracepoint's `location`, `reason` and `protocol`, and from the
//! skb (`$skbaddr`) its `len`, `head`, `data` and `mac_header`, plus 64
//! bytes around `data` (the largest array a probe fetches,
//! MAX_ARRAY_LEN in kernel/trace/trace_probe.h): 48 before (where the
//! Ethernet header, with up to two VLAN tags, is once eth_type_trans has
//! pulled it, net/ethernet/eth.c) and 16 from it (where it is before). User space then finds the header at `head + mac_header`
//! inside that window; a frame without a link-layer header (locally made
//! skbs: `mac_header` is `(u16)~0`, include/linux/skbuff.h
//! skb_mac_header_was_set) or with one outside the window is reported
//! without it.

use std::time::Duration;

use netobs_core::stop::Stop;

use crate::btf::Btf;
use crate::drops::{DropFilter, KfreeSkb};
use crate::error::{Error, Result};
use crate::format::{EventFormat, FieldRef};
use crate::kallsyms::Kallsyms;
use crate::reader::RawReader;
use crate::tracefs::{DynamicEvent, Instance, Tracefs};

/// Bytes recorded before `skb->data`.
pub const BEFORE_DATA: usize = 48;
/// Bytes recorded from `skb->data` on.
pub const FROM_DATA: usize = 16;
/// `mac_header` of an skb whose link-layer header was never set.
const MAC_UNSET: u64 = 0xffff;
const ETH_HLEN: u64 = 14;

/// An Ethernet header as the frame carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetHeader {
    /// Destination address.
    pub dst: [u8; 6],
    /// Source address.
    pub src: [u8; 6],
    /// The EtherType (or 802.3 length) field, host order.
    pub ethertype: u16,
}

/// One dropped skb with what the probe read from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DroppedFrame {
    /// CPU that recorded the drop.
    pub cpu: u32,
    /// Ring timestamp (trace clock).
    pub timestamp: u64,
    /// Code address of the drop.
    pub location: u64,
    /// The kernel's drop reason number (0 where the tracepoint has none).
    pub reason: u32,
    /// `skb->protocol`, host order.
    pub protocol: u16,
    /// The skb's address (the tracepoint's `skbaddr`), to join with other
    /// events of the same skb.
    pub skbaddr: u64,
    /// `skb->len` at the drop (bytes from `data` on).
    pub len: u32,
    /// The link-layer header, when the skb had one within the recorded bytes.
    pub ethernet: Option<EthernetHeader>,
    /// The frame's length from its link-layer header on (`len` plus the
    /// bytes between the header and `data`), when the header was found.
    pub frame_len: Option<u32>,
}

/// The probe's fields, resolved once.
#[derive(Debug, Clone, Copy)]
struct ProbeFields {
    id: u16,
    location: FieldRef,
    reason: Option<FieldRef>,
    protocol: FieldRef,
    skbaddr: FieldRef,
    len: FieldRef,
    head: FieldRef,
    data: FieldRef,
    mac: FieldRef,
    window: FieldRef,
}

/// A running frame reader: an eprobe on skb:kfree_skb enabled in a
/// private instance. The tracepoint is host-wide: frames of every
/// namespace are seen, narrowed by the [`DropFilter`].
#[derive(Debug)]
pub struct DropFrames {
    // Drop order: the reader and the instance (which disables the probe)
    // before the probe itself, which the kernel will not remove while
    // enabled.
    reader: RawReader,
    instance: Instance,
    fields: ProbeFields,
    kfree: KfreeSkb,
    filter: Option<String>,
    _probe: DynamicEvent,
}

/// Offset and size of `sk_buff.member` from BTF.
fn skb_member(btf: &Btf, member: &str) -> Result<(u32, u32)> {
    let m = btf
        .member("sk_buff", member)
        .map_err(|e| Error::Parse {
            what: "kernel BTF".into(),
            msg: e.to_string(),
        })?
        .ok_or_else(|| Error::Parse {
            what: "kernel BTF".into(),
            msg: format!("struct sk_buff has no member {member}"),
        })?;
    Ok((m.offset, m.size))
}

/// The eprobe's fetch arguments for this kernel's `struct sk_buff`.
pub fn fetchargs(btf: &Btf, kfree: &KfreeSkb) -> Result<String> {
    let (len, len_size) = skb_member(btf, "len")?;
    let (head, head_size) = skb_member(btf, "head")?;
    let (data, data_size) = skb_member(btf, "data")?;
    let (mac, mac_size) = skb_member(btf, "mac_header")?;
    if (len_size, head_size, data_size, mac_size) != (4, 8, 8, 2) {
        return Err(Error::Parse {
            what: "kernel BTF".into(),
            msg: format!(
                "sk_buff len/head/data/mac_header are {len_size}/{head_size}/{data_size}/{mac_size} bytes, expected 4/8/8/2"
            ),
        });
    }
    let mut args = format!(
        "location=$location:x64 protocol=$protocol:u16 skbaddr=$skbaddr:x64 len=+{len}($skbaddr):u32 head=+{head}($skbaddr):x64 \
         data=+{data}($skbaddr):x64 mac=+{mac}($skbaddr):u16 \
         window=-{BEFORE_DATA}(+{data}($skbaddr)):x8[{}]",
        BEFORE_DATA + FROM_DATA
    );
    if kfree.has_reason() {
        args.push_str(" reason=$reason:u32");
    }
    if kfree.has_rx_sk() {
        args.push_str(" rx_sk=$rx_sk:x64");
    }
    Ok(args)
}

impl DropFrames {
    /// Defines the eprobe (offsets from `btf`), enables it in a private
    /// instance with `filter` (the same fields as skb:kfree_skb: protocol,
    /// reason, location, rx_sk) and opens the binary reader. A kernel
    /// without eprobes gives [`Error::Unsupported`].
    pub fn open(tracefs: &Tracefs, filter: &DropFilter, syms: Option<&Kallsyms>, btf: &Btf) -> Result<Self> {
        let kfree = KfreeSkb::new(&tracefs.event_format("skb", "kfree_skb")?)?;
        let args = fetchargs(btf, &kfree)?;
        let expr = filter.kernel_filter(&kfree, syms)?;
        let group = tracefs.dynamic_group();
        let name = format!("frames{}", next_probe_number());
        let probe = tracefs.add_eprobe(&group, &name, "skb", "kfree_skb", &args)?;
        let format = tracefs.event_format(&group, &name)?;
        let fields = ProbeFields {
            id: format.id,
            location: format.field_ref("location")?,
            reason: format.field_ref("reason").ok(),
            protocol: format.field_ref("protocol")?,
            skbaddr: format.field_ref("skbaddr")?,
            len: format.field_ref("len")?,
            head: format.field_ref("head")?,
            data: format.field_ref("data")?,
            mac: format.field_ref("mac")?,
            window: window_field(&format)?,
        };
        let instance = tracefs.private_instance("frames")?;
        instance.set_buffer_percent(0)?;
        instance.enable_event(&group, &name, expr.as_deref())?;
        let reader = RawReader::open(&instance)?;
        Ok(DropFrames {
            reader,
            instance,
            fields,
            kfree,
            filter: expr,
            _probe: probe,
        })
    }

    /// The kfree_skb layout and reason names of this kernel.
    pub fn kfree_skb(&self) -> &KfreeSkb {
        &self.kfree
    }

    /// The kernel filter on the probe, if any.
    pub fn kernel_filter(&self) -> Option<&str> {
        self.filter.as_deref()
    }

    /// The private instance.
    pub fn instance(&self) -> &Instance {
        &self.instance
    }

    /// Makes a waiting [`poll`](Self::poll) return at once when `stop` is
    /// tripped.
    pub fn set_stop(&mut self, stop: &Stop) {
        self.reader.set_stop(stop);
    }

    /// Hands every dropped frame recorded now to `f`, waiting up to
    /// `timeout` when none is; returns the events lost in this call.
    pub fn poll(&mut self, timeout: Option<Duration>, mut f: impl FnMut(&DroppedFrame)) -> Result<u64> {
        let fields = self.fields;
        let sum = self.reader.read_records(timeout, |cpu, r| {
            if r.event_id() == Some(fields.id) {
                if let Some(d) = decode(&fields, cpu, r.timestamp, r.data) {
                    f(&d);
                }
            }
        })?;
        Ok(sum.lost)
    }
}

/// The `window` array field (`u8 window[64]` in the probe's format).
fn window_field(format: &EventFormat) -> Result<FieldRef> {
    let f = format.field("window").ok_or_else(|| Error::NoSuchField {
        event: format.name.clone(),
        field: "window".into(),
        known: format
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })?;
    if f.size != BEFORE_DATA + FROM_DATA {
        return Err(Error::Parse {
            what: format!("{} format", format.name),
            msg: format!("window is {} bytes, expected {}", f.size, BEFORE_DATA + FROM_DATA),
        });
    }
    Ok(f.as_ref())
}

/// Probe names of this process count up, so two readers can coexist.
fn next_probe_number() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// One probe record, decoded; None when it is too short for its fields.
fn decode(f: &ProbeFields, cpu: u32, timestamp: u64, rec: &[u8]) -> Option<DroppedFrame> {
    let head = f.head.uint(rec)?;
    let data = f.data.uint(rec)?;
    let mac = f.mac.uint(rec)?;
    let len = f.len.uint(rec)? as u32;
    let window = f.window.bytes(rec)?;
    let (ethernet, frame_len) = match ethernet_in_window(head, data, mac, window) {
        Some((h, before)) => (Some(h), Some(len.saturating_add(before))),
        None => (None, None),
    };
    Some(DroppedFrame {
        cpu,
        timestamp,
        location: f.location.uint(rec)?,
        reason: f.reason.and_then(|r| r.uint(rec)).unwrap_or(0) as u32,
        protocol: f.protocol.uint(rec)? as u16,
        skbaddr: f.skbaddr.uint(rec)?,
        len,
        ethernet,
        frame_len,
    })
}

/// The Ethernet header at `head + mac` when it lies inside the window
/// recorded around `data` (`BEFORE_DATA` bytes before it, `FROM_DATA`
/// from it), and the bytes from the header to `data`.
pub fn ethernet_in_window(head: u64, data: u64, mac: u64, window: &[u8]) -> Option<(EthernetHeader, u32)> {
    if mac == MAC_UNSET {
        return None;
    }
    let start = head.checked_add(mac)?;
    let window_start = data.checked_sub(BEFORE_DATA as u64)?;
    let at = usize::try_from(start.checked_sub(window_start)?).ok()?;
    let h = window.get(at..at + ETH_HLEN as usize)?;
    let mut dst = [0; 6];
    let mut src = [0; 6];
    dst.copy_from_slice(&h[0..6]);
    src.copy_from_slice(&h[6..12]);
    let before = u32::try_from(data.checked_sub(start)?).ok()?;
    Some((
        EthernetHeader {
            dst,
            src,
            ethertype: u16::from_be_bytes([h[12], h[13]]),
        },
        before,
    ))
}

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac_text(m: &[u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        m[0], m[1], m[2], m[3], m[4], m[5]
    )
}

/// A dropped frame as one line, the way tcpdump `-e` starts its lines:
/// `SRC > DST, ethertype 0xNNNN, length N: REASON at FUNCTION`.
pub struct FrameLine<'a> {
    /// The frame.
    pub frame: &'a DroppedFrame,
    /// Reason names.
    pub kfree: &'a KfreeSkb,
    /// Symbols for the location (its address is printed without them).
    pub syms: Option<&'a Kallsyms>,
}

impl std::fmt::Display for FrameLine<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = self.frame;
        match (&d.ethernet, d.frame_len) {
            (Some(e), Some(n)) => write!(
                out,
                "{} > {}, ethertype 0x{:04x}, length {n}: ",
                mac_text(&e.src),
                mac_text(&e.dst),
                e.ethertype
            )?,
            _ => write!(
                out,
                "no link-layer header, protocol 0x{:04x}, length {}: ",
                d.protocol, d.len
            )?,
        }
        let reason = self.kfree.reason_name(d.reason).unwrap_or("NOT_SPECIFIED");
        match self.syms.and_then(|s| s.lookup(d.location)) {
            Some(loc) => write!(out, "{reason} at {}", loc.name),
            None => write!(out, "{reason} at {:#x}", d.location),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_found_before_and_after_data() {
        let mut window = vec![0u8; BEFORE_DATA + FROM_DATA];
        // Pulled: the header ends where data starts.
        let hdr = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x5e, 0, 0x53, 0x11, 0x43, 0x21,
        ];
        window[BEFORE_DATA - 14..BEFORE_DATA].copy_from_slice(&hdr);
        let head = 0x1000;
        let data = head + 0x50;
        let (h, before) = ethernet_in_window(head, data, 0x50 - 14, &window).unwrap();
        assert_eq!(before, 14);
        assert_eq!(mac_text(&h.src), "00:00:5e:00:53:11");
        assert_eq!(mac_text(&h.dst), "ff:ff:ff:ff:ff:ff");
        assert_eq!(h.ethertype, 0x4321);
        // Not pulled yet: the header is at data.
        let mut w2 = vec![0u8; BEFORE_DATA + FROM_DATA];
        w2[BEFORE_DATA..BEFORE_DATA + 14].copy_from_slice(&hdr);
        let (h2, before2) = ethernet_in_window(head, data, 0x50, &w2).unwrap();
        assert_eq!((h2, before2), (h, 0));
        // Unset, or outside the window: no header.
        assert!(ethernet_in_window(head, data, MAC_UNSET, &window).is_none());
        assert!(ethernet_in_window(head, data, 0, &window).is_none());
        assert!(ethernet_in_window(head, data, 0x50 + 8, &window).is_none());
        assert!(ethernet_in_window(u64::MAX, data, 10, &window).is_none());
        assert!(ethernet_in_window(head, 3, 0, &window).is_none());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn any_pointers_never_panic(head in proptest::prelude::any::<u64>(), data in proptest::prelude::any::<u64>(),
                                    mac in proptest::prelude::any::<u16>(),
                                    window in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..100)) {
            let _ = ethernet_in_window(head, data, u64::from(mac), &window);
        }
    }
}
