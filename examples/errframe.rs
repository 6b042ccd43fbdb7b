//! `errframe`: inject one Ethernet frame with a chosen EtherType, source
//! and destination MAC and payload on an interface (the seed articles'
//! errframe.py, which sends a frame of an unknown EtherType to see where
//! the kernel drops it).
//!
//! ```text
//! errframe -i IF [--type 0x4321] [--src MAC] [--dst MAC] [--payload HEX | --text STRING] [--count N] [--rate PER_SECOND]
//! ```
//! The source MAC defaults to the interface's, the destination to
//! broadcast, the payload to 46 zero bytes (the Ethernet minimum).

use std::process::ExitCode;

use netobs::capture::wire::{build_frame, MacAddr};
use netobs::capture::PacketSender;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("errframe: {msg}");
    ExitCode::from(1)
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let s: String = s.chars().filter(|c| !c.is_whitespace() && *c != ':').collect();
    if s.len() % 2 != 0 {
        return Err("payload hex has an odd number of digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| format!("bad hex byte \"{}\"", &s[i..i + 2])))
        .collect()
}

fn main() -> ExitCode {
    let mut ifname = None;
    let mut ethertype = 0x4321u16;
    let mut src: Option<MacAddr> = None;
    let mut dst = MacAddr::BROADCAST;
    let mut payload = vec![0u8; 46];
    let mut count = 1u32;
    let mut rate: Option<f64> = None;
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let Some(v) = it.next() else {
            return fail(format!("option {arg} needs a value"));
        };
        let r: Result<(), String> = (|| {
            match arg.as_str() {
                "-i" => ifname = Some(v),
                "--type" => {
                    let t = v.trim_start_matches("0x");
                    ethertype = u16::from_str_radix(t, 16).map_err(|_| format!("bad EtherType \"{v}\""))?;
                }
                "--src" => src = Some(v.parse()?),
                "--dst" => dst = v.parse()?,
                "--payload" => payload = parse_hex(&v)?,
                "--text" => payload = v.into_bytes(),
                "--count" => count = v.parse().map_err(|_| format!("bad count \"{v}\""))?,
                "--rate" => {
                    rate = Some(
                        v.parse::<f64>()
                            .ok()
                            .filter(|r| r.is_finite() && *r > 0.0)
                            .ok_or_else(|| format!("bad rate \"{v}\" (frames per second)"))?,
                    )
                }
                other => return Err(format!("unknown option {other}")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            return fail(e);
        }
    }
    let Some(ifname) = ifname else {
        return fail(
            "usage: errframe -i IF [--type 0x4321] [--src MAC] [--dst MAC] [--payload HEX | --text STRING] [--count N] [--rate PER_SECOND]",
        );
    };
    let src = match src {
        Some(s) => s,
        None => match std::fs::read_to_string(format!("/sys/class/net/{ifname}/address")) {
            Ok(a) => match a.trim().parse() {
                Ok(m) => m,
                Err(e) => return fail(e),
            },
            Err(_) => return fail(format!("interface \"{ifname}\" not found")),
        },
    };
    let sender = match PacketSender::open(&ifname) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let frame = build_frame(dst, src, ethertype, &payload);
    // --rate paces by the clock: after every frame that puts the sender
    // ahead of `rate` frames a second, sleep until the schedule catches up.
    let start = std::time::Instant::now();
    for i in 0..count {
        if let Err(e) = sender.send(&frame) {
            return fail(e);
        }
        if let Some(r) = rate {
            let due = std::time::Duration::from_secs_f64(f64::from(i + 1) / r);
            if let Some(ahead) = due.checked_sub(start.elapsed()) {
                if ahead > std::time::Duration::from_micros(200) {
                    std::thread::sleep(ahead);
                }
            }
        }
    }
    println!(
        "sent {count} frame{} of {} bytes, ethertype 0x{ethertype:04x}, {src} > {dst}, on {ifname}",
        if count == 1 { "" } else { "s" },
        frame.len()
    );
    ExitCode::SUCCESS
}
