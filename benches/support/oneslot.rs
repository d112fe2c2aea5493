//! A one-slot channel for single-threaded executors: the smallest thing that
//! makes one task wake another.
//!
//! The `ping_pong` bench measures the wake path of an executor: task A
//! stores a value and wakes task B, B runs, answers, and wakes A. The
//! channel must add as little as possible and must be the *same* code on
//! both runtimes, so neither side is timed with a different primitive. It is
//! runtime-agnostic: it only stores a `std::task::Waker` and calls it.
//!
//! State lives in `Rc<RefCell<..>>` because both ends run on one thread;
//! on tokio it is therefore used from `spawn_local` tasks in a `LocalSet`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

struct Slot<T> {
    value: Option<T>,
    /// The receiver's waker, stored when it found the slot empty.
    waker: Option<Waker>,
    /// The sender is gone: an empty slot will stay empty.
    closed: bool,
}

/// The sending half.
pub struct Sender<T> {
    slot: Rc<RefCell<Slot<T>>>,
}

/// The receiving half.
pub struct Receiver<T> {
    slot: Rc<RefCell<Slot<T>>>,
}

/// A new channel that holds at most one value at a time.
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Rc::new(RefCell::new(Slot {
        value: None,
        waker: None,
        closed: false,
    }));
    (
        Sender {
            slot: Rc::clone(&slot),
        },
        Receiver { slot },
    )
}

impl<T> Sender<T> {
    /// Puts `value` in the slot and wakes the receiver.
    ///
    /// # Panics
    ///
    /// If the slot is still full: callers alternate send and receive.
    pub fn send(&self, value: T) {
        let waker = {
            let mut slot = self.slot.borrow_mut();
            assert!(slot.value.is_none(), "one-slot channel is full");
            slot.value = Some(value);
            slot.waker.take()
        };
        // Wake outside the borrow: an executor may poll the receiver at once.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let waker = {
            let mut slot = self.slot.borrow_mut();
            slot.closed = true;
            slot.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the next value; `None` once the sender is dropped.
    pub fn recv(&self) -> Recv<'_, T> {
        Recv { receiver: self }
    }
}

/// The future returned by [`Receiver::recv`].
pub struct Recv<'a, T> {
    receiver: &'a Receiver<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut slot = self.receiver.slot.borrow_mut();
        if let Some(value) = slot.value.take() {
            return Poll::Ready(Some(value));
        }
        if slot.closed {
            return Poll::Ready(None);
        }
        // Single-threaded: nothing can fill the slot between the check above
        // and storing the waker, so no wakeup can be lost here.
        match &mut slot.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            waker => *waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
