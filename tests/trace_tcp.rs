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
    let e = mon.enable_tcp_flows().unwrap_err();
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
    mon.enable_tcp_flows().unwrap();
    // A receiver that never reads behind a tiny receive buffer: the window
    // closes and the sender's zero-window probes (old sequence numbers)
    // are dropped by the receiving socket.
    Netns::named(ns.name())
        .run(|| {
            let l = TcpListener::bind(("127.0.0.1", p)).unwrap();
            let c = TcpStream::connect(("127.0.0.1", p)).unwrap();
            let (_s, _) = l.accept().unwrap();
            c.set_nonblocking(true).unwrap();
            let start = Instant::now();
            let mut c = c;
            while start.elapsed() < Duration::from_millis(2500) {
                if c.write(&[0u8; 65536]).is_err() {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        })
        .unwrap();
    let (drop, tcp) = first_joined_drop(&mut mon, p);
    assert_eq!(drop.rx_sk, tcp.flow.skaddr);
    assert_eq!(tcp.flow.saddr.to_string(), "127.0.0.1");
    assert_eq!(mon.tcp_decoder().unwrap().state_name(tcp.state.unwrap()), "ESTABLISHED");
    let reason = mon.kfree_skb().reason_name(drop.reason).unwrap();
    eprintln!("receiver dropped a segment: {reason}");
    assert!(reason.starts_with("TCP_"), "{reason}");
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
    mon.enable_tcp_flows_in(&[Netns::named(ns.name())]).unwrap();
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
