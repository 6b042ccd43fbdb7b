//! The format files of every tracepoint netobs reads, recorded from Debian
//! 12's Linux 6.1 and 6.12 and from this host's 6.18 (tests/data/formats/,
//! by scripts/record-trace-formats): every layout decodes without root on
//! any machine, and what each kernel lacks is found from its format, not
//! from its version.

use std::path::{Path, PathBuf};

use netobs_trace::tcp::TcpDecoder;
use netobs_trace::{EventFormat, KernelStack, KfreeSkb, PageLayout};

fn kernels() -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/formats");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    v.sort();
    v
}

fn format(dir: &Path, name: &str) -> Option<EventFormat> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.format"))).ok()?;
    Some(EventFormat::parse(&text, name).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
}

#[test]
fn three_kernels_are_recorded() {
    let names: Vec<String> = kernels().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["6.1", "6.12", "6.18"]);
}

#[test]
fn every_recorded_layout_decodes() {
    for (ver, dir) in kernels() {
        let header = std::fs::read_to_string(dir.join("header_page")).unwrap();
        PageLayout::parse(&header).unwrap_or_else(|e| panic!("{ver}: {e}"));
        let kfree = KfreeSkb::new(&format(&dir, "kfree_skb").unwrap()).unwrap();
        KernelStack::new(&format(&dir, "kernel_stack").unwrap()).unwrap();
        let set_state = format(&dir, "inet_sock_set_state").unwrap();
        let retrans = format(&dir, "tcp_retransmit_skb");
        let cookies: Vec<EventFormat> = netobs_trace::tcp::COOKIE_EVENTS
            .iter()
            .filter_map(|e| format(&dir, e))
            .collect();
        assert_eq!(cookies.len(), 3, "{ver}");
        let tcp = TcpDecoder::from_formats(&set_state, retrans.as_ref(), &cookies).unwrap();
        assert_eq!(tcp.state_name(1), "ESTABLISHED", "{ver}");
        assert!(kfree.reasons().value("NO_SOCKET").is_some(), "{ver}");

        // What each kernel offers, as its formats say. 6.1: kfree_skb has no
        // rx_sk and prints location with %p; tcp_probe has no skaddr.
        let old = ver == "6.1";
        assert_eq!(kfree.has_rx_sk(), !old, "{ver}");
        assert_eq!(kfree.location_is_symbolic(), !old, "{ver}");
        let unusable: Vec<(&str, &str)> = tcp
            .unusable_cookie_events()
            .iter()
            .map(|(e, f)| (e.as_str(), *f))
            .collect();
        if old {
            assert_eq!(unusable, [("tcp_probe", "skaddr")]);
        } else {
            assert!(unusable.is_empty(), "{ver}: {unusable:?}");
        }
        assert_eq!(tcp.cookie_events(), 3 - unusable.len(), "{ver}");
    }
}

/// 6.1's trace_pipe line: no rx_sk, location as a hashed pointer. The drop
/// is kept, with no location, instead of being lost from the counts.
#[test]
fn text_line_of_a_kernel_without_rx_sk() {
    let dir = kernels().into_iter().find(|(v, _)| v == "6.1").unwrap().1;
    let kfree = KfreeSkb::new(&format(&dir, "kfree_skb").unwrap()).unwrap();
    let line = "          python3-311     [001] ..s1.    58.105873: kfree_skb: skbaddr=0000000095b1b1f5 \
                protocol=2048 location=00000000ca5db6b4 reason: NO_SOCKET";
    let d = kfree.decode_text(line, &Default::default()).unwrap();
    assert_eq!((d.pid, d.cpu, d.protocol, d.location, d.rx_sk), (311, 1, 0x800, 0, 0));
    assert_eq!(kfree.reason_name(d.reason), Some("NO_SOCKET"));
    assert_eq!(d.skbaddr, 0x95b1b1f5);
}
