//! Protocol counters from /proc/net: the SNMP MIB (`snmp`, `snmp6`), the
//! Linux extensions (`netstat`: TcpExt, IpExt, MPTcpExt) and socket
//! summaries (`sockstat`, `sockstat6`) — what `nstat`, `netstat -s` and
//! `ss -s` show.
//!
//! /proc/net is per network namespace: read from a thread that has entered
//! the namespace (see [`read_in`]), the files describe that namespace.

use netobs_core::Netns;

use crate::error::{Error, Result};

/// Named counters in file order, named as nstat names them: the section
/// prefix joined to the field (`TcpRetransSegs`, `TcpExtListenDrops`,
/// `Ip6InReceives`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// `(name, value)` pairs. Signed kernel values (Tcp MaxConn = -1) are
    /// kept as their two's-complement u64, as nstat shows them.
    pub values: Vec<(String, u64)>,
    /// For each of `values`, the length of its section prefix (`Tcp` of
    /// `TcpRetransSegs`, `Icmp6` of `Icmp6InMsgs`); see [`Counters::sectioned`].
    /// Shorter than `values` when counters were added by hand.
    sections: Vec<u8>,
}

fn parse_value(s: &str) -> Option<u64> {
    s.parse::<u64>()
        .ok()
        .or_else(|| s.parse::<i64>().ok().map(|v| v as u64))
}

/// Parses the two-line format of /proc/net/snmp and /proc/net/netstat:
/// `Tcp: RtoAlgorithm RtoMin ...` followed by `Tcp: 1 200 ...`.
pub fn parse_paired(path: &str, text: &str, out: &mut Counters) -> Result<()> {
    let mut lines = text.lines().enumerate();
    while let Some((n, header)) = lines.next() {
        if header.trim().is_empty() {
            continue;
        }
        let bad = |line, reason| netobs_core::Error::ProcFormat {
            path: path.to_string(),
            line: line + 1,
            reason,
        };
        let (sect, names) = header.split_once(':').ok_or(bad(n, "no section name"))?;
        let (m, vals) = lines.next().ok_or(bad(n, "header without a value line"))?;
        let (sect2, vals) = vals.split_once(':').ok_or(bad(m, "no section name"))?;
        if sect != sect2 {
            return Err(bad(m, "value line of another section").into());
        }
        let names: Vec<&str> = names.split_whitespace().collect();
        let vals: Vec<&str> = vals.split_whitespace().collect();
        if names.len() != vals.len() {
            return Err(bad(m, "different numbers of names and values").into());
        }
        for (k, v) in names.iter().zip(vals) {
            let v = parse_value(v).ok_or(bad(m, "value is not a number"))?;
            out.push_sectioned(sect, k, v);
        }
    }
    Ok(())
}

/// Parses /proc/net/snmp6's `Name value` lines.
pub fn parse_flat(path: &str, text: &str, out: &mut Counters) -> Result<()> {
    for (n, line) in text.lines().enumerate() {
        let mut w = line.split_whitespace();
        let (Some(k), Some(v)) = (w.next(), w.next()) else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(netobs_core::Error::ProcFormat {
                path: path.to_string(),
                line: n + 1,
                reason: "expected NAME VALUE",
            }
            .into());
        };
        let v = parse_value(v).ok_or(netobs_core::Error::ProcFormat {
            path: path.to_string(),
            line: n + 1,
            reason: "value is not a number",
        })?;
        // snmp6 names its sections by the prefix up to the `6` (Ip6,
        // Icmp6, Udp6, UdpLite6), as node_exporter splits them.
        match k.find('6') {
            Some(i) => out.push_sectioned(&k[..=i], &k[i + 1..], v),
            None => out.push_sectioned("", k, v),
        }
    }
    Ok(())
}

fn read_file(dir: &str, name: &str) -> Result<Option<String>> {
    let path = format!("{dir}/{name}");
    match std::fs::read_to_string(&path) {
        Ok(s) => Ok(Some(s)),
        // snmp6 is absent when IPv6 is disabled.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::proc(path, e)),
    }
}

/// Reads snmp, netstat and snmp6 from `dir` (normally /proc/thread-self/net).
pub fn read_dir(dir: &str) -> Result<Counters> {
    let mut c = Counters::default();
    for name in ["snmp", "netstat"] {
        if let Some(t) = read_file(dir, name)? {
            parse_paired(&format!("{dir}/{name}"), &t, &mut c)?;
        }
    }
    if let Some(t) = read_file(dir, "snmp6")? {
        parse_flat(&format!("{dir}/snmp6"), &t, &mut c)?;
    }
    Ok(c)
}

/// The counters of the caller's network namespace.
pub fn read() -> Result<Counters> {
    read_dir("/proc/thread-self/net")
}

/// The counters of `netns`.
pub fn read_in(netns: &Netns) -> Result<Counters> {
    netns.run(read)?
}

impl Counters {
    fn push_sectioned(&mut self, section: &str, field: &str, value: u64) {
        // Keep `sections` parallel to `values` (hand-added entries have none).
        self.sections.resize(self.values.len(), 0);
        self.values.push((format!("{section}{field}"), value));
        self.sections.push(u8::try_from(section.len()).unwrap_or(0));
    }

    /// Every counter as `(section, field, value)`: `("TcpExt",
    /// "ListenDrops", 3)`, `("Ip6", "InOctets", 1500)`; the section of an
    /// snmp6 name without a `6`, or of a counter added by hand, is empty.
    pub fn sectioned(&self) -> impl Iterator<Item = (&str, &str, u64)> {
        self.values.iter().enumerate().map(|(i, (name, v))| {
            let at = usize::from(self.sections.get(i).copied().unwrap_or(0));
            match (name.get(..at), name.get(at..)) {
                (Some(s), Some(f)) => (s, f, *v),
                _ => ("", name.as_str(), *v),
            }
        })
    }

    /// The value of counter `name`.
    pub fn get(&self, name: &str) -> Option<u64> {
        self.values.iter().find(|(k, _)| k == name).map(|(_, v)| *v)
    }

    /// `self - earlier` for every counter present in both, with wrapping
    /// arithmetic (the kernel's counters are unsigned long and wrap).
    pub fn delta(&self, earlier: &Counters) -> Counters {
        let mut out = Counters::default();
        for (i, (k, v)) in self.values.iter().enumerate() {
            if let Some(old) = earlier.get(k) {
                out.sections.resize(out.values.len(), 0);
                out.values.push((k.clone(), v.wrapping_sub(old)));
                out.sections.push(self.sections.get(i).copied().unwrap_or(0));
            }
        }
        out
    }
}

/// /proc/net/sockstat and sockstat6: `(section, [(key, value)])`, e.g.
/// `("TCP", [("inuse", 5), ("orphan", 0), ("tw", 2), ...])`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SockStat {
    /// Sections in file order.
    pub sections: Vec<(String, Vec<(String, u64)>)>,
}

impl SockStat {
    /// Parses sockstat text (`TCP: inuse 5 orphan 0 ...`).
    pub fn parse(path: &str, text: &str, out: &mut SockStat) -> Result<()> {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let bad = |reason| netobs_core::Error::ProcFormat {
                path: path.to_string(),
                line: n + 1,
                reason,
            };
            let (sect, rest) = line.split_once(':').ok_or(bad("no section name"))?;
            let words: Vec<&str> = rest.split_whitespace().collect();
            if words.len() % 2 != 0 {
                return Err(bad("odd number of words").into());
            }
            let mut kv = Vec::new();
            for p in words.chunks(2) {
                kv.push((p[0].to_string(), parse_value(p[1]).ok_or(bad("value is not a number"))?));
            }
            out.sections.push((sect.to_string(), kv));
        }
        Ok(())
    }

    /// Reads sockstat and sockstat6 of the caller's namespace.
    pub fn read() -> Result<SockStat> {
        let dir = "/proc/thread-self/net";
        let mut s = SockStat::default();
        for name in ["sockstat", "sockstat6"] {
            if let Some(t) = read_file(dir, name)? {
                SockStat::parse(&format!("{dir}/{name}"), &t, &mut s)?;
            }
        }
        Ok(s)
    }

    /// Reads sockstat and sockstat6 of `netns`.
    pub fn read_in(netns: &Netns) -> Result<SockStat> {
        netns.run(SockStat::read)?
    }

    /// Value `key` of section `section` (`get("TCP", "tw")`).
    pub fn get(&self, section: &str, key: &str) -> Option<u64> {
        let (_, kv) = self.sections.iter().find(|(s, _)| s == section)?;
        kv.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_and_flat() {
        let mut c = Counters::default();
        parse_paired("t", "Tcp: MaxConn RetransSegs\nTcp: -1 7\n", &mut c).unwrap();
        assert_eq!(c.get("TcpMaxConn"), Some(u64::MAX));
        assert_eq!(c.get("TcpRetransSegs"), Some(7));
        parse_flat("t", "Ip6InReceives   12\n", &mut c).unwrap();
        assert_eq!(c.get("Ip6InReceives"), Some(12));
        assert!(parse_paired("t", "Tcp: A B\nTcp: 1\n", &mut c).is_err());
        assert!(parse_paired("t", "Tcp: A\n", &mut c).is_err());
        assert!(parse_paired("t", "Tcp: A\nUdp: 1\n", &mut c).is_err());
        assert!(parse_flat("t", "X y\n", &mut c).is_err());
        let s: Vec<_> = c.sectioned().collect();
        assert_eq!(s[0], ("Tcp", "MaxConn", u64::MAX));
        assert_eq!(s[2], ("Ip6", "InReceives", 12));
        parse_paired("t", "TcpExt: ListenDrops\nTcpExt: 3\n", &mut c).unwrap();
        assert_eq!(c.sectioned().last(), Some(("TcpExt", "ListenDrops", 3)));
        assert_eq!(c.delta(&c).sectioned().last(), Some(("TcpExt", "ListenDrops", 0)));
    }

    #[test]
    fn delta_wraps() {
        let a = Counters {
            values: vec![("X".into(), 5)],
            ..Default::default()
        };
        let b = Counters {
            values: vec![("X".into(), u64::MAX)],
            ..Default::default()
        };
        assert_eq!(a.delta(&b).get("X"), Some(6));
    }

    #[test]
    fn live_counters() {
        let c = read().unwrap();
        assert!(c.get("TcpActiveOpens").is_some());
        assert!(c.get("TcpExtListenDrops").is_some());
        let s = SockStat::read().unwrap();
        assert!(s.get("TCP", "inuse").is_some());
    }
}
