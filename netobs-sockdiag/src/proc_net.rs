//! The kernel's text tables of inet sockets, /proc/net/{tcp,udp,raw}{,6}
//! (net/ipv4/tcp_ipv4.c `get_tcp4_sock`, net/ipv4/udp.c `udp4_format_sock`,
//! net/ipv4/raw.c `raw_sock_seq_show`, and their IPv6 twins), which ss reads
//! when the sock_diag module of a protocol is missing (misc/ss.c: raw_show,
//! udp_show and tcp_show fall back to them when the netlink dump fails;
//! raw_diag is a separate module that many kernels do not load).
//!
//! Each line is re-encoded as the `struct inet_diag_msg` the kernel would
//! have answered (include/uapi/linux/inet_diag.h), so one view
//! ([`InetSock`](crate::InetSock)), one filter and one printer serve both
//! sources. What a table does not carry stays zero: the bound interface,
//! and the pending timer (its `tm->when` counts jiffies of a HZ that user
//! space cannot read). The socket's kernel address (`%pK`, zero or hashed
//! unless the reader may see it) takes the cookie's place, as ss prints it.

use crate::error::{Error, Result};
use crate::inet_diag::{Family, Proto, MSG_LEN};

/// The table's name under /proc/net for `proto` over `family`, if the kernel
/// keeps one (MPTCP, SCTP and DCCP have none ss reads).
pub fn table_name(proto: Proto, family: Family) -> Option<&'static str> {
    Some(match (proto, family) {
        (Proto::Tcp, Family::Inet) => "tcp",
        (Proto::Tcp, Family::Inet6) => "tcp6",
        (Proto::Udp, Family::Inet) => "udp",
        (Proto::Udp, Family::Inet6) => "udp6",
        (Proto::UdpLite, Family::Inet) => "udplite",
        (Proto::UdpLite, Family::Inet6) => "udplite6",
        (Proto::Raw, Family::Inet) => "raw",
        (Proto::Raw, Family::Inet6) => "raw6",
        _ => return None,
    })
}

/// Reads `/proc/net/TABLE` of the namespace the calling thread is in
/// (`/proc/thread-self/net`, not `/proc/self/net`, which is the main
/// thread's namespace): run it inside [`netobs_core::Netns::run`] for
/// another namespace.
pub fn read_table(proto: Proto, family: Family) -> Result<String> {
    let name = table_name(proto, family).ok_or_else(|| {
        Error::proc(
            format!("/proc/net (no table for {proto:?} over {family:?})"),
            std::io::Error::from_raw_os_error(libc::ENOENT),
        )
    })?;
    let path = format!("/proc/thread-self/net/{name}");
    std::fs::read_to_string(&path).map_err(|e| Error::proc(path, e))
}

fn hex32(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 16).ok()
}

/// `ADDR:PORT` as the tables print it: the address as native-order 32-bit
/// words in hex (`%08X` of the __be32 words, so the bytes come back with
/// `to_ne_bytes`), the port in host order (`%04X`).
fn endpoint(s: &str, family: Family) -> Option<([u8; 16], u16)> {
    let (addr, port) = s.split_once(':')?;
    let words = match family {
        Family::Inet => 1,
        Family::Inet6 => 4,
    };
    if addr.len() != 8 * words || !addr.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for i in 0..words {
        let w = hex32(&addr[8 * i..8 * i + 8])?;
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_ne_bytes());
    }
    Some((out, u16::from_str_radix(port, 16).ok()?))
}

/// One table line as an `inet_diag_msg`; `None` for a malformed line.
fn encode(line: &str, family: Family) -> Option<[u8; MSG_LEN]> {
    let t: Vec<&str> = line.split_whitespace().collect();
    // sl, local, remote, st, tx:rx, tr:when, retrnsmt, uid, timeout,
    // inode, ref, pointer (the same columns in tcp, udp and raw tables).
    if t.len() < 12 || !t[0].ends_with(':') {
        return None;
    }
    let (src, sport) = endpoint(t[1], family)?;
    let (dst, dport) = endpoint(t[2], family)?;
    let state = u8::from_str_radix(t[3], 16).ok()?;
    let (tx, rx) = t[4].split_once(':')?;
    let (tx, rx) = (hex32(tx)?, hex32(rx)?);
    let uid: u32 = t[7].parse().ok()?;
    let inode: u64 = t[9].parse().ok()?;
    let pointer = u64::from_str_radix(t[11], 16).ok()?;
    let mut m = [0u8; MSG_LEN];
    m[0] = match family {
        Family::Inet => libc::AF_INET as u8,
        Family::Inet6 => libc::AF_INET6 as u8,
    };
    m[1] = state;
    m[4..6].copy_from_slice(&sport.to_be_bytes());
    m[6..8].copy_from_slice(&dport.to_be_bytes());
    m[8..24].copy_from_slice(&src);
    m[24..40].copy_from_slice(&dst);
    // idiag_cookie[2]: low word first (net/core/sock_diag.c).
    m[44..48].copy_from_slice(&(pointer as u32).to_ne_bytes());
    m[48..52].copy_from_slice(&((pointer >> 32) as u32).to_ne_bytes());
    m[56..60].copy_from_slice(&rx.to_ne_bytes());
    m[60..64].copy_from_slice(&tx.to_ne_bytes());
    m[64..68].copy_from_slice(&uid.to_ne_bytes());
    m[68..72].copy_from_slice(&(inode as u32).to_ne_bytes());
    Some(m)
}

/// The sockets of one table, each as an `inet_diag_msg` payload that
/// [`InetSock::parse_payload`](crate::InetSock::parse_payload) reads. The
/// header line is skipped; a malformed line is an error naming it.
pub fn inet_diag_messages(table: &str, family: Family, path: &str) -> Result<Vec<[u8; MSG_LEN]>> {
    let mut out = Vec::new();
    for (i, line) in table.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        out.push(encode(line, family).ok_or_else(|| netobs_core::Error::ProcFormat {
            path: path.to_owned(),
            line: i + 1,
            reason: "expected `sl: local remote st tx:rx tr:when retrnsmt uid timeout inode ref pointer`",
        })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::InetSock;

    #[test]
    fn raw_lines_become_inet_diag_messages() {
        let v4 = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                    1: 0100007F:0001 00000000:0000 07 00000000:00000200 00:00000000 00000000     0        0 4242 2 ffff8880012a0000 0\n";
        let m = inet_diag_messages(v4, Family::Inet, "raw").unwrap();
        let s = InetSock::parse_payload(&m[0]).unwrap();
        assert_eq!(s.src().to_string(), "127.0.0.1");
        assert_eq!((s.sport(), s.dport(), s.state_raw()), (1, 0, 7));
        assert_eq!((s.rqueue(), s.wqueue(), s.inode(), s.uid()), (0x200, 0, 4242, 0));
        assert_eq!(s.cookie(), 0xffff8880012a0000);
        let v6 = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n\
                    5: 00000000000000000000000001000000:003A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 77 2 0000000000000000 0\n";
        let m = inet_diag_messages(v6, Family::Inet6, "raw6").unwrap();
        let s = InetSock::parse_payload(&m[0]).unwrap();
        assert_eq!(s.src().to_string(), "::1");
        assert_eq!((s.sport(), s.uid(), s.inode()), (58, 1000, 77));
    }

    #[test]
    fn malformed_lines_are_errors_with_their_number() {
        let t = "header\n   1: 0100007F:0001 00000000:0000 07\n";
        let e = inet_diag_messages(t, Family::Inet, "/proc/net/raw").unwrap_err();
        assert!(e.to_string().starts_with("/proc/net/raw: malformed line 2"), "{e}");
        assert!(inet_diag_messages("header\n 1: 7F:1 0:0 07 0:0 0:0 0 0 0 1 2 0\n", Family::Inet, "x").is_err());
        assert!(inet_diag_messages("header\n", Family::Inet6, "x").unwrap().is_empty());
    }
}
