//! TCP event tools on tracepoints against real connections in private
//! namespaces: state changes and lifetimes of one connection (checked
//! against what the sockets did), a retransmission provoked by taking the
//! peer's link down, and the tcpstates example's output. Each test filters
//! on its own port in the kernel, so other traffic on the machine is not seen.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::time::{Duration, Instant};

use netobs::core::netns::Netns;
use netobs::trace::tcp::{Flow, LifeTracker, TcpEvent, TcpMonitor, TcpWatch};
use netobs::trace::{DropFilter, DropMonitor, SkbDrop, TcpSocket, Tracefs};
use netobs_testsupport::{connected_pair, example_bin, privileged, TestNetns};

/// A port unlikely to be used by anyone else at the same time.
fn port(offset: u16) -> u16 {
    40000 + (std::process::id() % 3000) as u16 * 8 + offset
}

/// Collects events until `done` says so or `wait` passes.
fn collect(mon: &mut TcpMonitor, wait: Duration, done: impl Fn(&[TcpEvent]) -> bool) -> Vec<TcpEvent> {
    let mut ev = Vec::new();
    let start = Instant::now();
    while start.elapsed() < wait && !done(&ev) {
        assert_eq!(mon.poll(Some(Duration::from_millis(100)), |e| ev.push(*e)).unwrap(), 0);
    }
    ev
}

/// A loopback connection in `ns`: connect, one message each way, both close.
fn one_connection(ns: &TestNetns, port: u16) -> u16 {
    Netns::named(ns.name())
        .run(|| {
            let l = TcpListener::bind(("127.0.0.1", port)).unwrap();
            let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (mut s, _) = l.accept().unwrap();
            c.write_all(b"ping").unwrap();
            let mut b = [0u8; 4];
            s.read_exact(&mut b).unwrap();
            s.write_all(b"pong").unwrap();
            c.read_exact(&mut b).unwrap();
            let local = c.local_addr().unwrap().port();
            drop(c);
            drop(s);
            local
        })
        .unwrap()
}

#[test]
fn one_connection_states_and_lifetime() {
    if !privileged("one_connection_states_and_lifetime") {
        return;
    }
    let ns = TestNetns::new();
    let p = port(0);
    let t = Tracefs::find_or_mount().unwrap();
    let mut mon = TcpMonitor::open(
        &t,
        TcpWatch {
            states: true,
            port: Some(p),
            ..Default::default()
        },
    )
    .unwrap();
    let client_port = one_connection(&ns, p);
    let d = mon.decoder().clone();
    let close = d.state_value("TCP_CLOSE").unwrap();
    let client = |f: &Flow| f.sport == client_port && f.dport == p;
    let ev = collect(&mut mon, Duration::from_secs(3), |ev| {
        ev.iter()
            .any(|e| matches!(e, TcpEvent::State { flow, new, .. } if client(flow) && *new == close))
    });
    // CLOSE -> SYN_SENT happens before the kernel picks the source port
    // (sport 0 then): follow the socket by its address, as tcpstates does.
    let sk = ev
        .iter()
        .find_map(|e| match e {
            TcpEvent::State { flow, .. } if client(flow) => Some(flow.skaddr),
            _ => None,
        })
        .expect("client socket");
    let client_states: Vec<(&str, &str)> = ev
        .iter()
        .filter_map(|e| match e {
            TcpEvent::State { flow, old, new, .. } if flow.skaddr == sk => {
                Some((d.state_name(*old), d.state_name(*new)))
            }
            _ => None,
        })
        .collect();
    // The active opener's path, closing first (FIN_WAIT2 -> CLOSE when the
    // time-wait socket takes over).
    assert_eq!(
        client_states,
        [
            ("CLOSE", "SYN_SENT"),
            ("SYN_SENT", "ESTABLISHED"),
            ("ESTABLISHED", "FIN_WAIT1"),
            ("FIN_WAIT1", "FIN_WAIT2"),
            ("FIN_WAIT2", "CLOSE")
        ],
        "{ev:?}"
    );
    assert!(ev
        .iter()
        .any(|e| matches!(e, TcpEvent::State { flow, new, .. } if flow.sport == p && d.state_name(*new) == "LISTEN")));
    let mut life = LifeTracker::default();
    let lives: Vec<_> = ev.iter().filter_map(|e| life.feed(e, close)).collect();
    let l = lives.iter().find(|l| l.flow.skaddr == sk).expect("client lifetime");
    assert_eq!(l.flow.saddr.to_string(), "127.0.0.1");
    assert!(l.duration > 0 && l.duration < 3_000_000_000, "{l:?}");
}

#[test]
fn retransmission_after_peer_link_down() {
    if !privileged("retransmission_after_peer_link_down") {
        return;
    }
    let (ns, peer) = connected_pair("nbtra0", "nbtrb0", "10.77.6", 1);
    let p = port(1);
    let t = Tracefs::find_or_mount().unwrap();
    let mut mon = TcpMonitor::open(
        &t,
        TcpWatch {
            retransmits: true,
            port: Some(p),
            ..Default::default()
        },
    )
    .unwrap();
    let listener = Netns::named(peer.name())
        .run(|| TcpListener::bind(("10.77.6.2", p)).unwrap())
        .unwrap();
    let mut c = Netns::named(ns.name())
        .run(|| TcpStream::connect(("10.77.6.2", p)).unwrap())
        .unwrap();
    let (_s, _) = listener.accept().unwrap();
    peer.ip(&["link", "set", "nbtrb0", "down"]);
    c.write_all(b"lost in transit").unwrap();
    let ev = collect(&mut mon, Duration::from_secs(5), |ev| !ev.is_empty());
    let TcpEvent::Retransmit { flow, state, .. } = ev.first().copied().expect("a retransmission within 5 s") else {
        panic!("{ev:?}")
    };
    assert_eq!((flow.daddr.to_string(), flow.dport), ("10.77.6.2".to_string(), p));
    assert_eq!(flow.saddr.to_string(), "10.77.6.1");
    assert_eq!(mon.decoder().state_name(state), "ESTABLISHED");
}

#[test]
fn tcpstates_example_prints_the_connection() {
    if !privileged("tcpstates_example_prints_the_connection") {
        return;
    }
    let ns = TestNetns::new();
    let p = port(2);
    let mut child = Command::new(example_bin("tcpstates"))
        .args(["--port", &p.to_string(), "--count", "3"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The instance exists once the header line is out.
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 6];
    out.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"SKADDR");
    one_connection(&ns, p);
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    assert!(child.wait().unwrap().success());
    let lines: Vec<&str> = rest.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{rest}");
    assert!(lines.iter().any(|l| l.contains("CLOSE       -> LISTEN")), "{rest}");
    assert!(lines.iter().any(|l| l.contains("CLOSE       -> SYN_SENT")), "{rest}");
    assert!(lines.iter().all(|l| l.contains("127.0.0.1")), "{rest}");
}

/// Whether this kernel's kfree_skb names the socket a packet reached
/// (`rx_sk`). Where it does not, asking for drops joined to sockets must be
/// refused with an error that names the missing field; the test then prints
/// it and skips the join.
fn kernel_joins_drops(test: &str, t: &Tracefs) -> bool {
    let f = t.event_format("skb", "kfree_skb").unwrap();
    if f.field("rx_sk").is_some() {
        return true;
    }
    let filter = DropFilter {
        socket_only: true,
        ..Default::default()
    };
    let e = DropMonitor::open_tracepoint(t, &filter, None).unwrap_err();
    assert!(e.to_string().contains("no rx_sk field"), "{e}");
    let mut mon = DropMonitor::open_tracepoint(t, &DropFilter::default(), None).unwrap();
    let e = netobs::correlate::join_tcp_sockets(&mut mon, &[Netns::Current]).unwrap_err();
    assert!(e.to_string().contains("no rx_sk field"), "{e}");
    eprintln!("{test}: skipped: skb:kfree_skb has no field rx_sk on this kernel ({e})");
    false
}

/// The first drop joined to a TCP socket whose local port is `port`, within 5 s.
fn first_joined_drop(mon: &mut DropMonitor, port: u16) -> (SkbDrop, TcpSocket) {
    let mut joined = None;
    let start = Instant::now();
    while joined.is_none() && start.elapsed() < Duration::from_secs(5) {
        mon.poll_detailed(Some(Duration::from_millis(100)), |d| {
            if let Some(tcp) = d.tcp.filter(|t| t.flow.sport == port) {
                joined.get_or_insert((d.drop, tcp));
            }
        })
        .unwrap();
    }
    joined.expect("a drop joined to the socket within 5 s")
}

#[test]
fn zero_window_probe_drop_is_joined_to_its_tcp_socket() {
    if !privileged("zero_window_probe_drop_is_joined_to_its_tcp_socket") {
        return;
    }
    if !kernel_joins_drops(
        "zero_window_probe_drop_is_joined_to_its_tcp_socket",
        &Tracefs::find_or_mount().unwrap(),
    ) {
        return;
    }
    let ns = TestNetns::new();
    let p = port(3);
    let t = Tracefs::find_or_mount().unwrap();
    let filter = DropFilter {
        protocol: Some(0x0800),
        socket_only: true,
        ..Default::default()
    };
    let mut mon = DropMonitor::open(&t, &filter, None).unwrap();
    netobs::correlate::join_tcp_sockets(&mut mon, &[Netns::Current]).unwrap();
    let sender_port = zero_window_probes(&ns, p);
    let (drop, tcp) = first_joined_drop(&mut mon, p);
    // The socket the kernel named (rx_sk) is the receiver's, as the test's
    // own sockets say: local port p, peer the sender's port.
    assert_eq!(
        (
            tcp.flow.saddr.to_string(),
            tcp.flow.sport,
            tcp.flow.daddr.to_string(),
            tcp.flow.dport
        ),
        ("127.0.0.1".to_string(), p, "127.0.0.1".to_string(), sender_port),
        "{drop:?}"
    );
    assert_eq!(mon.tcp_decoder().unwrap().state_name(tcp.state.unwrap()), "ESTABLISHED");
    let reason = mon.kfree_skb().reason_name(drop.reason).unwrap();
    eprintln!("receiver dropped a segment: {reason}");
    assert!(reason.starts_with("TCP_"), "{reason}");
}

/// A receiver in `ns` that never reads, behind a tiny receive buffer: the
/// window closes and the sender's zero-window probes (old sequence
/// numbers) are dropped by the receiving socket, for 2.5 s. Returns the
/// sender's port (the receiver's is `p`).
fn zero_window_probes(ns: &TestNetns, p: u16) -> u16 {
    Netns::named(ns.name())
        .run(|| {
            let l = TcpListener::bind(("127.0.0.1", p)).unwrap();
            let c = TcpStream::connect(("127.0.0.1", p)).unwrap();
            let (_s, _) = l.accept().unwrap();
            let sender_port = c.local_addr().unwrap().port();
            c.set_nonblocking(true).unwrap();
            let start = Instant::now();
            let mut c = c;
            while start.elapsed() < Duration::from_millis(2500) {
                if c.write(&[0u8; 65536]).is_err() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            sender_port
        })
        .unwrap()
}

/// Attaches a classic BPF program that accepts nothing (`ret #0`) to `fd`.
fn reject_everything(fd: i32) {
    let mut insn = libc::sock_filter {
        code: 0x06, // BPF_RET | BPF_K
        jt: 0,
        jf: 0,
        k: 0,
    };
    let prog = libc::sock_fprog {
        len: 1,
        filter: &mut insn,
    };
    // SAFETY: prog points at one valid instruction for the duration of the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &prog as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    assert_eq!(rc, 0, "SO_ATTACH_FILTER: {}", std::io::Error::last_os_error());
}

#[test]
fn drop_on_a_connection_older_than_the_monitor_is_joined_by_cookie() {
    if !privileged("drop_on_a_connection_older_than_the_monitor_is_joined_by_cookie") {
        return;
    }
    if !kernel_joins_drops(
        "drop_on_a_connection_older_than_the_monitor_is_joined_by_cookie",
        &Tracefs::find_or_mount().unwrap(),
    ) {
        return;
    }
    let ns = TestNetns::new();
    let p = port(4);
    // The connection exists before the monitor: no state change will name it.
    let (mut c, mut s) = Netns::named(ns.name())
        .run(|| {
            let l = TcpListener::bind(("127.0.0.1", p)).unwrap();
            let c = TcpStream::connect(("127.0.0.1", p)).unwrap();
            let (s, _) = l.accept().unwrap();
            (c, s)
        })
        .unwrap();
    let t = Tracefs::find_or_mount().unwrap();
    let filter = DropFilter {
        protocol: Some(0x0800),
        socket_only: true,
        ..Default::default()
    };
    let mut mon = DropMonitor::open(&t, &filter, None).unwrap();
    netobs::correlate::join_tcp_sockets(&mut mon, &[Netns::named(ns.name())]).unwrap();
    // Data the server takes in (tcp_probe shows its address and cookie),
    // then a socket filter that rejects everything: the next segments die
    // in tcp_v4_rcv with reason SOCKET_FILTER and rx_sk = the server.
    c.write_all(b"hello").unwrap();
    let mut b = [0u8; 5];
    s.read_exact(&mut b).unwrap();
    reject_everything(s.as_raw_fd());
    c.write_all(b"dropped").unwrap();
    let (drop, tcp) = first_joined_drop(&mut mon, p);
    assert_eq!(mon.kfree_skb().reason_name(drop.reason), Some("SOCKET_FILTER"));
    assert_eq!(drop.rx_sk, tcp.flow.skaddr);
    assert_eq!(tcp.flow.daddr.to_string(), "127.0.0.1");
    assert_eq!(tcp.flow.dport, c.local_addr().unwrap().port());
    // The state came from the sock_diag snapshot, by cookie; ss -e prints
    // the same cookie as `sk:HEX` for the server socket.
    assert_eq!(mon.tcp_decoder().unwrap().state_name(tcp.state.unwrap()), "ESTABLISHED");
    let cookie = tcp.cookie.expect("learnt from a cookie-carrying event");
    let ss = ns.exec("ss", &["-tne", "state", "established", "sport", "=", &format!(":{p}")]);
    let ss = String::from_utf8_lossy(&ss.stdout);
    assert!(
        ss.contains(&format!(" sk:{cookie:x} ")),
        "cookie {cookie:x} not in\n{ss}"
    );
}

/// Spawns TCP tool example `tool` with `args` and waits for its header line
/// (printed once the trace instance is ready).
fn spawn_tool(tool: &str, args: &[&str]) -> (std::process::Child, std::io::BufReader<std::process::ChildStdout>) {
    use std::io::BufRead;
    let mut child = Command::new(example_bin(tool))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut header = String::new();
    out.read_line(&mut header).unwrap();
    assert!(!header.is_empty(), "{tool} printed no header");
    (child, out)
}

/// The rest of a tool's output once it exits (bounded: the VMs are slow).
fn finish(mut child: std::process::Child, mut out: std::io::BufReader<std::process::ChildStdout>) -> String {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("still running after 60 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    rest
}

/// tcplife's line for a connection whose lifetime is known: the client
/// stays connected 400 ms, so its line shows its own port, the server's,
/// and at least 400 ms.
#[test]
fn tcplife_example_prints_a_known_lifetime() {
    if !privileged("tcplife_example_prints_a_known_lifetime") {
        return;
    }
    let ns = TestNetns::new();
    let p = port(4);
    let (child, out) = spawn_tool("tcplife", &["--port", &p.to_string(), "--count", "3"]);
    let client_port = Netns::named(ns.name())
        .run(|| {
            let l = TcpListener::bind(("127.0.0.1", p)).unwrap();
            let c = TcpStream::connect(("127.0.0.1", p)).unwrap();
            let (s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(400));
            let port = c.local_addr().unwrap().port();
            drop(c);
            drop(s);
            drop(l);
            port
        })
        .unwrap();
    let rest = finish(child, out);
    // PID LADDR LPORT RADDR RPORT MS
    let client = rest
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|f| f.len() == 6 && f[2] == client_port.to_string())
        .unwrap_or_else(|| panic!("no line for the client port {client_port}:\n{rest}"));
    assert_eq!(
        (client[1], client[3], client[4]),
        ("127.0.0.1", "127.0.0.1", p.to_string().as_str())
    );
    let ms: f64 = client[5].parse().unwrap();
    assert!((400.0..60_000.0).contains(&ms), "lifetime {ms} ms:\n{rest}");
}

/// tcpretrans's line for a retransmission forced by taking the peer's
/// link down: the flow's addresses and ports and the state.
#[test]
fn tcpretrans_example_prints_a_forced_retransmission() {
    if !privileged("tcpretrans_example_prints_a_forced_retransmission") {
        return;
    }
    let (ns, peer) = connected_pair("nbtra1", "nbtrb1", "10.77.10", 1);
    let p = port(5);
    let (child, out) = spawn_tool("tcpretrans", &["--port", &p.to_string(), "--count", "1"]);
    let listener = Netns::named(peer.name())
        .run(|| TcpListener::bind(("10.77.10.2", p)).unwrap())
        .unwrap();
    let mut c = Netns::named(ns.name())
        .run(|| TcpStream::connect(("10.77.10.2", p)).unwrap())
        .unwrap();
    let (_s, _) = listener.accept().unwrap();
    let local = c.local_addr().unwrap().port();
    peer.ip(&["link", "set", "nbtrb1", "down"]);
    c.write_all(b"lost in transit").unwrap();
    let rest = finish(child, out);
    let line = rest.lines().next().unwrap_or_else(|| panic!("no retransmission line"));
    let f: Vec<&str> = line.split_whitespace().collect();
    // TIME PID IP LADDR:LPORT R> RADDR:RPORT STATE
    assert_eq!(
        f[2..],
        [
            "4",
            &format!("10.77.10.1:{local}"),
            "R>",
            &format!("10.77.10.2:{p}"),
            "ESTABLISHED"
        ],
        "{line}"
    );
}

/// tcpdrop's line for a segment the receiving socket drops (zero-window
/// probes behind a receiver that never reads): the flow and its state and
/// a TCP reason. Without rx_sk (6.1) the example says it cannot join and
/// shows the drop without its connection.
#[test]
fn tcpdrop_example_prints_the_drop_with_its_flow() {
    if !privileged("tcpdrop_example_prints_the_drop_with_its_flow") {
        return;
    }
    let t = Tracefs::find_or_mount().unwrap();
    let joins = t.event_format("skb", "kfree_skb").unwrap().field("rx_sk").is_some();
    let ns = TestNetns::new();
    let p = port(6);
    let args = if joins {
        vec!["--port".to_string(), p.to_string(), "--count".into(), "1".into()]
    } else {
        vec!["--count".into(), "1".into()]
    };
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (mut child, out) = spawn_tool("tcpdrop", &args);
    let mut stderr = child.stderr.take().unwrap();
    let _ = zero_window_probes(&ns, p);
    let rest = finish(child, out);
    let mut err = String::new();
    stderr.read_to_string(&mut err).unwrap();
    let line = rest
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no drop line; stderr: {err}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    // TIME PID IP SADDR:SPORT > DADDR:DPORT STATE REASON LOCATION
    if joins {
        assert_eq!(f[2], "4", "{line}");
        assert!(
            f[3] == format!("127.0.0.1:{p}") || f[5] == format!("127.0.0.1:{p}"),
            "{line}"
        );
        assert_eq!(f[6], "ESTABLISHED", "{line}");
        assert!(f[7].starts_with("TCP_"), "{line}");
    } else {
        assert!(err.contains("without their connection"), "{err}");
        assert_eq!((f[3], f[5]), ("?", "?"), "{line}");
        eprintln!("tcpdrop without rx_sk: {line}");
    }
}
