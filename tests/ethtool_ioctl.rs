//! The `ethtool` example against ethtool 6.1 for -S and -i: veth (both
//! ends, after traffic), lo and an unknown device, output and exit status.

use netobs_testsupport::{assert_same_output, connected_pair, example_bin, privileged, TestNetns};

/// Runs ethtool and the example with the same arguments inside `ns`.
fn same(ns: &TestNetns, args: &[&str]) {
    let bin = example_bin("ethtool");
    let label = format!("ethtool {}", args.join(" "));
    assert_same_output(
        &label,
        || ns.exec("ethtool", args),
        || ns.exec(bin.to_str().unwrap(), args),
    );
}

#[test]
fn ethtool_s_and_i_match() {
    if !privileged("ethtool_s_and_i_match") {
        return;
    }
    let (ns, peer) = connected_pair("et0", "et1", "10.67.0", 5);
    ns.veth("loc0", "loc1", None, None);
    for dev in ["et0", "loc0", "loc1", "lo", "nbt-nosuch0"] {
        same(&ns, &["-S", dev]);
        same(&ns, &["-i", dev]);
    }
    same(&peer, &["-S", "et1"]);
    same(&ns, &["-S"]);
}
