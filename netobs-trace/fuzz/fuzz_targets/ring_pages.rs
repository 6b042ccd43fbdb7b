//! Feeds arbitrary bytes as trace_pipe_raw sub-buffers to the page parser,
//! the record walker and the kfree_skb decoder. Run:
//! `cargo fuzz run ring_pages` (seed: ../tests/data/kfree_skb.pages).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use netobs_trace::{EventFormat, KfreeSkb, Page, PageLayout};

const KFREE_FORMAT: &str = include_str!("../../tests/data/kfree_skb.format");

static DECODER: OnceLock<(EventFormat, KfreeSkb)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (fmt, kfree) = DECODER.get_or_init(|| {
        let fmt = EventFormat::parse(KFREE_FORMAT, "kfree_skb").unwrap();
        let kfree = KfreeSkb::new(&fmt).unwrap();
        (fmt, kfree)
    });
    if let Ok(p) = Page::parse(data, &PageLayout::x86_64()) {
        let _ = p.missed();
        for r in p.records() {
            let Ok(r) = r else { break };
            let _ = kfree.decode(0, &r);
            for f in &fmt.fields {
                let f = f.as_ref();
                let _ = (r.uint(&f), r.int(&f), r.bytes(&f), r.str(&f));
            }
        }
    }
});
