//! The SIOCETHTOOL ioctl (include/uapi/linux/ethtool.h,
//! net/ethtool/ioctl.c): the only path to a driver's private statistics.
//! Every `unsafe` block of the crate lives here.
//!
//! SIOCETHTOOL hands the kernel one pointer (`ifr_data`) and lets the
//! *command* decide how many bytes it reads and writes there. Nothing in
//! this module takes a raw command and a caller-sized buffer: each command
//! is sent by a function that owns an answer area of the size that command
//! can write.
//!
//! - Fixed-size commands ([`Fixed`]) write exactly `sizeof(struct ...)`,
//!   an ABI constant of the uapi header; the area is that large.
//! - ETHTOOL_GSSET_INFO writes one `u32` per bit set in the mask we send:
//!   we send one bit.
//! - ETHTOOL_GFEATURES writes `min(size, ETHTOOL_DEV_FEATURE_WORDS)` blocks,
//!   at most the `size` we send.
//! - ETHTOOL_GSTRINGS, ETHTOOL_GSTATS and ETHTOOL_GPHYSTATS write as many
//!   entries as the driver counts *at the time of the call*. Recent kernels
//!   (and the stable 6.1 series) answer 0 entries when that differs from
//!   the count we pass, but older kernels ignore our count and copy the
//!   current one (`ethtool_get_stats`, `ethtool_get_strings`), so a queue
//!   reconfiguration between the size query and the read would overflow a
//!   buffer sized from the first. Their answers go into a [`GuardedArea`]:
//!   anonymous memory whose answer ends exactly where a PROT_NONE page
//!   begins, so an overlong copy_to_user stops at the guard with EFAULT.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr::NonNull;

/// `SIOCETHTOOL` (include/uapi/linux/sockios.h).
const SIOCETHTOOL: libc::c_ulong = 0x8946;
/// Get string set names (`struct ethtool_gstrings`).
const ETHTOOL_GSTRINGS: u32 = 0x0000_001b;
/// Get NIC statistics (`struct ethtool_stats`).
const ETHTOOL_GSTATS: u32 = 0x0000_001d;
/// Get string set sizes (`struct ethtool_sset_info`).
const ETHTOOL_GSSET_INFO: u32 = 0x0000_0037;
/// Get PHY statistics (`struct ethtool_stats`).
const ETHTOOL_GPHYSTATS: u32 = 0x0000_004a;
/// Get feature bits (`struct ethtool_gfeatures`).
const ETHTOOL_GFEATURES: u32 = 0x0000_003a;
/// Length of one name in a string set (ETH_GSTRING_LEN).
pub const ETH_GSTRING_LEN: usize = 32;
/// Size of `struct ethtool_gstrings` before its names.
pub(crate) const GSTRINGS_HDR: usize = 12;
/// Size of `struct ethtool_stats` before its values.
pub(crate) const GSTATS_HDR: usize = 8;
/// Upper bound of `ETHTOOL_DEV_FEATURE_WORDS` we ask for: 64 blocks of 32
/// features, far above the kernel's NETDEV_FEATURE_COUNT (one u64 today).
const MAX_FEATURE_BLOCKS: usize = 64;

/// A string set of the ethtool ioctl (`enum ethtool_stringset`,
/// include/uapi/linux/ethtool.h), chosen from a closed list so no request
/// names a set whose answer size we do not know how to bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum StringSetId {
    /// ETH_SS_TEST: self-test names.
    Test = 0,
    /// ETH_SS_STATS: driver statistics names (`ethtool -S`).
    Stats = 1,
    /// ETH_SS_PRIV_FLAGS: driver private flag names.
    PrivFlags = 2,
    /// ETH_SS_FEATURES: netdev feature names (`ethtool -k`).
    Features = 4,
    /// ETH_SS_PHY_STATS: PHY statistics names.
    PhyStats = 7,
}

/// Which statistics to read with their names: the driver's own
/// (ETHTOOL_GSTATS over ETH_SS_STATS) or the PHY's (ETHTOOL_GPHYSTATS over
/// ETH_SS_PHY_STATS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatsKind {
    /// `ethtool -S`.
    Driver,
    /// `ethtool --phy-statistics`.
    Phy,
}

impl StatsKind {
    /// The string set that names these statistics.
    pub fn names(self) -> StringSetId {
        match self {
            StatsKind::Driver => StringSetId::Stats,
            StatsKind::Phy => StringSetId::PhyStats,
        }
    }

    fn cmd(self) -> u32 {
        match self {
            StatsKind::Driver => ETHTOOL_GSTATS,
            StatsKind::Phy => ETHTOOL_GPHYSTATS,
        }
    }
}

/// Commands whose answer is one fixed-size uapi struct; `len` is its size,
/// which the kernel copies whole (`copy_to_user(useraddr, &x, sizeof(x))`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fixed {
    /// ETHTOOL_GDRVINFO, `struct ethtool_drvinfo`.
    DrvInfo,
    /// ETHTOOL_GRINGPARAM, `struct ethtool_ringparam`.
    RingParam,
    /// ETHTOOL_GCHANNELS, `struct ethtool_channels`.
    Channels,
    /// ETHTOOL_GCOALESCE, `struct ethtool_coalesce`.
    Coalesce,
    /// ETHTOOL_GPAUSEPARAM, `struct ethtool_pauseparam`.
    PauseParam,
    /// ETHTOOL_GSET, the legacy `struct ethtool_cmd` (link modes in 32 bits).
    Settings,
}

/// The largest [`Fixed`] answer.
pub(crate) const FIXED_MAX: usize = 196;

impl Fixed {
    fn cmd(self) -> u32 {
        match self {
            Fixed::DrvInfo => 0x0000_0003,
            Fixed::RingParam => 0x0000_0010,
            Fixed::Channels => 0x0000_003c,
            Fixed::Coalesce => 0x0000_000e,
            Fixed::PauseParam => 0x0000_0012,
            Fixed::Settings => 0x0000_0001,
        }
    }

    /// `sizeof` the answer struct: the command word and its fields.
    pub(crate) const fn len(self) -> usize {
        match self {
            Fixed::DrvInfo => 4 + 32 * 5 + 4 * 8,
            Fixed::RingParam | Fixed::Channels => 4 + 4 * 8,
            Fixed::Coalesce => 4 + 4 * 22,
            Fixed::PauseParam => 4 + 4 * 3,
            // cmd, supported, advertising, speed..mdio_support (8 bytes),
            // maxtxpkt, maxrxpkt, speed_hi..eth_tp_mdix_ctrl (4 bytes),
            // lp_advertising, reserved[2].
            Fixed::Settings => 4 * 3 + 8 + 4 * 2 + 4 + 4 + 4 * 2,
        }
    }
}

// Every fixed answer fits the array `IoctlSocket::fixed` hands the kernel.
const _: () = {
    let all = [
        Fixed::DrvInfo,
        Fixed::RingParam,
        Fixed::Channels,
        Fixed::Coalesce,
        Fixed::PauseParam,
        Fixed::Settings,
    ];
    let mut i = 0;
    while i < all.len() {
        assert!(all[i].len() <= FIXED_MAX);
        i += 1;
    }
};

/// An AF_INET datagram socket to carry SIOCETHTOOL requests; any socket of
/// the interface's network namespace does.
#[derive(Debug)]
pub(crate) struct IoctlSocket {
    fd: OwnedFd,
}

impl IoctlSocket {
    /// Opens the socket in the calling thread's network namespace.
    pub(crate) fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes integers and returns a new descriptor or -1.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd was just returned by socket(2) and is owned by no one else.
        Ok(IoctlSocket {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// Sends one ethtool command for `ifname` with `ifr_data = data`.
    ///
    /// # Safety
    /// `data` must point at memory the caller owns exclusively for the
    /// call, readable and writable for every byte the command in its first
    /// word can make the kernel write, or followed by inaccessible memory
    /// where that could exceed what the caller owns (the kernel then fails
    /// with EFAULT at the first inaccessible byte).
    unsafe fn call(&self, ifname: &str, data: *mut u8) -> io::Result<()> {
        let name = ifname.as_bytes();
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains(&0) {
            return Err(io::Error::from_raw_os_error(libc::ENODEV));
        }
        // struct ifreq: the name, then (in the union) the data pointer.
        // SAFETY: ifreq is plain data; all-zero is a valid value.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (d, s) in ifr.ifr_name.iter_mut().zip(name) {
            *d = *s as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = data.cast();
        // SAFETY: ifr is a live ifreq; what the kernel does with the data
        // pointer is covered by this function's contract.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCETHTOOL as _, &mut ifr) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }

    /// A fixed-size command: returns its answer, `cmd.len()` bytes at the
    /// start of the array.
    pub(crate) fn fixed(&self, ifname: &str, cmd: Fixed) -> io::Result<[u8; FIXED_MAX]> {
        let mut b = [0u8; FIXED_MAX];
        b[..4].copy_from_slice(&cmd.cmd().to_ne_bytes());
        // SAFETY: the kernel writes exactly cmd.len() <= FIXED_MAX bytes
        // (one uapi struct), all inside `b`, which we own for the call.
        unsafe { self.call(ifname, b.as_mut_ptr())? };
        Ok(b)
    }

    /// ETHTOOL_GSSET_INFO for one set: its size, `None` when the driver
    /// has no such set (the kernel clears the bit from the mask).
    pub(crate) fn sset_len(&self, ifname: &str, set: StringSetId) -> io::Result<Option<u32>> {
        // struct ethtool_sset_info { u32 cmd; u32 reserved; u64 sset_mask;
        // u32 data[]; }: one data word per mask bit, and we send one bit.
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(&ETHTOOL_GSSET_INFO.to_ne_bytes());
        b[8..16].copy_from_slice(&(1u64 << set as u32).to_ne_bytes());
        // SAFETY: the kernel writes the 16-byte header and at most
        // hweight64(mask) = 1 data word (net/ethtool/ioctl.c,
        // ethtool_get_sset_info): 20 bytes, all of `b`.
        unsafe { self.call(ifname, b.as_mut_ptr())? };
        let mask = u64::from_ne_bytes(b[8..16].try_into().unwrap_or_default());
        Ok((mask != 0).then(|| u32::from_ne_bytes(b[16..20].try_into().unwrap_or_default())))
    }

    /// ETHTOOL_GFEATURES for `blocks` blocks of 32 features: the raw
    /// `struct ethtool_gfeatures` (cmd, size, then per block available,
    /// requested, active, never_changed).
    pub(crate) fn features(&self, ifname: &str, blocks: usize) -> io::Result<Vec<u8>> {
        let blocks = blocks.min(MAX_FEATURE_BLOCKS);
        let mut b = vec![0u8; 8 + 16 * blocks];
        b[..4].copy_from_slice(&ETHTOOL_GFEATURES.to_ne_bytes());
        b[4..8].copy_from_slice(&(blocks as u32).to_ne_bytes());
        // SAFETY: the kernel copies the 8-byte header and
        // min(size, ETHTOOL_DEV_FEATURE_WORDS) <= `blocks` blocks of 16
        // bytes (ethtool_get_features): within `b`.
        unsafe { self.call(ifname, b.as_mut_ptr())? };
        Ok(b)
    }

    /// ETHTOOL_GSTRINGS of `set` expecting `count` names, answered in
    /// `area`: returns the whole `struct ethtool_gstrings` answer. The
    /// caller compares the answer's count with `count`; EFAULT means the
    /// driver's count grew past it (on kernels that ignore our count).
    pub(crate) fn strings<'a>(
        &self,
        ifname: &str,
        set: StringSetId,
        count: u32,
        area: &'a mut GuardedArea,
    ) -> io::Result<&'a [u8]> {
        let len = GSTRINGS_HDR + count as usize * ETH_GSTRING_LEN;
        self.guarded(ifname, &[ETHTOOL_GSTRINGS, set as u32, count], len, area)
    }

    /// ETHTOOL_GSTATS or ETHTOOL_GPHYSTATS expecting `count` values,
    /// answered in `area`: the whole `struct ethtool_stats` answer, under
    /// the same rules as [`strings`](Self::strings).
    pub(crate) fn stats<'a>(
        &self,
        ifname: &str,
        kind: StatsKind,
        count: u32,
        area: &'a mut GuardedArea,
    ) -> io::Result<&'a [u8]> {
        self.guarded(ifname, &[kind.cmd(), count], GSTATS_HDR + count as usize * 8, area)
    }

    /// Sends the command whose header is `words` (command word first) with
    /// the answer in the last `len` bytes of `area`, before its guard page.
    /// Also used by the test that the guard holds when the kernel writes
    /// more than `len` (as old kernels do when a driver's count grows).
    fn guarded<'a>(&self, ifname: &str, words: &[u32], len: usize, area: &'a mut GuardedArea) -> io::Result<&'a [u8]> {
        let b = area.answer(len.max(4 * words.len()))?;
        for (d, w) in b.chunks_exact_mut(4).zip(words) {
            d.copy_from_slice(&w.to_ne_bytes());
        }
        // SAFETY: `b` is exclusively borrowed for the call and ends where
        // the area's PROT_NONE guard page begins (GuardedArea::answer): the
        // kernel writes within `b` or stops at the guard with EFAULT.
        unsafe { self.call(ifname, b.as_mut_ptr())? };
        Ok(b)
    }
}

/// Anonymous memory for a kernel answer whose size the kernel decides:
/// read-write pages followed by one PROT_NONE page. [`answer`](Self::answer)
/// hands out the last `len` bytes before the guard, so the kernel can write
/// the answer we sized and nothing past it: copy_to_user stops at the
/// first inaccessible byte and the ioctl fails with EFAULT. Kept and
/// reused across calls; it grows (remaps) when an answer needs more room.
#[derive(Debug)]
pub(crate) struct GuardedArea {
    base: Option<NonNull<u8>>,
    /// Read-write bytes before the guard page.
    cap: usize,
}

// SAFETY: the mapping is private memory owned by this value alone; it is
// only reached through &mut self.
unsafe impl Send for GuardedArea {}
// SAFETY: &GuardedArea gives no access to the memory.
unsafe impl Sync for GuardedArea {}

fn page_size() -> usize {
    netobs_core::page_size()
}

impl GuardedArea {
    /// An empty area; memory is mapped on the first answer.
    pub(crate) const fn new() -> Self {
        GuardedArea { base: None, cap: 0 }
    }

    /// The last `len` bytes before the guard page, zeroed, mapping more
    /// room first when needed.
    pub(crate) fn answer(&mut self, len: usize) -> io::Result<&mut [u8]> {
        if len > self.cap || self.base.is_none() {
            self.remap(len)?;
        }
        let base = self.base.ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: base..base+cap is the read-write part of our private
        // mapping (remap), len <= cap, and &mut self makes this the only
        // live slice of it.
        let b = unsafe { std::slice::from_raw_parts_mut(base.as_ptr().add(self.cap - len), len) };
        b.fill(0);
        Ok(b)
    }

    fn remap(&mut self, len: usize) -> io::Result<()> {
        self.unmap();
        let page = page_size();
        let cap = len
            .checked_next_multiple_of(page)
            .filter(|&c| c > 0)
            .unwrap_or(page)
            .max(page);
        let total = cap
            .checked_add(page)
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))?;
        // SAFETY: a fresh private anonymous mapping; no existing memory is
        // affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: p + cap is the page-aligned start of the mapping's last
        // page, which we own and make inaccessible.
        let rc = unsafe { libc::mprotect(p.cast::<u8>().add(cap).cast(), page, libc::PROT_NONE) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            // SAFETY: p/total is exactly the mapping made above.
            unsafe { libc::munmap(p, total) };
            return Err(e);
        }
        self.base = NonNull::new(p.cast());
        self.cap = cap;
        Ok(())
    }

    fn unmap(&mut self) {
        if let Some(b) = self.base.take() {
            // SAFETY: b/cap+page is exactly the mapping made by remap; no
            // slice of it outlives &mut self.
            unsafe { libc::munmap(b.as_ptr().cast(), self.cap + page_size()) };
            self.cap = 0;
        }
    }
}

impl Drop for GuardedArea {
    fn drop(&mut self) {
        self.unmap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Old kernels write the driver's current count whatever we asked for.
    /// Simulate that with a command that writes more than its area: GDRVINFO
    /// (196 bytes) into a 100-byte answer at the guard. The kernel must stop
    /// at the guard page with EFAULT, leaving the process intact.
    #[test]
    fn guard_page_stops_an_overlong_answer() {
        if !netobs_testsupport::privileged("guard_page_stops_an_overlong_answer") {
            return;
        }
        let ns = netobs_testsupport::TestNetns::new();
        ns.veth("gd0", "gd1", None, None);
        let netns = netobs_core::Netns::Path(ns.path().into());
        netns
            .run(|| {
                let sock = IoctlSocket::open().unwrap();
                let mut area = GuardedArea::new();
                let e = sock
                    .guarded("gd0", &[Fixed::DrvInfo.cmd()], 100, &mut area)
                    .expect_err("GDRVINFO into 100 bytes must fault at the guard");
                assert_eq!(e.raw_os_error(), Some(libc::EFAULT), "{e}");
                // With room for the struct the same command succeeds in the
                // same (reused) area, and names the driver.
                let n = Fixed::DrvInfo.len();
                sock.guarded("gd0", &[Fixed::DrvInfo.cmd()], n, &mut area).unwrap();
                let b = sock.fixed("gd0", Fixed::DrvInfo).unwrap();
                assert_eq!(&b[4..9], b"veth\0");
                // GSTATS asking for fewer values than veth counts: a kernel
                // that refuses the mismatch answers 0 values; one that copies
                // its own count faults at the guard. Either way no byte past
                // the area is written and the answer's count is not ours.
                match sock.stats("gd0", StatsKind::Driver, 1, &mut area) {
                    Ok(a) => assert_ne!(u32::from_ne_bytes(a[4..8].try_into().unwrap()), 1),
                    Err(e) => assert_eq!(e.raw_os_error(), Some(libc::EFAULT), "{e}"),
                }
            })
            .unwrap();
        let mut area = GuardedArea::new();
        let big = area.answer(3 * page_size() + 5).unwrap();
        assert_eq!(big.len(), 3 * page_size() + 5);
    }

    #[test]
    fn fixed_sizes_are_the_uapi_structs() {
        assert_eq!(Fixed::DrvInfo.len(), 196);
        assert_eq!(Fixed::RingParam.len(), 36);
        assert_eq!(Fixed::Channels.len(), 36);
        assert_eq!(Fixed::Coalesce.len(), 92);
        assert_eq!(Fixed::PauseParam.len(), 16);
    }
}
