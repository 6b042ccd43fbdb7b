//! The `ethtool` example against ethtool 6.1 for -S and -i: veth (both
//! ends, after traffic), lo and an unknown device, output and exit status.

use netobs_testsupport::{example_bin, privileged, TestNetns};

fn same(ns: &TestNetns, args: &[&str]) {
    let bin = example_bin("ethtool");
    let mut last = String::new();
    for _ in 0..3 {
        let want = ns.exec("ethtool", args);
        let got = ns.exec(bin.to_str().unwrap(), args);
        if want.stdout == got.stdout && want.stderr == got.stderr && want.status.code() == got.status.code() {
            return;
        }
        last = format!(
            "ethtool {}\n--- ethtool (exit {:?})\n{}{}\n--- netobs (exit {:?})\n{}{}",
            args.join(" "),
            want.status.code(),
            String::from_utf8_lossy(&want.stdout),
            String::from_utf8_lossy(&want.stderr),
            got.status.code(),
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&got.stderr)
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("output differs:\n{last}");
}

#[test]
fn ethtool_s_and_i_match() {
    if !privileged("ethtool_s_and_i_match") {
        return;
    }
    let ns = TestNetns::new();
    let peer = TestNetns::new();
    ns.quiet_ipv6();
    peer.quiet_ipv6();
    ns.veth_to("et0", &peer, "et1", Some("10.67.0.1/24"), Some("10.67.0.2/24"));
    ns.veth("loc0", "loc1", None, None);
    ns.ping("10.67.0.2", 5);
    for dev in ["et0", "loc0", "loc1", "lo", "nbt-nosuch0"] {
        same(&ns, &["-S", dev]);
        same(&ns, &["-i", dev]);
    }
    same(&peer, &["-S", "et1"]);
    same(&ns, &["-S"]);
}
