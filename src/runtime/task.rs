//! What the executor stores for each task.
//!
//! Each task is one [`Task`] in the executor's slab: its future, boxed as a
//! `dyn` [`TaskFuture`]; the `Arc<TaskWaker>` its wakers point to, which
//! the executor reuses for a later task once this one has ended and nothing
//! else holds it; and a flag for an abort that arrives while the task is
//! being polled.
//!
//! What the box holds depends on how the task was spawned:
//!
//! - [`spawn_detached`](super::spawn_detached): the user's future itself,
//!   as an `Option<F>`. Nobody awaits its output (it is `()`). When the
//!   task ends, its future is dropped in place (`None`) and the empty box
//!   is kept in [`SpareFutures`] for the next detached task of the same
//!   type. Once a run is going, such a task allocates nothing;
//! - [`spawn`](super::spawn): a [`TaskCell`], the user's future (boxed
//!   again, so the cell can poll it pinned without `unsafe`) plus the slot
//!   its output travels through to the task's
//!   [`JoinHandle`](super::JoinHandle): three allocations. If the cell is
//!   dropped before finishing (aborted, or the runtime shut down), its
//!   `Drop` tells the handle so, as asyncio marks a cancelled task.
//!
//! (An `async` block that awaits the user's future and fills the slot would
//! save the inner box, but today's compiler stores a future captured by an
//! `async` block twice over, once as captured and once as awaited: the
//! fetch engine's task would grow from 704 to 1,424 bytes, past the size
//! glibc's malloc serves from its fast per-thread cache, and cost more
//! instructions per fetch than the allocation it saves.)

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::join_handle::{JoinSlot, JoinState};
use super::waker::TaskWaker;

/// Spare boxes kept per future type, at most: about the tasks one turn can
/// finish ([`MAX_TASKS_PER_TURN`](super::executor::MAX_TASKS_PER_TURN)), so
/// a turn's worth of finished tasks can be started again without `malloc`.
const MAX_SPARES_PER_TYPE: usize = 256;

/// Future types that get spare boxes, at most; a program spawns few kinds
/// of detached task (the command: four).
const MAX_SPARE_TYPES: usize = 16;

/// Futures larger than this are not kept once finished: 256 spares of a
/// large future would hold on to a lot of memory.
const MAX_SPARE_SIZE: usize = 4096;

/// The boxed future the executor stores for each task.
pub(crate) type BoxFuture = Pin<Box<dyn TaskFuture>>;

/// What the executor does with a task's boxed future: poll it, and dispose
/// of it once the task has ended.
pub(crate) trait TaskFuture {
    /// Polls the task's future once (`Future::poll`).
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;

    /// Drops the future, then keeps its emptied box in `spares` if it can
    /// be reused.
    fn retire(self: Pin<Box<Self>>, spares: &SpareFutures);
}

/// A detached task's future is an `Option<F>` in a box: `Some` while it
/// runs, `None` once it has ended and its box waits in [`SpareFutures`]
/// for the next task of the same type. `Pin::set` and
/// `Option::as_pin_mut` do the pinned work, so no `unsafe` is needed.
impl<F: Future<Output = ()> + 'static> TaskFuture for Option<F> {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.as_pin_mut() {
            Some(future) => future.poll(cx),
            None => Poll::Ready(()), // never polled again once emptied
        }
    }

    fn retire(mut self: Pin<Box<Self>>, spares: &SpareFutures) {
        // Its destructors run here, with no borrow of `spares` held: they
        // may spawn, which takes a spare.
        self.set(None);
        spares.put(self);
    }
}

/// The emptied boxes of finished detached tasks whose future is an `F`.
type Spares<F> = Vec<Pin<Box<Option<F>>>>;

/// The emptied boxes of finished detached tasks, by future type: the fetch
/// engine spawns one task per target, all of one type, so each can start
/// in the box of one that ended, without a `malloc` and a `free`. glibc's
/// per-thread cache of freed blocks holds only seven of each size, so when
/// tens of tasks end in one turn, most of their boxes would take its slow
/// path both ways.
#[derive(Default)]
pub(crate) struct SpareFutures {
    /// One `Spares<F>` per future type `F`, behind `dyn Any` so that one
    /// list can hold them all; found by downcasting.
    by_type: RefCell<Vec<Box<dyn Any>>>,
}

impl fmt::Debug for SpareFutures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpareFutures")
            .field("types", &self.by_type.borrow().len())
            .finish()
    }
}

impl SpareFutures {
    /// Boxes `future` as a detached task's future: in a spare box of its
    /// type if there is one, else in a new one.
    pub(crate) fn boxed<F: Future<Output = ()> + 'static>(&self, future: F) -> BoxFuture {
        let spare = self
            .by_type
            .borrow_mut()
            .iter_mut()
            .find_map(|list| list.downcast_mut::<Spares<F>>())
            .and_then(Vec::pop);
        match spare {
            Some(mut spare) => {
                spare.set(Some(future)); // replaces `None`: nothing to drop
                spare
            }
            None => Box::pin(Some(future)),
        }
    }

    /// Keeps the emptied box `spare` for the next task of type `F`, within
    /// the bounds above; otherwise it is freed.
    fn put<F: Future<Output = ()> + 'static>(&self, spare: Pin<Box<Option<F>>>) {
        if std::mem::size_of::<Option<F>>() > MAX_SPARE_SIZE {
            return;
        }
        let mut by_type = self.by_type.borrow_mut();
        let index = match by_type.iter().position(|list| list.is::<Spares<F>>()) {
            Some(index) => index,
            None if by_type.len() < MAX_SPARE_TYPES => {
                by_type.push(Box::new(Spares::<F>::new()));
                by_type.len() - 1
            }
            None => return,
        };
        if let Some(list) = by_type[index].downcast_mut::<Spares<F>>() {
            if list.len() < MAX_SPARES_PER_TYPE {
                list.push(spare);
            }
        }
    }
}

/// One task in the executor's slab.
pub(crate) struct Task {
    /// `None` while the executor is polling it (taken out so the future may
    /// spawn tasks, which needs the slab).
    pub(crate) future: Option<BoxFuture>,
    /// What the task's wakers point to. Each poll hands the future a
    /// `Waker` made from a clone of this `Arc` (a reference-count bump).
    pub(crate) waker: Arc<TaskWaker>,
    /// Set by `abort()` while the task is being polled.
    pub(crate) aborted: bool,
}

impl fmt::Debug for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("key", &self.waker.key)
            .field("aborted", &self.aborted)
            .finish()
    }
}

/// The future the executor actually stores: the user's future plus the slot
/// its output goes to.
pub(crate) struct TaskCell<F: Future> {
    future: Pin<Box<F>>,
    state: JoinSlot<F::Output>,
}

impl<F: Future> TaskCell<F> {
    /// Wraps `future`; the returned slot is the join handle's end.
    pub(crate) fn new(future: F) -> (TaskCell<F>, JoinSlot<F::Output>) {
        let state = JoinSlot::default();
        let cell = TaskCell {
            future: Box::pin(future),
            state: state.clone(),
        };
        (cell, state)
    }
}

/// A task with a handle is never reused: its box is freed when it ends.
impl<F: Future + 'static> TaskFuture for TaskCell<F> {
    fn poll_task(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.poll(cx)
    }

    fn retire(self: Pin<Box<Self>>, _spares: &SpareFutures) {}
}

impl<F: Future> Future for TaskCell<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let output = match self.future.as_mut().poll(cx) {
            Poll::Ready(output) => output,
            Poll::Pending => return Poll::Pending,
        };
        let previous =
            std::mem::replace(&mut *self.state.borrow_mut(), JoinState::Finished(output));
        if let JoinState::Running(Some(waker)) = previous {
            waker.wake();
        }
        Poll::Ready(())
    }
}

impl<F: Future> Drop for TaskCell<F> {
    fn drop(&mut self) {
        let mut state = self.state.borrow_mut();
        if let JoinState::Running(waker) = &mut *state {
            let waker = waker.take();
            *state = JoinState::Cancelled;
            drop(state);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}
