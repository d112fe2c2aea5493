//! The event loop: a reactor on mio, an executor with wakers, and timers.
//!
//! This module is Python's `asyncio` event loop in miniature. A [`Runtime`] is
//! the loop object; [`Runtime::block_on`] is `loop.run_until_complete`;
//! [`spawn`] is `asyncio.create_task` ([`spawn_detached`] when the task
//! object would be thrown away); [`sleep`], [`timeout`], [`yield_now`]
//! and [`join_all`] stand in for `asyncio.sleep`, `asyncio.wait_for`,
//! `asyncio.sleep(0)` and `asyncio.gather`.
//!
//! # One turn of the loop
//!
//! ```text
//!   ┌─► 1. run queued tasks  (until none is left or MAX_TASKS_PER_TURN have run;
//!   │                         each poll also gets an I/O budget; a task that
//!   │                         wakes itself, as one that spends its budget does,
//!   │                         is deferred: it runs on the next turn, after the
//!   │                         other queued tasks)
//!   │   2. poll mio          (timeout: 0 if tasks are still queued, else until the
//!   │                         next timer, else for ever) and wake the tasks the
//!   │                         events concern; collect wakes from other threads
//!   └── 3. fire timers       (wake every task whose deadline has passed)
//! ```
//!
//! Nothing is polled unless something woke it, and an idle loop blocks in
//! `epoll_wait`, so a loop waiting on a slow server uses no CPU. A task is
//! polled at most once between two polls of the reactor unless another task
//! wakes it, so one task flooded with data cannot hold up I/O, timers or the
//! other tasks.
//!
//! The loop is single-threaded, like asyncio and tokio's `current_thread`
//! runtime: futures need not be `Send`. Other threads (the DNS workers, and
//! the command's input and output threads) reach the loop only through a
//! task's `Waker`, or a [`channel`] whose ends wake through one. Signals
//! reach it as readiness too: a handler writes a byte to a socket the
//! reactor watches ([`Signals`]).

pub mod channel;
mod context;
mod core;
mod executor;
mod io_source;
mod join;
mod join_handle;
mod reactor;
mod signal;
mod slab;
mod spans;
mod stats;
mod sync;
mod task;
mod timer;
mod waker;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::pin;
use std::rc::Rc;

pub use join::{join_all, race, yield_now};
pub use join_handle::{JoinError, JoinHandle};
pub use signal::{signal_name, Signals};
pub use spans::{LoopSpan, SpanKind, MAX_SPANS};
pub use stats::Stats;
pub use timer::{sleep, sleep_until, timeout, Elapsed, Sleep};

pub(crate) use io_source::IoSource;
pub(crate) use reactor::{Direction, Drained};
pub(crate) use slab::{Key, Slab};
pub(crate) use stats::{Counter, Counters};
pub(crate) use sync::lock;
pub(crate) use waker::store_waker;

use self::core::{Core, MainTask};

/// A single-threaded event loop.
///
/// ```
/// use std::time::Duration;
/// use fetch_headers::runtime::{join_all, sleep, spawn, timeout, Runtime};
///
/// let rt = Runtime::new()?;                              // asyncio.new_event_loop()
/// let sum = rt.block_on(async {                          // loop.run_until_complete(...)
///     let task = spawn(async { sleep(Duration::from_millis(1)).await; 40 });
///     let doubled = join_all((0..2).map(|i| async move { i * 2 })).await;
///     let late = timeout(Duration::from_millis(1), sleep(Duration::from_secs(5))).await;
///     assert!(late.is_err(), "wait_for gave up on the slow sleep");
///     task.await.unwrap() + doubled.into_iter().map(Result::unwrap).sum::<i32>()
/// });
/// assert_eq!(sum, 42);
/// # Ok::<(), std::io::Error>(())
/// ```
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
        Ok(Runtime {
            core: Rc::new(Core::new()?),
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
        let future = pin!(future);
        let mut main = MainTask::new(core, future);
        loop {
            core.counters.turns.incr();
            // 1. Run the woken tasks, up to the budget of one turn.
            if let Some(output) = core.run_ready_tasks(&mut main) {
                return output;
            }
            // 2. Wait for I/O (not at all if tasks are still queued).
            core.park();
            // 3. Wake the tasks whose timers are due.
            core.fire_timers();
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
        self.core.executor.drop_all();
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

/// Spawns `future` as a new task on the running loop and keeps no handle
/// to it: `asyncio.create_task(coro)` with the task object thrown away.
///
/// The same as `drop(spawn(future))`, minus the slot a [`JoinHandle`]
/// would read the output from. Once earlier tasks have finished and left
/// their wakers for reuse, such a task costs one allocation: its boxed
/// future. Nothing can await or abort it; it runs until it finishes or the
/// runtime is dropped.
///
/// # Panics
/// Outside [`Runtime::block_on`].
pub fn spawn_detached<F>(future: F)
where
    F: Future<Output = ()> + 'static,
{
    context::current().spawn_detached(future)
}

/// A snapshot of the running loop's counters.
///
/// # Panics
/// Outside [`Runtime::block_on`].
pub fn stats() -> Stats {
    context::current().counters.snapshot()
}
