//! JSON string escaping shared by the examples' `--json` / `-j` output.

/// Appends `s` as a JSON string: the escapes iproute2's json_writer uses
/// (`\t \n \r \f \b \\ \"`), and `\u00XX` for the other control characters
/// so the output is always valid JSON.
pub fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 15] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// [`push_json_str`] into a new string.
#[allow(dead_code)] // not every example needs the owned form
pub fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    push_json_str(&mut o, s);
    o
}
