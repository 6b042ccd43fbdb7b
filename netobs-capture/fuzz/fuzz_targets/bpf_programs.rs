//! Arbitrary classic BPF programs: the checker, the printers and the
//! interpreter (on programs the checker refuses too) must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use netobs_capture::bpf::{self, Insn, Metadata, Program};

fuzz_target!(|data: &[u8]| {
    let (code, packet) = data.split_at(data.len() / 2);
    let insns: Vec<Insn> = code
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_le_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect();
    let prog = Program::new(insns);
    let _ = bpf::check(&prog);
    let _ = bpf::format_image(&prog);
    let _ = bpf::parse_decimal(&bpf::format_decimal(&prog));
    bpf::run(&prog.insns, packet, packet.len() as u32, &Metadata::default());
});
