//! Per-CPU receive backlog counters: /proc/net/softnet_stat.
//!
//! One line per online CPU, written by `softnet_seq_show()` in
//! net/core/net-procfs.c as space-separated 8-digit hex words:
//!
//! | word | field | meaning |
//! |---|---|---|
//! | 0 | processed | frames taken off this CPU's backlog by `process_backlog` / NAPI |
//! | 1 | dropped | frames dropped because the backlog was full (`netdev_max_backlog`) |
//! | 2 | time_squeeze | `net_rx_action` ran out of budget or time with work left |
//! | 3..=8 | 0 | formerly fastroute and cpu_collision, always 0 |
//! | 9 | received_rps | inter-processor interrupts received for RPS/RFS |
//! | 10 | flow_limit_count | frames dropped by the flow limit (`flow_limit_cpu_bitmap`) |
//! | 11 | backlog_len | frames queued now (input + process queues), since Linux 5.10 |
//! | 12 | cpu | the CPU's number, since Linux 5.10 |
//!
//! Older kernels write fewer words (9 before RPS, 11 before 5.10); the
//! missing ones read as `None`. Offline CPUs have no line, so without the
//! `cpu` word the line number is only a guess at the CPU (node_exporter
//! makes the same guess). The counters are host-wide: the file reads the
//! same in every network namespace.

use crate::error::{Error, Result};

/// The counters of one CPU's softnet_data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SoftnetStat {
    /// The CPU: the `cpu` word where the kernel writes it, else the line index.
    pub cpu: u32,
    /// Frames processed from the backlog.
    pub processed: u32,
    /// Frames dropped because the backlog queue was full.
    pub dropped: u32,
    /// Times `net_rx_action` stopped with work left (budget or time spent).
    pub time_squeeze: u32,
    /// RPS inter-processor interrupts received (absent on very old kernels).
    pub received_rps: Option<u32>,
    /// Frames dropped by the per-flow limit.
    pub flow_limit_count: Option<u32>,
    /// Frames in the backlog when the file was read (Linux 5.10+).
    pub backlog_len: Option<u32>,
    /// Whether `cpu` came from the kernel (Linux 5.10+) rather than the line index.
    pub cpu_from_kernel: bool,
}

/// Where the kernel writes the file.
pub const PATH: &str = "/proc/net/softnet_stat";

/// Parses the text of /proc/net/softnet_stat (`path` names it in errors).
///
/// A line with fewer than the three words every kernel writes, or a word
/// that is not hexadecimal, is an error naming the line.
pub fn parse(path: &str, text: &str) -> Result<Vec<SoftnetStat>> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |reason| Error::ProcFormat {
            path: path.to_string(),
            line: n + 1,
            reason,
        };
        let mut words = [0u32; 13];
        let mut count = 0;
        for w in line.split_whitespace() {
            let v = u32::from_str_radix(w, 16).map_err(|_| bad("word is not a hexadecimal number"))?;
            if count < words.len() {
                words[count] = v;
            }
            count += 1;
        }
        if count < 3 {
            return Err(bad("fewer than 3 words"));
        }
        let word = |i: usize| (count > i).then_some(words[i]);
        out.push(SoftnetStat {
            cpu: word(12).unwrap_or(out.len() as u32),
            processed: words[0],
            dropped: words[1],
            time_squeeze: words[2],
            received_rps: word(9),
            flow_limit_count: word(10),
            backlog_len: word(11),
            cpu_from_kernel: count > 12,
        });
    }
    Ok(out)
}

/// Reads /proc/net/softnet_stat.
pub fn read() -> Result<Vec<SoftnetStat>> {
    let text = std::fs::read_to_string(PATH).map_err(|e| Error::io("read /proc/net/softnet_stat", e))?;
    parse(PATH, &text)
}

/// The sum of a field over all CPUs, as u64 (the kernel's words are u32
/// and wrap; sums of one read do not).
pub fn total(stats: &[SoftnetStat], field: impl Fn(&SoftnetStat) -> u32) -> u64 {
    stats.iter().map(|s| u64::from(field(s))).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Recorded on this host (6.18, 2 CPUs) and on Debian's 4.19 layout.
    const V618: &str = "000a1b2c 00000003 00000011 00000000 00000000 00000000 00000000 00000000 00000000 00000005 00000000 00000000 00000000\n\
0000ffff 00000000 00000001 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000002 00000001 00000001\n";
    const V419: &str =
        "00000010 00000001 00000002 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000\n";

    #[test]
    fn parses_both_layouts() {
        let s = parse("x", V618).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].cpu, s[0].processed, s[0].dropped, s[0].time_squeeze),
            (0, 0xa1b2c, 3, 0x11)
        );
        assert_eq!(s[0].received_rps, Some(5));
        assert_eq!(
            (s[1].cpu, s[1].flow_limit_count, s[1].backlog_len),
            (1, Some(2), Some(1))
        );
        assert!(s[1].cpu_from_kernel);
        let o = parse("x", V419).unwrap();
        assert_eq!((o[0].cpu, o[0].backlog_len, o[0].cpu_from_kernel), (0, None, false));
        assert_eq!(total(&s, |s| s.dropped), 3);
    }

    #[test]
    fn bad_lines_are_errors() {
        assert!(parse("x", "zz 1 2\n").unwrap_err().to_string().contains("line 1"));
        assert!(parse("x", "1 2\n").is_err());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics(text in "([0-9a-fA-Fz ]{0,120}\n){0,4}") {
            let _ = parse("x", &text);
        }
    }

    #[test]
    fn reads_this_kernel() {
        let s = read().unwrap();
        assert!(!s.is_empty());
        assert!(s.iter().all(|c| c.cpu_from_kernel), "Linux 5.10+ writes the cpu word");
    }
}
