//! Netlink messages (`struct nlmsghdr`, include/uapi/linux/netlink.h): a
//! header view, an iterator over the messages of one datagram, the
//! NLMSG_ERROR / extended-ack decoder, and the request builder.

use crate::error::{DecodeError, Error};
use crate::nlattr::{align4, Attrs, NLA_F_NESTED, NLA_HDRLEN};

/// Size of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;

/// Netlink message types and flags used here. The values are those of
/// include/uapi/linux/netlink.h (libc has them under the same names).
pub mod consts {
    /// No-op message, skipped.
    pub const NLMSG_NOOP: u16 = libc::NLMSG_NOOP as u16;
    /// Error or acknowledgement.
    pub const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
    /// End of a multipart (dump) answer.
    pub const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
    /// Data lost.
    pub const NLMSG_OVERRUN: u16 = libc::NLMSG_OVERRUN as u16;
    /// It is a request.
    pub const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
    /// Part of a multipart answer, terminated by NLMSG_DONE.
    pub const NLM_F_MULTI: u16 = libc::NLM_F_MULTI as u16;
    /// Ask for an acknowledgement.
    pub const NLM_F_ACK: u16 = libc::NLM_F_ACK as u16;
    /// Dump was inconsistent because of a concurrent change.
    pub const NLM_F_DUMP_INTR: u16 = libc::NLM_F_DUMP_INTR as u16;
    /// Dump the whole table (NLM_F_ROOT | NLM_F_MATCH).
    pub const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
    /// In NLMSG_ERROR: the echoed request was capped to its header.
    pub const NLM_F_CAPPED: u16 = libc::NLM_F_CAPPED as u16;
    /// In NLMSG_ERROR / NLMSG_DONE: extended-ack TLVs follow.
    pub const NLM_F_ACK_TLVS: u16 = libc::NLM_F_ACK_TLVS as u16;
    /// Extended ack: error message string (enum nlmsgerr_attrs).
    pub const NLMSGERR_ATTR_MSG: u16 = 1;
    /// Extended ack: offset of the offending attribute in the request.
    pub const NLMSGERR_ATTR_OFFS: u16 = 2;
}
use consts::*;

/// One netlink message (header and payload), borrowed from a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NlMsg<'a> {
    buf: &'a [u8],
}

impl<'a> NlMsg<'a> {
    /// Checks the header and its length against `buf`; `buf` may hold more
    /// messages after this one.
    pub fn parse(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < NLMSG_HDRLEN {
            return Err(DecodeError::Truncated {
                what: "nlmsghdr",
                offset: 0,
                need: NLMSG_HDRLEN,
                have: buf.len(),
            });
        }
        let len = u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
        if len < NLMSG_HDRLEN || len > buf.len() {
            return Err(DecodeError::BadLength {
                what: "nlmsghdr",
                offset: 0,
                len,
                avail: buf.len(),
            });
        }
        Ok(NlMsg { buf: &buf[..len] })
    }

    fn u16_at(&self, off: usize) -> u16 {
        u16::from_ne_bytes([self.buf[off], self.buf[off + 1]])
    }
    fn u32_at(&self, off: usize) -> u32 {
        u32::from_ne_bytes([self.buf[off], self.buf[off + 1], self.buf[off + 2], self.buf[off + 3]])
    }

    /// `nlmsg_len`: header plus payload.
    pub fn len(&self) -> usize {
        self.buf.len()
    }
    /// Always false: a message has at least its header.
    pub fn is_empty(&self) -> bool {
        false
    }
    /// `nlmsg_type`.
    pub fn kind(&self) -> u16 {
        self.u16_at(4)
    }
    /// `nlmsg_flags`.
    pub fn flags(&self) -> u16 {
        self.u16_at(6)
    }
    /// `nlmsg_seq`.
    pub fn seq(&self) -> u32 {
        self.u32_at(8)
    }
    /// `nlmsg_pid`: the sender's port id (0 for the kernel's unicast replies
    /// it is the requester's port).
    pub fn pid(&self) -> u32 {
        self.u32_at(12)
    }
    /// The bytes after the header.
    pub fn payload(&self) -> &'a [u8] {
        &self.buf[NLMSG_HDRLEN..]
    }
    /// The whole message, header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// Iterates the messages packed in one datagram. Malformed input yields one
/// `Err` and ends the iteration.
#[derive(Clone, Debug)]
pub struct NlMsgs<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> NlMsgs<'a> {
    /// Walks the messages in `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        NlMsgs { buf, pos: 0 }
    }
}

impl<'a> Iterator for NlMsgs<'a> {
    type Item = Result<NlMsg<'a>, DecodeError>;
    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.buf.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        match NlMsg::parse(rest) {
            Ok(m) => {
                self.pos = (self.pos + align4(m.len())).min(self.buf.len());
                Some(Ok(m))
            }
            Err(e) => {
                let at = self.pos;
                self.pos = self.buf.len();
                Some(Err(shift(e, at)))
            }
        }
    }
}

fn shift(e: DecodeError, at: usize) -> DecodeError {
    match e {
        DecodeError::Truncated {
            what,
            offset,
            need,
            have,
        } => DecodeError::Truncated {
            what,
            offset: offset + at,
            need,
            have,
        },
        DecodeError::BadLength {
            what,
            offset,
            len,
            avail,
        } => DecodeError::BadLength {
            what,
            offset: offset + at,
            len,
            avail,
        },
        other => other,
    }
}

/// Decodes an NLMSG_ERROR message (`struct nlmsgerr`) or the status of an
/// NLMSG_DONE message into `Ok(())` for an acknowledgement or the kernel's
/// error with its extended-ack text.
pub fn decode_status(msg: &NlMsg<'_>) -> Result<(), Error> {
    let p = msg.payload();
    if p.len() < 4 {
        // An NLMSG_DONE without status (very old kernels) means success.
        if msg.kind() == NLMSG_DONE {
            return Ok(());
        }
        return Err(DecodeError::Truncated {
            what: "nlmsgerr",
            offset: NLMSG_HDRLEN,
            need: 4,
            have: p.len(),
        }
        .into());
    }
    let code = i32::from_ne_bytes([p[0], p[1], p[2], p[3]]);
    if code == 0 {
        return Ok(());
    }
    let mut text = None;
    let mut offset = None;
    if msg.flags() & NLM_F_ACK_TLVS != 0 {
        // NLMSG_ERROR: error code, then the request's header (only the
        // header when NLM_F_CAPPED), then the TLVs. NLMSG_DONE: code, TLVs.
        let tlv_start = if msg.kind() == NLMSG_ERROR {
            let echoed = p
                .get(4..)
                .and_then(|h| NlMsg::parse(h).ok().map(|m| m.len()))
                .unwrap_or(0);
            let echoed = if msg.flags() & NLM_F_CAPPED != 0 {
                NLMSG_HDRLEN
            } else {
                echoed
            };
            4 + align4(echoed)
        } else {
            4
        };
        for a in Attrs::new(p.get(tlv_start..).unwrap_or(&[])).flatten() {
            match a.kind() {
                NLMSGERR_ATTR_MSG => text = a.str().ok().map(str::to_owned),
                NLMSGERR_ATTR_OFFS => offset = a.u32().ok(),
                _ => {}
            }
        }
    }
    Err(Error::Kernel {
        errno: code.saturating_neg(),
        msg: text,
        offset,
    })
}

/// A reusable request buffer: header, fixed family header, attributes.
///
/// ```
/// use netobs_core::nlmsg::MsgBuf;
/// let mut b = MsgBuf::new();
/// b.begin(18 /* RTM_GETLINK */, 0).push(&[0u8; 16]).attr_u32(29 /* IFLA_EXT_MASK */, 1);
/// assert_eq!(b.bytes().len(), 16 + 16 + 8);
/// ```
#[derive(Default, Debug, Clone)]
pub struct MsgBuf {
    buf: Vec<u8>,
}

impl MsgBuf {
    /// An empty buffer.
    pub fn new() -> Self {
        MsgBuf {
            buf: Vec::with_capacity(256),
        }
    }

    /// Starts a new message of type `kind`, dropping the previous one; the
    /// socket fills in length, sequence number and NLM_F_REQUEST on send.
    pub fn begin(&mut self, kind: u16, flags: u16) -> &mut Self {
        self.buf.clear();
        self.buf.extend_from_slice(&0u32.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&flags.to_ne_bytes());
        self.buf.extend_from_slice(&[0u8; 8]);
        self
    }

    /// Appends raw bytes (a family header such as `ifinfomsg`), padded to 4.
    pub fn push(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        self.pad();
        self
    }

    fn pad(&mut self) {
        let n = align4(self.buf.len());
        self.buf.resize(n, 0);
    }

    /// Appends an attribute.
    pub fn attr(&mut self, kind: u16, data: &[u8]) -> &mut Self {
        let len = (NLA_HDRLEN + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.push(data)
    }
    /// Appends a `u8` attribute.
    pub fn attr_u8(&mut self, kind: u16, v: u8) -> &mut Self {
        self.attr(kind, &[v])
    }
    /// Appends a `u16` attribute.
    pub fn attr_u16(&mut self, kind: u16, v: u16) -> &mut Self {
        self.attr(kind, &v.to_ne_bytes())
    }
    /// Appends a `u32` attribute.
    pub fn attr_u32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.attr(kind, &v.to_ne_bytes())
    }
    /// Appends a NUL-terminated string attribute.
    pub fn attr_str(&mut self, kind: u16, s: &str) -> &mut Self {
        let len = (NLA_HDRLEN + s.len() + 1) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        self.pad();
        self
    }

    /// Opens a nested attribute; close it with [`nest_end`](Self::nest_end).
    pub fn nest_begin(&mut self, kind: u16) -> usize {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf.extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        at
    }

    /// Closes the nested attribute opened at `at`.
    pub fn nest_end(&mut self, at: usize) -> &mut Self {
        let len = (self.buf.len() - at) as u16;
        self.buf[at..at + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// Writes length, flags and sequence number; returns the bytes to send.
    pub(crate) fn finish(&mut self, extra_flags: u16, seq: u32) -> &[u8] {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        let flags = u16::from_ne_bytes([self.buf[6], self.buf[7]]) | extra_flags | NLM_F_REQUEST;
        self.buf[6..8].copy_from_slice(&flags.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        &self.buf
    }

    /// The message as built so far (length not yet filled in).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn builder_and_parser_agree() -> TestResult {
        let mut b = MsgBuf::new();
        b.begin(18, NLM_F_DUMP).push(&[0u8; 16]).attr_str(3, "veth0");
        let nest = b.nest_begin(18);
        b.attr_str(1, "veth").nest_end(nest);
        let bytes = b.finish(0, 7).to_vec();
        let m = NlMsg::parse(&bytes)?;
        assert_eq!(m.kind(), 18);
        assert_eq!(m.seq(), 7);
        assert_eq!(m.flags(), NLM_F_DUMP | NLM_F_REQUEST);
        let attrs = Attrs::new(&m.payload()[16..]).collect::<Result<Vec<_>, _>>()?;
        assert_eq!(attrs[0].str()?, "veth0");
        assert!(attrs[1].is_nested());
        assert_eq!(attrs[1].nested().first(1)?.ok_or("nested")?.str()?, "veth");
        Ok(())
    }

    #[test]
    fn error_with_ext_ack() -> TestResult {
        // nlmsgerr: -ENODEV, capped echo of the request header, then
        // NLMSGERR_ATTR_MSG "no such device".
        let mut p = Vec::new();
        p.extend_from_slice(&(-libc::ENODEV).to_ne_bytes());
        let mut echo = [0u8; 16];
        echo[0..4].copy_from_slice(&64u32.to_ne_bytes());
        p.extend_from_slice(&echo);
        let text = b"no such device\0";
        p.extend_from_slice(&((4 + text.len()) as u16).to_ne_bytes());
        p.extend_from_slice(&NLMSGERR_ATTR_MSG.to_ne_bytes());
        p.extend_from_slice(text);
        p.push(0);
        let mut b = MsgBuf::new();
        b.begin(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS).push(&p);
        let bytes = b.finish(0, 1).to_vec();
        let err = decode_status(&NlMsg::parse(&bytes)?).err().ok_or("an error")?;
        assert_eq!(err.errno(), Some(libc::ENODEV));
        assert!(err.to_string().contains("no such device"), "{err}");
        Ok(())
    }

    #[test]
    fn truncated_messages() {
        assert!(NlMsg::parse(&[0u8; 8]).is_err());
        let mut h = [0u8; 16];
        h[0] = 40;
        assert!(NlMsg::parse(&h).is_err());
        h[0] = 4;
        assert!(NlMsg::parse(&h).is_err());
        let mut it = NlMsgs::new(&h);
        assert!(matches!(it.next(), Some(Err(_))));
        assert!(it.next().is_none());
    }
}
