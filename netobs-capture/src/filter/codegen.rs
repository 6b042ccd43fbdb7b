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

    /// Whether some test loads scratch memory word `word` (`ld M[word]`
    /// or `ldx M[word]`).
    pub(crate) fn reads_mem(&self, word: u32) -> bool {
        match self {
            Pred::Const(_) => false,
            Pred::Test { stmts, .. } => stmts
                .iter()
                .any(|i| matches!(i.code, c if c == op::LD | op::MEM || c == op::LDX | op::MEM) && i.k == word),
            Pred::And(a, b) | Pred::Or(a, b) => a.reads_mem(word) || b.reads_mem(word),
            Pred::Not(a) => a.reads_mem(word),
        }
    }

    /// Removes the stores into the words of `words` that are not in
    /// `keep`, and a constant load left with no store after it (straight
    /// statement lists only; those with inner jumps are kept as they are).
    pub(crate) fn drop_stores(self, words: &[u32], keep: &[u32]) -> Pred {
        match self {
            Pred::Test { stmts, jump, k } if !stmts.iter().any(|i| i.code & 0x07 == op::JMP) => {
                let stores: Vec<Insn> = stmts
                    .into_iter()
                    .filter(|i| !(i.code == op::ST && words.contains(&i.k) && !keep.contains(&i.k)))
                    .collect();
                let mut out: Vec<Insn> = Vec::with_capacity(stores.len());
                for (n, i) in stores.iter().enumerate() {
                    let overwritten = stores.get(n + 1).is_some_and(|next| next.code & 0x07 == op::LD);
                    if !(i.code == op::LD | op::W | op::IMM && overwritten) {
                        out.push(*i);
                    }
                }
                Pred::Test { stmts: out, jump, k }
            }
            Pred::And(a, b) => Pred::And(
                Box::new(a.drop_stores(words, keep)),
                Box::new(b.drop_stores(words, keep)),
            ),
            Pred::Or(a, b) => Pred::Or(
                Box::new(a.drop_stores(words, keep)),
                Box::new(b.drop_stores(words, keep)),
            ),
            Pred::Not(a) => Pred::Not(Box::new(a.drop_stores(words, keep))),
            other => other,
        }
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
    /// code that, run again on entry, would leave A and X as they are (the
    /// entry is reached only right after it), so a test whose statements
    /// are exactly that code skips them.
    fn gen(&mut self, p: &Pred, t: usize, f: usize, known: Option<&[Insn]>) {
        match p {
            Pred::Const(true) => self.items.push(Item::Ja(t)),
            Pred::Const(false) => self.items.push(Item::Ja(f)),
            Pred::Test { stmts, jump, k } => {
                let skip = Some(stmts.as_slice()) == known;
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

/// Code that, run again when `p` exits on its `true_exit` side, would
/// leave A and X unchanged, when every path to that exit ends with a test
/// whose statements give the same such code (see [`repeatable`]).
fn exit_load(p: &Pred, true_exit: bool) -> Option<&[Insn]> {
    match p {
        Pred::Test { stmts, .. } => repeatable(stmts),
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

/// Right after `stmts` ran: the statements that, run again, would leave
/// A and X as they are. All of `stmts` when they are straight code that
/// stores nothing and writes A and X before reading them; else the last
/// statement when it is a load into A (every path through the statements
/// reaches the last one, and nothing changed X or memory since).
fn repeatable(stmts: &[Insn]) -> Option<&[Insn]> {
    let xor_x = crate::bpf::skf::AD_OFF + crate::bpf::skf::AD_ALU_XOR_X;
    let loads_a = |i: &Insn| {
        i.code & 0x07 == op::LD
            && matches!(i.code & 0xe0, op::ABS | op::IND | op::LEN | op::IMM | op::MEM)
            && !(i.code & 0xe0 == op::ABS && i.k == xor_x)
    };
    let (mut a_set, mut x_set) = (false, false);
    let mut whole = true;
    for i in stmts {
        let (reads_a, reads_x, writes_a, writes_x) = match i.code & 0x07 {
            op::LD if loads_a(i) => (false, i.code & 0xe0 == op::IND, true, false),
            op::LDX => (false, false, false, true),
            op::ALU => (true, i.code & op::X != 0, true, false),
            op::MISC if i.code & 0xf8 == op::TAX => (true, false, false, true),
            op::MISC => (false, true, true, false),
            _ => {
                whole = false;
                break;
            }
        };
        if (reads_a && !a_set) || (reads_x && !x_set) {
            whole = false;
            break;
        }
        a_set |= writes_a;
        x_set |= writes_x;
    }
    match stmts.last() {
        _ if whole && !stmts.is_empty() => Some(stmts),
        Some(last) if loads_a(last) => Some(std::slice::from_ref(last)),
        _ => None,
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

/// The label (not yet placed) reached from the first item by following
/// false branches and unconditional jumps.
fn false_path_end(items: &[Item]) -> usize {
    let mut i = 0;
    while let Some(item) = items.get(i) {
        match item {
            Item::Cond(_, _, l) | Item::Ja(l) => {
                match items.iter().position(|it| matches!(it, Item::Label(m) if m == l)) {
                    // Jumps go forward only: this ends.
                    Some(at) if at > i => i = at,
                    _ => return *l,
                }
            }
            _ => i += 1,
        }
    }
    usize::MAX
}

/// Compiles a predicate to a program returning `snaplen` on match, 0
/// else, after the straight code `prologue`.
pub(crate) fn generate(prologue: &[Insn], p: &Pred, snaplen: u32) -> Result<Program, FilterError> {
    let mut g = Gen {
        items: prologue.iter().map(|i| Item::Plain(*i)).collect(),
        labels: 2,
    };
    let (accept, reject) = (0, 1);
    g.gen(p, accept, reject, None);
    // libpcap lays out its blocks from the end, false branches first: the
    // return reached by following false branches from the start is last.
    let accept_ret = [Item::Label(accept), Item::Plain(Insn::stmt(op::RET | op::K, snaplen))];
    let reject_ret = [Item::Label(reject), Item::Plain(Insn::stmt(op::RET | op::K, 0))];
    if false_path_end(&g.items) == accept {
        g.items.extend(reject_ret.into_iter().chain(accept_ret));
    } else {
        g.items.extend(accept_ret.into_iter().chain(reject_ret));
    }
    let insns = assemble(g.items, g.labels)?;
    Ok(Program::new(insns))
}
