//! Timers: `sleep`, `sleep_until`, `timeout`, and the deadline map behind them.
//!
//! Pending deadlines live in an ordered map keyed by `(deadline, sequence)`.
//! The earliest key tells the loop how long `epoll_wait` may block; each loop
//! turn pops and wakes every expired entry. Inserting and cancelling are
//! O(log n), and a dropped [`Sleep`] removes its own entry, so cancelled
//! timeouts leave nothing behind.
//!
//! Python: `asyncio.sleep` is `loop.call_later` on a heap of `TimerHandle`s;
//! `asyncio.wait_for` is [`timeout`]. Like asyncio on epoll, the resolution is
//! about one millisecond: mio rounds the poll timeout up, never down, so a
//! timer never fires early.

use std::collections::BTreeMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::context;
use super::core::Core;

/// Identifies one pending deadline; the sequence number breaks ties.
pub(crate) type TimerKey = (Instant, u64);

/// The pending deadlines of one loop.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    pending: BTreeMap<TimerKey, Waker>,
    next_sequence: u64,
}

impl Timers {
    fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = (deadline, self.next_sequence);
        self.next_sequence += 1;
        self.pending.insert(key, waker);
        key
    }

    /// The earliest pending deadline, which bounds the next poll.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.pending.first_key_value().map(|(key, _)| key.0)
    }

    /// Number of pending timers.
    pub(crate) fn len(&self) -> usize {
        self.pending.len()
    }

    /// Removes every entry due at `now` and returns their wakers. The caller
    /// wakes them with the map released.
    pub(crate) fn take_expired(&mut self, now: Instant, expired: &mut Vec<Waker>) {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            expired.push(entry.remove());
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
            let removed = core.timers.borrow_mut().pending.remove(&key);
            if removed.is_some() {
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
            if let Some(waker) = timers.pending.get_mut(key) {
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
