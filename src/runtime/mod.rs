//! The event loop: a reactor on mio, an executor with wakers, and timers.
//!
//! This module is Python's `asyncio` event loop in miniature. A [`Runtime`] is
//! the loop object; [`Runtime::block_on`] is `loop.run_until_complete`;
//! [`spawn`] is `asyncio.create_task`; [`sleep`], [`timeout`], [`yield_now`]
//! and [`join_all`] stand in for `asyncio.sleep`, `asyncio.wait_for`,
//! `asyncio.sleep(0)` and `asyncio.gather`.
//!
//! # One turn of the loop
//!
//! ```text
//!   ┌─► 1. run queued tasks  (until none is left or MAX_TASKS_PER_TURN have run;
//!   │                         each poll also gets an I/O budget)
//!   │   2. poll mio          (timeout: 0 if tasks are still queued, else until the
//!   │                         next timer, else for ever) and wake the tasks the
//!   │                         events concern; collect wakes from other threads
//!   └── 3. fire timers       (wake every task whose deadline has passed)
//! ```
//!
//! Nothing is polled unless something woke it, and an idle loop blocks in
//! `epoll_wait`, so a loop waiting on a slow server uses no CPU.
//!
//! The loop is single-threaded, like asyncio and tokio's `current_thread`
//! runtime: futures need not be `Send`. Only the DNS workers run on other
//! threads, and they reach the loop through a task's `Waker` alone.

pub mod channel;
mod context;
mod executor;
mod io_source;
mod join;
mod reactor;
mod slab;
mod spans;
mod stats;
mod task;
mod timer;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

pub use join::{join_all, race, yield_now};
pub use spans::{LoopSpan, SpanKind, MAX_SPANS};
pub use stats::Stats;
pub use task::{JoinError, JoinHandle};
pub use timer::{sleep, sleep_until, timeout, Elapsed, Sleep};

pub(crate) use io_source::IoSource;
pub(crate) use reactor::Direction;
pub(crate) use stats::Counters;

use context::Core;
use executor::{Executor, MAX_TASKS_PER_TURN};
use reactor::{Reactor, WAKE_TOKEN};
use task::{Remote, MAIN};

/// How many readiness events one `epoll_wait` may return.
const EVENTS_PER_POLL: usize = 1024;

/// A single-threaded event loop.
pub struct Runtime {
    core: Rc<Core>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("tasks", &self.core.executor.len())
            .field("sockets", &self.core.reactor.len())
            .field("timers", &self.core.timers.borrow().len())
            .finish()
    }
}

impl Runtime {
    /// Creates a loop: an epoll instance and an eventfd for cross-thread wakes.
    pub fn new() -> io::Result<Runtime> {
        let reactor = Reactor::new(EVENTS_PER_POLL)?;
        let waker = mio::Waker::new(reactor.registry(), WAKE_TOKEN)?;
        let core = Core {
            executor: Executor::new(),
            reactor,
            timers: Default::default(),
            remote: Arc::new(Remote {
                queue: Mutex::new(Vec::new()),
                waker,
            }),
            counters: Counters::default(),
            spans: Default::default(),
        };
        Ok(Runtime {
            core: Rc::new(core),
        })
    }

    /// Runs the loop until `future` completes and returns its output:
    /// `loop.run_until_complete(coro)`.
    ///
    /// Tasks spawned meanwhile that have not finished are left in the loop
    /// (as in asyncio) and go on running in the next `block_on`; they are
    /// dropped with the `Runtime`.
    ///
    /// # Panics
    /// If a loop is already running on this thread, and if a task panics
    /// (the panic is not caught: it unwinds out of `block_on`).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let core = &self.core;
        let _enter = context::enter(core.clone());
        let mut future = pin!(future);
        let main_waker = core.task_waker(MAIN);
        let waker = Waker::from(main_waker.clone());
        let mut cx = Context::from_waker(&waker);
        waker.wake_by_ref(); // the first poll
        let mut expired = Vec::new();

        loop {
            Counters::add(&core.counters.turns, 1);

            // 1. Run queued tasks, including ones woken or spawned while
            //    these run, up to the budget; then look at I/O and timers
            //    even if tasks are still queued.
            let run_start = Instant::now();
            let mut ran = 0;
            while ran < MAX_TASKS_PER_TURN {
                let Some(key) = core.executor.run_queue.borrow_mut().pop_front() else {
                    break;
                };
                ran += 1;
                if key == MAIN {
                    main_waker
                        .queued
                        .store(false, std::sync::atomic::Ordering::Release);
                    core.refill_budget();
                    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                        return output;
                    }
                } else {
                    core.run_task(key);
                }
            }
            log::trace!("turn: ran {ran} tasks");

            // 2. Poll for I/O. Block only if there is nothing to run.
            let (poll_timeout, why) = if !core.executor.run_queue.borrow().is_empty() {
                (Some(Duration::ZERO), "tasks are still queued")
            } else {
                match core.timers.borrow().next_deadline() {
                    Some(deadline) => (
                        Some(deadline.saturating_duration_since(Instant::now())),
                        "the next timer",
                    ),
                    None => (
                        None,
                        "nothing to do until I/O or a wake from another thread",
                    ),
                }
            };
            log::trace!("poll: timeout {poll_timeout:?} ({why})");
            let before = Instant::now();
            let outcome = match core.reactor.poll(poll_timeout) {
                Ok(outcome) => outcome,
                // epoll_wait only fails on a broken epoll fd: nothing can go on.
                Err(e) => panic!("the event loop's poll failed: {e}"),
            };
            if poll_timeout != Some(Duration::ZERO) {
                let counters = &core.counters;
                Counters::add(&counters.polls_blocking, 1);
                counters
                    .blocked
                    .set(counters.blocked.get() + before.elapsed());
            }
            if let Some(spans) = core.spans.borrow_mut().as_mut() {
                if spans.len() + 2 <= MAX_SPANS {
                    let kind = SpanKind::Run { tasks: ran };
                    spans.push(LoopSpan {
                        start: run_start,
                        end: before,
                        kind,
                    });
                    let kind = SpanKind::Poll {
                        timeout: poll_timeout,
                        events: outcome.events,
                    };
                    spans.push(LoopSpan {
                        start: before,
                        end: Instant::now(),
                        kind,
                    });
                }
            }
            let counters = &core.counters;
            Counters::add(&counters.events, outcome.events as u64);
            Counters::add(&counters.events_stale, outcome.stale as u64);
            if outcome.events as u64 > counters.events_max.get() {
                counters.events_max.set(outcome.events as u64);
            }
            if outcome.remote_wake {
                core.drain_remote();
            }

            // 3. Fire the timers that are due.
            core.timers
                .borrow_mut()
                .take_expired(Instant::now(), &mut expired);
            if !expired.is_empty() {
                log::trace!("timers: {} fired", expired.len());
                Counters::add(&counters.timers_fired, expired.len() as u64);
                for waker in expired.drain(..) {
                    waker.wake();
                }
            }
        }
    }

    /// A snapshot of the loop's counters.
    pub fn stats(&self) -> Stats {
        self.core.counters.snapshot()
    }

    /// Starts (or stops) recording the loop's run and poll spans, at most
    /// [`MAX_SPANS`] of them.
    pub fn record_spans(&self, on: bool) {
        *self.core.spans.borrow_mut() = on.then(Vec::new);
    }

    /// The spans recorded so far; recording goes on if it was on.
    pub fn take_spans(&self) -> Vec<LoopSpan> {
        self.core
            .spans
            .borrow_mut()
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Tasks hold `Rc<Core>` clones (through sockets and timers); dropping
        // them here breaks that cycle and closes their sockets.
        self.core.drop_all_tasks();
    }
}

/// Spawns `future` as a new task on the running loop: `asyncio.create_task`.
///
/// The task starts on a later turn, not inside this call. The returned
/// handle can be awaited for the output or used to abort; dropping it
/// detaches the task.
///
/// # Panics
/// Outside [`Runtime::block_on`].
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::current().spawn(future)
}

/// A snapshot of the running loop's counters.
///
/// # Panics
/// Outside [`Runtime::block_on`].
pub fn stats() -> Stats {
    context::current().counters.snapshot()
}
