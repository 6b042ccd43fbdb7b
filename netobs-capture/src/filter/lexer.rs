//! Tokens of a pcap-filter expression (pcap-filter(7)).

use crate::FilterError;

/// One token with its 1-based column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: Tok,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A number (decimal, 0x hex, 0 octal).
    Num(u32),
    /// A word: keyword, address, name (`\` escapes removed).
    Word(String),
    /// Punctuation and operators: ( ) [ ] : + - * / % & | ^ << >> ! = == != < <= > >= && ||.
    Op(&'static str),
    End,
}

const OPS: [&str; 25] = [
    "&&", "||", "<<", ">>", "==", "!=", "<=", ">=", "(", ")", "[", "]", ":", "+", "-", "*", "/", "%", "&", "|", "^",
    "!", "=", "<", ">",
];

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '\\')
}

/// Parses a number the way libpcap's scanner does: `0x` hex, leading `0`
/// octal, else decimal; None when it is not a number.
pub(crate) fn parse_number(s: &str) -> Option<u32> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u32::from_str_radix(h, 16).ok();
    }
    if s.len() > 1 && s.starts_with('0') {
        return u32::from_str_radix(&s[1..], 8).ok();
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    None
}

pub(crate) fn tokenize(expr: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        // A word starts with an alphanumeric, a backslash, or "::" (IPv6).
        let starts_word = c.is_ascii_alphanumeric() || c == '\\' || (c == ':' && chars.get(i + 1) == Some(&':'));
        if starts_word {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                // A '-' continues a word only inside a name that starts with a
                // letter (tcp-syn, icmp-echo, domain-smtp); "7-9" and "len - 4"
                // keep their '-' as an operator.
                if chars[i] == '-' && !(chars[start].is_ascii_alphabetic() || chars[start] == '\\') {
                    break;
                }
                i += 1;
            }
            // A trailing '-' or ':' that is not followed by a word character
            // belongs to the next token.
            while i > start + 1 && matches!(chars[i - 1], '-') {
                i -= 1;
            }
            // A ':' belongs to the word only in a MAC or IPv6 address;
            // "13:1" in tcp[13:1] is offset, colon, size.
            let raw: String = chars[start..i].iter().collect();
            if let Some(colon) = raw.find(':') {
                let mac = raw.split(':').count() == 6 && raw.split(':').all(|o| !o.is_empty() && o.len() <= 2);
                if colon > 0 && !mac && raw.parse::<std::net::Ipv6Addr>().is_err() {
                    i = start + colon;
                }
            }
            let word: String = chars[start..i].iter().filter(|&&ch| ch != '\\').collect();
            let kind = match parse_number(&word) {
                Some(n) if !word.contains(':') => Tok::Num(n),
                None if word.chars().all(|ch| ch.is_ascii_digit()) => {
                    return Err(FilterError {
                        column,
                        message: format!("number {word} does not fit in 32 bits"),
                    })
                }
                _ => Tok::Word(word),
            };
            out.push(Token { kind, column });
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
        let Some(op) = OPS.iter().find(|op| rest.starts_with(*op)) else {
            return Err(FilterError {
                column,
                message: format!("unexpected character '{c}'"),
            });
        };
        out.push(Token {
            kind: Tok::Op(op),
            column,
        });
        i += op.len();
    }
    out.push(Token {
        kind: Tok::End,
        column: chars.len() + 1,
    });
    Ok(out)
}
