//! `ethtool --json`: the adapters of [`super`] as JSON objects, and
//! ethtool's json_writer layout as a `serde_json` formatter.
//!
//! ethtool 6.1 writes JSON for `-a`, `-k` and the standard statistics
//! groups (netlink/pause.c, netlink/features.c, netlink/stats.c, through
//! json_print.c); the objects here carry the same keys in the same order.
//! For `-S`, `-i`, `-g`, `-l` and `-c`, which ethtool 6.1 answers only in
//! text, the objects are ours: the device, then ethtool's names for the
//! values (the JSON keys of later ethtool versions where it has them).

use std::io;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter};

use super::{
    channel_kinds, ring_kinds, ChannelsDisplay, CoalesceDisplay, DriverInfoDisplay, DriverStatsDisplay, FeatureLine,
    FeaturesDisplay, MaxAndCurrent, PauseDisplay, RingsDisplay, StdStatsDisplay,
};
use crate::netlink::StdGroup;

/// A JSON object whose entries an iterator gives, made afresh each time it
/// is serialized.
struct ObjectOf<F>(F);

impl<F, I, K, V> Serialize for ObjectOf<F>
where
    F: Fn() -> I,
    I: IntoIterator<Item = (K, V)>,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map((self.0)())
    }
}

/// A device's object whose values are all of one type: `"ifname"`, then
/// `entries`.
fn device_object<S, K, V>(
    serializer: S,
    ifname: &str,
    entries: impl IntoIterator<Item = (K, V)>,
) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    K: Serialize,
    V: Serialize,
{
    let mut m = serializer.serialize_map(None)?;
    m.serialize_entry("ifname", ifname)?;
    for (key, value) in entries {
        m.serialize_entry(&key, &value)?;
    }
    m.end()
}

/// The entries whose value the kernel sent, for [`device_object`] or
/// [`add_present`].
fn present<K>(entries: impl IntoIterator<Item = (K, Option<u32>)>) -> impl Iterator<Item = (K, u32)> {
    entries.into_iter().filter_map(|(key, value)| Some((key, value?)))
}

/// Adds `entries` to an object being written.
fn add_present<'k, M: SerializeMap>(
    m: &mut M,
    entries: impl IntoIterator<Item = (&'k str, Option<u32>)>,
) -> Result<(), M::Error> {
    for (key, value) in present(entries) {
        m.serialize_entry(key, &value)?;
    }
    Ok(())
}

/// The maximums (`<key>-max`), then the current sizes (`<key>`), of the
/// kinds the kernel sent.
fn max_and_current_entries(kinds: &[MaxAndCurrent]) -> impl Iterator<Item = (String, u32)> + '_ {
    let maximums = kinds.iter().map(|k| (format!("{}-max", k.key), k.max));
    let current = kinds.iter().map(|k| (k.key.to_owned(), k.current));
    present(maximums.chain(current))
}

/// `{"ifname": ..., "<counter>": value, ...}`, repeated names kept.
impl Serialize for DriverStatsDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        device_object(serializer, self.ifname, self.stats.iter())
    }
}

/// `{"ifname": ..., "driver": "veth", ..., "supports-priv-flags": "no"}`:
/// every value a string, as the text shows it.
impl Serialize for DriverInfoDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        device_object(serializer, self.ifname, self.fields())
    }
}

/// `{"ifname": ..., "rx-max": 256, ..., "rx-buf-len": ..., "tx-push":
/// false}`: sizes the kernel did not send are left out, `tx-push` is
/// `null` then.
impl Serialize for RingsDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("ifname", self.ifname)?;
        for (key, value) in max_and_current_entries(&ring_kinds(self.rings)) {
            m.serialize_entry(&key, &value)?;
        }
        add_present(&mut m, self.buffers().map(|(_, key, value)| (key, value)))?;
        m.serialize_entry("tx-push", &self.rings.tx_push)?;
        if let Some(v) = self.rings.tcp_data_split {
            m.serialize_entry("tcp-data-split", &v)?;
        }
        m.end()
    }
}

/// `{"ifname": ..., "rx-max": 1, ...}`: counts the kernel did not send
/// are left out.
impl Serialize for ChannelsDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        device_object(
            serializer,
            self.ifname,
            max_and_current_entries(&channel_kinds(self.channels)),
        )
    }
}

/// `{"ifname": ..., "adaptive-rx": false, "adaptive-tx": null,
/// "rx-usecs": 0, ..., "cqe-mode-rx": null, "cqe-mode-tx": null}`:
/// parameters the driver does not support are left out, flags are `null`.
impl Serialize for CoalesceDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.coalesce;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("ifname", self.ifname)?;
        m.serialize_entry("adaptive-rx", &c.use_adaptive_rx)?;
        m.serialize_entry("adaptive-tx", &c.use_adaptive_tx)?;
        add_present(&mut m, self.blocks().into_iter().flatten())?;
        m.serialize_entry("cqe-mode-rx", &c.use_cqe_mode_rx)?;
        m.serialize_entry("cqe-mode-tx", &c.use_cqe_mode_tx)?;
        m.end()
    }
}

/// ethtool's `-a` object (pause_reply_cb): the flags the kernel sent, then
/// `negotiated` when autonegotiation resolved directions, then
/// `statistics` whenever the kernel sent its nest, `{}` when empty.
impl Serialize for PauseDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.pause;
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("ifname", self.ifname)?;
        for (key, flag) in [("autonegotiate", p.autoneg), ("rx", p.rx), ("tx", p.tx)] {
            if let Some(v) = flag {
                m.serialize_entry(key, &v)?;
            }
        }
        if let Some(n) = self.negotiated {
            m.serialize_entry("negotiated", &ObjectOf(|| [("rx", n.rx), ("tx", n.tx)]))?;
        }
        if p.stats_present {
            m.serialize_entry("statistics", &ObjectOf(|| self.counters()))?;
        }
        m.end()
    }
}

/// One feature's object of `-k` (dump_feature); a group's has `null` for
/// what only its members know.
#[derive(Serialize)]
struct FeatureState {
    active: bool,
    fixed: Option<bool>,
    requested: Option<bool>,
}

/// ethtool's `-k` object: one entry per line of the text, in its order.
impl Serialize for FeaturesDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("ifname", self.ifname)?;
        for line in self.lines() {
            let (name, state) = match line {
                FeatureLine::Group { name, active } => (
                    name,
                    FeatureState {
                        active,
                        fixed: None,
                        requested: None,
                    },
                ),
                FeatureLine::Feature { name, feature, .. } => (
                    name,
                    FeatureState {
                        active: feature.active,
                        fixed: Some(feature.fixed),
                        requested: Some(feature.wanted),
                    },
                ),
            };
            m.serialize_entry(name, &state)?;
        }
        m.end()
    }
}

/// One histogram bucket of `rx-pktsNtoM`/`tx-pktsNtoM` (parse_rmon_hist_one).
#[derive(Serialize)]
struct BucketJson {
    low: u32,
    high: u32,
    val: u64,
}

/// One group's object of the standard statistics (parse_grp): its named
/// counters, then the histograms it has.
struct GroupJson<'a>(&'a StdGroup);

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let g = self.0;
        let mut m = serializer.serialize_map(None)?;
        for (name, value) in g.counters.iter().filter(|(n, _)| !n.is_empty()) {
            m.serialize_entry(name, value)?;
        }
        for (key, hist) in [("rx-pktsNtoM", &g.hist_rx), ("tx-pktsNtoM", &g.hist_tx)] {
            if hist.is_empty() {
                continue;
            }
            let buckets: Vec<BucketJson> = hist
                .iter()
                .map(|b| BucketJson {
                    low: b.low,
                    high: b.high,
                    val: b.value,
                })
                .collect();
            m.serialize_entry(key, &buckets)?;
        }
        m.end()
    }
}

/// ethtool's object of the standard statistics (stats_reply_cb): the
/// device, then one object per group.
impl Serialize for StdStatsDisplay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let groups = self.stats.groups.iter().map(|g| (g.name.as_str(), GroupJson(g)));
        device_object(serializer, self.ifname, groups)
    }
}

/// The layout of ethtool's json_writer.c in pretty mode, as ethtool and
/// iproute2 write JSON: every object key on its own line, indented four
/// spaces a level; `[ ` and ` ]` around arrays whose elements follow each
/// other without a line break (`},{`); `{}` and `[ ]` when empty. Strings
/// are escaped as `jsonw_puts` escapes them: `\"`, `\\`, `\b`, `\f`, `\n`,
/// `\r`, `\t` and `\'`, other control bytes raw.
#[derive(Debug, Clone, Default)]
pub struct JsonWriterFormatter {
    /// Nesting depth (json_writer's `depth`).
    depth: usize,
    /// Whether the innermost open object or array has an element yet
    /// (json_writer's `sep`).
    has_element: bool,
}

impl JsonWriterFormatter {
    /// A formatter at the top level.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens an array or object (jsonw_begin): a level deeper, no element
    /// in it yet.
    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_element = false;
        writer.write_all(bracket)
    }

    /// Leaves an array or object (jsonw_end): a level up; whether it had
    /// an element.
    fn close(&mut self) -> bool {
        self.depth -= 1;
        self.has_element
    }

    /// A line break and the indentation of the current depth (jsonw_eol).
    fn end_of_line<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.depth {
            writer.write_all(b"    ")?;
        }
        Ok(())
    }
}

impl Formatter for JsonWriterFormatter {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[ ")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        let bracket: &[u8] = if self.close() { b" ]" } else { b"]" };
        writer.write_all(bracket)
    }

    fn begin_array_value<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            writer.write_all(b",")
        }
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_element = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        if self.close() {
            self.end_of_line(writer)?;
        }
        writer.write_all(b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.end_of_line(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_element = true;
        Ok(())
    }

    fn write_string_fragment<W: ?Sized + io::Write>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()> {
        // serde_json leaves `'` alone; jsonw_puts writes it as `\'`.
        let mut parts = fragment.split('\'');
        if let Some(first) = parts.next() {
            writer.write_all(first.as_bytes())?;
        }
        for part in parts {
            writer.write_all(b"\\'")?;
            writer.write_all(part.as_bytes())?;
        }
        Ok(())
    }

    fn write_char_escape<W: ?Sized + io::Write>(&mut self, writer: &mut W, escape: CharEscape) -> io::Result<()> {
        let bytes: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            // jsonw_puts has no \u escapes: other control bytes go out raw.
            CharEscape::AsciiControl(byte) => return writer.write_all(&[byte]),
        };
        writer.write_all(bytes)
    }
}

/// Writes `value` (for `ethtool --json`, an array of the shown devices'
/// objects, `[ ]` when none could be shown) as ethtool writes JSON:
/// [`JsonWriterFormatter`]'s layout, then the line break that ends
/// ethtool's output (json_writer.c, `jsonw_destroy`).
pub fn write_json<W: io::Write, T: Serialize + ?Sized>(mut out: W, value: &T) -> io::Result<()> {
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, JsonWriterFormatter::new());
    value.serialize(&mut serializer)?;
    out.write_all(b"\n")
}
