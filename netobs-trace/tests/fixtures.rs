//! Recorded kernel bytes (Linux 6.18): format files, header_page and a
//! trace_pipe_raw page holding seven `skb:kfree_skb` records of UDP
//! datagrams sent to a closed port (reason NO_SOCKET). Decoded without root,
//! then mutated by bounded property tests: parsers of kernel bytes never panic.

use netobs_trace::drops::parse_kfree_skb_line;
use netobs_trace::ring::build::PageBuilder;
use netobs_trace::tracefs::CpuStats;
use netobs_trace::{EventFormat, Kallsyms, KfreeSkb, Page, PageLayout};
use proptest::prelude::*;

const KFREE_FORMAT: &str = include_str!("data/kfree_skb.format");
const SET_STATE_FORMAT: &str = include_str!("data/inet_sock_set_state.format");
const RETRANS_FORMAT: &str = include_str!("data/tcp_retransmit_skb.format");
const HEADER_PAGE: &str = include_str!("data/header_page");
const PAGES: &[u8] = include_bytes!("data/kfree_skb.pages");

/// A hist file of a `hist:keys=location,reason,protocol` trigger on kfree_skb.
const HIST: &str = "# event histogram\n#\n# trigger info: hist:keys=location,reason,protocol:vals=hitcount:sort=hitcount:size=8192 [active]\n#\n\n\
{ location: 18446744071583365430, reason:          2, protocol:       2048 } hitcount:        300\n\n\
Totals:\n    Hits: 300\n    Entries: 1\n    Dropped: 0\n";

/// A kfree_skb line as this kernel's trace_pipe prints it.
const TRACE_PIPE_LINE: &str = "          python3-4848    [000] ..s1.  4475.808995: kfree_skb: skbaddr=00000000a2664ea3 \
     rx_sk=0000000000000000 protocol=17185 location=__netif_receive_skb_core.constprop.0+0x7e6/0x1350 reason: UNHANDLED_PROTO";

#[test]
fn trace_pipe_line_decodes() {
    let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
    let kfree = KfreeSkb::new(&fmt).unwrap();
    let addresses =
        Kallsyms::parse("ffffffff81e64e60 t __netif_receive_skb_core.constprop.0\nffffffff81e66000 T next").addresses();
    let d = kfree.decode_text(TRACE_PIPE_LINE, &addresses).unwrap();
    assert_eq!((d.pid, d.cpu, d.protocol), (4848, 0, 0x4321));
    assert_eq!(d.location, 0xffffffff81e64e60 + 0x7e6);
    assert_eq!(kfree.reason_name(d.reason), Some("UNHANDLED_PROTO"));
    assert_eq!(d.timestamp, 4_475_808_995_000);
    assert_eq!(d.skbaddr, 0xa2664ea3);
}

fn layout() -> PageLayout {
    PageLayout::parse(HEADER_PAGE).unwrap()
}

#[test]
fn recorded_page_decodes_to_seven_no_socket_drops() {
    let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
    let kfree = KfreeSkb::new(&fmt).unwrap();
    let mut drops = Vec::new();
    for page in PAGES.chunks(4096) {
        let p = Page::parse(page, &layout()).unwrap();
        for r in p.records() {
            drops.push(kfree.decode(0, &r.unwrap()).unwrap());
        }
    }
    assert_eq!(drops.len(), 7);
    for d in &drops {
        assert_eq!(d.protocol, 0x0800);
        assert_eq!(kfree.reason_name(d.reason), Some("NO_SOCKET"));
        assert!(d.location >= 0xffff_ffff_8000_0000, "{:#x}", d.location);
    }
    assert!(drops.windows(2).all(|w| w[0].timestamp <= w[1].timestamp));
}

#[test]
fn recorded_formats_have_kernel_tables() {
    let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
    let reasons = fmt.symbols("reason").unwrap();
    assert_eq!(reasons.value("NO_SOCKET"), Some(3));
    assert_eq!(reasons.value("UNHANDLED_PROTO"), Some(74));
    let loc = fmt.field("location").unwrap();
    assert_eq!((loc.offset, loc.size, loc.signed), (16, 8, false));
    let set_state = EventFormat::parse(SET_STATE_FORMAT, "inet_sock_set_state").unwrap();
    let mut retrans = EventFormat::parse(RETRANS_FORMAT, "tcp_retransmit_skb").unwrap();
    assert_eq!(set_state.field("saddr_v6").unwrap().array_len, Some(16));
    // tcp_retransmit_skb prints enum names without values; the values come
    // from inet_sock_set_state's table of the same kernel.
    let states = retrans.symbols_mut("state").unwrap();
    assert_eq!(states.name(1), None);
    states.resolve_from(set_state.symbols("newstate").unwrap());
    assert_eq!(retrans.symbols("state").unwrap().name(1), Some("TCP_ESTABLISHED"));
    assert_eq!(retrans.symbols("state").unwrap().name(10), Some("TCP_LISTEN"));
}

#[derive(Debug, Clone)]
enum Op {
    Record(u32, Vec<u8>),
    Extend(u64),
    Stamp(u64),
    Discard(u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u32..(1 << 27), proptest::collection::vec(any::<u8>(), 1..200)).prop_map(|(d, p)| Op::Record(d, p)),
        (0u64..(1 << 40)).prop_map(Op::Extend),
        (0u64..(1 << 59)).prop_map(Op::Stamp),
        (1u32..16).prop_map(|w| Op::Discard(w * 4)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Pages built the kernel's way decode to the same records and times.
    #[test]
    fn built_pages_round_trip(ops in proptest::collection::vec(op(), 0..15), missed in proptest::option::of(0u64..1000), store in any::<bool>()) {
        let mut b = PageBuilder::new(8192, 1_000_000);
        let mut expect = Vec::new();
        let mut ts = 1_000_000u64;
        for o in &ops {
            match o {
                Op::Record(d, p) => { b.record(*d, p); ts += *d as u64; expect.push((ts, p.clone())); }
                Op::Extend(d) => { b.time_extend(*d); ts += d; }
                Op::Stamp(s) => { b.time_stamp(*s); ts = *s; }
                Op::Discard(n) => { b.discarded(*n); }
            }
        }
        let page = b.finish(missed, store);
        let p = Page::parse(&page, &PageLayout::x86_64()).unwrap();
        let got: Vec<_> = p.records().map(|r| r.unwrap()).map(|r| (r.timestamp, r.data.to_vec())).collect();
        prop_assert_eq!(got.len(), expect.len());
        for ((gt, gd), (et, ed)) in got.iter().zip(&expect) {
            prop_assert_eq!(gt, et);
            prop_assert_eq!(&gd[..ed.len()], &ed[..]);
        }
        match (missed, store, p.missed()) {
            (None, _, netobs_trace::Missed::None) => {}
            (Some(n), true, netobs_trace::Missed::Count(c)) => prop_assert_eq!(n, c),
            (Some(_), false, netobs_trace::Missed::Unknown) => {}
            other => prop_assert!(false, "missed {:?}", other),
        }
    }

    /// Mutated recorded pages never panic the page walker or the decoder.
    #[test]
    fn mutated_pages_never_panic(flips in proptest::collection::vec((0usize..4096, any::<u8>()), 1..40), cut in 0usize..4200) {
        let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
        let kfree = KfreeSkb::new(&fmt).unwrap();
        let mut page = PAGES[..4096].to_vec();
        for (at, v) in flips { page[at] = v; }
        page.truncate(cut);
        if let Ok(p) = Page::parse(&page, &layout()) {
            for r in p.records().flatten() {
                let _ = kfree.decode(1, &r);
            }
        }
    }

    /// Mutated format files never panic the parser, and what parses gives
    /// field accessors that never panic on any record.
    #[test]
    fn mutated_formats_never_panic(flips in proptest::collection::vec((0usize..4018, 0u8..128), 0..20), rec in proptest::collection::vec(any::<u8>(), 0..64)) {
        let mut text = KFREE_FORMAT.as_bytes().to_vec();
        for (at, v) in flips { if at < text.len() { text[at] = v; } }
        let text = String::from_utf8_lossy(&text);
        if let Ok(f) = EventFormat::parse(&text, "mutated") {
            for field in &f.fields {
                let r = field.as_ref();
                let _ = (r.uint(&rec), r.int(&rec), r.bytes(&rec), r.str(&rec));
            }
        }
        let _ = PageLayout::parse(&text);
    }

    /// Arbitrary text never panics the kallsyms, stats and trace_pipe line
    /// parsers, and every address either resolves inside a symbol or prints
    /// as a plain address.
    /// Mutated hist files never panic the parser; what parses keeps every
    /// entry's keys.
    #[test]
    fn mutated_hist_files_never_panic(flips in proptest::collection::vec((0usize..300, 32u8..127), 0..16), cut in 0usize..320) {
        let mut text = HIST.as_bytes().to_vec();
        for (at, v) in flips { if at < text.len() { text[at] = v; } }
        text.truncate(cut);
        if let Ok(h) = netobs_trace::hist::parse(&String::from_utf8_lossy(&text)) {
            prop_assert!(h.entries.iter().all(|e| !e.keys.is_empty()));
        }
    }

    /// Mutated trace_pipe lines never panic the text decoder.
    #[test]
    fn mutated_trace_pipe_lines_never_panic(flips in proptest::collection::vec((0usize..160, 32u8..127), 0..12), cut in 0usize..170) {
        let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
        let kfree = KfreeSkb::new(&fmt).unwrap();
        let addresses = Kallsyms::parse("ffffffff81e64e60 t __netif_receive_skb_core.constprop.0\nffffffff81e66000 T next").addresses();
        let mut line = TRACE_PIPE_LINE.as_bytes().to_vec();
        for (at, v) in flips { if at < line.len() { line[at] = v; } }
        line.truncate(cut);
        let _ = kfree.decode_text(&String::from_utf8_lossy(&line), &addresses);
    }

    #[test]
    fn text_parsers_never_panic(lines in proptest::collection::vec("[0-9a-f]{1,16} [tTdW] [a-z_.0-9]{1,12}( \\[[a-z]{1,6}\\])?|.{0,40}", 0..30), addr in any::<u64>()) {
        let text = lines.join("\n");
        let k = Kallsyms::parse(&text);
        match k.lookup(addr) {
            Some(l) => prop_assert!(l.offset < l.size),
            None => prop_assert_eq!(k.format(addr), format!("{addr:#x}")),
        }
        let _ = CpuStats::parse(&text);
        let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
        let kfree = KfreeSkb::new(&fmt).unwrap();
        let addresses = k.addresses();
        for l in &lines {
            let _ = parse_kfree_skb_line(l);
            let _ = kfree.decode_text(l, &addresses);
        }
    }
}
