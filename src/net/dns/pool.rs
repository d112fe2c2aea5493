//! Name resolution on worker threads: `loop.getaddrinfo` via `run_in_executor`.
//!
//! `getaddrinfo(3)` blocks, so it must never run on the loop thread. A
//! [`Resolver`] owns a few worker threads that take host names from a
//! channel, call `getaddrinfo`, store the answer and wake the tasks that
//! asked, through their `std::task::Waker`s. That is all the resolver knows
//! of the loop: a waker called from another thread makes the runtime poke its
//! `mio::Waker`, and the blocked `epoll_wait` returns.
//!
//! Answers are cached for the resolver's life, and a name asked for again
//! while its lookup is in flight waits for that same lookup, so each distinct
//! name is resolved once per run. The cache holds at most
//! [`CACHE_CAPACITY`] answers; past that, finished answers are dropped (names
//! still in flight stay), which keeps memory bounded for any input size.

use std::collections::HashMap;
use std::fmt;
use std::future::poll_fn;
use std::net::{IpAddr, ToSocketAddrs};
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;

use crate::runtime::lock;

/// The most answers the cache keeps.
pub const CACHE_CAPACITY: usize = 65_536;

/// A failed lookup: asyncio's `socket.gaierror`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsError {
    /// The name that was looked up.
    pub host: String,
    /// What the resolver said, as std reports it, e.g. "failed to lookup
    /// address information: Name or service not known".
    pub message: String,
}

impl fmt::Display for DnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "'{}': {}", self.host, self.message)
    }
}

impl std::error::Error for DnsError {}

/// The addresses of a host, in the resolver's order; a slice to read
/// ([`Deref`]). One address (an IP literal, and most names) is held inline;
/// more share one allocation, so a cached answer reaches every waiter, and
/// every fetch of the name, without a copy.
#[derive(Clone, PartialEq, Eq)]
pub struct Addresses(AddressesRepr);

#[derive(Clone, PartialEq, Eq)]
enum AddressesRepr {
    One(IpAddr),
    Shared(Arc<[IpAddr]>),
}

impl Deref for Addresses {
    type Target = [IpAddr];

    fn deref(&self) -> &[IpAddr] {
        match &self.0 {
            AddressesRepr::One(ip) => std::slice::from_ref(ip),
            AddressesRepr::Shared(ips) => ips,
        }
    }
}

impl fmt::Debug for Addresses {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl From<IpAddr> for Addresses {
    fn from(ip: IpAddr) -> Addresses {
        Addresses(AddressesRepr::One(ip))
    }
}

impl From<&[IpAddr]> for Addresses {
    fn from(ips: &[IpAddr]) -> Addresses {
        match ips {
            [ip] => Addresses::from(*ip),
            _ => Addresses(AddressesRepr::Shared(ips.into())),
        }
    }
}

impl<const N: usize> From<[IpAddr; N]> for Addresses {
    fn from(ips: [IpAddr; N]) -> Addresses {
        Addresses::from(&ips[..])
    }
}

impl From<Vec<IpAddr>> for Addresses {
    fn from(ips: Vec<IpAddr>) -> Addresses {
        match ips[..] {
            [ip] => Addresses::from(ip),
            _ => Addresses(AddressesRepr::Shared(ips.into())),
        }
    }
}

impl FromIterator<IpAddr> for Addresses {
    fn from_iter<I: IntoIterator<Item = IpAddr>>(iter: I) -> Addresses {
        Addresses::from(iter.into_iter().collect::<Vec<_>>())
    }
}

enum Entry {
    /// A worker is resolving the name; these tasks wait for it.
    InFlight(Vec<Waker>),
    Done(Result<Addresses, DnsError>),
}

struct Shared {
    cache: Mutex<HashMap<String, Entry>>,
    /// Jobs for the workers; `None` until the first lookup starts them.
    jobs: Mutex<Option<Sender<String>>>,
    workers: usize,
    lookups: AtomicUsize,
}

/// One lookup between polls of [`Resolver::poll_lookup`]: start from
/// `PoolLookup::default()` and keep it until the answer comes.
#[derive(Debug, Default)]
pub struct PoolLookup {
    /// Whether this lookup has handed its name to the workers, so a cache
    /// that must make room does not evict answers on its behalf twice.
    submitted: bool,
}

/// Resolves host names on a pool of worker threads, with a cache.
///
/// Cloning gives another handle to the same pool and cache. The workers stop
/// when the last handle is dropped.
#[derive(Clone)]
pub struct Resolver {
    shared: Arc<Shared>,
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resolver")
            .field("workers", &self.shared.workers)
            .field("lookups", &self.lookups())
            .finish()
    }
}

impl Resolver {
    /// A resolver with up to `workers` threads (at least one), started on
    /// the first lookup.
    pub fn new(workers: usize) -> Resolver {
        Resolver {
            shared: Arc::new(Shared {
                cache: Mutex::new(HashMap::new()),
                jobs: Mutex::new(None),
                workers: workers.max(1),
                lookups: AtomicUsize::new(0),
            }),
        }
    }

    /// The process-wide resolver used by `open_connection`, with asyncio's
    /// default pool size, `min(32, cpus + 4)` workers.
    pub fn global() -> &'static Resolver {
        static GLOBAL: std::sync::OnceLock<Resolver> = std::sync::OnceLock::new();
        GLOBAL.get_or_init(|| {
            let cpus = thread::available_parallelism().map_or(1, |n| n.get());
            Resolver::new((cpus + 4).min(32))
        })
    }

    /// How many `getaddrinfo` calls this resolver has made (cache misses).
    pub fn lookups(&self) -> usize {
        self.shared.lookups.load(Ordering::Relaxed)
    }

    /// The addresses of `host`. An IP literal is returned as is, with no
    /// lookup (asyncio's `_ipaddr_info` shortcut); a name goes to a worker.
    pub async fn lookup(&self, host: &str) -> Result<Addresses, DnsError> {
        let mut lookup = PoolLookup::default();
        poll_fn(|cx| self.poll_lookup(&mut lookup, host, cx)).await
    }

    /// The poll form of [`Resolver::lookup`], for hand-written futures:
    /// poll with the same `lookup` (and `host`) until it is ready.
    pub fn poll_lookup(
        &self,
        lookup: &mut PoolLookup,
        host: &str,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Addresses, DnsError>> {
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Poll::Ready(Ok(Addresses::from(ip)));
        }
        let mut cache = lock(&self.shared.cache);
        match cache.get_mut(host) {
            Some(Entry::Done(answer)) => return Poll::Ready(answer.clone()),
            Some(Entry::InFlight(waiters)) => {
                if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
                    waiters.push(cx.waker().clone());
                }
            }
            None => {
                // Not asked yet, or our answer was evicted before we saw it.
                if !lookup.submitted && cache.len() >= CACHE_CAPACITY {
                    cache.retain(|_, entry| matches!(entry, Entry::InFlight(_)));
                }
                cache.insert(host.to_owned(), Entry::InFlight(vec![cx.waker().clone()]));
                drop(cache);
                lookup.submitted = true;
                self.submit(host);
            }
        }
        Poll::Pending
    }

    /// Hands `host` to the workers, starting them on first use.
    fn submit(&self, host: &str) {
        let mut jobs = lock(&self.shared.jobs);
        let sender = jobs.get_or_insert_with(|| self.start_workers());
        if sender.send(host.to_owned()).is_err() {
            // No worker could be started (see `start_workers`): answer with
            // an error instead of leaving the lookup waiting for ever.
            drop(jobs);
            finish(
                &self.shared,
                host,
                Err(DnsError {
                    host: host.to_owned(),
                    message: "resolver workers are not running".into(),
                }),
            );
        }
    }

    fn start_workers(&self) -> Sender<String> {
        let (sender, receiver) = channel::<String>();
        let receiver = Arc::new(Mutex::new(receiver));
        for index in 0..self.shared.workers {
            let receiver = receiver.clone();
            // A weak link: the workers must not keep the cache alive; they
            // exit when the last `Resolver` (and so the sender) is dropped.
            let shared = Arc::downgrade(&self.shared);
            let spawned = thread::Builder::new()
                .name(format!("fetch-headers-dns-{index}"))
                .spawn(move || worker(&receiver, &shared));
            if let Err(e) = spawned {
                // With no worker at all the receiver is dropped, sends fail,
                // and every lookup gets an error instead of waiting for ever.
                log::warn!("could not start DNS worker {index}: {e}");
            }
        }
        sender
    }
}

/// Stores an answer and wakes every task waiting for it.
fn finish(shared: &Shared, host: &str, answer: Result<Addresses, DnsError>) {
    let previous = lock(&shared.cache).insert(host.to_owned(), Entry::Done(answer));
    if let Some(Entry::InFlight(waiters)) = previous {
        for waker in waiters {
            waker.wake();
        }
    }
}

/// One worker thread: take a name, resolve it, publish the answer.
fn worker(receiver: &Mutex<Receiver<String>>, shared: &std::sync::Weak<Shared>) {
    loop {
        let host = match lock(receiver).recv() {
            Ok(host) => host,
            Err(_) => return, // the resolver is gone
        };
        let answer = resolve(&host);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.lookups.fetch_add(1, Ordering::Relaxed);
        log::debug!("dns {host}: {answer:?}");
        finish(&shared, &host, answer);
    }
}

/// The blocking part: `getaddrinfo(host, NULL)` through std.
fn resolve(host: &str) -> Result<Addresses, DnsError> {
    let error = |message: String| DnsError {
        host: host.to_owned(),
        message,
    };
    // std's words are kept whole ("failed to lookup address information:
    // Name or service not known"): cutting them to the gai_strerror text
    // would break silently the day std rewords its prefix.
    let addrs = (host, 0u16)
        .to_socket_addrs()
        .map_err(|e| error(e.to_string()))?;
    let mut ips: Vec<IpAddr> = Vec::new();
    for addr in addrs {
        if !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
    }
    if ips.is_empty() {
        return Err(error("getaddrinfo() returned empty list".into()));
    }
    Ok(ips.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whichever way it is made, an `Addresses` reads as the same slice;
    /// one address is kept inline, more share one allocation.
    #[test]
    fn addresses_read_as_their_slice() {
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "::1".parse().unwrap();
        for (made, want) in [
            (Addresses::from(a), vec![a]),
            (Addresses::from([a]), vec![a]),
            (Addresses::from(vec![a, b]), vec![a, b]),
            (Addresses::from(&[b, a][..]), vec![b, a]),
            ([a, b, a].into_iter().collect(), vec![a, b, a]),
            (Addresses::from(Vec::new()), vec![]),
        ] {
            assert_eq!(&made[..], &want[..]);
            assert_eq!(format!("{made:?}"), format!("{want:?}"));
            let inline = matches!(made.0, AddressesRepr::One(_));
            assert_eq!(inline, want.len() == 1, "{want:?}");
        }
        let shared = Addresses::from(vec![a, b]);
        let copy = shared.clone();
        match (&shared.0, &copy.0) {
            (AddressesRepr::Shared(x), AddressesRepr::Shared(y)) => assert!(Arc::ptr_eq(x, y)),
            _ => panic!("two addresses are shared"),
        }
    }
}
