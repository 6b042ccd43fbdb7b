//! pcap/pcapng readers and writers: the shared corpus read back, both byte
//! orders and precisions round-tripped, what we write opened by the real
//! tcpdump, truncated files yield every good record then an error with the
//! offset, and random mutations never panic.

use std::io::Cursor;
use std::process::Command;

use netobs_capture::file::{
    linktype, ByteOrder, CaptureReader, PcapReader, PcapWriter, PcapngReader, PcapngWriter, Precision,
};
use netobs_capture::FileError;
use proptest::prelude::*;

/// (ts_ns, orig_len, data) of one record.
type Rec = (u64, u32, Vec<u8>);

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");

fn corpus_bytes() -> Vec<u8> {
    std::fs::read(CORPUS).expect("shared corpus eth_corpus.pcap")
}

/// (ts_ns, orig_len, data) of every record of a file.
fn records(bytes: &[u8]) -> (Vec<Rec>, Option<FileError>) {
    let mut r = CaptureReader::new(Cursor::new(bytes)).expect("file header");
    let mut out = Vec::new();
    loop {
        match r.next_record() {
            Ok(Some(rec)) => out.push((rec.ts_ns, rec.orig_len, rec.data.to_vec())),
            Ok(None) => return (out, None),
            Err(e) => return (out, Some(e)),
        }
    }
}

#[test]
fn corpus_reads_completely() {
    let (recs, err) = records(&corpus_bytes());
    assert!(err.is_none(), "{err:?}");
    assert_eq!(recs.len(), 8382, "README of the corpus says 8,382 frames");
    assert!(recs.iter().all(|(_, orig, d)| d.len() <= *orig as usize));
}

fn write_pcap(recs: &[Rec], p: Precision, o: ByteOrder) -> Vec<u8> {
    let mut w = PcapWriter::with_byte_order(Vec::new(), linktype::ETHERNET, 262144, p, o).unwrap();
    for (ts, orig, d) in recs {
        w.write_packet(*ts, *orig, d).unwrap();
    }
    w.into_inner()
}

fn write_pcapng(recs: &[Rec], o: ByteOrder) -> Vec<u8> {
    let mut w = PcapngWriter::with_byte_order(Vec::new(), o).unwrap();
    let id = w.add_interface(linktype::ETHERNET, 262144, Some("veth0")).unwrap();
    for (ts, orig, d) in recs {
        w.write_packet(id, *ts, *orig, d).unwrap();
    }
    w.into_inner()
}

#[test]
fn round_trips_in_both_byte_orders_and_precisions() {
    let (recs, _) = records(&corpus_bytes());
    let recs = &recs[..500];
    for o in [ByteOrder::Little, ByteOrder::Big] {
        for p in [Precision::Micro, Precision::Nano] {
            let bytes = write_pcap(recs, p, o);
            let r = PcapReader::new(Cursor::new(&bytes)).unwrap();
            assert_eq!((r.byte_order(), r.precision()), (o, p));
            assert_eq!(records(&bytes).0, recs, "pcap {o:?} {p:?}");
        }
        let bytes = write_pcapng(recs, o);
        let r = PcapngReader::new(Cursor::new(&bytes)).unwrap();
        assert_eq!(r.byte_order(), o);
        assert_eq!(records(&bytes).0, recs, "pcapng {o:?}");
    }
}

#[test]
fn nanoseconds_survive_nano_pcap_and_pcapng() {
    let recs = vec![(1_700_000_000_123_456_789u64, 60u32, vec![0xaa; 60])];
    assert_eq!(records(&write_pcap(&recs, Precision::Nano, ByteOrder::Little)).0, recs);
    assert_eq!(records(&write_pcapng(&recs, ByteOrder::Big)).0, recs);
    let micro = records(&write_pcap(&recs, Precision::Micro, ByteOrder::Little)).0;
    assert_eq!(micro[0].0, 1_700_000_000_123_456_000);
}

/// An IDB with if_tsresol = 2^-10 and an option list without
/// opt_endofopt, then an SPB and an EPB, built by hand.
#[test]
fn pcapng_binary_tsresol_options_without_end_and_simple_packets() {
    let mut f = Vec::new();
    let block = |f: &mut Vec<u8>, kind: u32, body: &[u8]| {
        let len = (12 + body.len()) as u32;
        f.extend_from_slice(&kind.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(body);
        f.extend_from_slice(&len.to_le_bytes());
    };
    let mut shb = vec![];
    shb.extend_from_slice(&0x1a2b3c4du32.to_le_bytes());
    shb.extend_from_slice(&[1, 0, 0, 0]);
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d0d0a, &shb);
    let mut idb = vec![1, 0, 0, 0, 64, 0, 0, 0];
    idb.extend_from_slice(&[9, 0, 1, 0, 0x8a, 0, 0, 0]); // if_tsresol 2^-10, no end marker
    block(&mut f, 1, &idb);
    let mut spb = 100u32.to_le_bytes().to_vec(); // 100 on the wire, snaplen 64
    spb.extend_from_slice(&[7u8; 100]);
    block(&mut f, 3, &spb);
    let mut epb = vec![0u8; 4];
    epb.extend_from_slice(&0u32.to_le_bytes());
    epb.extend_from_slice(&2048u32.to_le_bytes()); // 2 seconds in 1/1024 units
    epb.extend_from_slice(&4u32.to_le_bytes());
    epb.extend_from_slice(&4u32.to_le_bytes());
    epb.extend_from_slice(&[1, 2, 3, 4]);
    block(&mut f, 6, &epb);
    let (recs, err) = records(&f);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(recs[0].1, 100);
    assert_eq!(recs[0].2.len(), 64);
    assert_eq!(recs[1], (2_000_000_000, 4, vec![1, 2, 3, 4]));
}

#[test]
fn truncated_files_give_good_records_then_offset() {
    let bytes = corpus_bytes();
    let (all, _) = records(&bytes);
    // Cut in the middle of the 11th record's data.
    let off_11: usize = 24 + all[..10].iter().map(|r| 16 + r.2.len()).sum::<usize>();
    let cut = &bytes[..off_11 + 16 + 3];
    let (recs, err) = records(cut);
    assert_eq!(recs.len(), 10);
    let err = err.expect("truncation error");
    let msg = err.to_string();
    assert!(
        matches!(err, FileError::Truncated { offset, .. } if offset == off_11 as u64 + 16),
        "{msg}"
    );
    assert!(msg.contains("truncated pcap record data at offset"), "{msg}");
    // Cut in a record header.
    let (recs, err) = records(&bytes[..off_11 + 5]);
    assert_eq!(recs.len(), 10);
    assert!(matches!(err, Some(FileError::Truncated { offset, have: 5, .. }) if offset == off_11 as u64));
    // pcapng cut inside the third EPB.
    let ng = write_pcapng(&all[..5], ByteOrder::Little);
    let (recs, err) = records(&ng[..ng.len() - 10]);
    assert_eq!(recs.len(), 4);
    assert!(err
        .unwrap()
        .to_string()
        .contains("truncated pcapng block body at offset"));
    // Not a capture file at all.
    let e = CaptureReader::new(Cursor::new(b"hello world, not pcap at all".as_slice())).unwrap_err();
    assert!(e.to_string().contains("is not a pcap magic"), "{e}");
}

fn tcpdump_count(path: &std::path::Path) -> String {
    let out = Command::new("tcpdump")
        .args(["-r", path.to_str().unwrap(), "--count"])
        .output()
        .expect("tcpdump installed");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn tcpdump_reads_what_we_write() {
    let (recs, _) = records(&corpus_bytes());
    let dir = std::env::temp_dir();
    let cases = [
        ("usec-le.pcap", write_pcap(&recs, Precision::Micro, ByteOrder::Little)),
        ("nsec-be.pcap", write_pcap(&recs, Precision::Nano, ByteOrder::Big)),
        ("le.pcapng", write_pcapng(&recs, ByteOrder::Little)),
        ("be.pcapng", write_pcapng(&recs, ByteOrder::Big)),
    ];
    for (name, bytes) in cases {
        let p = dir.join(format!("netobs-capture-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        let got = tcpdump_count(&p);
        let _ = std::fs::remove_file(&p);
        assert_eq!(got, "8382 packets", "{name}");
    }
}

#[test]
fn timestamps_match_tcpdump() {
    // tcpdump -tt prints seconds.microseconds of each record.
    let out = Command::new("tcpdump")
        .args(["-tt", "-n", "-c", "20", "-r", CORPUS])
        .output()
        .expect("tcpdump installed");
    let want: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect();
    let (recs, _) = records(&corpus_bytes());
    let got: Vec<String> = recs[..20]
        .iter()
        .map(|r| format!("{}.{:06}", r.0 / 1_000_000_000, (r.0 % 1_000_000_000) / 1000))
        .collect();
    assert_eq!(got, want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Random byte flips and cuts of a valid pcap and pcapng never panic.
    #[test]
    fn mutated_files_never_panic(flips in proptest::collection::vec((0usize..4000, any::<u8>()), 0..8), cut in 0usize..4000, ng in any::<bool>()) {
        let recs: Vec<Rec> = (0..20u8).map(|i| (i as u64 * 1000, 60 + i as u32, vec![i; 40 + i as usize])).collect();
        let mut bytes = if ng { write_pcapng(&recs, ByteOrder::Little) } else { write_pcap(&recs, Precision::Micro, ByteOrder::Big) };
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] ^= v;
        }
        bytes.truncate(cut.max(1));
        if let Ok(mut r) = CaptureReader::new(Cursor::new(&bytes)) {
            for _ in 0..100 {
                match r.next_record() {
                    Ok(Some(_)) => {}
                    _ => break,
                }
            }
        }
    }
}

/// tshark (Wireshark's dissector engine, not libpcap) reads what we write
/// with the same lengths and timestamps, in all four variants.
#[test]
fn tshark_reads_what_we_write() {
    let (recs, _) = records(&corpus_bytes());
    let recs = &recs[..300];
    let dir = std::env::temp_dir();
    let cases = [
        ("usec-be.pcap", write_pcap(recs, Precision::Micro, ByteOrder::Big), 1000),
        ("nsec-le.pcap", write_pcap(recs, Precision::Nano, ByteOrder::Little), 1),
        ("le.pcapng", write_pcapng(recs, ByteOrder::Little), 1),
        ("be.pcapng", write_pcapng(recs, ByteOrder::Big), 1),
    ];
    for (name, bytes, unit_ns) in cases {
        let p = dir.join(format!("netobs-capture-tshark-{}-{name}", std::process::id()));
        std::fs::write(&p, bytes).unwrap();
        let out = Command::new("tshark")
            .args(["-r", p.to_str().unwrap(), "-T", "fields"])
            .args(["-e", "frame.time_epoch", "-e", "frame.len", "-e", "frame.cap_len"])
            .output()
            .expect("tshark installed (scripts/test installs it)");
        let _ = std::fs::remove_file(&p);
        assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), recs.len(), "{name}");
        for (line, (ts, orig, data)) in lines.iter().zip(recs) {
            let f: Vec<&str> = line.split('\t').collect();
            let (secs, frac) = f[0].split_once('.').unwrap();
            let ns = secs.parse::<u64>().unwrap() * 1_000_000_000 + format!("{frac:0<9}")[..9].parse::<u64>().unwrap();
            assert_eq!(ns, ts / unit_ns * unit_ns, "{name}: timestamp");
            assert_eq!(
                (f[1].parse::<u32>().unwrap(), f[2].parse::<usize>().unwrap()),
                (*orig, data.len()),
                "{name}"
            );
        }
    }
}
