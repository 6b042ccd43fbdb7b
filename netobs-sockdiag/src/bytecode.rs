//! inet_diag filter bytecode (INET_DIAG_REQ_BYTECODE): the program the
//! kernel runs on each socket before answering, so a dump carries only the
//! sockets wanted (net/ipv4/inet_diag.c `inet_diag_bc_run`).
//!
//! A program is a sequence of `struct inet_diag_bc_op { u8 code; u8 yes;
//! u16 no; }`, each followed by its operand. After an op, the program
//! continues `yes` bytes further if the condition held and `no` bytes
//! further if not; the socket is accepted when execution lands exactly on
//! the end, rejected when it jumps past it. The kernel's auditor
//! (`inet_diag_bc_audit`) walks only the `yes` chain and insists that every
//! `no` target is an op boundary of that chain, the end, or end + 4. So
//! this compiler always lets "true" fall through to the next op and jumps
//! only on "false"; `or` and `not` use INET_DIAG_BC_JMP, an op whose
//! condition never holds.

use std::net::IpAddr;

use crate::filter::{End, Expr, SockKey};

/// INET_DIAG_BC_* op codes (include/uapi/linux/inet_diag.h).
pub mod op {
    /// No operation.
    pub const NOP: u8 = 0;
    /// Unconditional jump by `no`.
    pub const JMP: u8 = 1;
    /// Source port >= operand.
    pub const S_GE: u8 = 2;
    /// Source port <= operand.
    pub const S_LE: u8 = 3;
    /// Destination port >= operand.
    pub const D_GE: u8 = 4;
    /// Destination port <= operand.
    pub const D_LE: u8 = 5;
    /// Local port chosen by the kernel.
    pub const AUTO: u8 = 6;
    /// Source host condition.
    pub const S_COND: u8 = 7;
    /// Destination host condition.
    pub const D_COND: u8 = 8;
    /// Bound device.
    pub const DEV_COND: u8 = 9;
    /// Mark and mask (needs CAP_NET_ADMIN).
    pub const MARK_COND: u8 = 10;
    /// Source port == operand (4.17+).
    pub const S_EQ: u8 = 11;
    /// Destination port == operand (4.17+).
    pub const D_EQ: u8 = 12;
    /// cgroup v2 id (5.6+).
    pub const CGROUP_COND: u8 = 13;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// Instruction index (or the end when equal to the count).
    Label(usize),
    /// Past the end: reject.
    Reject,
}

struct Ins {
    code: u8,
    operand: Vec<u8>,
    fail: Target,
}

struct Compiler {
    ins: Vec<Ins>,
    /// Label id -> instruction index, bound later.
    labels: Vec<Option<usize>>,
}

impl Compiler {
    fn label(&mut self) -> usize {
        self.labels.push(None);
        self.labels.len() - 1
    }
    fn bind(&mut self, l: usize) {
        self.labels[l] = Some(self.ins.len());
    }
    fn emit(&mut self, code: u8, operand: Vec<u8>, fail: Target) {
        self.ins.push(Ins { code, operand, fail });
    }

    /// Emits `e` so that "true" falls through and "false" goes to `fail`.
    /// Label targets are label ids until [`Compiler::finish`].
    fn expr(&mut self, e: &Expr, fail: Target) {
        match e {
            Expr::And(a, b) => {
                self.expr(a, fail);
                self.expr(b, fail);
            }
            Expr::Or(a, b) => {
                let try_b = self.label();
                let done = self.label();
                self.expr(a, Target::Label(try_b));
                self.emit(op::JMP, Vec::new(), Target::Label(done));
                self.bind(try_b);
                self.expr(b, fail);
                self.bind(done);
            }
            Expr::Not(a) => {
                let done = self.label();
                self.expr(a, Target::Label(done));
                self.emit(op::JMP, Vec::new(), fail);
                self.bind(done);
            }
            Expr::Host(end, c) => {
                let code = if *end == End::Src { op::S_COND } else { op::D_COND };
                // struct inet_diag_hostcond { u8 family; u8 prefix_len; int port; __be32 addr[]; }
                let mut v = Vec::with_capacity(24);
                let (family, bits, addr): (u8, u8, &[u8]) = match &c.prefix {
                    None => (libc::AF_UNSPEC as u8, 0, &[]),
                    Some((IpAddr::V4(a), b)) => (libc::AF_INET as u8, *b, &a.octets()[..]),
                    Some((IpAddr::V6(a), b)) => (libc::AF_INET6 as u8, *b, &a.octets()[..]),
                };
                v.extend_from_slice(&[family, bits, 0, 0]);
                v.extend_from_slice(&c.port.map_or(-1i32, i32::from).to_ne_bytes());
                v.extend_from_slice(addr);
                self.emit(code, v, fail);
            }
            Expr::PortGe(end, p) | Expr::PortLe(end, p) => {
                let ge = matches!(e, Expr::PortGe(..));
                let code = match (end, ge) {
                    (End::Src, true) => op::S_GE,
                    (End::Src, false) => op::S_LE,
                    (End::Dst, true) => op::D_GE,
                    (End::Dst, false) => op::D_LE,
                };
                // The operand is a second bc_op whose `no` holds the port.
                let mut v = vec![0, 0];
                v.extend_from_slice(&p.to_ne_bytes());
                self.emit(code, v, fail);
            }
            Expr::Dev(i) => self.emit(op::DEV_COND, i.to_ne_bytes().to_vec(), fail),
            Expr::Mark { value, mask } => {
                let mut v = value.to_ne_bytes().to_vec();
                v.extend_from_slice(&mask.to_ne_bytes());
                self.emit(op::MARK_COND, v, fail);
            }
            Expr::Cgroup(id) => self.emit(op::CGROUP_COND, id.to_ne_bytes().to_vec(), fail),
            Expr::AutoBound => self.emit(op::AUTO, Vec::new(), fail),
            // Unix names never match an inet socket: always false.
            Expr::UnixName(..) => self.emit(op::JMP, Vec::new(), fail),
        }
    }

    fn finish(self) -> Vec<u8> {
        let mut offs = Vec::with_capacity(self.ins.len() + 1);
        let mut pos = 0usize;
        for i in &self.ins {
            offs.push(pos);
            pos += 4 + i.operand.len();
        }
        offs.push(pos);
        let total = pos;
        let mut out = Vec::with_capacity(total);
        for (n, i) in self.ins.iter().enumerate() {
            let len = 4 + i.operand.len();
            let target = match i.fail {
                Target::Reject => total + 4,
                Target::Label(l) => offs[self.labels[l].expect("every label is bound")],
            };
            out.push(i.code);
            out.push(len as u8);
            out.extend_from_slice(&((target - offs[n]) as u16).to_ne_bytes());
            out.extend_from_slice(&i.operand);
        }
        out
    }
}

/// Compiles a filter expression to inet_diag bytecode. Expressions from
/// [`crate::filter::parse`] are bounded ([`crate::filter::MAX_CONDITIONS`])
/// so every jump fits the op's 16-bit `no`.
pub fn compile(e: &Expr) -> Vec<u8> {
    let mut c = Compiler {
        ins: Vec::new(),
        labels: Vec::new(),
    };
    c.expr(e, Target::Reject);
    c.finish()
}

/// Why [`audit`] refused a program.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad inet_diag bytecode at offset {offset}: {reason}")]
pub struct AuditError {
    /// Offset of the offending op.
    pub offset: usize,
    /// The rule it breaks.
    pub reason: &'static str,
}

fn bc_op(b: &[u8], at: usize) -> Option<(u8, usize, usize)> {
    let o = b.get(at..at + 4)?;
    Some((o[0], o[1] as usize, u16::from_ne_bytes([o[2], o[3]]) as usize))
}

/// Whether `target` (an offset from the start) lies on the yes-chain.
fn valid_cc(b: &[u8], target: usize) -> bool {
    let mut pos = 0;
    while pos <= b.len() {
        if pos == target {
            return true;
        }
        if pos > target {
            return false;
        }
        match bc_op(b, pos) {
            Some((_, yes, _)) if yes >= 4 && yes % 4 == 0 => pos += yes,
            _ => return false,
        }
    }
    false
}

/// Checks a program with the kernel's rules (`inet_diag_bc_audit`), so a
/// program the kernel would refuse with EINVAL is caught before sending.
/// `net_admin` says whether the caller may use MARK_COND.
pub fn audit(b: &[u8], net_admin: bool) -> Result<(), AuditError> {
    let mut pos = 0;
    let fail = |offset, reason| Err(AuditError { offset, reason });
    while pos < b.len() {
        let len = b.len() - pos;
        let Some((code, yes, no)) = bc_op(b, pos) else {
            return fail(pos, "truncated op");
        };
        let operand = match code {
            op::S_COND | op::D_COND => {
                let Some(h) = b.get(pos + 4..pos + 12) else {
                    return fail(pos, "truncated host condition");
                };
                let alen = match h[0] as i32 {
                    libc::AF_UNSPEC => 0,
                    libc::AF_INET => 4,
                    libc::AF_INET6 => 16,
                    _ => return fail(pos, "unknown address family"),
                };
                if h[1] as usize > alen * 8 {
                    return fail(pos, "prefix longer than the address");
                }
                8 + alen
            }
            op::DEV_COND | op::S_GE | op::S_LE | op::D_GE | op::D_LE | op::S_EQ | op::D_EQ => 4,
            op::MARK_COND if !net_admin => return fail(pos, "MARK_COND needs CAP_NET_ADMIN (EPERM)"),
            op::MARK_COND | op::CGROUP_COND => 8,
            op::AUTO | op::JMP | op::NOP => 0,
            _ => return fail(pos, "unknown op code"),
        };
        let min_len = 4 + operand;
        if len < min_len {
            return fail(pos, "operand runs past the end");
        }
        if code != op::NOP {
            if no < min_len || no > len + 4 || no % 4 != 0 {
                return fail(pos, "'no' jump out of range or misaligned");
            }
            if no < len && !valid_cc(b, pos + no) {
                return fail(pos, "'no' jump into the middle of an op");
            }
        }
        if yes < min_len || yes > len + 4 || yes % 4 != 0 {
            return fail(pos, "'yes' step out of range or misaligned");
        }
        pos += yes;
    }
    Ok(())
}

/// Runs a program on one socket with the kernel's semantics
/// (`inet_diag_bc_run`). Programs should have passed [`audit`]; anything
/// else is rejected rather than read out of bounds.
pub fn run(b: &[u8], s: &SockKey) -> bool {
    let mut pos = 0usize;
    while pos < b.len() {
        let Some((code, yes_step, no_step)) = bc_op(b, pos) else {
            return false;
        };
        let arg = |n: usize| b.get(pos + 4..pos + 4 + n);
        let port_arg = || arg(4).map(|a| u16::from_ne_bytes([a[2], a[3]]));
        let yes = match code {
            op::NOP => true,
            op::JMP => false,
            op::S_GE => port_arg().is_some_and(|p| s.sport >= p),
            op::S_LE => port_arg().is_some_and(|p| s.sport <= p),
            op::D_GE => port_arg().is_some_and(|p| s.dport >= p),
            op::D_LE => port_arg().is_some_and(|p| s.dport <= p),
            op::S_EQ => port_arg().is_some_and(|p| s.sport == p),
            op::D_EQ => port_arg().is_some_and(|p| s.dport == p),
            op::AUTO => s.autobound,
            op::S_COND | op::D_COND => {
                let Some(h) = arg(8) else { return false };
                let alen = match h[0] as i32 {
                    libc::AF_INET => 4,
                    libc::AF_INET6 => 16,
                    _ => 0,
                };
                let Some(full) = arg(8 + alen) else { return false };
                let port = i32::from_ne_bytes([h[4], h[5], h[6], h[7]]);
                let prefix = match alen {
                    4 => Some((
                        IpAddr::from(<[u8; 4]>::try_from(&full[8..12]).unwrap_or_default()),
                        h[1],
                    )),
                    16 => Some((
                        IpAddr::from(<[u8; 16]>::try_from(&full[8..24]).unwrap_or_default()),
                        h[1],
                    )),
                    _ => None,
                };
                let cond = crate::filter::HostCond {
                    prefix,
                    port: u16::try_from(port).ok(),
                };
                let (addr, p) = if code == op::S_COND {
                    (s.src, s.sport)
                } else {
                    (s.dst, s.dport)
                };
                cond.matches(addr, p)
            }
            op::DEV_COND => arg(4).is_some_and(|a| u32::from_ne_bytes([a[0], a[1], a[2], a[3]]) == s.ifindex),
            op::MARK_COND => arg(8).is_some_and(|a| {
                let v = u32::from_ne_bytes([a[0], a[1], a[2], a[3]]);
                let m = u32::from_ne_bytes([a[4], a[5], a[6], a[7]]);
                s.mark & m == v
            }),
            op::CGROUP_COND => arg(8).is_some_and(|a| u64::from_ne_bytes(a.try_into().unwrap_or_default()) == s.cgroup),
            _ => return false,
        };
        let step = if yes { yes_step } else { no_step };
        if step == 0 {
            return false;
        }
        pos += step;
    }
    pos == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse;

    #[test]
    fn compiled_programs_pass_the_audit_and_agree_with_the_tree() {
        let exprs = [
            "sport = :22",
            "( dport = :443 or sport = :ssh )",
            "not dst 10.0.0.0/8",
            "sport > :1024 and not ( dport = :80 or dport = :8080 )",
            "src [::1] or src 127.0.0.1",
            "src unix:* or sport = :22",
            "not dst unix:@x",
            "dev 1 or fwmark 0x10/0xff",
            "not not sport = :1 or dport < :10 dport >= :3",
        ];
        let keys = [
            SockKey {
                src: "127.0.0.1".parse().unwrap(),
                dst: "10.1.1.1".parse().unwrap(),
                sport: 22,
                dport: 443,
                ifindex: 1,
                mark: 0x110,
                cgroup: 0,
                autobound: false,
            },
            SockKey {
                src: "::1".parse().unwrap(),
                dst: "::ffff:10.0.0.9".parse().unwrap(),
                sport: 40000,
                dport: 8080,
                ifindex: 0,
                mark: 0,
                cgroup: 0,
                autobound: true,
            },
            SockKey {
                src: "192.168.0.1".parse().unwrap(),
                dst: "8.8.8.8".parse().unwrap(),
                sport: 2,
                dport: 5,
                ifindex: 3,
                mark: 0x10,
                cgroup: 0,
                autobound: false,
            },
        ];
        for x in exprs {
            let e = parse(x).unwrap().unwrap();
            let bc = compile(&e);
            audit(&bc, true).unwrap_or_else(|err| panic!("{x}: {err}"));
            for k in &keys {
                assert_eq!(run(&bc, k), e.matches(&(*k).into()), "{x} on {k:?}");
                // A unix name pattern never matches an inet socket.
                assert!(!parse("src unix:*").unwrap().unwrap().matches(&(*k).into()));
            }
        }
    }

    #[test]
    fn audit_refuses_bad_programs() {
        // Backward-pointing 'no' (0) and an unknown op.
        assert!(audit(&[op::S_GE, 8, 0, 0, 0, 0, 22, 0], true).is_err());
        assert!(audit(&[200, 4, 8, 0], true).is_err());
        assert!(audit(&[op::MARK_COND, 12, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0], false).is_err());
        assert!(audit(&[op::S_COND, 12, 16, 0, 2, 33, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4], true).is_err());
    }
}
