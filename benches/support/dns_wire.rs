//! The DNS bytes of the DNS bench: the names asked, the addresses each
//! must resolve to, the responder's answer, and the query and parser of
//! the thread-pool stand-in.
//!
//! Name `i` is `h<i>.dns.bench.test` (`.test` is reserved, RFC 6761). Its
//! A record is `10.x.y.z` with `i` in the low 24 bits, its AAAA record
//! `fd00::<i>` (a unique local address with `i` in the last 32 bits), so a
//! client that got another name's answer, or half of one, is caught by
//! [`check`]. Any other name is NXDOMAIN.
//!
//! This is deliberately not the crate's `net::dns::wire`: the responder
//! must not share a parser with the resolver it measures, or a bug could
//! hide itself by being on both ends. It is small and does no allocation
//! in the responder's path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Record type A.
pub const TYPE_A: u16 = 1;
/// Record type AAAA.
pub const TYPE_AAAA: u16 = 28;
/// The EDNS0 pseudo-record.
const TYPE_OPT: u16 = 41;
/// Class IN.
const CLASS_IN: u16 = 1;
/// The TTL of every answer.
const TTL: u32 = 300;
/// The UDP payload size the responder advertises when asked with EDNS0.
const EDNS_PAYLOAD: u16 = 1232;
/// Every name asked ends with this.
const SUFFIX: &str = "dns.bench.test";
/// Names `0..MAX_NAMES` have distinct addresses.
pub const MAX_NAMES: usize = 1 << 24;

/// The RCODEs the responder sends.
const NOERROR: u16 = 0;
const NXDOMAIN: u16 = 3;

/// Name number `i`.
pub fn name(i: usize) -> String {
    format!("h{i}.{SUFFIX}")
}

/// The IPv4 address of name `i`.
pub fn v4(i: usize) -> Ipv4Addr {
    Ipv4Addr::from(0x0a00_0000 | (i as u32 & 0x00ff_ffff))
}

/// The IPv6 address of name `i`.
pub fn v6(i: usize) -> Ipv6Addr {
    Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, (i >> 16) as u16, i as u16)
}

/// Whether `addresses` are exactly name `i`'s: its A address, and with
/// `both` its AAAA address too, in any order.
pub fn check(i: usize, addresses: &[IpAddr], both: bool) -> Result<(), String> {
    let mut want = vec![IpAddr::V4(v4(i))];
    if both {
        want.push(IpAddr::V6(v6(i)));
    }
    let mut got = addresses.to_vec();
    got.sort();
    want.sort();
    if got == want {
        Ok(())
    } else {
        Err(format!("{}: got {got:?}, want {want:?}", name(i)))
    }
}

fn u16_at(msg: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.get(at)?, *msg.get(at + 1)?]))
}

/// The name number a query's name (uncompressed wire labels) stands for:
/// `h<digits>` followed by the labels of [`SUFFIX`], any case.
fn index_of(labels: &[u8]) -> Option<usize> {
    let first = usize::from(*labels.first()?);
    let label = labels.get(1..1 + first)?;
    let digits = label.strip_prefix(b"h").or(label.strip_prefix(b"H"))?;
    if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let i = digits
        .iter()
        .fold(0usize, |n, d| n * 10 + usize::from(d - b'0'));
    let mut rest = &labels[1 + first..];
    for want in SUFFIX.split('.') {
        let len = usize::from(*rest.first()?);
        let label = rest.get(1..1 + len)?;
        if !label.eq_ignore_ascii_case(want.as_bytes()) {
            return None;
        }
        rest = &rest[1 + len..];
    }
    (rest == [0] && i < MAX_NAMES).then_some(i)
}

/// The responder's answer to `query`, written to `out` (cleared first).
/// Returns false, writing nothing, for a datagram that is not a standard
/// query with one question in uncompressed labels: the responder drops it.
///
/// A query for `h<i>.dns.bench.test` gets NOERROR with one A record (type
/// A) or one AAAA record (type AAAA), or NODATA for any other type; any
/// other name gets NXDOMAIN. No SOA is sent with either negative answer.
/// A query with an EDNS0 OPT record gets one back.
pub fn respond(query: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    let (Some(id), Some(flags), Some(qdcount), Some(arcount)) = (
        u16_at(query, 0),
        u16_at(query, 2),
        u16_at(query, 4),
        u16_at(query, 10),
    ) else {
        return false;
    };
    // QR clear, opcode QUERY, exactly one question.
    if flags & 0xf800 != 0 || qdcount != 1 {
        return false;
    }
    // The question's name: plain labels up to the root (no pointers in a
    // query), at most 255 bytes.
    let mut at = 12;
    loop {
        let Some(&len) = query.get(at) else {
            return false;
        };
        if len & 0xc0 != 0 || at - 12 > 255 {
            return false;
        }
        at += 1 + usize::from(len);
        if len == 0 {
            break;
        }
    }
    let labels = &query[12..at];
    let (Some(qtype), Some(qclass)) = (u16_at(query, at), u16_at(query, at + 2)) else {
        return false;
    };
    let question_end = at + 4;
    // EDNS0: an OPT record, owner the root, first in the additional section.
    let edns = arcount >= 1
        && query.get(question_end) == Some(&0)
        && u16_at(query, question_end + 1) == Some(TYPE_OPT);

    let index = index_of(labels);
    let rdata: Option<[u8; 16]> = match (index, qclass, qtype) {
        (Some(i), CLASS_IN, TYPE_A) => {
            let mut data = [0u8; 16];
            data[..4].copy_from_slice(&v4(i).octets());
            Some(data)
        }
        (Some(i), CLASS_IN, TYPE_AAAA) => Some(v6(i).octets()),
        _ => None,
    };
    let rcode = if index.is_some() { NOERROR } else { NXDOMAIN };
    // QR, AA, RD copied, RA.
    let flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode;
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::from(rdata.is_some()).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&u16::from(edns).to_be_bytes());
    out.extend_from_slice(&query[12..question_end]);
    if let Some(data) = rdata {
        let len: u16 = if qtype == TYPE_A { 4 } else { 16 };
        out.extend_from_slice(&[0xc0, 12]); // a pointer to the question's name
        out.extend_from_slice(&qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&data[..usize::from(len)]);
    }
    if edns {
        out.push(0);
        out.extend_from_slice(&TYPE_OPT.to_be_bytes());
        out.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u16.to_be_bytes());
    }
    true
}

/// A query for `host` of type `qtype` with ID `id`, written to `out`
/// (cleared first): RD set, no EDNS0, as glibc sends without
/// `options edns0`.
#[allow(dead_code)] // used by the pool stand-in only
pub fn encode_query(out: &mut Vec<u8>, id: u16, host: &str, qtype: u16) {
    out.clear();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in host.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
}

/// What one received datagram is to a query.
#[derive(Debug)]
#[allow(dead_code)] // used by the pool stand-in only
pub enum Parsed {
    /// Not an answer to it (another ID, QR clear, another question):
    /// dropped, as glibc's `res_queriesmatch` drops it.
    NotOurs,
    /// Its answer: the address of the asked type, or why there is none.
    Answer(Result<IpAddr, String>),
}

/// Reads `msg` as the answer to `query` (made by [`encode_query`]): the
/// header, the echoed question (byte for byte), and each answer record,
/// taking the first address of the asked type.
#[allow(dead_code)] // used by the pool stand-in only
pub fn parse_answer(msg: &[u8], query: &[u8]) -> Parsed {
    let (Some(id), Some(flags), Some(qdcount), Some(ancount)) = (
        u16_at(msg, 0),
        u16_at(msg, 2),
        u16_at(msg, 4),
        u16_at(msg, 6),
    ) else {
        return Parsed::NotOurs;
    };
    let question = &query[12..];
    if Some(id) != u16_at(query, 0)
        || flags & 0x8000 == 0
        || qdcount != 1
        || msg.get(12..12 + question.len()) != Some(question)
    {
        return Parsed::NotOurs;
    }
    let qtype = u16_at(query, query.len() - 4).unwrap_or_default();
    match flags & 0x000f {
        NOERROR => {}
        NXDOMAIN => return Parsed::Answer(Err("NXDOMAIN".into())),
        rcode => return Parsed::Answer(Err(format!("rcode {rcode}"))),
    }
    let mut at = 12 + question.len();
    for _ in 0..ancount {
        // The owner name: labels, ending at the root or at a pointer.
        loop {
            match msg.get(at) {
                None => return Parsed::Answer(Err("truncated record".into())),
                Some(0) => {
                    at += 1;
                    break;
                }
                Some(&len) if len & 0xc0 == 0xc0 => {
                    at += 2;
                    break;
                }
                Some(&len) => at += 1 + usize::from(len),
            }
        }
        let (Some(rtype), Some(rdlen)) = (u16_at(msg, at), u16_at(msg, at + 8)) else {
            return Parsed::Answer(Err("truncated record".into()));
        };
        let start = at + 10;
        let Some(rdata) = msg.get(start..start + usize::from(rdlen)) else {
            return Parsed::Answer(Err("truncated record data".into()));
        };
        match (rtype, rtype == qtype, rdata.len()) {
            (TYPE_A, true, 4) => {
                let octets: [u8; 4] = rdata.try_into().expect("four bytes");
                return Parsed::Answer(Ok(IpAddr::from(octets)));
            }
            (TYPE_AAAA, true, 16) => {
                let octets: [u8; 16] = rdata.try_into().expect("sixteen bytes");
                return Parsed::Answer(Ok(IpAddr::from(octets)));
            }
            _ => at = start + usize::from(rdlen),
        }
    }
    Parsed::Answer(Err("NODATA".into()))
}
