//! The SIOCETHTOOL ioctl (include/uapi/linux/ethtool.h,
//! net/ethtool/ioctl.c): the only path to a driver's private statistics.
//! Every `unsafe` block of the crate lives here.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `SIOCETHTOOL` (include/uapi/linux/sockios.h).
pub const SIOCETHTOOL: libc::c_ulong = 0x8946;
/// Get driver info (`struct ethtool_drvinfo`).
pub const ETHTOOL_GDRVINFO: u32 = 0x0000_0003;
/// Get string set names (`struct ethtool_gstrings`).
pub const ETHTOOL_GSTRINGS: u32 = 0x0000_001b;
/// Get NIC statistics (`struct ethtool_stats`).
pub const ETHTOOL_GSTATS: u32 = 0x0000_001d;
/// Get string set sizes (`struct ethtool_sset_info`).
pub const ETHTOOL_GSSET_INFO: u32 = 0x0000_0037;
/// Get PHY statistics (`struct ethtool_stats`).
pub const ETHTOOL_GPHYSTATS: u32 = 0x0000_004a;
/// Get ring parameters (`struct ethtool_ringparam`).
pub const ETHTOOL_GRINGPARAM: u32 = 0x0000_0010;
/// Get pause parameters (`struct ethtool_pauseparam`).
pub const ETHTOOL_GPAUSEPARAM: u32 = 0x0000_0012;
/// Get coalescing parameters (`struct ethtool_coalesce`).
pub const ETHTOOL_GCOALESCE: u32 = 0x0000_000e;
/// Get feature bits (`struct ethtool_gfeatures`).
pub const ETHTOOL_GFEATURES: u32 = 0x0000_003a;
/// Get channel counts (`struct ethtool_channels`).
pub const ETHTOOL_GCHANNELS: u32 = 0x0000_003c;
/// Length of one name in a string set (ETH_GSTRING_LEN).
pub const ETH_GSTRING_LEN: usize = 32;
/// String set of driver statistics (enum ethtool_stringset).
pub const ETH_SS_STATS: u32 = 1;
/// String set of netdev feature names.
pub const ETH_SS_FEATURES: u32 = 4;
/// String set of PHY statistics.
pub const ETH_SS_PHY_STATS: u32 = 7;
/// Size of `struct ethtool_drvinfo`.
pub const DRVINFO_LEN: usize = 196;

/// An AF_INET datagram socket to carry SIOCETHTOOL requests; any socket of
/// the interface's network namespace does.
#[derive(Debug)]
pub struct IoctlSocket {
    fd: OwnedFd,
}

impl IoctlSocket {
    /// Opens the socket in the calling thread's network namespace.
    pub fn open() -> io::Result<Self> {
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

    /// Sends one ethtool command for `ifname`; `data` starts with the
    /// command word and is what the kernel reads and overwrites.
    pub fn call(&self, ifname: &str, data: &mut [u8]) -> io::Result<()> {
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
        ifr.ifr_ifru.ifru_data = data.as_mut_ptr().cast();
        // SAFETY: ifr points at a live ifreq whose data pointer covers
        // `data`, which the kernel reads and writes within the size the
        // command implies; callers size `data` for the command.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCETHTOOL as _, &mut ifr) };
        if rc < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    }
}
