//! Bulk statistics and the poller against the real kernel: every veth of a
//! namespace in one call, names cached across polls and re-read when the
//! driver's count changes (more veth queues), values equal to ethtool -S.

use netobs_core::Netns;
use netobs_ethtool::poll::{all_stats, StatsPoller};
use netobs_testsupport::{privileged, TestNetns};

fn ethtool_s(ns: &TestNetns, dev: &str) -> Vec<(String, u64)> {
    let out = ns.exec("ethtool", &["-S", dev]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (n, v) = l.trim().rsplit_once(": ")?;
            Some((n.to_string(), v.parse().ok()?))
        })
        .collect()
}

#[test]
fn bulk_and_poll_follow_ethtool() {
    if !privileged("bulk_and_poll_follow_ethtool") {
        return;
    }
    let ns = TestNetns::new();
    ns.quiet_ipv6();
    ns.veth("pa0", "pa1", None, None);
    ns.veth("pb0", "pb1", None, None);
    let netns = Netns::named(ns.name());

    let all = all_stats(Some(&netns)).unwrap();
    let mut names: Vec<&str> = all.iter().map(|i| i.ifname.as_str()).collect();
    names.sort();
    assert_eq!(names, ["lo", "pa0", "pa1", "pb0", "pb1"]);
    for i in &all {
        if i.ifname == "lo" {
            assert!(i.names.is_empty() && i.error.is_none());
            continue;
        }
        let ours: Vec<(String, u64)> = i.iter().map(|(n, v)| (n.to_owned(), v)).collect();
        assert_eq!(ours, ethtool_s(&ns, &i.ifname), "{}", i.ifname);
    }

    let mut p = StatsPoller::open_in(&netns).unwrap();
    let first = p.poll().unwrap();
    assert!(first.iter().all(|i| i.per_sec.is_empty()));
    let pa0 = |p: &StatsPoller| p.interfaces().iter().find(|i| i.ifname == "pa0").unwrap().clone();
    let before = pa0(&p).names.len();
    std::thread::sleep(std::time::Duration::from_millis(20));
    p.poll().unwrap();
    let second = pa0(&p);
    assert_eq!(second.per_sec.len(), before);
    assert!(second.rates().all(|(_, r)| r == 0.0), "{:?}", second.per_sec);

    // Two rx queues instead of one: the driver's count grows, the names
    // are read again and the rates start over.
    let out = ns.exec("ethtool", &["-L", "pa0", "rx", "2"]);
    assert!(out.status.success(), "{out:?}");
    p.poll().unwrap();
    let third = pa0(&p);
    assert!(third.names.len() > before, "{} <= {before}", third.names.len());
    assert!(third.per_sec.is_empty());
    let ours: Vec<(String, u64)> = third.iter().map(|(n, v)| (n.to_owned(), v)).collect();
    assert_eq!(ours, ethtool_s(&ns, "pa0"));
    p.poll().unwrap();
    assert_eq!(pa0(&p).per_sec.len(), third.names.len());

    // A vanished interface reports its error; the others are still read.
    ns.ip(&["link", "del", "pb0"]);
    let after = p.poll().unwrap();
    let pb0 = after.iter().find(|i| i.ifname == "pb0").unwrap();
    assert!(
        pb0.error.as_deref().unwrap_or("").contains("not found"),
        "{:?}",
        pb0.error
    );
    assert!(after.iter().find(|i| i.ifname == "pa1").unwrap().error.is_none());
    p.refresh_interfaces().unwrap();
    assert!(p.interfaces().iter().all(|i| i.ifname != "pb0" && i.ifname != "pb1"));
}

/// A monitoring daemon holds 10 names of a 1-queue veth when its channels go
/// to 128 (1153 counters). Kernels that refuse a count that differs from the
/// driver's answer 0 values; older ones copied their own count past the
/// caller's buffer, which the guard page now stops (EFAULT). Either way the
/// poll is a clean retry: new names, the 1153 values of `ethtool -S`.
#[test]
fn channel_growth_between_polls_is_a_clean_retry() {
    if !privileged("channel_growth_between_polls_is_a_clean_retry") {
        return;
    }
    let ns = TestNetns::new();
    ns.quiet_ipv6();
    ns.ip(&[
        "link",
        "add",
        "mq0",
        "numtxqueues",
        "128",
        "numrxqueues",
        "128",
        "type",
        "veth",
        "peer",
        "name",
        "mq1",
        "numtxqueues",
        "128",
        "numrxqueues",
        "128",
    ]);
    let out = ns.exec("ethtool", &["-L", "mq0", "rx", "1", "tx", "1"]);
    assert!(out.status.success(), "{out:?}");
    let netns = Netns::named(ns.name());
    let mut p = StatsPoller::open_in(&netns).unwrap();
    let mq0 = |p: &StatsPoller| p.interfaces().iter().find(|i| i.ifname == "mq0").unwrap().clone();
    p.poll().unwrap();
    let small = mq0(&p);
    assert!(small.error.is_none(), "{:?}", small.error);
    let ours: Vec<(String, u64)> = small.iter().map(|(n, v)| (n.to_owned(), v)).collect();
    assert_eq!(ours, ethtool_s(&ns, "mq0"));

    let out = ns.exec("ethtool", &["-L", "mq0", "rx", "128", "tx", "128"]);
    assert!(out.status.success(), "{out:?}");
    p.poll().unwrap();
    let big = mq0(&p);
    assert!(big.error.is_none(), "{:?}", big.error);
    let theirs = ethtool_s(&ns, "mq0");
    assert!(
        theirs.len() > 10 * small.names.len(),
        "{} -> {}",
        small.names.len(),
        theirs.len()
    );
    let ours: Vec<(String, u64)> = big.iter().map(|(n, v)| (n.to_owned(), v)).collect();
    assert_eq!(ours, theirs);
    assert!(big.per_sec.is_empty(), "no rates across two name lists");

    // And back down: fewer counters than the names held.
    let out = ns.exec("ethtool", &["-L", "mq0", "rx", "1", "tx", "1"]);
    assert!(out.status.success(), "{out:?}");
    p.poll().unwrap();
    let ours: Vec<(String, u64)> = mq0(&p).iter().map(|(n, v)| (n.to_owned(), v)).collect();
    assert_eq!(ours, ethtool_s(&ns, "mq0"));
}
