//! A tiny AF_PACKET SOCK_RAW sender for the trace tests and benchmark
//! (included with `#[path]`): frames with an EtherType nobody handles are
//! dropped by __netif_receive_skb_core with reason UNHANDLED_PROTO.

/// A raw packet socket bound for sending on one interface of the calling
/// thread's namespace. Create it inside `Netns::run`.
pub struct RawSender {
    fd: i32,
    sll: libc::sockaddr_ll,
}

impl RawSender {
    /// Opens the socket for interface `dev`.
    pub fn open(dev: &str) -> Self {
        let name = std::ffi::CString::new(dev).unwrap();
        // SAFETY: if_nametoindex reads a NUL-terminated string we own.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
        assert!(ifindex > 0, "no such device {dev}");
        // SAFETY: plain socket(2); the fd is closed on drop.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0) };
        assert!(fd >= 0, "socket(AF_PACKET): {}", std::io::Error::last_os_error());
        // SAFETY: a zeroed sockaddr_ll is valid; family, index and address length are set.
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = ifindex as i32;
        sll.sll_halen = 6;
        RawSender { fd, sll }
    }

    /// Sends one whole Ethernet frame (destination MAC first); true if the
    /// kernel took all of it.
    pub fn send(&self, frame: &[u8]) -> bool {
        // SAFETY: frame and sll outlive the call; the lengths are theirs.
        let n = unsafe {
            libc::sendto(
                self.fd,
                frame.as_ptr().cast(),
                frame.len(),
                0,
                (&self.sll as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        n == frame.len() as isize
    }
}

impl Drop for RawSender {
    fn drop(&mut self) {
        // SAFETY: fd is ours and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// A broadcast frame of `ethertype` with a short payload.
pub fn frame(ethertype: u16) -> Vec<u8> {
    let mut f = vec![0xffu8; 6];
    f.extend_from_slice(&[0x02, 0, 0, 0x43, 0x21, 0x01]);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(b"netobs-trace: nobody handles this EtherType......");
    f
}
