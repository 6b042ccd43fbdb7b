//! Test worlds for netobs integration tests: network namespaces, veth pairs,
//! bridges and traffic, built with the real iproute2 tools and removed again
//! on drop, also when the test panics. Namespaces left behind by a killed
//! test run are found by name and removed by the next run.
#![deny(unsafe_code)]

use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of every namespace this crate creates.
pub const PREFIX: &str = "nbt";

/// Whether the test may use privileged kernel features. Outside root it
/// returns false after printing why, so a developer's unprivileged
/// `cargo test` skips; under CI (`CI=true`) it panics instead, because a
/// privileged test must never silently skip there.
pub fn privileged(test: &str) -> bool {
    // The effective uid from /proc, which needs no unsafe geteuid call.
    let root = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false);
    if root {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and CI=true forbids skipping");
    }
    eprintln!("{test}: skipped, not root (EPERM for namespace and link creation)");
    false
}

/// Runs a command and returns its stdout; panics with its stderr on failure.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = output(cmd, args);
    if !out.status.success() {
        panic!(
            "{cmd} {}: exit {:?}: {}",
            args.join(" "),
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs a command and returns its whole output, whatever its status.
pub fn output(cmd: &str, args: &[&str]) -> Output {
    Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd}: {e} (is it installed?)"))
}

fn pid_alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Removes namespaces named `nbt-PID-N` whose process is gone.
pub fn remove_stale() {
    let Ok(dir) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let mut parts = name.split('-');
        if parts.next() != Some(PREFIX) {
            continue;
        }
        if let Some(pid) = parts.next().and_then(|p| p.parse::<u32>().ok()) {
            if !pid_alive(pid) {
                let _ = output("ip", &["netns", "del", &name]);
            }
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace that exists for the life of the value.
#[derive(Debug)]
pub struct TestNetns {
    name: String,
}

impl TestNetns {
    /// Creates `nbt-PID-N` with `ip netns add` and brings its loopback up.
    pub fn new() -> Self {
        remove_stale();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("{PREFIX}-{}-{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let ns = TestNetns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace's name under /run/netns.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace file path.
    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    /// `ip -n NAME ARGS...`, panicking on failure; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut a = vec!["-n", &self.name];
        a.extend_from_slice(args);
        run("ip", &a)
    }

    /// `ip netns exec NAME CMD ARGS...`, returning the whole output.
    /// A command that runs `program` inside this namespace (`ip netns exec
    /// NAME program`), for tests that spawn and talk to it.
    pub fn command(&self, program: &str) -> std::process::Command {
        let mut c = std::process::Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    pub fn exec(&self, cmd: &str, args: &[&str]) -> Output {
        let mut a = vec!["netns", "exec", &self.name, cmd];
        a.extend_from_slice(args);
        output("ip", &a)
    }

    /// Creates a veth pair `a`/`b` in this namespace, both up, with
    /// addresses `a_addr`/`b_addr` (CIDR) when given.
    pub fn veth(&self, a: &str, b: &str, a_addr: Option<&str>, b_addr: Option<&str>) {
        self.ip(&["link", "add", a, "type", "veth", "peer", "name", b]);
        for (dev, addr) in [(a, a_addr), (b, b_addr)] {
            if let Some(addr) = addr {
                self.ip(&["addr", "add", addr, "dev", dev]);
            }
            self.ip(&["link", "set", dev, "up"]);
        }
    }

    /// Creates a veth pair `a` (here) / `b` (in `other`), both up, with
    /// addresses when given: traffic between them crosses the pair.
    pub fn veth_to(&self, a: &str, other: &TestNetns, b: &str, a_addr: Option<&str>, b_addr: Option<&str>) {
        self.ip(&[
            "link",
            "add",
            a,
            "type",
            "veth",
            "peer",
            "name",
            b,
            "netns",
            other.name(),
        ]);
        for (ns, dev, addr) in [(self, a, a_addr), (other, b, b_addr)] {
            if let Some(addr) = addr {
                ns.ip(&["addr", "add", addr, "dev", dev]);
            }
            ns.ip(&["link", "set", dev, "up"]);
        }
    }

    /// Sends `count` pings from this namespace to `dst` (needs iputils-ping).
    pub fn ping(&self, dst: &str, count: u32) {
        let c = count.to_string();
        let out = self.exec("ping", &["-q", "-c", &c, "-i", "0.01", "-W", "1", dst]);
        assert!(
            out.status.success(),
            "ping {dst}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

impl Default for TestNetns {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestNetns {
    fn drop(&mut self) {
        // Deleting the namespace destroys its veths, bridges and sockets.
        let _ = output("ip", &["netns", "del", &self.name]);
    }
}

impl TestNetns {
    /// Turns IPv6 off in the namespace (before links come up), so no DAD,
    /// router solicitation or MLD packet moves a counter behind a test's back.
    pub fn quiet_ipv6(&self) {
        for key in [
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ] {
            let out = self.exec("sysctl", &["-q", "-w", key]);
            assert!(
                out.status.success(),
                "sysctl {key}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// `d`, stretched where the tests run in an emulated VM (the kernel legs
/// of scripts/test-kernels set NETOBS_KERNEL_LEG): idle timeouts that mean
/// "nothing more is coming" must outlast the guest's slowest moments.
pub fn patience(d: std::time::Duration) -> std::time::Duration {
    if std::env::var_os("NETOBS_KERNEL_LEG").is_some() {
        d * 5
    } else {
        d
    }
}

/// Path of a built example of the workspace (`cargo test` builds examples
/// next to the test binaries: target/PROFILE/examples/NAME).
pub fn example_bin(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/PROFILE/deps/test-HASH -> target/PROFILE/examples/NAME
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target/PROFILE");
    let p = profile_dir.join("examples").join(name);
    assert!(
        p.exists(),
        "{} not built: `cargo test` builds examples (not `cargo test --all-targets`, which builds them as test harnesses)",
        p.display()
    );
    p
}

/// Two quiet namespaces (IPv6 off) joined by a veth pair `a` / `b` with
/// addresses `NET.1/24` / `NET.2/24`, and `count` pings sent across.
pub fn connected_pair(a: &str, b: &str, net: &str, count: u32) -> (TestNetns, TestNetns) {
    let ns = TestNetns::new();
    let peer = TestNetns::new();
    ns.quiet_ipv6();
    peer.quiet_ipv6();
    let (a_addr, b_addr) = (format!("{net}.1/24"), format!("{net}.2/24"));
    ns.veth_to(a, &peer, b, Some(&a_addr), Some(&b_addr));
    if count > 0 {
        ns.ping(&format!("{net}.2"), count);
    }
    (ns, peer)
}

/// Asserts that the anchor tool and netobs print the same stdout and
/// stderr and exit alike. Counters can move between the two runs (a late
/// ARP), so a mismatch is retried twice before the test fails with both
/// outputs shown.
pub fn assert_same_output(label: &str, anchor: impl Fn() -> Output, netobs: impl Fn() -> Output) {
    let mut last = String::new();
    for _ in 0..3 {
        let want = anchor();
        let got = netobs();
        if want.stdout == got.stdout && want.stderr == got.stderr && want.status.code() == got.status.code() {
            return;
        }
        last = format!(
            "{label}\n--- anchor tool (exit {:?})\n{}{}\n--- netobs (exit {:?})\n{}{}",
            want.status.code(),
            String::from_utf8_lossy(&want.stdout),
            String::from_utf8_lossy(&want.stderr),
            got.status.code(),
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&got.stderr),
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("output differs:\n{last}");
}
