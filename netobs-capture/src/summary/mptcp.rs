//! MPTCP options (TCP option kind 30, RFC 8684) as tcpdump 4.99's
//! `mptcp_print` (print-mptcp.c) prints them inside `options [...]`:
//! `mptcp LEN SUBTYPE` and the subtype's fields. An option of a length or
//! a TCP flag combination the subtype does not allow is a bad option, as
//! tcpdump calls it.

use std::fmt::Write;

use super::read::{be16, be32, be64, ipv4_at, ipv6_at};

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

/// The text after `mptcp` for the option `opt` (kind and length bytes
/// included, `opt.len()` its length byte) of a segment with TCP `flags`:
/// `Ok` when tcpdump accepts the option, `Err` with what it printed before
/// it gave up (the caller ends the options with `[bad opt]`).
pub(super) fn option(opt: &[u8], flags: u8) -> Result<String, String> {
    let len = opt.len();
    if len < 3 {
        return Err(String::new());
    }
    const NAMES: [&str; 9] = [
        "capable",
        "join",
        "dss",
        "add-addr",
        "rem-addr",
        "prio",
        "fail",
        "fast-close",
        "unknown",
    ];
    let subtype = usize::from(opt[2] >> 4).min(8);
    let mut s = format!(" {len} {}", NAMES[subtype]);
    let ok = match subtype {
        0 => capable(&mut s, opt, flags),
        1 => join(&mut s, opt, flags),
        2 => dss(&mut s, opt, flags),
        3 => add_addr(&mut s, opt),
        4 => remove_addr(&mut s, opt),
        5 => prio(&mut s, opt),
        6 => fail(&mut s, opt),
        7 => fast_close(&mut s, opt),
        _ => Some(()),
    };
    match ok {
        Some(()) => Ok(s),
        None => Err(s),
    }
}

/// MP_CAPABLE: version, checksum flag, the keys (RFC 8684 3.1).
fn capable(s: &mut String, o: &[u8], flags: u8) -> Option<()> {
    let len = o.len();
    let syn = (len == 12 || len == 4) && flags & SYN != 0;
    let ack = (len == 20 || len == 22) && flags & (SYN | ACK) == ACK;
    if !syn && !ack {
        return None;
    }
    let version = o[2] & 0xf;
    if version > 1 {
        let _ = write!(s, " Unknown Version ({version})");
        return Some(());
    }
    let _ = write!(s, " v{version}");
    if *o.get(3)? & 0x80 != 0 {
        s.push_str(" csum");
    }
    if len == 12 || len >= 20 {
        let _ = write!(s, " {{0x{:x}", be64(o, 4)?);
        if len >= 20 {
            let _ = write!(s, ",0x{:x}", be64(o, 12)?);
        }
        s.push('}');
    }
    Some(())
}

/// MP_JOIN of a SYN, a SYN/ACK or the third ACK (RFC 8684 3.2).
fn join(s: &mut String, o: &[u8], flags: u8) -> Option<()> {
    let len = o.len();
    let syn = len == 12 && flags & SYN != 0;
    let syn_ack = len == 16 && flags & (SYN | ACK) == SYN | ACK;
    let third_ack = len == 24 && flags & ACK != 0;
    if !(syn || syn_ack || third_ack) {
        return None;
    }
    if len != 24 {
        if o[2] & 1 != 0 {
            s.push_str(" backup");
        }
        let _ = write!(s, " id {}", o.get(3)?);
    }
    match len {
        12 => {
            let _ = write!(s, " token 0x{:x} nonce 0x{:x}", be32(o, 4)?, be32(o, 8)?);
        }
        16 => {
            let _ = write!(s, " hmac 0x{:x} nonce 0x{:x}", be64(o, 4)?, be32(o, 12)?);
        }
        _ => {
            s.push_str(" hmac 0x");
            for b in o.get(4..24)? {
                let _ = write!(s, "{b:02x}");
            }
        }
    }
    Some(())
}

/// DSS: DATA_FIN, the data ack and the mapping (RFC 8684 3.3).
fn dss(s: &mut String, o: &[u8], flags: u8) -> Option<()> {
    if o.len() < 4 || flags & SYN != 0 {
        return None;
    }
    let f = o[3];
    if f & 0x10 != 0 {
        s.push_str(" fin");
    }
    let mut rest = &o[4..];
    // tcpdump prints each field's name before it checks the field is there
    if f & 0x01 != 0 {
        s.push_str(" ack ");
        let _ = write!(s, "{}", number(&mut rest, f & 0x02 != 0)?);
    }
    if f & 0x04 != 0 {
        s.push_str(" seq ");
        let _ = write!(s, "{}", number(&mut rest, f & 0x08 != 0)?);
        let _ = write!(s, " subseq {}", number(&mut rest, false)?);
        let _ = write!(s, " len {}", be16(rest, 0)?);
        rest = &rest[2..];
        if rest.len() >= 2 {
            let _ = write!(s, " csum 0x{:x}", be16(rest, 0)?);
            rest = &rest[2..];
        }
    }
    rest.is_empty().then_some(())
}

/// An 8-byte field of `rest` when `wide`, else a 4-byte one, taken off it.
fn number(rest: &mut &[u8], wide: bool) -> Option<u64> {
    let (v, n) = if wide {
        (be64(rest, 0)?, 8)
    } else {
        (u64::from(be32(rest, 0)?), 4)
    };
    *rest = &rest[n..];
    Some(v)
}

/// ADD_ADDR: echo bit or v0 family, address id, address, port, HMAC
/// (RFC 8684 3.4.1; RFC 6824's v0 forms).
fn add_addr(s: &mut String, o: &[u8]) -> Option<()> {
    let len = o.len();
    if ![8, 10, 16, 18, 20, 22, 28, 30].contains(&len) {
        return None;
    }
    let kind = match o[2] & 0xf {
        0x6 => "v0-ip6",
        0x4 => "v0-ip4",
        0x1 => "v1-echo",
        0x0 => "v1",
        _ => "[bad version/echo]",
    };
    let _ = write!(s, " {kind} id {}", o.get(3)?);
    if len <= 18 {
        let _ = write!(s, " {}", ipv4_at(o, 4)?);
        if len == 10 || len == 18 {
            let _ = write!(s, ":{}", be16(o, 8)?);
        }
        match len {
            16 => {
                let _ = write!(s, " hmac 0x{:x}", be64(o, 8)?);
            }
            18 => {
                let _ = write!(s, " hmac 0x{:x}", be64(o, 10)?);
            }
            _ => {}
        }
    } else {
        let _ = write!(s, " {}", ipv6_at(o, 4)?);
        if len == 22 || len == 30 {
            let _ = write!(s, ":{}", be16(o, 20)?);
        }
        match len {
            28 => {
                let _ = write!(s, " hmac 0x{:x}", be64(o, 20)?);
            }
            30 => {
                let _ = write!(s, " hmac 0x{:x}", be64(o, 22)?);
            }
            _ => {}
        }
    }
    Some(())
}

/// REMOVE_ADDR: the address ids.
fn remove_addr(s: &mut String, o: &[u8]) -> Option<()> {
    if o.len() < 4 {
        return None;
    }
    s.push_str(" id");
    for id in &o[3..] {
        let _ = write!(s, " {id}");
    }
    Some(())
}

/// MP_PRIO: the backup bit and, in the 4-byte form, an address id.
fn prio(s: &mut String, o: &[u8]) -> Option<()> {
    if o.len() != 3 && o.len() != 4 {
        return None;
    }
    s.push_str(if o[2] & 1 != 0 { " backup" } else { " non-backup" });
    if let Some(id) = o.get(3) {
        let _ = write!(s, " id {id}");
    }
    Some(())
}

/// MP_FAIL: the data sequence number.
fn fail(s: &mut String, o: &[u8]) -> Option<()> {
    if o.len() != 12 {
        return None;
    }
    let _ = write!(s, " seq {}", be64(o, 4)?);
    Some(())
}

/// MP_FASTCLOSE: the receiver's key.
fn fast_close(s: &mut String, o: &[u8]) -> Option<()> {
    if o.len() != 12 {
        return None;
    }
    let _ = write!(s, " key 0x{:x}", be64(o, 4)?);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_of_an_mptcp_connection() {
        let key = [1, 2, 3, 4, 5, 6, 7, 8];
        let mut syn = vec![30, 12, 0x01, 0x81];
        syn.extend_from_slice(&key);
        assert_eq!(option(&syn, SYN).unwrap(), " 12 capable v1 csum {0x102030405060708}");
        assert_eq!(option(&[30, 4, 0x01, 0x00], SYN).unwrap(), " 4 capable v1");
        // the same 12 bytes without SYN: not a form tcpdump accepts
        assert_eq!(option(&syn, ACK).unwrap_err(), " 12 capable");
        let dss = [30, 8, 0x20, 0x01, 0, 0, 1, 0];
        assert_eq!(option(&dss, ACK).unwrap(), " 8 dss ack 256");
        let dss = [
            30,
            20,
            0x20,
            0x05 | 0x08 | 0x10,
            0,
            0,
            0,
            9,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            7,
        ];
        // ack 4, seq 8 wide: 4 + 4 + 8 = 16 bytes; subseq and len missing
        assert_eq!(option(&dss, ACK).unwrap_err(), " 20 dss fin ack 9 seq 1 subseq 7");
        // the name comes before the check, as in tcpdump
        assert_eq!(option(&[30, 6, 0x20, 0x01, 0, 0], ACK).unwrap_err(), " 6 dss ack ");
        let add = [30, 16, 0x30, 2, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0xab, 0xcd];
        assert_eq!(option(&add, ACK).unwrap(), " 16 add-addr v1 id 2 10.0.0.2 hmac 0xabcd");
        assert_eq!(option(&[30, 5, 0x40, 3, 4], ACK).unwrap(), " 5 rem-addr id 3 4");
        assert_eq!(option(&[30, 4, 0x51, 2], ACK).unwrap(), " 4 prio backup id 2");
        assert_eq!(option(&[30, 3, 0x90], ACK).unwrap(), " 3 unknown");
        assert_eq!(option(&[30, 2], ACK).unwrap_err(), "");
    }
}
