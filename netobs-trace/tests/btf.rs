//! The running kernel's BTF read by netobs against pahole (dwarves) reading
//! the same file: every named member pahole prints for the structures the
//! probes use (and two large ones) has the same byte offset, size and
//! bitfield position in netobs.

use std::process::Command;

use netobs_trace::btf::Btf;

/// (member path, byte offset, bit offset of a bitfield, byte size).
type Member = (String, u32, Option<u32>, u32);

/// (member path, byte offset, bit offset for bitfields, byte size) as
/// pahole prints them: `type name; /* OFFSET SIZE */` or, for a bitfield,
/// `type name:BITS; /* OFFSET: BIT SIZE */`. Members of types pahole
/// prints inline are listed with offsets from the outer structure: those of
/// anonymous structs and unions under their own name (as C names them),
/// those of a named inline member `NAME` as `NAME.member`. Function
/// pointers are skipped.
fn pahole_members(file: &str, name: &str) -> Vec<Member> {
    let out = Command::new("pahole")
        .args(["-C", name, file])
        .output()
        .expect("run pahole (Debian package dwarves)");
    assert!(out.status.success(), "pahole: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    // One frame per open `{`: the members seen inside it.
    let mut frames: Vec<Vec<Member>> = vec![Vec::new()];
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.ends_with('{') {
            if i > 0 {
                frames.push(Vec::new());
            }
            continue;
        }
        let Some((decl, comment)) = t.split_once("/*") else {
            continue;
        };
        let decl = decl.trim();
        if let Some(close) = decl.strip_prefix('}') {
            // `} NAME;` or `};` ends an inline type.
            let inner = frames.pop().unwrap_or_default();
            let parent = frames.last_mut().expect("pahole output nests evenly");
            let label = close.trim().trim_end_matches(';').trim();
            for (m, o, b, s) in inner {
                let path = if label.is_empty() { m } else { format!("{label}.{m}") };
                parent.push((path, o, b, s));
            }
            continue;
        }
        if !decl.ends_with(';') || decl.contains("(*") {
            continue;
        }
        let decl = decl.trim_end_matches(';');
        let (decl, bitfield) = match decl.rsplit_once(':') {
            Some((d, bits)) if bits.trim().parse::<u32>().is_ok() => (d.trim(), true),
            _ => (decl, false),
        };
        let Some(word) = decl.split_whitespace().last() else {
            continue;
        };
        let member = word.trim_start_matches('*').split('[').next().unwrap_or("").to_owned();
        if member.is_empty() {
            continue;
        }
        let nums = comment.trim_end().trim_end_matches("*/").trim();
        let (offset, bit, size) = if bitfield {
            // "126: 2  1"
            let Some((off, rest)) = nums.split_once(':') else {
                continue;
            };
            let mut r = rest.split_whitespace();
            let (Some(bit), Some(size)) = (r.next(), r.next()) else {
                continue;
            };
            (off.trim().parse().ok(), bit.parse().ok(), size.parse().ok())
        } else {
            let mut r = nums.split_whitespace();
            (
                r.next().and_then(|o| o.parse().ok()),
                None,
                r.next().and_then(|s| s.parse().ok()),
            )
        };
        if let (Some(o), Some(s)) = (offset, size) {
            frames.last_mut().expect("a frame").push((member, o, bit, s));
        }
    }
    frames.into_iter().next().unwrap_or_default()
}

#[test]
fn struct_members_agree_with_pahole() {
    let file = "/sys/kernel/btf/vmlinux";
    let btf = match Btf::load_vmlinux() {
        Ok(b) => b,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") && !std::path::Path::new(file).exists() => {
            eprintln!("skipped: the running kernel has no BTF: {e}");
            return;
        }
        Err(e) => panic!("{e}"),
    };
    assert!(btf.len() > 10_000, "{} types", btf.len());
    let mut checked = 0;
    for st in ["sk_buff", "sock", "net_device", "skb_shared_info"] {
        let theirs = pahole_members(file, st);
        assert!(theirs.len() > 10, "pahole printed {} members of {st}", theirs.len());
        for (member, offset, bit, size) in theirs {
            let ours = btf
                .member(st, &member)
                .unwrap()
                .unwrap_or_else(|| panic!("{st}.{member} not found by netobs"));
            // A member name used twice (struct_group's anonymous and named
            // copies) has the same offset in both; pahole's first is ours.
            match bit {
                Some(b) => {
                    // pahole counts a bitfield's bits from the start of its
                    // storage unit, netobs from the byte it starts in: the
                    // same bit of the structure.
                    let (width, ours_bit) = ours.bitfield.unwrap_or_else(|| panic!("{st}.{member} is a bitfield"));
                    assert!(width > 0);
                    assert_eq!(
                        ours.offset * 8 + u32::from(ours_bit),
                        offset * 8 + b,
                        "{st}.{member} bit position"
                    );
                }
                None => {
                    assert_eq!(ours.offset, offset, "{st}.{member} offset");
                    assert_eq!(ours.size, size, "{st}.{member} size");
                }
            }
            checked += 1;
        }
    }
    eprintln!("{checked} members agree with pahole");
}
