//! Metric families in memory and their two text expositions: Prometheus
//! text 0.0.4 and OpenMetrics 1.0, chosen from a scrape's Accept header.
//!
//! No crate writes both formats with node_exporter's exact names:
//! `prometheus-client` writes only OpenMetrics and appends `_total` to
//! counters itself, the `prometheus` crate only the 0.0.4 text and wants
//! its own registry of typed metrics. Both formats are short to write, so
//! this module writes them (escaping as the specifications say), and keeps
//! families in the order collectors first name them.

use std::collections::HashMap;
use std::fmt::Write as _;

/// The type of a metric family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// Only goes up (reset to zero when its source restarts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// No type given (`untyped` in 0.0.4, `unknown` in OpenMetrics): what
    /// node_exporter gives netstat and ethtool driver statistics.
    Untyped,
}

impl MetricType {
    fn text_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "untyped",
        }
    }

    fn openmetrics_name(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Untyped => "unknown",
        }
    }
}

/// A sample's value: integers are written exactly (no float rounding of
/// 64-bit counters), floats as the formats spell them (`NaN`, `+Inf`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// An unsigned integer.
    U64(u64),
    /// A signed integer.
    I64(i64),
    /// A float.
    F64(f64),
}

impl Value {
    /// The value as a float (how Prometheus stores it).
    pub fn as_f64(self) -> f64 {
        match self {
            Value::U64(v) => v as f64,
            Value::I64(v) => v as f64,
            Value::F64(v) => v,
        }
    }

    fn write(self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = match self {
            Value::U64(v) => write!(out, "{v}"),
            Value::I64(v) => write!(out, "{v}"),
            Value::F64(v) if v.is_nan() => write!(out, "NaN"),
            Value::F64(v) if v.is_infinite() => write!(out, "{}", if v > 0.0 { "+Inf" } else { "-Inf" }),
            Value::F64(v) => write!(out, "{v}"),
        };
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::U64(v)
    }
}
impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::U64(v.into())
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::I64(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::F64(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::U64(v.into())
    }
}

/// One sample: its label pairs, already written as `a="x",b="y"`, and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    labels: String,
    value: Value,
}

impl Sample {
    /// The label pairs as written between the braces (`device="eth0"`).
    pub fn labels(&self) -> &str {
        &self.labels
    }
    /// The value.
    pub fn value(&self) -> Value {
        self.value
    }
}

/// A metric family: name, help, type and samples.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    name: String,
    help: String,
    kind: MetricType,
    samples: Vec<Sample>,
}

impl Family {
    /// The family's name (for counters, with the `_total` that 0.0.4
    /// samples carry).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The HELP text.
    pub fn help(&self) -> &str {
        &self.help
    }
    /// The type.
    pub fn kind(&self) -> MetricType {
        self.kind
    }
    /// The samples, in the order they were added.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }
}

/// Where a family sits in its [`MetricSet`] (see [`MetricSet::family`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilyId(usize);

/// A set of metric families being collected: what a [`super::Collector`]
/// writes into, what [`super::Registry::gather`] returns.
///
/// Labels given to the set with [`MetricSet::with_const_label`] (the
/// `netns` label of a namespace's collectors) are appended to every
/// sample. Names that are not valid metric or label names have their
/// other characters replaced by `_`, so the output always parses.
#[derive(Debug, Clone, Default)]
pub struct MetricSet {
    families: Vec<Family>,
    index: HashMap<String, usize>,
    const_labels: String,
}

/// Whether `c` may appear in a metric name (`[a-zA-Z0-9_:]`, no digit first).
fn metric_char(i: usize, c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
}

/// Whether `c` may appear in a label name (`[a-zA-Z0-9_]`, no digit first).
fn label_char(i: usize, c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || (i > 0 && c.is_ascii_digit())
}

fn push_name(out: &mut String, name: &str, ok: fn(usize, char) -> bool) {
    if name.is_empty() {
        out.push('_');
    }
    for (i, c) in name.chars().enumerate() {
        out.push(if ok(i, c) { c } else { '_' });
    }
}

/// Appends `v` escaped as a label value: `\`, `"` and newline.
fn push_label_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Appends `help` escaped for a HELP line: `\` and newline, and in
/// OpenMetrics also `"`.
fn push_help(out: &mut String, help: &str, quote: bool) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quote => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn push_labels(out: &mut String, labels: &[(&str, &str)]) {
    for (name, value) in labels {
        if !out.is_empty() {
            out.push(',');
        }
        push_name(out, name, label_char);
        out.push_str("=\"");
        push_label_value(out, value);
        out.push('"');
    }
}

impl MetricSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set whose samples all carry `name="value"` as well.
    pub fn with_const_label(name: &str, value: &str) -> Self {
        let mut s = Self::default();
        push_labels(&mut s.const_labels, &[(name, value)]);
        s
    }

    /// The family `name`, created with `help` and `kind` when the set has
    /// none of that name yet (an existing family keeps its help and type).
    pub fn family(&mut self, name: &str, help: &str, kind: MetricType) -> FamilyId {
        if let Some(&i) = self.index.get(name) {
            return FamilyId(i);
        }
        let mut clean = String::with_capacity(name.len());
        push_name(&mut clean, name, metric_char);
        if let Some(&i) = self.index.get(&clean) {
            return FamilyId(i);
        }
        let i = self.families.len();
        self.families.push(Family {
            name: clean.clone(),
            help: help.to_string(),
            kind,
            samples: Vec::new(),
        });
        if clean != name {
            self.index.insert(name.to_string(), i);
        }
        self.index.insert(clean, i);
        FamilyId(i)
    }

    /// Adds a sample with `labels` to family `id`.
    pub fn sample(&mut self, id: FamilyId, labels: &[(&str, &str)], value: impl Into<Value>) {
        let mut l = String::new();
        push_labels(&mut l, labels);
        if !self.const_labels.is_empty() {
            if !l.is_empty() {
                l.push(',');
            }
            l.push_str(&self.const_labels);
        }
        if let Some(f) = self.families.get_mut(id.0) {
            f.samples.push(Sample {
                labels: l,
                value: value.into(),
            });
        }
    }

    /// Adds one sample to family `name` (created as [`MetricSet::family`] does).
    pub fn add(&mut self, name: &str, help: &str, kind: MetricType, labels: &[(&str, &str)], value: impl Into<Value>) {
        let id = self.family(name, help, kind);
        self.sample(id, labels, value);
    }

    /// The families, in the order they were first named.
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The family called `name`.
    pub fn get(&self, name: &str) -> Option<&Family> {
        self.index.get(name).and_then(|&i| self.families.get(i))
    }

    /// Number of samples over all families.
    pub fn len(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }

    /// Whether the set has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves the families and samples of `other` into this set (samples of
    /// a family both have are appended to this set's family).
    pub fn merge(&mut self, other: MetricSet) {
        for f in other.families {
            let id = self.family(&f.name, &f.help, f.kind);
            if let Some(mine) = self.families.get_mut(id.0) {
                mine.samples.extend(f.samples);
            }
        }
    }

    /// Writes the set in `format`.
    pub fn encode(&self, format: Format) -> String {
        let mut out = String::with_capacity(64 * self.len() + 128 * self.families.len());
        self.encode_into(format, &mut out);
        out
    }

    /// Appends the set in `format` to `out`.
    pub fn encode_into(&self, format: Format, out: &mut String) {
        let om = format == Format::OpenMetrics;
        for f in self.families.iter().filter(|f| !f.samples.is_empty()) {
            // OpenMetrics names a counter family without the `_total` its
            // samples carry; a counter whose name lacks it gets it on the
            // samples, as client_golang does.
            let (family, suffix) = match (om, f.kind) {
                (true, MetricType::Counter) => (f.name.strip_suffix("_total").unwrap_or(&f.name), "_total"),
                _ => (f.name.as_str(), ""),
            };
            let kind = if om {
                f.kind.openmetrics_name()
            } else {
                f.kind.text_name()
            };
            out.push_str("# HELP ");
            out.push_str(family);
            out.push(' ');
            push_help(out, &f.help, om);
            out.push_str("\n# TYPE ");
            out.push_str(family);
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
            for s in &f.samples {
                out.push_str(family);
                out.push_str(suffix);
                if !s.labels.is_empty() {
                    out.push('{');
                    out.push_str(&s.labels);
                    out.push('}');
                }
                out.push(' ');
                s.value.write(out);
                out.push('\n');
            }
        }
        if om {
            out.push_str("# EOF\n");
        }
    }
}

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0 text.
    OpenMetrics,
}

impl Format {
    /// The Content-Type of a response in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The format to answer a scrape with, from its Accept header (None when
/// the request had none), and that format's Content-Type.
///
/// OpenMetrics is chosen when the header offers
/// `application/openmetrics-text` (version 1.0.0, 0.0.1 or none) with a
/// quality above zero and at least as high as any other acceptable range;
/// otherwise the 0.0.4 text, which every Prometheus reads (as
/// client_golang's `expfmt.Negotiate` falls back to it). Malformed parts
/// of the header are ignored.
pub fn negotiate(accept: Option<&str>) -> (Format, &'static str) {
    let mut best_om: Option<f32> = None;
    let mut best_other: f32 = 0.0;
    for range in accept.unwrap_or("").split(',') {
        let mut params = range.split(';');
        let media = params.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut version: Option<String> = None;
        for p in params {
            let Some((k, v)) = p.split_once('=') else { continue };
            let v = v.trim().trim_matches('"');
            match k.trim().to_ascii_lowercase().as_str() {
                "q" => q = v.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(0.0),
                "version" => version = Some(v.to_string()),
                _ => {}
            }
        }
        if media == "application/openmetrics-text" {
            if matches!(version.as_deref(), None | Some("1.0.0") | Some("0.0.1")) && q > 0.0 {
                best_om = Some(best_om.map_or(q, |b: f32| b.max(q)));
            }
        } else if !media.is_empty() {
            best_other = best_other.max(q);
        }
    }
    let format = match best_om {
        Some(q) if q >= best_other => Format::OpenMetrics,
        _ => Format::Text,
    };
    (format, format.content_type())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_openmetrics() {
        let mut s = MetricSet::with_const_label("netns", "a\"b");
        let id = s.family("x_bytes_total", "Bytes\\seen\n\"now\".", MetricType::Counter);
        s.sample(id, &[("device", "eth0")], 5u64);
        s.add("y", "Y.", MetricType::Untyped, &[], -1i64);
        s.add("z", "Z.", MetricType::Gauge, &[], f64::NAN);
        let t = s.encode(Format::Text);
        assert_eq!(
            t,
            "# HELP x_bytes_total Bytes\\\\seen\\n\"now\".\n# TYPE x_bytes_total counter\n\
             x_bytes_total{device=\"eth0\",netns=\"a\\\"b\"} 5\n\
             # HELP y Y.\n# TYPE y untyped\ny{netns=\"a\\\"b\"} -1\n\
             # HELP z Z.\n# TYPE z gauge\nz{netns=\"a\\\"b\"} NaN\n"
        );
        let o = s.encode(Format::OpenMetrics);
        assert!(o.starts_with("# HELP x_bytes Bytes\\\\seen\\n\\\"now\\\".\n# TYPE x_bytes counter\nx_bytes_total{"));
        assert!(o.contains("# TYPE y unknown\n"));
        assert!(o.ends_with("# EOF\n"));
    }

    #[test]
    fn names_are_cleaned_and_merged() {
        let mut a = MetricSet::new();
        a.add("9bad-name", "h", MetricType::Gauge, &[("0l.b", "v")], 1u64);
        assert_eq!(a.families()[0].name(), "_bad_name");
        assert_eq!(a.families()[0].samples()[0].labels(), "_l_b=\"v\"");
        let mut b = MetricSet::new();
        b.add("_bad_name", "other help", MetricType::Gauge, &[], 2u64);
        a.merge(b);
        assert_eq!(a.families().len(), 1);
        assert_eq!(a.len(), 2);
        assert_eq!(a.families()[0].help(), "h");
    }

    #[test]
    fn accept_headers() {
        // Prometheus 2.42's scrape header.
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(negotiate(Some(prom)).0, Format::OpenMetrics);
        assert_eq!(negotiate(None).0, Format::Text);
        assert_eq!(negotiate(Some("text/plain")).0, Format::Text);
        assert_eq!(negotiate(Some("*/*")).0, Format::Text);
        assert_eq!(
            negotiate(Some("application/openmetrics-text; version=2.0.0")).0,
            Format::Text
        );
        assert_eq!(
            negotiate(Some("text/plain;q=0.9,application/openmetrics-text;q=0.5")).0,
            Format::Text
        );
        assert_eq!(negotiate(Some("application/openmetrics-text;q=0")).0, Format::Text);
        assert_eq!(
            negotiate(Some("application/openmetrics-text")).1,
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

            /// Any Accept header gives one of the two formats with its own
            /// Content-Type, without panicking.
            #[test]
            fn negotiate_total(h in "[ -~]{0,200}") {
                let (f, ct) = negotiate(Some(&h));
                prop_assert_eq!(ct, f.content_type());
            }

            /// Any names and values give lines a parser accepts: a valid
            /// name, balanced quotes, one sample per line.
            #[test]
            fn encoding_stays_well_formed(name in "\\PC{0,20}", label in "\\PC{0,10}", value in "\\PC{0,30}", help in "\\PC{0,30}") {
                let mut s = MetricSet::new();
                s.add(&name, &help, MetricType::Gauge, &[(&label, &value)], 1u64);
                let t = s.encode(Format::Text);
                prop_assert_eq!(t.lines().count(), 3);
                let sample = t.lines().nth(2).unwrap_or("");
                let fam = &s.families()[0];
                prop_assert!(fam.name().chars().enumerate().all(|(i, c)| metric_char(i, c)));
                prop_assert!(sample.starts_with(fam.name()));
                prop_assert!(sample.ends_with("} 1"), "sample line {}", sample);
            }
        }
    }
}
