//! The ethtool generic-netlink family (include/uapi/linux/ethtool_netlink.h,
//! net/ethtool/netlink.c and one file per message in net/ethtool/).
//!
//! Every GET request starts with a request header nest
//! (ETHTOOL_A_*_HEADER: device name or index, ETHTOOL_FLAG_* flags); every
//! reply carries the same header naming the device, so a dump (NLM_F_DUMP
//! without a device) answers for every device of the namespace at once.
//!
//! Replies are walked as zero-copy views ([`Reply`], [`Bitset`],
//! [`StatsGroup`], [`StringSetReply`]) over the socket's receive buffer;
//! the small typed structs ([`Rings`], [`Channels`], [`Coalesce`], ...) are
//! `Copy` values with `None` for what the kernel did not send (the kernel
//! leaves out what the driver does not implement). Attributes this kernel
//! sends beyond the 6.1 uapi headers stay reachable by number through
//! [`Reply::get`].

use netobs_core::genl::GenlSocket;
use netobs_core::nlattr::{Attr, AttrIndex, Attrs};
use netobs_core::{DecodeError, MsgBuf, Netns, NlMsg};

use crate::{Error, Result};

/// Family name (ETHTOOL_GENL_NAME).
pub const ETHTOOL_GENL_NAME: &str = "ethtool";
/// Family version (ETHTOOL_GENL_VERSION).
pub const ETHTOOL_GENL_VERSION: u8 = 1;

/// Message types, userspace to kernel (enum in ethtool_netlink.h). The
/// kernel answers a `*_GET` with the matching `*_GET_REPLY`.
pub mod msg {
    /// ETHTOOL_MSG_STRSET_GET.
    pub const STRSET_GET: u8 = 1;
    /// ETHTOOL_MSG_LINKINFO_GET.
    pub const LINKINFO_GET: u8 = 2;
    /// ETHTOOL_MSG_LINKMODES_GET.
    pub const LINKMODES_GET: u8 = 4;
    /// ETHTOOL_MSG_LINKSTATE_GET.
    pub const LINKSTATE_GET: u8 = 6;
    /// ETHTOOL_MSG_FEATURES_GET.
    pub const FEATURES_GET: u8 = 11;
    /// ETHTOOL_MSG_PRIVFLAGS_GET.
    pub const PRIVFLAGS_GET: u8 = 13;
    /// ETHTOOL_MSG_RINGS_GET.
    pub const RINGS_GET: u8 = 15;
    /// ETHTOOL_MSG_CHANNELS_GET.
    pub const CHANNELS_GET: u8 = 17;
    /// ETHTOOL_MSG_COALESCE_GET.
    pub const COALESCE_GET: u8 = 19;
    /// ETHTOOL_MSG_PAUSE_GET.
    pub const PAUSE_GET: u8 = 21;
    /// ETHTOOL_MSG_FEC_GET.
    pub const FEC_GET: u8 = 29;
    /// ETHTOOL_MSG_STATS_GET.
    pub const STATS_GET: u8 = 32;
}

/// Request flags (ETHTOOL_FLAG_*).
pub mod flags {
    /// Bitsets in compact form (value/mask arrays) instead of lists of bits.
    pub const COMPACT_BITSETS: u32 = 1 << 0;
    /// No reply to SET requests.
    pub const OMIT_REPLY: u32 = 1 << 1;
    /// Include statistics (pause, FEC), if the driver has them.
    pub const STATS: u32 = 1 << 2;
}

/// String sets (enum ethtool_stringset, include/uapi/linux/ethtool.h).
pub mod sset {
    /// Driver statistics names (per device).
    pub const STATS: u32 = 1;
    /// Private flag names (per device).
    pub const PRIV_FLAGS: u32 = 2;
    /// Netdev feature names (global).
    pub const FEATURES: u32 = 4;
    /// Link mode names (global).
    pub const LINK_MODES: u32 = 9;
    /// Standard statistics group names: "eth-phy", "eth-mac", ... (global).
    pub const STATS_STD: u32 = 16;
}

/// Link mode bits (enum ethtool_link_mode_bit_indices,
/// include/uapi/linux/ethtool.h), as indices into the LINKMODES bitsets.
pub mod link_mode {
    /// ETHTOOL_LINK_MODE_Pause_BIT: symmetric pause frames advertised.
    pub const PAUSE: u32 = 13;
    /// ETHTOOL_LINK_MODE_Asym_Pause_BIT: asymmetric pause frames advertised.
    pub const ASYM_PAUSE: u32 = 14;
}

// Request/reply header, ETHTOOL_A_HEADER_*.
const HEADER_DEV_INDEX: u16 = 1;
const HEADER_DEV_NAME: u16 = 2;
const HEADER_FLAGS: u16 = 3;
/// Every message's header nest is its attribute 1 (ETHTOOL_A_*_HEADER),
/// except STATS, whose attribute 1 is padding.
const A_HEADER: u16 = 1;
const A_STATS_HEADER: u16 = 2;
/// ETHTOOL_MSG_STATS_GET_REPLY (kernel-to-user message types).
const STATS_GET_REPLY: u8 = 33;

// Bitsets, ETHTOOL_A_BITSET_*.
const BITSET_NOMASK: u16 = 1;
const BITSET_SIZE: u16 = 2;
const BITSET_BITS: u16 = 3;
const BITSET_VALUE: u16 = 4;
const BITSET_MASK: u16 = 5;
const BITSET_BITS_BIT: u16 = 1;
const BITSET_BIT_INDEX: u16 = 1;
const BITSET_BIT_NAME: u16 = 2;
const BITSET_BIT_VALUE: u16 = 3;

// String sets, ETHTOOL_A_STRSET_* / STRINGSETS / STRINGSET / STRINGS / STRING.
const STRSET_STRINGSETS: u16 = 2;
const STRINGSETS_STRINGSET: u16 = 1;
const STRINGSET_ID: u16 = 1;
const STRINGSET_COUNT: u16 = 2;
const STRINGSET_STRINGS: u16 = 3;
const STRINGS_STRING: u16 = 1;
const STRING_INDEX: u16 = 1;
const STRING_VALUE: u16 = 2;

/// Attribute numbers of the replies (`ETHTOOL_A_<MSG>_*`), for
/// [`Reply::get`] and friends. Numbers beyond the 6.1 headers are named
/// only where this crate reads them; any other still answers by number.
pub mod attr {
    /// ETHTOOL_A_LINKINFO_*.
    pub mod linkinfo {
        #![allow(missing_docs)]
        pub const PORT: u16 = 2;
        pub const PHYADDR: u16 = 3;
        pub const TP_MDIX: u16 = 4;
        pub const TP_MDIX_CTRL: u16 = 5;
        pub const TRANSCEIVER: u16 = 6;
    }
    /// ETHTOOL_A_LINKMODES_*.
    pub mod linkmodes {
        #![allow(missing_docs)]
        pub const AUTONEG: u16 = 2;
        pub const OURS: u16 = 3;
        pub const PEER: u16 = 4;
        pub const SPEED: u16 = 5;
        pub const DUPLEX: u16 = 6;
        pub const MASTER_SLAVE_CFG: u16 = 7;
        pub const MASTER_SLAVE_STATE: u16 = 8;
        pub const LANES: u16 = 9;
        pub const RATE_MATCHING: u16 = 10;
    }
    /// ETHTOOL_A_LINKSTATE_*.
    pub mod linkstate {
        #![allow(missing_docs)]
        pub const LINK: u16 = 2;
        pub const SQI: u16 = 3;
        pub const SQI_MAX: u16 = 4;
        pub const EXT_STATE: u16 = 5;
        pub const EXT_SUBSTATE: u16 = 6;
        /// ETHTOOL_A_LINKSTATE_EXT_DOWN_CNT (u32, kernel 5.19+).
        pub const EXT_DOWN_CNT: u16 = 7;
    }
    /// ETHTOOL_A_FEATURES_*.
    pub mod features {
        #![allow(missing_docs)]
        pub const HW: u16 = 2;
        pub const WANTED: u16 = 3;
        pub const ACTIVE: u16 = 4;
        pub const NOCHANGE: u16 = 5;
    }
    /// ETHTOOL_A_PRIVFLAGS_*.
    pub mod privflags {
        #![allow(missing_docs)]
        pub const FLAGS: u16 = 2;
    }
    /// ETHTOOL_A_RINGS_*.
    pub mod rings {
        #![allow(missing_docs)]
        pub const RX_MAX: u16 = 2;
        pub const RX_MINI_MAX: u16 = 3;
        pub const RX_JUMBO_MAX: u16 = 4;
        pub const TX_MAX: u16 = 5;
        pub const RX: u16 = 6;
        pub const RX_MINI: u16 = 7;
        pub const RX_JUMBO: u16 = 8;
        pub const TX: u16 = 9;
        pub const RX_BUF_LEN: u16 = 10;
        pub const TCP_DATA_SPLIT: u16 = 11;
        pub const CQE_SIZE: u16 = 12;
        pub const TX_PUSH: u16 = 13;
    }
    /// ETHTOOL_A_CHANNELS_*.
    pub mod channels {
        #![allow(missing_docs)]
        pub const RX_MAX: u16 = 2;
        pub const TX_MAX: u16 = 3;
        pub const OTHER_MAX: u16 = 4;
        pub const COMBINED_MAX: u16 = 5;
        pub const RX_COUNT: u16 = 6;
        pub const TX_COUNT: u16 = 7;
        pub const OTHER_COUNT: u16 = 8;
        pub const COMBINED_COUNT: u16 = 9;
    }
    /// ETHTOOL_A_COALESCE_*: u32 values 2..=9, 12..=22, 23 and u8 flags
    /// 10, 11, 24, 25.
    pub mod coalesce {
        #![allow(missing_docs)]
        pub const RX_USECS: u16 = 2;
        pub const RX_MAX_FRAMES: u16 = 3;
        pub const RX_USECS_IRQ: u16 = 4;
        pub const RX_MAX_FRAMES_IRQ: u16 = 5;
        pub const TX_USECS: u16 = 6;
        pub const TX_MAX_FRAMES: u16 = 7;
        pub const TX_USECS_IRQ: u16 = 8;
        pub const TX_MAX_FRAMES_IRQ: u16 = 9;
        pub const STATS_BLOCK_USECS: u16 = 10;
        pub const USE_ADAPTIVE_RX: u16 = 11;
        pub const USE_ADAPTIVE_TX: u16 = 12;
        pub const PKT_RATE_LOW: u16 = 13;
        pub const RX_USECS_LOW: u16 = 14;
        pub const RX_MAX_FRAMES_LOW: u16 = 15;
        pub const TX_USECS_LOW: u16 = 16;
        pub const TX_MAX_FRAMES_LOW: u16 = 17;
        pub const PKT_RATE_HIGH: u16 = 18;
        pub const RX_USECS_HIGH: u16 = 19;
        pub const RX_MAX_FRAMES_HIGH: u16 = 20;
        pub const TX_USECS_HIGH: u16 = 21;
        pub const TX_MAX_FRAMES_HIGH: u16 = 22;
        pub const RATE_SAMPLE_INTERVAL: u16 = 23;
        pub const USE_CQE_MODE_TX: u16 = 24;
        pub const USE_CQE_MODE_RX: u16 = 25;
    }
    /// ETHTOOL_A_PAUSE_* and ETHTOOL_A_PAUSE_STAT_*.
    pub mod pause {
        #![allow(missing_docs)]
        pub const AUTONEG: u16 = 2;
        pub const RX: u16 = 3;
        pub const TX: u16 = 4;
        pub const STATS: u16 = 5;
        pub const STAT_TX_FRAMES: u16 = 2;
        pub const STAT_RX_FRAMES: u16 = 3;
    }
    /// ETHTOOL_A_FEC_* and ETHTOOL_A_FEC_STAT_*.
    pub mod fec {
        #![allow(missing_docs)]
        pub const MODES: u16 = 2;
        pub const AUTO: u16 = 3;
        pub const ACTIVE: u16 = 4;
        pub const STATS: u16 = 5;
        pub const STAT_CORRECTED: u16 = 2;
        pub const STAT_UNCORR: u16 = 3;
        pub const STAT_CORR_BITS: u16 = 4;
    }
    /// ETHTOOL_A_STATS_* and ETHTOOL_A_STATS_GRP_*.
    pub mod stats {
        #![allow(missing_docs)]
        pub const GROUPS: u16 = 3;
        pub const GRP: u16 = 4;
        pub const GRP_ID: u16 = 2;
        pub const GRP_SS_ID: u16 = 3;
        pub const GRP_STAT: u16 = 4;
        pub const GRP_HIST_RX: u16 = 5;
        pub const GRP_HIST_TX: u16 = 6;
        pub const GRP_HIST_BKT_LOW: u16 = 7;
        pub const GRP_HIST_BKT_HI: u16 = 8;
        pub const GRP_HIST_VAL: u16 = 9;
    }
}

/// The device a request is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dev<'a> {
    /// By name (ETHTOOL_A_HEADER_DEV_NAME).
    Name(&'a str),
    /// By ifindex (ETHTOOL_A_HEADER_DEV_INDEX).
    Index(u32),
}

impl Dev<'_> {
    fn label(&self) -> String {
        match self {
            Dev::Name(n) => (*n).to_owned(),
            Dev::Index(i) => format!("ifindex {i}"),
        }
    }
}

/// What a message is called in errors.
fn what(cmd: u8) -> &'static str {
    match cmd {
        msg::STRSET_GET => "get string set",
        msg::LINKINFO_GET => "get link info",
        msg::LINKMODES_GET => "get link modes",
        msg::LINKSTATE_GET => "get link state",
        msg::FEATURES_GET => "get features",
        msg::PRIVFLAGS_GET => "get private flags",
        msg::RINGS_GET => "get ring parameters",
        msg::CHANNELS_GET => "get channel parameters",
        msg::COALESCE_GET => "get coalesce parameters",
        msg::PAUSE_GET => "get pause parameters",
        msg::FEC_GET => "get FEC parameters",
        msg::STATS_GET => "get standard statistics",
        _ => "ethtool netlink request",
    }
}

/// The header attribute number of message `cmd`'s request and reply.
fn header_attr(cmd: u8) -> u16 {
    if cmd == msg::STATS_GET {
        A_STATS_HEADER
    } else {
        A_HEADER
    }
}

/// One `*_GET_REPLY` message: the device header and the attributes,
/// indexed once (types up to 31; higher ones through [`Reply::attrs`]).
#[derive(Debug, Clone)]
pub struct Reply<'a> {
    payload: &'a [u8],
    cmd: u8,
    ifindex: Option<u32>,
    ifname: Option<&'a str>,
    attrs: AttrIndex<'a, 32>,
}

impl<'a> Reply<'a> {
    /// Decodes a reply message of the ethtool family.
    pub fn parse(msg: &NlMsg<'a>) -> Result<Self, DecodeError> {
        Self::parse_payload(msg.payload())
    }

    /// Decodes the payload of a reply (genlmsghdr and attributes).
    pub fn parse_payload(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let cmd = *payload.first().ok_or(DecodeError::Truncated {
            what: "genlmsghdr",
            offset: 0,
            need: 4,
            have: 0,
        })?;
        let body = payload.get(4..).ok_or(DecodeError::Truncated {
            what: "genlmsghdr",
            offset: 0,
            need: 4,
            have: payload.len(),
        })?;
        let attrs = AttrIndex::<32>::parse(body)?;
        // Only STATS puts its header at attribute 2 (attribute 1 is padding).
        let hdr_kind = if cmd == STATS_GET_REPLY {
            A_STATS_HEADER
        } else {
            A_HEADER
        };
        let mut ifindex = None;
        let mut ifname = None;
        if let Some(h) = attrs.get(hdr_kind) {
            let h = AttrIndex::<4>::parse(h.payload())?;
            h.check_sizes(&[(HEADER_DEV_INDEX, 4)])?;
            ifindex = h.u32(HEADER_DEV_INDEX);
            ifname = h.str(HEADER_DEV_NAME);
        }
        Ok(Reply {
            payload,
            cmd,
            ifindex,
            ifname,
            attrs,
        })
    }

    /// The raw payload (genlmsghdr and attributes), e.g. to record it.
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The reply's message type (ETHTOOL_MSG_*_GET_REPLY).
    pub fn cmd(&self) -> u8 {
        self.cmd
    }
    /// The device's ifindex from the reply header.
    pub fn ifindex(&self) -> Option<u32> {
        self.ifindex
    }
    /// The device's name from the reply header.
    pub fn ifname(&self) -> Option<&'a str> {
        self.ifname
    }
    /// Attribute `kind` (below 32), if present.
    pub fn get(&self, kind: u16) -> Option<Attr<'a>> {
        self.attrs.get(kind)
    }
    /// All attributes in order, any number.
    pub fn attrs(&self) -> Attrs<'a> {
        self.attrs.iter()
    }
    /// A `u32` attribute; `None` when absent or of another size.
    pub fn u32(&self, kind: u16) -> Option<u32> {
        self.attrs.u32(kind)
    }
    /// A `u8` attribute; `None` when absent or of another size.
    pub fn u8(&self, kind: u16) -> Option<u8> {
        self.attrs.u8(kind)
    }
    /// A bitset attribute.
    pub fn bitset(&self, kind: u16) -> Result<Option<Bitset<'a>>, DecodeError> {
        self.get(kind).map(|a| Bitset::parse(a.payload())).transpose()
    }
}

/// An ethtool bitset (ETHTOOL_A_BITSET_*, net/ethtool/bitset.c), in either
/// form: compact (SIZE, VALUE and MASK as arrays of u32 words) or verbose
/// (a list of bits with index, name and a VALUE flag).
#[derive(Debug, Clone)]
pub struct Bitset<'a> {
    size: u32,
    nomask: bool,
    value: Option<&'a [u8]>,
    mask: Option<&'a [u8]>,
    bits: Option<Attrs<'a>>,
}

/// One bit of a verbose bitset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bit<'a> {
    /// Bit index.
    pub index: u32,
    /// Bit name, as the kernel sent it.
    pub name: Option<&'a str>,
    /// Whether the bit is set (in a bitset with a mask, listed bits are the
    /// mask and this is the value).
    pub value: bool,
}

impl<'a> Bitset<'a> {
    /// Decodes a bitset nest's payload, checking every listed bit once.
    pub fn parse(payload: &'a [u8]) -> Result<Self, DecodeError> {
        let idx = AttrIndex::<6>::parse(payload)?;
        idx.check_sizes(&[(BITSET_SIZE, 4)])?;
        let size = idx.u32(BITSET_SIZE).unwrap_or(0);
        let words = (size as usize).div_ceil(32) * 4;
        let arr = |k: u16| -> Result<Option<&'a [u8]>, DecodeError> {
            match idx.bytes_of(k) {
                Some(b) if b.len() < words => Err(DecodeError::AttrSize {
                    kind: k,
                    len: b.len(),
                    expected: words,
                }),
                other => Ok(other),
            }
        };
        let value = arr(BITSET_VALUE)?;
        let mask = arr(BITSET_MASK)?;
        let bits = idx.get(BITSET_BITS).map(|b| b.nested());
        if let Some(bits) = &bits {
            for b in bits.clone() {
                let b = AttrIndex::<4>::parse(b?.payload())?;
                b.check_sizes(&[(BITSET_BIT_INDEX, 4), (BITSET_BIT_VALUE, 0)])?;
            }
        }
        Ok(Bitset {
            size,
            nomask: idx.has(BITSET_NOMASK),
            value,
            mask,
            bits,
        })
    }

    /// Number of bits (ETHTOOL_A_BITSET_SIZE).
    pub fn size(&self) -> u32 {
        self.size
    }
    /// Whether the kernel sent only values, without a mask.
    pub fn is_nomask(&self) -> bool {
        self.nomask
    }
    /// Whether this is the compact form.
    pub fn is_compact(&self) -> bool {
        self.bits.is_none()
    }

    fn word_bit(arr: &[u8], i: u32) -> bool {
        let w = (i / 32) as usize * 4;
        arr.get(w..w + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) & (1 << (i % 32)) != 0)
            .unwrap_or(false)
    }

    /// Whether bit `i` is set (its value).
    pub fn is_set(&self, i: u32) -> bool {
        if let Some(v) = self.value {
            return Self::word_bit(v, i);
        }
        self.bits().any(|b| b.index == i && (b.value || self.nomask))
    }

    /// Whether bit `i` is in the mask (every bit when there is no mask).
    pub fn in_mask(&self, i: u32) -> bool {
        if self.nomask {
            return i < self.size;
        }
        if let Some(m) = self.mask {
            return Self::word_bit(m, i);
        }
        self.bits().any(|b| b.index == i)
    }

    /// The bits of the verbose form, in the kernel's order (empty for the
    /// compact form). Entries that fail to decode were rejected by
    /// [`parse`](Self::parse) and cannot occur.
    pub fn bits(&self) -> impl Iterator<Item = Bit<'a>> + '_ {
        let nomask = self.nomask;
        self.bits.clone().into_iter().flatten().filter_map(move |b| {
            let b = b.ok()?;
            if b.kind() != BITSET_BITS_BIT {
                return None;
            }
            let b = AttrIndex::<4>::parse(b.payload()).ok()?;
            Some(Bit {
                index: b.u32(BITSET_BIT_INDEX).unwrap_or(u32::MAX),
                name: b.str(BITSET_BIT_NAME),
                value: nomask || b.has(BITSET_BIT_VALUE),
            })
        })
    }

    /// Indices of the set bits, in either form.
    pub fn set_bits(&self) -> Vec<u32> {
        match self.value {
            Some(_) => (0..self.size).filter(|&i| self.is_set(i)).collect(),
            None => self.bits().filter(|b| b.value).map(|b| b.index).collect(),
        }
    }
}

/// One string set of a STRSET_GET reply: `(index, name)` pairs.
#[derive(Debug, Clone)]
pub struct StringSetReply<'a> {
    /// The set (enum ethtool_stringset).
    pub id: u32,
    /// The number of strings the kernel announced.
    pub count: u32,
    strings: Option<Attrs<'a>>,
}

impl<'a> StringSetReply<'a> {
    /// The string sets of a STRSET_GET reply, each checked once.
    pub fn all(reply: &Reply<'a>) -> Result<Vec<StringSetReply<'a>>, DecodeError> {
        let mut out = Vec::new();
        let Some(sets) = reply.get(STRSET_STRINGSETS) else {
            return Ok(out);
        };
        for set in sets.nested() {
            let set = set?;
            if set.kind() != STRINGSETS_STRINGSET {
                continue;
            }
            let s = AttrIndex::<4>::parse(set.payload())?;
            s.check_sizes(&[(STRINGSET_ID, 4), (STRINGSET_COUNT, 4)])?;
            let strings = s.get(STRINGSET_STRINGS).map(|a| a.nested());
            if let Some(st) = &strings {
                for one in st.clone() {
                    let one = AttrIndex::<3>::parse(one?.payload())?;
                    one.check_sizes(&[(STRING_INDEX, 4)])?;
                }
            }
            out.push(StringSetReply {
                id: s.u32(STRINGSET_ID).unwrap_or(0),
                count: s.u32(STRINGSET_COUNT).unwrap_or(0),
                strings,
            });
        }
        Ok(out)
    }

    /// `(index, name)` of each string, in the kernel's order; a name that
    /// is not UTF-8 reads as empty.
    pub fn strings(&self) -> impl Iterator<Item = (u32, &'a str)> + '_ {
        self.strings.clone().into_iter().flatten().filter_map(|one| {
            let one = one.ok()?;
            if one.kind() != STRINGS_STRING {
                return None;
            }
            let one = AttrIndex::<3>::parse(one.payload()).ok()?;
            Some((one.u32(STRING_INDEX)?, one.str(STRING_VALUE).unwrap_or("")))
        })
    }

    /// The names as an owned list indexed by string index (gaps are empty;
    /// indices past `count` are ignored, so a hostile count cannot make us
    /// allocate more than the strings sent).
    pub fn to_vec(&self) -> Vec<String> {
        let n = self.strings().count().min(self.count as usize);
        let mut v = vec![String::new(); n];
        for (i, s) in self.strings() {
            if let Some(slot) = v.get_mut(i as usize) {
                *slot = s.to_owned();
            }
        }
        v
    }
}

/// RINGS_GET (`ethtool -g`): ring sizes. `None` where the driver has no
/// such ring (net/ethtool/rings.c sends mini/jumbo only when their maximum
/// is not zero, TCP data split only when known).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Rings {
    pub rx_max: Option<u32>,
    pub rx_mini_max: Option<u32>,
    pub rx_jumbo_max: Option<u32>,
    pub tx_max: Option<u32>,
    pub rx: Option<u32>,
    pub rx_mini: Option<u32>,
    pub rx_jumbo: Option<u32>,
    pub tx: Option<u32>,
    pub rx_buf_len: Option<u32>,
    /// ETHTOOL_TCP_DATA_SPLIT_*: 0 unknown, 1 disabled, 2 enabled.
    pub tcp_data_split: Option<u8>,
    pub cqe_size: Option<u32>,
    pub tx_push: Option<bool>,
}

impl Rings {
    /// From a RINGS_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::rings::*;
        Rings {
            rx_max: r.u32(RX_MAX),
            rx_mini_max: r.u32(RX_MINI_MAX),
            rx_jumbo_max: r.u32(RX_JUMBO_MAX),
            tx_max: r.u32(TX_MAX),
            rx: r.u32(RX),
            rx_mini: r.u32(RX_MINI),
            rx_jumbo: r.u32(RX_JUMBO),
            tx: r.u32(TX),
            rx_buf_len: r.u32(RX_BUF_LEN),
            tcp_data_split: r.u8(TCP_DATA_SPLIT),
            cqe_size: r.u32(CQE_SIZE),
            tx_push: r.u8(TX_PUSH).map(|v| v != 0),
        }
    }
}

/// CHANNELS_GET (`ethtool -l`): queue counts. `None` for a kind of channel
/// the driver does not have (its maximum is zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Channels {
    pub rx_max: Option<u32>,
    pub tx_max: Option<u32>,
    pub other_max: Option<u32>,
    pub combined_max: Option<u32>,
    pub rx: Option<u32>,
    pub tx: Option<u32>,
    pub other: Option<u32>,
    pub combined: Option<u32>,
}

impl Channels {
    /// From a CHANNELS_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::channels::*;
        Channels {
            rx_max: r.u32(RX_MAX),
            tx_max: r.u32(TX_MAX),
            other_max: r.u32(OTHER_MAX),
            combined_max: r.u32(COMBINED_MAX),
            rx: r.u32(RX_COUNT),
            tx: r.u32(TX_COUNT),
            other: r.u32(OTHER_COUNT),
            combined: r.u32(COMBINED_COUNT),
        }
    }
}

/// COALESCE_GET (`ethtool -c`): interrupt coalescing. The kernel sends
/// only the parameters the driver declares supported
/// (net/ethtool/coalesce.c, `supported_coalesce_params`); the rest is `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Coalesce {
    pub rx_usecs: Option<u32>,
    pub rx_max_frames: Option<u32>,
    pub rx_usecs_irq: Option<u32>,
    pub rx_max_frames_irq: Option<u32>,
    pub tx_usecs: Option<u32>,
    pub tx_max_frames: Option<u32>,
    pub tx_usecs_irq: Option<u32>,
    pub tx_max_frames_irq: Option<u32>,
    pub stats_block_usecs: Option<u32>,
    pub use_adaptive_rx: Option<bool>,
    pub use_adaptive_tx: Option<bool>,
    pub pkt_rate_low: Option<u32>,
    pub rx_usecs_low: Option<u32>,
    pub rx_max_frames_low: Option<u32>,
    pub tx_usecs_low: Option<u32>,
    pub tx_max_frames_low: Option<u32>,
    pub pkt_rate_high: Option<u32>,
    pub rx_usecs_high: Option<u32>,
    pub rx_max_frames_high: Option<u32>,
    pub tx_usecs_high: Option<u32>,
    pub tx_max_frames_high: Option<u32>,
    pub rate_sample_interval: Option<u32>,
    pub use_cqe_mode_tx: Option<bool>,
    pub use_cqe_mode_rx: Option<bool>,
}

impl Coalesce {
    /// From a COALESCE_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::coalesce::*;
        let b = |k| r.u8(k).map(|v| v != 0);
        Coalesce {
            rx_usecs: r.u32(RX_USECS),
            rx_max_frames: r.u32(RX_MAX_FRAMES),
            rx_usecs_irq: r.u32(RX_USECS_IRQ),
            rx_max_frames_irq: r.u32(RX_MAX_FRAMES_IRQ),
            tx_usecs: r.u32(TX_USECS),
            tx_max_frames: r.u32(TX_MAX_FRAMES),
            tx_usecs_irq: r.u32(TX_USECS_IRQ),
            tx_max_frames_irq: r.u32(TX_MAX_FRAMES_IRQ),
            stats_block_usecs: r.u32(STATS_BLOCK_USECS),
            use_adaptive_rx: b(USE_ADAPTIVE_RX),
            use_adaptive_tx: b(USE_ADAPTIVE_TX),
            pkt_rate_low: r.u32(PKT_RATE_LOW),
            rx_usecs_low: r.u32(RX_USECS_LOW),
            rx_max_frames_low: r.u32(RX_MAX_FRAMES_LOW),
            tx_usecs_low: r.u32(TX_USECS_LOW),
            tx_max_frames_low: r.u32(TX_MAX_FRAMES_LOW),
            pkt_rate_high: r.u32(PKT_RATE_HIGH),
            rx_usecs_high: r.u32(RX_USECS_HIGH),
            rx_max_frames_high: r.u32(RX_MAX_FRAMES_HIGH),
            tx_usecs_high: r.u32(TX_USECS_HIGH),
            tx_max_frames_high: r.u32(TX_MAX_FRAMES_HIGH),
            rate_sample_interval: r.u32(RATE_SAMPLE_INTERVAL),
            use_cqe_mode_tx: b(USE_CQE_MODE_TX),
            use_cqe_mode_rx: b(USE_CQE_MODE_RX),
        }
    }
}

/// PAUSE_GET (`ethtool -a`), with pause frame counters when requested with
/// [`flags::STATS`] and the driver counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Pause {
    pub autoneg: Option<bool>,
    pub rx: Option<bool>,
    pub tx: Option<bool>,
    pub tx_pause_frames: Option<u64>,
    pub rx_pause_frames: Option<u64>,
    /// Whether the reply carried the ETHTOOL_A_PAUSE_STATS nest. The kernel
    /// sends it whenever [`flags::STATS`] was asked (net/ethtool/pause.c,
    /// `pause_fill_reply`), empty when the driver counts nothing.
    pub stats_present: bool,
}

impl Pause {
    /// From a PAUSE_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::pause::*;
        let b = |k| r.u8(k).map(|v| v != 0);
        let stat = |k| {
            r.get(STATS)
                .and_then(|s| s.nested().first(k).ok().flatten())
                .and_then(|a| a.u64().ok())
        };
        Pause {
            autoneg: b(AUTONEG),
            rx: b(RX),
            tx: b(TX),
            tx_pause_frames: stat(STAT_TX_FRAMES),
            rx_pause_frames: stat(STAT_RX_FRAMES),
            stats_present: r.get(STATS).is_some(),
        }
    }
}

/// The pause frame directions autonegotiation resolved, from the pause
/// bits both link partners advertise (IEEE 802.3 Annex 28B; ethtool -a
/// shows them as "RX negotiated"/"TX negotiated", netlink/pause.c).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PauseNegotiated {
    /// This end honours pause frames it receives.
    pub rx: bool,
    /// This end sends pause frames.
    pub tx: bool,
}

impl PauseNegotiated {
    /// Resolves the advertised `(Pause, Asym_Pause)` bits of this end
    /// (`ours`) and of the link partner (`peer`): symmetric pause when both
    /// advertise Pause; otherwise, when both advertise Asym_Pause, the end
    /// that also advertises Pause receives and the other sends.
    pub fn resolve(ours: (bool, bool), peer: (bool, bool)) -> Self {
        let ((our_pause, our_asym), (peer_pause, peer_asym)) = (ours, peer);
        if our_pause && peer_pause {
            PauseNegotiated { rx: true, tx: true }
        } else if our_asym && peer_asym {
            PauseNegotiated {
                rx: our_pause,
                tx: !our_pause && peer_pause,
            }
        } else {
            PauseNegotiated::default()
        }
    }
}

/// LINKINFO_GET: port, PHY address, MDI-X, transceiver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct LinkInfo {
    pub port: Option<u8>,
    pub phyaddr: Option<u8>,
    pub tp_mdix: Option<u8>,
    pub tp_mdix_ctrl: Option<u8>,
    pub transceiver: Option<u8>,
}

impl LinkInfo {
    /// From a LINKINFO_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::linkinfo::*;
        LinkInfo {
            port: r.u8(PORT),
            phyaddr: r.u8(PHYADDR),
            tp_mdix: r.u8(TP_MDIX),
            tp_mdix_ctrl: r.u8(TP_MDIX_CTRL),
            transceiver: r.u8(TRANSCEIVER),
        }
    }
}

/// LINKSTATE_GET: link detected, signal quality, extended down state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct LinkState {
    pub link: Option<bool>,
    pub sqi: Option<u32>,
    pub sqi_max: Option<u32>,
    pub ext_state: Option<u8>,
    pub ext_substate: Option<u8>,
    pub ext_down_cnt: Option<u32>,
}

impl LinkState {
    /// From a LINKSTATE_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::linkstate::*;
        LinkState {
            link: r.u8(LINK).map(|v| v != 0),
            sqi: r.u32(SQI),
            sqi_max: r.u32(SQI_MAX),
            ext_state: r.u8(EXT_STATE),
            ext_substate: r.u8(EXT_SUBSTATE),
            ext_down_cnt: r.u32(EXT_DOWN_CNT),
        }
    }
}

/// LINKMODES_GET: speed, duplex, autonegotiation (the advertised and peer
/// modes are bitsets: [`Reply::bitset`] with `attr::linkmodes::OURS`/`PEER`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct LinkModes {
    pub autoneg: Option<bool>,
    /// Mb/s; `u32::MAX` is SPEED_UNKNOWN.
    pub speed: Option<u32>,
    /// DUPLEX_HALF 0, DUPLEX_FULL 1, DUPLEX_UNKNOWN 0xff.
    pub duplex: Option<u8>,
    pub lanes: Option<u32>,
    pub master_slave_cfg: Option<u8>,
    pub master_slave_state: Option<u8>,
    pub rate_matching: Option<u8>,
}

impl LinkModes {
    /// From a LINKMODES_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::linkmodes::*;
        LinkModes {
            autoneg: r.u8(AUTONEG).map(|v| v != 0),
            speed: r.u32(SPEED),
            duplex: r.u8(DUPLEX),
            lanes: r.u32(LANES),
            master_slave_cfg: r.u8(MASTER_SLAVE_CFG),
            master_slave_state: r.u8(MASTER_SLAVE_STATE),
            rate_matching: r.u8(RATE_MATCHING),
        }
    }
}

/// FEC_GET: configured modes (bitset `attr::fec::MODES`), auto, the active
/// mode (a link mode bit index) and corrected/uncorrected block counters
/// (totals; the per-lane values follow in the same array attribute).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Fec {
    pub auto: Option<bool>,
    pub active: Option<u32>,
    pub corrected: Option<u64>,
    pub uncorrectable: Option<u64>,
    pub corrected_bits: Option<u64>,
}

impl Fec {
    /// From a FEC_GET reply.
    pub fn from_reply(r: &Reply<'_>) -> Self {
        use attr::fec::*;
        let stat = |k| {
            let a = r.get(STATS)?.nested().first(k).ok()??;
            let b: [u8; 8] = a.payload().get(..8)?.try_into().ok()?;
            Some(u64::from_ne_bytes(b))
        };
        Fec {
            auto: r.u8(AUTO).map(|v| v != 0),
            active: r.u32(ACTIVE),
            corrected: stat(STAT_CORRECTED),
            uncorrectable: stat(STAT_UNCORR),
            corrected_bits: stat(STAT_CORR_BITS),
        }
    }
}

/// One histogram bucket of a standard statistics group (RMON): frames of
/// `low..=high` bytes; `high == 0` means "and longer".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// Smallest frame length counted.
    pub low: u32,
    /// Largest frame length counted, 0 when open-ended.
    pub high: u32,
    /// Frames counted.
    pub value: u64,
}

/// One ETHTOOL_A_STATS_GRP nest of a STATS_GET reply: a standard group
/// ("eth-phy", "eth-mac", "eth-ctrl", "rmon" and newer ones such as
/// "phydev"). Counter names come from string set [`StatsGroup::ss_id`]:
/// counter attribute type N is string N.
#[derive(Debug, Clone)]
pub struct StatsGroup<'a> {
    /// Group id: index into the ETH_SS_STATS_STD string set.
    pub id: u32,
    /// String set naming this group's counters.
    pub ss_id: u32,
    idx: AttrIndex<'a, 10>,
    all: Attrs<'a>,
}

impl<'a> StatsGroup<'a> {
    /// The groups of a STATS_GET reply, each checked once.
    pub fn all(reply: &Reply<'a>) -> Result<Vec<StatsGroup<'a>>, DecodeError> {
        use attr::stats::*;
        let mut out = Vec::new();
        for a in reply.attrs() {
            let a = a?;
            if a.kind() != GRP {
                continue;
            }
            let idx = AttrIndex::<10>::parse(a.payload())?;
            idx.check_sizes(&[(GRP_ID, 4), (GRP_SS_ID, 4)])?;
            let g = StatsGroup {
                id: idx.u32(GRP_ID).unwrap_or(u32::MAX),
                ss_id: idx.u32(GRP_SS_ID).unwrap_or(u32::MAX),
                idx,
                all: Attrs::new(a.payload()),
            };
            if let Some(s) = g.idx.get(GRP_STAT) {
                for c in s.nested() {
                    c?.u64()?;
                }
            }
            for h in g.all.clone() {
                let h = h?;
                if h.kind() == GRP_HIST_RX || h.kind() == GRP_HIST_TX {
                    let b = AttrIndex::<10>::parse(h.payload())?;
                    b.check_sizes(&[(GRP_HIST_BKT_LOW, 4), (GRP_HIST_BKT_HI, 4), (GRP_HIST_VAL, 8)])?;
                }
            }
            out.push(g);
        }
        Ok(out)
    }

    /// `(counter index, value)` in the kernel's order; the index names the
    /// counter in string set `ss_id`. Counters the driver does not report
    /// are absent.
    pub fn counters(&self) -> impl Iterator<Item = (u16, u64)> + 'a {
        let stat = self.idx.get(attr::stats::GRP_STAT);
        stat.into_iter().flat_map(|s| s.nested()).filter_map(|c| {
            let c = c.ok()?;
            Some((c.kind(), c.u64().ok()?))
        })
    }

    fn hist(&self, kind: u16) -> impl Iterator<Item = Bucket> + 'a {
        use attr::stats::*;
        self.all.clone().filter_map(move |h| {
            let h = h.ok()?;
            if h.kind() != kind {
                return None;
            }
            let b = AttrIndex::<10>::parse(h.payload()).ok()?;
            Some(Bucket {
                low: b.u32(GRP_HIST_BKT_LOW)?,
                high: b.u32(GRP_HIST_BKT_HI).unwrap_or(0),
                value: b.u64(GRP_HIST_VAL)?,
            })
        })
    }

    /// Received-frame length histogram (RMON).
    pub fn hist_rx(&self) -> impl Iterator<Item = Bucket> + 'a {
        self.hist(attr::stats::GRP_HIST_RX)
    }
    /// Transmitted-frame length histogram (RMON).
    pub fn hist_tx(&self) -> impl Iterator<Item = Bucket> + 'a {
        self.hist(attr::stats::GRP_HIST_TX)
    }
}

/// Feature bits of a device (FEATURES_GET), with the names of the kernel's
/// ETH_SS_FEATURES string set. Owned: it outlives the receive buffer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    /// Feature names by bit index.
    pub names: Vec<String>,
    /// Features the driver can change (`hw_features`).
    pub hw: Vec<bool>,
    /// Features the user asked for (`wanted_features`).
    pub wanted: Vec<bool>,
    /// Features in effect (`features`).
    pub active: Vec<bool>,
    /// Features that can never change (NETIF_F_NEVER_CHANGE).
    pub nochange: Vec<bool>,
}

impl Features {
    /// From a FEATURES_GET reply and the names of the ETH_SS_FEATURES
    /// string set (one bit per name; a bitset the kernel left out reads
    /// as all off).
    pub fn from_reply(r: &Reply<'_>, names: Vec<String>) -> Result<Self, DecodeError> {
        let n = names.len() as u32;
        let bits = |k: u16| -> Result<Vec<bool>, DecodeError> {
            let b = r.bitset(k)?;
            Ok((0..n).map(|i| b.as_ref().is_some_and(|b| b.is_set(i))).collect())
        };
        use attr::features::*;
        Ok(Features {
            hw: bits(HW)?,
            wanted: bits(WANTED)?,
            active: bits(ACTIVE)?,
            nochange: bits(NOCHANGE)?,
            names,
        })
    }

    /// Whether feature `i` shows as `[fixed]`: not changeable by the driver
    /// or never changeable.
    pub fn fixed(&self, i: usize) -> bool {
        !self.hw.get(i).copied().unwrap_or(false) || self.nochange.get(i).copied().unwrap_or(false)
    }

    /// Feature `i` with its name and bits; a bit missing from a shorter
    /// bitset reads as off.
    pub fn get(&self, i: usize) -> Option<Feature<'_>> {
        let bit = |v: &[bool]| v.get(i).copied().unwrap_or(false);
        Some(Feature {
            index: i,
            name: self.names.get(i)?,
            active: bit(&self.active),
            wanted: bit(&self.wanted),
            changeable: bit(&self.hw),
            fixed: self.fixed(i),
        })
    }

    /// Every feature in bit order.
    pub fn iter(&self) -> impl Iterator<Item = Feature<'_>> + '_ {
        (0..self.names.len()).filter_map(|i| self.get(i))
    }
}

/// One feature bit of [`Features`], named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Feature<'a> {
    /// Bit index in the ETH_SS_FEATURES string set.
    pub index: usize,
    /// Kernel name ("tx-scatter-gather", ...); may be empty for an unused bit.
    pub name: &'a str,
    /// In effect (`features`).
    pub active: bool,
    /// Asked for by the user (`wanted_features`).
    pub wanted: bool,
    /// The driver can change it (`hw_features`).
    pub changeable: bool,
    /// Shown as `[fixed]`: not changeable, or never changeable.
    pub fixed: bool,
}

/// Standard statistics of one device, owned, with names resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StdStats {
    /// The groups the kernel answered for, in its order.
    pub groups: Vec<StdGroup>,
}

/// One standard statistics group, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StdGroup {
    /// Group name from ETH_SS_STATS_STD ("eth-mac", ...), or `group<N>`.
    pub name: String,
    /// `(counter name, value)` in the kernel's order.
    pub counters: Vec<(String, u64)>,
    /// Received-frame length histogram.
    pub hist_rx: Vec<Bucket>,
    /// Transmitted-frame length histogram.
    pub hist_tx: Vec<Bucket>,
}

/// Appends ETHTOOL_A_STRSET_STRINGSETS asking for string set `set`.
pub fn string_set_request(req: &mut MsgBuf, set: u32) {
    let n = req.nest_begin(STRSET_STRINGSETS);
    let s = req.nest_begin(STRINGSETS_STRINGSET);
    req.attr_u32(STRINGSET_ID, set);
    req.nest_end(s);
    req.nest_end(n);
}

/// Appends ETHTOOL_A_STATS_GROUPS, a compact bitset without mask of
/// `size` bits whose set bits are the groups wanted.
pub fn stats_groups_request(req: &mut MsgBuf, mask: &[u32], size: u32) {
    let g = req.nest_begin(attr::stats::GROUPS);
    req.attr(BITSET_NOMASK, &[]);
    req.attr_u32(BITSET_SIZE, size);
    let words: Vec<u8> = mask.iter().flat_map(|w| w.to_ne_bytes()).collect();
    req.attr(BITSET_VALUE, &words);
    req.nest_end(g);
}

/// A standard statistics group copied out of the receive buffer, names
/// not yet resolved.
struct RawGroup {
    id: u32,
    ss_id: u32,
    counters: Vec<(u16, u64)>,
    hist_rx: Vec<Bucket>,
    hist_tx: Vec<Bucket>,
}

/// A NETLINK_GENERIC socket talking to the ethtool family of one network
/// namespace.
#[derive(Debug)]
pub struct EthtoolNetlink {
    genl: GenlSocket,
}

impl EthtoolNetlink {
    /// Opens the socket in the caller's namespace and resolves the family.
    /// A kernel without it gives [`Error::NoFamily`].
    pub fn open() -> Result<Self> {
        Ok(EthtoolNetlink {
            genl: crate::open_family(ETHTOOL_GENL_NAME)?,
        })
    }

    /// Opens the socket inside `netns`, without moving the caller's thread.
    pub fn open_in(netns: &Netns) -> Result<Self> {
        netns.run(Self::open)?
    }

    /// The family id the kernel assigned.
    pub fn family_id(&self) -> u16 {
        self.genl.family().id
    }

    /// Starts request `cmd` with its header nest (device name first, then
    /// flags, as ethtool does, so extended-ack offsets agree).
    fn begin(&mut self, cmd: u8, dev: Option<Dev<'_>>, flags: u32) -> &mut MsgBuf {
        let req = self.genl.begin(cmd, ETHTOOL_GENL_VERSION);
        let h = req.nest_begin(header_attr(cmd));
        match dev {
            Some(Dev::Name(n)) => {
                req.attr_str(HEADER_DEV_NAME, n);
            }
            Some(Dev::Index(i)) => {
                req.attr_u32(HEADER_DEV_INDEX, i);
            }
            None => {}
        }
        if flags != 0 {
            req.attr_u32(HEADER_FLAGS, flags);
        }
        req.nest_end(h)
    }

    fn map_err(cmd: u8, dev: Option<Dev<'_>>, e: netobs_core::Error) -> Error {
        Error::from_netlink(what(cmd), dev.map(|d| d.label()).unwrap_or_default(), e)
    }

    fn send_get(&mut self, cmd: u8, dev: Dev<'_>) -> Result<Reply<'_>> {
        match self.genl.request() {
            Ok(m) => Ok(Reply::parse(&m)?),
            Err(e) => Err(Self::map_err(cmd, Some(dev), e)),
        }
    }

    /// Sends `*_GET` request `cmd` for one device and returns its reply.
    /// EOPNOTSUPP (the driver does not implement it) comes back as
    /// [`Error::NotSupported`].
    pub fn get(&mut self, cmd: u8, dev: Dev<'_>, flags: u32) -> Result<Reply<'_>> {
        self.begin(cmd, Some(dev), flags);
        self.send_get(cmd, dev)
    }

    /// Sends `*_GET` request `cmd` with request attributes of the caller
    /// appended after the header by `extra` (for requests this crate does
    /// not build itself, or attributes newer than its headers), for one
    /// device or none (global string sets).
    pub fn get_with(
        &mut self,
        cmd: u8,
        dev: Option<Dev<'_>>,
        flags: u32,
        extra: impl FnOnce(&mut MsgBuf),
    ) -> Result<Reply<'_>> {
        self.begin(cmd, dev, flags);
        extra(self.genl.msg());
        self.send_get(cmd, dev.unwrap_or(Dev::Name("")))
    }

    /// Sends `*_GET` request `cmd` as a dump and calls `each` with the
    /// reply of every device that answers. Devices whose driver does not
    /// implement the request are left out of the dump by the kernel.
    pub fn dump(&mut self, cmd: u8, flags: u32, mut each: impl FnMut(&Reply<'_>) -> Result<()>) -> Result<()> {
        self.begin(cmd, None, flags);
        let mut d = self.genl.dump().map_err(|e| Self::map_err(cmd, None, e))?;
        while let Some(m) = d.next().map_err(|e| Self::map_err(cmd, None, e))? {
            let r = Reply::parse(&m)?;
            each(&r)?;
        }
        Ok(())
    }

    /// STRSET_GET for one string set: the names by index. `dev` is needed
    /// for per-device sets (driver statistics, private flags) and may be
    /// `None` for global ones (features, link modes, statistics groups).
    pub fn string_set(&mut self, dev: Option<Dev<'_>>, set: u32) -> Result<Vec<String>> {
        let r = self.get_with(msg::STRSET_GET, dev, 0, |req| string_set_request(req, set))?;
        let sets = StringSetReply::all(&r)?;
        Ok(sets
            .iter()
            .find(|s| s.id == set)
            .map(|s| s.to_vec())
            .unwrap_or_default())
    }

    /// RINGS_GET (`ethtool -g`).
    pub fn rings(&mut self, dev: Dev<'_>) -> Result<Rings> {
        self.get(msg::RINGS_GET, dev, 0).map(|r| Rings::from_reply(&r))
    }

    /// CHANNELS_GET (`ethtool -l`).
    pub fn channels(&mut self, dev: Dev<'_>) -> Result<Channels> {
        self.get(msg::CHANNELS_GET, dev, 0).map(|r| Channels::from_reply(&r))
    }

    /// COALESCE_GET (`ethtool -c`).
    pub fn coalesce(&mut self, dev: Dev<'_>) -> Result<Coalesce> {
        self.get(msg::COALESCE_GET, dev, 0).map(|r| Coalesce::from_reply(&r))
    }

    /// PAUSE_GET (`ethtool -a`), with pause frame counters
    /// (ETHTOOL_FLAG_STATS) when `stats`.
    pub fn pause(&mut self, dev: Dev<'_>, stats: bool) -> Result<Pause> {
        let f = if stats { flags::STATS } else { 0 };
        self.get(msg::PAUSE_GET, dev, f).map(|r| Pause::from_reply(&r))
    }

    /// What autonegotiation resolved for pause frames, asked as `ethtool -a`
    /// asks it: only when `pause` has autonegotiation on, from the
    /// advertised link modes of both ends (LINKMODES_GET, compact bitsets).
    /// `None` when autonegotiation is off or the kernel did not send both
    /// ends' modes (no link partner known).
    pub fn pause_negotiated(&mut self, dev: Dev<'_>, pause: &Pause) -> Result<Option<PauseNegotiated>> {
        if pause.autoneg != Some(true) {
            return Ok(None);
        }
        let r = self.get(msg::LINKMODES_GET, dev, flags::COMPACT_BITSETS)?;
        let (Some(ours), Some(peer)) = (r.bitset(attr::linkmodes::OURS)?, r.bitset(attr::linkmodes::PEER)?) else {
            return Ok(None);
        };
        let bits = |b: &Bitset<'_>| (b.is_set(link_mode::PAUSE), b.is_set(link_mode::ASYM_PAUSE));
        Ok(Some(PauseNegotiated::resolve(bits(&ours), bits(&peer))))
    }

    /// LINKINFO_GET.
    pub fn link_info(&mut self, dev: Dev<'_>) -> Result<LinkInfo> {
        self.get(msg::LINKINFO_GET, dev, 0).map(|r| LinkInfo::from_reply(&r))
    }

    /// LINKSTATE_GET.
    pub fn link_state(&mut self, dev: Dev<'_>) -> Result<LinkState> {
        self.get(msg::LINKSTATE_GET, dev, 0).map(|r| LinkState::from_reply(&r))
    }

    /// LINKMODES_GET.
    pub fn link_modes(&mut self, dev: Dev<'_>) -> Result<LinkModes> {
        self.get(msg::LINKMODES_GET, dev, flags::COMPACT_BITSETS)
            .map(|r| LinkModes::from_reply(&r))
    }

    /// FEC_GET with FEC counters.
    pub fn fec(&mut self, dev: Dev<'_>) -> Result<Fec> {
        self.get(msg::FEC_GET, dev, flags::STATS).map(|r| Fec::from_reply(&r))
    }

    /// PRIVFLAGS_GET: `(flag name, on)` in driver order.
    pub fn priv_flags(&mut self, dev: Dev<'_>) -> Result<Vec<(String, bool)>> {
        let r = self.get(msg::PRIVFLAGS_GET, dev, 0)?;
        let Some(bs) = r.bitset(attr::privflags::FLAGS)? else {
            return Ok(Vec::new());
        };
        Ok(bs
            .bits()
            .map(|b| (b.name.unwrap_or_default().to_owned(), b.value))
            .collect())
    }

    /// FEATURES_GET (`ethtool -k`) with the kernel's feature names.
    pub fn features(&mut self, dev: Dev<'_>) -> Result<Features> {
        let names = self.string_set(None, sset::FEATURES)?;
        let r = self.get(msg::FEATURES_GET, dev, flags::COMPACT_BITSETS)?;
        Ok(Features::from_reply(&r, names)?)
    }

    /// STATS_GET for the standard groups named in `groups` (names from
    /// the kernel's ETH_SS_STATS_STD string set, so groups newer than our
    /// headers work), or every group the kernel knows when `groups` is
    /// empty. A name the kernel does not know is an error.
    pub fn std_stats(&mut self, dev: Dev<'_>, groups: &[&str]) -> Result<StdStats> {
        let group_names = self.string_set(None, sset::STATS_STD)?;
        let mut mask = vec![0u32; group_names.len().div_ceil(32).max(1)];
        for (i, name) in group_names.iter().enumerate() {
            if groups.is_empty() || groups.contains(&name.as_str()) {
                mask[i / 32] |= 1 << (i % 32);
            }
        }
        if let Some(unknown) = groups.iter().find(|g| !group_names.iter().any(|n| n == *g)) {
            return Err(Error::UnknownGroup((*unknown).to_owned()));
        }
        // Copy the reply out of the receive buffer first: naming the
        // counters takes more requests on the same socket.
        let size = group_names.len() as u32;
        let r = self.get_with(msg::STATS_GET, Some(dev), 0, |req| {
            stats_groups_request(req, &mask, size)
        })?;
        let raw: Vec<RawGroup> = StatsGroup::all(&r)?
            .iter()
            .map(|g| RawGroup {
                id: g.id,
                ss_id: g.ss_id,
                counters: g.counters().collect(),
                hist_rx: g.hist_rx().collect(),
                hist_tx: g.hist_tx().collect(),
            })
            .collect();
        let mut ss_names: Vec<(u32, Vec<String>)> = Vec::new();
        let mut out = StdStats::default();
        for RawGroup {
            id,
            ss_id: ss,
            counters,
            hist_rx,
            hist_tx,
        } in raw
        {
            if !ss_names.iter().any(|(s, _)| *s == ss) {
                let names = self.string_set(None, ss)?;
                ss_names.push((ss, names));
            }
            let names = ss_names.iter().find(|(s, _)| *s == ss).map(|(_, n)| n.as_slice());
            let counter_name = |i: u16| {
                names
                    .and_then(|n| n.get(i as usize))
                    .cloned()
                    .unwrap_or_else(|| format!("stat{i}"))
            };
            out.groups.push(StdGroup {
                name: group_names
                    .get(id as usize)
                    .cloned()
                    .unwrap_or_else(|| format!("group{id}")),
                counters: counters.into_iter().map(|(i, v)| (counter_name(i), v)).collect(),
                hist_rx,
                hist_tx,
            });
        }
        Ok(out)
    }
}

/// Decodes every part of a reply the way a caller could, for fuzzing and
/// mutation tests: whatever the bytes, this returns without panicking.
/// Returns the number of items seen.
pub fn decode_everything(payload: &[u8]) -> usize {
    let Ok(r) = Reply::parse_payload(payload) else {
        return 0;
    };
    let mut n = r.attrs().count();
    let _ = (r.cmd(), r.ifindex(), r.ifname());
    let _ = (
        Rings::from_reply(&r),
        Channels::from_reply(&r),
        Coalesce::from_reply(&r),
        Pause::from_reply(&r),
    );
    let _ = (
        LinkInfo::from_reply(&r),
        LinkState::from_reply(&r),
        LinkModes::from_reply(&r),
        Fec::from_reply(&r),
    );
    for k in 0..32 {
        if let Ok(Some(b)) = r.bitset(k) {
            n += b.set_bits().len() + b.bits().count();
            let _ = (
                b.size(),
                b.is_set(k as u32),
                b.in_mask(k as u32),
                b.is_compact(),
                b.is_nomask(),
            );
        }
    }
    if let Ok(sets) = StringSetReply::all(&r) {
        for s in sets {
            n += s.strings().count() + s.to_vec().len();
        }
    }
    if let Ok(groups) = StatsGroup::all(&r) {
        for g in groups {
            n += g.counters().count() + g.hist_rx().count() + g.hist_tx().count();
        }
    }
    n
}
