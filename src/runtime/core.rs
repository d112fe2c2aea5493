//! `Core`: everything one event loop owns, and the three steps of a turn.
//!
//! [`Core`] holds the executor (tasks and run queue), the reactor (mio and
//! the socket registrations), the timers and the counters. It lives in an
//! `Rc` because the loop is single-threaded; I/O objects, sleeps and join
//! handles each keep a clone so they can deregister themselves when dropped.
//!
//! [`super::Runtime::block_on`] is a loop over the three steps defined here,
//! each of which also records the counters it is the one to know:
//!
//! 1. [`Core::run_ready_tasks`]: poll the woken tasks, up to a budget,
//!    behind them the ones that deferred themselves on the last turn;
//! 2. [`Core::park`]: wait for I/O (not at all if tasks are still queued),
//!    and turn events into wakes;
//! 3. [`Core::fire_timers`]: wake the tasks whose deadlines have passed.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use super::executor::{Executor, MAX_TASKS_PER_TURN};
use super::join_handle::JoinHandle;
use super::reactor::{Reactor, WAKE_TOKEN};
use super::slab::Key;
use super::spans::{LoopSpan, SpanKind, MAX_SPANS};
use super::stats::Counters;
use super::task::TaskCell;
use super::timer::Timers;
use super::waker::{Remote, TaskWaker, MAIN};

/// How many readiness events one `epoll_wait` may return.
const EVENTS_PER_POLL: usize = 1024;

/// The state of one event loop.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) executor: Executor,
    pub(crate) reactor: Reactor,
    pub(crate) timers: RefCell<Timers>,
    pub(crate) remote: Arc<Remote>,
    pub(crate) counters: Counters,
    /// The loop's spans, while recording (`Runtime::record_spans`).
    pub(crate) spans: RefCell<Option<Vec<LoopSpan>>>,
}

/// The future given to `block_on`: it lives on the loop's stack, not in the
/// slab, and is polled when the [`MAIN`] key comes off the run queue.
pub(crate) struct MainTask<'a, F: Future> {
    future: Pin<&'a mut F>,
    waker: Arc<TaskWaker>,
    std_waker: Waker,
}

impl<'a, F: Future> MainTask<'a, F> {
    /// Wraps `future` and queues its first poll: nothing is polled unless
    /// its key is on the run queue, and nothing else would put it there.
    pub(crate) fn new(core: &Core, future: Pin<&'a mut F>) -> Self {
        let waker = Arc::new(TaskWaker::new(MAIN, core.remote.clone(), false));
        let std_waker = Waker::from(waker.clone());
        waker.wake_by_ref();
        MainTask {
            future,
            waker,
            std_waker,
        }
    }

    fn poll(&mut self, core: &Core) -> Poll<F::Output> {
        self.waker.unqueue();
        core.executor.start_running(MAIN);
        let poll = self
            .future
            .as_mut()
            .poll(&mut Context::from_waker(&self.std_waker));
        core.executor.stop_running();
        poll
    }
}

impl Core {
    /// A loop: an epoll instance and an eventfd for cross-thread wakes.
    pub(crate) fn new() -> io::Result<Core> {
        let reactor = Reactor::new(EVENTS_PER_POLL)?;
        let waker = reactor.waker(WAKE_TOKEN)?;
        Ok(Core {
            executor: Executor::new(),
            reactor,
            timers: Default::default(),
            remote: Arc::new(Remote {
                queue: Mutex::new(Vec::new()),
                waker,
            }),
            counters: Counters::default(),
            spans: Default::default(),
        })
    }

    /// Stores `future` as a new task, first polled on this or the next turn,
    /// with a slot its output goes to for the returned handle.
    pub(crate) fn spawn<F>(self: &Rc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (cell, slot) = TaskCell::new(future);
        let key = self
            .executor
            .spawn(Box::pin(cell), &self.remote, &self.counters);
        JoinHandle::new(key, self.clone(), slot)
    }

    /// Stores `future` as a new task that nothing awaits: no slot, no
    /// handle, just the boxed future.
    pub(crate) fn spawn_detached<F>(&self, future: F)
    where
        F: Future<Output = ()> + 'static,
    {
        let future = self.executor.boxed(future);
        self.executor.spawn(future, &self.remote, &self.counters);
    }

    /// Cancels the task under `key`.
    pub(crate) fn abort(&self, key: Key) {
        self.executor.abort(key);
    }

    /// Takes one I/O operation from the running task's budget; `false`
    /// means it is spent and the caller must return `Pending` (the task has
    /// been woken to run again on the next turn).
    pub(crate) fn take_budget(&self, cx: &mut Context<'_>) -> bool {
        self.executor.take_budget(cx, &self.counters)
    }

    /// Step 1: polls queued tasks, including ones woken or spawned while
    /// these run, until the queue is empty or [`MAX_TASKS_PER_TURN`] polls
    /// have run. Returns the `block_on` future's output once it is ready.
    ///
    /// The tasks deferred by the last turn (they woke themselves: spent
    /// their I/O budget, or yielded) go first to the back of the queue, so
    /// the tasks that I/O and timers woke since run before them. A task
    /// that defers itself now waits for the next turn, after `park`.
    pub(crate) fn run_ready_tasks<F: Future>(
        &self,
        main: &mut MainTask<'_, F>,
    ) -> Option<F::Output> {
        let started = self.recording().then(Instant::now);
        self.executor.requeue_deferred();
        let mut ran = 0;
        while ran < MAX_TASKS_PER_TURN {
            let Some(key) = self.executor.next_ready() else {
                break;
            };
            ran += 1;
            if key != MAIN {
                self.executor.run_task(key, &self.counters);
            } else if let Poll::Ready(output) = main.poll(self) {
                return Some(output);
            }
        }
        log::trace!("turn: ran {ran} tasks");
        if let Some(start) = started {
            let kind = SpanKind::Run { tasks: ran };
            self.record(start, kind);
        }
        None
    }

    /// Step 2: waits for I/O events and wakes the tasks they concern; also
    /// collects the wakes that came from other threads.
    ///
    /// # Panics
    /// If `epoll_wait` fails, which only happens to a broken epoll
    /// descriptor: the loop cannot go on without it.
    pub(crate) fn park(&self) {
        let (timeout, why) = self.poll_timeout();
        log::trace!("poll: timeout {timeout:?} ({why})");
        let before = Instant::now();
        let outcome = match self.reactor.poll(timeout) {
            Ok(outcome) => outcome,
            Err(e) => panic!("the event loop's poll failed: {e}"),
        };
        let counters = &self.counters;
        if timeout != Some(Duration::ZERO) {
            counters.polls_blocking.incr();
            counters
                .blocked
                .set(counters.blocked.get() + before.elapsed());
        }
        counters.events.add(outcome.events as u64);
        counters.events_stale.add(outcome.stale as u64);
        counters.events_max.raise_to(outcome.events as u64);
        if self.recording() {
            let kind = SpanKind::Poll {
                timeout,
                events: outcome.events,
            };
            self.record(before, kind);
        }
        if outcome.remote_wake {
            self.executor.push_remote(self.remote.take(), counters);
        }
    }

    /// Step 3: wakes every task whose timer is due.
    pub(crate) fn fire_timers(&self) {
        let mut expired = Vec::new();
        self.timers
            .borrow_mut()
            .take_expired(Instant::now(), &mut expired);
        if expired.is_empty() {
            return;
        }
        log::trace!("timers: {} fired", expired.len());
        self.counters.timers_fired.add(expired.len() as u64);
        // Woken with the timer map released: a wake may touch it.
        for waker in expired {
            waker.wake();
        }
    }

    /// How long `park` may block: not at all while tasks are queued, until
    /// the next timer if there is one, otherwise until an event arrives.
    fn poll_timeout(&self) -> (Option<Duration>, &'static str) {
        if self.executor.has_ready() {
            return (Some(Duration::ZERO), "tasks are still queued");
        }
        match self.timers.borrow().next_deadline() {
            Some(deadline) => (
                Some(deadline.saturating_duration_since(Instant::now())),
                "the next timer",
            ),
            None => (
                None,
                "nothing to do until I/O or a wake from another thread",
            ),
        }
    }

    fn recording(&self) -> bool {
        self.spans.borrow().is_some()
    }

    /// Records a span from `start` to now, up to [`MAX_SPANS`].
    fn record(&self, start: Instant, kind: SpanKind) {
        if let Some(spans) = self.spans.borrow_mut().as_mut() {
            if spans.len() < MAX_SPANS {
                let end = Instant::now();
                spans.push(LoopSpan { start, end, kind });
            }
        }
    }
}
