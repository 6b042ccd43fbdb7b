//! The `ethtool` example against ethtool 6.1, output, error text and exit
//! status: -S and -i (the ioctl path) and the options ethtool itself answers
//! over netlink (-g, -l, -k, -c, -a, -S --all-groups, --json -k/-a/-S with
//! groups), on veth pairs (both ends, after traffic, counters quiet) in
//! throw-away namespaces, and on eth0 (virtio_net) and lo of the root
//! namespace with read-only queries.

use netobs_testsupport::{assert_same_output, connected_pair, example_bin, output, privileged, TestNetns};

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

const OPTIONS: [&[&str]; 10] = [
    &["-I", "-a"],
    &["-g"],
    &["-l"],
    &["-k"],
    &["-c"],
    &["-a"],
    &["--json", "-k"],
    &["--json", "-a"],
    &["-S", "--all-groups"],
    &["--json", "-S", "--all-groups"],
];

/// ethtool puts `--json` before the option and the group flags after the
/// device: builds the argument list for one option and device.
fn args_for<'a>(opt: &[&'a str], dev: &'a str) -> Vec<&'a str> {
    let mut v = Vec::new();
    let mut rest = Vec::new();
    for a in opt {
        if a.starts_with("--") && *a != "--json" {
            rest.push(*a);
        } else {
            v.push(*a);
        }
    }
    v.push(dev);
    v.extend(rest);
    v
}

#[test]
fn veth_options_match_ethtool() {
    if !privileged("veth_options_match_ethtool") {
        return;
    }
    let (ns, peer) = connected_pair("nl0", "nl1", "10.68.0", 5);
    ns.veth("lv0", "lv1", None, None);
    for opt in OPTIONS {
        for dev in ["nl0", "lv0", "lv1", "lo", "nbt-nosuch0"] {
            same(&ns, &args_for(opt, dev));
        }
        same(&peer, &args_for(opt, "nl1"));
    }
    same(&ns, &["-S", "nl0", "--groups", "eth-mac", "rmon"]);
    same(&ns, &["-S", "nl0", "--bogus"]);
}

/// eth0 (virtio_net on this machine) and lo in the root namespace: only
/// queries, nothing is changed.
#[test]
fn root_eth0_and_lo_match_ethtool() {
    if !privileged("root_eth0_and_lo_match_ethtool") {
        return;
    }
    let bin = example_bin("ethtool");
    let mut devs = vec!["lo"];
    if output("ip", &["link", "show", "eth0"]).status.success() {
        devs.push("eth0");
    }
    for opt in OPTIONS.iter().chain([&["-S"][..], &["-i"][..]].iter()) {
        for dev in &devs {
            let args = args_for(opt, dev);
            assert_same_output(
                &format!("ethtool {}", args.join(" ")),
                || output("ethtool", &args),
                || output(bin.to_str().unwrap(), &args),
            );
        }
    }
}

/// `--json` for the options ethtool 6.1 refuses it for: valid JSON shape
/// with the device name, and `[ ]` with status 1 on an unknown device.
#[test]
fn json_where_ethtool_refuses_it() {
    if !privileged("json_where_ethtool_refuses_it") {
        return;
    }
    let (ns, _peer) = connected_pair("js0", "js1", "10.69.0", 3);
    let bin = example_bin("ethtool");
    let bin = bin.to_str().unwrap();
    for opt in ["-S", "-l", "-i"] {
        let out = ns.exec(bin, &["--json", opt, "js0"]);
        assert!(out.status.success(), "{opt}: {out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.starts_with("[ {\n        \"ifname\": \"js0\""), "{text}");
        assert!(text.ends_with("    } ]\n"), "{text}");
    }
    let out = ns.exec(bin, &["--json", "-S", "js0"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"peer_ifindex\": "), "{text}");
    let out = ns.exec(bin, &["--json", "-g", "nbt-nosuch0"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "[ ]\n");
}
