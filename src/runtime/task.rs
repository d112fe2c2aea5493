//! Tasks, their wakers and their join handles.
//!
//! A task is a boxed `Future<Output = ()>` in the executor's slab. Its waker is
//! an `Arc<TaskWaker>` (a `std::task::Wake`, so no `unsafe` vtable is needed)
//! that knows the task's key and how to reach the loop:
//!
//! - woken on the loop's own thread, it pushes the key on the run queue;
//! - woken from any other thread (a DNS worker), it pushes the key on the
//!   remote queue and pokes the loop's `mio::Waker`, so a blocked `epoll_wait`
//!   returns.
//!
//! The `queued` flag keeps a task that is woken many times before it runs from
//! being queued many times. Python's analogue is `Task.__wakeup` scheduling
//! `__step` with `loop.call_soon` (or `call_soon_threadsafe` from a thread).

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::context::{self, Core};
use super::slab::Key;

/// The boxed future the executor stores for each task.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Names the future passed to `block_on`, which lives on the loop's stack
/// rather than in the slab.
pub(crate) const MAIN: Key = Key {
    index: u32::MAX,
    generation: u32::MAX,
};

/// What a waker from another thread needs to reach the loop.
#[derive(Debug)]
pub(crate) struct Remote {
    /// Keys woken off the loop thread, moved to the run queue each turn.
    pub(crate) queue: Mutex<Vec<Key>>,
    /// Makes a blocked `poll` return.
    pub(crate) waker: mio::Waker,
}

/// The waker of one task.
#[derive(Debug)]
pub(crate) struct TaskWaker {
    pub(crate) key: Key,
    /// True from the wake until the executor polls the task.
    pub(crate) queued: AtomicBool,
    pub(crate) remote: Arc<Remote>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // already on a queue: one entry is enough
        }
        // On the loop thread, with this task's loop running: a plain push.
        let pushed_locally = context::with_current(|core| {
            if Arc::ptr_eq(&core.remote, &self.remote) {
                core.push_local(self.key);
                true
            } else {
                false
            }
        })
        .unwrap_or(false);
        if !pushed_locally {
            // Another thread: hand the key over and wake the poller. A poisoned
            // lock only means another waker panicked mid-push; the Vec is fine.
            let mut queue = match self.remote.queue.lock() {
                Ok(queue) => queue,
                Err(poisoned) => poisoned.into_inner(),
            };
            queue.push(self.key);
            drop(queue);
            // If the eventfd write fails the loop is gone; nothing to wake.
            let _ = self.remote.waker.wake();
        }
    }
}

/// One task in the executor's slab.
pub(crate) struct Task {
    /// `None` while the executor is polling it (taken out so the future may
    /// spawn tasks, which needs the slab).
    pub(crate) future: Option<BoxFuture>,
    pub(crate) waker: Arc<TaskWaker>,
    /// The same waker as a `std::task::Waker`, built once at spawn.
    pub(crate) std_waker: Waker,
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

/// The slot a task's output travels through to its [`JoinHandle`].
#[derive(Debug)]
pub(crate) enum JoinState<T> {
    Running(Option<Waker>),
    Finished(T),
    Cancelled,
    Taken,
}

/// The shared slot between a task's [`Cell`] and its [`JoinHandle`].
pub(crate) type JoinSlot<T> = Rc<RefCell<JoinState<T>>>;

/// The future the executor actually stores: the user's future plus the slot
/// its output goes to. If it is dropped before finishing (aborted, or the
/// runtime shut down), `Drop` tells the join handle so.
pub(crate) struct Cell<F: Future> {
    future: Pin<Box<F>>,
    state: JoinSlot<F::Output>,
}

impl<F: Future> Cell<F> {
    pub(crate) fn new(future: F) -> (Cell<F>, JoinSlot<F::Output>) {
        let state = Rc::new(RefCell::new(JoinState::Running(None)));
        let cell = Cell {
            future: Box::pin(future),
            state: state.clone(),
        };
        (cell, state)
    }
}

impl<F: Future> Future for Cell<F> {
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

impl<F: Future> Drop for Cell<F> {
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

/// Why awaiting a [`JoinHandle`] gave no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The task was aborted, or the runtime shut down before it finished
    /// (asyncio's `CancelledError`).
    Cancelled,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task was cancelled")
    }
}

impl std::error::Error for JoinError {}

/// An owned permission to await a spawned task's output or to abort it:
/// asyncio's `Task` object. Dropping the handle detaches the task; it keeps
/// running.
pub struct JoinHandle<T> {
    key: Key,
    core: Rc<Core>,
    state: Rc<RefCell<JoinState<T>>>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(key: Key, core: Rc<Core>, state: Rc<RefCell<JoinState<T>>>) -> Self {
        JoinHandle { key, core, state }
    }

    /// Cancels the task: its future is dropped (running its destructors, which
    /// deregister sockets and timers) and awaiting the handle gives
    /// [`JoinError::Cancelled`]. Aborting a finished task does nothing.
    pub fn abort(&self) {
        self.core.abort(self.key);
    }

    /// True once the task has finished, successfully or not.
    pub fn is_finished(&self) -> bool {
        !matches!(*self.state.borrow(), JoinState::Running(_))
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("key", &self.key)
            .field("finished", &self.is_finished())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.state.borrow_mut();
        match &mut *state {
            JoinState::Running(waker) => {
                match waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            JoinState::Cancelled => Poll::Ready(Err(JoinError::Cancelled)),
            JoinState::Taken => panic!("JoinHandle polled after it returned"),
            JoinState::Finished(_) => match std::mem::replace(&mut *state, JoinState::Taken) {
                JoinState::Finished(output) => Poll::Ready(Ok(output)),
                _ => unreachable!("matched Finished above"),
            },
        }
    }
}
