//! Classic BPF (include/uapi/linux/filter.h, bpf_common.h): instructions,
//! programs, an assembler-style builder, the kernel's checker, an
//! interpreter and the `tcpdump -d/-dd/-ddd` printers.

mod check;
mod interp;
mod print;

pub use check::check;
pub use interp::{run, Metadata};
pub use print::{format_c, format_decimal, format_image, image, parse_decimal};

/// Instruction classes, sizes, modes and operations (bpf_common.h).
#[allow(missing_docs)]
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;

    pub const W: u16 = 0x00;
    pub const H: u16 = 0x08;
    pub const B: u16 = 0x10;

    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const MSH: u16 = 0xa0;

    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;

    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;

    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    pub const A: u16 = 0x10;

    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

/// Ancillary data offsets for loads (include/uapi/linux/filter.h):
/// `ld [SKF_AD_OFF + SKF_AD_*]` reads socket-buffer metadata instead of
/// packet bytes.
#[allow(missing_docs)]
pub mod skf {
    pub const AD_OFF: u32 = (-0x1000i32) as u32;
    pub const AD_PROTOCOL: u32 = 0;
    pub const AD_PKTTYPE: u32 = 4;
    pub const AD_IFINDEX: u32 = 8;
    pub const AD_NLATTR: u32 = 12;
    pub const AD_NLATTR_NEST: u32 = 16;
    pub const AD_MARK: u32 = 20;
    pub const AD_QUEUE: u32 = 24;
    pub const AD_HATYPE: u32 = 28;
    pub const AD_RXHASH: u32 = 32;
    pub const AD_CPU: u32 = 36;
    pub const AD_ALU_XOR_X: u32 = 40;
    pub const AD_VLAN_TAG: u32 = 44;
    pub const AD_VLAN_TAG_PRESENT: u32 = 48;
    pub const AD_PAY_OFFSET: u32 = 52;
    pub const AD_RANDOM: u32 = 56;
    pub const AD_VLAN_TPID: u32 = 60;
    pub const AD_MAX: u32 = 64;
    /// Loads relative to the network header.
    pub const NET_OFF: u32 = (-0x100000i32) as u32;
    /// Loads relative to the link-layer header.
    pub const LL_OFF: u32 = (-0x200000i32) as u32;
}

/// The kernel's limit on program length (BPF_MAXINSNS).
pub const MAX_INSNS: usize = 4096;
/// Scratch memory slots (BPF_MEMWORDS).
pub const MEMWORDS: usize = 16;

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Insn {
    /// Opcode: class | size | mode, or class | op | source.
    pub code: u16,
    /// Jump offset when true (relative to the next instruction).
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

impl Insn {
    /// A statement (BPF_STMT).
    pub const fn stmt(code: u16, k: u32) -> Self {
        Insn { code, jt: 0, jf: 0, k }
    }

    /// A jump (BPF_JUMP).
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Self {
        Insn { code, jt, jf, k }
    }

    /// The class bits.
    pub fn class(&self) -> u16 {
        self.code & 0x07
    }
}

/// A classic BPF program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Program {
    /// The instructions, in order.
    pub insns: Vec<Insn>,
}

impl Program {
    /// A program of these instructions.
    pub fn new(insns: Vec<Insn>) -> Self {
        Program { insns }
    }

    /// The program that accepts `snaplen` bytes of every packet.
    pub fn accept_all(snaplen: u32) -> Self {
        Program::new(vec![Insn::stmt(op::RET | op::K, snaplen)])
    }

    /// The program that rejects every packet.
    pub fn reject_all() -> Self {
        Program::new(vec![Insn::stmt(op::RET | op::K, 0)])
    }

    /// Number of instructions.
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Whether the program has no instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }
}

/// The kernel's version of a program written for LINUX_SLL2 bytes (what
/// `compile(expr, LINUX_SLL2, ..)` gives), for a cooked (SOCK_DGRAM)
/// packet socket, whose filter sees each packet from its network header
/// on, as libpcap's `fix_program`/`fix_offset` (pcap-linux.c) make it:
/// absolute, indirect and MSH loads at or past the 20-byte cooked header
/// move back by its length, and loads of its protocol, interface index and
/// packet type fields become the kernel's ancillary loads (SKF_AD_PROTOCOL,
/// SKF_AD_IFINDEX, SKF_AD_PKTTYPE). None when the program reads another
/// field of the header (such as the ARPHRD type or the address): only
/// user space can run it.
pub fn for_cooked_socket(prog: &Program) -> Option<Program> {
    const SLL2_HDR_LEN: u32 = 20;
    let mut insns = prog.insns.clone();
    for insn in &mut insns {
        let class = insn.code & 0x07;
        let mode = insn.code & 0xe0;
        if !(class == op::LD || class == op::LDX) || !matches!(mode, op::ABS | op::IND | op::MSH) {
            continue;
        }
        // Negative offsets (ancillary loads, SKF_NET_OFF, SKF_LL_OFF) are
        // the kernel's already.
        if (insn.k as i32) < 0 {
            continue;
        }
        insn.k = match insn.k {
            k if k >= SLL2_HDR_LEN => k - SLL2_HDR_LEN,
            0 => skf::AD_OFF + skf::AD_PROTOCOL,
            4 => skf::AD_OFF + skf::AD_IFINDEX,
            10 => skf::AD_OFF + skf::AD_PKTTYPE,
            _ => return None,
        };
    }
    Some(Program::new(insns))
}

/// A label in a [`Builder`] program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label(usize);

/// An assembler-style builder with symbolic forward jump targets.
///
/// ```
/// use netobs_capture::bpf::{op, Builder};
/// let mut b = Builder::new();
/// let (accept, reject) = (b.label(), b.label());
/// b.stmt(op::LD | op::H | op::ABS, 12);
/// b.jump(op::JMP | op::JEQ | op::K, 0x0800, accept, reject);
/// b.bind(accept);
/// b.stmt(op::RET | op::K, 262144);
/// b.bind(reject);
/// b.stmt(op::RET | op::K, 0);
/// let prog = b.build().unwrap();
/// assert_eq!(prog.insns[1].jt, 0);
/// assert_eq!(prog.insns[1].jf, 1);
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    insns: Vec<(Insn, Option<(Label, Label)>)>,
    labels: Vec<Option<usize>>,
}

impl Builder {
    /// An empty program.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new unbound label.
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `l` to the next instruction.
    pub fn bind(&mut self, l: Label) {
        self.labels[l.0] = Some(self.insns.len());
    }

    /// Appends a statement.
    pub fn stmt(&mut self, code: u16, k: u32) {
        self.insns.push((Insn::stmt(code, k), None));
    }

    /// Appends a conditional jump to labels.
    pub fn jump(&mut self, code: u16, k: u32, jt: Label, jf: Label) {
        self.insns.push((Insn::jump(code, k, 0, 0), Some((jt, jf))));
    }

    /// Resolves labels and checks the program with the kernel's rules.
    pub fn build(self) -> Result<Program, crate::CheckError> {
        let mut out = Vec::with_capacity(self.insns.len());
        for (pc, (mut insn, targets)) in self.insns.into_iter().enumerate() {
            if let Some((jt, jf)) = targets {
                let offset = |l: Label| -> Result<u8, crate::CheckError> {
                    let target = self.labels[l.0].ok_or_else(|| crate::CheckError {
                        pc,
                        reason: "jump to a label that was never bound".into(),
                    })?;
                    target
                        .checked_sub(pc + 1)
                        .and_then(|d| u8::try_from(d).ok())
                        .ok_or_else(|| crate::CheckError {
                            pc,
                            reason: format!("jump target {target} is not 0..=255 instructions ahead"),
                        })
                };
                insn.jt = offset(jt)?;
                insn.jf = offset(jf)?;
            }
            out.push(insn);
        }
        let prog = Program::new(out);
        check(&prog)?;
        Ok(prog)
    }
}
