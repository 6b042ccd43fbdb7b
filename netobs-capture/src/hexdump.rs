//! Hex dumps in the layouts engineers already read: the kernel's
//! `print_hex_dump()` (lib/hexdump.c) and tcpdump's `-x` / `-X`.

use std::fmt::Write;

/// What starts each line of a [`print_hex_dump`] (the kernel's DUMP_PREFIX_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// DUMP_PREFIX_NONE: no prefix.
    None,
    /// DUMP_PREFIX_ADDRESS: the address of the row, starting at the given
    /// base address, printed as 16 hex digits like `%p` with hashing off.
    Address(u64),
    /// DUMP_PREFIX_OFFSET: the offset of the row, `%.8x`.
    Offset,
}

/// Formats one row like the kernel's `hex_dump_to_buffer()`: groups of
/// `group_size` bytes printed as native-endian (little-endian on x86)
/// integers, separated by one space, then (with `ascii`) the printable
/// characters starting at column `row_size * 2 + row_size / group_size + 1`.
/// Invalid sizes fall back as the kernel does: row size 16, group size 1
/// (also when the row length is not a multiple of the group size).
pub fn hex_dump_line(row: &[u8], row_size: usize, group_size: usize, ascii: bool) -> String {
    let row_size = if row_size == 32 { 32 } else { 16 };
    let row = &row[..row.len().min(row_size)];
    let mut group = group_size;
    if !matches!(group, 1 | 2 | 4 | 8) || row.len() % group != 0 {
        group = 1;
    }
    let mut line = String::new();
    for (i, chunk) in row.chunks(group).enumerate() {
        if i > 0 {
            line.push(' ');
        }
        // The kernel reads each group as a native integer: on a little-endian
        // machine the bytes print in reverse order.
        let mut bytes: Vec<u8> = chunk.to_vec();
        if cfg!(target_endian = "little") {
            bytes.reverse();
        }
        for b in bytes {
            let _ = write!(line, "{b:02x}");
        }
    }
    if ascii {
        let column = row_size * 2 + row_size / group + 1;
        while line.len() < column {
            line.push(' ');
        }
        line.extend(row.iter().map(|&b| printable(b)));
    }
    line
}

fn printable(b: u8) -> char {
    if b.is_ascii_graphic() || b == b' ' {
        b as char
    } else {
        '.'
    }
}

/// Formats `buf` like the kernel's `print_hex_dump(level, prefix_str,
/// prefix_type, rowsize, groupsize, buf, len, ascii)`, one `\n`-terminated
/// line per row.
pub fn print_hex_dump(
    prefix_str: &str,
    prefix: Prefix,
    row_size: usize,
    group_size: usize,
    buf: &[u8],
    ascii: bool,
) -> String {
    let row_size = if row_size == 32 { 32 } else { 16 };
    let mut out = String::new();
    for (i, row) in buf.chunks(row_size).enumerate() {
        let offset = i * row_size;
        let line = hex_dump_line(row, row_size, group_size, ascii);
        match prefix {
            Prefix::None => {
                let _ = writeln!(out, "{prefix_str}{line}");
            }
            Prefix::Address(base) => {
                let _ = writeln!(out, "{prefix_str}{:016x}: {line}", base.wrapping_add(offset as u64));
            }
            Prefix::Offset => {
                let _ = writeln!(out, "{prefix_str}{offset:08x}: {line}");
            }
        }
    }
    out
}

/// Formats `buf` like tcpdump's `-x` (`ascii == false`) or `-X`
/// (`ascii == true`): lines `\t0x0000:  4500 0054 ...`, 16 bytes a line in
/// 2-byte groups, the ASCII column (with `-X`, graphic characters only,
/// anything else including space as `.`) after a 40-column hex area and
/// two spaces. Lines are separated by `\n` and the first line is not
/// preceded by one (tcpdump prints `\n` before each line, after the
/// summary).
pub fn tcpdump_hex(buf: &[u8], ascii: bool) -> String {
    let mut out = String::new();
    for (i, row) in buf.chunks(16).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = write!(out, "\t0x{:04x}: ", i * 16);
        let mut hex = String::new();
        for pair in row.chunks(2) {
            match pair {
                [a, b] => {
                    let _ = write!(hex, " {a:02x}{b:02x}");
                }
                [a] => {
                    let _ = write!(hex, " {a:02x}");
                }
                _ => {}
            }
        }
        out.push_str(&hex);
        if ascii {
            for _ in hex.len()..40 {
                out.push(' ');
            }
            out.push_str("  ");
            // tcpdump shows only graphic characters; a space is a '.'.
            out.extend(row.iter().map(|&b| if b.is_ascii_graphic() { b as char } else { '.' }));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_layout_group1_ascii() {
        let buf: Vec<u8> = (0x40..0x52).collect();
        let s = print_hex_dump("", Prefix::Offset, 16, 1, &buf, true);
        assert_eq!(
            s,
            "00000000: 40 41 42 43 44 45 46 47 48 49 4a 4b 4c 4d 4e 4f  @ABCDEFGHIJKLMNO\n\
             00000010: 50 51                                            PQ\n"
        );
    }

    #[test]
    fn kernel_layout_groups_are_native_endian() {
        let buf = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let s = print_hex_dump("x ", Prefix::None, 16, 4, &buf, false);
        assert_eq!(s, "x 04030201 08070605\n");
        // A row that is not a multiple of the group size falls back to bytes.
        let s = print_hex_dump("", Prefix::None, 16, 4, &buf[..7], false);
        assert_eq!(s, "01 02 03 04 05 06 07\n");
    }

    #[test]
    fn tcpdump_x_layout() {
        let buf = [0x45u8, 0, 0, 0x64, 0x43, 0x08];
        assert_eq!(tcpdump_hex(&buf, false), "\t0x0000:  4500 0064 4308");
        let x = tcpdump_hex(&buf, true);
        assert_eq!(x, format!("\t0x0000:  4500 0064 4308{}  E..dC.", " ".repeat(25)));
    }
}
