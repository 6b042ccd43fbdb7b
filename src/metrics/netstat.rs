//! `node_netstat_*`: protocol counters as node_exporter 1.5 writes them.
//!
//! node_exporter reads /proc/net/netstat, /proc/net/snmp and
//! /proc/net/snmp6 of its namespace, names each counter
//! `node_netstat_SECTION_FIELD` (`node_netstat_TcpExt_ListenDrops`,
//! `node_netstat_Ip6_InOctets`: the section of an snmp6 name ends at its
//! `6`), keeps those whose `SECTION_FIELD` matches
//! `--collector.netstat.fields` ([`DEFAULT_FIELDS`]) and writes them
//! untyped with HELP `Statistic SECTIONFIELD.`. The camelCase names are
//! node_exporter's (promtool's lint notes them; dashboards use them).

use regex::Regex;

use super::{per_target, Collector, MetricSet, MetricType, Result, Scrape, Targets};

/// node_exporter 1.5's default `--collector.netstat.fields`.
pub const DEFAULT_FIELDS: &str = "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

/// Writes the counters of `c` whose `SECTION_FIELD` matches `fields`.
pub fn write_counters(out: &mut MetricSet, c: &netobs_sockdiag::counters::Counters, fields: &Regex) {
    let mut key = String::new();
    for (section, field, value) in c.sectioned() {
        if section.is_empty() {
            continue;
        }
        key.clear();
        key.push_str(section);
        key.push('_');
        key.push_str(field);
        if !fields.is_match(&key) {
            continue;
        }
        // The kernel prints Tcp MaxConn as a signed -1, which the library
        // keeps as its two's complement; no counter reaches 2^63.
        let v = super::Value::I64(value as i64);
        out.add(
            &format!("node_netstat_{key}"),
            &format!("Statistic {section}{field}."),
            MetricType::Untyped,
            &[],
            v,
        );
    }
}

/// The netstat collector (source name `netstat`).
#[derive(Debug, Clone)]
pub struct NetstatCollector {
    targets: Targets,
    fields: Regex,
}

impl NetstatCollector {
    /// node_exporter's default fields, in each of `targets`.
    pub fn new(targets: Targets) -> Self {
        // A constant pattern, compiled by the tests below: not input.
        #[allow(clippy::expect_used)]
        let fields = Regex::new(DEFAULT_FIELDS).expect("DEFAULT_FIELDS is a valid pattern");
        NetstatCollector { targets, fields }
    }

    /// The fields matching `pattern` (node_exporter's
    /// `--collector.netstat.fields`), in each of `targets`.
    pub fn with_fields(targets: Targets, pattern: &str) -> Result<Self, regex::Error> {
        Ok(NetstatCollector {
            targets,
            fields: Regex::new(pattern)?,
        })
    }
}

impl Collector for NetstatCollector {
    fn collect(&self, scrape: &mut Scrape<'_>) {
        per_target(scrape, &self.targets, "netstat", |t, out| {
            let c = netobs_sockdiag::counters::read_in(&t.netns())?;
            write_counters(out, &c, &self.fields);
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netobs_sockdiag::counters::{parse_flat, parse_paired, Counters};

    #[test]
    fn default_filter_and_names() {
        let mut c = Counters::default();
        parse_paired(
            "snmp",
            "Tcp: MaxConn CurrEstab InErrs AttemptFails\nTcp: -1 2 3 4\n",
            &mut c,
        )
        .unwrap();
        parse_paired(
            "netstat",
            "TcpExt: ListenDrops TCPTimeouts DelayedACKs\nTcpExt: 1 2 3\n",
            &mut c,
        )
        .unwrap();
        parse_flat("snmp6", "Ip6InOctets 10\nIcmp6InMsgs 2\nIcmp6InType1 1\n", &mut c).unwrap();
        let mut m = MetricSet::new();
        let f = NetstatCollector::new(Targets::Fixed(vec![])).fields;
        write_counters(&mut m, &c, &f);
        let names: Vec<_> = m.families().iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "node_netstat_Tcp_CurrEstab",
                "node_netstat_Tcp_InErrs",
                "node_netstat_TcpExt_ListenDrops",
                "node_netstat_TcpExt_TCPTimeouts",
                "node_netstat_Ip6_InOctets",
                "node_netstat_Icmp6_InMsgs",
            ]
        );
        assert_eq!(m.families()[0].help(), "Statistic TcpCurrEstab.");
        assert_eq!(m.families()[0].kind(), MetricType::Untyped);
    }
}
