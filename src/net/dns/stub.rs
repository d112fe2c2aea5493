//! The stub resolver on the loop: what `getaddrinfo` does for a name, with
//! no thread blocked.
//!
//! A C program resolves a name by calling `getaddrinfo(3)`, which blocks
//! its thread in glibc's `res_nsend` until an answer or a timeout; asyncio
//! hands that call to a thread pool (`run_in_executor`), and so does our
//! [`super::Resolver`]. This resolver instead speaks DNS itself, on UDP
//! sockets registered with our reactor, so a thousand lookups in flight
//! cost a socket per question and a map entry per name, not a thousand
//! threads, and a name whose servers never answer costs its own timeout
//! and nobody else's.
//!
//! # How one lookup travels
//!
//! ```text
//!  lookup("www")                                  (polled by the caller)
//!    ├─ IP literal                        -> answered at once, no query
//!    ├─ not a DNS name (empty label, ...) -> InvalidName, no query
//!    ├─ localhost, *.localhost, *.invalid -> answered at once, no query
//!    ├─ nsswitch source we cannot serve   -> Unsupported: ask getaddrinfo
//!    ├─ hosts table (if `files` is first) -> answered at once
//!    ├─ cache: fresh entry                -> answered at once (a cache hit)
//!    │         entry in flight            -> wait on it (deduplicated)
//!    └─ spawn one resolving task per name:
//!         1. wait for a permit            (at most `max_in_flight` names at once, FIFO)
//!         2. for each candidate name      (search list and ndots, as glibc)
//!              ask A and AAAA at once     (each family published as soon as it is final)
//!              for each round of `attempts`, for each server (rotated with `rotate`):
//!                 new UDP socket, connect (random source port), send (random ID)
//!                 wait for the answer or this try's timer (`timeout`)
//!                   wrong source / ID / question / QR -> count, drop, keep waiting
//!                   TC set   -> ask again over TCP, same server
//!                   FORMERR to EDNS -> ask again without EDNS, same server
//!                   SERVFAIL, REFUSED -> next server
//!                   NOERROR, NXDOMAIN -> this candidate's answer
//!         3. fill the entry, wake every waiter, cache for the TTL
//! ```
//!
//! # Anti-spoofing (RFC 5452)
//!
//! A forger off the path must guess, for each query, a fresh 16-bit ID from
//! the OS's CSPRNG and the kernel's random ephemeral source port, and must
//! also send from the server's address and port and echo our question. So
//! an answer is accepted only when QR is set, the opcode is QUERY, and the
//! ID, the question (name compared case-insensitively, type, class) and the
//! source address all match. The connected socket makes the kernel drop
//! datagrams from any other source; the source is checked again here all
//! the same. A mismatch is counted, logged at debug level, and dropped, and
//! the try keeps waiting for the real answer until its timer fires: a
//! forged packet cannot even cut a lookup short. Three things end a try
//! without a matching question, each needing our ID or our port, which
//! only the server or someone on the path sees: FORMERR, which old servers
//! send without the question (as in glibc, it only makes us ask again
//! without EDNS); a datagram with our ID and QR set that does not parse
//! (the server's broken answer); and an ICMP "port unreachable", which the
//! connected socket reports as a refused `recv`.
//!
//! # Search list and ndots
//!
//! A name with a trailing dot is absolute: asked as it is, once. Otherwise,
//! with at least `ndots` dots it is asked as it is first, then with each
//! search domain appended; with fewer, the search domains come first and
//! the name as it is last. The first candidate for which either family has
//! an address ends the search, as does a timeout or a broken answer (the
//! server is the problem, not the name). When every candidate fails, the
//! error is glibc's choice: NODATA if some candidate exists, else SERVFAIL
//! or REFUSED if a server failed, else the last NXDOMAIN.
//!
//! # Caching
//!
//! Positive answers are kept for their smallest TTL along the CNAME chain.
//! Negative answers (NXDOMAIN, NODATA) are kept per RFC 2308 for
//! `min(SOA TTL, SOA MINIMUM)` when the server sent an SOA, and not at all
//! without one. Failures are never kept. A name's entry lives as long as
//! the shorter-lived of its two families. Entries are keyed by the host as
//! asked, in lower case: `www` and `www.` are different keys, since the
//! search list treats them differently.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::cache::{Cache, Entry, Outcome};
use super::conf::ConfError;
use super::error::{BadResponse, IpFamily, LookupError, Origin};
use super::hosts::HostsTable;
use super::limiter::Limiter;
use super::nsswitch::{NsSwitch, Source};
use super::pool::{Addresses, CACHE_CAPACITY};
use super::resolv_conf::ResolvConf;
use super::wire::{self, Name, Question, Rcode, RecordType, Response};
use crate::net::{TcpStream, UdpSocket};
use crate::runtime::{sleep_until, spawn_detached, timeout};

/// The most CNAME links followed inside one answer.
pub const MAX_CNAME_LINKS: usize = 8;

/// The default bound on names resolved on the network at once.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 1000;

/// The largest DNS message: over TCP its length is a 16-bit number, and
/// no UDP datagram is longer either.
const MAX_MESSAGE: usize = 65_535;

/// Everything the resolver needs to know, built explicitly (tests, flags)
/// or from the system's files ([`ResolverConfig::system`]).
#[derive(Clone, Debug)]
pub struct ResolverConfig {
    /// Servers with their ports, in order. Empty: every lookup that needs
    /// the network times out at once.
    pub nameservers: Vec<SocketAddr>,
    /// Search domains, as in resolv.conf.
    pub search: Vec<String>,
    /// Dots a name needs to be asked as it is before the search list.
    pub ndots: u8,
    /// How long one try waits for its answer.
    pub timeout: Duration,
    /// Rounds over all servers (at least 1).
    pub attempts: u8,
    /// Start each question at the next server in turn.
    pub rotate: bool,
    /// Send EDNS0 (advertising 1232 bytes); servers that answer FORMERR
    /// are asked again without it, and from then on.
    pub edns0: bool,
    /// Ask no AAAA questions: IPv6 lookups answer NODATA at once.
    pub no_aaaa: bool,
    /// Names with fixed addresses.
    pub hosts: HostsTable,
    /// The order of the hosts table and DNS, and the sources we cannot
    /// serve.
    pub nsswitch: NsSwitch,
    /// The machine's own name, for nsswitch's `myhostname`.
    pub hostname: Option<String>,
    /// Names resolved on the network at once; more wait their turn.
    pub max_in_flight: usize,
    /// The longest one lookup may go on, its wait for a turn included;
    /// past it, each family still unanswered is a `dns-timeout` naming
    /// every server, and its turn goes to the next name. `None`: only
    /// `timeout` × `attempts` × servers bounds it. A caller that gives up
    /// on a name after some time (the fetch engine, at
    /// `--connect-timeout`) sets it, so that a name nobody waits for any
    /// more does not keep its place in `max_in_flight`.
    pub max_lookup_time: Option<Duration>,
    /// Finished answers kept (0: no cache; in-flight lookups are still
    /// shared).
    pub cache_capacity: usize,
}

impl ResolverConfig {
    /// A config asking `nameservers`, with glibc's defaults (ndots 1,
    /// timeout 5 s, 2 attempts), EDNS0 on, an empty hosts table, `files
    /// dns` order, 1,000 names in flight and a cache of
    /// [`CACHE_CAPACITY`] names.
    pub fn new(nameservers: Vec<SocketAddr>) -> ResolverConfig {
        let defaults = ResolvConf::default();
        ResolverConfig {
            nameservers,
            search: Vec::new(),
            ndots: defaults.ndots,
            timeout: defaults.timeout,
            attempts: defaults.attempts,
            rotate: false,
            edns0: true,
            no_aaaa: false,
            hosts: HostsTable::new(),
            nsswitch: NsSwitch::default(),
            hostname: None,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_lookup_time: None,
            cache_capacity: CACHE_CAPACITY,
        }
    }

    /// Takes the servers, search list and options of a resolv.conf.
    pub fn from_resolv_conf(conf: &ResolvConf) -> ResolverConfig {
        ResolverConfig {
            search: conf.search.clone(),
            ndots: conf.ndots,
            timeout: conf.timeout,
            attempts: conf.attempts,
            rotate: conf.rotate,
            no_aaaa: conf.no_aaaa,
            ..ResolverConfig::new(conf.nameservers.clone())
        }
    }

    /// `/etc/resolv.conf` (with `LOCALDOMAIN` and `RES_OPTIONS`),
    /// `/etc/hosts`, `/etc/nsswitch.conf` and the kernel's host name.
    /// A missing file means its defaults: glibc's for resolv.conf (ask
    /// 127.0.0.1), an empty hosts table, and Go's `files dns` for
    /// nsswitch.conf.
    pub fn system() -> Result<ResolverConfig, ConfError> {
        ResolverConfig::with_system_files(&ResolvConf::system()?)
    }

    /// `conf`'s servers, search list and options, with the system's hosts
    /// table, nsswitch.conf and host name (`--resolv-conf FILE`).
    pub fn with_system_files(conf: &ResolvConf) -> Result<ResolverConfig, ConfError> {
        let mut config = ResolverConfig::from_resolv_conf(conf);
        config.hosts = HostsTable::system()?;
        config.nsswitch = NsSwitch::system()?;
        config.hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty());
        Ok(config)
    }
}

/// What the resolver has done so far: a snapshot of plain counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DnsStats {
    /// Lookups started (calls of `lookup*`).
    pub lookups: u64,
    /// Answered without a query: IP literals, localhost, `.invalid`, the
    /// hosts table.
    pub local_answers: u64,
    /// Answered from a finished cache entry.
    pub cache_hits: u64,
    /// Joined a lookup of the same name already in flight.
    pub deduplicated: u64,
    /// Names resolved on the network (one task each).
    pub resolutions: u64,
    /// Resolutions that waited for a permit.
    pub queued: u64,
    /// Queries sent, over UDP and TCP.
    pub queries_sent: u64,
    /// Queries after a question's first: another server or another round.
    pub retries: u64,
    /// Tries that ended at their timer.
    pub timeouts: u64,
    /// Truncated answers asked again over TCP.
    pub tcp_fallbacks: u64,
    /// FORMERR answers to EDNS asked again without it.
    pub edns_fallbacks: u64,
    /// Datagrams dropped because source, ID, QR or question did not match.
    pub dropped_mismatched: u64,
}

impl DnsStats {
    /// Every counter with its name, in declaration order, for reports.
    pub fn counters(&self) -> [(&'static str, u64); 12] {
        [
            ("lookups", self.lookups),
            ("local_answers", self.local_answers),
            ("cache_hits", self.cache_hits),
            ("deduplicated", self.deduplicated),
            ("resolutions", self.resolutions),
            ("queued", self.queued),
            ("queries_sent", self.queries_sent),
            ("retries", self.retries),
            ("timeouts", self.timeouts),
            ("tcp_fallbacks", self.tcp_fallbacks),
            ("edns_fallbacks", self.edns_fallbacks),
            ("dropped_mismatched", self.dropped_mismatched),
        ]
    }
}

/// Live counters, one `Cell` each: the loop is single-threaded.
#[derive(Debug, Default)]
struct Counters {
    lookups: Cell<u64>,
    local_answers: Cell<u64>,
    cache_hits: Cell<u64>,
    deduplicated: Cell<u64>,
    resolutions: Cell<u64>,
    queued: Cell<u64>,
    queries_sent: Cell<u64>,
    retries: Cell<u64>,
    timeouts: Cell<u64>,
    tcp_fallbacks: Cell<u64>,
    edns_fallbacks: Cell<u64>,
    dropped_mismatched: Cell<u64>,
}

fn bump(counter: &Cell<u64>) {
    counter.set(counter.get() + 1);
}

/// One configured server.
#[derive(Debug)]
struct Server {
    addr: SocketAddr,
    /// It answered FORMERR to EDNS once: ask it without from now on.
    no_edns: Cell<bool>,
}

/// Random query IDs, drawn from the OS in batches: one `getrandom(2)` per
/// 128 queries.
#[derive(Debug, Default)]
struct Ids {
    bytes: Vec<u8>,
}

impl Ids {
    fn next(&mut self) -> io::Result<u16> {
        if self.bytes.len() < 2 {
            let mut batch = vec![0u8; 256];
            getrandom::fill(&mut batch).map_err(|e| io::Error::other(e.to_string()))?;
            self.bytes = batch;
        }
        let low = self.bytes.pop().unwrap_or_default();
        let high = self.bytes.pop().unwrap_or_default();
        Ok(u16::from_be_bytes([high, low]))
    }
}

struct Inner {
    servers: Vec<Server>,
    search: Vec<String>,
    ndots: usize,
    timeout: Duration,
    attempts: u8,
    rotate: bool,
    edns0: bool,
    no_aaaa: bool,
    hosts: HostsTable,
    order: Vec<Source>,
    nsswitch: NsSwitch,
    hostname: Option<String>,
    /// Where the next question starts, with `rotate`.
    next_server: Cell<usize>,
    cache: RefCell<Cache>,
    limiter: Limiter,
    max_lookup_time: Option<Duration>,
    ids: RefCell<Ids>,
    /// One receive buffer for every UDP try: borrowed only inside a poll,
    /// never across a wait.
    scratch: RefCell<Vec<u8>>,
    counters: Counters,
}

/// The stub resolver. Cloning gives another handle to the same cache and
/// limit. It lives on one loop: its lookups must be polled inside that
/// loop's `Runtime::block_on` (they spawn tasks and open sockets there).
#[derive(Clone)]
pub struct StubResolver {
    inner: Rc<Inner>,
}

impl fmt::Debug for StubResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let servers: Vec<SocketAddr> = self.inner.servers.iter().map(|s| s.addr).collect();
        f.debug_struct("StubResolver")
            .field("servers", &servers)
            .field("cached", &self.inner.cache.borrow().len())
            .finish()
    }
}

/// Why a try at one server did not give a usable response.
enum TryError {
    Timeout,
    Bad(BadResponse),
    Io(io::ErrorKind),
}

/// One family's answer for one candidate name, after every server and
/// attempt.
enum Asked {
    /// Addresses, cacheable for `ttl` seconds.
    Data { addresses: Vec<IpAddr>, ttl: u32 },
    /// NXDOMAIN or NODATA, cacheable for `ttl` if the server gave an SOA.
    Negative {
        error: LookupError,
        ttl: Option<u32>,
    },
    /// SERVFAIL or REFUSED: the search may go on.
    Failed(LookupError),
    /// A timeout, a bad response, a socket error: the search stops.
    Broken(LookupError),
}

impl Asked {
    /// Whether this answer ends the search at its candidate.
    fn ends_search(&self) -> bool {
        matches!(self, Asked::Data { .. } | Asked::Broken(_))
    }
}

/// How the search list has gone so far, for one family: glibc's
/// precedence when no candidate has an address.
#[derive(Default)]
struct SearchState {
    first_nodata: Option<LookupError>,
    first_failure: Option<LookupError>,
    last_nxdomain: Option<LookupError>,
    /// The smallest negative TTL seen; `None` once any answer may not be
    /// cached.
    negative_ttl: Option<u32>,
    uncacheable: bool,
    /// The final result, once published.
    published: bool,
}

impl SearchState {
    /// Notes a candidate's answer that did not end the search.
    fn note(&mut self, asked: &Asked) {
        match asked {
            Asked::Negative { error, ttl } => {
                match ttl {
                    Some(ttl) => {
                        self.negative_ttl = Some(self.negative_ttl.map_or(*ttl, |t| t.min(*ttl)))
                    }
                    None => self.uncacheable = true,
                }
                if matches!(error, LookupError::NoData { .. }) {
                    self.first_nodata.get_or_insert_with(|| error.clone());
                } else {
                    self.last_nxdomain = Some(error.clone());
                }
            }
            Asked::Failed(error) => {
                self.uncacheable = true;
                self.first_failure.get_or_insert_with(|| error.clone());
            }
            Asked::Data { .. } | Asked::Broken(_) => {}
        }
    }

    /// The final result and how long it may be cached, from this
    /// candidate's answer (`exhausted`: no candidate is left).
    fn conclude(&mut self, asked: &Asked, exhausted: bool) -> (Outcome, Option<u32>) {
        let own = match asked {
            Asked::Data { addresses, ttl } => {
                return (Ok(Addresses::from(addresses.as_slice())), Some(*ttl))
            }
            Asked::Broken(error) => return (Err(error.clone()), None),
            Asked::Negative { error, ttl } if !exhausted => return (Err(error.clone()), *ttl),
            Asked::Failed(error) if !exhausted => return (Err(error.clone()), None),
            Asked::Negative { error, .. } | Asked::Failed(error) => error,
        };
        // No candidate had an address: glibc's precedence over them all.
        self.note(asked);
        let error = self
            .first_nodata
            .take()
            .or_else(|| self.first_failure.take())
            .or_else(|| self.last_nxdomain.take())
            .unwrap_or_else(|| own.clone());
        let ttl = if self.uncacheable {
            None
        } else {
            self.negative_ttl
        };
        (Err(error), ttl)
    }
}

fn qtype_of(family: IpFamily) -> RecordType {
    match family {
        IpFamily::V4 => RecordType::A,
        IpFamily::V6 => RecordType::Aaaa,
    }
}

/// `*.localhost` and `localhost` (RFC 6761 §6.3).
fn is_localhost(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost")
}

/// `*.invalid` and `invalid` (RFC 6761 §6.4).
fn is_invalid(host: &str) -> bool {
    host == "invalid" || host.ends_with(".invalid")
}

/// The addresses of `ips` of `family`, or NODATA from `origin`.
fn of_family(ips: &[IpAddr], family: IpFamily, name: &Name, origin: Origin) -> Outcome {
    let wanted: Vec<IpAddr> = ips
        .iter()
        .copied()
        .filter(|ip| ip.is_ipv4() == (family == IpFamily::V4))
        .collect();
    if wanted.is_empty() {
        Err(LookupError::NoData {
            name: name.clone(),
            family,
            origin,
        })
    } else {
        Ok(Addresses::from(wanted))
    }
}

/// Both families' outcomes from a fixed list of addresses.
fn fixed(ips: &[IpAddr], name: &Name, origin: Origin) -> Rc<Entry> {
    Entry::ready(
        of_family(ips, IpFamily::V4, name, origin),
        of_family(ips, IpFamily::V6, name, origin),
    )
}

impl StubResolver {
    /// A resolver for `config`. Nothing is opened until the first lookup.
    pub fn new(config: ResolverConfig) -> StubResolver {
        let order = config.nsswitch.order();
        StubResolver {
            inner: Rc::new(Inner {
                servers: config
                    .nameservers
                    .iter()
                    .map(|&addr| Server {
                        addr,
                        no_edns: Cell::new(false),
                    })
                    .collect(),
                search: config.search,
                ndots: usize::from(config.ndots),
                timeout: config.timeout,
                attempts: config.attempts.max(1),
                rotate: config.rotate,
                edns0: config.edns0,
                no_aaaa: config.no_aaaa,
                hosts: config.hosts,
                order,
                nsswitch: config.nsswitch,
                hostname: config.hostname,
                next_server: Cell::new(0),
                cache: RefCell::new(Cache::new(config.cache_capacity)),
                limiter: Limiter::new(config.max_in_flight),
                max_lookup_time: config.max_lookup_time,
                ids: RefCell::new(Ids::default()),
                scratch: RefCell::new(Vec::new()),
                counters: Counters::default(),
            }),
        }
    }

    /// Starts looking up both families of `host`. The returned [`Lookup`]
    /// yields each family's result as soon as it is final, so a caller can
    /// start connecting to the first address while the other family is
    /// still on its way (Happy Eyeballs, RFC 8305).
    pub fn lookup_each(&self, host: &str) -> Lookup {
        Lookup {
            entry: self.start(host),
            yielded: [false; 2],
        }
    }

    /// The addresses of `host`, both families: IPv4 first, then IPv6 (no
    /// RFC 6724 sorting). An error only if neither family has an address:
    /// then the more telling of the two (NODATA only if both are).
    pub async fn lookup(&self, host: &str) -> Result<Addresses, LookupError> {
        let entry = self.start(host);
        let (v4, v6) = poll_fn(
            |cx| match (entry.get(IpFamily::V4), entry.get(IpFamily::V6)) {
                (Some(v4), Some(v6)) => Poll::Ready((v4, v6)),
                _ => {
                    entry.register(cx);
                    Poll::Pending
                }
            },
        )
        .await;
        match (v4, v6) {
            (Ok(a), Ok(b)) => Ok(a.iter().chain(b.iter()).copied().collect()),
            (Ok(a), Err(_)) | (Err(_), Ok(a)) => Ok(a),
            (Err(LookupError::NoData { .. }), Err(e)) | (Err(e), Err(_)) => Err(e),
        }
    }

    /// The addresses of one family of `host`.
    pub async fn lookup_family(
        &self,
        host: &str,
        family: IpFamily,
    ) -> Result<Addresses, LookupError> {
        let entry = self.start(host);
        poll_fn(|cx| entry.poll_family(family, cx)).await
    }

    /// Why `host` must be left to `getaddrinfo`, if it must.
    pub fn fallback_reason(&self, host: &str) -> Option<super::Fallback> {
        let host = host.to_ascii_lowercase();
        self.inner
            .nsswitch
            .fallback_for(&host, self.inner.hostname.as_deref())
    }

    /// The error of a lookup of `host` that had no answer within
    /// `waited`: a timeout naming every server this resolver asks. For a
    /// caller whose own limit ended the lookup first.
    pub fn timed_out(&self, host: &str, waited: Duration) -> LookupError {
        self.inner.timed_out(host, waited)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> DnsStats {
        let c = &self.inner.counters;
        DnsStats {
            lookups: c.lookups.get(),
            local_answers: c.local_answers.get(),
            cache_hits: c.cache_hits.get(),
            deduplicated: c.deduplicated.get(),
            resolutions: c.resolutions.get(),
            queued: c.queued.get(),
            queries_sent: c.queries_sent.get(),
            retries: c.retries.get(),
            timeouts: c.timeouts.get(),
            tcp_fallbacks: c.tcp_fallbacks.get(),
            edns_fallbacks: c.edns_fallbacks.get(),
            dropped_mismatched: c.dropped_mismatched.get(),
        }
    }

    /// Finds or starts the entry that will hold `host`'s answers. The
    /// order of the checks is the order of the module docs' picture.
    fn start(&self, host: &str) -> Rc<Entry> {
        let inner = &self.inner;
        bump(&inner.counters.lookups);
        let local = || bump(&inner.counters.local_answers);

        // 1. An IP literal is its own answer.
        if let Ok(ip) = host.parse::<IpAddr>() {
            local();
            let name = Name::from_text(host).unwrap_or_else(|_| Name::root());
            return fixed(&[ip], &name, Origin::Local);
        }
        let key = host.to_ascii_lowercase();
        let bare = key.strip_suffix('.').unwrap_or(&key);
        let name = match Name::from_text(&key) {
            Ok(name) => name,
            Err(error) => {
                let error = LookupError::InvalidName {
                    host: host.to_owned(),
                    error,
                };
                return Entry::ready(Err(error.clone()), Err(error));
            }
        };

        // 2. Special-use names (RFC 6761), never sent to a server.
        if is_localhost(bare) {
            local();
            let loopback = [
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ];
            return fixed(&loopback, &name, Origin::Local);
        }
        if is_invalid(bare) {
            local();
            let error = LookupError::NxDomain {
                name,
                origin: Origin::Local,
            };
            return Entry::ready(Err(error.clone()), Err(error));
        }

        // 3. A source we cannot serve decides this name: getaddrinfo's job.
        if let Some(reason) = inner.nsswitch.fallback_for(bare, inner.hostname.as_deref()) {
            log::debug!("dns {host}: {reason}; leaving it to the getaddrinfo pool");
            let error = LookupError::Unsupported {
                host: host.to_owned(),
                reason,
            };
            return Entry::ready(Err(error.clone()), Err(error));
        }

        // 4. The hosts table, when it comes before DNS (or DNS is absent).
        let files_first = inner.order.first() == Some(&Source::Files);
        if files_first {
            if let Some(ips) = inner.hosts.get(bare) {
                local();
                return fixed(ips, &name, Origin::HostsTable);
            }
        }
        if !inner.order.contains(&Source::Dns) {
            local();
            let origin = Origin::Local;
            return match inner.hosts.get(bare) {
                Some(ips) => fixed(ips, &name, Origin::HostsTable),
                None => {
                    let error = LookupError::NxDomain { name, origin };
                    Entry::ready(Err(error.clone()), Err(error))
                }
            };
        }

        // 5. The cache: a fresh answer, or a lookup already in flight.
        let now = Instant::now();
        if let Some(entry) = inner.cache.borrow_mut().get(&key, now) {
            if entry.is_finished() {
                bump(&inner.counters.cache_hits);
            } else {
                bump(&inner.counters.deduplicated);
            }
            return entry;
        }

        // 6. Ask the network: one task per name, whoever polls it.
        let entry = Rc::new(Entry::default());
        inner
            .cache
            .borrow_mut()
            .insert_pending(key.clone(), entry.clone());
        bump(&inner.counters.resolutions);
        let task_entry = entry.clone();
        let task_inner = inner.clone();
        spawn_detached(async move {
            let Some(limit) = task_inner.max_lookup_time else {
                return resolve(task_inner, task_entry, key).await;
            };
            // Dropping `resolve` mid-way closes its sockets and hands its
            // turn to the next name; what it had not answered times out.
            let resolving = resolve(task_inner.clone(), task_entry.clone(), key.clone());
            if timeout(limit, resolving).await.is_err() {
                give_up(&task_inner, &task_entry, &key, limit);
            }
        });
        entry
    }
}

/// Both families of one host, each yielded once, as it becomes final.
pub struct Lookup {
    entry: Rc<Entry>,
    yielded: [bool; 2],
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lookup")
            .field("entry", &self.entry)
            .field("yielded", &self.yielded)
            .finish()
    }
}

impl Lookup {
    /// The next family's result, or `None` when both have been yielded.
    /// When both are ready, IPv6 comes first.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<(IpFamily, Outcome)>> {
        for family in [IpFamily::V6, IpFamily::V4] {
            if self.yielded[family.index()] {
                continue;
            }
            if let Some(outcome) = self.entry.get(family) {
                self.yielded[family.index()] = true;
                return Poll::Ready(Some((family, outcome)));
            }
        }
        if self.yielded.iter().all(|&y| y) {
            return Poll::Ready(None);
        }
        self.entry.register(cx);
        // A slot may have filled between the checks and the registration
        // only on another thread, and there is none: no wakeup is lost.
        Poll::Pending
    }

    /// The async form of [`Lookup::poll_next`].
    pub async fn next(&mut self) -> Option<(IpFamily, Outcome)> {
        poll_fn(|cx| self.poll_next(cx)).await
    }
}

impl Inner {
    /// A lookup of `host` with no answer within `waited`, from any server.
    fn timed_out(&self, host: &str, waited: Duration) -> LookupError {
        LookupError::Timeout {
            name: Name::from_text(host).unwrap_or_else(|_| Name::root()),
            servers: self.servers.iter().map(|server| server.addr).collect(),
            waited,
        }
    }

    /// The candidate names for `host`, in the order glibc tries them.
    fn candidates(&self, host: &str) -> Vec<Name> {
        if host.ends_with('.') {
            return Name::from_text(host).into_iter().collect();
        }
        let as_is_first = host.bytes().filter(|&b| b == b'.').count() >= self.ndots;
        let mut texts = Vec::with_capacity(self.search.len() + 1);
        if as_is_first {
            texts.push(host.to_owned());
        }
        texts.extend(self.search.iter().map(|domain| format!("{host}.{domain}")));
        if !as_is_first {
            texts.push(host.to_owned());
        }
        // A search domain that makes the name too long is skipped.
        texts
            .iter()
            .filter_map(|t| Name::from_text(t).ok())
            .collect()
    }

    /// The servers in the order this question tries them.
    fn server_order(&self) -> Vec<&Server> {
        let n = self.servers.len();
        let start = if self.rotate && n > 0 {
            let start = self.next_server.get() % n;
            self.next_server.set(start + 1);
            start
        } else {
            0
        };
        (0..n).map(|i| &self.servers[(start + i) % n]).collect()
    }

    fn next_id(&self) -> io::Result<u16> {
        self.ids.borrow_mut().next()
    }
}

/// One family's question to the servers, boxed so A and AAAA can be
/// polled side by side.
type AskFuture<'a> = Pin<Box<dyn Future<Output = Asked> + 'a>>;

/// The resolving task of one host name: wait for a permit, walk the
/// search list asking A and AAAA together, publish each family's result
/// as soon as it is final, then cache the entry.
async fn resolve(inner: Rc<Inner>, entry: Rc<Entry>, key: String) {
    let host = key.as_str();
    let mut acquire = pin!(inner.limiter.acquire());
    let permit = poll_fn(|cx| acquire.as_mut().poll(cx)).await;
    if acquire.queued() {
        bump(&inner.counters.queued);
    }

    let families: &[IpFamily] = if inner.no_aaaa {
        &[IpFamily::V4]
    } else {
        &IpFamily::BOTH
    };
    if inner.no_aaaa {
        let name = Name::from_text(host).unwrap_or_else(|_| Name::root());
        entry.finish(
            IpFamily::V6,
            Err(LookupError::NoData {
                name,
                family: IpFamily::V6,
                origin: Origin::Local,
            }),
        );
    }
    // With `dns files`, the hosts table answers when DNS does not; then
    // nothing is published until DNS is done.
    // (Reaching here with `files` in the order means it comes after `dns`.)
    let hosts_after = inner.order.contains(&Source::Files)
        && inner.hosts.get(host.trim_end_matches('.')).is_some();

    let mut states = [SearchState::default(), SearchState::default()];
    let mut ttls: [Option<u32>; 2] = [None, None];
    let mut finals: [Option<Outcome>; 2] = [None, None];
    let candidates = inner.candidates(host);
    for (index, candidate) in candidates.iter().enumerate() {
        let exhausted = index + 1 == candidates.len();
        let mut asks: Vec<(IpFamily, AskFuture<'_>)> = families
            .iter()
            .map(|&family| {
                let future: AskFuture<'_> = Box::pin(ask_servers(&inner, candidate, family));
                (family, future)
            })
            .collect();
        let mut answers: [Option<Asked>; 2] = [None, None];
        poll_fn(|cx| {
            asks.retain_mut(|(family, ask)| match ask.as_mut().poll(cx) {
                Poll::Ready(asked) => {
                    answers[family.index()] = Some(asked);
                    false
                }
                Poll::Pending => true,
            });
            // Publish what is final: everything, once any answer here ends
            // the search or no candidate is left.
            let ends = exhausted || answers.iter().flatten().any(Asked::ends_search);
            if ends && !hosts_after {
                for &family in families {
                    let i = family.index();
                    if let Some(asked) = &answers[i] {
                        if !states[i].published {
                            states[i].published = true;
                            let (outcome, ttl) = states[i].conclude(asked, exhausted);
                            ttls[i] = ttl;
                            entry.finish(family, outcome.clone());
                            finals[i] = Some(outcome);
                        }
                    }
                }
            }
            if asks.is_empty() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        })
        .await;
        let ends = exhausted || answers.iter().flatten().any(Asked::ends_search);
        if ends {
            if hosts_after {
                for &family in families {
                    let i = family.index();
                    if let Some(asked) = &answers[i] {
                        let (outcome, ttl) = states[i].conclude(asked, exhausted);
                        ttls[i] = ttl;
                        finals[i] = Some(outcome);
                    }
                }
            }
            break;
        }
        for &family in families {
            if let Some(asked) = &answers[family.index()] {
                states[family.index()].note(asked);
            }
        }
    }
    drop(permit);

    if hosts_after {
        hosts_when_dns_failed(&inner, &entry, host, families, &mut finals, &mut ttls);
    }
    finish_the_rest(&inner, &entry, &key, families, ttls);
}

/// A lookup past `max_lookup_time`: each family not yet answered is a
/// timeout naming every server, and nothing is cached.
fn give_up(inner: &Inner, entry: &Rc<Entry>, key: &str, waited: Duration) {
    log::debug!("dns {key}: no answer within {waited:?}; giving up");
    for family in IpFamily::BOTH {
        if entry.get(family).is_none() {
            entry.finish(family, Err(inner.timed_out(key, waited)));
        }
    }
    inner
        .cache
        .borrow_mut()
        .finished(key, entry, None, Instant::now());
}

/// With `dns files` in nsswitch.conf's order: DNS's outcomes stand if any
/// family got an address, and otherwise the hosts table answers for both.
fn hosts_when_dns_failed(
    inner: &Inner,
    entry: &Entry,
    host: &str,
    families: &[IpFamily],
    finals: &mut [Option<Outcome>; 2],
    ttls: &mut [Option<u32>; 2],
) {
    let all_failed = families
        .iter()
        .all(|f| !matches!(finals[f.index()], Some(Ok(_))));
    let name = Name::from_text(host).unwrap_or_else(|_| Name::root());
    let ips = inner
        .hosts
        .get(host.trim_end_matches('.'))
        .unwrap_or_default();
    for &family in families {
        let i = family.index();
        let outcome = match finals[i].take() {
            Some(outcome) if !all_failed => outcome,
            _ => {
                ttls[i] = None;
                of_family(ips, family, &name, Origin::HostsTable)
            }
        };
        entry.finish(family, outcome);
    }
}

/// Ends a lookup: a family still without an outcome (there was no
/// candidate at all: every search name too long) is told the name is not a
/// valid one rather than left hanging, and the entry is cached for the
/// shorter-lived family, or not at all if either may not be.
fn finish_the_rest(
    inner: &Inner,
    entry: &Rc<Entry>,
    key: &str,
    families: &[IpFamily],
    ttls: [Option<u32>; 2],
) {
    for &family in families {
        if entry.get(family).is_none() {
            let error = LookupError::InvalidName {
                host: key.to_owned(),
                error: wire::NameError::TooLong,
            };
            entry.finish(family, Err(error));
        }
    }
    let ttl = families
        .iter()
        .map(|f| ttls[f.index()])
        .try_fold(u32::MAX, |min, ttl| ttl.map(|t| min.min(t)));
    let ttl = ttl.map(|secs| Duration::from_secs(u64::from(secs)));
    inner
        .cache
        .borrow_mut()
        .finished(key, entry, ttl, Instant::now());
}

/// Asks one name of one type: every server, every round, until an answer.
async fn ask_servers(inner: &Inner, name: &Name, family: IpFamily) -> Asked {
    let question = Question::new(name.clone(), qtype_of(family));
    let servers = inner.server_order();
    let started = Instant::now();
    let mut failure: Option<LookupError> = None;
    let mut silent: Vec<SocketAddr> = Vec::new();
    let mut tries = 0;
    for _round in 0..inner.attempts {
        for server in &servers {
            tries += 1;
            if tries > 1 {
                bump(&inner.counters.retries);
            }
            let response = match exchange(inner, server, &question).await {
                Ok(response) => response,
                Err(TryError::Timeout) => {
                    bump(&inner.counters.timeouts);
                    log::debug!("dns {name}: no answer from {} in time", server.addr);
                    if !silent.contains(&server.addr) {
                        silent.push(server.addr);
                    }
                    continue;
                }
                Err(TryError::Bad(reason)) => {
                    log::debug!("dns {name}: bad response from {}: {reason}", server.addr);
                    failure = Some(LookupError::BadResponse {
                        name: name.clone(),
                        server: server.addr,
                        reason,
                    });
                    continue;
                }
                Err(TryError::Io(kind)) => {
                    log::debug!("dns {name}: {}: {}", server.addr, io::Error::from(kind));
                    failure = Some(LookupError::Io {
                        name: name.clone(),
                        server: server.addr,
                        kind,
                    });
                    continue;
                }
            };
            match what_it_says(&response, &question, family, server.addr) {
                Ok(asked) => return asked,
                Err(error) => failure = Some(error),
            }
        }
    }
    // Every try failed. An answer, even a failure, says more than silence.
    match failure {
        Some(error @ (LookupError::ServFail { .. } | LookupError::Refused { .. })) => {
            Asked::Failed(error)
        }
        Some(error) => Asked::Broken(error),
        None => Asked::Broken(LookupError::Timeout {
            name: name.clone(),
            servers: silent,
            waited: started.elapsed(),
        }),
    }
}

/// What one well-formed answer from `server` says about `question`: the
/// final word for this family (`Ok`), or a failure worth keeping while
/// the next server is asked (SERVFAIL, REFUSED, an RCODE that answers
/// nothing).
fn what_it_says(
    response: &Response,
    question: &Question,
    family: IpFamily,
    server: SocketAddr,
) -> Result<Asked, LookupError> {
    let name = &question.name;
    let origin = Origin::Server(server);
    match response.rcode {
        Rcode::NoError => Ok(
            match response.follow(name, question.qtype, MAX_CNAME_LINKS) {
                Ok(answer) if !answer.addresses.is_empty() => Asked::Data {
                    addresses: answer.addresses,
                    ttl: answer.ttl,
                },
                Ok(_) => Asked::Negative {
                    error: LookupError::NoData {
                        name: name.clone(),
                        family,
                        origin,
                    },
                    ttl: response.negative_ttl,
                },
                Err(chain) => Asked::Broken(LookupError::BadResponse {
                    name: name.clone(),
                    server,
                    reason: BadResponse::CnameChain(chain),
                }),
            },
        ),
        Rcode::NxDomain => Ok(Asked::Negative {
            error: LookupError::NxDomain {
                name: name.clone(),
                origin,
            },
            ttl: response.negative_ttl,
        }),
        // A sick or unwilling server: the next one may do better.
        Rcode::ServFail => Err(LookupError::ServFail {
            name: name.clone(),
            server,
        }),
        Rcode::Refused => Err(LookupError::Refused {
            name: name.clone(),
            server,
        }),
        other => Err(LookupError::BadResponse {
            name: name.clone(),
            server,
            reason: BadResponse::Rcode(other),
        }),
    }
}

/// One try at one server: UDP, then TCP if truncated; and without EDNS if
/// the server answers FORMERR to it.
async fn exchange(
    inner: &Inner,
    server: &Server,
    question: &Question,
) -> Result<Response, TryError> {
    let mut edns = inner.edns0 && !server.no_edns.get();
    loop {
        let id = inner.next_id().map_err(|e| TryError::Io(e.kind()))?;
        let query = wire::encode_query(id, question, edns);
        let deadline = Instant::now() + inner.timeout;
        let mut response = udp_exchange(inner, server.addr, &query, id, question, deadline).await?;
        if response.header.truncated {
            bump(&inner.counters.tcp_fallbacks);
            log::debug!(
                "dns {}: truncated by {}, asking over TCP",
                question.name,
                server.addr
            );
            response = tcp_exchange(inner, server.addr, &query, id, question).await?;
        }
        if response.rcode == Rcode::FormErr && edns {
            bump(&inner.counters.edns_fallbacks);
            log::debug!(
                "dns {}: {} rejects EDNS, asking without",
                question.name,
                server.addr
            );
            server.no_edns.set(true);
            edns = false;
            continue;
        }
        return Ok(response);
    }
}

/// Whether `response` answers our query. FORMERR may come without the
/// question (old servers do that): with our ID it still counts.
fn accepts(response: &Response, id: u16, question: &Question) -> bool {
    response.answers(id, question)
        || (response.header.response
            && response.header.id == id
            && response.question.is_none()
            && response.rcode == Rcode::FormErr)
}

/// What one received datagram came to.
enum Datagram {
    /// Ours: the try is over.
    Answer(Response),
    /// With our ID and QR but unparseable: the server's, broken.
    Broken(wire::WireError),
    /// Not ours: dropped.
    Mismatch(&'static str),
}

/// Reads a datagram from `server`: parses it and checks it against the
/// query.
fn judge(
    msg: &[u8],
    from: SocketAddr,
    server: SocketAddr,
    id: u16,
    question: &Question,
) -> Datagram {
    if from != server {
        return Datagram::Mismatch("source address");
    }
    match wire::parse_response(msg) {
        Ok(response) if accepts(&response, id, question) => Datagram::Answer(response),
        Ok(response) if !response.header.response => Datagram::Mismatch("QR flag"),
        Ok(response) if response.header.id != id => Datagram::Mismatch("ID"),
        Ok(_) => Datagram::Mismatch("question"),
        Err(error) => {
            let ours =
                msg.len() >= 3 && u16::from_be_bytes([msg[0], msg[1]]) == id && msg[2] & 0x80 != 0;
            if ours {
                Datagram::Broken(error)
            } else {
                Datagram::Mismatch("unparseable")
            }
        }
    }
}

/// Sends `query` from a fresh connected UDP socket and waits, until
/// `deadline`, for the datagram that answers it.
async fn udp_exchange(
    inner: &Inner,
    server: SocketAddr,
    query: &[u8],
    id: u16,
    question: &Question,
    deadline: Instant,
) -> Result<Response, TryError> {
    let io = |e: io::Error| TryError::Io(e.kind());
    // A new socket per try: `connect` binds it to a random ephemeral port
    // and makes the kernel drop datagrams from anyone but `server`. Its
    // send buffer is empty, so the datagram goes out at once; only if it
    // is full do we wait for room. Its buffers keep the kernel's default
    // size (`net.core.rmem_default`): the socket carries one exchange, so
    // a burst of answers is spread over as many sockets and never queues
    // in one, and sizing it would cost a syscall per query.
    let socket = UdpSocket::connected(server).map_err(io)?;
    match socket.try_send(query) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
            socket.send(query).await.map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    bump(&inner.counters.queries_sent);
    log::trace!(
        "dns {}: sent {} bytes to {server} (id {id:#06x})",
        question.name,
        query.len()
    );

    let mut timer = pin!(sleep_until(deadline));
    poll_fn(|cx| loop {
        // Drain every queued datagram (edge-triggered readiness) before
        // looking at the timer: an answer that is here wins.
        let mut scratch = inner.scratch.borrow_mut();
        if scratch.len() < MAX_MESSAGE {
            scratch.resize(MAX_MESSAGE, 0);
        }
        let (n, from) = match socket.poll_recv_from(cx, &mut scratch) {
            Poll::Ready(Ok(received)) => received,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(io(e))),
            Poll::Pending => {
                return match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Err(TryError::Timeout)),
                    Poll::Pending => Poll::Pending,
                }
            }
        };
        match judge(&scratch[..n], from, server, id, question) {
            Datagram::Answer(response) => return Poll::Ready(Ok(response)),
            Datagram::Broken(error) => {
                return Poll::Ready(Err(TryError::Bad(BadResponse::Malformed(error))))
            }
            Datagram::Mismatch(what) => {
                bump(&inner.counters.dropped_mismatched);
                log::debug!(
                    "dns {}: dropped a datagram from {from}: wrong {what}",
                    question.name
                );
            }
        }
    })
    .await
}

/// Asks `query` again over TCP (RFC 7766): a 2-byte length, the message,
/// and the answer framed the same way, within one `timeout`.
async fn tcp_exchange(
    inner: &Inner,
    server: SocketAddr,
    query: &[u8],
    id: u16,
    question: &Question,
) -> Result<Response, TryError> {
    let io = |e: io::Error| TryError::Io(e.kind());
    let exchange = async {
        let stream = TcpStream::connect(server).await.map_err(io)?;
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&(query.len() as u16).to_be_bytes());
        framed.extend_from_slice(query);
        stream.write_all(&framed).await.map_err(io)?;
        bump(&inner.counters.queries_sent);
        let mut length = [0u8; 2];
        read_exact(&stream, &mut length).await.map_err(io)?;
        // At most 65,535 bytes, whatever the server claims.
        let mut msg = vec![0u8; usize::from(u16::from_be_bytes(length))];
        read_exact(&stream, &mut msg).await.map_err(io)?;
        let response =
            wire::parse_response(&msg).map_err(|e| TryError::Bad(BadResponse::Malformed(e)))?;
        if !accepts(&response, id, question) {
            // On a connection we opened to the server, a mismatch is the
            // server's own mistake: there is no one else to wait for.
            return Err(TryError::Bad(BadResponse::Mismatched));
        }
        if response.header.truncated {
            return Err(TryError::Bad(BadResponse::Truncated));
        }
        Ok(response)
    };
    timeout(inner.timeout, exchange)
        .await
        .unwrap_or(Err(TryError::Timeout))
}

/// Fills `buf` from `stream`; an early EOF is `UnexpectedEof`.
async fn read_exact(stream: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}
