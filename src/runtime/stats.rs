//! Counters of what the loop did, always on and cheap.
//!
//! Each [`Counter`] is a plain `Cell<u64>` on the loop thread: an increment
//! is one add, no atomics. [`Stats`] is the snapshot that
//! [`super::Runtime::stats`] returns.

use std::cell::Cell;
use std::time::Duration;

/// One live count, owned by the loop thread.
#[derive(Debug, Default)]
pub(crate) struct Counter(Cell<u64>);

impl Counter {
    /// Adds one.
    pub(crate) fn incr(&self) {
        self.add(1);
    }

    /// Adds `n`.
    pub(crate) fn add(&self, n: u64) {
        self.0.set(self.0.get() + n);
    }

    /// Subtracts one, stopping at zero.
    pub(crate) fn decr(&self) {
        self.0.set(self.0.get().saturating_sub(1));
    }

    /// Raises the count to `n` if `n` is larger: for high-water marks.
    pub(crate) fn raise_to(&self, n: u64) {
        if n > self.0.get() {
            self.0.set(n);
        }
    }

    /// The count now.
    pub(crate) fn get(&self) -> u64 {
        self.0.get()
    }
}

macro_rules! counters {
    ($( $(#[$doc:meta])* $name:ident ),* $(,)?) => {
        /// The live counters, owned by the loop.
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub(crate) $name: Counter, )*
            pub(crate) blocked: Cell<Duration>,
        }

        /// A snapshot of the loop's counters.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct Stats {
            $( $(#[$doc])* pub $name: u64, )*
            /// Time spent blocked inside `epoll_wait`.
            pub blocked: Duration,
        }

        impl Counters {
            pub(crate) fn snapshot(&self) -> Stats {
                Stats { $( $name: self.$name.get(), )* blocked: self.blocked.get() }
            }
        }

        impl Stats {
            /// Every counter with its name, in declaration order (without
            /// `blocked`, which is a duration).
            pub fn counters(&self) -> Vec<(&'static str, u64)> {
                vec![ $( (stringify!($name), self.$name), )* ]
            }
        }
    };
}

counters! {
    /// Loop iterations (run tasks, poll, fire timers).
    turns,
    /// Polls that were allowed to block (a non-zero timeout).
    polls_blocking,
    /// Readiness events dispatched to wakers.
    events,
    /// The most events one poll returned.
    events_max,
    /// Events for sockets already dropped (refused by the generation check).
    events_stale,
    /// Tasks spawned.
    tasks_spawned,
    /// Task polls.
    tasks_polled,
    /// Tasks that ran to completion (not aborted).
    tasks_completed,
    /// Wakes on the loop thread.
    wakes_local,
    /// Wakes from other threads (DNS workers, the input and output threads).
    wakes_remote,
    /// Timers armed.
    timers_set,
    /// Timers that reached their deadline.
    timers_fired,
    /// Timers removed before their deadline (a `timeout` that did not expire).
    timers_cancelled,
    /// Times a task used up its I/O budget and was made to yield.
    budget_exhausted,
    /// Wakes of a task by itself while it was polled (a spent budget, a
    /// `yield_now`): the task ran again only on the next turn.
    tasks_deferred,
    /// Socket reads and writes that found nothing to do (`WouldBlock`).
    would_block,
    /// Bytes read from sockets.
    bytes_read,
    /// Bytes written to sockets.
    bytes_written,
    /// TCP connections open now.
    connections_open,
    /// The most TCP connections open at once.
    connections_max,
}

impl Counters {
    pub(crate) fn connection_opened(&self) {
        self.connections_open.incr();
        self.connections_max.raise_to(self.connections_open.get());
    }

    pub(crate) fn connection_closed(&self) {
        self.connections_open.decr();
    }
}
