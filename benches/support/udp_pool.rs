//! The stand-in for the `getaddrinfo` worker pool (`src/net/dns/pool.rs`,
//! asyncio's `run_in_executor` way), for the DNS bench.
//!
//! The real pool cannot be pointed at the bench's responder: glibc's
//! `getaddrinfo` asks the servers of `/etc/resolv.conf` (a path compiled
//! into libc), always on port 53. `nameserver` takes an address and no
//! port, `RES_OPTIONS` sets options only (ndots, timeout, attempts,
//! rotate, edns0, ...), and `LOCALDOMAIN` sets the search list only.
//! Binding port 53 and rewriting resolv.conf would change a shared
//! machine; a private network and mount namespace avoids that (the bench
//! runs the real pool that way when it is root, see `netns.rs`), but
//! needs root. So this pool stands in for it everywhere.
//!
//! Its structure is `pool.rs`'s: `workers` threads take names from one
//! channel (`Mutex<Receiver>`), and a lookup on the loop finds its name in
//! a mutex-guarded map (answered, or in flight with the wakers to call) or
//! puts it there and sends it to the workers; a worker stores the answer
//! and wakes the waiting tasks, through the runtime's cross-thread waker.
//! Where `pool.rs` calls `getaddrinfo(host)`, a worker here makes the
//! blocking UDP exchange glibc's `res_send` makes for an `AF_UNSPEC` name:
//!
//! ```text
//! socket(AF_INET, SOCK_DGRAM|SOCK_CLOEXEC); connect(server)
//! setsockopt(SO_RCVTIMEO, 5 s)                 glibc: poll(fd, timeout) before each recvfrom
//! send(A query); send(AAAA query)              glibc: both in one sendmmsg
//! recv until both are answered                 another ID or question: dropped, keep waiting
//! close
//! ```
//!
//! with glibc's defaults: no EDNS0, a 5 s timeout, 2 attempts. What it
//! leaves out of `getaddrinfo`, so what makes it cheaper than the real
//! thing: reading `/etc/hosts` first (`hosts: files dns`), checking
//! whether `/etc/resolv.conf` changed, the nscd socket, and sorting the
//! answers (RFC 6724). Its CPU time per name is a floor for the real pool.

use std::collections::HashMap;
use std::future::poll_fn;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use crate::dns_wire::{self, Parsed, TYPE_A, TYPE_AAAA};

/// glibc's default `timeout`: how long one attempt waits.
const TIMEOUT: Duration = Duration::from_secs(5);
/// glibc's default `attempts`.
const ATTEMPTS: u32 = 2;

/// What a lookup ends with: the addresses, or why there are none.
pub type Answer = Result<Arc<[IpAddr]>, String>;

enum Entry {
    InFlight(Vec<Waker>),
    Done(Answer),
}

/// What the workers did, for the bench's table.
#[derive(Debug, Default)]
pub struct PoolCounters {
    /// Queries sent.
    pub queries: AtomicU64,
    /// Attempts after a name's first (after a timeout).
    pub retries: AtomicU64,
    /// Attempts that ended at their timeout.
    pub timeouts: AtomicU64,
    /// Datagrams dropped as not answering the query.
    pub mismatched: AtomicU64,
}

struct Shared {
    cache: Mutex<HashMap<String, Entry>>,
    jobs: Mutex<Option<Sender<String>>>,
    workers: usize,
    server: SocketAddr,
    /// Ask AAAA too (`AF_UNSPEC`), not only A (`AF_INET`).
    both: bool,
    counters: PoolCounters,
}

/// `workers` threads, each making one blocking exchange at a time.
#[derive(Clone)]
pub struct UdpPool {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for UdpPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UdpPool")
            .field("workers", &self.shared.workers)
            .field("server", &self.shared.server)
            .finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl UdpPool {
    /// A pool of `workers` threads (started on the first lookup) asking
    /// `server`, for A and AAAA (`both`) or A only.
    pub fn new(workers: usize, server: SocketAddr, both: bool) -> UdpPool {
        UdpPool {
            shared: Arc::new(Shared {
                cache: Mutex::new(HashMap::new()),
                jobs: Mutex::new(None),
                workers: workers.max(1),
                server,
                both,
                counters: PoolCounters::default(),
            }),
        }
    }

    /// The workers' counters.
    pub fn counters(&self) -> &PoolCounters {
        &self.shared.counters
    }

    /// The addresses of `host`, from a worker (or from the map). Must be
    /// polled on a loop whose wakers may be called from other threads.
    pub async fn lookup(&self, host: &str) -> Answer {
        poll_fn(|cx| {
            let mut cache = lock(&self.shared.cache);
            match cache.get_mut(host) {
                Some(Entry::Done(answer)) => return Poll::Ready(answer.clone()),
                Some(Entry::InFlight(waiters)) => {
                    if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                        waiters.push(cx.waker().clone());
                    }
                }
                None => {
                    cache.insert(host.to_owned(), Entry::InFlight(vec![cx.waker().clone()]));
                    drop(cache);
                    self.submit(host);
                }
            }
            Poll::Pending
        })
        .await
    }

    fn submit(&self, host: &str) {
        let mut jobs = lock(&self.shared.jobs);
        let sender = jobs.get_or_insert_with(|| self.start_workers());
        if sender.send(host.to_owned()).is_err() {
            drop(jobs);
            finish(&self.shared, host, Err("no worker is running".into()));
        }
    }

    fn start_workers(&self) -> Sender<String> {
        let (sender, receiver) = channel::<String>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..self.shared.workers {
            let receiver = receiver.clone();
            let shared = Arc::downgrade(&self.shared);
            let spawned = thread::Builder::new()
                .name(format!("udp-pool-{index}"))
                .spawn(move || worker(&receiver, &shared));
            if let Err(e) = spawned {
                eprintln!("udp pool: could not start worker {index}: {e}");
            }
        }
        sender
    }
}

fn finish(shared: &Shared, host: &str, answer: Answer) {
    let previous = lock(&shared.cache).insert(host.to_owned(), Entry::Done(answer));
    if let Some(Entry::InFlight(waiters)) = previous {
        for waker in waiters {
            waker.wake();
        }
    }
}

fn worker(receiver: &Mutex<Receiver<String>>, shared: &Weak<Shared>) {
    let mut ids = QueryIds::new();
    loop {
        let host = match lock(receiver).recv() {
            Ok(host) => host,
            Err(_) => return,
        };
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let answer = resolve(&shared, &host, &mut ids);
        finish(&shared, &host, answer);
    }
}

/// Query IDs: glibc's `res_randomid` is a cheap clock-seeded generator,
/// so this is a xorshift, not the OS's CSPRNG.
struct QueryIds(u64);

impl QueryIds {
    fn new() -> QueryIds {
        // The clock, and this thread's stack address, so workers differ.
        let here = 0u8;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ (std::ptr::addr_of!(here) as u64).rotate_left(32);
        QueryIds(seed | 1)
    }

    fn next(&mut self) -> u16 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 24) as u16
    }
}

/// One name, as `res_send` asks it: up to [`ATTEMPTS`] exchanges.
fn resolve(shared: &Shared, host: &str, ids: &mut QueryIds) -> Answer {
    let counters = &shared.counters;
    let qtypes: &[u16] = if shared.both {
        &[TYPE_A, TYPE_AAAA]
    } else {
        &[TYPE_A]
    };
    let mut last_error = String::new();
    for attempt in 0..ATTEMPTS {
        if attempt > 0 {
            counters.retries.fetch_add(1, Ordering::Relaxed);
        }
        match exchange(shared.server, host, qtypes, ids, counters) {
            Ok(Some(answer)) => return answer,
            Ok(None) => {
                counters.timeouts.fetch_add(1, Ordering::Relaxed);
                last_error = format!("no answer from {} in {TIMEOUT:?}", shared.server);
            }
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

/// One exchange: a new connected socket, every query sent, every answer
/// awaited. `Ok(None)` is a timeout; `Err` a socket error.
fn exchange(
    server: SocketAddr,
    host: &str,
    qtypes: &[u16],
    ids: &mut QueryIds,
    counters: &PoolCounters,
) -> Result<Option<Answer>, String> {
    let io = |what: &str, e: std::io::Error| format!("{what}: {e}");
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .map_err(|e| io("socket", e))?;
    socket
        .connect(&server.into())
        .map_err(|e| io("connect", e))?;
    let socket: UdpSocket = socket.into();
    socket
        .set_read_timeout(Some(TIMEOUT))
        .map_err(|e| io("setsockopt", e))?;

    let mut queries: Vec<Vec<u8>> = Vec::with_capacity(qtypes.len());
    for &qtype in qtypes {
        let mut query = Vec::with_capacity(64);
        dns_wire::encode_query(&mut query, ids.next(), host, qtype);
        socket.send(&query).map_err(|e| io("send", e))?;
        counters.queries.fetch_add(1, Ordering::Relaxed);
        queries.push(query);
    }

    let mut answers: Vec<Option<Result<IpAddr, String>>> = vec![None; qtypes.len()];
    let mut buf = [0u8; 1232];
    while answers.iter().any(Option::is_none) {
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Ok(None)
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("recv", e)),
        };
        let mut matched = false;
        for (query, slot) in queries.iter().zip(&mut answers) {
            if slot.is_some() {
                continue;
            }
            if let Parsed::Answer(answer) = dns_wire::parse_answer(&buf[..n], query) {
                *slot = Some(answer);
                matched = true;
                break;
            }
        }
        if !matched {
            counters.mismatched.fetch_add(1, Ordering::Relaxed);
        }
    }
    // As getaddrinfo: the addresses of every family that has some; an
    // error only if none has.
    let mut addresses = Vec::with_capacity(answers.len());
    let mut errors = Vec::new();
    for answer in answers.into_iter().flatten() {
        match answer {
            Ok(ip) => addresses.push(ip),
            Err(e) => errors.push(e),
        }
    }
    if addresses.is_empty() {
        return Ok(Some(Err(format!("{host}: {}", errors.join(", ")))));
    }
    Ok(Some(Ok(addresses.into())))
}
