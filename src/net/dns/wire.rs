//! The DNS wire format: one query out, one response in (RFC 1035 §4, RFC 6891).
//!
//! This is the part of a stub resolver that libc hides inside `res_mkquery`
//! and `ns_initparse`, and that Python reaches only through `getaddrinfo`.
//! It is written here, byte by byte, because every byte of a response comes
//! from the network: a response is hostile input until proven otherwise.
//!
//! # A message
//!
//! Queries and responses have the same shape: a 12-byte header, then four
//! sections whose lengths the header gives.
//!
//! ```text
//!                                 1  1  1  1  1  1
//!   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! |                      ID                       |  chosen by the asker, echoed
//! |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |  QR: 1 in a response
//! |                    QDCOUNT                    |  questions (1 for us)
//! |                    ANCOUNT                    |  answer records
//! |                    NSCOUNT                    |  authority records (SOA)
//! |                    ARCOUNT                    |  additional records (OPT)
//! +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//! ```
//!
//! A question is a name, a type (A = 1, AAAA = 28) and a class (IN = 1). A
//! record is a name, a type, a class, a TTL in seconds, and `RDLENGTH` bytes
//! of data: 4 for A, 16 for AAAA, a name for CNAME. All integers are
//! big-endian.
//!
//! # Names and compression
//!
//! A name is a run of labels, each a length byte (at most 63) and that many
//! bytes, ended by the zero-length root label: `www.example.com` is
//! `3 www 7 example 3 com 0`, at most 255 bytes in all. To save room, a
//! response may end a name with a *pointer* instead: two bytes whose top two
//! bits are `11` and whose other 14 bits are the offset of an earlier name in
//! the message, whose labels finish this one.
//!
//! Pointers are how a hostile message attacks a parser: a pointer to itself
//! loops for ever, and a chain of them multiplies the work. So a pointer must
//! land strictly before the start of the run of labels it ends (each jump goes
//! further back than the last, so the walk ends), at most
//! [`MAX_POINTER_JUMPS`] jumps are taken per name, and a name stops at 255
//! bytes however it was assembled. Every read checks the message length
//! first; nothing here indexes a slice unchecked, and nothing is allocated in
//! proportion to a count the message claims, only to bytes it really has.
//!
//! # EDNS0
//!
//! Plain DNS over UDP caps a response at 512 bytes. RFC 6891 lets a query
//! carry an OPT pseudo-record in its additional section whose CLASS field is
//! the largest UDP response the asker accepts; we advertise
//! [`EDNS_PAYLOAD`], 1232 bytes, which fits any IPv6 path without
//! fragmentation (DNS Flag Day 2020). The OPT record's TTL field carries the
//! upper 8 bits of a 12-bit RCODE; [`Response::rcode`] is the combined value.
//! A server too old for EDNS answers FORMERR, and the resolver asks again
//! without it.
//!
//! The invariant: [`parse_response`] returns an error, never panics, for any
//! input, and its memory is bounded by the input's length.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The UDP payload size we advertise with EDNS0 (DNS Flag Day 2020).
pub const EDNS_PAYLOAD: u16 = 1232;

/// The most bytes a name takes on the wire, root label included.
pub const MAX_NAME_LEN: usize = 255;

/// The most bytes one label holds.
pub const MAX_LABEL_LEN: usize = 63;

/// The most compression pointers followed while reading one name. Real
/// compressors need a handful; the bound caps the work a hostile message
/// can demand per name.
pub const MAX_POINTER_JUMPS: usize = 16;

/// The fixed header length.
const HEADER_LEN: usize = 12;

/// Class IN (the Internet), the only class we ask about.
pub const CLASS_IN: u16 = 1;

/// The record types this resolver reads; every other type is skipped by its
/// length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RecordType {
    /// An IPv4 address (type 1).
    A,
    /// An IPv6 address (type 28, RFC 3596).
    Aaaa,
    /// An alias: the name's canonical name (type 5).
    Cname,
    /// Start of authority (type 6): its MINIMUM bounds negative caching.
    Soa,
    /// The EDNS0 pseudo-record (type 41, RFC 6891).
    Opt,
    /// Any other type, by number.
    Other(u16),
}

impl RecordType {
    /// The type's number on the wire.
    pub fn code(self) -> u16 {
        match self {
            RecordType::A => 1,
            RecordType::Cname => 5,
            RecordType::Soa => 6,
            RecordType::Aaaa => 28,
            RecordType::Opt => 41,
            RecordType::Other(code) => code,
        }
    }

    /// The type with number `code`.
    pub fn from_code(code: u16) -> RecordType {
        match code {
            1 => RecordType::A,
            5 => RecordType::Cname,
            6 => RecordType::Soa,
            28 => RecordType::Aaaa,
            41 => RecordType::Opt,
            other => RecordType::Other(other),
        }
    }
}

impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordType::A => f.write_str("A"),
            RecordType::Aaaa => f.write_str("AAAA"),
            RecordType::Cname => f.write_str("CNAME"),
            RecordType::Soa => f.write_str("SOA"),
            RecordType::Opt => f.write_str("OPT"),
            RecordType::Other(code) => write!(f, "TYPE{code}"),
        }
    }
}

/// A domain name, held in wire form (length-prefixed labels, no root label)
/// with ASCII letters folded to lower case, so that `==` and hashing are the
/// case-insensitive comparison DNS asks for (RFC 4343).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Name {
    wire: Vec<u8>,
}

/// Why a text name cannot be a DNS name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameError {
    /// The name is empty (or only a dot).
    Empty,
    /// Two dots in a row, or a leading dot: an empty label.
    EmptyLabel,
    /// A label longer than 63 bytes.
    LabelTooLong,
    /// More than 255 bytes on the wire.
    TooLong,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NameError::Empty => "the name is empty",
            NameError::EmptyLabel => "the name has an empty label",
            NameError::LabelTooLong => "a label is longer than 63 bytes",
            NameError::TooLong => "the name is longer than 255 bytes",
        })
    }
}

impl std::error::Error for NameError {}

impl Name {
    /// The root name, `.`.
    pub fn root() -> Name {
        Name { wire: Vec::new() }
    }

    /// Parses dotted text such as `www.example.com`; one trailing dot is
    /// allowed and means the same name. Bytes are taken as they are (no
    /// `\` escapes): host names reach us already in their ASCII (IDNA) form.
    pub fn from_text(text: &str) -> Result<Name, NameError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Err(NameError::Empty);
        }
        let mut wire = Vec::with_capacity(text.len() + 1);
        for label in text.split('.') {
            if label.is_empty() {
                return Err(NameError::EmptyLabel);
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(NameError::LabelTooLong);
            }
            // The label, its length byte, and the root label still to come.
            if wire.len() + 1 + label.len() + 1 > MAX_NAME_LEN {
                return Err(NameError::TooLong);
            }
            wire.push(label.len() as u8);
            wire.extend(label.bytes().map(|b| b.to_ascii_lowercase()));
        }
        Ok(Name { wire })
    }

    /// The labels, first (leftmost) to last.
    pub fn labels(&self) -> Labels<'_> {
        Labels { rest: &self.wire }
    }

    /// True for the root name.
    pub fn is_root(&self) -> bool {
        self.wire.is_empty()
    }

    /// The bytes this name takes on the wire, root label included.
    pub fn wire_len(&self) -> usize {
        self.wire.len() + 1
    }

    /// Appends this name in wire form, root label included, uncompressed.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.wire);
        out.push(0);
    }
}

/// The labels of a [`Name`], from [`Name::labels`].
#[derive(Clone, Debug)]
pub struct Labels<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (&len, rest) = self.rest.split_first()?;
        // A `Name` is only ever built with whole labels, so this split is
        // in range; `get` keeps even a broken invariant from panicking.
        let label = rest.get(..len as usize)?;
        self.rest = rest.get(len as usize..)?;
        Some(label)
    }
}

impl fmt::Display for Name {
    /// Dotted text with a trailing dot omitted; bytes that are not printable
    /// ASCII, and `.` or `\` inside a label, are shown as `\DDD` (RFC 1035
    /// §5.1), so a hostile name cannot drive a terminal or fake a label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            return f.write_str(".");
        }
        for (i, label) in self.labels().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            for &b in label {
                if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                    write!(f, "{}", b as char)?;
                } else {
                    write!(f, "\\{b:03}")?;
                }
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

/// One question: a name, a type and a class.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Question {
    /// The name asked about.
    pub name: Name,
    /// The type asked for.
    pub qtype: RecordType,
    /// The class, [`CLASS_IN`] for every question we ask.
    pub qclass: u16,
}

impl Question {
    /// A question of class IN.
    pub fn new(name: Name, qtype: RecordType) -> Question {
        Question {
            name,
            qtype,
            qclass: CLASS_IN,
        }
    }
}

/// Builds a query message: header with `id` and RD (recursion desired) set,
/// one `question`, and, if `edns` is true, an OPT record in the
/// additional section advertising [`EDNS_PAYLOAD`] bytes.
///
/// `id` must come from a CSPRNG: with the random source port it is all that
/// stands between the asker and a forged answer (RFC 5452).
pub fn encode_query(id: u16, question: &Question, edns: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + question.name.wire_len() + 4 + 11);
    out.extend_from_slice(&id.to_be_bytes());
    // Flags: QR=0 (a query), opcode 0 (QUERY), RD=1; everything else zero.
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // ANCOUNT
    out.extend_from_slice(&0u16.to_be_bytes()); // NSCOUNT
    out.extend_from_slice(&u16::from(edns).to_be_bytes()); // ARCOUNT
    question.name.encode(&mut out);
    out.extend_from_slice(&question.qtype.code().to_be_bytes());
    out.extend_from_slice(&question.qclass.to_be_bytes());
    if edns {
        // The OPT pseudo-record: owner is the root name; CLASS is our UDP
        // payload size; TTL holds the extended RCODE (0), the version (0)
        // and the flags (DO=0, we do not ask for DNSSEC); no options.
        out.push(0);
        out.extend_from_slice(&RecordType::Opt.code().to_be_bytes());
        out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
    }
    out
}

/// The response code: the header's 4 bits, extended by EDNS0 to 12.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    /// 0: no error (the answer may still hold no address: NODATA).
    NoError,
    /// 1: the server could not parse the query (an old server, for EDNS).
    FormErr,
    /// 2: the server failed to get an answer.
    ServFail,
    /// 3: the name does not exist.
    NxDomain,
    /// 4: the server does not do this kind of query.
    NotImp,
    /// 5: the server refuses to answer us.
    Refused,
    /// Any other code.
    Other(u16),
}

impl Rcode {
    fn from_code(code: u16) -> Rcode {
        match code {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            other => Rcode::Other(other),
        }
    }
}

impl fmt::Display for Rcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rcode::NoError => f.write_str("NOERROR"),
            Rcode::FormErr => f.write_str("FORMERR"),
            Rcode::ServFail => f.write_str("SERVFAIL"),
            Rcode::NxDomain => f.write_str("NXDOMAIN"),
            Rcode::NotImp => f.write_str("NOTIMP"),
            Rcode::Refused => f.write_str("REFUSED"),
            Rcode::Other(code) => write!(f, "RCODE{code}"),
        }
    }
}

/// The header fields a resolver acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The ID, which must be the one we sent.
    pub id: u16,
    /// QR: set in a response, clear in a query.
    pub response: bool,
    /// The opcode; 0 (QUERY) for an answer to our query.
    pub opcode: u8,
    /// AA: the answer comes from an authoritative server.
    pub authoritative: bool,
    /// TC: the answer did not fit and was truncated; ask again over TCP.
    pub truncated: bool,
    /// RA: the server offers recursion.
    pub recursion_available: bool,
}

/// What a record holds, for the types we read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name the owner is an alias of.
    Cname(Name),
}

/// One answer record we can use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The owner name.
    pub name: Name,
    /// Seconds the record may be cached (RFC 2181 §8: a value with the top
    /// bit set is read as 0).
    pub ttl: u32,
    /// The data.
    pub data: RecordData,
}

/// A parsed response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// The header.
    pub header: Header,
    /// The full response code, EDNS0's extension included.
    pub rcode: Rcode,
    /// The question echoed back; `None` if the server sent none (FORMERR
    /// answers often do not).
    pub question: Option<Question>,
    /// The A, AAAA and CNAME records of class IN in the answer section, in
    /// message order. Other records are skipped. Empty when truncated.
    pub answers: Vec<Record>,
    /// From an SOA record in the authority section: how long a negative
    /// answer may be cached, `min(SOA TTL, SOA MINIMUM)` (RFC 2308 §5).
    pub negative_ttl: Option<u32>,
    /// The UDP payload size the server advertised, if it sent an OPT record.
    pub edns_payload: Option<u16>,
}

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The message ends inside a field that starts at `offset`.
    Truncated {
        /// Where the cut field starts.
        offset: usize,
    },
    /// A compression pointer at `offset` does not point backwards, before
    /// the labels it ends.
    ForwardPointer {
        /// Where the pointer is.
        offset: usize,
    },
    /// A name needs more than [`MAX_POINTER_JUMPS`] pointers.
    TooManyPointers,
    /// A name is longer than 255 bytes.
    NameTooLong,
    /// A label type other than a plain label or a pointer (`01`, `10`).
    BadLabelType {
        /// Where the label starts.
        offset: usize,
    },
    /// A response to one question must carry at most one.
    QuestionCount(u16),
    /// A record's data length does not fit its type (an A record of 5
    /// bytes, a CNAME whose name overruns its data).
    BadRecordData {
        /// The record's type.
        rtype: RecordType,
        /// Where the record's data starts.
        offset: usize,
    },
    /// More than one OPT record (RFC 6891 §6.1.1).
    DuplicateOpt,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::Truncated { offset } => {
                write!(f, "the message ends inside a field at byte {offset}")
            }
            WireError::ForwardPointer { offset } => write!(
                f,
                "the compression pointer at byte {offset} does not point backwards"
            ),
            WireError::TooManyPointers => write!(
                f,
                "a name needs more than {MAX_POINTER_JUMPS} compression pointers"
            ),
            WireError::NameTooLong => f.write_str("a name is longer than 255 bytes"),
            WireError::BadLabelType { offset } => {
                write!(f, "unknown label type at byte {offset}")
            }
            WireError::QuestionCount(n) => write!(f, "{n} questions in one response"),
            WireError::BadRecordData { rtype, offset } => {
                write!(f, "malformed {rtype} record data at byte {offset}")
            }
            WireError::DuplicateOpt => f.write_str("more than one OPT record"),
        }
    }
}

impl std::error::Error for WireError {}

/// A cursor over a message: every read checks the length first.
struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let truncated = WireError::Truncated { offset: self.pos };
        let end = self.pos.checked_add(n).ok_or(truncated)?;
        let bytes = self.msg.get(self.pos..end).ok_or(truncated)?;
        self.pos = end;
        Ok(bytes)
    }

    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.bytes(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads a possibly compressed name and leaves the cursor after it:
    /// after its root label, or after its first pointer.
    fn name(&mut self) -> Result<Name, WireError> {
        let mut wire = Vec::new();
        let mut pos = self.pos;
        // The start of the run of labels being read: a pointer must land
        // before it, so every jump goes further back and the walk ends.
        let mut run_start = self.pos;
        // Where the cursor resumes: just after the first pointer, if any.
        let mut resume = None;
        let mut jumps = 0;
        loop {
            let len = *self
                .msg
                .get(pos)
                .ok_or(WireError::Truncated { offset: pos })?;
            match len >> 6 {
                0b00 if len == 0 => {
                    // The root label ends the name.
                    pos += 1;
                    break;
                }
                0b00 => {
                    let len = usize::from(len);
                    let label = self
                        .msg
                        .get(pos + 1..pos + 1 + len)
                        .ok_or(WireError::Truncated { offset: pos })?;
                    if wire.len() + 1 + len + 1 > MAX_NAME_LEN {
                        return Err(WireError::NameTooLong);
                    }
                    wire.push(len as u8);
                    wire.extend(label.iter().map(u8::to_ascii_lowercase));
                    pos += 1 + len;
                }
                0b11 => {
                    let low = *self
                        .msg
                        .get(pos + 1)
                        .ok_or(WireError::Truncated { offset: pos })?;
                    let target = (usize::from(len & 0x3f) << 8) | usize::from(low);
                    if target >= run_start {
                        return Err(WireError::ForwardPointer { offset: pos });
                    }
                    jumps += 1;
                    if jumps > MAX_POINTER_JUMPS {
                        return Err(WireError::TooManyPointers);
                    }
                    resume.get_or_insert(pos + 2);
                    pos = target;
                    run_start = target;
                }
                // 01 (RFC 6891's obsolete extended labels) and 10 (reserved).
                _ => return Err(WireError::BadLabelType { offset: pos }),
            }
        }
        self.pos = resume.unwrap_or(pos);
        Ok(Name { wire })
    }

    /// Reads a record's fixed part after its name: type, class, TTL and the
    /// data's bounds. Leaves the cursor after the data.
    fn record_header(&mut self) -> Result<RecordHeader, WireError> {
        let rtype = RecordType::from_code(self.u16()?);
        let class = self.u16()?;
        let ttl = self.u32()?;
        let rdlength = usize::from(self.u16()?);
        let start = self.pos;
        self.bytes(rdlength)?;
        Ok(RecordHeader {
            rtype,
            class,
            ttl,
            start,
            end: start + rdlength,
        })
    }
}

/// A record's fixed fields and where its data lies in the message.
struct RecordHeader {
    rtype: RecordType,
    class: u16,
    ttl: u32,
    start: usize,
    end: usize,
}

impl RecordHeader {
    /// The data as bytes.
    fn data<'a>(&self, msg: &'a [u8]) -> &'a [u8] {
        // Both bounds were checked by `Reader::bytes`.
        msg.get(self.start..self.end).unwrap_or_default()
    }

    /// Reads a name that must fill the data exactly (a CNAME target).
    fn name_in_data(&self, msg: &[u8]) -> Result<Name, WireError> {
        let mut data = Reader {
            msg,
            pos: self.start,
        };
        let name = data.name()?;
        if data.pos != self.end {
            return Err(self.bad());
        }
        Ok(name)
    }

    /// The data of an answer record we keep (A, AAAA, CNAME of class
    /// IN), or `None` for any other record.
    fn answer_data(&self, msg: &[u8]) -> Result<Option<RecordData>, WireError> {
        if self.class != CLASS_IN {
            return Ok(None);
        }
        let data = match self.rtype {
            RecordType::A => {
                let b: [u8; 4] = self.data(msg).try_into().map_err(|_| self.bad())?;
                RecordData::A(Ipv4Addr::from(b))
            }
            RecordType::Aaaa => {
                let b: [u8; 16] = self.data(msg).try_into().map_err(|_| self.bad())?;
                RecordData::Aaaa(Ipv6Addr::from(b))
            }
            RecordType::Cname => RecordData::Cname(self.name_in_data(msg)?),
            _ => return Ok(None),
        };
        Ok(Some(data))
    }

    /// For an SOA record of class IN, how long the absence of an answer
    /// may be cached (RFC 2308: the smaller of its TTL and its MINIMUM);
    /// `None` for any other record.
    fn soa_negative_ttl(&self, msg: &[u8]) -> Result<Option<u32>, WireError> {
        if self.rtype != RecordType::Soa || self.class != CLASS_IN {
            return Ok(None);
        }
        // SOA data: MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM.
        let mut data = Reader {
            msg,
            pos: self.start,
        };
        data.name()?;
        data.name()?;
        if data.pos + 20 != self.end {
            return Err(self.bad());
        }
        data.bytes(16)?;
        let minimum = data.u32()?;
        Ok(Some(clamp_ttl(self.ttl).min(clamp_ttl(minimum))))
    }

    fn bad(&self) -> WireError {
        WireError::BadRecordData {
            rtype: self.rtype,
            offset: self.start,
        }
    }
}

/// RFC 2181 §8: a TTL with the top bit set is to be read as zero.
fn clamp_ttl(ttl: u32) -> u32 {
    if ttl > i32::MAX as u32 {
        0
    } else {
        ttl
    }
}

/// Parses a response. Checks only the format: whether it answers *our*
/// query (ID, QR, question) is for the caller to decide, see
/// [`Response::answers`] and the resolver.
///
/// A truncated response (TC set) is parsed up to its question only: its
/// sections may be cut anywhere, and the caller asks again over TCP anyway.
pub fn parse_response(msg: &[u8]) -> Result<Response, WireError> {
    let mut r = Reader { msg, pos: 0 };

    // 1. The header: ID, flags, and the four section counts.
    let id = r.u16()?;
    let flags = r.u16()?;
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    let nscount = r.u16()?;
    let arcount = r.u16()?;
    let header = Header {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0x0f) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        recursion_available: flags & 0x0080 != 0,
    };
    let mut rcode = flags & 0x000f;

    // 2. The question: a response echoes the one we asked, or none at all.
    let question = match qdcount {
        0 => None,
        1 => {
            let name = r.name()?;
            let qtype = RecordType::from_code(r.u16()?);
            let qclass = r.u16()?;
            Some(Question {
                name,
                qtype,
                qclass,
            })
        }
        n => return Err(WireError::QuestionCount(n)),
    };

    let mut response = Response {
        header,
        rcode: Rcode::from_code(rcode),
        question,
        answers: Vec::new(),
        negative_ttl: None,
        edns_payload: None,
    };
    if header.truncated {
        return Ok(response);
    }

    // 3. The answer section: keep A, AAAA and CNAME of class IN. Reserve
    //    room only for as many records as the bytes left could hold (a
    //    record takes at least 11 bytes), never for the claimed count.
    let room = (msg.len() - r.pos) / 11;
    response.answers.reserve(usize::from(ancount).min(room));
    for _ in 0..ancount {
        let name = r.name()?;
        let rr = r.record_header()?;
        let Some(data) = rr.answer_data(msg)? else {
            continue;
        };
        response.answers.push(Record {
            name,
            ttl: clamp_ttl(rr.ttl),
            data,
        });
    }

    // 4. The authority section: an SOA here says how long the absence of
    //    an answer may be cached.
    for _ in 0..nscount {
        r.name()?;
        let rr = r.record_header()?;
        let Some(ttl) = rr.soa_negative_ttl(msg)? else {
            continue;
        };
        response.negative_ttl = Some(response.negative_ttl.map_or(ttl, |t| t.min(ttl)));
    }

    // 5. The additional section: only the OPT record matters to us.
    for _ in 0..arcount {
        let owner = r.name()?;
        let rr = r.record_header()?;
        if rr.rtype != RecordType::Opt {
            continue;
        }
        if response.edns_payload.is_some() {
            return Err(WireError::DuplicateOpt);
        }
        if !owner.is_root() {
            return Err(rr.bad());
        }
        // TTL = extended RCODE (8 bits) | version (8) | flags (16).
        rcode |= ((rr.ttl >> 24) as u16) << 4;
        response.edns_payload = Some(rr.class);
    }
    response.rcode = Rcode::from_code(rcode);
    Ok(response)
}

/// The addresses one response gives for a name, after its CNAME chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The name the addresses belong to: the end of the chain.
    pub canonical: Name,
    /// The addresses, in message order, without duplicates.
    pub addresses: Vec<IpAddr>,
    /// The smallest TTL among the records used, links included.
    pub ttl: u32,
}

/// A CNAME chain longer than the limit (or a loop).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTooLong {
    /// The limit that was passed.
    pub limit: usize,
}

impl fmt::Display for ChainTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a CNAME chain longer than {} links", self.limit)
    }
}

impl std::error::Error for ChainTooLong {}

impl Response {
    /// True when this response answers `question` sent with `id`: QR set,
    /// opcode QUERY, the same ID, and the same question (name compared
    /// case-insensitively, type, class).
    pub fn answers(&self, id: u16, question: &Question) -> bool {
        self.header.response
            && self.header.opcode == 0
            && self.header.id == id
            && self.question.as_ref() == Some(question)
    }

    /// Follows `name`'s CNAME chain through the answer section, at most
    /// `max_links` links, and collects the records of type `qtype` at its
    /// end. The chain is followed inside this one response only; a chain
    /// that leaves it ends with no addresses (the server should have
    /// followed it for us: we asked for recursion).
    pub fn follow(
        &self,
        name: &Name,
        qtype: RecordType,
        max_links: usize,
    ) -> Result<Answer, ChainTooLong> {
        let mut current = name;
        let mut ttl = u32::MAX;
        let mut links = 0;
        loop {
            let mut addresses = Vec::new();
            let mut alias = None;
            for record in self.answers.iter().filter(|r| &r.name == current) {
                let ip = match (&record.data, qtype) {
                    (RecordData::A(ip), RecordType::A) => IpAddr::V4(*ip),
                    (RecordData::Aaaa(ip), RecordType::Aaaa) => IpAddr::V6(*ip),
                    (RecordData::Cname(target), _) => {
                        alias.get_or_insert((target, record.ttl));
                        continue;
                    }
                    _ => continue,
                };
                ttl = ttl.min(record.ttl);
                if !addresses.contains(&ip) {
                    addresses.push(ip);
                }
            }
            match alias {
                Some((target, link_ttl)) if addresses.is_empty() => {
                    links += 1;
                    if links > max_links {
                        return Err(ChainTooLong { limit: max_links });
                    }
                    ttl = ttl.min(link_ttl);
                    current = target;
                }
                _ => {
                    return Ok(Answer {
                        canonical: current.clone(),
                        addresses,
                        ttl: if ttl == u32::MAX { 0 } else { ttl },
                    })
                }
            }
        }
    }
}
