//! IPv6 addresses as tcpdump prints them (`ip6addr_string` with `-n`,
//! which formats with its own `addrtostr6`, addrtostr.c).

use std::fmt;
use std::net::Ipv6Addr;

/// An IPv6 address in tcpdump's text: RFC 5952 compression (the longest
/// run of two or more zero words, the first of equal runs, lower-case
/// hex), IPv4-mapped addresses as `::ffff:a.b.c.d`, and, unlike Rust's
/// `Display`, IPv4-compatible ones (the first 96 bits zero, the seventh
/// word not) as `::a.b.c.d`. `::1` and `::` stay as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ip6Text(pub(super) Ipv6Addr);

impl fmt::Display for Ip6Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let words = self.0.segments();
        if words[..6] == [0; 6] && words[6] != 0 {
            let [.., a, b, c, d] = self.0.octets();
            return write!(f, "::{a}.{b}.{c}.{d}");
        }
        // Rust's Display compresses as addrtostr6 does and prints mapped
        // addresses with their IPv4 tail.
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_ipv4_as_tcpdump() {
        let t = |s: &str| Ip6Text(s.parse().unwrap()).to_string();
        assert_eq!(t("::102:304"), "::1.2.3.4");
        assert_eq!(t("::1:0"), "::0.1.0.0");
        assert_eq!(t("::ffff:a00:1"), "::ffff:10.0.0.1");
        assert_eq!(t("::1"), "::1");
        assert_eq!(t("::2"), "::2");
        assert_eq!(t("::"), "::");
        assert_eq!(t("1::102:304"), "1::102:304");
        assert_eq!(t("fe80::1:0:0:1"), "fe80::1:0:0:1");
    }
}
