//! The run's answers: shared by every lookup of a name, kept until their TTL.
//!
//! One [`Entry`] per host name holds a slot per address family. The task
//! resolving the name fills the slots as answers arrive and wakes every
//! lookup waiting on the entry, so identical questions in flight are asked
//! once. Waiters hold the entry itself (an `Rc`), not its key: an entry
//! evicted or expired while they wait still reaches them.
//!
//! Finished entries stay in the [`Cache`] until the smallest TTL among
//! their answers has passed (an expired entry is resolved again), and at
//! most `capacity` of them are kept: past that, the one closest to expiry
//! goes first. Entries still being resolved are never evicted; there are
//! at most as many as lookups in progress. Answers that may not be cached
//! (failures, TTL 0, a negative answer without an SOA) are dropped from the
//! map as soon as the waiters have them.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::error::{IpFamily, LookupError};
use super::pool::Addresses;

/// One family's result.
pub(crate) type Outcome = Result<Addresses, LookupError>;

/// Where a finished entry sits in the expiry index.
type ExpiryKey = (Instant, u64);

/// The shared state of one host name's lookup.
#[derive(Default)]
pub(crate) struct Entry {
    /// IPv4 and IPv6 results, `None` while still being resolved.
    slots: RefCell<[Option<Outcome>; 2]>,
    /// Lookups waiting for a slot to fill.
    waiters: RefCell<Vec<Waker>>,
    /// Set once the entry is cached.
    expires: Cell<Option<ExpiryKey>>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("slots", &self.slots.borrow())
            .field("waiters", &self.waiters.borrow().len())
            .finish()
    }
}

impl Entry {
    /// An entry whose results are known already (no query needed).
    pub(crate) fn ready(v4: Outcome, v6: Outcome) -> Rc<Entry> {
        let entry = Entry::default();
        *entry.slots.borrow_mut() = [Some(v4), Some(v6)];
        Rc::new(entry)
    }

    /// The result for `family`, if it has arrived.
    pub(crate) fn get(&self, family: IpFamily) -> Option<Outcome> {
        self.slots.borrow()[family.index()].clone()
    }

    /// True once both families have their results.
    pub(crate) fn is_finished(&self) -> bool {
        self.slots.borrow().iter().all(Option::is_some)
    }

    /// Asks to be woken when a slot fills.
    pub(crate) fn register(&self, cx: &mut Context<'_>) {
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
    }

    /// The result for `family`, or `Pending` with the waker registered.
    pub(crate) fn poll_family(&self, family: IpFamily, cx: &mut Context<'_>) -> Poll<Outcome> {
        match self.get(family) {
            Some(outcome) => Poll::Ready(outcome),
            None => {
                self.register(cx);
                Poll::Pending
            }
        }
    }

    /// Fills `family`'s slot and wakes every waiter (each looks again at
    /// what it waits for).
    pub(crate) fn finish(&self, family: IpFamily, outcome: Outcome) {
        self.slots.borrow_mut()[family.index()] = Some(outcome);
        let waiters = std::mem::take(&mut *self.waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }
}

/// Host name to entry, with an expiry index and a bound.
#[derive(Debug)]
pub(crate) struct Cache {
    map: HashMap<String, Rc<Entry>>,
    /// Finished, cached entries by expiry; its length is what `capacity`
    /// bounds.
    expiry: BTreeMap<ExpiryKey, String>,
    sequence: u64,
    capacity: usize,
}

impl Cache {
    /// A cache keeping at most `capacity` finished entries (0: none).
    pub(crate) fn new(capacity: usize) -> Cache {
        Cache {
            map: HashMap::new(),
            expiry: BTreeMap::new(),
            sequence: 0,
            capacity,
        }
    }

    /// The entry for `key`, in flight or unexpired. An expired entry is
    /// removed, so the caller resolves the name again.
    pub(crate) fn get(&mut self, key: &str, now: Instant) -> Option<Rc<Entry>> {
        let entry = self.map.get(key)?;
        match entry.expires.get() {
            Some(expiry) if expiry.0 <= now => {
                self.expiry.remove(&expiry);
                self.map.remove(key);
                None
            }
            _ => Some(entry.clone()),
        }
    }

    /// Records a lookup that has just started.
    pub(crate) fn insert_pending(&mut self, key: String, entry: Rc<Entry>) {
        self.map.insert(key, entry);
    }

    /// Called when `entry` has both results: caches it for `ttl`, or
    /// forgets it (`None`, zero, or a cache of capacity 0).
    pub(crate) fn finished(
        &mut self,
        key: &str,
        entry: &Rc<Entry>,
        ttl: Option<Duration>,
        now: Instant,
    ) {
        let ours = self
            .map
            .get(key)
            .is_some_and(|current| Rc::ptr_eq(current, entry));
        if !ours {
            return;
        }
        let expires = ttl
            .filter(|ttl| !ttl.is_zero() && self.capacity > 0)
            .and_then(|ttl| now.checked_add(ttl));
        let Some(expires) = expires else {
            self.map.remove(key);
            return;
        };
        let expiry = (expires, self.sequence);
        self.sequence += 1;
        entry.expires.set(Some(expiry));
        self.expiry.insert(expiry, key.to_owned());

        // Expired entries go first, then the ones closest to expiry, until
        // the bound holds.
        loop {
            let over = self.expiry.len() > self.capacity;
            let Some(first) = self.expiry.first_entry() else {
                break;
            };
            if first.key().0 > now && !over {
                break;
            }
            let key = first.remove();
            self.map.remove(&key);
        }
    }

    /// Entries in the map: cached plus in flight.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}
