//! From a tree of predicates to classic BPF: each predicate is straight
//! code ending in a conditional jump; `and`, `or` and `not` only route the
//! jump targets. Jumps farther than 255 instructions go through an
//! unconditional `ja` trampoline. A last pass threads jumps whose outcome
//! is already known and drops the loads this makes redundant, so that
//! common programs are libpcap's optimized ones instruction for
//! instruction.

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
    /// A statement of a test whose statements jump among themselves (the
    /// live VLAN id test): left as it is by [`thread_jumps`], as libpcap's
    /// optimizer leaves such statements.
    Opaque(Insn),
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
                // Also a lone load that ended the known code: X and memory
                // are as they were, so it gives the same A.
                let skip = Some(stmts.as_slice()) == known
                    || matches!((stmts.as_slice(), known.and_then(|k| k.last())),
                        ([only], Some(last)) if only == last && only.code & 0x07 == op::LD);
                if !skip {
                    let inner_jumps = stmts.iter().any(|i| i.code & 0x07 == op::JMP);
                    self.items.extend(stmts.iter().map(|i| match inner_jumps {
                        true => Item::Opaque(*i),
                        false => Item::Plain(*i),
                    }));
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
/// dropping `ja` instructions that jump to the next instruction. Returns
/// the program and which of its instructions are [`Item::Opaque`].
fn assemble(mut items: Vec<Item>, labels: usize) -> Result<(Vec<Insn>, Vec<bool>), FilterError> {
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
    let mut opaque = Vec::with_capacity(pc);
    for it in &items {
        opaque.extend((!matches!(it, Item::Label(_))).then_some(matches!(it, Item::Opaque(_))));
        match *it {
            Item::Label(_) => {}
            Item::Plain(i) | Item::Opaque(i) => out.push(i),
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
    Ok((out, opaque))
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
/// else, after the straight code `prologue`. `stable` are scratch words
/// written only before they are read (see [`thread_jumps`]).
pub(crate) fn generate(prologue: &[Insn], p: &Pred, snaplen: u32, stable: &[u32]) -> Result<Program, FilterError> {
    let mut g = Gen {
        items: prologue.iter().map(|i| Item::Plain(*i)).collect(),
        labels: 2,
    };
    let (accept, reject) = (0, 1);
    if let (Pred::Const(verdict), []) = (p, prologue) {
        let k = if *verdict { snaplen } else { 0 };
        return Ok(Program::new(vec![Insn::stmt(op::RET | op::K, k)]));
    }
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
    let (insns, opaque) = assemble(g.items, g.labels)?;
    Ok(Program::new(thread_jumps(insns, &opaque, stable)))
}

/// A value the program loaded into A that stays the same for the whole
/// run: a packet or metadata field at a fixed offset, or at a fixed
/// offset from a scratch word written only before it is first read (the
/// live-mode VLAN offset words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Abs(u16, u32),
    Ind(u32, u16, u32),
}

/// What is known at a point of the program: which [`Key`] A holds, which
/// stable word X holds, and equalities / inequalities learnt from `jeq`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Known {
    a: Option<Key>,
    x: Option<u32>,
    eq: Vec<(Key, u32)>,
    ne: Vec<(Key, u32)>,
}

impl Known {
    /// What is known on both of two paths.
    fn meet(&self, other: &Known) -> Known {
        Known {
            a: self.a.filter(|a| other.a == Some(*a)),
            x: self.x.filter(|x| other.x == Some(*x)),
            eq: self.eq.iter().filter(|f| other.eq.contains(f)).copied().collect(),
            ne: self.ne.iter().filter(|f| other.ne.contains(f)).copied().collect(),
        }
    }

    /// The key `i` would load into A, if it is a stable load.
    fn key_of(&self, i: &Insn, stable: &[u32]) -> Option<Key> {
        let xor_x = crate::bpf::skf::AD_OFF + crate::bpf::skf::AD_ALU_XOR_X;
        let random = crate::bpf::skf::AD_OFF + crate::bpf::skf::AD_RANDOM;
        match (i.code & 0x07, i.code & 0xe0) {
            (op::LD, op::ABS) if i.k != xor_x && i.k != random => Some(Key::Abs(i.code & 0x18, i.k)),
            (op::LD, op::IND) => self
                .x
                .filter(|w| stable.contains(w))
                .map(|w| Key::Ind(w, i.code & 0x18, i.k)),
            _ => None,
        }
    }

    /// The state after the non-jump instruction `i`.
    fn step(&mut self, i: &Insn, stable: &[u32]) {
        match i.code & 0x07 {
            op::LD => self.a = self.key_of(i, stable),
            op::LDX if i.code & 0xe0 == op::MEM && stable.contains(&i.k) => self.x = Some(i.k),
            op::LDX => self.x = None,
            op::ST | op::STX => {
                // A stable word written (its first and only value): what
                // was known relative to it no longer holds.
                let w = i.k;
                let keeps = |f: &(Key, u32)| !matches!(f.0, Key::Ind(v, ..) if v == w);
                self.eq.retain(keeps);
                self.ne.retain(keeps);
                if matches!(self.a, Some(Key::Ind(v, ..)) if v == w) {
                    self.a = None;
                }
                if self.x == Some(w) {
                    self.x = None;
                }
            }
            op::ALU => self.a = None,
            op::MISC if i.code & 0xf8 == op::TAX => self.x = None,
            _ => self.a = None,
        }
    }

    /// The outcome of `jeq #k` on the value `key`, when the facts decide it.
    fn decides(&self, key: Option<Key>, k: u32) -> Option<bool> {
        let key = key?;
        if self.eq.iter().any(|&(f, v)| f == key && v == k) {
            return Some(true);
        }
        if self.eq.iter().any(|&(f, v)| f == key && v != k) || self.ne.contains(&(key, k)) {
            return Some(false);
        }
        None
    }

    /// The state on one branch of `jeq #k`.
    fn branch(&self, k: u32, taken: bool) -> Known {
        let mut s = self.clone();
        if let Some(key) = self.a {
            let facts = if taken { &mut s.eq } else { &mut s.ne };
            if !facts.contains(&(key, k)) {
                facts.push((key, k));
            }
        }
        s
    }
}

/// Whether the straight code at `at` sets A and X before reading them
/// (so a branch may land there whatever A and X hold).
fn fresh_start(insns: &[Insn], at: usize) -> bool {
    let (mut a, mut x) = (false, false);
    for i in &insns[at.min(insns.len())..] {
        let (reads_a, reads_x, writes_a, writes_x) = match (i.code & 0x07, i.code & 0xe0) {
            (op::RET, _) => return i.code & 0x18 == op::K || a,
            (op::JMP, _) => return (a || i.code & 0xf0 == op::JA) && (x || i.code & op::X == 0),
            (op::LD, m) => (false, m == op::IND, true, false),
            (op::LDX, _) => (false, false, false, true),
            (op::ST, _) => (true, false, false, false),
            (op::STX, _) => (false, true, false, false),
            (op::ALU, _) => (true, i.code & op::X != 0, true, false),
            _ if i.code & 0xf8 == op::TAX => (true, false, false, true),
            _ => (false, true, true, false),
        };
        if (reads_a && !a) || (reads_x && !x) {
            return false;
        }
        a |= writes_a;
        x |= writes_x;
    }
    false
}

/// Passes the state before instruction `pc` to its successors.
fn propagate(entry: &mut [Option<Known>], pc: usize, i: &Insn, state: Known, stable: &[u32]) {
    match i.code & 0x07 {
        op::RET => {}
        op::JMP if i.code & 0xf0 == op::JA => join(entry, pc + 1 + i.k as usize, state),
        op::JMP => {
            for (taken, off) in [(true, i.jt), (false, i.jf)] {
                let s = if is_jeq_k(i) {
                    state.branch(i.k, taken)
                } else {
                    state.clone()
                };
                join(entry, pc + 1 + off as usize, s);
            }
        }
        _ => {
            let mut s = state;
            s.step(i, stable);
            join(entry, pc + 1, s);
        }
    }
}

/// Adds the state `s` of one more way into instruction `at`.
fn join(entry: &mut [Option<Known>], at: usize, s: Known) {
    if let Some(slot) = entry.get_mut(at) {
        *slot = Some(match slot.take() {
            None => s,
            Some(old) => old.meet(&s),
        });
    }
}

fn is_jeq_k(i: &Insn) -> bool {
    i.code == op::JMP | op::JEQ | op::K
}

/// Jump threading, as libpcap's optimizer does for the common cases: a
/// branch into a `jeq` whose outcome the path already decides (the
/// EtherType was 0x800, so it is not 0x86dd), through loads of stable
/// values, jumps straight to where that `jeq` would go, when the code
/// there sets A and X before reading them. Code no branch reaches any
/// more is removed, then loads of what A already holds on every way in
/// ([`drop_reloads`]). `stable` are the scratch words written only before
/// they are read. Statements with inner jumps ([`Item::Opaque`]) are left
/// alone, as libpcap leaves them.
fn thread_jumps(mut insns: Vec<Insn>, opaque: &[bool], stable: &[u32]) -> Vec<Insn> {
    let n = insns.len();
    // Entry states, joined over the branches reaching each instruction
    // (all jumps go forward: one pass in order sees every predecessor).
    let mut entry: Vec<Option<Known>> = vec![None; n + 1];
    entry[0] = Some(Known::default());
    let mut reached = vec![false; n];
    for pc in 0..n {
        let Some(state) = entry[pc].take() else {
            continue; // unreachable
        };
        reached[pc] = true;
        let i = insns[pc];
        match i.code & 0x07 {
            op::JMP if i.code & 0xf0 != op::JA && !opaque[pc] => {
                for taken in [true, false] {
                    let s = if is_jeq_k(&i) {
                        state.branch(i.k, taken)
                    } else {
                        state.clone()
                    };
                    let off = if taken { i.jt } else { i.jf } as usize;
                    let mut to = pc + 1 + off;
                    // Run the code at the target symbolically while its
                    // loads are stable and its jeq are decided by what is
                    // known; land after a decided jeq, where the code does
                    // not read A or X before setting them. (A decided jeq
                    // teaches nothing new: the facts stay those of `s`.)
                    let mut sim = Known {
                        a: s.a,
                        x: s.x,
                        ..Known::default()
                    };
                    let mut at = to;
                    while let Some(t) = insns.get(at).filter(|_| !opaque[at]) {
                        if let Some(key) = sim.key_of(t, stable) {
                            sim.a = Some(key);
                            at += 1;
                        } else if t.code == op::LDX | op::MEM && stable.contains(&t.k) {
                            sim.x = Some(t.k);
                            at += 1;
                        } else if let Some(outcome) = is_jeq_k(t).then(|| s.decides(sim.a, t.k)).flatten() {
                            at += 1 + if outcome { t.jt } else { t.jf } as usize;
                            if at - pc - 1 <= 255 && fresh_start(&insns, at) {
                                to = at;
                            }
                        } else {
                            break;
                        }
                    }
                    let new_off = (to - pc - 1) as u8;
                    if taken {
                        insns[pc].jt = new_off;
                    } else {
                        insns[pc].jf = new_off;
                    }
                    // The state on arrival at `to`: what the skipped code
                    // would have left (reloads change nothing; decided
                    // jumps only add facts).
                    join(&mut entry, to, s);
                }
            }
            _ => propagate(&mut entry, pc, &i, state, stable),
        }
    }
    // Drop what no branch reaches.
    let (insns, opaque) = keep_only(&insns, opaque, &reached);
    let (insns, opaque) = drop_reloads(insns, &opaque, stable);
    let (insns, opaque) = and_zero_to_jset(insns, &opaque);
    merge_duplicate_blocks(insns, &opaque)
}

/// `and #m; jeq #0` becomes `jset #m` with the branches swapped, as
/// libpcap's peephole optimizer does, when nothing jumps to the `jeq` and
/// both branches set A before reading it (A then holds the unmasked
/// value; `jset #m` tests the same bits).
fn and_zero_to_jset(insns: Vec<Insn>, opaque: &[bool]) -> (Vec<Insn>, Vec<bool>) {
    let n = insns.len();
    let targets = jump_targets(&insns);
    let mut out = insns.clone();
    let mut keep = vec![true; n];
    for pc in 1..n {
        let (and, jeq) = (insns[pc - 1], insns[pc]);
        let candidate = and.code == op::ALU | op::AND | op::K
            && jeq.code == op::JMP | op::JEQ | op::K
            && jeq.k == 0
            && !targets[pc]
            && !opaque[pc]
            && !opaque[pc - 1];
        if candidate && fresh_start(&insns, pc + 1 + jeq.jt as usize) && fresh_start(&insns, pc + 1 + jeq.jf as usize) {
            out[pc] = Insn::jump(op::JMP | op::JSET | op::K, and.k, jeq.jf, jeq.jt);
            keep[pc - 1] = false;
        }
    }
    keep_only(&out, opaque, &keep)
}

/// The program without the instructions `keep` marks false, jumps
/// renumbered (a jump to a dropped instruction goes to the next kept one).
fn keep_only(insns: &[Insn], opaque: &[bool], keep: &[bool]) -> (Vec<Insn>, Vec<bool>) {
    let n = insns.len();
    let mut new_pc = vec![0usize; n + 1];
    let mut count = 0;
    for pc in 0..n {
        new_pc[pc] = count;
        count += keep[pc] as usize;
    }
    new_pc[n] = count;
    let mut out = Vec::with_capacity(count);
    let mut out_opaque = Vec::with_capacity(count);
    for pc in (0..n).filter(|&pc| keep[pc]) {
        let mut i = insns[pc];
        let here = new_pc[pc];
        if i.code & 0x07 == op::JMP {
            if i.code & 0xf0 == op::JA {
                i.k = (new_pc[pc + 1 + i.k as usize] - here - 1) as u32;
            } else {
                i.jt = (new_pc[pc + 1 + i.jt as usize] - here - 1) as u8;
                i.jf = (new_pc[pc + 1 + i.jf as usize] - here - 1) as u8;
            }
        }
        out.push(i);
        out_opaque.push(opaque[pc]);
    }
    (out, out_opaque)
}

/// Drops a load whose value A already holds on every path reaching it
/// (and an `ldx M[w]` before such a load when X already holds M[w]), as
/// libpcap's optimizer does once jump threading left a test with a
/// single way in.
fn drop_reloads(insns: Vec<Insn>, opaque: &[bool], stable: &[u32]) -> (Vec<Insn>, Vec<bool>) {
    let n = insns.len();
    let mut entry: Vec<Option<Known>> = vec![None; n + 1];
    entry[0] = Some(Known::default());
    let mut keep = vec![true; n];
    let targets = jump_targets(&insns);
    for pc in 0..n {
        let Some(state) = entry[pc].take() else {
            continue;
        };
        let i = insns[pc];
        if !opaque[pc] {
            let key = state.key_of(&i, stable);
            if key.is_some() && key == state.a {
                keep[pc] = false;
            }
            let next = insns.get(pc + 1).filter(|_| pc + 1 < n && !opaque[pc + 1]);
            if i.code == op::LDX | op::MEM && state.x == Some(i.k) && stable.contains(&i.k) {
                if let Some(next) = next {
                    let key = state.key_of(next, stable);
                    // The pair goes only if nothing else jumps between.
                    if key.is_some() && key == state.a && !targets[pc + 1] {
                        keep[pc] = false;
                    }
                }
            }
        }
        propagate(&mut entry, pc, &i, state, stable);
    }
    keep_only(&insns, opaque, &keep)
}

/// Where instruction `pc` goes: its jump targets, or the next instruction.
fn successors(insns: &[Insn], pc: usize) -> [usize; 2] {
    let i = insns[pc];
    match i.code & 0x07 {
        op::RET => [usize::MAX; 2],
        op::JMP if i.code & 0xf0 == op::JA => [pc + 1 + i.k as usize; 2],
        op::JMP => [pc + 1 + i.jt as usize, pc + 1 + i.jf as usize],
        _ => [pc + 1; 2],
    }
}

/// One instruction of a block for comparing blocks: opcode, operand and
/// successors.
type Step = (u16, u32, [usize; 2]);

/// Merges identical blocks (same statements, same successors), keeping
/// the later copy, as libpcap's optimizer does (intern_blocks): the ARP
/// and RARP halves of `host 10.0.0.1` share their address tests. A block
/// is merged only when nothing falls into it from the instruction before,
/// and only if every jump still fits in 8 bits.
fn merge_duplicate_blocks(insns: Vec<Insn>, opaque: &[bool]) -> Vec<Insn> {
    let n = insns.len();
    let targets = jump_targets(&insns);
    let is_jump = |pc: usize| matches!(insns[pc].code & 0x07, op::JMP | op::RET);
    // Block starts: the entry, jump targets, and what follows a jump.
    let starts: Vec<usize> = (0..n).filter(|&pc| pc == 0 || targets[pc] || is_jump(pc - 1)).collect();
    let mut canonical: Vec<usize> = (0..=n).collect();
    let mut seen: Vec<(Vec<Step>, usize)> = Vec::new();
    for (b, &start) in starts.iter().enumerate().rev() {
        let end = starts.get(b + 1).copied().unwrap_or(n);
        if (start..end).any(|pc| opaque[pc]) {
            continue;
        }
        // The instructions, and where the last one goes (resolved to kept
        // copies); inside a block, each falls into the next.
        let resolve = |t: usize| if t == usize::MAX { t } else { canonical[t] };
        let signature: Vec<Step> = (start..end)
            .map(|pc| {
                let [a, b] = match pc + 1 == end {
                    true => successors(&insns, pc),
                    false => [0; 2],
                };
                (insns[pc].code, insns[pc].k, [resolve(a), resolve(b)])
            })
            .collect();
        match seen.iter().find(|(sig, _)| *sig == signature) {
            Some(&(_, later)) if start > 0 && is_jump(start - 1) => canonical[start] = later,
            Some(_) => {}
            None => seen.push((signature, start)),
        }
    }
    // Every jump to a merged block goes to its kept copy.
    let mut out = insns.clone();
    for pc in 0..n {
        let i = insns[pc];
        if i.code & 0x07 != op::JMP {
            continue;
        }
        let far = |t: usize| canonical[t] - pc - 1;
        if i.code & 0xf0 == op::JA {
            out[pc].k = far(pc + 1 + i.k as usize) as u32;
        } else {
            let (jt, jf) = (far(pc + 1 + i.jt as usize), far(pc + 1 + i.jf as usize));
            if jt > 255 || jf > 255 {
                return insns;
            }
            (out[pc].jt, out[pc].jf) = (jt as u8, jf as u8);
        }
    }
    // Drop the copies no longer reached.
    let mut reached = vec![false; n];
    reached[0] = n > 0;
    for pc in 0..n {
        if reached[pc] {
            for t in successors(&out, pc).into_iter().filter(|&t| t < n) {
                reached[t] = true;
            }
        }
    }
    keep_only(&out, opaque, &reached).0
}

/// Which instructions some jump targets.
fn jump_targets(insns: &[Insn]) -> Vec<bool> {
    let mut targeted = vec![false; insns.len() + 1];
    for (pc, i) in insns.iter().enumerate().filter(|(_, i)| i.code & 0x07 == op::JMP) {
        let offsets = if i.code & 0xf0 == op::JA {
            [i.k as usize, i.k as usize]
        } else {
            [i.jt as usize, i.jf as usize]
        };
        for off in offsets {
            if let Some(t) = targeted.get_mut(pc + 1 + off) {
                *t = true;
            }
        }
    }
    targeted
}
