//! Errors as users meet them: each tool run without privilege (as user
//! nobody, through util-linux's setpriv) says in one line what is missing,
//! as a permission problem, in Display words (never a Debug dump such as
//! `Permission { what: ... }`, never Rust's " (os error N)"), and exits
//! non-zero. The libraries' kinds are checked on the same worlds.

use std::process::Command;

use netobs::core::{ErrorInfo, ErrorKind};
use netobs_testsupport::{example_bin, privileged};

/// Runs example `tool` with `args` as user and group 65534 (nobody):
/// (exit code, stderr).
fn as_nobody(tool: &str, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(example_bin(tool))
        .args(args)
        .output()
        .expect("run setpriv (util-linux)");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn assert_plain_permission_error(tool: &str, code: Option<i32>, stderr: &str, must_name: &str) {
    assert!(code.is_some_and(|c| c != 0), "{tool}: exit {code:?}, stderr {stderr:?}");
    let line = stderr.lines().last().unwrap_or_default();
    assert!(line.starts_with(&format!("{tool}: ")), "{tool}: {stderr:?}");
    assert!(line.contains(must_name), "{tool}: {line:?} does not name {must_name}");
    for debug in ["{ ", " }", "(os error", "Error:"] {
        assert!(!stderr.contains(debug), "{tool}: Debug or raw OS text in {stderr:?}");
    }
}

#[test]
fn tracefs_tools_without_root_say_what_is_missing() {
    if !privileged("tracefs_tools_without_root_say_what_is_missing") {
        return;
    }
    // tracefs (mode 0700 for root) is mounted: reading it is the problem,
    // not a missing mount.
    netobs::trace::Tracefs::find_or_mount().unwrap();
    for tool in ["tcpstates", "tcplife", "tcpretrans", "tcpdrop", "dropwatch"] {
        let (code, stderr) = as_nobody(tool, &["--count", "1"]);
        assert_plain_permission_error(tool, code, &stderr, "need root");
        assert!(!stderr.contains("not mounted"), "{tool}: {stderr:?}");
    }
    let (code, stderr) = as_nobody("exporter", &["--drops", "--listen", "127.0.0.1:0"]);
    assert_plain_permission_error("exporter", code, &stderr, "need root");
}

#[test]
fn capture_without_cap_net_raw_says_so() {
    if !privileged("capture_without_cap_net_raw_says_so") {
        return;
    }
    let (code, stderr) = as_nobody("tcpdump", &["-i", "lo", "-c", "1"]);
    assert_plain_permission_error("tcpdump", code, &stderr, "CAP_NET_RAW");
}

#[test]
fn error_kinds_of_absent_things() {
    // An interface that does not exist, through two crates.
    let e = netobs::capture::CaptureConfig::new()
        .interface("nbt-no-such-if")
        .open()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    assert_eq!(e.subject().as_deref(), Some("nbt-no-such-if"));
    let e = netobs::ethtool::Ethtool::open()
        .and_then(|t| t.driver_info("nbt-no-such-if"))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
    // A trace event this kernel does not have.
    if privileged("error_kinds_of_absent_things") {
        let t = netobs::trace::Tracefs::find_or_mount().unwrap();
        let e = t.event_format("skb", "nbt_no_such_event").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound, "{e}");
        assert_eq!(ErrorInfo::errno(&e), Some(libc::ENOENT));
    }
    // A filter that does not parse is the caller's input, with its column.
    let e = netobs::sockdiag::filter::parse("sport = :ssh and (").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    assert!(e.column().is_some(), "{e}");
}
