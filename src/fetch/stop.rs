//! Stopping a run early, with an outcome for every target all the same.
//!
//! [`Stop`] is the handle a program keeps to stop a run
//! ([`super::run_until`]): on a signal, or when nobody reads the outcomes
//! any more. A request does three things, in order:
//!
//! 1. the driver takes no more targets, at once;
//! 2. the fetches in flight get a *grace*: they may still finish normally
//!    until it runs out (none with a grace of zero);
//! 3. every fetch still in flight then ends with an
//!    [`ErrorKind::Interrupted`](super::ErrorKind::Interrupted) outcome
//!    that says why, carrying the timings it got to.
//!
//! Step 3 must reach fetches that are parked: waiting on a socket, a DNS
//! answer or a timer, they are not polled until something wakes them. So
//! the run keeps, in [`Interrupts`], the waker of each fetch in flight (its
//! task's waker, stored once when it starts and removed when it ends), and
//! interrupting is: set one flag, wake them all. Each fetch checks the flag
//! first thing in every poll. That is all the normal path pays: a slab
//! insert and remove per fetch, and one flag load per poll.
//!
//! asyncio does step 3 with `task.cancel()` on each task, which throws
//! `CancelledError` into the coroutine at its `await`; here a fetch is a
//! state machine, so it is told by a flag and ends by returning its
//! outcome, closing its socket as it does on any other error.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::runtime::{signal_name, store_waker, Key, Slab};

/// Why a run was stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// A signal asked the program to stop (SIGINT, SIGTERM).
    Signal(i32),
    /// Nobody takes the outcomes any more: the output closed.
    OutputClosed,
}

impl fmt::Display for StopReason {
    /// `interrupted by SIGINT`, `cancelled: the output closed`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            StopReason::Signal(signal) => match signal_name(signal) {
                Some(name) => write!(f, "interrupted by {name}"),
                None => write!(f, "interrupted by signal {signal}"),
            },
            StopReason::OutputClosed => f.write_str("cancelled: the output closed"),
        }
    }
}

/// A handle to stop a run early: clone it, give one clone to
/// [`super::run_until`], and call [`Stop::request`] on another.
///
/// It lives on the loop thread (it is an `Rc`). A task that reacts to a
/// signal, or to the output closing, holds a clone and calls `request`.
#[derive(Clone, Default)]
pub struct Stop(Rc<StopState>);

#[derive(Default)]
struct StopState {
    /// The first request's reason, and when the grace runs out (the
    /// earliest of all requests').
    request: Cell<Option<(StopReason, Instant)>>,
    /// The run's driver, waiting for targets, room or the fetches.
    driver: RefCell<Option<Waker>>,
}

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stop")
            .field("request", &self.0.request.get())
            .finish()
    }
}

impl Stop {
    /// A handle with no request yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks the run to stop: take no more targets, give the fetches in
    /// flight `grace` to finish, then interrupt the rest. A later request
    /// keeps the first reason but may shorten the grace.
    pub fn request(&self, reason: StopReason, grace: Duration) {
        let deadline = Instant::now() + grace;
        let request = match self.0.request.get() {
            Some((first, earlier)) => (first, earlier.min(deadline)),
            None => (reason, deadline),
        };
        self.0.request.set(Some(request));
        if let Some(waker) = self.0.driver.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Why the run was asked to stop, if it was.
    pub fn reason(&self) -> Option<StopReason> {
        self.0.request.get().map(|(reason, _)| reason)
    }

    /// When the grace of the fetches in flight runs out, once requested.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.0.request.get().map(|(_, deadline)| deadline)
    }

    /// Runs `future` to its end, unless a stop is requested first: then
    /// `None`, and `future` is dropped unfinished. The stop is checked
    /// before each poll, so once requested, `future` is not polled again.
    pub(crate) async fn unless_stopped<F: Future>(&self, future: F) -> Option<F::Output> {
        let mut future = pin!(future);
        poll_fn(|cx| {
            if self.0.request.get().is_some() {
                return Poll::Ready(None);
            }
            self.wake_on_request(cx);
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// Stores the driver's waker, for a request to wake it.
    pub(crate) fn wake_on_request(&self, cx: &Context<'_>) {
        store_waker(&mut self.0.driver.borrow_mut(), cx);
    }
}

/// The fetches in flight, as the run interrupts them: a flag every fetch
/// checks first in each poll, and the wakers that make the parked ones
/// look at it.
#[derive(Debug)]
pub(crate) struct Interrupts {
    reason: Cell<Option<StopReason>>,
    wakers: RefCell<Slab<Waker>>,
}

impl Default for Interrupts {
    fn default() -> Self {
        Interrupts {
            reason: Cell::new(None),
            wakers: RefCell::new(Slab::new()),
        }
    }
}

impl Interrupts {
    /// Why the fetches were interrupted, if they were: checked by each
    /// fetch before it does anything else.
    pub(crate) fn reason(&self) -> Option<StopReason> {
        self.reason.get()
    }

    /// Keeps `waker`, the waker of a fetch that is starting, until it
    /// leaves. A task's waker is the same for all its polls (the executor
    /// builds it once), so once is enough.
    pub(crate) fn enter(&self, waker: &Waker) -> Key {
        self.wakers.borrow_mut().insert(waker.clone())
    }

    /// Forgets the waker of a fetch that has ended.
    pub(crate) fn leave(&self, key: Key) {
        let removed = self.wakers.borrow_mut().remove(key);
        drop(removed); // dropped with the borrow released
    }

    /// Interrupts every fetch in flight: sets the flag and wakes them all,
    /// so each sees it at its next poll and ends with its outcome.
    pub(crate) fn interrupt_all(&self, reason: StopReason) {
        self.reason.set(Some(reason));
        // Their keys go stale, so `leave` later finds nothing: fine.
        let wakers = self.wakers.borrow_mut().drain();
        for waker in wakers {
            waker.wake();
        }
    }
}
