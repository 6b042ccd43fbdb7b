//! netobs-ethtool: what the NIC driver itself counts.
//!
//! - The SIOCETHTOOL ioctl path ([`ioctl`], [`Ethtool`]): driver
//!   information (ETHTOOL_GDRVINFO) and driver-private statistics
//!   (ETHTOOL_GSSET_INFO, ETHTOOL_GSTRINGS, ETHTOOL_GSTATS, ETHTOOL_GPHYSTATS),
//!   which have no netlink path for their values.
//! - The ethtool generic-netlink family ([`netlink`],
//!   [`netlink::EthtoolNetlink`]): rings, channels, features, coalescing,
//!   pause, link info/modes/state, FEC, private flags, string sets and the
//!   standard statistics groups, per device or dumped for every device.
//! - [`EthtoolAny`]: netlink first, the ioctl where netlink does not
//!   answer, reporting which one did ([`Source`]).
//! - [`poll`]: driver statistics of every interface of a namespace in one
//!   call, and a poller with per-second deltas and cached names.
//! - [`qstats`]: per-queue statistics of the netdev family (QSTATS_GET).
//! - [`fmt`]: what `ethtool` prints, as `Display` adapters over the
//!   records above (and, with the `serde` feature, `ethtool --json`).
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]
#![deny(unsafe_code)]

pub mod fmt;
#[allow(unsafe_code)]
pub mod ioctl;
pub mod netlink;
pub mod poll;
pub mod qstats;

use std::io;

use std::sync::Mutex;

use ioctl::{Fixed, GuardedArea, IoctlSocket, ETH_GSTRING_LEN};
pub use ioctl::{StatsKind, StringSetId};
use netlink::{Channels, Coalesce, Dev, EthtoolNetlink, Features, Pause, Rings};
use netobs_core::Netns;

/// Errors of netobs-ethtool.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No interface of that name in the namespace (ENODEV).
    #[error("interface \"{0}\" not found")]
    NoSuchInterface(String),
    /// The driver does not implement the request (EOPNOTSUPP): a normal
    /// answer on virtual devices, not a failure of the system.
    #[error("{what}: not supported by the driver of \"{ifname}\" (EOPNOTSUPP)")]
    NotSupported {
        /// What was asked.
        what: &'static str,
        /// Interface.
        ifname: String,
    },
    /// Missing privilege.
    #[error("{what} on \"{ifname}\": need CAP_NET_ADMIN (EPERM)")]
    Permission {
        /// What was asked.
        what: &'static str,
        /// Interface.
        ifname: String,
    },
    /// The driver's statistics count kept changing between the calls that
    /// read names and values.
    #[error("statistics count of \"{0}\" kept changing between reads")]
    Unstable(String),
    /// Any other system error.
    #[error("{what} on \"{ifname}\": {source}")]
    Io {
        /// What was asked.
        what: &'static str,
        /// Interface.
        ifname: String,
        /// OS error.
        #[source]
        source: io::Error,
    },
    /// An ethtool netlink request failed; `source` carries the kernel's
    /// errno and extended-ack text.
    #[error("{what} on \"{ifname}\": {source}")]
    Netlink {
        /// What was asked.
        what: &'static str,
        /// Interface (empty for dumps and global requests).
        ifname: String,
        /// The netlink error.
        #[source]
        source: netobs_core::Error,
    },
    /// The running kernel lacks the generic netlink family that carries
    /// the request (netdev before its introduction, ethtool when
    /// CONFIG_ETHTOOL_NETLINK is off): not a failure, an absent feature.
    #[error("generic netlink family \"{0}\" is not available: not supported by this kernel (ENOENT)")]
    NoFamily(&'static str),
    /// A standard statistics group name the kernel does not know.
    #[error("unknown statistics group \"{0}\" (the kernel's ETH_SS_STATS_STD set does not name it)")]
    UnknownGroup(String),
    /// Malformed bytes from the kernel.
    #[error("malformed ethtool netlink reply: {0}")]
    Decode(#[from] netobs_core::DecodeError),
    /// Namespace or other netobs-core failure.
    #[error(transparent)]
    Core(#[from] netobs_core::Error),
}

impl Error {
    /// The errno behind the error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::NoSuchInterface(_) => Some(libc::ENODEV),
            Error::NotSupported { .. } => Some(libc::EOPNOTSUPP),
            Error::Permission { .. } => Some(libc::EPERM),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::Core(e) | Error::Netlink { source: e, .. } => e.errno(),
            Error::UnknownGroup(_) => Some(libc::EINVAL),
            Error::NoFamily(_) => Some(libc::ENOENT),
            Error::Decode(_) => None,
            Error::Unstable(_) => Some(libc::EAGAIN),
        }
    }

    fn core_error(&self) -> Option<&netobs_core::Error> {
        match self {
            Error::Core(e) | Error::Netlink { source: e, .. } => Some(e),
            _ => None,
        }
    }

    /// A netlink failure of request `what` about `ifname`: EOPNOTSUPP
    /// becomes [`Error::NotSupported`], the rest keeps the kernel's error.
    fn from_netlink(what: &'static str, ifname: String, e: netobs_core::Error) -> Self {
        match e.errno() {
            Some(libc::EOPNOTSUPP) => Error::NotSupported { what, ifname },
            _ => Error::Netlink {
                what,
                ifname,
                source: e,
            },
        }
    }

    fn from_io(what: &'static str, ifname: &str, e: io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENODEV) => Error::NoSuchInterface(ifname.to_owned()),
            Some(libc::EOPNOTSUPP) => Error::NotSupported {
                what,
                ifname: ifname.to_owned(),
            },
            Some(libc::EPERM) => Error::Permission {
                what,
                ifname: ifname.to_owned(),
            },
            _ => Error::Io {
                what,
                ifname: ifname.to_owned(),
                source: e,
            },
        }
    }
}

impl netobs_core::ErrorInfo for Error {
    fn kind(&self) -> netobs_core::ErrorKind {
        use netobs_core::ErrorKind;
        match self {
            Error::NoSuchInterface(_) => ErrorKind::NotFound,
            Error::NotSupported { .. } | Error::NoFamily(_) => ErrorKind::Unsupported,
            Error::Permission { .. } => ErrorKind::Permission,
            Error::Unstable(_) => ErrorKind::Interrupted,
            Error::Io { source, .. } => source.raw_os_error().map_or(ErrorKind::Io, ErrorKind::from_errno),
            Error::Netlink { source: e, .. } | Error::Core(e) => e.kind(),
            Error::UnknownGroup(_) => ErrorKind::InvalidInput,
            Error::Decode(_) => ErrorKind::Decode,
        }
    }

    fn errno(&self) -> Option<i32> {
        Error::errno(self)
    }

    fn capability(&self) -> Option<&'static str> {
        match self {
            Error::Permission { .. } => Some("CAP_NET_ADMIN"),
            _ => self.core_error().and_then(|e| e.capability()),
        }
    }

    fn kernel_message(&self) -> Option<&str> {
        self.core_error().and_then(|e| e.kernel_message())
    }

    fn kernel_offset(&self) -> Option<u32> {
        self.core_error().and_then(|e| e.kernel_offset())
    }

    fn subject(&self) -> Option<String> {
        match self {
            Error::NoSuchInterface(i) | Error::Unstable(i) => Some(i.clone()),
            Error::NotSupported { ifname, .. } | Error::Permission { ifname, .. } | Error::Io { ifname, .. }
                if !ifname.is_empty() =>
            {
                Some(ifname.clone())
            }
            Error::Netlink { ifname, .. } if !ifname.is_empty() => Some(ifname.clone()),
            Error::NoFamily(f) => Some((*f).to_owned()),
            _ => self.core_error().and_then(|e| e.subject()),
        }
    }
}

/// Opens a generic-netlink socket for family `name` in the caller's
/// namespace; a kernel without the family gives [`Error::NoFamily`].
fn open_family(name: &'static str) -> Result<netobs_core::genl::GenlSocket> {
    match netobs_core::genl::GenlSocket::open(name) {
        Ok(s) => Ok(s),
        Err(netobs_core::Error::NoSuchFamily(_)) => Err(Error::NoFamily(name)),
        Err(e) => Err(e.into()),
    }
}

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn cstr(b: &[u8]) -> &str {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    std::str::from_utf8(&b[..end]).unwrap_or("")
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_ne_bytes)
        .unwrap_or(0)
}

/// `struct ethtool_cmd` (ETHTOOL_GSET): the legacy link settings, which
/// the kernel converts from the driver's `ethtool_link_ksettings`
/// (net/ethtool/ioctl.c, `convert_link_ksettings_to_legacy_settings`):
/// only the first 32 link-mode bits survive. node_exporter's ethtool
/// collector reads this answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegacyLinkSettings {
    /// Supported link modes.
    pub supported: LegacyLinkModes,
    /// Advertised link modes.
    pub advertising: LegacyLinkModes,
    /// The link partner's advertised modes.
    pub lp_advertising: LegacyLinkModes,
    /// Mb/s (`speed | speed_hi << 16`); `u32::MAX` is SPEED_UNKNOWN.
    pub speed: u32,
    /// DUPLEX_HALF 0, DUPLEX_FULL 1, DUPLEX_UNKNOWN 0xff.
    pub duplex: u8,
    /// PORT_TP 0, PORT_AUI 1, ... PORT_OTHER 0xff.
    pub port: u8,
    /// MDIO address of the PHY.
    pub phy_address: u8,
    /// XCVR_INTERNAL 0, XCVR_EXTERNAL 1.
    pub transceiver: u8,
    /// AUTONEG_DISABLE 0, AUTONEG_ENABLE 1.
    pub autoneg: u8,
}

bitflags::bitflags! {
    /// The first 32 link modes (`enum ethtool_link_mode_bit_indices`,
    /// include/uapi/linux/ethtool.h): what ETHTOOL_GSET's masks can hold.
    /// Bits this crate does not name are kept.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct LegacyLinkModes: u32 {
        /// 10baseT half duplex (bit 0).
        const MODE_10BASET_HALF = 1 << 0;
        /// 10baseT full duplex (bit 1).
        const MODE_10BASET_FULL = 1 << 1;
        /// 100baseT half duplex (bit 2).
        const MODE_100BASET_HALF = 1 << 2;
        /// 100baseT full duplex (bit 3).
        const MODE_100BASET_FULL = 1 << 3;
        /// 1000baseT half duplex (bit 4).
        const MODE_1000BASET_HALF = 1 << 4;
        /// 1000baseT full duplex (bit 5).
        const MODE_1000BASET_FULL = 1 << 5;
        /// Autonegotiation (bit 6).
        const AUTONEG = 1 << 6;
        /// Twisted pair port (bit 7).
        const TP = 1 << 7;
        /// AUI port (bit 8).
        const AUI = 1 << 8;
        /// MII port (bit 9).
        const MII = 1 << 9;
        /// Fibre port (bit 10).
        const FIBRE = 1 << 10;
        /// BNC port (bit 11).
        const BNC = 1 << 11;
        /// 10000baseT full duplex (bit 12).
        const MODE_10000BASET_FULL = 1 << 12;
        /// Symmetric pause frames (bit 13).
        const PAUSE = 1 << 13;
        /// Asymmetric pause frames (bit 14).
        const ASYM_PAUSE = 1 << 14;
        /// 2500baseX full duplex (bit 15).
        const MODE_2500BASEX_FULL = 1 << 15;
        /// Backplane (bit 16).
        const BACKPLANE = 1 << 16;
        /// 1000baseKX full duplex (bit 17).
        const MODE_1000BASEKX_FULL = 1 << 17;
        /// 10000baseKX4 full duplex (bit 18).
        const MODE_10000BASEKX4_FULL = 1 << 18;
        /// 10000baseKR full duplex (bit 19).
        const MODE_10000BASEKR_FULL = 1 << 19;
        /// 10000baseR FEC (bit 20).
        const MODE_10000BASER_FEC = 1 << 20;
        /// 20000baseMLD2 full duplex (bit 21).
        const MODE_20000BASEMLD2_FULL = 1 << 21;
        /// 20000baseKR2 full duplex (bit 22).
        const MODE_20000BASEKR2_FULL = 1 << 22;
        /// 40000baseKR4 full duplex (bit 23).
        const MODE_40000BASEKR4_FULL = 1 << 23;
        /// 40000baseCR4 full duplex (bit 24).
        const MODE_40000BASECR4_FULL = 1 << 24;
        /// 40000baseSR4 full duplex (bit 25).
        const MODE_40000BASESR4_FULL = 1 << 25;
        /// 40000baseLR4 full duplex (bit 26).
        const MODE_40000BASELR4_FULL = 1 << 26;
        /// 56000baseKR4 full duplex (bit 27).
        const MODE_56000BASEKR4_FULL = 1 << 27;
        /// 56000baseCR4 full duplex (bit 28).
        const MODE_56000BASECR4_FULL = 1 << 28;
        /// 56000baseSR4 full duplex (bit 29).
        const MODE_56000BASESR4_FULL = 1 << 29;
        /// 56000baseLR4 full duplex (bit 30).
        const MODE_56000BASELR4_FULL = 1 << 30;
        /// 25000baseCR full duplex (bit 31).
        const MODE_25000BASECR_FULL = 1 << 31;
    }
}

/// `struct ethtool_drvinfo`: what `ethtool -i` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverInfo {
    /// Driver name.
    pub driver: String,
    /// Driver version.
    pub version: String,
    /// Firmware version.
    pub fw_version: String,
    /// Bus address (PCI slot, ...).
    pub bus_info: String,
    /// Expansion ROM version.
    pub erom_version: String,
    /// Number of private flags.
    pub n_priv_flags: u32,
    /// Number of driver statistics.
    pub n_stats: u32,
    /// Self-test result count.
    pub testinfo_len: u32,
    /// EEPROM size.
    pub eedump_len: u32,
    /// Register dump size.
    pub regdump_len: u32,
}

/// One string set (names of 32 bytes each), borrowed by value lists.
#[derive(Debug, Clone, Default)]
pub struct StringSet {
    buf: Vec<u8>,
    count: usize,
}

impl StringSet {
    /// Decodes an ETHTOOL_GSTRINGS answer (`struct ethtool_gstrings`:
    /// cmd, string_set, len, then `len` names of ETH_GSTRING_LEN bytes),
    /// keeping its buffer. A count that runs past the bytes is an error;
    /// bytes past the count are dropped.
    pub fn parse_gstrings(mut buf: Vec<u8>) -> Result<Self, netobs_core::DecodeError> {
        if buf.len() < 12 {
            return Err(netobs_core::DecodeError::Truncated {
                what: "ethtool_gstrings",
                offset: 0,
                need: 12,
                have: buf.len(),
            });
        }
        let count = u32_at(&buf, 8) as usize;
        let need = count.checked_mul(ETH_GSTRING_LEN).and_then(|n| n.checked_add(12));
        match need {
            Some(need) if need <= buf.len() => {
                buf.truncate(need);
                buf.drain(..12);
                Ok(StringSet { buf, count })
            }
            _ => Err(netobs_core::DecodeError::BadLength {
                what: "ethtool_gstrings",
                offset: 8,
                len: count,
                avail: (buf.len() - 12) / ETH_GSTRING_LEN,
            }),
        }
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.count
    }
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
    /// Name `i`, up to its NUL (not necessarily unique: drivers repeat names).
    pub fn name(&self, i: usize) -> &str {
        self.buf
            .get(i * ETH_GSTRING_LEN..(i + 1) * ETH_GSTRING_LEN)
            .map(cstr)
            .unwrap_or("")
    }
    /// The names as the kernel wrote them: `len()` slots of
    /// ETH_GSTRING_LEN bytes, NUL-padded.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf
    }
    /// All names in driver order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        (0..self.count).map(|i| self.name(i))
    }
}

/// Driver statistics: names (read once, reusable across polls) and values.
#[derive(Debug, Clone, Default)]
pub struct DriverStats {
    /// The names, in driver order, duplicates kept.
    pub names: StringSet,
    /// The values, one per name.
    pub values: Vec<u64>,
}

impl DriverStats {
    /// (name, value) pairs in driver order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.names.names().zip(self.values.iter().copied())
    }
}

/// A handle for ethtool ioctls in one network namespace.
///
/// Driver statistics are answered into memory that ends at a guard page
/// (see [`ioctl`]), kept between calls so a poll allocates nothing.
#[derive(Debug)]
pub struct Ethtool {
    sock: IoctlSocket,
    area: Mutex<GuardedArea>,
}

/// How often a name/value read is retried when the driver's count moves.
const TRIES: usize = 3;

impl Ethtool {
    /// A handle in the caller's namespace.
    pub fn open() -> Result<Self> {
        IoctlSocket::open()
            .map(|sock| Ethtool {
                sock,
                area: Mutex::new(GuardedArea::new()),
            })
            .map_err(|e| Error::Io {
                what: "open ioctl socket",
                ifname: String::new(),
                source: e,
            })
    }

    /// A handle in `netns`, without moving the caller's thread.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::open)?
    }

    fn area(&self) -> std::sync::MutexGuard<'_, GuardedArea> {
        // A panic while the lock was held leaves only scratch bytes behind.
        self.area.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// ETHTOOL_GDRVINFO.
    pub fn driver_info(&self, ifname: &str) -> Result<DriverInfo> {
        let b = self
            .sock
            .fixed(ifname, Fixed::DrvInfo)
            .map_err(|e| Error::from_io("get driver information", ifname, e))?;
        let s = |i: usize| cstr(&b[4 + 32 * i..4 + 32 * (i + 1)]).to_owned();
        let tail = 4 + 32 * 5 + 12;
        Ok(DriverInfo {
            driver: s(0),
            version: s(1),
            fw_version: s(2),
            bus_info: s(3),
            erom_version: s(4),
            n_priv_flags: u32_at(&b, tail),
            n_stats: u32_at(&b, tail + 4),
            testinfo_len: u32_at(&b, tail + 8),
            eedump_len: u32_at(&b, tail + 12),
            regdump_len: u32_at(&b, tail + 16),
        })
    }

    /// ETHTOOL_GSET: the legacy link settings (EOPNOTSUPP, as
    /// [`Error::NotSupported`], for drivers without `get_link_ksettings`,
    /// such as lo).
    pub fn legacy_link_settings(&self, ifname: &str) -> Result<LegacyLinkSettings> {
        let b = self
            .sock
            .fixed(ifname, Fixed::Settings)
            .map_err(|e| Error::from_io("get link settings", ifname, e))?;
        let u16_at = |off: usize| u32::from(u16::from_ne_bytes([b[off], b[off + 1]]));
        Ok(LegacyLinkSettings {
            supported: LegacyLinkModes::from_bits_retain(u32_at(&b, 4)),
            advertising: LegacyLinkModes::from_bits_retain(u32_at(&b, 8)),
            speed: u16_at(12) | (u16_at(28) << 16),
            duplex: b[14],
            port: b[15],
            phy_address: b[16],
            transceiver: b[17],
            autoneg: b[18],
            lp_advertising: LegacyLinkModes::from_bits_retain(u32_at(&b, 32)),
        })
    }

    /// ETHTOOL_GSSET_INFO for one set: its size, 0 when the driver has none.
    pub fn string_set_len(&self, ifname: &str, set: StringSetId) -> Result<usize> {
        self.sock
            .sset_len(ifname, set)
            .map(|n| n.unwrap_or(0) as usize)
            .map_err(|e| Error::from_io("get string set size", ifname, e))
    }

    /// The names of string set `set` (ETHTOOL_GSTRINGS), re-read when the
    /// count moved between the size query and the read.
    pub fn string_set(&self, ifname: &str, set: StringSetId) -> Result<StringSet> {
        let mut area = self.area();
        for _ in 0..TRIES {
            let n = self.string_set_len(ifname, set)?;
            if n == 0 {
                return Ok(StringSet::default());
            }
            let n32 = u32::try_from(n).map_err(|_| Error::Unstable(ifname.to_owned()))?;
            match self.sock.strings(ifname, set, n32, &mut area) {
                Ok(b) if u32_at(b, 8) as usize == n => return Ok(StringSet::parse_gstrings(b.to_vec())?),
                // A different count, or EFAULT at the guard (a kernel that
                // copies its own, larger count): read the size again.
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EFAULT) => {}
                Err(e) => return Err(Error::from_io("get stats strings information", ifname, e)),
            }
        }
        Err(Error::Unstable(ifname.to_owned()))
    }

    /// Reads the values for `names` (ETHTOOL_GSTATS, or ETHTOOL_GPHYSTATS
    /// for [`StatsKind::Phy`]) into `values`, reusing its allocation. Fails
    /// with [`Error::Unstable`] if the driver's count no longer matches
    /// `names` (the caller reads the names again); `values` is then empty,
    /// never a mix of two layouts.
    pub fn read_values(&self, ifname: &str, kind: StatsKind, names: &StringSet, values: &mut Vec<u64>) -> Result<()> {
        values.clear();
        let n = names.len();
        let n32 = u32::try_from(n).map_err(|_| Error::Unstable(ifname.to_owned()))?;
        let mut area = self.area();
        let b = match self.sock.stats(ifname, kind, n32, &mut area) {
            Ok(b) => b,
            Err(e) if e.raw_os_error() == Some(libc::EFAULT) => return Err(Error::Unstable(ifname.to_owned())),
            Err(e) => return Err(Error::from_io("get stats information", ifname, e)),
        };
        if u32_at(b, 4) as usize != n {
            return Err(Error::Unstable(ifname.to_owned()));
        }
        values.extend(
            b[ioctl::GSTATS_HDR..]
                .chunks_exact(8)
                .map(|c| u64::from_ne_bytes(c.try_into().unwrap_or_default())),
        );
        Ok(())
    }

    /// Driver statistics (`ethtool -S`): names and values, retried when the
    /// count changed between the two reads.
    pub fn stats(&self, ifname: &str) -> Result<DriverStats> {
        self.stats_of(ifname, StatsKind::Driver)
    }

    /// PHY statistics (`ethtool --phy-statistics`).
    pub fn phy_stats(&self, ifname: &str) -> Result<DriverStats> {
        self.stats_of(ifname, StatsKind::Phy)
    }

    /// Sends a fixed-size command whose answer is `N` u32 words after the
    /// command word (the `struct ethtool_*param` family).
    fn words<const N: usize>(&self, ifname: &str, cmd: Fixed, what: &'static str) -> Result<[u32; N]> {
        debug_assert_eq!(cmd.len(), 4 * (N + 1));
        let b = self
            .sock
            .fixed(ifname, cmd)
            .map_err(|e| Error::from_io(what, ifname, e))?;
        let mut w = [0u32; N];
        for (i, v) in w.iter_mut().enumerate() {
            *v = u32_at(&b, 4 * (i + 1));
        }
        Ok(w)
    }

    /// ETHTOOL_GRINGPARAM, shaped like the netlink answer (a ring whose
    /// maximum is zero is `None`, as net/ethtool/rings.c leaves it out).
    pub fn rings(&self, ifname: &str) -> Result<Rings> {
        let [rx_max, mini_max, jumbo_max, tx_max, rx, mini, jumbo, tx] =
            self.words::<8>(ifname, Fixed::RingParam, "get ring parameters")?;
        let some_if = |max: u32, v: u32| (max != 0).then_some(v);
        Ok(Rings {
            rx_max: Some(rx_max),
            rx_mini_max: some_if(mini_max, mini_max),
            rx_jumbo_max: some_if(jumbo_max, jumbo_max),
            tx_max: Some(tx_max),
            rx: Some(rx),
            rx_mini: some_if(mini_max, mini),
            rx_jumbo: some_if(jumbo_max, jumbo),
            tx: Some(tx),
            ..Rings::default()
        })
    }

    /// ETHTOOL_GCHANNELS, shaped like the netlink answer (a kind of channel
    /// whose maximum is zero is `None`).
    pub fn channels(&self, ifname: &str) -> Result<Channels> {
        let [max_rx, max_tx, max_other, max_comb, rx, tx, other, comb] =
            self.words::<8>(ifname, Fixed::Channels, "get channel parameters")?;
        let pair = |max: u32, v: u32| if max != 0 { (Some(max), Some(v)) } else { (None, None) };
        let (rx_max, rx) = pair(max_rx, rx);
        let (tx_max, tx) = pair(max_tx, tx);
        let (other_max, other) = pair(max_other, other);
        let (combined_max, combined) = pair(max_comb, comb);
        Ok(Channels {
            rx_max,
            tx_max,
            other_max,
            combined_max,
            rx,
            tx,
            other,
            combined,
        })
    }

    /// ETHTOOL_GCOALESCE. The ioctl cannot tell which parameters the
    /// driver supports (netlink leaves those out): every field is `Some`,
    /// unsupported ones read 0.
    pub fn coalesce(&self, ifname: &str) -> Result<Coalesce> {
        let w = self.words::<22>(ifname, Fixed::Coalesce, "get coalesce parameters")?;
        Ok(Coalesce {
            rx_usecs: Some(w[0]),
            rx_max_frames: Some(w[1]),
            rx_usecs_irq: Some(w[2]),
            rx_max_frames_irq: Some(w[3]),
            tx_usecs: Some(w[4]),
            tx_max_frames: Some(w[5]),
            tx_usecs_irq: Some(w[6]),
            tx_max_frames_irq: Some(w[7]),
            stats_block_usecs: Some(w[8]),
            use_adaptive_rx: Some(w[9] != 0),
            use_adaptive_tx: Some(w[10] != 0),
            pkt_rate_low: Some(w[11]),
            rx_usecs_low: Some(w[12]),
            rx_max_frames_low: Some(w[13]),
            tx_usecs_low: Some(w[14]),
            tx_max_frames_low: Some(w[15]),
            pkt_rate_high: Some(w[16]),
            rx_usecs_high: Some(w[17]),
            rx_max_frames_high: Some(w[18]),
            tx_usecs_high: Some(w[19]),
            tx_max_frames_high: Some(w[20]),
            rate_sample_interval: Some(w[21]),
            use_cqe_mode_tx: None,
            use_cqe_mode_rx: None,
        })
    }

    /// ETHTOOL_GFEATURES with the ETH_SS_FEATURES names: the same
    /// [`Features`] the netlink path gives. The kernel copies at most the
    /// blocks asked for (net/ethtool/ioctl.c, `ethtool_get_features`).
    pub fn features(&self, ifname: &str) -> Result<Features> {
        let names = self.string_set(ifname, StringSetId::Features)?;
        let b = self
            .sock
            .features(ifname, names.len().div_ceil(32))
            .map_err(|e| Error::from_io("get features", ifname, e))?;
        let bit = |i: usize, field: usize| u32_at(&b, 8 + 16 * (i / 32) + 4 * field) & (1 << (i % 32)) != 0;
        let n = names.len();
        Ok(Features {
            hw: (0..n).map(|i| bit(i, 0)).collect(),
            wanted: (0..n).map(|i| bit(i, 1)).collect(),
            active: (0..n).map(|i| bit(i, 2)).collect(),
            nochange: (0..n).map(|i| bit(i, 3)).collect(),
            names: names.names().map(str::to_owned).collect(),
        })
    }

    /// ETHTOOL_GPAUSEPARAM (no pause-frame counters on this path).
    pub fn pause(&self, ifname: &str) -> Result<Pause> {
        let [autoneg, rx, tx] = self.words::<3>(ifname, Fixed::PauseParam, "get pause parameters")?;
        Ok(Pause {
            autoneg: Some(autoneg != 0),
            rx: Some(rx != 0),
            tx: Some(tx != 0),
            ..Pause::default()
        })
    }

    fn stats_of(&self, ifname: &str, kind: StatsKind) -> Result<DriverStats> {
        for _ in 0..TRIES {
            let names = self.string_set(ifname, kind.names())?;
            let mut values = Vec::with_capacity(names.len());
            if names.is_empty() {
                return Ok(DriverStats { names, values });
            }
            match self.read_values(ifname, kind, &names, &mut values) {
                Ok(()) => return Ok(DriverStats { names, values }),
                Err(Error::Unstable(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Unstable(ifname.to_owned()))
    }
}

/// Which kernel interface answered a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The ethtool generic-netlink family.
    Netlink,
    /// The SIOCETHTOOL ioctl (the family is missing or did not answer).
    Ioctl,
}

/// Netlink first, the ioctl where netlink does not answer: both handles
/// of one namespace, and a record of which one answered.
#[derive(Debug)]
pub struct EthtoolAny {
    /// The netlink handle; `None` when the kernel has no ethtool family.
    pub netlink: Option<EthtoolNetlink>,
    /// The ioctl handle.
    pub ioctl: Ethtool,
}

impl EthtoolAny {
    /// Both handles in the caller's namespace; a missing ethtool family
    /// (kernels before 5.6, or CONFIG_ETHTOOL_NETLINK off) leaves only the
    /// ioctl.
    pub fn open() -> Result<Self> {
        Ok(EthtoolAny {
            netlink: EthtoolNetlink::open().ok(),
            ioctl: Ethtool::open()?,
        })
    }

    /// Both handles inside `netns`.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::open)?
    }

    /// Netlink's answer, unless netlink did not answer at all (no family,
    /// or an error other than the driver's own EOPNOTSUPP or an unknown
    /// device, which the ioctl would only repeat): then the ioctl's.
    fn either<T>(
        &mut self,
        ifname: &str,
        nl: impl FnOnce(&mut EthtoolNetlink, Dev<'_>) -> Result<T>,
        io: impl FnOnce(&Ethtool, &str) -> Result<T>,
    ) -> Result<(T, Source)> {
        if let Some(n) = self.netlink.as_mut() {
            match nl(n, Dev::Name(ifname)) {
                Ok(v) => return Ok((v, Source::Netlink)),
                Err(e @ Error::NotSupported { .. }) => return Err(e),
                Err(e) if e.errno() == Some(libc::ENODEV) => return Err(e),
                Err(_) => {}
            }
        }
        io(&self.ioctl, ifname).map(|v| (v, Source::Ioctl))
    }

    /// Ring sizes and who answered.
    pub fn rings(&mut self, ifname: &str) -> Result<(Rings, Source)> {
        self.either(ifname, |n, d| n.rings(d), |i, d| i.rings(d))
    }

    /// Channel counts and who answered.
    pub fn channels(&mut self, ifname: &str) -> Result<(Channels, Source)> {
        self.either(ifname, |n, d| n.channels(d), |i, d| i.channels(d))
    }

    /// Coalescing parameters and who answered.
    pub fn coalesce(&mut self, ifname: &str) -> Result<(Coalesce, Source)> {
        self.either(ifname, |n, d| n.coalesce(d), |i, d| i.coalesce(d))
    }

    /// Feature bits with their names and who answered.
    pub fn features(&mut self, ifname: &str) -> Result<(Features, Source)> {
        self.either(ifname, |n, d| n.features(d), |i, d| i.features(d))
    }

    /// Pause parameters (with counters over netlink) and who answered.
    pub fn pause(&mut self, ifname: &str) -> Result<(Pause, Source)> {
        self.either(ifname, |n, d| n.pause(d, true), |i, d| i.pause(d))
    }
}
