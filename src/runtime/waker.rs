//! Task wakers: how a wake reaches the run queue, from any thread.
//!
//! A task's waker is an `Arc<TaskWaker>` (a `std::task::Wake`, so no
//! `unsafe` vtable is needed) that knows the task's key and how to reach the
//! loop:
//!
//! - woken on the loop's own thread, it pushes the key on the run queue;
//! - woken from any other thread (a DNS worker, the input or output thread),
//!   it pushes the key on the remote queue and pokes the loop's
//!   `mio::Waker`, so a blocked `epoll_wait` returns.
//!
//! The `queued` flag keeps a task that is woken many times before it runs from
//! being queued many times. Python's analogue is `Task.__wakeup` scheduling
//! `__step` with `loop.call_soon` (or `call_soon_threadsafe` from a thread).
//!
//! When a task ends, the executor keeps its `Arc<TaskWaker>` for a later
//! task, but only if `Arc::get_mut` says nothing else holds it: no `Waker`
//! clone is left anywhere (a timer, a socket slot, another thread), so
//! giving it a new key ([`TaskWaker::rekey`]) cannot make an old wake reach
//! the new task. A clone that outlives its task keeps that `Arc` alive, with
//! the old key, and the slab's generation makes its wakes stale.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use super::context;
use super::slab::Key;
use super::sync::lock;

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

impl Remote {
    /// Takes every key woken off the loop thread since the last call.
    pub(crate) fn take(&self) -> Vec<Key> {
        std::mem::take(&mut *lock(&self.queue))
    }
}

/// The waker of one task.
#[derive(Debug)]
pub(crate) struct TaskWaker {
    pub(crate) key: Key,
    /// True from the wake until the executor polls the task.
    queued: AtomicBool,
    remote: Arc<Remote>,
}

impl TaskWaker {
    /// A waker for `key` that reaches the loop through `remote`; `queued`
    /// says whether the task is already on the run queue.
    pub(crate) fn new(key: Key, remote: Arc<Remote>, queued: bool) -> TaskWaker {
        TaskWaker {
            key,
            queued: AtomicBool::new(queued),
            remote,
        }
    }

    /// Points this waker, which nothing else holds (hence `&mut`), at the
    /// new task `key`, already queued for its first poll.
    pub(crate) fn rekey(&mut self, key: Key) {
        self.key = key;
        *self.queued.get_mut() = true;
    }

    /// Called as the task is taken off the run queue to be polled: a wake
    /// from now on must queue it again.
    pub(crate) fn unqueue(&self) {
        self.queued.store(false, Ordering::Release);
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return; // already on a queue: one entry is enough
        }
        if self.key == MAIN {
            log::trace!("wake the block_on future");
        } else {
            log::trace!("wake task {}", self.key.index);
        }
        // On the loop thread, with this task's loop running: a plain push.
        let pushed_locally = context::with_current(|core| {
            if Arc::ptr_eq(&core.remote, &self.remote) {
                core.executor.push_woken(self.key, &core.counters);
                true
            } else {
                false
            }
        })
        .unwrap_or(false);
        if !pushed_locally {
            // Another thread: hand the key over and wake the poller.
            lock(&self.remote.queue).push(self.key);
            // If the eventfd write fails the loop is gone; nothing to wake.
            let _ = self.remote.waker.wake();
        }
    }
}

/// Stores the waker of `cx` in `slot`, unless the one already there wakes
/// the same task: the "store the waker, then check" step of every leaf
/// future, without a clone (an `Arc` increment) on every poll.
pub(crate) fn store_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) => waker.clone_from(cx.waker()),
        None => *slot = Some(cx.waker().clone()),
    }
}
