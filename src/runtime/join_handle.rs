//! `JoinHandle`: awaiting a spawned task's output, or aborting it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::core::Core;
use super::slab::Key;
use super::waker::store_waker;

/// Where a task's output is, as its [`JoinHandle`] sees it.
#[derive(Debug)]
pub(crate) enum JoinState<T> {
    /// Not finished; the waker of whoever awaits the handle.
    Running(Option<Waker>),
    Finished(T),
    Cancelled,
    /// The output was handed to the awaiting task.
    Taken,
}

/// The slot shared by a task's `TaskCell` and its [`JoinHandle`].
pub(crate) type JoinSlot<T> = Rc<RefCell<JoinState<T>>>;

impl<T> Default for JoinState<T> {
    fn default() -> Self {
        JoinState::Running(None)
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
    state: JoinSlot<T>,
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(key: Key, core: Rc<Core>, state: JoinSlot<T>) -> Self {
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
        match std::mem::replace(&mut *state, JoinState::Taken) {
            JoinState::Running(mut waker) => {
                store_waker(&mut waker, cx);
                *state = JoinState::Running(waker);
                Poll::Pending
            }
            JoinState::Finished(output) => Poll::Ready(Ok(output)),
            JoinState::Cancelled => {
                *state = JoinState::Cancelled;
                Poll::Ready(Err(JoinError::Cancelled))
            }
            JoinState::Taken => panic!("JoinHandle polled after it returned"),
        }
    }
}
