//! A bounded queue between the loop and a plain thread.
//!
//! Some work must stay off the loop thread because it blocks: reading a
//! target list from a pipe, writing results to a slow terminal. A thread
//! does that work and talks to the loop through this queue. The loop side
//! awaits ([`Sender::send`], [`Receiver::recv`]); the thread side blocks
//! ([`Sender::send_blocking`], [`Receiver::recv_blocking`]). Either side may
//! be either end.
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

struct State<T> {
    items: VecDeque<T>,
    /// The loop task waiting for room or for an item.
    waiter: Option<Waker>,
    senders_alive: bool,
    receiver_alive: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Signalled for the blocking side whenever the queue changes.
    changed: Condvar,
    capacity: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// After a change: wake whichever side may be waiting for it.
    fn notify(&self, mut state: MutexGuard<'_, State<T>>) {
        let waiter = state.waiter.take();
        drop(state);
        self.changed.notify_all();
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
        f.debug_struct("Sender").field("capacity", &self.shared.capacity).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver").field("capacity", &self.shared.capacity).finish()
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
    /// Sends from a loop task, waiting while the queue is full. Gives the
    /// item back if the receiver is gone.
    pub async fn send(&self, item: T) -> Result<(), T> {
        let mut item = Some(item);
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if !state.receiver_alive {
                return Poll::Ready(Err(item.take().expect("polled after completion")));
            }
            if state.items.len() < self.shared.capacity {
                state.items.push_back(item.take().expect("polled after completion"));
                self.shared.notify(state);
                return Poll::Ready(Ok(()));
            }
            state.waiter = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

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
            state.waiter = Some(cx.waker().clone());
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
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
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
            state.waiter = Some(cx.waker().clone());
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
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
    }

    /// Takes an item if one is queued, without waiting.
    pub fn try_recv(&self) -> Option<T> {
        let mut state = self.shared.lock();
        let item = state.items.pop_front()?;
        self.shared.notify(state);
        Some(item)
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
