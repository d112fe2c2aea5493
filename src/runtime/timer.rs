//! Timers: `sleep`, `sleep_until`, `timeout`, and the deadline heap behind
//! them.
//!
//! Each armed [`Sleep`] has a slot in a slab (its waker) and an entry in a
//! binary min-heap ordered by `(deadline, sequence)`. The heap's top tells
//! the loop how long `epoll_wait` may block; each loop turn pops and wakes
//! every expired entry. Arming is a slab insert and a heap push (O(log n));
//! a dropped or re-armed `Sleep` frees its slot at once (O(1)) and leaves its
//! heap entry behind, *stale*: the heap is rebuilt without the stale entries
//! once they outnumber the live ones, so cancelled timeouts cost neither a
//! search nor unbounded memory. A stale entry that comes due before that is
//! popped like a live one and wakes nobody; the loop may wake for it, once,
//! which costs less than popping every cancelled entry as it is cancelled
//! (fetches end in about the order they start, so the one ending is often
//! the heap's top).
//!
//! Python: `asyncio.sleep` is `loop.call_later` on a heap of `TimerHandle`s,
//! and a cancelled handle stays in that heap, flagged, until it reaches the
//! top or the loop cleans the heap up: the same design. `asyncio.wait_for`
//! is [`timeout`]. Like asyncio on epoll, the resolution is about one
//! millisecond: mio rounds the poll timeout up, never down, so a timer
//! never fires early.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::context;
use super::core::Core;
use super::slab::{Key, Slab};

/// Identifies one armed sleep: its slot in [`Timers`].
pub(crate) type TimerKey = Key;

/// Stale entries the heap may hold before it is rebuilt without them,
/// however few the live ones (rebuilding a tiny heap often is not worth it).
const STALE_SLACK: usize = 1024;

/// One deadline in the heap. The sequence number orders equal deadlines
/// first-armed first.
#[derive(Debug)]
struct Deadline {
    at: Instant,
    sequence: u64,
    key: TimerKey,
}

impl PartialEq for Deadline {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Deadline {}

impl PartialOrd for Deadline {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Deadline {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

/// The pending deadlines of one loop.
#[derive(Debug)]
pub(crate) struct Timers {
    /// The waker of each armed sleep.
    armed: Slab<Waker>,
    /// Every armed deadline, plus `stale` ones whose sleep was dropped or
    /// re-armed; `Reverse` makes std's max-heap a min-heap.
    heap: BinaryHeap<Reverse<Deadline>>,
    stale: usize,
    next_sequence: u64,
}

impl Default for Timers {
    fn default() -> Self {
        Timers {
            armed: Slab::new(),
            heap: BinaryHeap::new(),
            stale: 0,
            next_sequence: 0,
        }
    }
}

impl Timers {
    fn insert(&mut self, at: Instant, waker: Waker) -> TimerKey {
        let key = self.armed.insert(waker);
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.heap.push(Reverse(Deadline { at, sequence, key }));
        key
    }

    /// The waker of an armed sleep, while its deadline has not fired.
    fn waker_mut(&mut self, key: TimerKey) -> Option<&mut Waker> {
        self.armed.get_mut(key)
    }

    /// Disarms a sleep; `false` if it had fired already. Its heap entry
    /// goes stale.
    fn remove(&mut self, key: TimerKey) -> bool {
        if self.armed.remove(key).is_none() {
            return false;
        }
        self.stale += 1;
        if self.stale > STALE_SLACK && self.stale > self.armed.len() {
            let armed = &mut self.armed;
            self.heap
                .retain(|Reverse(deadline)| armed.get_mut(deadline.key).is_some());
            self.stale = 0;
        }
        true
    }

    /// The earliest deadline in the heap, which bounds the next poll. It
    /// may be a stale one: the loop then wakes once for nothing.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|Reverse(top)| top.at)
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.armed.len()
    }

    /// Removes every entry due at `now` and returns their wakers. The caller
    /// wakes them with the timers released.
    pub(crate) fn take_expired(&mut self, now: Instant, expired: &mut Vec<Waker>) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.at > now {
                break;
            }
            let key = top.key;
            self.heap.pop();
            match self.armed.remove(key) {
                Some(waker) => expired.push(waker),
                None => self.stale -= 1,
            }
        }
    }
}

/// A future that completes at a deadline: `asyncio.sleep`.
///
/// It registers with the loop's timers on its first `Pending` poll, not when
/// created, and a `Sleep` dropped before its deadline removes its entry.
pub struct Sleep {
    deadline: Instant,
    /// The loop and the entry, once registered.
    entry: Option<(Rc<Core>, TimerKey)>,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.entry.is_some())
            .finish()
    }
}

impl Sleep {
    /// When this sleep completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Moves the deadline. A later deadline keeps the timer entry already
    /// armed (when it fires early, `poll` arms it again for the new time),
    /// so pushing a deadline back after every read costs nothing; an
    /// earlier one replaces the entry.
    pub fn reset(&mut self, deadline: Instant) {
        if deadline < self.deadline {
            self.cancel();
        }
        self.deadline = deadline;
    }

    fn cancel(&mut self) {
        if let Some((core, key)) = self.entry.take() {
            if core.timers.borrow_mut().remove(key) {
                core.counters.timers_cancelled.incr();
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Armed, and the loop has not fired the entry yet: it will wake
        // this task when the deadline passes, so there is nothing to check
        // but the waker. (An entry armed for the current deadline is
        // popped by the loop's next `fire_timers` at the latest, so skipping
        // the clock here never delays the wake; it saves a clock reading on
        // every poll of a future that races a timer, as every fetch does.)
        if let Some((core, key)) = &self.entry {
            let mut timers = core.timers.borrow_mut();
            if let Some(waker) = timers.waker_mut(*key) {
                waker.clone_from(cx.waker());
                return Poll::Pending;
            }
        }
        if Instant::now() >= self.deadline {
            // Remove the entry if the loop has not popped it yet: a sleep
            // that is over must not wake anyone later.
            self.cancel();
            return Poll::Ready(());
        }
        let deadline = self.deadline;
        match &self.entry {
            Some((core, _)) => {
                // It fired for an earlier deadline (see `reset`): arm it
                // again for the current one.
                let key = core
                    .timers
                    .borrow_mut()
                    .insert(deadline, cx.waker().clone());
                if let Some(entry) = &mut self.entry {
                    entry.1 = key;
                }
            }
            None => {
                let core = context::current();
                let key = core
                    .timers
                    .borrow_mut()
                    .insert(deadline, cx.waker().clone());
                core.counters.timers_set.incr();
                self.entry = Some((core, key));
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Completes after `duration`: `await asyncio.sleep(seconds)`.
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    sleep_until(
        now.checked_add(duration)
            .unwrap_or(now + Duration::from_secs(86_400 * 365)),
    )
}

/// Completes at `deadline` (at once if it has passed).
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        entry: None,
    }
}

/// The error of a [`timeout`] that expired: asyncio's `TimeoutError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `future` for at most `duration`: `asyncio.wait_for(fut, timeout)`.
///
/// On expiry the inner future is dropped (cancelled: its sockets are
/// deregistered and closed, its timers removed) and `Err(Elapsed)` returned.
/// The inner future is polled first, so one that is already ready wins even
/// with a zero duration, and no timer is ever armed for it.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut expiry = pin!(sleep(duration));
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match expiry.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noop() -> Waker {
        Waker::noop().clone()
    }

    /// Deadlines fire in order, equal ones first-armed first, and a
    /// disarmed one never fires, even after its slot is reused.
    #[test]
    fn fires_in_order_and_skips_disarmed_entries() {
        let mut timers = Timers::default();
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let late = timers.insert(at(30), noop());
        let first = timers.insert(at(10), noop());
        let tie = timers.insert(at(10), noop());
        assert!(timers.remove(first));
        assert!(!timers.remove(first), "a key works once");
        // The freed slot is reused; the stale heap entry must not name it.
        let reused = timers.insert(at(20), noop());
        assert_eq!(reused.index, first.index);
        assert_eq!(timers.len(), 3);
        assert_eq!(timers.next_deadline(), Some(at(10)));

        let mut expired = Vec::new();
        timers.take_expired(at(10), &mut expired);
        assert_eq!(expired.len(), 1, "only `tie`: `first` was disarmed");
        assert!(timers.waker_mut(tie).is_none());
        assert_eq!(timers.next_deadline(), Some(at(20)));
        timers.take_expired(at(30), &mut expired);
        assert_eq!(expired.len(), 3);
        assert!(timers.waker_mut(late).is_none() && timers.waker_mut(reused).is_none());
        assert_eq!((timers.len(), timers.next_deadline()), (0, None));
    }

    /// Disarmed entries that never reach the top are swept once they
    /// outnumber the armed ones, so the heap stays within a bound of the
    /// sleeps that are armed, as every fetch's timer is disarmed early.
    #[test]
    fn stale_entries_stay_bounded() {
        let mut timers = Timers::default();
        let t0 = Instant::now();
        // One armed sleep keeps the top busy, so nothing is popped there.
        let _first = timers.insert(t0, noop());
        for i in 0..100_000 {
            let key = timers.insert(t0 + Duration::from_secs(10 + i), noop());
            assert!(timers.remove(key));
            assert!(
                timers.heap.len() <= 2 * STALE_SLACK + 2,
                "{}",
                timers.heap.len()
            );
        }
        assert_eq!(timers.len(), 1);
    }
}
