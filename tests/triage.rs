//! The layered triage on built worlds: each scenario loses packets at a
//! known layer (two namespaces joined by a veth pair), while another pair
//! of namespaces drops packets all the time (UDP to a closed port and
//! frames of an unhandled EtherType: the same reasons some scenarios
//! expect). `netobs::diagnose` must name the scenario's layer and reason,
//! with the counter deltas equal to what the scenario lost, and leave the
//! background drops unattributed.
//!
//! The scenarios run one at a time (a lock): host-wide sources (softnet,
//! the tracepoint) must see only one of them.

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use netobs::capture::inject::PacketSender;
use netobs::core::Netns;
use netobs::diagnose::{diagnose_during, Confidence, Evidence, Layer, Options, Report, Source, Target};
use netobs_testsupport::{example_bin, patience, privileged, TestNetns};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const UNHANDLED: u16 = 0x4321;

/// Drops in other namespaces for as long as it lives: UDP datagrams to a
/// closed port (NO_SOCKET) and frames of EtherType 0x4321 (UNHANDLED_PROTO).
struct Background {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _ns: (TestNetns, TestNetns),
}

impl Background {
    fn start(tag: &str) -> Background {
        let (a, b) = (TestNetns::new(), TestNetns::new());
        a.quiet_ipv6();
        b.quiet_ipv6();
        let (da, db) = (format!("bg{tag}a"), format!("bg{tag}b"));
        a.veth_to(&da, &b, &db, Some("10.99.0.1/24"), Some("10.99.0.2/24"));
        let stop = Arc::new(AtomicBool::new(false));
        let ns = Netns::named(a.name());
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let sock = ns.run(|| UdpSocket::bind("10.99.0.1:0").unwrap()).unwrap();
            let raw = PacketSender::open_in(&ns, &da).unwrap();
            let frame = frame_from([0x02, 0, 0, 0, 0x99, 0x01], UNHANDLED);
            while !flag.load(Ordering::Relaxed) {
                let _ = sock.send_to(b"background", "10.99.0.2:9");
                let _ = raw.send(&frame);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Background {
            stop,
            thread: Some(thread),
            _ns: (a, b),
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A broadcast frame from `src` with `ethertype`, 60 bytes.
fn frame_from(src: [u8; 6], ethertype: u16) -> Vec<u8> {
    let mut f = vec![0xffu8; 6];
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.resize(60, 0x5a);
    f
}

/// Sender `a` (device `{tag}a`, 10.NET.0.1) and receiver `b` (`{tag}b`, 10.NET.0.2).
struct World {
    a: TestNetns,
    b: TestNetns,
    da: String,
    db: String,
    net: u8,
}

impl World {
    fn new(tag: &str, net: u8) -> World {
        let (a, b) = (TestNetns::new(), TestNetns::new());
        a.quiet_ipv6();
        b.quiet_ipv6();
        let (da, db) = (format!("{tag}a"), format!("{tag}b"));
        a.veth_to(
            &da,
            &b,
            &db,
            Some(&format!("10.{net}.0.1/24")),
            Some(&format!("10.{net}.0.2/24")),
        );
        // Resolve the neighbours first: no ARP inside the window.
        a.ping(&format!("10.{net}.0.2"), 1);
        World { a, b, da, db, net }
    }

    fn receiver(&self) -> String {
        format!("10.{}.0.2", self.net)
    }

    fn target_b(&self) -> Target {
        Target {
            namespaces: vec![Netns::named(self.b.name())],
            ..Target::default()
        }
    }

    fn in_a<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        Netns::named(self.a.name()).run(f).unwrap()
    }
}

fn options() -> Options {
    Options {
        window: patience(Duration::from_secs(1)),
        capture_window: patience(Duration::from_secs(1)),
        ..Options::default()
    }
}

fn evidence<'a>(r: &'a Report, source: Source, name: &str) -> Option<&'a Evidence> {
    r.layers
        .iter()
        .flat_map(|l| &l.evidence)
        .find(|e| e.source == source && e.name == name)
}

/// Prints the report (the test log then shows what the triage saw).
fn show(r: &Report) {
    eprintln!("{}", netobs::diagnose::ReportText(r));
}

/// The kernel drops of `reason` attributed to the target, all of them.
fn attributed(r: &Report, reason: &str) -> u64 {
    r.layers
        .iter()
        .flat_map(|l| &l.evidence)
        .filter(|e| e.source == Source::Drops && e.name == reason)
        .map(|e| e.delta)
        .sum()
}

/// Every scenario must have seen the background and left it out.
fn background_left_out(r: &Report) {
    assert!(
        r.unattributed.total > 0,
        "the background's drops were not seen at all: {:?}",
        r.missing
    );
    for e in r.layers.iter().flat_map(|l| &l.evidence) {
        assert!(!e.subject.starts_with("bg"), "background drop attributed: {e}");
    }
}

/// The tracepoint source is there on every kernel we test (6.1+).
fn kernel_drops_available(r: &Report) {
    assert!(
        !r.missing.iter().any(|m| m.starts_with("kernel drops")),
        "kernel drops unavailable: {:?}",
        r.missing
    );
}

#[test]
fn unhandled_ethertype_is_the_interface_with_its_frames_named() {
    if !privileged("unhandled_ethertype_is_the_interface_with_its_frames_named") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("1");
    let w = World::new("tu", 61);
    const N: u64 = 20;
    let src = [0x02, 0, 0x5e, 0, 0x53, 0x11];
    let sender = PacketSender::open_in(&Netns::named(w.a.name()), &w.da).unwrap();
    let r = diagnose_during(&w.target_b(), &options(), || {
        for _ in 0..N {
            sender.send(&frame_from(src, UNHANDLED)).unwrap();
        }
    })
    .unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::Interface);
    assert_eq!(r.verdict.reason.as_deref(), Some("UNHANDLED_PROTO"));
    let rx = evidence(&r, Source::Link, "rx_dropped").expect("rx_dropped evidence");
    assert_eq!((rx.delta, rx.subject.as_str()), (N, w.db.as_str()));
    let drops = evidence(&r, Source::Drops, "UNHANDLED_PROTO").unwrap();
    assert_eq!(drops.delta, N, "{drops}");
    assert_eq!(drops.location.as_deref(), Some("__netif_receive_skb_core"));
    assert_eq!(drops.confidence, Confidence::High);
    background_left_out(&r);
    // Frames named: by the eprobe during the window where the kernel has
    // eprobes (all N), else by a capture after it (which needs frames to
    // keep coming: the second run below).
    if r.frames_note
        .as_deref()
        .is_some_and(|n| n.starts_with("read from the dropped skbs"))
    {
        assert_eq!(r.frames.len(), 1, "{:?}", r.frames);
        assert_eq!(
            (r.frames[0].source.as_str(), r.frames[0].ethertype, r.frames[0].count),
            ("02:00:5e:00:53:11", UNHANDLED, N)
        );
        return;
    }
    eprintln!("frames: {:?}", r.frames_note);
    assert!(
        r.missing
            .iter()
            .any(|m| m.starts_with("frames from the dropped skbs (eprobe)")),
        "no eprobe and no reason given: {:?}",
        r.missing
    );
    // A sender that goes on after the window: the capture names it.
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let r = std::thread::scope(|s| {
        s.spawn(|| {
            while !flag.load(Ordering::Relaxed) {
                let _ = sender.send(&frame_from(src, UNHANDLED));
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let r = diagnose_during(&w.target_b(), &options(), || {});
        stop.store(true, Ordering::Relaxed);
        r.unwrap()
    });
    show(&r);
    assert_eq!(r.verdict.layer, Layer::Interface);
    let mine: Vec<_> = r.frames.iter().filter(|g| g.ethertype == UNHANDLED).collect();
    assert_eq!(mine.len(), 1, "{:?} ({:?})", r.frames, r.frames_note);
    assert_eq!(
        (mine[0].source.as_str(), mine[0].device.as_str()),
        ("02:00:5e:00:53:11", w.db.as_str())
    );
    assert!(mine[0].count > 0);
}

#[test]
fn mtu_mismatch_is_the_interface() {
    if !privileged("mtu_mismatch_is_the_interface") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("2");
    let w = World::new("tm", 62);
    w.a.ip(&["link", "set", &w.da, "mtu", "9000"]);
    const N: u64 = 10;
    let sock = w.in_a(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    let dst: SocketAddr = format!("{}:7000", w.receiver()).parse().unwrap();
    let r = diagnose_during(&w.target_b(), &options(), || {
        for _ in 0..N {
            sock.send_to(&[0u8; 4000], dst).unwrap();
        }
    })
    .unwrap();
    show(&r);
    assert_eq!(r.verdict.layer, Layer::Interface);
    let rx = evidence(&r, Source::Link, "rx_dropped").expect("rx_dropped evidence");
    assert_eq!((rx.delta, rx.subject.as_str()), (N, w.db.as_str()));
    background_left_out(&r);
}

#[test]
fn udp_receiver_that_does_not_read_is_the_socket() {
    if !privileged("udp_receiver_that_does_not_read_is_the_socket") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("3");
    let w = World::new("tr", 63);
    // Bound, never read: its default receive buffer fills after ~150
    // datagrams of this size.
    let _sink = Netns::named(w.b.name())
        .run(|| UdpSocket::bind("10.63.0.2:9999").unwrap())
        .unwrap();
    let sock = w.in_a(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    let r = diagnose_during(
        &Target {
            port: Some(9999),
            ..w.target_b()
        },
        &options(),
        || {
            for _ in 0..600 {
                sock.send_to(&[0u8; 1400], "10.63.0.2:9999").unwrap();
            }
        },
    )
    .unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::Socket);
    assert_eq!(r.verdict.reason.as_deref(), Some("SOCKET_RCVBUFF"));
    let errs = evidence(&r, Source::Nstat, "UdpRcvbufErrors").expect("UdpRcvbufErrors");
    assert!(errs.delta > 0);
    assert_eq!(
        attributed(&r, "SOCKET_RCVBUFF"),
        errs.delta,
        "every rcvbuf error is one kernel drop"
    );
    let sk = evidence(&r, Source::Sockets, "sk_drops").expect("the socket's own drop counter");
    assert_eq!((sk.delta, sk.subject.as_str()), (errs.delta, "udp 10.63.0.2:9999"));
    assert!(
        r.verdict.summary.contains("does not read fast enough"),
        "{}",
        r.verdict.summary
    );
    assert!(
        r.layer(Layer::Socket)
            .unwrap()
            .observations
            .iter()
            .any(|o| o.contains("(full)")),
        "{:?}",
        r.layer(Layer::Socket)
    );
    background_left_out(&r);
}

#[test]
fn listener_that_does_not_accept_is_the_socket() {
    if !privileged("listener_that_does_not_accept_is_the_socket") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("4");
    let w = World::new("tl", 64);
    // listen(fd, 1) and never accept(): Python's socket module is the
    // shortest way to a chosen backlog.
    let mut listener = w
        .b
        .command("python3")
        .args([
            "-c",
            "import socket,sys,time\ns=socket.socket()\ns.bind(('10.64.0.2',8080))\ns.listen(1)\nprint('ready',flush=True)\ntime.sleep(600)",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(listener.stdout.take().unwrap()), &mut line).unwrap();
    assert_eq!(line.trim(), "ready");
    let r = diagnose_during(
        &Target {
            port: Some(8080),
            ..w.target_b()
        },
        &options(),
        || {
            std::thread::scope(|s| {
                for _ in 0..8 {
                    s.spawn(|| {
                        let addr: SocketAddr = "10.64.0.2:8080".parse().unwrap();
                        let c = w.in_a(|| TcpStream::connect_timeout(&addr, Duration::from_millis(500)));
                        // Hold the connections the queue took.
                        std::thread::sleep(Duration::from_millis(600));
                        drop(c);
                    });
                }
            });
        },
    );
    let _ = listener.kill();
    let _ = listener.wait();
    let r = r.unwrap();
    show(&r);
    assert_eq!(r.verdict.layer, Layer::Socket);
    let overflows = evidence(&r, Source::Nstat, "TcpExtListenOverflows").expect("ListenOverflows");
    assert!(overflows.delta > 0);
    assert!(evidence(&r, Source::Nstat, "TcpExtListenDrops").is_some());
    assert!(r.verdict.summary.contains("accept()"), "{}", r.verdict.summary);
    assert!(
        r.layer(Layer::Socket)
            .unwrap()
            .observations
            .iter()
            // Children made on two CPUs at once can overshoot the
            // backlog by more than the one sk_acceptq_is_full allows.
            .any(|o| o.starts_with("listener tcp 10.64.0.2:8080 ") && o.contains("of backlog 1 (full)")),
        "{:?}",
        r.layer(Layer::Socket)
    );
    background_left_out(&r);
}

#[test]
fn nftables_drop_rule_is_netfilter() {
    if !privileged("nftables_drop_rule_is_netfilter") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("5");
    let w = World::new("tn", 65);
    for cmd in [
        &["add", "table", "inet", "triage"][..],
        &[
            "add",
            "chain",
            "inet",
            "triage",
            "input",
            "{ type filter hook input priority 0; policy accept; }",
        ],
        &["add", "rule", "inet", "triage", "input", "udp", "dport", "7777", "drop"],
    ] {
        let out = w.b.exec("nft", cmd);
        assert!(
            out.status.success(),
            "nft {cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    const N: u64 = 15;
    let sock = w.in_a(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    let r = diagnose_during(&w.target_b(), &options(), || {
        for _ in 0..N {
            sock.send_to(b"filtered", "10.65.0.2:7777").unwrap();
        }
    })
    .unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::Netfilter);
    assert_eq!(r.verdict.reason.as_deref(), Some("NETFILTER_DROP"));
    assert_eq!(attributed(&r, "NETFILTER_DROP"), N);
    background_left_out(&r);
}

#[test]
fn closed_port_is_the_transport() {
    if !privileged("closed_port_is_the_transport") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("6");
    let w = World::new("tc", 66);
    const N: u64 = 6;
    let r = diagnose_during(&w.target_b(), &options(), || {
        for _ in 0..N {
            let addr: SocketAddr = "10.66.0.2:4444".parse().unwrap();
            let refused = w.in_a(|| TcpStream::connect_timeout(&addr, Duration::from_secs(2)));
            assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
        }
    })
    .unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::Transport);
    assert_eq!(r.verdict.reason.as_deref(), Some("NO_SOCKET"));
    assert_eq!(attributed(&r, "NO_SOCKET"), N, "one SYN dropped per connect");
    assert!(r.verdict.summary.contains("nothing listens"), "{}", r.verdict.summary);
    background_left_out(&r);
}

#[test]
fn tiny_tbf_limit_is_the_qdisc() {
    if !privileged("tiny_tbf_limit_is_the_qdisc") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("7");
    let w = World::new("tq", 67);
    let out = w.a.exec(
        "tc",
        &[
            "qdisc", "replace", "dev", &w.da, "root", "tbf", "rate", "8kbit", "burst", "1600", "limit", "3000",
        ],
    );
    assert!(out.status.success(), "tc: {}", String::from_utf8_lossy(&out.stderr));
    let sock = w.in_a(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    let target = Target {
        namespaces: vec![Netns::named(w.a.name())],
        ..Target::default()
    };
    let r = diagnose_during(&target, &options(), || {
        for _ in 0..50 {
            // ENOBUFS for the dropped ones: expected.
            let _ = sock.send_to(&[0u8; 1000], "10.67.0.2:9");
        }
    })
    .unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::Qdisc);
    let reason = r.verdict.reason.clone().unwrap_or_default();
    assert!(reason.starts_with("QDISC_"), "reason {reason}");
    let q = r
        .layer(Layer::Qdisc)
        .unwrap()
        .evidence
        .iter()
        .find(|e| e.source == Source::Qdisc)
        .expect("the qdisc's own drop counter");
    assert!(q.delta > 0 && q.name.starts_with("tbf"), "{q}");
    assert_eq!(attributed(&r, &reason), q.delta, "every qdisc drop is one kernel drop");
    background_left_out(&r);
}

#[test]
fn healthy_traffic_is_none() {
    if !privileged("healthy_traffic_is_none") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let _bg = Background::start("8");
    let w = World::new("th", 68);
    let r = diagnose_during(&w.target_b(), &options(), || w.a.ping("10.68.0.2", 20)).unwrap();
    show(&r);
    kernel_drops_available(&r);
    assert_eq!(r.verdict.layer, Layer::None, "{}", r.verdict.summary);
    assert!(r.layers.iter().all(|l| l.lost == 0));
    background_left_out(&r);
    // Queue statistics: read where the kernel has the netdev family (veth
    // keeps none, so no evidence), said to be missing where it has not.
    let qstats_missing: Vec<&String> = r.missing.iter().filter(|m| m.starts_with("queue statistics")).collect();
    match netobs::ethtool::qstats::NetdevNetlink::open_in(&Netns::named(w.b.name())) {
        Ok(_) => assert!(qstats_missing.is_empty(), "{qstats_missing:?}"),
        Err(e) => {
            assert_eq!(qstats_missing.len(), 1, "{:?}", r.missing);
            assert!(qstats_missing[0].contains(&e.to_string()), "{qstats_missing:?}");
            eprintln!("healthy_traffic_is_none: queue statistics: {e}");
        }
    }
}

/// The example: `--json` carries the verdict object and the layers list;
/// `--html` writes a page that headless Chromium renders to a PNG.
#[test]
fn triage_example_json_and_html() {
    if !privileged("triage_example_json_and_html") {
        return;
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let w = World::new("tx", 69);
    let dir = std::env::temp_dir().join(format!("netobs-triage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let html = dir.join("triage.html");
    let child = std::process::Command::new(example_bin("triage"))
        .args(["-n", w.b.name(), "--seconds", "3", "--json", "--html"])
        .arg(&html)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Datagrams to a closed port for as long as the example runs (its
    // start-up takes a while in an emulated VM).
    let sock = w.in_a(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    let done = AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                sock.send_to(b"x", "10.69.0.2:5555").unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let out = child.wait_with_output().unwrap();
        done.store(true, Ordering::Relaxed);
        out
    });
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &json["verdict"];
    assert_eq!(v["layer"], "transport", "{json:#}");
    assert_eq!(v["reason"], "NO_SOCKET");
    assert!(v["summary"].as_str().unwrap().contains("nothing listens"));
    assert!(v["evidence"].as_array().is_some_and(|e| !e.is_empty()));
    let layers = json["layers"].as_array().unwrap();
    assert_eq!(
        layers.iter().map(|l| l["layer"].as_str().unwrap()).collect::<Vec<_>>(),
        ["driver", "interface", "qdisc", "netfilter", "ip", "transport", "socket"]
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("<svg") && page.contains("NO_SOCKET"));
    assert!(
        !page.contains("<script") && !page.contains("http://") || page.contains("xmlns=\"http://www.w3.org/2000/svg\"")
    );
    // Headless Chromium draws it (on the host leg: the page does not
    // depend on the kernel, and a browser under TCG takes minutes).
    if std::env::var_os("NETOBS_KERNEL_LEG").is_some() {
        eprintln!("rendering the page is left to the host leg");
        return;
    }
    let png = dir.join("triage.png");
    let chromium = ["chromium", "chromium-browser"].into_iter().find(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(chromium) = chromium else {
        assert!(
            std::env::var("CI").is_err(),
            "chromium is not installed (scripts/test installs it)"
        );
        eprintln!("skipped rendering: no chromium");
        return;
    };
    let out = std::process::Command::new(chromium)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1100,900"])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "{} bytes",
        bytes.len()
    );
    if let Ok(keep) = std::env::var("NETOBS_TRIAGE_PNG") {
        std::fs::copy(&png, keep).unwrap();
    }
    let _ = std::fs::remove_dir_all(&dir);
}
