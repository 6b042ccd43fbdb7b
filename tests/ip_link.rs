//! The `ip` example against iproute2's `ip` on the same world: a namespace
//! with veth pairs (one with its peer in a second namespace), a bridge with
//! a port, a vxlan link, an alias and an altname, after real traffic.

use netobs_testsupport::{assert_same_output, example_bin, output, privileged, TestNetns};

fn world() -> (TestNetns, TestNetns) {
    let ns = TestNetns::new();
    let other = TestNetns::new();
    ns.quiet_ipv6();
    other.quiet_ipv6();
    ns.veth("va", "vb", Some("10.77.0.1/24"), None);
    ns.ip(&["link", "add", "br0", "type", "bridge"]);
    ns.ip(&["link", "set", "vb", "master", "br0"]);
    ns.ip(&["addr", "add", "10.77.0.2/24", "dev", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    ns.ip(&[
        "link",
        "add",
        "vx0",
        "type",
        "vxlan",
        "id",
        "42",
        "dstport",
        "4789",
        "local",
        "10.77.0.1",
    ]);
    ns.veth_to("vc", &other, "vd", Some("10.78.0.1/24"), Some("10.78.0.2/24"));
    ns.ip(&["link", "set", "dev", "va", "alias", "uplink \"a\""]);
    ns.ip(&["link", "property", "add", "dev", "va", "altname", "uplink-to-bridge"]);
    ns.ping("10.78.0.2", 20);
    (ns, other)
}

/// Runs iproute2's `ip` and the example with the same arguments.
fn same(ns: &str, args: &[&str]) {
    let mut full = vec!["-n", ns];
    full.extend_from_slice(args);
    let bin = example_bin("ip");
    let label = format!("ip {}", full.join(" "));
    assert_same_output(&label, || output("ip", &full), || output(bin.to_str().unwrap(), &full));
}

#[test]
fn ip_link_matches_iproute2() {
    if !privileged("ip_link_matches_iproute2") {
        return;
    }
    let (ns, other) = world();
    for args in [
        &["-s", "link"][..],
        &["-s", "-s", "link"],
        &["-j", "-s", "link"],
        &["-j", "-s", "-s", "link"],
        &["link"],
        &["link", "show"],
        &["-j", "link"],
        &["-s", "link", "show", "va"],
        &["-s", "-s", "link", "show", "dev", "vb"],
        &["-j", "-s", "link", "show", "br0"],
        &["link", "show", "vc"],
        &["link", "show", "uplink-to-bridge"],
        &["link", "show", "nosuchdev"],
        &["-j", "link", "show", "nosuchdev"],
    ] {
        same(ns.name(), args);
    }
    for args in [&["-s", "link"][..], &["-j", "-s", "-s", "link"]] {
        same(other.name(), args);
    }
}

#[test]
fn unknown_namespace_matches_iproute2() {
    if !privileged("unknown_namespace_matches_iproute2") {
        return;
    }
    same("nbt-no-such-netns", &["link"]);
}

#[test]
fn interval_prints_rates() {
    if !privileged("interval_prints_rates") {
        return;
    }
    let (ns, _other) = world();
    let bin = example_bin("ip");
    let out = output(
        bin.to_str().unwrap(),
        &["-n", ns.name(), "-s", "link", "--interval", "0.2", "--count", "2"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("rKB/s") && lines[0].contains("wDrp/s"), "{text}");
    // 2 intervals x 6 links (lo, vb, va, br0, vx0, vc).
    assert_eq!(lines.len(), 1 + 2 * 6, "{text}");
    assert!(
        lines.iter().any(|l| l.split_whitespace().nth(1) == Some("va")),
        "{text}"
    );
}
