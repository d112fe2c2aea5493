//! A bounded queue between the loop and a plain thread.
//!
//! Some work must stay off the loop thread because it blocks: reading a
//! target list from a pipe, writing results to a slow terminal. A thread
//! does that work and talks to the loop through this queue. The loop side
//! awaits ([`Receiver::recv`], [`Sender::room`]) or pushes without waiting
//! ([`Sender::push`]); the thread side blocks ([`Sender::send_blocking`],
//! [`Receiver::recv_blocking`]). Either side may be either end.
//!
//! Waking works both ways: a thread that pushes or pops wakes the loop task
//! parked on the queue (a cross-thread wake, which pokes the loop's
//! `mio::Waker`), and a loop task that pushes or pops notifies a condition
//! variable the thread may be waiting on. The bound keeps memory flat when
//! one side is faster than the other.
//!
//! Python would use `loop.call_soon_threadsafe` or `run_in_executor` for this.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};

use super::{lock, store_waker};

struct State<T> {
    items: VecDeque<T>,
    /// The loop task waiting for room or for an item.
    waiter: Option<Waker>,
    senders_alive: bool,
    receiver_alive: bool,
    /// Threads blocked on `changed`; notifying is a syscall, so skip it
    /// when nobody waits.
    blocked: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled for the blocking side whenever the queue changes.
    changed: Condvar,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }

    /// Blocks the calling thread until the queue changes.
    fn wait<'a>(&self, mut state: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        state.blocked += 1;
        let mut state = self
            .changed
            .wait(state)
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.blocked -= 1;
        state
    }

    /// After a change: wake whichever side may be waiting for it.
    fn notify(&self, mut state: MutexGuard<'_, State<T>>) {
        let waiter = state.waiter.take();
        let blocked = state.blocked > 0;
        drop(state);
        if blocked {
            self.changed.notify_all();
        }
        if let Some(waker) = waiter {
            waker.wake();
        }
    }
}

/// The sending end.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving end.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("capacity", &self.shared.capacity)
            .finish()
    }
}

/// A queue holding at most `capacity` items (at least one).
///
/// Each end is meant for one user at a time: one loop task or one thread.
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            waiter: None,
            senders_alive: true,
            receiver_alive: true,
            blocked: 0,
        }),
        changed: Condvar::new(),
        capacity: capacity.max(1),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `item` at once, even past the capacity: for a loop task that
    /// must not wait, paired with [`Sender::room`] at a point where waiting
    /// is fine (so the overshoot stays bounded by the callers in between).
    pub fn push(&self, item: T) -> Result<(), T> {
        let mut state = self.shared.lock();
        if !state.receiver_alive {
            return Err(item);
        }
        state.items.push_back(item);
        self.shared.notify(state);
        Ok(())
    }

    /// Waits until the queue is below its capacity (or the receiver is gone).
    pub async fn room(&self) {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if !state.receiver_alive || state.items.len() < self.shared.capacity {
                return Poll::Ready(());
            }
            store_waker(&mut state.waiter, cx);
            Poll::Pending
        })
        .await
    }

    /// Sends from a plain thread, blocking while the queue is full.
    pub fn send_blocking(&self, item: T) -> Result<(), T> {
        let mut state = self.shared.lock();
        loop {
            if !state.receiver_alive {
                return Err(item);
            }
            if state.items.len() < self.shared.capacity {
                state.items.push_back(item);
                self.shared.notify(state);
                return Ok(());
            }
            state = self.shared.wait(state);
        }
    }
}

impl<T> Receiver<T> {
    /// Receives on a loop task, waiting while the queue is empty; `None` once
    /// it is empty and the sender is gone.
    pub async fn recv(&self) -> Option<T> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if let Some(item) = state.items.pop_front() {
                self.shared.notify(state);
                return Poll::Ready(Some(item));
            }
            if !state.senders_alive {
                return Poll::Ready(None);
            }
            store_waker(&mut state.waiter, cx);
            Poll::Pending
        })
        .await
    }

    /// Receives on a plain thread, blocking while the queue is empty.
    pub fn recv_blocking(&self) -> Option<T> {
        let mut state = self.shared.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                self.shared.notify(state);
                return Some(item);
            }
            if !state.senders_alive {
                return None;
            }
            state = self.shared.wait(state);
        }
    }

    /// True when nothing is queued right now.
    pub fn is_empty(&self) -> bool {
        self.shared.lock().items.is_empty()
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.senders_alive = false;
        self.shared.notify(state);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.receiver_alive = false;
        state.items.clear();
        self.shared.notify(state);
    }
}
