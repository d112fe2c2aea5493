//! What the executor stores for each task.
//!
//! Each task is one [`Task`] in the executor's slab: its future, boxed as a
//! `dyn Future<Output = ()>`; the `Arc<TaskWaker>` its wakers point to,
//! which the executor reuses for a later task once this one has ended and
//! nothing else holds it; and a flag for an abort that arrives while the
//! task is being polled.
//!
//! What the box holds depends on how the task was spawned:
//!
//! - [`spawn_detached`](super::spawn_detached): the user's future itself.
//!   Nobody awaits its output (it is `()`), so once the executor has spare
//!   wakers the task costs one allocation;
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

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::join_handle::{JoinSlot, JoinState};
use super::waker::TaskWaker;

/// The boxed future the executor stores for each task.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

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
