//! netobs-sockdiag against the real kernel, in throw-away namespaces.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};

use netobs_core::Netns;
use netobs_sockdiag::filter::{Expr, SockKey};
use netobs_sockdiag::inet_diag::{Extensions, Family, InetRequest, Proto, States, TcpState};
use netobs_sockdiag::unix_diag::UnixShow;
use netobs_sockdiag::{bytecode, counters, filter, SockDiag};
use netobs_testsupport::{privileged, TestNetns};
use proptest::prelude::*;

/// TCP and UDP sockets in a fresh namespace, created from a thread inside it.
struct World {
    ns: TestNetns,
    _keep: (Vec<TcpListener>, Vec<TcpStream>, Vec<UdpSocket>),
}

fn world(conns: usize) -> World {
    let ns = TestNetns::new();
    let netns = Netns::named(ns.name());
    let keep = netns
        .run(move || {
            let mut ls = Vec::new();
            let mut ss = Vec::new();
            for port in [7000u16, 7001, 8080] {
                ls.push(TcpListener::bind(("127.0.0.1", port)).unwrap());
            }
            ls.push(TcpListener::bind(("::1", 7443)).unwrap());
            for i in 0..conns {
                let l = &ls[i % ls.len()];
                let c = TcpStream::connect(l.local_addr().unwrap()).unwrap();
                let (a, _) = l.accept().unwrap();
                ss.push(c);
                ss.push(a);
            }
            let u = UdpSocket::bind("127.0.0.1:5353").unwrap();
            let uc = UdpSocket::bind("127.0.0.1:0").unwrap();
            uc.connect("127.0.0.1:5353").unwrap();
            (ls, ss, vec![u, uc])
        })
        .unwrap();
    World { ns, _keep: keep }
}

/// `(src, sport, dst, dport)` of every TCP socket the kernel answers with.
fn dump(diag: &mut SockDiag, bc: Option<&[u8]>) -> Vec<(IpAddr, u16, IpAddr, u16, SockKey)> {
    let mut v = Vec::new();
    for family in [Family::Inet, Family::Inet6] {
        let mut req = InetRequest::new(family, Proto::Tcp, States::ALL);
        req.bytecode = bc;
        diag.for_each_inet(&req, |s| {
            v.push((s.src(), s.sport(), s.dst(), s.dport(), SockKey::of(s)))
        })
        .unwrap();
    }
    v.sort_by_key(|x| (x.0, x.1, x.2, x.3));
    v
}

#[test]
fn sockets_in_a_namespace_with_tcp_info() {
    if !privileged("sockets_in_a_namespace_with_tcp_info") {
        return;
    }
    let w = world(3);
    let mut diag = SockDiag::open_in(&Netns::named(w.ns.name())).unwrap();
    let mut req = InetRequest::new(Family::Inet, Proto::Tcp, States::ALL);
    req.ext = Extensions::INFO | Extensions::CONG | Extensions::SKMEMINFO | Extensions::MEMINFO;
    let (mut listen, mut estab) = (0, 0);
    diag.for_each_inet(&req, |s| {
        assert_eq!(s.family(), libc::AF_INET as u8);
        let info = s.tcp_info().expect("INET_DIAG_INFO asked for");
        assert_eq!(info.state(), Some(s.state_raw()));
        assert!(info.bytes().len() >= 232, "tcp_info of {} bytes", info.bytes().len());
        assert!(s.congestion().is_some());
        assert!(s.skmeminfo().unwrap().rcvbuf > 0);
        assert!(s.inode() != 0);
        match s.state() {
            Some(TcpState::Listen) => {
                listen += 1;
                assert_eq!(s.dst(), IpAddr::from([0, 0, 0, 0]));
            }
            Some(TcpState::Established) => {
                estab += 1;
                assert!(info.rtt().unwrap() > 0);
                assert!(info.snd_cwnd().unwrap() > 0);
                assert!(info.snd_mss().unwrap() > 0);
            }
            other => panic!("unexpected state {other:?}"),
        }
    })
    .unwrap();
    assert_eq!((listen, estab), (3, 6));
    // The caller's own namespace does not see them.
    let mut here = SockDiag::open().unwrap();
    let mut n = 0;
    here.for_each_inet(&InetRequest::new(Family::Inet, Proto::Tcp, States::ALL), |s| {
        if s.sport() == 7000 || s.sport() == 7001 {
            n += 1;
        }
    })
    .unwrap();
    assert_eq!(n, 0);
    // UDP: one bound (CLOSE), one connected (ESTABLISHED).
    let mut udp = Vec::new();
    diag.for_each_inet(&InetRequest::new(Family::Inet, Proto::Udp, States::ALL), |s| {
        udp.push((s.state(), s.sport()))
    })
    .unwrap();
    udp.sort();
    assert_eq!(udp.len(), 2);
    assert!(udp.contains(&(Some(TcpState::Close), 5353)));
    assert!(udp.iter().any(|u| u.0 == Some(TcpState::Established)));
}

#[test]
fn state_mask_is_applied_by_the_kernel() {
    if !privileged("state_mask_is_applied_by_the_kernel") {
        return;
    }
    let w = world(2);
    let mut diag = SockDiag::open_in(&Netns::named(w.ns.name())).unwrap();
    let mut states = Vec::new();
    let req = InetRequest::new(Family::Inet, Proto::Tcp, States::only(TcpState::Listen));
    diag.for_each_inet(&req, |s| states.push(s.state())).unwrap();
    assert_eq!(states, vec![Some(TcpState::Listen); 3]);
}

/// Sockets made by a Python child once it is in a cgroup v2 group (a
/// socket's cgroup is its creator's at creation, `sk_alloc` in
/// net/core/sock.c): role `a` makes a listener bound to device `d0` with
/// mark 7 and a client explicitly bound to 127.0.0.1:40001 with mark 3;
/// role `b` a listener with mark 5 and a client bound to `lo` with mark
/// 0xff00 that it accepts.
const MARKED: &str = r#"
import socket, sys
keep = []
sys.stdin.readline()  # moved into its cgroup
def sock(mark, dev=None):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, 36, mark)  # SO_MARK
    if dev: s.setsockopt(socket.SOL_SOCKET, 25, dev.encode())  # SO_BINDTODEVICE
    keep.append(s); return s
if sys.argv[1] == "a":
    l = sock(7, "d0"); l.bind(("10.7.0.1", 9000)); l.listen(4)
    c = sock(3); c.bind(("127.0.0.1", 40001)); c.connect(("127.0.0.1", 7000))
else:
    l = sock(5); l.bind(("127.0.0.1", 9001)); l.listen(4)
    c = sock(0xff00, "lo"); c.connect(("127.0.0.1", 9001)); a, _ = l.accept(); keep.append(a)
print("ready", flush=True)
sys.stdin.read()
"#;

/// `world(6)` plus a veth device `d0` (peer `d1`) and the sockets of two [`MARKED`]
/// children, each in its own new cgroup v2 group (cgroup2 is mounted for
/// the test where it is not). Removed again on drop.
struct GroupedWorld {
    base: World,
    children: Vec<std::process::Child>,
    groups: Vec<String>,
    mounted: Option<String>,
    d0: u32,
}

impl Drop for GroupedWorld {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for g in &self.groups {
            let _ = std::fs::remove_dir(g);
        }
        if let Some(m) = &self.mounted {
            let _ = std::process::Command::new("umount").arg(m).status();
            let _ = std::fs::remove_dir(m);
        }
    }
}

fn grouped_world() -> GroupedWorld {
    use std::io::BufRead;
    let base = world(6);
    base.ns.veth("d0", "d1", Some("10.7.0.1/24"), None);
    // "IFINDEX: d0@d1: <...": /sys is the caller's, not the namespace's
    let d0 = base.ns.ip(&["-o", "link", "show", "d0"]);
    let d0 = d0.split(':').next().unwrap().trim().parse().unwrap();
    let mut w = GroupedWorld {
        base,
        children: Vec::new(),
        groups: Vec::new(),
        mounted: None,
        d0,
    };
    let mount = match netobs_sockdiag::cgroup::mount() {
        Some(m) => m,
        None => {
            let dir = std::env::temp_dir().join(format!("netobs-cgroup2-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let dir = dir.to_str().unwrap().to_string();
            let st = std::process::Command::new("mount")
                .args(["-t", "cgroup2", "none", &dir])
                .status()
                .unwrap();
            assert!(st.success(), "mount -t cgroup2 none {dir}");
            w.mounted = Some(dir.clone());
            dir
        }
    };
    for role in ["a", "b"] {
        let group = format!("{mount}/netobs-bc-{}-{role}", std::process::id());
        std::fs::create_dir_all(&group).unwrap();
        w.groups.push(group.clone());
        // The test moves the child (`ip netns exec` mounts its own /sys,
        // hiding a cgroup2 mount there), then lets it make its sockets.
        let mut child = w
            .base
            .ns
            .command("python3")
            .args(["-c", MARKED, role])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::fs::write(format!("{group}/cgroup.procs"), child.id().to_string()).unwrap();
        child.stdin.as_mut().unwrap().write_all(b"go\n").unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        w.children.push(child);
        assert_eq!(line.trim(), "ready", "the {role} child did not start");
    }
    w
}

/// Leaves over the world of [`grouped_world`]: ports, addresses, both
/// devices, marks with and without masks, both new cgroups and the
/// test's own (`=` and `!=`), and autobound.
fn arb_leaf(d0: u32, cgroups: Vec<String>) -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![7000u16, 7001, 8080, 7443, 9000, 9001, 40001, 1])
            .prop_map(|p| format!("sport = :{p}")),
        prop::sample::select(vec![7000u16, 7001, 8080, 7443, 9001, 40001]).prop_map(|p| format!("dport = :{p}")),
        (0u16..65535).prop_map(|p| format!("sport > :{p}")),
        (0u16..65535).prop_map(|p| format!("dport <= :{p}")),
        (0u16..65535).prop_map(|p| format!("sport >= :{p}")),
        (0u16..65535).prop_map(|p| format!("dport < :{p}")),
        prop::sample::select(vec![
            "dst 127.0.0.1",
            "src 127.0.0.0/8",
            "src [::1]",
            "dst ::1/128",
            "src 10.0.0.0/8",
            "src 10.7.0.1",
            "dst 0.0.0.0/0",
            "src 127.0.0.1:7000",
            "dst *:7001",
            "autobound",
        ])
        .prop_map(str::to_string),
        (prop::sample::select(vec![0u32, 1, 2, d0]), any::<bool>())
            .prop_map(|(i, eq)| format!("dev {} {i}", if eq { "=" } else { "!=" })),
        (
            prop::sample::select(vec![0u32, 3, 5, 7, 0xff00, 0x1ff00]),
            prop::sample::select(vec![None, Some(0u32), Some(1), Some(0xf), Some(0xff00), Some(u32::MAX)]),
        )
            .prop_map(|(m, mask)| match mask {
                Some(k) => format!("fwmark {m:#x}/{k:#x}"),
                None => format!("fwmark {m}"),
            }),
        (prop::sample::select(cgroups), any::<bool>())
            .prop_map(|(g, eq)| format!("cgroup {} {g}", if eq { "=" } else { "!=" })),
    ]
}

fn arb_expr(d0: u32, cgroups: Vec<String>) -> impl Strategy<Value = String> {
    arb_leaf(d0, cgroups).prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("( {a} and {b} )")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("( {a} or {b} )")),
            inner.clone().prop_map(|a| format!("not {a}")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} {b}")),
        ]
    })
}

/// Every expression the generator makes compiles to a program the kernel's
/// auditor accepts, and the kernel keeps exactly the sockets the
/// expression tree accepts in user space (and our bytecode interpreter
/// agrees). `autobound` is not in a sock_diag answer, so its truth comes
/// from how the world made each socket: listeners and the client bound to
/// port 40001 chose their ports, every other socket is autobound (accepted
/// ones too: `sk_clone_lock` clears SOCK_BINDPORT_LOCK).
#[test]
fn kernel_filtering_equals_user_space_evaluation() {
    if !privileged("kernel_filtering_equals_user_space_evaluation") {
        return;
    }
    let w = grouped_world();
    let diag = std::cell::RefCell::new(SockDiag::open_in(&Netns::named(w.base.ns.name())).unwrap());
    let mut all = dump(&mut diag.borrow_mut(), None);
    for x in &mut all {
        x.4.autobound = x.3 != 0 && x.1 != 40001;
    }
    // The world holds what the generator asks about, so no leaf is
    // vacuous: both groups, every mark, both devices, both autobound values.
    let group_ids: Vec<u64> = w.groups.iter().map(|g| std::fs::metadata(g).unwrap().ino()).collect();
    for id in &group_ids {
        assert!(
            all.iter().any(|x| x.4.cgroup == *id),
            "no socket in cgroup {id}: {all:?}"
        );
    }
    for mark in [3u32, 5, 7, 0xff00] {
        assert!(all.iter().any(|x| x.4.mark == mark), "no socket with mark {mark:#x}");
    }
    assert!(all.iter().any(|x| x.4.ifindex == w.d0) && all.iter().any(|x| x.4.ifindex == 1));
    assert!(all.iter().any(|x| x.4.autobound) && all.iter().any(|x| !x.4.autobound && x.3 != 0));
    assert!(all.len() >= 20, "{}", all.len());
    let own = std::fs::read_to_string("/proc/self/cgroup")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("0::").map(str::to_string))
        .unwrap_or_else(|| "/".into());
    let mut cgroups: Vec<String> = w.groups.clone();
    cgroups.push(own);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 400,
        ..ProptestConfig::default()
    });
    runner
        .run(&arb_expr(w.d0, cgroups), |text| {
            let e: Expr = filter::parse(&text).unwrap().unwrap();
            let bc = bytecode::compile(&e);
            bytecode::audit(&bc, true).unwrap();
            let got = dump(&mut diag.borrow_mut(), Some(&bc));
            let want: Vec<_> = all.iter().filter(|x| e.matches(&x.4.into())).cloned().collect();
            prop_assert_eq!(got.len(), want.len(), "{} ({} bytes of bytecode)", text, bc.len());
            for (g, k) in got.iter().zip(&want) {
                prop_assert_eq!((g.0, g.1, g.2, g.3), (k.0, k.1, k.2, k.3));
            }
            // Our interpreter agrees with the kernel too.
            for x in &all {
                prop_assert_eq!(bytecode::run(&bc, &x.4), e.matches(&x.4.into()), "{}", text);
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn bad_bytecode_is_refused_with_einval() {
    if !privileged("bad_bytecode_is_refused_with_einval") {
        return;
    }
    let w = world(1);
    let mut diag = SockDiag::open_in(&Netns::named(w.ns.name())).unwrap();
    // S_GE whose 'no' jumps backwards: the kernel's auditor refuses it.
    let bad = [bytecode::op::S_GE, 8, 0, 0, 0, 0, 22, 0];
    assert!(bytecode::audit(&bad, true).is_err());
    let mut req = InetRequest::new(Family::Inet, Proto::Tcp, States::ALL);
    req.bytecode = Some(&bad);
    let err = diag.for_each_inet(&req, |_| {}).unwrap_err();
    assert_eq!(err.errno(), Some(libc::EINVAL), "{err}");
    // The socket stays usable.
    diag.for_each_inet(&InetRequest::new(Family::Inet, Proto::Tcp, States::ALL), |_| {})
        .unwrap();
}

#[test]
fn destroy_closes_the_socket_for_its_owner() {
    if !privileged("destroy_closes_the_socket_for_its_owner") {
        return;
    }
    let ns = TestNetns::new();
    let netns = Netns::named(ns.name());
    let (mut client, server, listener) = netns
        .run(|| {
            let l = TcpListener::bind("127.0.0.1:7100").unwrap();
            let c = TcpStream::connect("127.0.0.1:7100").unwrap();
            let (s, _) = l.accept().unwrap();
            (c, s, l)
        })
        .unwrap();
    let cport = client.local_addr().unwrap().port();
    let mut diag = SockDiag::open_in(&netns).unwrap();
    let mut killer = SockDiag::open_in(&netns).unwrap();
    let expr = filter::parse(&format!("sport = :{cport}")).unwrap().unwrap();
    let bc = bytecode::compile(&expr);
    let mut req = InetRequest::new(Family::Inet, Proto::Tcp, States::ALL);
    req.bytecode = Some(&bc);
    let mut killed = 0;
    diag.for_each_inet(&req, |s| {
        killer.destroy(Proto::Tcp, s).unwrap();
        killed += 1;
    })
    .unwrap();
    assert_eq!(killed, 1);
    let mut buf = [0u8; 1];
    let e = client.read(&mut buf).unwrap_err();
    assert_eq!(e.raw_os_error(), Some(libc::ECONNABORTED), "{e}");
    drop((server, listener));
}

#[test]
fn unix_packet_and_netlink_sockets() {
    if !privileged("unix_packet_and_netlink_sockets") {
        return;
    }
    let ns = TestNetns::new();
    let netns = Netns::named(ns.name());
    let dir = std::env::temp_dir().join(format!("netobs-unix-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("l.sock");
    let p2 = path.clone();
    let (l, c, a, pair, dg) = netns
        .run(move || {
            let l = UnixListener::bind(&p2).unwrap();
            let c = UnixStream::connect(&p2).unwrap();
            let (a, _) = l.accept().unwrap();
            let pair = UnixStream::pair().unwrap();
            let dg = UnixDatagram::unbound().unwrap();
            (l, c, a, pair, dg)
        })
        .unwrap();
    let ino = |fd: &dyn std::os::fd::AsRawFd| {
        std::fs::metadata(format!("/proc/self/fd/{}", fd.as_raw_fd()))
            .unwrap()
            .ino() as u32
    };
    let (li, ci, ai) = (ino(&l), ino(&c), ino(&a));
    let mut diag = SockDiag::open_in(&netns).unwrap();
    let mut seen = Vec::new();
    diag.for_each_unix(
        States::ALL,
        UnixShow::NAME | UnixShow::PEER | UnixShow::RQLEN | UnixShow::VFS,
        |s| {
            seen.push((
                s.inode(),
                s.kind(),
                s.state(),
                s.name().map(<[u8]>::to_vec),
                s.peer(),
                s.vfs(),
            ))
        },
    )
    .unwrap();
    let find = |i: u32| {
        seen.iter()
            .find(|s| s.0 == i)
            .cloned()
            .unwrap_or_else(|| panic!("inode {i} missing"))
    };
    let lst = find(li);
    assert_eq!(lst.2, TcpState::Listen as u8);
    assert_eq!(lst.3.as_deref(), Some(path.to_str().unwrap().as_bytes()));
    assert!(lst.5.is_some(), "a filesystem name has a vfs inode");
    assert_eq!(find(ci).4, Some(ai));
    assert_eq!(find(ai).4, Some(ci));
    assert_eq!(seen.len(), 6, "{seen:?}");
    drop((l, c, a, pair, dg));
    let _ = std::fs::remove_dir_all(&dir);

    // Our own sock_diag socket shows up in netlink_diag (protocol 4).
    let mut nl = Vec::new();
    diag.for_each_netlink(
        netobs_sockdiag::netlink_diag::NDIAG_PROTO_ALL,
        netobs_sockdiag::netlink_diag::NetlinkShow::GROUPS,
        |s| nl.push((s.protocol(), s.portid())),
    )
    .unwrap();
    assert!(nl.iter().any(|&(p, _)| p == libc::NETLINK_SOCK_DIAG as u8), "{nl:?}");
    // No packet sockets in a fresh namespace; the dump still works.
    let mut n = 0;
    diag.for_each_packet(netobs_sockdiag::packet_diag::PacketShow::INFO, |_| n += 1)
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn counters_move_with_traffic() {
    if !privileged("counters_move_with_traffic") {
        return;
    }
    let ns = TestNetns::new();
    let netns = Netns::named(ns.name());
    let before = counters::read_in(&netns).unwrap();
    netns
        .run(|| {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr: SocketAddr = l.local_addr().unwrap();
            for _ in 0..5 {
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(b"hi").unwrap();
                let _ = l.accept().unwrap();
            }
        })
        .unwrap();
    let after = counters::read_in(&netns).unwrap();
    let d = after.delta(&before);
    assert_eq!(d.get("TcpActiveOpens"), Some(5));
    assert_eq!(d.get("TcpPassiveOpens"), Some(5));
    let st = counters::SockStat::read_in(&netns).unwrap();
    assert!(st.get("TCP", "inuse").is_some());
}

#[test]
fn unknown_namespace_is_a_clear_error() {
    let e = SockDiag::open_in(&Netns::named("netobs-no-such-namespace")).unwrap_err();
    assert!(e.to_string().contains("netobs-no-such-namespace"), "{e}");
}

/// The three pipelines of a query (sequential, parallel, with owners) list
/// the same sockets in the same order, with the filter applied to every
/// family.
#[test]
fn query_pipelines_agree() {
    use netobs_sockdiag::query::{Pipeline, Query, SocketRecord, Table};
    if !privileged("query_pipelines_agree") {
        return;
    }
    let w = world(4);
    let netns = Netns::named(w.ns.name());
    let dir = std::env::temp_dir().join(format!("netobs-query-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("q.sock");
    let p2 = path.clone();
    let _unix = netns
        .run(move || {
            let l = UnixListener::bind(&p2).unwrap();
            let c = UnixStream::connect(&p2).unwrap();
            (l, c, UnixDatagram::unbound().unwrap())
        })
        .unwrap();
    let row = |r: &SocketRecord<'_>| format!("{} {} {:?} {:?} {}", r.netid, r.state, r.local, r.remote, r.inode);
    for filter in [None, Some("sport >= :7000"), Some("not src unix:*q.sock")] {
        let mut q = Query::new(&Table::ALL[1..]);
        q.states = States::ALL;
        q.filter = filter.map(|f| filter::parse(f).unwrap().unwrap());
        let mut sequential = Vec::new();
        q.run(&netns, Pipeline::Sequential, |r| sequential.push(row(r)))
            .unwrap();
        let mut parallel = Vec::new();
        q.run(&netns, Pipeline::Parallel { workers: 2 }, |r| parallel.push(row(r)))
            .unwrap();
        let mut owned = Vec::new();
        q.run_with_owners(&netns, |r, _| owned.push(row(r))).unwrap();
        assert_eq!(sequential, parallel, "{filter:?}");
        assert_eq!(sequential, owned, "{filter:?}");
        assert!(!sequential.is_empty(), "{filter:?}");
        if let Some(f) = filter {
            let e = filter::parse(f).unwrap().unwrap();
            let mut all = Query::new(&Table::ALL[1..]);
            all.states = States::ALL;
            let mut want = Vec::new();
            all.run(&netns, Pipeline::Sequential, |r| {
                if e.matches(&r.filter_key()) {
                    want.push(row(r));
                }
            })
            .unwrap();
            assert_eq!(
                sequential, want,
                "{f}: the kernel's bytecode and the user-space evaluator agree"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
