//! netobs-trace against the running kernel: private instances, events,
//! filters and their error_log text, refusals with exact errnos, format
//! files, binary ring pages, lost events and wake-ups. Drops are generated
//! with UDP datagrams to a closed port inside a private namespace; since
//! kfree_skb is global, assertions on counts only use our own port.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use netobs_core::netns::Netns;
use netobs_core::stop::Stop;
use netobs_testsupport::{privileged, TestNetns};
use netobs_trace::drops::{parse_kfree_skb_line, Backend};
use netobs_trace::error::Error;
use netobs_trace::net_dm::{NetDm, NetDmConfig};
use netobs_trace::{DropCounter, DropFilter, DropMonitor, Kallsyms, RawReader, TextReader, Tracefs};

fn tracefs() -> Tracefs {
    Tracefs::find_or_mount().expect("tracefs")
}

/// Sends `n` UDP datagrams to 127.0.0.1:`port` (nothing listens) inside `ns`:
/// each one is a kfree_skb with reason NO_SOCKET, protocol 0x0800.
fn udp_to_closed_port(ns: &TestNetns, port: u16, n: usize) {
    Netns::named(ns.name())
        .run(|| {
            let s = UdpSocket::bind("127.0.0.1:0").unwrap();
            for _ in 0..n {
                s.send_to(b"netobs", ("127.0.0.1", port)).unwrap();
            }
        })
        .unwrap();
}

/// IPv4 NO_SOCKET drops (inside `location` when given).
fn udp_no_socket(location: Option<&str>) -> DropFilter {
    DropFilter {
        protocol: Some(0x0800),
        reason: Some("NO_SOCKET".into()),
        location: location.map(str::to_owned),
        socket_only: false,
    }
}

/// A namespace for UDP traffic and a monitor of IPv4 NO_SOCKET drops
/// (inside `location` when given).
fn udp_drop_world(location: Option<&str>) -> (Tracefs, Kallsyms, TestNetns, DropMonitor) {
    let t = tracefs();
    let syms = Kallsyms::load().unwrap();
    let ns = TestNetns::new();
    let filter = udp_no_socket(location);
    let mon = DropMonitor::open(&t, &filter, Some(&syms)).unwrap();
    (t, syms, ns, mon)
}

#[test]
fn instance_is_private_configurable_and_removed_after_its_files() {
    if !privileged("instance_is_private_configurable_and_removed_after_its_files") {
        return;
    }
    let t = tracefs();
    let inst = t.private_instance("cfg").unwrap();
    let path = inst.path().to_owned();
    assert!(path.is_dir());
    assert!(inst.name().starts_with(&format!("netobs-{}-cfg-", std::process::id())));
    inst.set_buffer_size_kb(256).unwrap();
    // The kernel rounds up to whole sub-buffers (plus the reader page).
    let kb = inst.buffer_size_kb().unwrap();
    assert!((256..=272).contains(&kb), "buffer_size_kb {kb}");
    inst.set_trace_clock("mono").unwrap();
    assert_eq!(inst.trace_clock().unwrap(), "mono");
    inst.set_tracing_on(false).unwrap();
    assert!(!inst.tracing_on().unwrap());
    inst.set_buffer_percent(0).unwrap();
    assert_eq!(inst.read("buffer_percent").unwrap().trim(), "0");
    assert!(inst.subbuf_size_kb().unwrap() >= 4);
    // An unknown clock is refused with its errno.
    match inst.set_trace_clock("no-such-clock") {
        Err(Error::Refused { errno, .. }) => assert_eq!(errno, "EINVAL"),
        other => panic!("expected EINVAL refusal, got {other:?}"),
    }
    // A reader keeps the directory: rmdir would be EBUSY while its files are open.
    let reader = RawReader::open(&inst).unwrap();
    drop(inst);
    assert!(path.is_dir(), "instance removed while a reader has files open");
    drop(reader);
    assert!(!path.exists(), "instance left behind after the last handle");
}

#[test]
fn stale_instances_of_dead_processes_are_removed() {
    if !privileged("stale_instances_of_dead_processes_are_removed") {
        return;
    }
    let t = tracefs();
    // PIDs never exceed 2^22 on Linux: 999999999 is a dead process.
    let stale = t.root().join("instances/netobs-999999999-drops-0");
    std::fs::create_dir(&stale).unwrap();
    let inst = t.private_instance("stale").unwrap();
    assert!(!stale.exists(), "stale instance still there");
    assert!(inst.path().is_dir());
}

#[test]
fn rejected_filter_carries_error_log_text() {
    if !privileged("rejected_filter_carries_error_log_text") {
        return;
    }
    let t = tracefs();
    let inst = t.private_instance("filter").unwrap();
    let e = inst.enable_event("skb", "kfree_skb", Some("bogus == 3")).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, Error::Filter { .. }), "{e:?}");
    assert!(text.contains("Field not found"), "{text}");
    assert_eq!(e.errno(), Some(libc::EINVAL));
    // A good filter is taken and reads back.
    inst.enable_event("skb", "kfree_skb", Some("protocol == 0x4321"))
        .unwrap();
    assert!(inst
        .read("events/skb/kfree_skb/filter")
        .unwrap()
        .contains("protocol == 0x4321"));
    inst.disable_event("skb", "kfree_skb").unwrap();
    // An event that does not exist.
    let e = inst.enable_event("skb", "no_such_event", None).unwrap_err();
    assert!(matches!(e, Error::NoSuchEvent { .. }), "{e:?}");
    assert!(e.to_string().contains("skb:no_such_event does not exist"));
}

#[test]
fn function_tracer_ftrace_filter_and_kprobes_run_or_are_refused_precisely() {
    if !privileged("function_tracer_ftrace_filter_and_kprobes_run_or_are_refused_precisely") {
        return;
    }
    let t = tracefs();
    let inst = t.private_instance("ftrace").unwrap();
    match inst.set_tracer("function") {
        Ok(()) => {
            assert_eq!(inst.read("current_tracer").unwrap().trim(), "function");
            inst.set_tracer("nop").unwrap();
        }
        Err(e @ Error::Refused { .. }) => {
            eprintln!("{e}");
            assert!(
                e.to_string()
                    .starts_with("kernel refused the function tracer (EPERM): "),
                "{e}"
            );
            assert_eq!(e.errno(), Some(libc::EPERM));
            assert_eq!(inst.read("current_tracer").unwrap().trim(), "nop");
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
    match inst.set_tracer("function_graph") {
        Ok(()) => inst.set_tracer("nop").unwrap(),
        Err(Error::Unsupported { what, .. }) => assert_eq!(what, "tracer function_graph"),
        Err(Error::Refused { errno, .. }) => assert_eq!(errno, "EPERM"),
        Err(e) => panic!("unexpected {e:?}"),
    }
    match inst.set_ftrace_filter(&["tcp_v4_rcv"]) {
        Ok(()) => inst.set_ftrace_filter(&[]).unwrap(),
        Err(e @ Error::Refused { .. }) => {
            eprintln!("{e}");
            assert_eq!(e.errno(), Some(libc::EPERM));
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
    let group = format!("netobs_{}", std::process::id());
    match t.add_kprobe(&group, "rcv", "tcp_v4_rcv") {
        Ok(probe) => {
            inst.enable_event(&group, "rcv", None).unwrap();
            inst.disable_event(&group, "rcv").unwrap();
            drop(probe);
        }
        Err(e @ Error::Unsupported { .. }) => {
            eprintln!("{e}");
            assert!(e
                .to_string()
                .contains("kprobe events is not available (kernel built without CONFIG_KPROBE_EVENTS)"));
            assert!(!t.root().join("kprobe_events").exists());
        }
        Err(e) => panic!("unexpected {e:?}"),
    }
}

#[test]
fn every_network_event_format_parses() {
    if !privileged("every_network_event_format_parses") {
        return;
    }
    let t = tracefs();
    let mut n = 0;
    for (system, event) in t.available_events().unwrap() {
        if ![
            "skb", "net", "tcp", "sock", "napi", "udp", "neigh", "qdisc", "sched", "irq",
        ]
        .contains(&system.as_str())
        {
            continue;
        }
        let f = t
            .event_format(&system, &event)
            .unwrap_or_else(|e| panic!("{system}:{event}: {e}"));
        assert!(f.field("common_type").is_some(), "{system}:{event}");
        n += 1;
    }
    assert!(n > 50, "only {n} formats");
    let kfree = t.event_format("skb", "kfree_skb").unwrap();
    let reasons = kfree.symbols("reason").unwrap();
    assert!(reasons.value("UNHANDLED_PROTO").is_some());
    assert!(reasons.value("NO_SOCKET").is_some());
    let layout = t.page_layout().unwrap();
    assert!(layout.data_offset >= layout.commit_offset + layout.commit_size);
}

#[test]
fn udp_to_closed_port_is_a_no_socket_drop_in_raw_and_text_pipes() {
    if !privileged("udp_to_closed_port_is_a_no_socket_drop_in_raw_and_text_pipes") {
        return;
    }
    // Inside __udp4_lib_rcv only: TCP tests elsewhere make NO_SOCKET drops too.
    let (t, syms, ns, mut mon) = udp_drop_world(Some("__udp4_lib_rcv"));
    let text_inst = t.private_instance("text").unwrap();
    text_inst.enable_event("skb", "kfree_skb", mon.kernel_filter()).unwrap();
    let mut text = TextReader::open(&text_inst).unwrap();
    // The same drops once more through the monitor's text fallback.
    let mut text_mon = DropMonitor::open_text(
        &t,
        &DropFilter {
            protocol: Some(0x0800),
            reason: Some("NO_SOCKET".into()),
            location: Some("__udp4_lib_rcv".into()),
            socket_only: false,
        },
        Some(&syms),
    )
    .unwrap();
    assert_eq!(text_mon.backend(), netobs_trace::drops::Backend::TracepointText);
    assert_eq!(mon.backend(), netobs_trace::drops::Backend::Tracepoint);
    udp_to_closed_port(&ns, 9, 5);
    let mut raw = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while raw.len() < 5 && Instant::now() < deadline {
        mon.poll(Some(Duration::from_millis(200)), |d| raw.push(*d)).unwrap();
    }
    assert!(raw.len() >= 5, "{} drops", raw.len());
    for d in &raw {
        assert_eq!(mon.kfree_skb().reason_name(d.reason), Some("NO_SOCKET"));
        let loc = syms.lookup(d.location).expect("location symbolized");
        assert_eq!(loc.base_name(), "__udp4_lib_rcv", "{loc}");
    }
    let mut lines = Vec::new();
    while lines.len() < 5 && Instant::now() < deadline {
        text.read(Some(Duration::from_millis(200)), |l| lines.push(l.to_owned()))
            .unwrap();
    }
    let parsed: Vec<_> = lines.iter().filter_map(|l| parse_kfree_skb_line(l)).collect();
    assert!(parsed.len() >= 5, "{lines:?}");
    // The kernel's %pS and our kallsyms agree on the function. A kernel
    // whose format prints location with %p shows a hashed pointer: the text
    // path then knows no location (0), and the binary ring alone has it.
    let symbolic = mon.kfree_skb().location_is_symbolic();
    if symbolic {
        let ours = syms.lookup(raw[0].location).unwrap().to_string();
        assert!(
            parsed.iter().any(|p| p.location == ours),
            "kernel {:?} vs ours {ours}",
            parsed[0].location
        );
    } else {
        assert!(
            parsed.iter().all(|p| u64::from_str_radix(p.location, 16).is_ok()),
            "{lines:?}"
        );
        eprintln!("kfree_skb prints location with %p on this kernel: text locations are hashed pointers");
    }
    // Binary and text agree on every drop: place, reason, protocol, CPU,
    // task; each instance stamps its own copy, a few microseconds apart.
    let mut from_text = Vec::new();
    while from_text.len() < raw.len() && Instant::now() < deadline {
        text_mon
            .poll(Some(Duration::from_millis(200)), |d| from_text.push(*d))
            .unwrap();
    }
    assert_eq!(from_text.len(), raw.len());
    for (r, x) in raw.iter().zip(&from_text) {
        let place = if symbolic { r.location } else { 0 };
        assert_eq!(
            (place, r.reason, r.protocol, r.cpu, r.pid),
            (x.location, x.reason, x.protocol, x.cpu, x.pid)
        );
        assert!(r.timestamp.abs_diff(x.timestamp) < 1_000_000, "{r:?} {x:?}");
    }
    assert_eq!(mon.lost(), 0);
}

#[test]
fn lost_events_are_reported_exactly() {
    if !privileged("lost_events_are_reported_exactly") {
        return;
    }
    let t = tracefs();
    let ns = TestNetns::new();
    let inst = t.private_instance("lost").unwrap();
    // The smallest buffer: a few pages per CPU, overwritten quickly.
    inst.set_buffer_size_kb(8).unwrap();
    inst.enable_event("skb", "kfree_skb", Some("protocol == 0x800"))
        .unwrap();
    let mut reader = RawReader::open(&inst).unwrap();
    udp_to_closed_port(&ns, 9, 3000);
    inst.set_tracing_on(false).unwrap();
    let mut records = 0u64;
    let mut lost = 0;
    let (mut counted, mut unknown) = (0, 0);
    loop {
        let s = reader
            .read(Some(Duration::from_millis(1)), |_, p| {
                match p.missed() {
                    netobs_trace::Missed::Count(_) => counted += 1,
                    netobs_trace::Missed::Unknown => unknown += 1,
                    netobs_trace::Missed::None => {}
                }
                records += p.records().filter(|r| r.is_ok()).count() as u64
            })
            .unwrap();
        lost += s.lost;
        if s.pages == 0 {
            break;
        }
    }
    let stats_lost = reader.stats_lost().unwrap();
    eprintln!(
        "records {records} lost {lost} (stats: {stats_lost}); pages with a stored count {counted}, without {unknown}"
    );
    assert!(lost > 0, "an 8 KiB buffer must lose some of 3000 events");
    assert_eq!(lost, reader.lost());
    assert_eq!(lost, stats_lost, "pages and per_cpu stats disagree on lost events");
    assert!(records + lost >= 3000);
}

#[test]
fn blocked_poll_wakes_promptly_on_an_event() {
    if !privileged("blocked_poll_wakes_promptly_on_an_event") {
        return;
    }
    let t = tracefs();
    let ns = TestNetns::new();
    // Our own event: an IPv6 datagram to a closed port on ::1 (no other
    // IPv6 NO_SOCKET drops are expected, but one would only wake the poll
    // early). Events before our send do not end the test.
    let mut mon = DropMonitor::open_tracepoint(
        &t,
        &DropFilter {
            protocol: Some(0x86dd),
            reason: Some("NO_SOCKET".into()),
            ..Default::default()
        },
        None,
    )
    .unwrap();
    let sender = std::sync::atomic::AtomicI32::new(0); // 1 once our datagram is on its way
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(300));
            Netns::named(ns.name())
                .run(|| {
                    let u = UdpSocket::bind("[::1]:0").unwrap();
                    sender.store(1, std::sync::atomic::Ordering::SeqCst);
                    u.send_to(b"netobs", ("::1", 9)).unwrap();
                })
                .unwrap();
        });
        let start = Instant::now();
        let mut ours = false;
        while !ours && start.elapsed() < Duration::from_secs(30) {
            // A long timeout: only an event can end the wait early.
            mon.poll(Some(Duration::from_secs(30)), |_| {
                ours |= sender.load(std::sync::atomic::Ordering::SeqCst) != 0;
            })
            .unwrap();
        }
        let waited = start.elapsed();
        assert!(ours, "our drop never came");
        // Generous: the wait is 30 s; promptness is a few ms on the host.
        assert!(waited < Duration::from_secs(10), "woke after {waited:?}");
    });
}

/// Runs `wait` (which blocks up to 60 s on nothing) while another thread
/// trips `stop` after 200 ms: it must return within 10 s.
fn ends_on_stop(what: &str, stop: &Stop, wait: impl FnOnce()) {
    stop.reset();
    std::thread::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            stop.stop();
        });
        let start = Instant::now();
        wait();
        let took = start.elapsed();
        assert!(took < Duration::from_secs(10), "{what}: returned after {took:?}");
    });
}

#[test]
fn stop_handle_ends_every_blocking_wait() {
    if !privileged("stop_handle_ends_every_blocking_wait") {
        return;
    }
    let t = tracefs();
    let stop = Stop::new().unwrap();
    // EtherType 0x88b5 (IEEE local experimental) is never dropped here: the
    // waits see no event and only the stop ends them.
    let quiet = DropFilter {
        protocol: Some(0x88b5),
        ..Default::default()
    };
    let long = Some(Duration::from_secs(60));
    // Whatever open() picks (NET_DM where the kernel has it), and the
    // binary and text tracepoint readers.
    let mut auto = DropMonitor::open(&t, &quiet, None).unwrap();
    auto.set_stop(&stop);
    ends_on_stop(&format!("DropMonitor ({:?})", auto.backend()), &stop, || {
        assert_eq!(auto.poll(long, |_| {}).unwrap(), 0);
    });
    drop(auto);
    let mut raw = DropMonitor::open_tracepoint(&t, &quiet, None).unwrap();
    raw.set_stop(&stop);
    ends_on_stop("DropMonitor (trace_pipe_raw)", &stop, || {
        raw.poll(long, |_| panic!("no drop of 0x88b5 expected")).unwrap();
    });
    let mut text = TextReader::open(raw.instance()).unwrap();
    text.set_stop(&stop);
    ends_on_stop("TextReader", &stop, || {
        assert_eq!(text.read(long, |_| {}).unwrap(), 0);
    });
    drop((raw, text));
    let mut counter = DropCounter::open_ring(&t, &quiet, None).unwrap();
    counter.set_stop(&stop);
    ends_on_stop("DropCounter (ring)", &stop, || {
        assert!(counter.counts(long).unwrap().iter().next().is_none());
    });
}

#[test]
fn kallsyms_resolves_kernel_functions() {
    if !privileged("kallsyms_resolves_kernel_functions") {
        return;
    }
    let k = Kallsyms::load().unwrap();
    let (start, end) = k.ranges("tcp_v4_rcv")[0];
    let l = k.lookup(start + 4).unwrap();
    assert_eq!(l.name, "tcp_v4_rcv");
    assert_eq!(l.offset, 4);
    assert_eq!(l.size, end - start);
    assert!(!k.ranges("__netif_receive_skb_core").is_empty());
}

#[test]
fn drop_stacks_come_from_the_stacktrace_trigger() {
    if !privileged("drop_stacks_come_from_the_stacktrace_trigger") {
        return;
    }
    let (_t, syms, ns, mut mon) = udp_drop_world(Some("__udp4_lib_rcv"));
    mon.enable_stacks().unwrap();
    assert!(mon
        .instance()
        .read("events/skb/kfree_skb/trigger")
        .unwrap()
        .contains("stacktrace"));
    udp_to_closed_port(&ns, 9, 3);
    let mut stacks = netobs_trace::StackCounts::default();
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while n < 3 && Instant::now() < deadline {
        mon.poll_detailed(Some(Duration::from_millis(200)), |d| {
            n += 1;
            stacks.add(d.stack)
        })
        .unwrap();
    }
    assert!(n >= 3);
    let (top, count) = stacks.top(1)[0];
    assert!(count >= 1);
    let names: Vec<String> = top
        .iter()
        .filter_map(|a| syms.lookup(*a).map(|l| l.base_name().to_owned()))
        .collect();
    assert!(names.iter().any(|n| n == "__udp4_lib_rcv"), "{names:?}");
    assert!(names.iter().any(|n| n == "udp_sendmsg"), "{names:?}");
}

/// A burst of drops with stacks, read while it is sent (so reads fall
/// between a drop and its stack record, and stack records start pages):
/// every drop comes out once, with its stack.
#[test]
fn every_drop_of_a_burst_has_its_stack() {
    if !privileged("every_drop_of_a_burst_has_its_stack") {
        return;
    }
    const N: usize = 1500;
    let (_t, _syms, ns, mut mon) = udp_drop_world(Some("__udp4_lib_rcv"));
    mon.enable_stacks().unwrap();
    mon.instance().set_buffer_size_kb(8192).unwrap();
    let sender = std::thread::spawn(move || {
        udp_to_closed_port(&ns, 9, N);
        ns
    });
    let (mut n, mut without, mut lost) = (0, 0, 0);
    let deadline = Instant::now() + netobs_testsupport::patience(Duration::from_secs(20));
    loop {
        // once all are in (or time is up), one more read: the last drop
        // may wait for it
        let last = n >= N || Instant::now() >= deadline;
        let wait = Duration::from_millis(if last { 100 } else { 2 });
        lost += mon
            .poll_detailed(Some(wait), |d| {
                n += 1;
                without += usize::from(d.stack.is_empty());
            })
            .unwrap();
        if last {
            break;
        }
    }
    let _ns = sender.join().unwrap();
    assert_eq!(lost, 0, "the ring overflowed: the test proves nothing");
    assert_eq!(n, N);
    assert_eq!(without, 0, "{without} of {n} drops without their stack");
}

/// The last read (`finish_detailed`, right after the drops, no waiting)
/// hands out every drop with its stack and the device its skb was seen
/// on: nothing is left held back for a read that will not come.
#[test]
fn the_last_read_hands_out_every_drop() {
    if !privileged("the_last_read_hands_out_every_drop") {
        return;
    }
    const N: usize = 5;
    let (_t, _syms, ns, mut mon) = udp_drop_world(Some("__udp4_lib_rcv"));
    mon.enable_stacks().unwrap();
    mon.enable_devices(Duration::from_secs(5)).unwrap();
    udp_to_closed_port(&ns, 9, N);
    let mut got = Vec::new();
    let lost = mon
        .finish_detailed(|d| got.push((d.stack.len(), d.device.map(|s| s.name.to_owned()))))
        .unwrap();
    assert_eq!(lost, 0);
    // Other namespaces of this machine drop UDP to closed ports too: at
    // least ours, each complete.
    let ours = got.iter().filter(|(_, dev)| dev.as_deref() == Some("lo")).count();
    assert!(ours >= N, "{got:?}");
    assert!(
        got.iter().all(|(stack, _)| *stack > 0),
        "a drop without its stack: {got:?}"
    );
}

#[test]
fn larger_sub_buffers_are_read_whole() {
    if !privileged("larger_sub_buffers_are_read_whole") {
        return;
    }
    let t = tracefs();
    let ns = TestNetns::new();
    let inst = t.private_instance("subbuf").unwrap();
    if let Err(e) = inst.set_subbuf_size_kb(16) {
        // Kernels before 6.8 have no buffer_subbuf_size_kb.
        eprintln!("sub-buffer size fixed: {e}");
        return;
    }
    assert_eq!(inst.subbuf_size_kb().unwrap(), 16);
    inst.enable_event("skb", "kfree_skb", Some("protocol == 0x800"))
        .unwrap();
    let mut reader = RawReader::open(&inst).unwrap();
    udp_to_closed_port(&ns, 9, 400);
    inst.set_tracing_on(false).unwrap();
    let (mut records, mut biggest) = (0, 0);
    loop {
        let s = reader
            .read(Some(Duration::from_millis(1)), |_, p| {
                biggest = biggest.max(p.data().len());
                records += p.records().filter(|r| r.is_ok()).count();
            })
            .unwrap();
        if s.pages == 0 {
            break;
        }
    }
    // 400 records of 48 bytes do not fit in one 4 KiB page: a 16 KiB
    // sub-buffer was read in one piece.
    assert!(records >= 400, "{records}");
    assert!(biggest > 4096, "largest page held {biggest} bytes");
    assert_eq!(reader.lost(), 0);
}

/// The automatic choice of backend follows what the kernel offers. Where
/// there is no NET_DM family (no drop_monitor), NetDm::open refuses with
/// NoSuchFamily and the automatic choice is the tracepoint, saying why.
/// Where the family exists, NET_DM is single-user: while one monitor holds
/// it, the automatic choice falls back to the tracepoint and says why, and
/// once it is released the automatic choice is NET_DM.
#[test]
fn net_dm_refused_and_auto_choice_is_the_tracepoint() {
    if !privileged("net_dm_refused_and_auto_choice_is_the_tracepoint") {
        return;
    }
    // drop_monitor may be a module that is not loaded yet.
    let _ = std::process::Command::new("modprobe").arg("drop_monitor").output();
    match NetDm::open(&NetDmConfig::default()) {
        Err(e) => {
            assert!(
                matches!(&e, Error::Netlink(netobs_core::Error::NoSuchFamily(f)) if f == "NET_DM"),
                "{e}"
            );
            let text = "generic netlink family \"NET_DM\" is not available in this kernel";
            assert!(e.to_string().starts_with(text), "{e}");
            eprintln!("no NET_DM family on this kernel: {e}");
            let mon = DropMonitor::open(&tracefs(), &DropFilter::default(), None).unwrap();
            assert_eq!(mon.backend(), Backend::Tracepoint);
            assert_eq!(mon.net_dm_error(), Some(e.to_string().as_str()));
        }
        Ok(held) => {
            let mon = DropMonitor::open(&tracefs(), &DropFilter::default(), None).unwrap();
            assert_eq!(mon.backend(), Backend::Tracepoint);
            let why = mon.net_dm_error().expect("says why NET_DM is not used");
            assert!(why.contains("EBUSY") || why.contains("busy"), "{why}");
            drop(mon);
            drop(held);
            let mon = DropMonitor::open(&tracefs(), &DropFilter::default(), None).unwrap();
            assert_eq!(mon.backend(), Backend::NetDm, "{:?}", mon.net_dm_error());
        }
    }
}

/// Drop counting in the kernel with a hist trigger where the kernel has hist
/// triggers (Debian's 6.1 and 6.12), against the ring reader on the same
/// drops: equal counts per (location, reason, protocol). Where it has none
/// (this host), `open` falls back to the ring and says why.
#[test]
fn drop_counter_in_the_kernel_equals_the_ring_reader() {
    if !privileged("drop_counter_in_the_kernel_equals_the_ring_reader") {
        return;
    }
    use netobs_trace::{CountSource, DropCounter};
    let t = tracefs();
    let syms = Kallsyms::load().unwrap();
    let ns = TestNetns::new();
    let filter = udp_no_socket(Some("__udp4_lib_rcv"));
    const N: usize = 300;
    let mut auto = DropCounter::open(&t, &filter, Some(&syms)).unwrap();
    match DropCounter::open_hist(&t, &filter, Some(&syms)) {
        Err(e) => {
            assert_eq!(auto.source(), CountSource::Ring);
            let why = auto
                .why_not_hist()
                .expect("says why the kernel path is not used")
                .to_owned();
            assert!(why.contains("hist"), "{why}");
            assert!(matches!(e, Error::Unsupported { .. } | Error::Refused { .. }), "{e}");
            udp_to_closed_port(&ns, 9, N);
            let start = Instant::now();
            let mut total = 0;
            while total < N as u64 && start.elapsed() < Duration::from_secs(5) {
                total = auto.counts(Some(Duration::from_millis(200))).unwrap().total();
            }
            assert!(total >= N as u64, "{total}");
            eprintln!("drop_counter_in_the_kernel_equals_the_ring_reader: no hist triggers here ({why}); ring counted {total}");
        }
        Ok(_) => {
            assert_eq!(auto.source(), CountSource::Hist);
            drop(auto);
            // Background drops elsewhere on the machine can fall between the
            // two counters' reads: up to three rounds for an exact match.
            let mut last = None;
            for _ in 0..3 {
                let mut hist = DropCounter::open_hist(&t, &filter, Some(&syms)).unwrap();
                let mut ring = DropCounter::open_ring(&t, &filter, Some(&syms)).unwrap();
                udp_to_closed_port(&ns, 9, N);
                let start = Instant::now();
                let mut r = ring.counts(Some(Duration::from_millis(200))).unwrap();
                while r.total() < N as u64 && start.elapsed() < Duration::from_secs(10) {
                    r = ring.counts(Some(Duration::from_millis(200))).unwrap();
                }
                let h = hist.counts(None).unwrap();
                let mut hv: Vec<_> = h.iter().collect();
                let mut rv: Vec<_> = r.iter().collect();
                hv.sort();
                rv.sort();
                assert!(h.total() >= N as u64, "hist counted {}", h.total());
                assert_eq!((hist.lost(), ring.lost()), (0, 0));
                if hv == rv {
                    for (k, _) in &hv {
                        assert_eq!(syms.lookup(k.location).unwrap().base_name(), "__udp4_lib_rcv");
                        assert_eq!(hist.kfree_skb().reason_name(k.reason), Some("NO_SOCKET"));
                    }
                    return;
                }
                last = Some((hv, rv));
            }
            panic!("hist and ring counts differ in three rounds: {last:?}");
        }
    }
}
