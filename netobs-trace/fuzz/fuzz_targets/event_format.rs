//! Feeds arbitrary text to the event format, header_page, kallsyms and
//! hist-file parsers, and uses what parses on the input bytes as a record. Run:
//! `cargo fuzz run event_format` (seed: ../tests/data/*.format).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netobs_trace::{EventFormat, Kallsyms, PageLayout};

const KFREE_FORMAT: &str = include_str!("../../tests/data/kfree_skb.format");

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(f) = EventFormat::parse(&text, "fuzz") {
        for field in &f.fields {
            let r = field.as_ref();
            let _ = (r.uint(data), r.int(data), r.bytes(data), r.str(data));
            if let Some(t) = f.symbols(&field.name) {
                let _ = (t.name(3), t.value("NO_SOCKET"));
            }
        }
    }
    let _ = PageLayout::parse(&text);
    if let Ok(h) = netobs_trace::hist::parse(&text) {
        let _ = h.entries.iter().map(|e| e.key("location")).count();
    }
    let k = Kallsyms::parse(&text);
    let _ = k.format(0xffff_ffff_8100_0000);
    // Lines of the text trace_pipe, decoded as kfree_skb.
    if let Ok(f) = EventFormat::parse(KFREE_FORMAT, "kfree_skb") {
        if let Ok(kfree) = netobs_trace::KfreeSkb::new(&f) {
            let addresses = k.addresses();
            for line in text.lines() {
                let _ = kfree.decode_text(line, &addresses);
            }
        }
    }
});
