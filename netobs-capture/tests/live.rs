//! Live capture on a veth pair between two namespaces: our TPACKET_V3
//! ring against tcpdump on the same traffic, injected frames read back
//! byte for byte (VLAN tags the kernel stripped put back), the kernel's
//! verdicts for attached programs against our interpreter's, statistics
//! that survive the kernel's reset-on-read, and fanout.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use netobs_capture::bpf::{self, Metadata, Program};
use netobs_capture::wire::{build_frame, MacAddr};
use netobs_capture::{Capture, CaptureConfig, Direction, Fanout, PacketSender};
use netobs_core::netns::Netns;
use netobs_testsupport::{privileged, TestNetns};

const A_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0a]);
const B_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0x0b]);

/// Namespaces `a` and `b` joined by veth `va` / `vb` (10.77.0.1/2), IPv6 off.
fn world() -> (TestNetns, TestNetns) {
    let a = TestNetns::new();
    let b = TestNetns::new();
    a.quiet_ipv6();
    b.quiet_ipv6();
    a.veth_to("va", &b, "vb", Some("10.77.0.1/24"), Some("10.77.0.2/24"));
    a.ip(&["link", "set", "va", "address", &A_MAC.to_string()]);
    b.ip(&["link", "set", "vb", "address", &B_MAC.to_string()]);
    (a, b)
}

/// Every packet the capture sees until `idle` passes without one.
fn collect(cap: &mut Capture, idle: Duration) -> Vec<(Vec<u8>, Metadata, u8)> {
    let mut out = Vec::new();
    while let Some(mut block) = cap.next_block(Some(idle)).unwrap() {
        for p in block.packets() {
            out.push((p.data().to_vec(), p.metadata(), p.pkttype()));
        }
    }
    out
}

fn udp_frame(dst_port: u16, payload_len: usize) -> Vec<u8> {
    let total = 20 + 8 + payload_len;
    let mut ip = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, 1, 0x40, 0, 64, 17, 0, 0];
    ip.extend_from_slice(&[10, 77, 0, 1, 10, 77, 0, 2]);
    ip.extend_from_slice(&4000u16.to_be_bytes());
    ip.extend_from_slice(&dst_port.to_be_bytes());
    ip.extend_from_slice(&((8 + payload_len) as u16).to_be_bytes());
    ip.extend_from_slice(&[0, 0]);
    ip.extend(std::iter::repeat_n(0x5a, payload_len));
    build_frame(B_MAC, A_MAC, 0x0800, &ip)
}

fn vlan_frame(id: u16, inner: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&B_MAC.0);
    f.extend_from_slice(&A_MAC.0);
    f.extend_from_slice(&0x8100u16.to_be_bytes());
    f.extend_from_slice(&((5 << 13) | id).to_be_bytes());
    f.extend_from_slice(&inner.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// The frames every filter test sends, in order.
fn mix() -> Vec<Vec<u8>> {
    vec![
        build_frame(B_MAC, A_MAC, 0x4321, b"netobs errframe payload, unknown ethertype"),
        udp_frame(5000, 10),
        udp_frame(5001, 300),
        udp_frame(53, 40),
        vlan_frame(10, 0x4321, &[0x11; 46]),
        vlan_frame(20, 0x0800, &udp_frame(5000, 10)[14..]),
        build_frame(
            MacAddr::BROADCAST,
            A_MAC,
            0x0806,
            &[
                0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0xa, 10, 77, 0, 1, 0, 0, 0, 0, 0, 0, 10, 77, 0, 2,
            ],
        ),
    ]
}

/// What the kernel's filter sees of a frame: the tag stripped into
/// metadata (veth passes the tag to the stack, which untags it).
fn kernel_view(frame: &[u8]) -> (Vec<u8>, Metadata) {
    let mut meta = Metadata {
        protocol: u16::from_be_bytes([frame[12], frame[13]]),
        net_offset: 14,
        ..Metadata::default()
    };
    if meta.protocol == 0x8100 {
        let tci = u16::from_be_bytes([frame[14], frame[15]]);
        meta.vlan_tci = Some(tci);
        meta.vlan_tpid = 0x8100;
        meta.protocol = u16::from_be_bytes([frame[16], frame[17]]);
        let mut f = frame[..12].to_vec();
        f.extend_from_slice(&frame[16..]);
        return (f, meta);
    }
    (frame.to_vec(), meta)
}

/// Opens `cfg` on `vb` (incoming only), sends `frames` from `va`, and
/// returns what the capture delivers.
fn capture_mix(a: &TestNetns, b: &TestNetns, frames: &[Vec<u8>], cfg: CaptureConfig) -> Vec<Vec<u8>> {
    let mut cap = cfg
        .interface("vb")
        .direction(Direction::In)
        .retire_timeout_ms(20)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    send_mix(a, frames);
    collect(&mut cap, Duration::from_millis(300))
        .into_iter()
        .map(|p| p.0)
        .collect()
}

fn send_mix(a: &TestNetns, frames: &[Vec<u8>]) {
    let tx = PacketSender::open_in(&Netns::named(a.name()), "va").unwrap();
    for f in frames {
        tx.send(f).unwrap();
    }
}

#[test]
fn injected_frames_come_back_byte_for_byte_with_vlan_tags() {
    if !privileged("injected_frames_come_back_byte_for_byte_with_vlan_tags") {
        return;
    }
    let (a, b) = world();
    let filter = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, "not ip6 and not (ip and not udp)")).unwrap();
    let mut cap = CaptureConfig::new()
        .interface("vb")
        .filter(filter)
        .direction(Direction::In)
        .retire_timeout_ms(20)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    let frames = mix();
    send_mix(&a, &frames);
    let got: Vec<Vec<u8>> = collect(&mut cap, Duration::from_millis(300))
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(got, frames, "captured frames differ from the injected ones");
    let s = cap.stats().unwrap();
    assert_eq!((s.packets, s.drops), (frames.len() as u64, 0));
    // The kernel resets its counters on read; ours keep the total.
    assert_eq!(cap.stats().unwrap().packets, frames.len() as u64);
}

/// libpcap's live program for `expr` on interface `ifname` of `ns`.
fn tcpdump_ddd(flag: &str, ifname: &str, ns: &TestNetns, expr: &str) -> String {
    let out = ns.exec("tcpdump", &[flag, ifname, "-ddd", expr]);
    assert!(out.status.success(), "{expr}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn kernel_passes_exactly_what_the_interpreter_accepts() {
    if !privileged("kernel_passes_exactly_what_the_interpreter_accepts") {
        return;
    }
    let (a, b) = world();
    let frames = mix();
    for expr in [
        "udp port 5000",
        "ether proto 0x4321",
        "vlan 10",
        "vlan and udp",
        "len > 100",
        "arp or udp dst port 53",
        "ether broadcast",
        "udp[8] = 0x5a",
    ] {
        let libpcap = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, expr)).unwrap();
        // Our compiler emits offline code (VLAN tags read from the bytes),
        // which the kernel cannot see once it has stripped the tag; for the
        // untagged expressions our program is attached too.
        let mut programs = vec![libpcap];
        if !expr.contains("vlan") {
            programs
                .push(netobs_capture::filter::compile(expr, netobs_capture::file::linktype::ETHERNET, 262144).unwrap());
        }
        for prog in programs {
            let got = capture_mix(&a, &b, &frames, CaptureConfig::new().filter(prog.clone()));
            let want: Vec<Vec<u8>> = frames
                .iter()
                .filter(|f| {
                    let (data, meta) = kernel_view(f);
                    bpf::run(&prog.insns, &data, data.len() as u32, &meta) != 0
                })
                .cloned()
                .collect();
            assert!(
                !want.is_empty() || expr == "none",
                "{expr}: interpreter accepts nothing"
            );
            assert_eq!(got, want, "{expr}: kernel and interpreter disagree");
        }
    }
}

/// Offline-mode programs (our compiler's) see VLAN tags only after the
/// tag is put back: run in user space they give, on live traffic, the
/// verdicts the interpreter gives on the frames as sent. (As in libpcap,
/// `vlan` shifts the offsets of what follows it: `udp and not vlan`, not
/// `not vlan and udp`.)
#[test]
fn userspace_filter_sees_reinserted_vlan_tags() {
    if !privileged("userspace_filter_sees_reinserted_vlan_tags") {
        return;
    }
    let (a, b) = world();
    let frames = mix();
    for expr in [
        "vlan 10",
        "vlan and udp port 5000",
        "udp and not vlan",
        "ether proto 0x4321 or vlan",
    ] {
        let prog = netobs_capture::filter::compile(expr, netobs_capture::file::linktype::ETHERNET, 262144).unwrap();
        let got = capture_mix(&a, &b, &frames, CaptureConfig::new().userspace_filter(prog.clone()));
        let want: Vec<Vec<u8>> = frames
            .iter()
            .filter(|f| bpf::run(&prog.insns, f, f.len() as u32, &Metadata::default()) != 0)
            .cloned()
            .collect();
        assert!(!want.is_empty(), "{expr}");
        assert_eq!(got, want, "{expr}");
    }
}

#[test]
fn set_filter_never_leaks_old_packets() {
    if !privileged("set_filter_never_leaks_old_packets") {
        return;
    }
    let (a, b) = world();
    // Start accepting everything, let frames sit in the ring, then switch
    // to a filter that rejects them: none may come out.
    let mut cap = CaptureConfig::new()
        .interface("vb")
        .direction(Direction::In)
        .retire_timeout_ms(1000)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    send_mix(&a, &mix());
    let only_4321 = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, "ether proto 0x4321 and not vlan")).unwrap();
    cap.set_filter(&only_4321).unwrap();
    let got = collect(&mut cap, Duration::from_millis(1500));
    assert_eq!(got.len(), 1, "only the one untagged 0x4321 frame may pass");
    assert_eq!(u16::from_be_bytes([got[0].0[12], got[0].0[13]]), 0x4321);
}

#[test]
fn same_count_as_tcpdump_for_ping_traffic() {
    if !privileged("same_count_as_tcpdump_for_ping_traffic") {
        return;
    }
    let (a, b) = world();
    let pcap = std::env::temp_dir().join(format!("netobs-live-{}.pcap", std::process::id()));
    let mut tcpdump = Command::new("ip")
        .args(["netns", "exec", b.name(), "tcpdump", "-i", "vb", "-n", "-U", "-w"])
        .arg(&pcap)
        .arg("icmp")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let prog = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, "icmp")).unwrap();
    let mut cap = CaptureConfig::new()
        .interface("vb")
        .filter(prog)
        .retire_timeout_ms(20)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    // Wait until tcpdump has written its file header (it is listening).
    let start = Instant::now();
    while std::fs::metadata(&pcap).map_or(0, |m| m.len()) < 24 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    // Read while the traffic flows: a ring of 4 blocks retired every 20 ms
    // would otherwise fill up and drop.
    let ours = std::thread::scope(|s| {
        s.spawn(|| a.ping("10.77.0.2", 20));
        collect(&mut cap, Duration::from_millis(1500))
    });
    let _ = Command::new("kill").args(["-INT", &tcpdump.id().to_string()]).status();
    let _ = tcpdump.wait();
    let bytes = std::fs::read(&pcap).unwrap();
    let _ = std::fs::remove_file(&pcap);
    let mut r = netobs_capture::file::CaptureReader::new(std::io::Cursor::new(bytes)).unwrap();
    let mut theirs = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        theirs.push(rec.data.to_vec());
    }
    assert_eq!(theirs.len(), 40, "tcpdump saw 20 requests and 20 replies");
    let ours: Vec<Vec<u8>> = ours.into_iter().map(|p| p.0).collect();
    assert_eq!(ours, theirs, "same packets, same bytes, same order as tcpdump");
}

#[test]
fn direction_and_fanout() {
    if !privileged("direction_and_fanout") {
        return;
    }
    let (a, b) = world();
    let ns = Netns::named(b.name());
    let icmp = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, "icmp")).unwrap();
    let open = |d: Direction| {
        CaptureConfig::new()
            .interface("vb")
            .direction(d)
            .filter(icmp.clone())
            .retire_timeout_ms(1000)
            .open_in(&ns)
            .unwrap()
    };
    let (mut inb, mut outb) = (open(Direction::In), open(Direction::Out));
    let lb = |_: ()| {
        CaptureConfig::new()
            .interface("vb")
            .filter(icmp.clone())
            .fanout(4242, Fanout::LoadBalance)
            .retire_timeout_ms(1000)
            .open_in(&ns)
            .unwrap()
    };
    let (mut f1, mut f2) = (lb(()), lb(()));
    // Ten pings 0.2 s apart with one-second retire timeouts: every packet
    // fits in the first block of each ring.
    a.exec("ping", &["-q", "-c", "10", "-i", "0.2", "10.77.0.2"]);
    let idle = Duration::from_millis(1500);
    let (i, o) = (collect(&mut inb, idle), collect(&mut outb, idle));
    assert_eq!((i.len(), o.len()), (10, 10));
    assert!(i.iter().all(|p| p.0[34] == 8), "incoming are echo requests");
    assert!(
        o.iter().all(|p| p.0[34] == 0 && p.2 == libc::PACKET_OUTGOING),
        "outgoing are replies"
    );
    let (n1, n2) = (collect(&mut f1, idle).len(), collect(&mut f2, idle).len());
    assert_eq!(n1 + n2, 20, "fanout splits, never duplicates or loses");
    assert!(n1 > 0 && n2 > 0, "round robin gives both sockets a share ({n1}/{n2})");
}

#[test]
fn promiscuous_mode_lasts_as_long_as_the_capture() {
    if !privileged("promiscuous_mode_lasts_as_long_as_the_capture") {
        return;
    }
    let (_a, b) = world();
    let promiscuity = || {
        let out = b.ip(&["-d", "link", "show", "vb"]);
        out.split_whitespace()
            .skip_while(|w| *w != "promiscuity")
            .nth(1)
            .unwrap_or("?")
            .to_string()
    };
    assert_eq!(promiscuity(), "0");
    let cap = CaptureConfig::new()
        .interface("vb")
        .promiscuous(true)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    assert_eq!(promiscuity(), "1");
    drop(cap);
    assert_eq!(promiscuity(), "0");
}

#[test]
fn tx_ring_sends_bulk_frames_in_order() {
    if !privileged("tx_ring_sends_bulk_frames_in_order") {
        return;
    }
    let (a, b) = world();
    let udp = bpf::parse_decimal(&tcpdump_ddd("-i", "vb", &b, "udp")).unwrap();
    let mut cap = CaptureConfig::new()
        .interface("vb")
        .filter(udp)
        .direction(Direction::In)
        .retire_timeout_ms(20)
        .open_in(&Netns::named(b.name()))
        .unwrap();
    // 3000 frames through a 256-slot ring: the sender waits for slots.
    let frames: Vec<Vec<u8>> = (0..3000u16).map(|i| udp_frame(i, 20 + (i % 50) as usize)).collect();
    let mut tx = netobs_capture::BulkSender::open_in(&Netns::named(a.name()), "va", 256).unwrap();
    let sent = std::thread::scope(|s| {
        let h = s.spawn(|| tx.send_all(frames.iter().map(|f| f.as_slice())).unwrap());
        let got: Vec<Vec<u8>> = collect(&mut cap, Duration::from_millis(500))
            .into_iter()
            .map(|p| p.0)
            .collect();
        (h.join().unwrap(), got)
    });
    assert_eq!(sent.0, 3000);
    assert_eq!(sent.1.len(), 3000, "captured {} of 3000", sent.1.len());
    assert!(sent.1 == frames, "frames differ or are out of order");
    assert_eq!(cap.stats().unwrap().drops, 0);
    // A frame larger than a slot is refused before it reaches the kernel.
    let e = tx.queue(&vec![0u8; 3000]).unwrap_err();
    assert!(e.to_string().contains("does not fit"), "{e}");
}

#[test]
fn interface_going_down_is_reported() {
    if !privileged("interface_going_down_is_reported") {
        return;
    }
    let (_a, b) = world();
    let mut cap = CaptureConfig::new()
        .interface("vb")
        .open_in(&Netns::named(b.name()))
        .unwrap();
    b.ip(&["link", "set", "vb", "down"]);
    // The kernel reports ENETDOWN on the socket (sk_err), which poll()
    // signals with POLLERR.
    let mut result = Ok(None);
    for _ in 0..10 {
        result = cap
            .next_block(Some(Duration::from_millis(200)))
            .map(|b| b.map(|b| b.index()));
        if result.is_err() {
            break;
        }
    }
    let e = result.expect_err("capture on a downed interface must fail");
    assert!(matches!(e, netobs_capture::Error::InterfaceDown(_)), "{e:?}");
    assert!(
        e.to_string().starts_with("interface went away or down during capture"),
        "{e}"
    );
}

#[test]
fn bad_input_gives_clear_errors() {
    let e = CaptureConfig::new().interface("nosuch0").open().unwrap_err();
    assert_eq!(e.to_string(), "interface \"nosuch0\" not found");
    let e = CaptureConfig::new().block_size(1000).open().unwrap_err();
    assert!(e.to_string().contains("multiple of the page size"), "{e}");
    let e = CaptureConfig::new().filter(Program::new(vec![])).open().unwrap_err();
    assert!(e.to_string().contains("invalid BPF program"), "{e}");
    let e = PacketSender::open("nosuch0").unwrap_err();
    assert_eq!(e.to_string(), "interface \"nosuch0\" not found");
}
