//! `struct tcp_info` (include/uapi/linux/tcp.h), as sent in INET_DIAG_INFO.
//!
//! The kernel copies as much of its struct as it has (net/ipv4/tcp_diag.c
//! `tcp_diag_get_info`): older kernels send a shorter struct, newer ones a
//! longer one. [`TcpInfo`] reads fields in place; a field beyond the bytes
//! the kernel sent reads as `None`, bytes beyond the last field this crate
//! knows stay reachable through [`TcpInfo::bytes`].

use netobs_core::nlattr::field;

/// A borrowed `struct tcp_info`.
#[derive(Clone, Copy, Debug)]
pub struct TcpInfo<'a> {
    b: &'a [u8],
}

macro_rules! fields {
    ($( $(#[$doc:meta])* $name:ident : $ty:ty = $off:expr; )*) => {
        impl<'a> TcpInfo<'a> {
            $(
                $(#[$doc])*
                #[inline]
                pub fn $name(&self) -> Option<$ty> {
                    field::<{ std::mem::size_of::<$ty>() }>(self.b, $off).map(<$ty>::from_ne_bytes)
                }
            )*
        }

        /// Names of every field [`TcpInfo`] knows, with its offset and size,
        /// in struct order (for generic printers and bindings).
        pub const TCP_INFO_FIELDS: &[(&str, usize, usize)] = &[
            $( (stringify!($name), $off, std::mem::size_of::<$ty>()), )*
        ];
    };
}

fields! {
    /// tcpi_state: the TCP state number.
    state: u8 = 0;
    /// tcpi_ca_state: congestion avoidance state (Open, Disorder, CWR, Recovery, Loss).
    ca_state: u8 = 1;
    /// tcpi_retransmits: retransmits of the current timer.
    retransmits: u8 = 2;
    /// tcpi_probes: zero-window or keepalive probes sent unanswered.
    probes: u8 = 3;
    /// tcpi_backoff: exponential backoff of the retransmit timer.
    backoff: u8 = 4;
    /// tcpi_options: TCPI_OPT_* bits (see [`TcpInfo::has_option`]).
    options: u8 = 5;
    /// tcpi_rto: retransmit timeout (µs).
    rto: u32 = 8;
    /// tcpi_ato: delayed-ACK timeout (µs).
    ato: u32 = 12;
    /// tcpi_snd_mss.
    snd_mss: u32 = 16;
    /// tcpi_rcv_mss.
    rcv_mss: u32 = 20;
    /// tcpi_unacked: segments sent and not acknowledged (LISTEN: accept queue).
    unacked: u32 = 24;
    /// tcpi_sacked (LISTEN: backlog limit).
    sacked: u32 = 28;
    /// tcpi_lost.
    lost: u32 = 32;
    /// tcpi_retrans: segments being retransmitted.
    retrans: u32 = 36;
    /// tcpi_fackets (always 0 since 4.15).
    fackets: u32 = 40;
    /// tcpi_last_data_sent: ms since data was last sent.
    last_data_sent: u32 = 44;
    /// tcpi_last_ack_sent (not kept by Linux; 0).
    last_ack_sent: u32 = 48;
    /// tcpi_last_data_recv: ms since data was last received.
    last_data_recv: u32 = 52;
    /// tcpi_last_ack_recv: ms since an ACK was last received.
    last_ack_recv: u32 = 56;
    /// tcpi_pmtu: path MTU.
    pmtu: u32 = 60;
    /// tcpi_rcv_ssthresh.
    rcv_ssthresh: u32 = 64;
    /// tcpi_rtt: smoothed RTT (µs).
    rtt: u32 = 68;
    /// tcpi_rttvar: RTT variance (µs).
    rttvar: u32 = 72;
    /// tcpi_snd_ssthresh (0x7fffffff: infinite).
    snd_ssthresh: u32 = 76;
    /// tcpi_snd_cwnd: congestion window (segments).
    snd_cwnd: u32 = 80;
    /// tcpi_advmss.
    advmss: u32 = 84;
    /// tcpi_reordering.
    reordering: u32 = 88;
    /// tcpi_rcv_rtt: receiver-side RTT estimate (µs).
    rcv_rtt: u32 = 92;
    /// tcpi_rcv_space.
    rcv_space: u32 = 96;
    /// tcpi_total_retrans: all retransmitted segments.
    total_retrans: u32 = 100;
    /// tcpi_pacing_rate (bytes/s; ~0 unlimited).
    pacing_rate: u64 = 104;
    /// tcpi_max_pacing_rate (bytes/s; ~0 unlimited).
    max_pacing_rate: u64 = 112;
    /// tcpi_bytes_acked.
    bytes_acked: u64 = 120;
    /// tcpi_bytes_received.
    bytes_received: u64 = 128;
    /// tcpi_segs_out.
    segs_out: u32 = 136;
    /// tcpi_segs_in.
    segs_in: u32 = 140;
    /// tcpi_notsent_bytes.
    notsent_bytes: u32 = 144;
    /// tcpi_min_rtt (µs; ~0 unknown).
    min_rtt: u32 = 148;
    /// tcpi_data_segs_in.
    data_segs_in: u32 = 152;
    /// tcpi_data_segs_out.
    data_segs_out: u32 = 156;
    /// tcpi_delivery_rate (bytes/s).
    delivery_rate: u64 = 160;
    /// tcpi_busy_time (µs).
    busy_time: u64 = 168;
    /// tcpi_rwnd_limited (µs).
    rwnd_limited: u64 = 176;
    /// tcpi_sndbuf_limited (µs).
    sndbuf_limited: u64 = 184;
    /// tcpi_delivered.
    delivered: u32 = 192;
    /// tcpi_delivered_ce.
    delivered_ce: u32 = 196;
    /// tcpi_bytes_sent.
    bytes_sent: u64 = 200;
    /// tcpi_bytes_retrans.
    bytes_retrans: u64 = 208;
    /// tcpi_dsack_dups.
    dsack_dups: u32 = 216;
    /// tcpi_reord_seen.
    reord_seen: u32 = 220;
    /// tcpi_rcv_ooopack: out-of-order packets received (5.4+).
    rcv_ooopack: u32 = 224;
    /// tcpi_snd_wnd: peer's advertised window (5.4+).
    snd_wnd: u32 = 228;
    /// tcpi_rcv_wnd: our advertised window (6.2+).
    rcv_wnd: u32 = 232;
    /// tcpi_rehash: PLB or timeout rehash attempts (6.2+).
    rehash: u32 = 236;
    /// tcpi_total_rto: RTO timeouts (6.7+).
    total_rto: u16 = 240;
    /// tcpi_total_rto_recoveries (6.7+).
    total_rto_recoveries: u16 = 242;
    /// tcpi_total_rto_time: ms in RTO recovery (6.7+).
    total_rto_time: u32 = 244;
    /// tcpi_received_ce: CE-marked segments received (AccECN, 6.18+).
    received_ce: u32 = 248;
    /// tcpi_delivered_e1_bytes (AccECN).
    delivered_e1_bytes: u32 = 252;
    /// tcpi_delivered_e0_bytes (AccECN).
    delivered_e0_bytes: u32 = 256;
    /// tcpi_delivered_ce_bytes (AccECN).
    delivered_ce_bytes: u32 = 260;
    /// tcpi_received_e1_bytes (AccECN).
    received_e1_bytes: u32 = 264;
    /// tcpi_received_e0_bytes (AccECN).
    received_e0_bytes: u32 = 268;
    /// tcpi_received_ce_bytes (AccECN).
    received_ce_bytes: u32 = 272;
}

/// `(name, value)` of each field of a kernel info struct that the kernel
/// sent, in struct order, ending at the first field beyond the bytes it
/// sent (an older kernel's shorter struct): for generic printers, JSON and
/// table bindings, like `netobs_core::rtnetlink::LinkStats64::fields`.
/// [`TcpInfo::fields`] walks `struct tcp_info`;
/// [`InetSock::mptcp_info_fields`](crate::InetSock::mptcp_info_fields)
/// walks `struct mptcp_info`.
#[derive(Clone, Debug)]
pub struct InfoFields<'a> {
    bytes: &'a [u8],
    layout: &'static [(&'static str, usize, usize)],
    next: usize,
}

impl<'a> InfoFields<'a> {
    /// The fields of `layout` (name, offset, size in bytes: 1, 2, 4 or 8)
    /// read from `bytes`.
    pub fn new(bytes: &'a [u8], layout: &'static [(&'static str, usize, usize)]) -> Self {
        InfoFields { bytes, layout, next: 0 }
    }
}

impl Iterator for InfoFields<'_> {
    type Item = (&'static str, u64);

    fn next(&mut self) -> Option<Self::Item> {
        let &(name, off, size) = self.layout.get(self.next)?;
        let b = self.bytes.get(off..off + size)?;
        let value = match *b {
            [a] => u64::from(a),
            [a, b] => u64::from(u16::from_ne_bytes([a, b])),
            [a, b, c, d] => u64::from(u32::from_ne_bytes([a, b, c, d])),
            [a, b, c, d, e, f, g, h] => u64::from_ne_bytes([a, b, c, d, e, f, g, h]),
            _ => return None,
        };
        self.next += 1;
        Some((name, value))
    }
}

/// TCPI_OPT_TIMESTAMPS.
pub const TCPI_OPT_TIMESTAMPS: u8 = 1;
/// TCPI_OPT_SACK.
pub const TCPI_OPT_SACK: u8 = 2;
/// TCPI_OPT_WSCALE.
pub const TCPI_OPT_WSCALE: u8 = 4;
/// TCPI_OPT_ECN: ECN was negotiated at SYN.
pub const TCPI_OPT_ECN: u8 = 8;
/// TCPI_OPT_ECN_SEEN: at least one ECT packet received.
pub const TCPI_OPT_ECN_SEEN: u8 = 16;
/// TCPI_OPT_SYN_DATA: SYN-ACK acknowledged data in SYN (fastopen).
pub const TCPI_OPT_SYN_DATA: u8 = 32;

impl<'a> TcpInfo<'a> {
    /// A view of the attribute payload.
    pub fn new(b: &'a [u8]) -> Self {
        TcpInfo { b }
    }

    /// The bytes the kernel sent (may be longer than what this crate reads).
    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// Every field of [`TCP_INFO_FIELDS`] the kernel sent, with its value.
    pub fn fields(&self) -> InfoFields<'a> {
        InfoFields::new(self.b, TCP_INFO_FIELDS)
    }

    /// Whether TCPI_OPT_* bit `opt` is set.
    pub fn has_option(&self, opt: u8) -> bool {
        self.options().is_some_and(|o| o & opt != 0)
    }

    /// tcpi_snd_wscale (low nibble of byte 6).
    pub fn snd_wscale(&self) -> Option<u8> {
        self.b.get(6).map(|v| v & 0x0f)
    }

    /// tcpi_rcv_wscale (high nibble of byte 6).
    pub fn rcv_wscale(&self) -> Option<u8> {
        self.b.get(6).map(|v| v >> 4)
    }

    /// tcpi_delivery_rate_app_limited (bit 0 of byte 7).
    pub fn delivery_rate_app_limited(&self) -> Option<bool> {
        self.b.get(7).map(|v| v & 1 != 0)
    }

    /// tcpi_fastopen_client_fail (bits 1-2 of byte 7).
    pub fn fastopen_client_fail(&self) -> Option<u8> {
        self.b.get(7).map(|v| (v >> 1) & 3)
    }
}

/// A `struct tcp_info` kept beyond its dump (the bytes the kernel sent).
/// With the `serde` feature it serializes as an object of the fields the
/// kernel sent ([`TcpInfo::fields`]), in struct order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedTcpInfo(Vec<u8>);

impl OwnedTcpInfo {
    /// A copy of `bytes` (a [`TcpInfo::bytes`]).
    pub fn new(bytes: &[u8]) -> Self {
        OwnedTcpInfo(bytes.to_vec())
    }

    /// The view of the kept bytes.
    pub fn view(&self) -> TcpInfo<'_> {
        TcpInfo::new(&self.0)
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for OwnedTcpInfo {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (name, value) in self.view().fields() {
            m.serialize_entry(name, &value)?;
        }
        m.end()
    }
}
