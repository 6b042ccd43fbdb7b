//! Classic BPF against libpcap/tcpdump: for every expression of the shared
//! filter corpus that libpcap compiles, tcpdump's `-ddd` program is parsed,
//! passes our checker, prints byte-for-byte like `tcpdump -d` and `-dd`,
//! and, run by our interpreter over the packet corpus, accepts exactly as
//! many packets as `tcpdump -r --count` does.

use std::io::Cursor;
use std::process::Command;

use netobs_capture::bpf::{self, op, Insn, Metadata, Program};
use netobs_capture::file::CaptureReader;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/eth_corpus.pcap");
const FILTERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/corpus/filters-ethernet.txt");

fn tcpdump(args: &[&str]) -> Option<String> {
    let out = Command::new("tcpdump").args(args).output().expect("tcpdump installed");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn corpus() -> Vec<(Vec<u8>, u32)> {
    let mut r = CaptureReader::new(Cursor::new(std::fs::read(CORPUS).unwrap())).unwrap();
    let mut v = Vec::new();
    while let Some(rec) = r.next_record().unwrap() {
        v.push((rec.data.to_vec(), rec.orig_len));
    }
    v
}

#[test]
fn libpcap_programs_check_print_and_run_like_tcpdump() {
    let packets = corpus();
    let filters = std::fs::read_to_string(FILTERS).unwrap();
    let mut compared = 0;
    for expr in filters.lines().filter(|l| !l.trim().is_empty()) {
        let Some(ddd) = tcpdump(&["-y", "EN10MB", "-ddd", expr]) else {
            continue; // libpcap refuses it for Ethernet
        };
        let prog = bpf::parse_decimal(&ddd).unwrap_or_else(|e| panic!("{expr}: {e}"));
        bpf::check(&prog).unwrap_or_else(|e| panic!("{expr}: libpcap's program fails our checker: {e}"));
        assert_eq!(bpf::format_decimal(&prog), ddd, "{expr}: -ddd");
        let d = tcpdump(&["-y", "EN10MB", "-d", expr]).unwrap();
        assert_eq!(bpf::format_image(&prog), d, "{expr}: -d");
        let dd = tcpdump(&["-y", "EN10MB", "-dd", expr]).unwrap();
        assert_eq!(bpf::format_c(&prog), dd, "{expr}: -dd");
        // inbound/outbound/ifindex compile to ancillary loads that
        // tcpdump refuses on files.
        if let Some(want) = tcpdump(&["-r", CORPUS, "--count", expr]) {
            let got = packets
                .iter()
                .filter(|(p, len)| bpf::run(&prog.insns, p, *len, &Metadata::default()) != 0)
                .count();
            let want: usize = want.split_whitespace().next().unwrap().parse().unwrap();
            assert_eq!(got, want, "{expr}: accepted packets");
        }
        compared += 1;
    }
    assert!(compared > 200, "only {compared} expressions compiled by libpcap");
}

fn refused(insns: Vec<Insn>, what: &str) {
    let e = bpf::check(&Program::new(insns)).expect_err(what);
    eprintln!("{what}: {e}");
}

#[test]
fn checker_refuses_what_the_kernel_refuses() {
    let ret = Insn::stmt(op::RET | op::K, 0);
    refused(vec![], "empty program");
    refused(vec![ret; 4097], "4097 instructions");
    bpf::check(&Program::new(vec![ret; 4096])).unwrap();
    refused(vec![Insn::stmt(op::LD | op::IMM, 1)], "no ret at the end");
    refused(
        vec![Insn::stmt(op::ALU | op::DIV | op::K, 0), ret],
        "division by constant zero",
    );
    refused(
        vec![Insn::stmt(op::ALU | op::MOD | op::K, 0), ret],
        "modulo by constant zero",
    );
    refused(vec![Insn::stmt(op::ALU | op::LSH | op::K, 32), ret], "shift by 32");
    refused(vec![Insn::stmt(op::ST, 16), ret], "memory slot 16");
    refused(vec![Insn::stmt(op::LD | op::MEM, 3), ret], "slot read before written");
    refused(
        vec![Insn::jump(op::JMP | op::JEQ | op::K, 0, 1, 0), ret],
        "jump past the end",
    );
    refused(vec![Insn::stmt(op::JMP | op::JA, 1), ret], "ja past the end");
    refused(
        vec![Insn::stmt(op::LD | op::W | op::ABS, bpf::skf::AD_OFF + 2), ret],
        "bad ancillary",
    );
    refused(vec![Insn::stmt(0xffff, 0), ret], "unknown opcode");
    // A slot written on only one path is refused at the join.
    let st = Insn::stmt(op::ST, 1);
    let ld = Insn::stmt(op::LD | op::MEM, 1);
    refused(
        vec![Insn::jump(op::JMP | op::JEQ | op::K, 0, 0, 1), st, ld, ret],
        "slot written on one path",
    );
    bpf::check(&Program::new(vec![
        Insn::stmt(
            op::LD | op::B | op::ABS,
            bpf::skf::AD_OFF + bpf::skf::AD_VLAN_TAG_PRESENT,
        ),
        st,
        ld,
        ret,
    ]))
    .unwrap();
}

/// The kernel is the oracle for the checker: what it refuses, setsockopt
/// SO_ATTACH_FILTER refuses with EINVAL, and what it accepts attaches.
#[test]
fn checker_agrees_with_the_kernel() {
    if !netobs_testsupport::privileged("checker_agrees_with_the_kernel") {
        return;
    }
    let ret = Insn::stmt(op::RET | op::K, 0);
    let cases = vec![
        vec![ret],
        vec![ret; 4096],
        vec![ret; 4097],
        vec![Insn::stmt(op::LD | op::IMM, 1)],
        vec![Insn::stmt(op::ALU | op::DIV | op::K, 0), ret],
        vec![Insn::stmt(op::ALU | op::DIV | op::X, 0), ret],
        vec![Insn::stmt(op::ALU | op::LSH | op::K, 32), ret],
        vec![Insn::stmt(op::ALU | op::LSH | op::K, 31), ret],
        vec![Insn::stmt(op::ST, 16), ret],
        vec![Insn::stmt(op::LD | op::MEM, 3), ret],
        vec![Insn::stmt(op::ST, 3), Insn::stmt(op::LD | op::MEM, 3), ret],
        vec![Insn::jump(op::JMP | op::JEQ | op::K, 0, 1, 0), ret],
        vec![Insn::jump(op::JMP | op::JEQ | op::K, 0, 0, 0), ret],
        vec![Insn::stmt(op::JMP | op::JA, 1), ret],
        vec![Insn::stmt(op::LD | op::W | op::ABS, bpf::skf::AD_OFF + 2), ret],
        vec![
            Insn::stmt(op::LD | op::H | op::ABS, bpf::skf::AD_OFF + bpf::skf::AD_VLAN_TPID),
            ret,
        ],
        vec![
            Insn::stmt(op::LD | op::H | op::ABS, bpf::skf::AD_OFF + bpf::skf::AD_MAX),
            ret,
        ],
        vec![Insn::stmt(op::LD | op::W | op::ABS, bpf::skf::NET_OFF), ret],
        vec![Insn::stmt(0xffff, 0), ret],
        vec![Insn::stmt(op::ALU | op::NEG | op::X, 0), ret],
        vec![Insn::stmt(op::LDX | op::H | op::MSH, 0), ret],
    ];
    for insns in cases {
        let prog = Program::new(insns);
        let ours = bpf::check(&prog);
        let kernel = match netobs_capture::kernel_accepts(&prog) {
            // Not a verdict on the program: the converted program is charged
            // to the socket's option memory (sk_filter_charge), and kernels
            // before 6.9 default net.core.optmem_max to 20480 bytes, less than
            // a 4096-instruction program. Ask again with room.
            Err(e) if e.raw_os_error() == Some(libc::ENOMEM) => {
                eprintln!(
                    "{} instructions: ENOMEM with net.core.optmem_max {}; retried with 1 MiB",
                    prog.len(),
                    optmem_max()
                );
                with_optmem_max(1 << 20, || netobs_capture::kernel_accepts(&prog))
            }
            k => k,
        };
        assert_eq!(
            ours.is_ok(),
            kernel.is_ok(),
            "{:?}: ours {ours:?}, kernel {kernel:?}",
            &prog.insns[..prog.len().min(3)]
        );
    }
}

fn optmem_max() -> String {
    std::fs::read_to_string("/proc/sys/net/core/optmem_max")
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// Runs `f` with net.core.optmem_max raised to `bytes`, restoring it after.
fn with_optmem_max<T>(bytes: u32, f: impl FnOnce() -> T) -> T {
    let old = optmem_max();
    std::fs::write("/proc/sys/net/core/optmem_max", bytes.to_string()).unwrap();
    let r = f();
    std::fs::write("/proc/sys/net/core/optmem_max", old).unwrap();
    r
}

#[test]
fn builder_resolves_labels() {
    let mut b = bpf::Builder::new();
    let (yes, no) = (b.label(), b.label());
    b.stmt(op::LD | op::H | op::ABS, 12);
    b.jump(op::JMP | op::JEQ | op::K, 0x86dd, yes, no);
    b.bind(yes);
    b.stmt(op::RET | op::K, 262144);
    b.bind(no);
    b.stmt(op::RET | op::K, 0);
    let p = b.build().unwrap();
    assert_eq!(
        p,
        bpf::parse_decimal(&tcpdump(&["-y", "EN10MB", "-ddd", "ip6"]).unwrap()).unwrap()
    );
}

/// `bpf::for_cooked_socket` against the program it translates: the
/// corpus's frames recast as a capture on "any" would give them (a
/// LINUX_SLL2 header with the EtherType as protocol, interface index and
/// packet type varying, ARPHRD_ETHER, the source MAC), every expression of
/// the filter corpus compiled for LINUX_SLL2 in live mode keeps the same
/// packets when its translation runs on what a cooked socket's filter sees
/// (the packet after its link header, protocol/pkttype/ifindex in the
/// metadata). Programs reading another cooked-header field have no
/// translation; `link[8:2]` (the ARPHRD type) is one.
#[test]
fn cooked_socket_translation_keeps_the_same_packets() {
    use netobs_capture::file::linktype;
    use netobs_capture::filter::{compile_with, CodeMode};
    let data = std::fs::read(CORPUS).unwrap();
    let mut r = CaptureReader::new(Cursor::new(data)).unwrap();
    let mut cooked = Vec::new();
    let mut n = 0u32;
    while let Some(rec) = r.next_record().unwrap() {
        if rec.data.len() < 14 {
            continue;
        }
        n += 1;
        let protocol = u16::from_be_bytes([rec.data[12], rec.data[13]]);
        let (ifindex, pkttype) = (1 + n % 3, (n % 5) as u8);
        let mut sll2 = protocol.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0, 0]);
        sll2.extend_from_slice(&ifindex.to_be_bytes());
        sll2.extend_from_slice(&[0, 1, pkttype, 6]);
        sll2.extend_from_slice(&rec.data[6..12]);
        sll2.extend_from_slice(&[0, 0]);
        sll2.extend_from_slice(&rec.data[14..]);
        let meta = Metadata {
            protocol,
            pkttype,
            ifindex,
            ..Metadata::default()
        };
        cooked.push((sll2, rec.orig_len + 6, meta));
    }
    let exprs = std::fs::read_to_string(FILTERS).unwrap();
    let mut exprs: Vec<&str> = exprs
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    exprs.extend([
        "inbound and icmp",
        "outbound or arp",
        "ifindex 2 and udp",
        "not ifindex 3",
    ]);
    let (mut translated, mut kept) = (0, 0);
    for expr in exprs {
        let Ok(prog) = compile_with(expr, linktype::LINUX_SLL2, 262144, CodeMode::LinuxLive) else {
            continue;
        };
        let Some(kernel) = bpf::for_cooked_socket(&prog) else {
            continue;
        };
        translated += 1;
        for (pkt, len, meta) in &cooked {
            let want = bpf::run(&prog.insns, pkt, *len, &Metadata::default()) != 0;
            let got = bpf::run(&kernel.insns, &pkt[20..], len - 20, meta) != 0;
            assert_eq!(got, want, "{expr:?}");
            kept += usize::from(want);
        }
    }
    assert!(
        translated >= 100 && kept > 1000,
        "{translated} programs, {kept} packets kept"
    );
    let hatype = compile_with("link[8:2] == 1", linktype::LINUX_SLL2, 262144, CodeMode::LinuxLive).unwrap();
    assert!(bpf::for_cooked_socket(&hatype).is_none());
}
