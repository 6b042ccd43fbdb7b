//! From a tree of predicates to classic BPF: each predicate is straight
//! code ending in a conditional jump; `and`, `or` and `not` only route the
//! jump targets. Jumps farther than 255 instructions go through an
//! unconditional `ja` trampoline.

use crate::bpf::{op, Insn, Program};
use crate::FilterError;

/// A boolean test on the packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pred {
    /// Always true / always false.
    Const(bool),
    /// Run `stmts`, then jump on `jump` (a JMP opcode with K or X) against `k`.
    Test {
        stmts: Vec<Insn>,
        jump: u16,
        k: u32,
    },
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
}

impl Pred {
    pub(crate) fn and(self, other: Pred) -> Pred {
        match (&self, &other) {
            (Pred::Const(true), _) => other,
            (_, Pred::Const(true)) => self,
            _ => Pred::And(Box::new(self), Box::new(other)),
        }
    }

    pub(crate) fn or(self, other: Pred) -> Pred {
        match (&self, &other) {
            (Pred::Const(false), _) => other,
            (_, Pred::Const(false)) => self,
            _ => Pred::Or(Box::new(self), Box::new(other)),
        }
    }

    #[allow(clippy::should_implement_trait)]
    pub(crate) fn not(self) -> Pred {
        Pred::Not(Box::new(self))
    }
}

/// An instruction whose jump targets are labels.
#[derive(Debug, Clone, Copy)]
enum Item {
    Plain(Insn),
    /// Conditional jump to labels (true, false).
    Cond(Insn, usize, usize),
    /// Unconditional jump to a label.
    Ja(usize),
    /// A label definition (no instruction).
    Label(usize),
}

struct Gen {
    items: Vec<Item>,
    labels: usize,
}

impl Gen {
    fn label(&mut self) -> usize {
        self.labels += 1;
        self.labels - 1
    }

    /// Emits `p` jumping to `t` when true and `f` when false. `known` is
    /// the load whose value A already holds on entry (the entry is reached
    /// only right after it), so a test repeating it skips the load.
    fn gen(&mut self, p: &Pred, t: usize, f: usize, known: Option<Insn>) {
        match p {
            Pred::Const(true) => self.items.push(Item::Ja(t)),
            Pred::Const(false) => self.items.push(Item::Ja(f)),
            Pred::Test { stmts, jump, k } => {
                let skip = matches!(stmts.as_slice(), [only] if Some(*only) == known);
                if !skip {
                    self.items.extend(stmts.iter().map(|i| Item::Plain(*i)));
                }
                self.items.push(Item::Cond(Insn::jump(*jump, *k, 0, 0), t, f));
            }
            Pred::And(a, b) => {
                let m = self.label();
                self.gen(a, m, f, known);
                self.items.push(Item::Label(m));
                self.gen(b, t, f, exit_load(a, true));
            }
            Pred::Or(a, b) => {
                let m = self.label();
                self.gen(a, t, m, known);
                self.items.push(Item::Label(m));
                self.gen(b, t, f, exit_load(a, false));
            }
            Pred::Not(a) => self.gen(a, f, t, known),
        }
    }
}

/// The single load whose value A holds when `p` exits on its `true_exit`
/// side, when every path to that exit ends with the same one-instruction
/// test of an absolute or indexed packet load (which reads X but never
/// writes it, so repeating it would give the same A).
fn exit_load(p: &Pred, true_exit: bool) -> Option<Insn> {
    match p {
        Pred::Test { stmts, .. } => match stmts.as_slice() {
            [i] if i.code & 0x07 == op::LD && matches!(i.code & 0xe0, op::ABS | op::IND | op::LEN) => Some(*i),
            _ => None,
        },
        // True exits of `a and b` come only from b; false exits of
        // `a or b` only from b. The other side joins two paths.
        Pred::And(_, b) if true_exit => exit_load(b, true),
        Pred::Or(_, b) if !true_exit => exit_load(b, false),
        Pred::And(a, b) | Pred::Or(a, b) => {
            let (x, y) = (exit_load(a, true_exit), exit_load(b, true_exit));
            if x == y {
                x
            } else {
                None
            }
        }
        Pred::Not(a) => exit_load(a, !true_exit),
        Pred::Const(_) => None,
    }
}

/// Resolves labels to offsets, inserting trampolines for far jumps and
/// dropping `ja` instructions that jump to the next instruction.
fn assemble(mut items: Vec<Item>, labels: usize) -> Result<Vec<Insn>, FilterError> {
    // Remove jumps to the immediately following label (common after `and`).
    items = items
        .iter()
        .enumerate()
        .filter(|(i, it)| match it {
            Item::Ja(l) => !matches!(items.get(i + 1), Some(Item::Label(m)) if m == l),
            _ => true,
        })
        .map(|(_, it)| *it)
        .collect();
    let mut labels = labels;
    loop {
        let mut pos = vec![usize::MAX; labels];
        let mut pc = 0;
        for it in &items {
            match it {
                Item::Label(l) => pos[*l] = pc,
                _ => pc += 1,
            }
        }
        if pc > crate::bpf::MAX_INSNS {
            return Err(FilterError {
                column: 1,
                message: format!("expression needs {pc} instructions, more than the kernel's 4096"),
            });
        }
        // Find the first conditional jump that cannot reach its target.
        let mut pc = 0;
        let mut far = None;
        for (idx, it) in items.iter().enumerate() {
            match it {
                Item::Label(_) => continue,
                Item::Cond(_, t, f) => {
                    for (which, l) in [(0, *t), (1, *f)] {
                        if pos[l] - pc - 1 > 255 {
                            far = Some((idx, which, l));
                            break;
                        }
                    }
                }
                _ => {}
            }
            if far.is_some() {
                break;
            }
            pc += 1;
        }
        match far {
            None => break,
            Some((idx, which, target)) => {
                // cond -> [tramp: ja target] placed right after the cond;
                // the other branch skips over it.
                let tramp = labels;
                let after = labels + 1;
                labels += 2;
                if let Item::Cond(insn, t, f) = items[idx] {
                    items[idx] = if which == 0 {
                        Item::Cond(insn, tramp, if f == target { tramp } else { f })
                    } else {
                        Item::Cond(insn, if t == target { tramp } else { t }, tramp)
                    };
                }
                let _ = after;
                items.insert(idx + 1, Item::Label(tramp));
                items.insert(idx + 2, Item::Ja(target));
            }
        }
    }
    let mut pos = vec![0usize; labels];
    let mut pc = 0;
    for it in &items {
        match it {
            Item::Label(l) => pos[*l] = pc,
            _ => pc += 1,
        }
    }
    let mut out = Vec::with_capacity(pc);
    for it in &items {
        match *it {
            Item::Label(_) => {}
            Item::Plain(i) => out.push(i),
            Item::Cond(mut i, t, f) => {
                let here = out.len();
                i.jt = (pos[t] - here - 1) as u8;
                i.jf = (pos[f] - here - 1) as u8;
                out.push(i);
            }
            Item::Ja(l) => {
                let here = out.len();
                out.push(Insn::stmt(op::JMP | op::JA, (pos[l] - here - 1) as u32));
            }
        }
    }
    Ok(out)
}

/// Compiles a predicate to a program returning `snaplen` on match, 0 else.
pub(crate) fn generate(p: &Pred, snaplen: u32) -> Result<Program, FilterError> {
    let mut g = Gen {
        items: Vec::new(),
        labels: 2,
    };
    let (accept, reject) = (0, 1);
    g.gen(p, accept, reject, None);
    g.items.push(Item::Label(accept));
    g.items.push(Item::Plain(Insn::stmt(op::RET | op::K, snaplen)));
    g.items.push(Item::Label(reject));
    g.items.push(Item::Plain(Insn::stmt(op::RET | op::K, 0)));
    let insns = assemble(g.items, g.labels)?;
    Ok(Program::new(insns))
}
