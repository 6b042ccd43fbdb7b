//! Printers in the formats of `tcpdump -d` (libpcap's `bpf_image`),
//! `-dd` (C array) and `-ddd` (decimal), and a parser for `-ddd` output.

use std::fmt::Write;

use super::{op, skf, Insn, Program};
use crate::CheckError;

/// libpcap's names for ancillary loads, indexed by SKF_AD_* / 4.
const ANCILLARY: [&str; 16] = [
    "proto",
    "type",
    "ifidx",
    "nla",
    "nlan",
    "mark",
    "queue",
    "hatype",
    "rxhash",
    "cpu",
    "xor_x",
    "vlan_tci",
    "vlanp",
    "poff",
    "random",
    "vlan_tpid",
];

fn abs_operand(k: u32) -> String {
    if k >= skf::AD_OFF && k - skf::AD_OFF < skf::AD_MAX && (k - skf::AD_OFF) % 4 == 0 {
        format!("[{}]", ANCILLARY[((k - skf::AD_OFF) / 4) as usize])
    } else {
        format!("[{}]", k as i32)
    }
}

/// One instruction as `tcpdump -d` prints it, `n` being its index.
pub fn image(insn: &Insn, n: usize) -> String {
    use op::*;
    let k = insn.k;
    let sk = k as i32;
    let c = insn.code;
    let (name, operand): (&str, String) = match c {
        _ if c == RET | K => ("ret", format!("#{sk}")),
        _ if c == RET | A => ("ret", String::new()),
        _ if c == LD | W | ABS => ("ld", abs_operand(k)),
        _ if c == LD | H | ABS => ("ldh", abs_operand(k)),
        _ if c == LD | B | ABS => ("ldb", abs_operand(k)),
        _ if c == LD | W | LEN => ("ld", "#pktlen".into()),
        _ if c == LDX | W | LEN => ("ldx", "#pktlen".into()),
        _ if c == LD | W | IND => ("ld", format!("[x + {sk}]")),
        _ if c == LD | H | IND => ("ldh", format!("[x + {sk}]")),
        _ if c == LD | B | IND => ("ldb", format!("[x + {sk}]")),
        _ if c == LD | IMM => ("ld", format!("#0x{k:x}")),
        _ if c == LDX | IMM => ("ldx", format!("#0x{k:x}")),
        _ if c == LDX | MSH | B => ("ldxb", format!("4*([{sk}]&0xf)")),
        _ if c == LD | MEM => ("ld", format!("M[{sk}]")),
        _ if c == LDX | MEM => ("ldx", format!("M[{sk}]")),
        _ if c == ST => ("st", format!("M[{sk}]")),
        _ if c == STX => ("stx", format!("M[{sk}]")),
        _ if c == JMP | JA => ("ja", format!("{}", (n as i64 + 1 + k as i64) as i32)),
        _ if c & 0x07 == JMP => {
            let name = match c & 0xf0 {
                JGT => "jgt",
                JGE => "jge",
                JEQ => "jeq",
                JSET => "jset",
                _ => return format!("({n:03}) {:<8} 0x{c:x}", "unimp"),
            };
            let operand = if c & X != 0 {
                "x".to_string()
            } else {
                format!("#0x{k:x}")
            };
            return format!(
                "({n:03}) {name:<8} {operand:<16} jt {}\tjf {}",
                n + 1 + insn.jt as usize,
                n + 1 + insn.jf as usize
            );
        }
        _ if c & 0x07 == ALU && (c & 0x07) | (c & 0xf0) | (c & X) == c => {
            let name = match c & 0xf0 {
                ADD => "add",
                SUB => "sub",
                MUL => "mul",
                DIV => "div",
                MOD => "mod",
                AND => "and",
                OR => "or",
                XOR => "xor",
                LSH => "lsh",
                RSH => "rsh",
                NEG if c == ALU | NEG => "neg",
                _ => return format!("({n:03}) {:<8} 0x{c:x}", "unimp"),
            };
            let operand = if name == "neg" {
                String::new()
            } else if c & X != 0 {
                "x".into()
            } else if matches!(c & 0xf0, AND | OR | XOR) {
                format!("#0x{k:x}")
            } else {
                format!("#{sk}")
            };
            (name, operand)
        }
        _ if c == MISC | TAX => ("tax", String::new()),
        _ if c == MISC | TXA => ("txa", String::new()),
        _ => ("unimp", format!("0x{c:x}")),
    };
    format!("({n:03}) {name:<8} {operand}")
}

/// The whole program as `tcpdump -d` prints it (one line per instruction,
/// each ending in `\n`).
pub fn format_image(prog: &Program) -> String {
    let mut s = String::new();
    for (n, i) in prog.insns.iter().enumerate() {
        s.push_str(&image(i, n));
        s.push('\n');
    }
    s
}

/// The program as `tcpdump -dd` prints it: `{ 0x28, 0, 0, 0x0000000c },`.
pub fn format_c(prog: &Program) -> String {
    let mut s = String::new();
    for i in &prog.insns {
        let _ = writeln!(s, "{{ 0x{:x}, {}, {}, 0x{:08x} }},", i.code, i.jt, i.jf, i.k);
    }
    s
}

/// The program as `tcpdump -ddd` prints it: the count, then `code jt jf k`
/// in decimal, one instruction a line.
pub fn format_decimal(prog: &Program) -> String {
    let mut s = format!("{}\n", prog.insns.len());
    for i in &prog.insns {
        let _ = writeln!(s, "{} {} {} {}", i.code, i.jt, i.jf, i.k);
    }
    s
}

/// Parses `tcpdump -ddd` output (also the comma-separated one-line form
/// `4,40 0 0 12,...` that `iptables -m bpf` and `tc` take). The program
/// is not checked; call [`check`](super::check) before attaching it.
pub fn parse_decimal(text: &str) -> Result<Program, CheckError> {
    let bad = |pc: usize, what: &str| CheckError {
        pc,
        reason: format!("cannot parse -ddd text: {what}"),
    };
    let mut items = text.split([',', '\n']).map(str::trim).filter(|l| !l.is_empty());
    let count: usize = items
        .next()
        .ok_or_else(|| bad(0, "empty"))?
        .parse()
        .map_err(|_| bad(0, "first line is not the instruction count"))?;
    let mut insns = Vec::with_capacity(count.min(super::MAX_INSNS));
    for (pc, line) in items.enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() != 4 {
            return Err(bad(pc, &format!("line \"{line}\" does not have 4 fields")));
        }
        let num = |s: &str| {
            s.parse::<u64>()
                .map_err(|_| bad(pc, &format!("\"{s}\" is not a number")))
        };
        let (code, jt, jf, k) = (num(f[0])?, num(f[1])?, num(f[2])?, num(f[3])?);
        if code > u16::MAX as u64 || jt > 255 || jf > 255 || k > u32::MAX as u64 {
            return Err(bad(pc, &format!("field out of range in \"{line}\"")));
        }
        insns.push(Insn {
            code: code as u16,
            jt: jt as u8,
            jf: jf as u8,
            k: k as u32,
        });
    }
    if insns.len() != count {
        return Err(bad(
            insns.len(),
            &format!("count says {count} instructions, found {}", insns.len()),
        ));
    }
    Ok(Program::new(insns))
}
