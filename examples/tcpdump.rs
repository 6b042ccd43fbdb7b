//! A small `tcpdump` on netobs-capture: live capture on a TPACKET_V3 ring
//! or reading a pcap/pcapng file, filters compiled by netobs's own
//! pcap-filter compiler, summaries in tcpdump's `-n` style (relative TCP
//! sequence numbers, absolute with `-S`; UTC timestamps), hex dumps, and the `-d/-dd/-ddd` program printers.
//! As with tcpdump, `-d` with `-i IF` prints the code for a live Linux
//! socket (VLAN tags, direction and interface index from the kernel's
//! metadata), without `-i` the code for a file; a live capture runs that
//! live code in the kernel. `-i any` captures every interface in Linux
//! cooked mode (LINUX_SLL2), each line starting with the interface's name
//! and direction, as tcpdump's does.
//!
//! ```text
//! tcpdump [-i IF] [-n] [-S] [-c N] [-s SNAPLEN] [-w FILE] [-r FILE] [-e] [-q] [-x|-X]
//!         [-d|-dd|-ddd] [-y EN10MB|LINUX_SLL|LINUX_SLL2|RAW] [--count] [EXPR...]
//! ```

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Duration;

use netobs::capture::bpf::{self, Metadata, Program};
use netobs::capture::file::{linktype, CaptureReader, PcapWriter, Precision};
use netobs::capture::summary::Summarizer;
use netobs::capture::{capture, filter, hexdump, summary, CaptureConfig};
use netobs::core::rtnetlink::InterfaceNames;

#[path = "common/signal.rs"]
mod signal;

#[derive(Default)]
struct Args {
    interface: Option<String>,
    count: Option<u64>,
    snaplen: u32,
    write: Option<String>,
    read: Option<String>,
    link_header: bool,
    hex: Option<bool>,
    dump: u8,
    link: Option<u16>,
    count_only: bool,
    absolute_seq: bool,
    quick: bool,
    expr: String,
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("tcpdump: {msg}");
    eprintln!("usage: tcpdump [-i IF] [-n] [-c N] [-s SNAPLEN] [-w FILE] [-r FILE] [-e] [-q] [-x|-X] [-d|-dd|-ddd] [-y LINKTYPE] [--count] [EXPR]");
    ExitCode::from(1)
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        snaplen: 262144,
        ..Args::default()
    };
    let mut it = std::env::args().skip(1);
    let mut expr = Vec::new();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("option {name} needs a value"));
        match arg.as_str() {
            "-i" => a.interface = Some(value("-i")?),
            "-c" => a.count = Some(value("-c")?.parse().map_err(|_| "invalid packet count")?),
            "-s" => {
                let s: u32 = value("-s")?.parse().map_err(|_| "invalid snaplen")?;
                a.snaplen = if s == 0 { 262144 } else { s };
            }
            "-w" => a.write = Some(value("-w")?),
            "-r" => a.read = Some(value("-r")?),
            "-y" => {
                a.link = Some(match value("-y")?.as_str() {
                    "EN10MB" => linktype::ETHERNET,
                    "LINUX_SLL" => linktype::LINUX_SLL,
                    "LINUX_SLL2" => linktype::LINUX_SLL2,
                    "RAW" => linktype::RAW,
                    other => return Err(format!("invalid data link type {other}")),
                })
            }
            "-e" => a.link_header = true,
            "-x" => a.hex = Some(false),
            "-X" => a.hex = Some(true),
            "-d" => a.dump = 1,
            "-dd" => a.dump = 2,
            "-ddd" => a.dump = 3,
            "-S" => a.absolute_seq = true,
            "-q" => a.quick = true,
            "-n" | "-nn" | "-U" => {}
            "--count" => a.count_only = true,
            s if s.starts_with('-') && s.len() > 1 => return Err(format!("unknown option {s}")),
            s => expr.push(s.to_string()),
        }
    }
    a.expr = expr.join(" ");
    Ok(a)
}

/// Prints packets of one link type as tcpdump does: relative TCP sequence
/// numbers (absolute with -S), -e, -q, -x/-X; LINUX_SLL2 packets (`-i any`)
/// with the name of their interface in this namespace.
struct Lines<'a> {
    a: &'a Args,
    sum: Summarizer,
    link: u16,
    names: RefCell<Option<InterfaceNames>>,
}

impl<'a> Lines<'a> {
    fn new(a: &'a Args, link: u16) -> Self {
        let names = (link == linktype::LINUX_SLL2)
            .then(|| InterfaceNames::open().ok())
            .flatten();
        Lines {
            a,
            sum: Summarizer::new().quick(a.quick),
            link,
            names: RefCell::new(names),
        }
    }

    fn describe(&mut self, data: &[u8], wire_len: u32) -> String {
        let a = self.a;
        let absolute = a.absolute_seq && !a.quick;
        if self.link == linktype::LINUX_SLL2 {
            let names = &self.names;
            let name = |i: u32| names.borrow_mut().as_mut().and_then(|n| n.name(i));
            return match (a.link_header, absolute) {
                (true, true) => summary::sll2_summary_with_link(data, wire_len, &name),
                (true, false) => self.sum.sll2_summary_with_link(data, wire_len, &name),
                (false, true) => summary::sll2_summary(data, wire_len, &name),
                (false, false) => self.sum.sll2_summary(data, wire_len, &name),
            };
        }
        // -q prints no sequence numbers: the summarizer's quick mode serves both.
        match (a.link_header, absolute) {
            (true, true) => summary::summary_after_link(data, wire_len),
            (true, false) => self.sum.summary_after_link(data, wire_len),
            (false, true) => summary::summary(data, wire_len),
            (false, false) => self.sum.summary(data, wire_len),
        }
    }

    fn print(&mut self, out: &mut impl Write, ts_ns: u64, data: &[u8], wire_len: u32) {
        let a = self.a;
        let secs = ts_ns / 1_000_000_000;
        let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
        let usec = (ts_ns % 1_000_000_000) / 1000;
        let mut line = format!("{h:02}:{m:02}:{s:02}.{usec:06} ");
        let ethernet = self.link != linktype::LINUX_SLL2;
        if a.link_header && ethernet {
            line.push_str(&match a.quick {
                true => summary::link_header_quick(data, wire_len),
                false => summary::link_header(data, wire_len),
            });
        }
        line.push_str(&self.describe(data, wire_len));
        let _ = writeln!(out, "{line}");
        if let (None, true, Some(body)) = (a.hex, ethernet, summary::undecoded_payload(data)) {
            let _ = writeln!(out, "{}", hexdump::tcpdump_hex(body, true));
        }
        if let Some(ascii) = a.hex {
            // Like tcpdump -x/-X: the bytes after the link-layer header.
            let header = if ethernet { 14 } else { summary::SLL2_HDR_LEN };
            let body = data.get(header..).unwrap_or_default();
            if !body.is_empty() {
                let _ = writeln!(out, "{}", hexdump::tcpdump_hex(body, ascii));
            }
        }
    }
}

fn main() -> ExitCode {
    let a = match parse_args() {
        Ok(a) => a,
        Err(e) => return usage(&e),
    };
    let mut link = a.link.unwrap_or(linktype::ETHERNET);
    if a.dump > 0 {
        // tcpdump opens the interface given with -i and compiles for it.
        let mode = match (&a.interface, &a.read) {
            // `-i any` is a cooked capture, compiled for LINUX_SLL2.
            (Some(name), None) if name == capture::ANY => {
                link = linktype::LINUX_SLL2;
                filter::CodeMode::LinuxLive
            }
            (Some(name), None) => {
                if let Err(e) = netobs::capture::capture::interface_index(name) {
                    eprintln!("tcpdump: {e}");
                    return ExitCode::from(1);
                }
                filter::CodeMode::LinuxLive
            }
            _ => filter::CodeMode::Offline,
        };
        return match filter::compile_with(&a.expr, link, a.snaplen, mode) {
            Ok(p) => {
                let text = match a.dump {
                    1 => bpf::format_image(&p),
                    2 => bpf::format_c(&p),
                    _ => bpf::format_decimal(&p),
                };
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("tcpdump: {e}");
                ExitCode::from(1)
            }
        };
    }
    if let Some(path) = &a.read {
        read_file(&a, path)
    } else {
        live(&a)
    }
}

fn compile_for(a: &Args, link: u16) -> Result<Program, ExitCode> {
    filter::compile(&a.expr, link, a.snaplen).map_err(|e| {
        eprintln!("tcpdump: {e}");
        ExitCode::from(1)
    })
}

type Writer = PcapWriter<BufWriter<std::fs::File>>;

/// The `-w FILE` pcap writer, if asked for.
fn open_writer(a: &Args, link: u16) -> Result<Option<Writer>, ExitCode> {
    let Some(path) = &a.write else {
        return Ok(None);
    };
    std::fs::File::create(path)
        .and_then(|f| PcapWriter::new(BufWriter::with_capacity(1 << 18, f), link, a.snaplen, Precision::Micro))
        .map(Some)
        .map_err(|e| {
            eprintln!("tcpdump: {path}: {e}");
            ExitCode::from(1)
        })
}

fn read_file(a: &Args, path: &str) -> ExitCode {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tcpdump: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut r = match CaptureReader::new(std::io::BufReader::new(file)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("tcpdump: {path}: {e}");
            return ExitCode::from(1);
        }
    };
    let prog = match compile_for(a, r.linktype()) {
        Ok(p) => p,
        Err(c) => return c,
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut writer = match open_writer(a, r.linktype()) {
        Ok(w) => w,
        Err(c) => return c,
    };
    let mut n = 0u64;
    let mut lines = Lines::new(a, r.linktype());
    let meta = Metadata::default();
    loop {
        let rec = match r.next_record() {
            Ok(Some(rec)) => rec,
            Ok(None) => break,
            Err(e) => {
                let _ = out.flush();
                eprintln!("tcpdump: {e}");
                return ExitCode::from(1);
            }
        };
        if bpf::run(&prog.insns, rec.data, rec.orig_len, &meta) == 0 {
            continue;
        }
        n += 1;
        if let Some(w) = writer.as_mut() {
            let _ = w.write_packet(rec.ts_ns, rec.orig_len, rec.data);
        } else if !a.count_only {
            lines.print(&mut out, rec.ts_ns, rec.data, rec.orig_len);
        }
        if a.count == Some(n) {
            break;
        }
    }
    if let Some(mut w) = writer {
        let _ = w.flush();
    }
    if a.count_only {
        let _ = writeln!(out, "{n} packet{}", if n == 1 { "" } else { "s" });
    }
    ExitCode::SUCCESS
}

fn live(a: &Args) -> ExitCode {
    // Compiled in live Linux mode when the capture opens and run in the
    // kernel, `vlan` included (the tag is read from the skb metadata).
    let mut cfg = CaptureConfig::new()
        .snaplen(a.snaplen)
        .promiscuous(true)
        .retire_timeout_ms(50)
        .filter_expression(&a.expr);
    if let Some(i) = &a.interface {
        cfg = cfg.interface(i);
    }
    let mut cap = match cfg.open() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("tcpdump: {e}");
            return ExitCode::from(1);
        }
    };
    let stop = match signal::stop_on_signals() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tcpdump: install a signal handler: {e}");
            return ExitCode::from(1);
        }
    };
    cap.set_stop(&stop);
    let link = cap.linktype();
    let link_name = match link {
        linktype::LINUX_SLL2 => "LINUX_SLL2 (Linux cooked v2)",
        _ => "EN10MB (Ethernet)",
    };
    eprintln!(
        "listening on {}, link-type {link_name}, snapshot length {} bytes",
        a.interface.as_deref().unwrap_or("any"),
        a.snaplen
    );
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut writer = match open_writer(a, link) {
        Ok(w) => w,
        Err(c) => return c,
    };
    let mut n = 0u64;
    let mut lines = Lines::new(a, link);
    'capture: loop {
        if stop.is_stopped() {
            break;
        }
        let mut block = match cap.next_block(Some(Duration::from_millis(200))) {
            Ok(Some(b)) => b,
            Ok(None) => {
                let _ = out.flush();
                continue;
            }
            Err(e) => {
                let _ = out.flush();
                eprintln!("tcpdump: {e}");
                return ExitCode::from(1);
            }
        };
        for p in block.packets() {
            n += 1;
            if let Some(w) = writer.as_mut() {
                let _ = w.write_packet(p.ts_ns(), p.wire_len(), p.data());
            } else if !a.count_only {
                lines.print(&mut out, p.ts_ns(), p.data(), p.wire_len());
            }
            if a.count == Some(n) {
                break 'capture;
            }
        }
        let _ = out.flush();
    }
    if let Some(mut w) = writer {
        let _ = w.flush();
    }
    let _ = out.flush();
    if a.count_only {
        println!("{n} packet{}", if n == 1 { "" } else { "s" });
    }
    let stats = cap.stats().unwrap_or_default();
    eprintln!("{n} packets captured");
    eprintln!("{} packets received by filter", stats.packets);
    eprintln!("{} packets dropped by kernel", stats.drops);
    ExitCode::SUCCESS
}
