//! A classic BPF interpreter with the semantics of the kernel's
//! (net/core/filter.c, after conversion) and libpcap's `bpf_filter()`:
//! out-of-bounds loads and division by a zero X end the program with 0.

use super::{op, skf, Insn, MEMWORDS};

/// Socket-buffer metadata that ancillary loads (`ld [SKF_AD_OFF + n]`) and
/// SKF_NET_OFF loads read. Offline (files), all of it is zero/absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Metadata {
    /// skb->protocol (EtherType, host order).
    pub protocol: u16,
    /// skb->pkt_type (PACKET_HOST, PACKET_OUTGOING...).
    pub pkttype: u8,
    /// Interface index.
    pub ifindex: u32,
    /// skb->mark.
    pub mark: u32,
    /// Receive queue.
    pub queue: u16,
    /// Device type (ARPHRD_*).
    pub hatype: u16,
    /// Receive hash.
    pub rxhash: u32,
    /// CPU number.
    pub cpu: u32,
    /// The VLAN tag the driver stripped, if any (TCI).
    pub vlan_tci: Option<u16>,
    /// The TPID of that tag.
    pub vlan_tpid: u16,
    /// Offset of the network header in the packet (for SKF_NET_OFF).
    pub net_offset: u32,
}

fn load(pkt: &[u8], at: u32, size: usize) -> Option<u32> {
    let at = at as usize;
    let b = pkt.get(at..at.checked_add(size)?)?;
    Some(match size {
        4 => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
        2 => u16::from_be_bytes([b[0], b[1]]) as u32,
        _ => b[0] as u32,
    })
}

fn ancillary(meta: &Metadata, off: u32, a: u32, x: u32) -> Option<u32> {
    Some(match off {
        skf::AD_PROTOCOL => meta.protocol as u32,
        skf::AD_PKTTYPE => meta.pkttype as u32,
        skf::AD_IFINDEX => meta.ifindex,
        skf::AD_MARK => meta.mark,
        skf::AD_QUEUE => meta.queue as u32,
        skf::AD_HATYPE => meta.hatype as u32,
        skf::AD_RXHASH => meta.rxhash,
        skf::AD_CPU => meta.cpu,
        skf::AD_ALU_XOR_X => a ^ x,
        skf::AD_VLAN_TAG => meta.vlan_tci.unwrap_or(0) as u32,
        skf::AD_VLAN_TAG_PRESENT => meta.vlan_tci.is_some() as u32,
        skf::AD_PAY_OFFSET => return None,
        skf::AD_RANDOM => 0,
        skf::AD_VLAN_TPID => meta.vlan_tpid as u32,
        _ => return None,
    })
}

/// Loads `size` bytes at the absolute offset `k`, or the ancillary /
/// network-relative field the offset names.
fn load_abs(pkt: &[u8], meta: &Metadata, k: u32, size: usize, a: u32, x: u32) -> Option<u32> {
    if k >= skf::AD_OFF {
        return ancillary(meta, k - skf::AD_OFF, a, x);
    }
    if k >= skf::NET_OFF {
        return load(pkt, meta.net_offset.checked_add(k - skf::NET_OFF)?, size);
    }
    if k >= skf::LL_OFF {
        return load(pkt, k - skf::LL_OFF, size);
    }
    load(pkt, k, size)
}

fn size_of(code: u16) -> usize {
    match code & 0x18 {
        op::W => 4,
        op::H => 2,
        _ => 1,
    }
}

/// Runs `insns` over `pkt` (the captured bytes; `wire_len` is the length
/// on the wire, what `ld #pktlen` / `len` reads) and returns the program's
/// value: 0 rejects, anything else is the number of bytes to keep.
/// Never panics, also on programs the checker would refuse: a jump out of
/// the program, an unknown opcode or a bad memory slot returns 0.
pub fn run(insns: &[Insn], pkt: &[u8], wire_len: u32, meta: &Metadata) -> u32 {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; MEMWORDS];
    let mut pc = 0usize;
    while let Some(i) = insns.get(pc) {
        pc += 1;
        let k = i.k;
        let c = i.code;
        match c & 0x07 {
            op::LD => {
                a = match c & 0xe0 {
                    op::ABS => match load_abs(pkt, meta, k, size_of(c), a, x) {
                        Some(v) => v,
                        None => return 0,
                    },
                    op::IND => match x.checked_add(k).and_then(|at| load(pkt, at, size_of(c))) {
                        Some(v) => v,
                        None => return 0,
                    },
                    op::LEN => wire_len,
                    op::IMM => k,
                    op::MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            op::LDX => {
                x = match c & 0xe0 {
                    op::LEN => wire_len,
                    op::IMM => k,
                    op::MEM => match mem.get(k as usize) {
                        Some(&v) => v,
                        None => return 0,
                    },
                    op::MSH => match load(pkt, k, 1) {
                        Some(v) => (v & 0xf) << 2,
                        None => return 0,
                    },
                    _ => return 0,
                }
            }
            op::ST | op::STX => {
                let v = if c & 0x07 == op::ST { a } else { x };
                match mem.get_mut(k as usize) {
                    Some(m) => *m = v,
                    None => return 0,
                }
            }
            op::ALU => {
                let src = if c & op::X != 0 { x } else { k };
                a = match c & 0xf0 {
                    op::ADD => a.wrapping_add(src),
                    op::SUB => a.wrapping_sub(src),
                    op::MUL => a.wrapping_mul(src),
                    op::DIV if src == 0 => return 0,
                    op::DIV => a / src,
                    op::MOD if src == 0 => return 0,
                    op::MOD => a % src,
                    op::AND => a & src,
                    op::OR => a | src,
                    op::XOR => a ^ src,
                    op::LSH => a.checked_shl(src).unwrap_or(0),
                    op::RSH => a.checked_shr(src).unwrap_or(0),
                    op::NEG => a.wrapping_neg(),
                    _ => return 0,
                }
            }
            op::JMP => {
                if c & 0xf0 == op::JA {
                    pc = match pc.checked_add(k as usize) {
                        Some(p) => p,
                        None => return 0,
                    };
                    continue;
                }
                let src = if c & op::X != 0 { x } else { k };
                let taken = match c & 0xf0 {
                    op::JEQ => a == src,
                    op::JGT => a > src,
                    op::JGE => a >= src,
                    op::JSET => a & src != 0,
                    _ => return 0,
                };
                pc += if taken { i.jt as usize } else { i.jf as usize };
            }
            op::RET => {
                return match c & 0x18 {
                    op::K => k,
                    op::A => a,
                    _ => 0,
                }
            }
            _ => match c & 0xf8 {
                op::TAX => x = a,
                op::TXA => a = x,
                _ => return 0,
            },
        }
    }
    0
}
