//! Hist triggers (kernel/trace/trace_events_hist.c,
//! Documentation/trace/histogram.rst): the kernel aggregates an event into a
//! hash table keyed on its fields, so counting costs no ring-buffer record
//! and no wake-up per event. A trigger `hist:keys=A,B:vals=hitcount` on an
//! event of an instance fills `events/SYSTEM/EVENT/hist`, which reads:
//!
//! ```text
//! # event histogram
//! #
//! # trigger info: hist:keys=location,reason:vals=hitcount:sort=hitcount:size=2048 [active]
//! #
//!
//! { location: 18446744071583365430, reason:          2 } hitcount:          5
//!
//! Totals:
//!     Hits: 5
//!     Entries: 1
//!     Dropped: 0
//! ```
//!
//! Plain numeric keys print in decimal (`%10llu`), the form this parser
//! reads; `Dropped` counts events that found the table full.

use crate::error::{Error, Result};

/// One entry of a histogram: its key values (in the trigger's key order,
/// by name) and its hit count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistEntry {
    /// `(field, value)` of each key.
    pub keys: Vec<(String, u64)>,
    /// Events counted under these keys.
    pub hitcount: u64,
}

impl HistEntry {
    /// The value of key `name`.
    pub fn key(&self, name: &str) -> Option<u64> {
        self.keys.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

/// A parsed `hist` file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hist {
    /// The entries, in the kernel's order.
    pub entries: Vec<HistEntry>,
    /// `Totals: Hits`.
    pub hits: u64,
    /// `Totals: Dropped`: events not counted because the table was full.
    pub dropped: u64,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::Parse {
        what: "hist file".into(),
        msg: msg.into(),
    }
}

/// `{ a: 1, b: 2 } hitcount: 5` (other values after hitcount are ignored).
fn entry(line: &str) -> Result<HistEntry> {
    let inner = line
        .strip_prefix('{')
        .and_then(|l| l.split_once('}'))
        .ok_or_else(|| bad(format!("expected {{ keys }} in {line:?}")))?;
    let (keys_text, vals) = inner;
    let mut keys = Vec::new();
    for part in keys_text.split(',') {
        let (name, value) = part
            .split_once(':')
            .ok_or_else(|| bad(format!("expected name: value in {part:?}")))?;
        let value = value.trim().parse::<u64>().map_err(|_| {
            bad(format!(
                "key {:?} is not a decimal number: {:?}",
                name.trim(),
                value.trim()
            ))
        })?;
        keys.push((name.trim().to_owned(), value));
    }
    let hitcount = vals
        .trim()
        .strip_prefix("hitcount:")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| bad(format!("expected hitcount after the keys in {line:?}")))?;
    Ok(HistEntry { keys, hitcount })
}

/// Parses the text of a `hist` file. Comment lines, blank lines and the
/// totals' other lines are skipped; a malformed entry is an error.
pub fn parse(text: &str) -> Result<Hist> {
    let mut h = Hist::default();
    for line in text.lines().map(str::trim) {
        if line.starts_with('{') {
            h.entries.push(entry(line)?);
        } else if let Some(v) = line.strip_prefix("Hits:") {
            h.hits = v.trim().parse().map_err(|_| bad(format!("Hits: {v:?}")))?;
        } else if let Some(v) = line.strip_prefix("Dropped:") {
            h.dropped = v.trim().parse().map_err(|_| bad(format!("Dropped: {v:?}")))?;
        }
    }
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# event histogram\n#\n# trigger info: hist:keys=location,reason,protocol:vals=hitcount:sort=hitcount:size=2048 [active]\n#\n\n\
{ location: 18446744071583365430, reason:          2, protocol:       2048 } hitcount:          5\n\
{ location: 18446744071583365999, reason:          6, protocol:      17185 } hitcount:          1\n\n\
Totals:\n    Hits: 6\n    Entries: 2\n    Dropped: 0\n";

    #[test]
    fn entries_and_totals() {
        let h = parse(SAMPLE).unwrap();
        assert_eq!(h.entries.len(), 2);
        assert_eq!(h.entries[0].key("location"), Some(18446744071583365430));
        assert_eq!(h.entries[0].key("reason"), Some(2));
        assert_eq!(h.entries[1].key("protocol"), Some(0x4321));
        assert_eq!(h.entries[1].hitcount, 1);
        assert_eq!((h.hits, h.dropped), (6, 0));
        assert_eq!(parse("").unwrap(), Hist::default());
    }

    #[test]
    fn malformed_entries_are_errors() {
        for bad in [
            "{ location 5 } hitcount: 1",
            "{ location: 0x5 } hitcount: 1",
            "{ location: 5 } hits: 1",
            "{ location: 5 hitcount: 1",
            "{ location: 5 } hitcount: x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
