//! A DNS server of the tests' own: UDP and TCP on one port of 127.0.0.1, on
//! plain threads, scriptable per name, recording every query it receives.
//!
//! It shares no code with the resolver under test: it has its own (small)
//! query parser and response encoder, so a bug in `net::dns::wire` cannot
//! hide itself by being on both ends.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// Query type numbers.
pub const A: u16 = 1;
/// AAAA.
pub const AAAA: u16 = 28;
const CNAME: u16 = 5;
const SOA: u16 = 6;
const OPT: u16 = 41;

/// The data of one scripted record.
#[derive(Clone, Debug)]
pub enum Data {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// An alias to this name.
    Cname(String),
}

/// One scripted answer record.
#[derive(Clone, Debug)]
pub struct Rr {
    /// Owner name.
    pub name: String,
    /// TTL in seconds.
    pub ttl: u32,
    /// The data.
    pub data: Data,
}

/// An A record with a TTL of 300 s.
pub fn a(name: &str, ip: &str) -> Rr {
    Rr {
        name: name.into(),
        ttl: 300,
        data: Data::A(ip.parse().expect("IPv4 literal")),
    }
}

/// An AAAA record with a TTL of 300 s.
pub fn aaaa(name: &str, ip: &str) -> Rr {
    Rr {
        name: name.into(),
        ttl: 300,
        data: Data::Aaaa(ip.parse().expect("IPv6 literal")),
    }
}

/// A CNAME record with a TTL of 300 s.
pub fn cname(name: &str, target: &str) -> Rr {
    Rr {
        name: name.into(),
        ttl: 300,
        data: Data::Cname(target.into()),
    }
}

/// What the server does with a query for a name.
#[derive(Clone, Debug)]
pub enum Reply {
    /// NOERROR with the records of the asked type and every CNAME; with
    /// none of the asked type that is NODATA (an SOA is added).
    Records(Vec<Rr>),
    /// NXDOMAIN with an SOA in the authority section.
    NxDomain,
    /// NXDOMAIN with no SOA (so the answer may not be cached).
    NxDomainNoSoa,
    /// SERVFAIL.
    ServFail,
    /// REFUSED.
    Refused,
    /// Never answers.
    Drop,
    /// Answers after a delay (from another thread; the server goes on).
    Delay(Duration, Box<Reply>),
    /// Over UDP, an empty answer with TC set; over TCP, the reply.
    Truncate(Box<Reply>),
    /// First the reply with the wrong ID and the forged address (6.6.6.6
    /// unless [`DnsServer::set_forged_address`] says otherwise), then the
    /// reply.
    WrongIdFirst(Box<Reply>),
    /// First a response for another name (the forged address), then the
    /// reply.
    WrongQuestionFirst(Box<Reply>),
    /// First the reply with QR clear (not a response), then the reply.
    NotResponseFirst(Box<Reply>),
    /// First a response (the forged address) from another port of the
    /// asker's loopback address, then the reply from the server's port.
    OtherPortFirst(Box<Reply>),
    /// FORMERR (with no question, as old servers send it) to a query with
    /// an OPT record; the reply to one without.
    FormErrOnEdns(Box<Reply>),
    /// Drops the first `n` queries for the name, then gives the reply.
    DropFirst(usize, Box<Reply>),
    /// Only a response for another name (the forged address): over UDP
    /// the resolver must drop it; over TCP it is the server's mistake.
    WrongQuestion,
    /// A response header with the query's ID and QR set that promises a
    /// question and ends there: unparseable, but the server's.
    Garbled,
    /// A response with this RCODE and no records (4: NOTIMP).
    Rcode(u16),
}

impl Reply {
    /// Boxes `self` for the wrapping variants.
    pub fn boxed(self) -> Box<Reply> {
        Box::new(self)
    }
}

/// One query the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The name asked, lower case, no trailing dot.
    pub name: String,
    /// The type asked.
    pub qtype: u16,
    /// Whether the query carried an OPT record.
    pub edns: bool,
    /// Whether it came over TCP.
    pub tcp: bool,
    /// The ID.
    pub id: u16,
    /// The sender.
    pub from: SocketAddr,
}

#[derive(Default)]
struct State {
    scripts: HashMap<(String, Option<u16>), Reply>,
    seen: Vec<Seen>,
    /// Queries per name seen so far, for `DropFirst`.
    counts: HashMap<String, usize>,
    /// SOA TTL/MINIMUM for negative answers.
    negative_ttl: u32,
    /// The address forged answers carry (6.6.6.6 unless set).
    forged: Option<Ipv4Addr>,
}

struct Shared {
    state: Mutex<State>,
    stopped: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The server. Dropping it stops its threads.
pub struct DnsServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl DnsServer {
    /// Starts a server on 127.0.0.1, UDP and TCP on the same port.
    pub fn start() -> DnsServer {
        DnsServer::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// Starts a server on the loopback address `ip` (`::1` for a server
    /// asked over IPv6), UDP and TCP on the same port.
    pub fn start_on(ip: IpAddr) -> DnsServer {
        assert!(ip.is_loopback(), "the tests' DNS server is loopback only");
        let (udp, tcp) = bind_pair(ip);
        let addr = udp.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                negative_ttl: 60,
                ..State::default()
            }),
            stopped: AtomicBool::new(false),
        });
        let udp = Arc::new(udp);
        {
            let shared = shared.clone();
            let udp = udp.clone();
            thread::spawn(move || serve_udp(&udp, &shared));
        }
        {
            let shared = shared.clone();
            thread::spawn(move || serve_tcp(&tcp, &shared));
        }
        DnsServer { addr, shared }
    }

    /// The address, for the resolver's config.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Scripts `reply` for every query for `name` (any type, unless a
    /// per-type script says otherwise).
    pub fn set(&self, name: &str, reply: Reply) {
        self.shared
            .lock()
            .scripts
            .insert((name.to_ascii_lowercase(), None), reply);
    }

    /// Scripts `reply` for queries of type `qtype` for `name`.
    pub fn set_type(&self, name: &str, qtype: u16, reply: Reply) {
        self.shared
            .lock()
            .scripts
            .insert((name.to_ascii_lowercase(), Some(qtype)), reply);
    }

    /// Sets the address that forged answers (`WrongIdFirst`, ...) carry,
    /// instead of 6.6.6.6: tests that run the binary give a loopback
    /// address nothing listens on, so even a forgery taken by mistake is
    /// never followed off the machine.
    pub fn set_forged_address(&self, ip: Ipv4Addr) {
        self.shared.lock().forged = Some(ip);
    }

    /// Sets the SOA TTL and MINIMUM of negative answers (default 60).
    pub fn set_negative_ttl(&self, ttl: u32) {
        self.shared.lock().negative_ttl = ttl;
    }

    /// Every query received so far, in order.
    pub fn queries(&self) -> Vec<Seen> {
        self.shared.lock().seen.clone()
    }

    /// The queries received for `name`.
    pub fn queries_for(&self, name: &str) -> Vec<Seen> {
        let name = name.to_ascii_lowercase();
        self.queries()
            .into_iter()
            .filter(|q| q.name == name)
            .collect()
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake both blocked threads so they see the flag.
        if let Ok(socket) = UdpSocket::bind(SocketAddr::new(self.addr.ip(), 0)) {
            let _ = socket.send_to(b"", self.addr);
        }
        let _ = TcpStream::connect(self.addr);
    }
}

/// Binds UDP on a free port of `ip`, then TCP on the same port; tries
/// again with a new port if a parallel test holds that TCP port.
fn bind_pair(ip: IpAddr) -> (UdpSocket, TcpListener) {
    for _ in 0..64 {
        let udp = UdpSocket::bind(SocketAddr::new(ip, 0)).expect("bind UDP on loopback");
        let addr = udp.local_addr().expect("local addr");
        if let Ok(tcp) = TcpListener::bind(addr) {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP on {ip}");
}

/// A parsed query.
struct Query {
    id: u16,
    name: String,
    /// The name exactly as asked (case kept), for echoing.
    labels: Vec<Vec<u8>>,
    qtype: u16,
    qclass: u16,
    /// The advertised UDP payload size, if an OPT record came.
    edns: Option<u16>,
}

/// Parses a query: header, one uncompressed question, OPT if present.
fn parse_query(msg: &[u8]) -> Option<Query> {
    let u16_at =
        |i: usize| -> Option<u16> { Some(u16::from_be_bytes([*msg.get(i)?, *msg.get(i + 1)?])) };
    let id = u16_at(0)?;
    if u16_at(4)? != 1 {
        return None;
    }
    let arcount = u16_at(10)?;
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*msg.get(pos)?);
        pos += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(msg.get(pos..pos + len)?.to_vec());
        pos += len;
    }
    let qtype = u16_at(pos)?;
    let qclass = u16_at(pos + 2)?;
    pos += 4;
    let mut edns = None;
    for _ in 0..arcount {
        // Our resolver sends only the OPT record: root owner, then fields.
        if *msg.get(pos)? != 0 {
            return None;
        }
        let rtype = u16_at(pos + 1)?;
        let class = u16_at(pos + 3)?;
        let rdlen = usize::from(u16_at(pos + 9)?);
        if rtype == OPT {
            edns = Some(class);
        }
        pos += 11 + rdlen;
    }
    let name = labels
        .iter()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(".");
    Some(Query {
        id,
        name,
        labels,
        qtype,
        qclass,
        edns,
    })
}

fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() {
            continue;
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// Pushes an owner name: a pointer to the question's name (offset 12) when
/// it is that name, so the resolver's decompression is exercised.
fn push_owner(out: &mut Vec<u8>, name: &str, query: &Query) {
    if name.trim_end_matches('.').eq_ignore_ascii_case(&query.name) {
        out.extend_from_slice(&[0xc0, 12]);
    } else {
        push_name(out, name);
    }
}

/// Everything one response needs.
struct Build<'a> {
    query: &'a Query,
    id: u16,
    qr: bool,
    rcode: u16,
    truncated: bool,
    with_question: bool,
    /// Replace the question's name with this one.
    question_name: Option<&'a str>,
    answers: Vec<Rr>,
    soa_ttl: Option<u32>,
}

impl<'a> Build<'a> {
    fn new(query: &'a Query) -> Build<'a> {
        Build {
            query,
            id: query.id,
            qr: true,
            rcode: 0,
            truncated: false,
            with_question: true,
            question_name: None,
            answers: Vec::new(),
            soa_ttl: None,
        }
    }

    fn encode(&self) -> Vec<u8> {
        let q = self.query;
        let mut out = Vec::new();
        out.extend_from_slice(&self.id.to_be_bytes());
        let mut flags: u16 = 0x0100 | 0x0080; // RD echoed, RA
        if self.qr {
            flags |= 0x8000;
        }
        if self.truncated {
            flags |= 0x0200;
        }
        flags |= self.rcode & 0x0f;
        out.extend_from_slice(&flags.to_be_bytes());
        let answers: &[Rr] = if self.truncated { &[] } else { &self.answers };
        let edns = q.edns.is_some() && self.with_question;
        out.extend_from_slice(&u16::from(self.with_question).to_be_bytes());
        out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        let soa = self.soa_ttl.filter(|_| !self.truncated);
        out.extend_from_slice(&u16::from(soa.is_some()).to_be_bytes());
        out.extend_from_slice(&u16::from(edns).to_be_bytes());
        if self.with_question {
            match self.question_name {
                Some(name) => push_name(&mut out, name),
                None => {
                    for label in &q.labels {
                        out.push(label.len() as u8);
                        out.extend_from_slice(label);
                    }
                    out.push(0);
                }
            }
            out.extend_from_slice(&q.qtype.to_be_bytes());
            out.extend_from_slice(&q.qclass.to_be_bytes());
        }
        for rr in answers {
            push_owner(&mut out, &rr.name, q);
            let (rtype, rdata) = match &rr.data {
                Data::A(ip) => (A, ip.octets().to_vec()),
                Data::Aaaa(ip) => (AAAA, ip.octets().to_vec()),
                Data::Cname(target) => {
                    let mut name = Vec::new();
                    push_name(&mut name, target);
                    (CNAME, name)
                }
            };
            out.extend_from_slice(&rtype.to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&rr.ttl.to_be_bytes());
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        if let Some(ttl) = soa {
            // The zone is the question's name; MNAME and RNAME made up.
            out.extend_from_slice(&[0xc0, 12]);
            out.extend_from_slice(&SOA.to_be_bytes());
            out.extend_from_slice(&1u16.to_be_bytes());
            out.extend_from_slice(&ttl.to_be_bytes());
            let mut rdata = Vec::new();
            push_name(&mut rdata, "ns.test");
            push_name(&mut rdata, "hostmaster.test");
            for field in [1u32, 3600, 600, 86400, ttl] {
                rdata.extend_from_slice(&field.to_be_bytes());
            }
            out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
            out.extend_from_slice(&rdata);
        }
        if edns {
            out.push(0);
            out.extend_from_slice(&OPT.to_be_bytes());
            out.extend_from_slice(&4096u16.to_be_bytes());
            out.extend_from_slice(&0u32.to_be_bytes());
            out.extend_from_slice(&0u16.to_be_bytes());
        }
        out
    }
}

/// Where a response goes.
enum Channel<'a> {
    Udp(&'a UdpSocket, SocketAddr),
    Tcp(&'a mut TcpStream),
}

impl Channel<'_> {
    fn send(&mut self, msg: &[u8]) {
        match self {
            Channel::Udp(socket, to) => {
                let _ = socket.send_to(msg, *to);
            }
            Channel::Tcp(stream) => {
                let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
                framed.extend_from_slice(msg);
                let _ = stream.write_all(&framed);
            }
        }
    }

    fn is_tcp(&self) -> bool {
        matches!(self, Channel::Tcp(_))
    }
}

/// The final (non-wrapping) replies, built into a response.
fn build<'a>(query: &'a Query, reply: &Reply, negative_ttl: u32) -> Option<Build<'a>> {
    let mut b = Build::new(query);
    match reply {
        Reply::Records(records) => {
            b.answers = records
                .iter()
                .filter(|rr| match rr.data {
                    Data::A(_) => query.qtype == A,
                    Data::Aaaa(_) => query.qtype == AAAA,
                    Data::Cname(_) => true,
                })
                .cloned()
                .collect();
            let has_data = b
                .answers
                .iter()
                .any(|rr| !matches!(rr.data, Data::Cname(_)));
            if !has_data {
                b.soa_ttl = Some(negative_ttl);
            }
        }
        Reply::NxDomain => {
            b.rcode = 3;
            b.soa_ttl = Some(negative_ttl);
        }
        Reply::NxDomainNoSoa => b.rcode = 3,
        Reply::ServFail => b.rcode = 2,
        Reply::Refused => b.rcode = 5,
        Reply::Rcode(rcode) => b.rcode = *rcode,
        _ => return None,
    }
    Some(b)
}

/// Answers `query` per `reply`, peeling wrappers.
fn respond(query: &Query, reply: &Reply, channel: &mut Channel<'_>, shared: &Arc<Shared>) {
    let (negative_ttl, forged) = {
        let state = shared.lock();
        let forged = state.forged.unwrap_or(Ipv4Addr::new(6, 6, 6, 6));
        (state.negative_ttl, forged)
    };
    let bogus = || {
        let mut b = Build::new(query);
        b.answers = vec![Rr {
            name: query.name.clone(),
            ttl: 300,
            data: Data::A(forged),
        }];
        b
    };
    match reply {
        Reply::Drop => {}
        Reply::Delay(delay, inner) => {
            // Answer from another thread so other queries go on meanwhile.
            if let Channel::Udp(socket, to) = channel {
                let (delay, inner, to) = (*delay, inner.clone(), *to);
                let socket = socket.try_clone().expect("clone UDP socket");
                let query = clone_query(query);
                let shared = shared.clone();
                thread::spawn(move || {
                    thread::sleep(delay);
                    respond(&query, &inner, &mut Channel::Udp(&socket, to), &shared);
                });
            } else {
                thread::sleep(*delay);
                respond(query, inner, channel, shared);
            }
        }
        Reply::Truncate(inner) => {
            if channel.is_tcp() {
                respond(query, inner, channel, shared);
            } else {
                let mut b = Build::new(query);
                b.truncated = true;
                channel.send(&b.encode());
            }
        }
        Reply::WrongIdFirst(inner) => {
            let mut b = bogus();
            b.id = query.id.wrapping_add(1);
            channel.send(&b.encode());
            respond(query, inner, channel, shared);
        }
        Reply::WrongQuestionFirst(inner) => {
            let mut b = bogus();
            b.question_name = Some("evil.test");
            channel.send(&b.encode());
            respond(query, inner, channel, shared);
        }
        Reply::NotResponseFirst(inner) => {
            let mut b = bogus();
            b.qr = false;
            channel.send(&b.encode());
            respond(query, inner, channel, shared);
        }
        Reply::OtherPortFirst(inner) => {
            if let Channel::Udp(_, to) = channel {
                let other =
                    UdpSocket::bind(SocketAddr::new(to.ip(), 0)).expect("bind another port");
                let sent = other
                    .send_to(&bogus().encode(), *to)
                    .expect("send from another port");
                assert!(sent > 0);
            }
            respond(query, inner, channel, shared);
        }
        Reply::FormErrOnEdns(inner) => {
            if query.edns.is_some() {
                let mut b = Build::new(query);
                b.rcode = 1;
                b.with_question = false;
                channel.send(&b.encode());
            } else {
                respond(query, inner, channel, shared);
            }
        }
        Reply::WrongQuestion => {
            let mut b = bogus();
            b.question_name = Some("evil.test");
            channel.send(&b.encode());
        }
        Reply::Garbled => {
            let mut msg = query.id.to_be_bytes().to_vec();
            // QR, RD, RA; one question promised, none sent.
            msg.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]);
            channel.send(&msg);
        }
        Reply::DropFirst(n, inner) => {
            let count = shared.lock().counts.get(&query.name).copied().unwrap_or(0);
            if count > *n {
                respond(query, inner, channel, shared);
            }
        }
        final_reply => {
            if let Some(b) = build(query, final_reply, negative_ttl) {
                let msg = b.encode();
                // Over UDP, a response larger than the asker accepts (512
                // bytes without EDNS) is cut to a TC header and question.
                let limit = usize::from(query.edns.unwrap_or(512).max(512));
                if !channel.is_tcp() && msg.len() > limit {
                    let mut t = Build::new(query);
                    t.truncated = true;
                    channel.send(&t.encode());
                } else {
                    channel.send(&msg);
                }
            }
        }
    }
}

fn clone_query(q: &Query) -> Query {
    Query {
        id: q.id,
        name: q.name.clone(),
        labels: q.labels.clone(),
        qtype: q.qtype,
        qclass: q.qclass,
        edns: q.edns,
    }
}

/// Records the query and finds its script (NXDOMAIN when none).
fn script_for(query: &Query, tcp: bool, from: SocketAddr, shared: &Shared) -> Reply {
    let mut state = shared.lock();
    state.seen.push(Seen {
        name: query.name.clone(),
        qtype: query.qtype,
        edns: query.edns.is_some(),
        tcp,
        id: query.id,
        from,
    });
    *state.counts.entry(query.name.clone()).or_default() += 1;
    state
        .scripts
        .get(&(query.name.clone(), Some(query.qtype)))
        .or_else(|| state.scripts.get(&(query.name.clone(), None)))
        .cloned()
        .unwrap_or(Reply::NxDomain)
}

fn serve_udp(socket: &UdpSocket, shared: &Arc<Shared>) {
    let mut buf = [0u8; 4096];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            return;
        };
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Some(query) = parse_query(&buf[..n]) else {
            continue;
        };
        let reply = script_for(&query, false, from, shared);
        respond(&query, &reply, &mut Channel::Udp(socket, from), shared);
    }
}

fn serve_tcp(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stopped.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut stream) = stream else { continue };
        let shared = shared.clone();
        thread::spawn(move || {
            let from = match stream.peer_addr() {
                Ok(addr) => addr,
                Err(_) => return,
            };
            // One or more length-prefixed queries until the client closes.
            loop {
                let mut len = [0u8; 2];
                if stream.read_exact(&mut len).is_err() {
                    return;
                }
                let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                if stream.read_exact(&mut msg).is_err() {
                    return;
                }
                let Some(query) = parse_query(&msg) else {
                    return;
                };
                let reply = script_for(&query, true, from, &shared);
                respond(&query, &reply, &mut Channel::Tcp(&mut stream), &shared);
            }
        });
    }
}
