//! The kernel's checks on a classic BPF program before it is attached
//! (net/core/filter.c: `bpf_check_classic`, `chk_code_allowed`,
//! `check_load_and_stores`, and the length check of `bpf_prog_create`).

use super::{op, skf, Insn, Program, MAX_INSNS, MEMWORDS};
use crate::CheckError;

/// Whether the opcode is one the kernel accepts (the `codes[]` table of
/// `chk_code_allowed`).
fn code_allowed(code: u16) -> bool {
    use op::*;
    const ALU_OPS: [u16; 11] = [ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH, NEG];
    if code & 0x07 == ALU {
        let o = code & 0xf0;
        let src = code & 0x08;
        return code & !0xf8 == ALU && ALU_OPS.contains(&o) && (o != NEG || src == K);
    }
    matches!(
        code,
        c if c == LD | W | ABS || c == LD | H | ABS || c == LD | B | ABS
            || c == LD | W | LEN || c == LD | W | IND || c == LD | H | IND || c == LD | B | IND
            || c == LD | IMM || c == LD | MEM
            || c == LDX | W | LEN || c == LDX | B | MSH || c == LDX | IMM || c == LDX | MEM
            || c == ST || c == STX
            || c == MISC | TAX || c == MISC | TXA
            || c == RET | K || c == RET | A
            || c == JMP | JA
            || c == JMP | JEQ | K || c == JMP | JEQ | X
            || c == JMP | JGE | K || c == JMP | JGE | X
            || c == JMP | JGT | K || c == JMP | JGT | X
            || c == JMP | JSET | K || c == JMP | JSET | X
    )
}

fn is_cond_jump(code: u16) -> bool {
    code & 0x07 == op::JMP && code & 0xf0 != op::JA
}

fn err(pc: usize, reason: impl Into<String>) -> CheckError {
    CheckError {
        pc,
        reason: reason.into(),
    }
}

/// Checks `prog` with the rules the kernel applies in
/// `bpf_check_classic()`, so a program refused here is never handed to
/// setsockopt(SO_ATTACH_FILTER) (which would fail with EINVAL):
///
/// - 1 to 4096 instructions;
/// - only opcodes of the kernel's table;
/// - division or modulo by constant zero refused, shifts by 32 or more refused;
/// - memory slots 0..15, and no slot read before every path has written it;
/// - jumps forward and inside the program;
/// - loads at SKF_AD_OFF and above only for known ancillary fields;
/// - the last instruction a `ret`.
pub fn check(prog: &Program) -> Result<(), CheckError> {
    let insns = &prog.insns;
    let flen = insns.len();
    if flen == 0 || flen > MAX_INSNS {
        return Err(err(
            flen,
            format!("program has {flen} instructions (1..={MAX_INSNS} allowed)"),
        ));
    }
    for (pc, i) in insns.iter().enumerate() {
        if !code_allowed(i.code) {
            return Err(err(
                pc,
                format!("opcode {:#06x} is not a classic BPF instruction", i.code),
            ));
        }
        let c = i.code;
        if c == op::ALU | op::DIV | op::K || c == op::ALU | op::MOD | op::K {
            if i.k == 0 {
                return Err(err(pc, "division by constant zero"));
            }
        } else if c == op::ALU | op::LSH | op::K || c == op::ALU | op::RSH | op::K {
            if i.k >= 32 {
                return Err(err(pc, format!("shift by {} (must be < 32)", i.k)));
            }
        } else if c == op::LD | op::MEM || c == op::LDX | op::MEM || c == op::ST || c == op::STX {
            if i.k as usize >= MEMWORDS {
                return Err(err(pc, format!("memory slot {} (0..15 allowed)", i.k)));
            }
        } else if c == op::JMP | op::JA {
            if i.k as usize >= flen - pc - 1 {
                return Err(err(pc, format!("ja +{} jumps past the end", i.k)));
            }
        } else if is_cond_jump(c) {
            if pc + i.jt as usize + 1 >= flen || pc + i.jf as usize + 1 >= flen {
                return Err(err(pc, "conditional jump past the end"));
            }
        } else if (c == op::LD | op::W | op::ABS || c == op::LD | op::H | op::ABS || c == op::LD | op::B | op::ABS)
            && i.k >= skf::AD_OFF
        {
            // bpf_anc_helper() knows exactly the SKF_AD_* values, all
            // multiples of 4 below SKF_AD_MAX.
            let off = i.k - skf::AD_OFF;
            if off >= skf::AD_MAX || off % 4 != 0 {
                return Err(err(pc, format!("unknown ancillary offset SKF_AD_OFF+{off}")));
            }
        }
    }
    let last = insns[flen - 1].code;
    if last != op::RET | op::K && last != op::RET | op::A {
        return Err(err(flen - 1, "program does not end in ret"));
    }
    check_load_and_stores(insns)
}

/// Every memory slot read must have been written on every path to the
/// read (the kernel's `check_load_and_stores`).
fn check_load_and_stores(insns: &[Insn]) -> Result<(), CheckError> {
    let mut masks = vec![0xffffu16; insns.len()];
    let mut valid: u16 = 0;
    for (pc, i) in insns.iter().enumerate() {
        valid &= masks[pc];
        let c = i.code;
        if c == op::ST || c == op::STX {
            valid |= 1 << i.k;
        } else if c == op::LD | op::MEM || c == op::LDX | op::MEM {
            if valid & (1 << i.k) == 0 {
                return Err(err(pc, format!("memory slot M[{}] read before it is written", i.k)));
            }
        } else if c == op::JMP | op::JA {
            masks[pc + 1 + i.k as usize] &= valid;
            valid = 0xffff;
        } else if is_cond_jump(c) {
            masks[pc + 1 + i.jt as usize] &= valid;
            masks[pc + 1 + i.jf as usize] &= valid;
            valid = 0xffff;
        }
    }
    Ok(())
}
