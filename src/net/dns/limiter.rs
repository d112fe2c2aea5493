//! A FIFO limit on lookups in flight: asyncio's `Semaphore`, for one loop.
//!
//! Each lookup that needs the network holds a [`Permit`] while it asks.
//! With none free, [`Limiter::acquire`] queues a ticket and returns
//! `Pending`; a released permit goes straight to the oldest ticket and
//! wakes its task. So waiting lookups start in arrival order, each is
//! woken exactly once, when it can go, and nothing is ever polled in a
//! loop to see whether room has appeared.
//!
//! The invariant: `free + permits held + tickets granted but not yet
//! taken` equals the limit.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A queued acquirer.
#[derive(Default)]
struct Ticket {
    /// Set by `release` when a permit is handed to this ticket.
    granted: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

/// The limit and its queue.
pub(crate) struct Limiter {
    free: Cell<usize>,
    queue: RefCell<VecDeque<Rc<Ticket>>>,
}

impl fmt::Debug for Limiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Limiter")
            .field("free", &self.free.get())
            .field("queued", &self.queue.borrow().len())
            .finish()
    }
}

impl Limiter {
    /// A limiter with `limit` permits (at least one).
    pub(crate) fn new(limit: usize) -> Limiter {
        Limiter {
            free: Cell::new(limit.max(1)),
            queue: RefCell::new(VecDeque::new()),
        }
    }

    /// Waits for a permit, in FIFO order.
    pub(crate) fn acquire(&self) -> Acquire<'_> {
        Acquire {
            limiter: self,
            ticket: None,
            done: false,
        }
    }

    /// Hands a permit to the oldest ticket, or frees it.
    fn release(&self) {
        let next = self.queue.borrow_mut().pop_front();
        match next {
            Some(ticket) => {
                ticket.granted.set(true);
                let waker = ticket.waker.borrow_mut().take();
                if let Some(waker) = waker {
                    waker.wake();
                }
            }
            None => self.free.set(self.free.get() + 1),
        }
    }
}

/// A permit; dropping it lets the next lookup go.
pub(crate) struct Permit<'a> {
    limiter: &'a Limiter,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.release();
    }
}

/// The future of [`Limiter::acquire`]. `waited` tells whether it queued.
pub(crate) struct Acquire<'a> {
    limiter: &'a Limiter,
    ticket: Option<Rc<Ticket>>,
    done: bool,
}

impl Acquire<'_> {
    /// True once this acquirer had to wait in the queue.
    pub(crate) fn queued(&self) -> bool {
        self.ticket.is_some()
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Permit<'a>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Permit<'a>> {
        let limiter = self.limiter;
        match &self.ticket {
            None => {
                // Take a free permit only if nobody is queued before us.
                let free = limiter.free.get();
                if free > 0 && limiter.queue.borrow().is_empty() {
                    limiter.free.set(free - 1);
                    self.done = true;
                    return Poll::Ready(Permit { limiter });
                }
                let ticket = Rc::new(Ticket::default());
                *ticket.waker.borrow_mut() = Some(cx.waker().clone());
                limiter.queue.borrow_mut().push_back(ticket.clone());
                self.ticket = Some(ticket);
                Poll::Pending
            }
            Some(ticket) if ticket.granted.get() => {
                self.done = true;
                Poll::Ready(Permit { limiter })
            }
            Some(ticket) => {
                *ticket.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        if let Some(ticket) = &self.ticket {
            if ticket.granted.get() {
                // Granted, but we left before taking it: pass it on.
                self.limiter.release();
            } else {
                // Still queued: leave the queue, so no permit is handed
                // to a ticket nobody will take.
                self.limiter
                    .queue
                    .borrow_mut()
                    .retain(|queued| !Rc::ptr_eq(queued, ticket));
            }
        }
    }
}
