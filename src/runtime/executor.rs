//! The executor: the task slab, the run queue, and polling a task once.
//!
//! A task is polled only when its waker put its key on the run queue; there is
//! no polling "just in case". The loop in [`super::Runtime::block_on`] decides
//! *when* to run the queue; this file decides *how* one task is stored, queued
//! and run.
//!
//! A task is a [`Task`] in a generational slab: its boxed future and the
//! `Arc<TaskWaker>` its wakers point to (`task.rs` says why each is there).
//! When a task ends and nothing else holds its waker any more, the `Arc` is
//! kept on a short list of spares and re-keyed for a later spawn; a
//! detached task's box, emptied, is kept for the next detached task of the
//! same type. So a loop that keeps starting and finishing detached tasks,
//! as the fetch engine does, allocates nothing for them once it is going.
//!
//! Three rules keep one busy task from starving the rest:
//! - each poll of a task gets [`OPS_PER_POLL`] I/O operations. A leaf future
//!   that finds the budget spent returns `Pending` after waking its own task,
//!   so a task reading from a socket that always has data still yields (tokio
//!   calls this cooperative scheduling);
//! - a task that wakes itself while it is being polled (it spent its budget,
//!   or called [`yield_now`](super::yield_now)) is *deferred*: its key goes
//!   on a list that joins the run queue only at the start of the next turn,
//!   behind every task woken meanwhile, so the reactor has been polled and
//!   the timers fired before it runs again. Without this, a task reading
//!   from a peer that never stops sending would be polled again at once, up
//!   to the whole turn's budget, while I/O events and timers wait (tokio
//!   keeps such tasks on its `defer` list; asyncio gets the same effect by
//!   running one snapshot of its ready queue per turn);
//! - the loop runs at most [`MAX_TASKS_PER_TURN`] task polls before it polls
//!   for I/O and fires timers again, for tasks that keep waking *each
//!   other*.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use super::slab::{Key, Slab};
use super::stats::Counters;
use super::task::{BoxFuture, SpareFutures, Task};
use super::waker::{Remote, TaskWaker};

/// Task polls per loop turn before the loop checks I/O and timers again
/// (tokio's `event_interval` is 61; asyncio runs one snapshot of its ready
/// queue).
pub(crate) const MAX_TASKS_PER_TURN: usize = 256;

/// I/O operations one poll of a task may complete before it must yield.
pub(crate) const OPS_PER_POLL: u32 = 128;

/// How many wakers of finished tasks the executor keeps for later spawns:
/// enough for the tasks of a busy run to end and start again without
/// allocating, few enough (a waker is 40 bytes) not to matter if they never do.
const MAX_SPARE_WAKERS: usize = 1024;

/// Task storage and scheduling state.
#[derive(Debug)]
pub(crate) struct Executor {
    tasks: RefCell<Slab<Task>>,
    /// Keys of the tasks to poll, in the order they were woken.
    run_queue: RefCell<VecDeque<Key>>,
    /// Keys of the tasks that woke themselves while they were polled: they
    /// join the run queue at the start of the next turn.
    deferred: RefCell<Vec<Key>>,
    /// The task being polled (`MAIN` for the `block_on` future), so that
    /// its own wakes can be told from the others.
    running: Cell<Option<Key>>,
    /// I/O operations left for the task being polled.
    budget: Cell<u32>,
    /// Wakers of finished tasks that nothing else holds, for the next
    /// spawns to re-key instead of allocating (at most
    /// [`MAX_SPARE_WAKERS`]).
    spare_wakers: RefCell<Vec<Arc<TaskWaker>>>,
    /// The emptied boxes of finished detached tasks, for the next tasks of
    /// the same types.
    spare_futures: SpareFutures,
}

impl Executor {
    pub(crate) fn new() -> Executor {
        Executor {
            tasks: RefCell::new(Slab::new()),
            run_queue: RefCell::new(VecDeque::new()),
            deferred: RefCell::new(Vec::new()),
            running: Cell::new(None),
            budget: Cell::new(OPS_PER_POLL),
            spare_wakers: RefCell::new(Vec::new()),
            spare_futures: SpareFutures::default(),
        }
    }

    /// Number of live tasks (not counting the `block_on` future).
    pub(crate) fn len(&self) -> usize {
        self.tasks.borrow().len()
    }

    /// Queues a task woken on the loop thread: on the run queue, or, if it
    /// is the task being polled, on the deferred list.
    pub(crate) fn push_woken(&self, key: Key, counters: &Counters) {
        counters.wakes_local.incr();
        if self.running.get() == Some(key) {
            counters.tasks_deferred.incr();
            self.deferred.borrow_mut().push(key);
        } else {
            self.run_queue.borrow_mut().push_back(key);
        }
    }

    /// Moves the tasks deferred during the last turn to the back of the run
    /// queue, behind the ones the reactor and the timers woke since.
    pub(crate) fn requeue_deferred(&self) {
        let mut deferred = self.deferred.borrow_mut();
        if !deferred.is_empty() {
            self.run_queue.borrow_mut().extend(deferred.drain(..));
        }
    }

    /// Queues the tasks woken by other threads.
    pub(crate) fn push_remote(&self, keys: Vec<Key>, counters: &Counters) {
        counters.wakes_remote.add(keys.len() as u64);
        self.run_queue.borrow_mut().extend(keys);
    }

    /// The next task to poll, if any is queued.
    pub(crate) fn next_ready(&self) -> Option<Key> {
        self.run_queue.borrow_mut().pop_front()
    }

    /// Whether any task is queued, deferred ones included: then the loop
    /// must not block in `epoll_wait`.
    pub(crate) fn has_ready(&self) -> bool {
        !self.run_queue.borrow().is_empty() || !self.deferred.borrow().is_empty()
    }

    /// Marks `key` as the task being polled, until [`Executor::stop_running`].
    pub(crate) fn start_running(&self, key: Key) {
        self.running.set(Some(key));
        self.refill_budget();
    }

    /// The poll that [`Executor::start_running`] began is over.
    pub(crate) fn stop_running(&self) {
        self.running.set(None);
    }

    /// Stores `future` as a new task and queues its first poll.
    ///
    /// Not generic: the caller has boxed the future already, so this code
    /// exists once, not once per future type.
    pub(crate) fn spawn(
        &self,
        future: BoxFuture,
        remote: &Arc<Remote>,
        counters: &Counters,
    ) -> Key {
        let mut tasks = self.tasks.borrow_mut();
        let key = tasks.next_key();
        // Queued from the start: its first poll is already on the way.
        let waker = self.waker_for(key, remote);
        let inserted = tasks.insert(Task {
            future: Some(future),
            waker,
            aborted: false,
        });
        debug_assert_eq!(inserted, key);
        drop(tasks);
        self.run_queue.borrow_mut().push_back(key);
        counters.tasks_spawned.incr();
        log::trace!("spawn task {}", key.index);
        key
    }

    /// A waker for the new task `key`, marked queued: a spare one re-keyed,
    /// or else a new one.
    fn waker_for(&self, key: Key, remote: &Arc<Remote>) -> Arc<TaskWaker> {
        if let Some(mut waker) = self.spare_wakers.borrow_mut().pop() {
            // Always unique: `retire` kept it only if it was, and nothing
            // can clone it while it waits in the list.
            if let Some(unique) = Arc::get_mut(&mut waker) {
                unique.rekey(key);
                return waker;
            }
        }
        Arc::new(TaskWaker::new(key, remote.clone(), true))
    }

    /// Boxes `future` as a detached task's future, in the box of a finished
    /// task of the same type if one is spare.
    pub(crate) fn boxed<F: Future<Output = ()> + 'static>(&self, future: F) -> BoxFuture {
        self.spare_futures.boxed(future)
    }

    /// Disposes of a task taken out of the slab: drops its future (and with
    /// it every waker clone the future's timers and sockets held), keeping
    /// its box if it can be reused, then keeps its `Arc<TaskWaker>` for a
    /// later spawn if nothing else holds it.
    ///
    /// Called with the slab released: the future's destructors may spawn,
    /// abort or deregister.
    fn retire(&self, future: Option<BoxFuture>, mut waker: Arc<TaskWaker>) {
        if let Some(future) = future {
            future.retire(&self.spare_futures);
        }
        if Arc::get_mut(&mut waker).is_none() {
            return; // a clone lives on somewhere, with the old key
        }
        let mut spare = self.spare_wakers.borrow_mut();
        if spare.len() < MAX_SPARE_WAKERS {
            spare.push(waker);
        }
    }

    /// Polls the task under `key` once, if it still exists.
    pub(crate) fn run_task(&self, key: Key, counters: &Counters) {
        // Take the future out of the slab: while it runs it may spawn or abort
        // tasks, which needs the slab mutably.
        let (mut future, waker) = {
            let mut tasks = self.tasks.borrow_mut();
            let Some(task) = tasks.get_mut(key) else {
                return; // a stale wake for a task that has finished
            };
            task.waker.unqueue();
            match task.future.take() {
                Some(future) => (future, Waker::from(task.waker.clone())),
                None => return,
            }
        };
        log::trace!("poll task {}", key.index);
        self.start_running(key);
        counters.tasks_polled.incr();
        let poll = future.as_mut().poll_task(&mut Context::from_waker(&waker));
        self.stop_running();
        // This poll's `Waker` goes first, so that `retire` below can find
        // the `Arc` unique.
        drop(waker);

        let mut tasks = self.tasks.borrow_mut();
        let finished = match poll {
            Poll::Ready(()) => true,
            Poll::Pending => match tasks.get_mut(key) {
                Some(task) if !task.aborted => {
                    task.future = Some(future);
                    return;
                }
                _ => false, // aborted from inside its own poll
            },
        };
        let removed = tasks.remove(key);
        drop(tasks);
        if finished {
            counters.tasks_completed.incr();
        }
        // Destructors run with the slab released: they may touch the runtime.
        if let Some(task) = removed {
            self.retire(Some(future), task.waker);
        }
    }

    /// Cancels a task: drops its future now, or right after its current poll.
    pub(crate) fn abort(&self, key: Key) {
        let removed = {
            let mut tasks = self.tasks.borrow_mut();
            match tasks.get_mut(key) {
                None => return, // finished already
                Some(task) if task.future.is_none() => {
                    task.aborted = true; // it is running: run_task drops it
                    return;
                }
                Some(_) => tasks.remove(key),
            }
        };
        log::trace!("abort task {}", key.index);
        if let Some(task) = removed {
            self.retire(task.future, task.waker);
        }
    }

    /// Gives the task about to be polled a fresh I/O budget. Every poll
    /// needs one, the `block_on` future's included: a budget left at zero
    /// would make each of its polls yield at once, for ever.
    fn refill_budget(&self) {
        self.budget.set(OPS_PER_POLL);
    }

    /// Takes one unit of the running task's I/O budget. When none is left,
    /// wakes the task, which defers it to the next turn, and returns
    /// `false`: the caller must return `Poll::Pending`.
    pub(crate) fn take_budget(&self, cx: &mut Context<'_>, counters: &Counters) -> bool {
        let left = self.budget.get();
        if left == 0 {
            counters.budget_exhausted.incr();
            cx.waker().wake_by_ref();
            return false;
        }
        self.budget.set(left - 1);
        true
    }

    /// Drops every task, as the runtime shuts down. Destructors may spawn
    /// again, so repeat until the slab stays empty.
    pub(crate) fn drop_all(&self) {
        loop {
            let tasks = self.tasks.borrow_mut().drain();
            if tasks.is_empty() {
                break;
            }
            drop(tasks);
        }
        self.run_queue.borrow_mut().clear();
        self.deferred.borrow_mut().clear();
    }
}
