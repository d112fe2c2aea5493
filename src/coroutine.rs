//! Generator-style coroutines: Python's `send`/`close` on top of an `async` block.
//!
//! An `async` block is a coroutine: the compiler turns it into a state machine
//! that stops at every `.await` and resumes where it stopped when polled again.
//! This module shows that by rebuilding Python's *generator* protocol
//! (`gen.send(v)`, `gen.close()`, `inspect.getgeneratorstate(gen)`) on top of
//! one, with no runtime, no threads and no `unsafe`:
//!
//! - The body is an `async` block that receives a [`Co`] handle.
//!   `co.yield_(value).await` is Python's `n = yield value`: it hands `value`
//!   out to whoever called [`Coroutine::send`] and evaluates to what the next
//!   `send` puts in.
//! - [`Coroutine::send`] polls the body once. The body runs until its next
//!   `yield_` (the [`Yield`] future stores the value in a slot shared with the
//!   coroutine and returns `Pending`) or until it returns.
//! - [`Coroutine::close`] drops the body where it is paused. Dropping is the
//!   Rust analogue of raising `GeneratorExit` at the paused `yield`: every
//!   value alive at that point is dropped, so `Drop` guards do the work of
//!   Python's `finally:` blocks.
//!
//! The waker passed to `poll` does nothing, because nothing ever needs to be
//! woken: the only thing a body may wait for is the next `send`, and the
//! caller of `send` is the one who polls.
//!
//! **Invariant**: between two calls the shared slot is empty, and the body is
//! either not started, paused at exactly one `yield_`, or gone. A body that
//! returns, panics, or awaits anything that is not its own `yield_` is
//! dropped at once, and the coroutine is [`State::Closed`] from then on.
//!
//! # Example
//!
//! ```
//! use fetch_headers::coroutine::{Coroutine, State, Step};
//!
//! // Python: def echo():
//! //             total = 0
//! //             while True:
//! //                 n = yield total
//! //                 if n is None: return total
//! //                 total += n
//! let mut echo = Coroutine::new(|co| async move {
//!     let mut total = 0;
//!     loop {
//!         match co.yield_(total).await {
//!             Some(n) => total += n,
//!             None => return total,
//!         }
//!     }
//! });
//! assert_eq!(echo.state(), State::Created);
//! assert_eq!(echo.send(None), Ok(Step::Yielded(0))); // run to the first yield
//! assert_eq!(echo.send(Some(5)), Ok(Step::Yielded(5)));
//! assert_eq!(echo.send(None), Ok(Step::Returned(5))); // StopIteration(5)
//! assert_eq!(echo.state(), State::Closed);
//! ```
//!
//! # Where this differs from Python
//!
//! - **`None` is `Option::None`.** `send` takes an `Option<S>` and `yield_`
//!   evaluates to an `Option<S>`, so `send(None)` means exactly what it means
//!   in Python, including "resume with `None`" after the first yield.
//! - **Returning is a [`Step`], not an error.** Python signals a return by
//!   raising `StopIteration(value)`; here `send` returns
//!   `Ok(Step::Returned(value))`. Sending again raises `StopIteration` in
//!   Python and gives [`SendError::Closed`] here.
//! - **No `GEN_RUNNING`.** `send` takes `&mut self`, so while the body runs
//!   nobody else can hold the coroutine, to query its state or to call `send`
//!   again. Python's `ValueError: generator already executing` cannot happen
//!   (putting the coroutine in a `RefCell` turns it into a failed
//!   `borrow_mut`), and [`State`] has no `Running` variant.
//! - **`close` cannot be ignored.** Python raises `RuntimeError: generator
//!   ignored GeneratorExit` when a body yields inside its `finally:`. `Drop`
//!   cannot yield, so there is nothing to ignore.
//! - **Panics are not caught.** A panic in the body propagates out of `send`
//!   like an exception out of Python's `send`, and the coroutine is closed
//!   afterwards (as `GEN_CLOSED` is after an exception).
//! - **Foreign awaits are an error.** A body that awaits a future that is not
//!   ready (a socket read, a sleep) would wait for a wakeup no one sends.
//!   Instead of hanging, `send` drops the body and returns
//!   [`SendError::ForeignAwait`]. Futures that are ready at once are fine.

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A generator-style coroutine: an `async` body driven by [`send`](Self::send).
///
/// `Y` is what the body yields, `S` what `send` puts in, `R` what the body
/// returns. It mirrors a Python generator object; dropping it closes it, as
/// Python's generator finalizer does.
pub struct Coroutine<Y, S, R> {
    /// The paused body; `None` once it has returned, failed or been closed.
    body: Option<Pin<Box<dyn Future<Output = R>>>>,
    /// Whether the first `send(None)` has happened (Python's `GEN_CREATED`).
    started: bool,
    /// The mailbox shared with the body's [`Co`] handle.
    slot: Rc<Cell<Slot<Y, S>>>,
    /// Passed to `poll`; see the module docs for why it does nothing.
    waker: Waker,
}

/// The body's handle to its coroutine: the only way to yield.
///
/// Python needs no handle because `yield` is a keyword. Rust has no stable
/// generators, so the body receives this value and awaits
/// [`yield_`](Self::yield_) instead.
pub struct Co<Y, S> {
    slot: Rc<Cell<Slot<Y, S>>>,
}

/// The future returned by [`Co::yield_`]: Python's `yield value` expression.
///
/// First poll: hand the value out and pause. Next poll: evaluate to what was
/// sent in.
#[must_use = "a yield does nothing unless awaited"]
pub struct Yield<Y, S> {
    slot: Rc<Cell<Slot<Y, S>>>,
    value: Option<Y>,
}

/// What one [`Coroutine::send`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<Y, R> {
    /// The body paused at a `yield_` with this value.
    Yielded(Y),
    /// The body returned this value: Python's `StopIteration(value)`.
    Returned(R),
}

/// The lifecycle of a coroutine, as `inspect.getgeneratorstate` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Built but not started: `GEN_CREATED`. Only `send(None)` is allowed.
    Created,
    /// Paused at a `yield_`: `GEN_SUSPENDED`.
    Suspended,
    /// Returned, failed or closed: `GEN_CLOSED`. Every `send` is an error.
    Closed,
}

/// Why [`Coroutine::send`] could not resume the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// A value was sent before the first `send(None)`. There is no paused
    /// `yield_` to receive it yet; Python raises `TypeError`. The coroutine
    /// stays [`State::Created`].
    JustStarted,
    /// The coroutine has finished; Python raises `StopIteration` again.
    Closed,
    /// The body awaited a future that was not ready and is not its own
    /// `yield_`. Nothing would ever wake it, so it was dropped (closed).
    ForeignAwait,
}

/// The mailbox between `send` and the paused `yield_`.
#[derive(Default)]
enum Slot<Y, S> {
    #[default]
    Empty,
    /// Put there by a `Yield` on its first poll, taken by `send`.
    Yielded(Y),
    /// Put there by `send`, taken by the paused `Yield` on its second poll.
    Sent(Option<S>),
}

/// A waker that does nothing (`Waker::noop` needs Rust 1.85; this needs 1.51).
struct NoopWaker;

impl Wake for NoopWaker {
    fn wake(self: Arc<Self>) {}
}

impl<Y: 'static, S: 'static, R: 'static> Coroutine<Y, S, R> {
    /// Builds a coroutine from `body`, without running any of it.
    ///
    /// `body` is called once, now, to get the `async` block; like calling a
    /// Python generator function, that runs none of the block. Code placed in
    /// the closure *before* `async move` does run now, so keep it inside.
    pub fn new<F, Fut>(body: F) -> Self
    where
        F: FnOnce(Co<Y, S>) -> Fut,
        Fut: Future<Output = R> + 'static,
    {
        let slot = Rc::new(Cell::new(Slot::Empty));
        let co = Co {
            slot: Rc::clone(&slot),
        };
        Coroutine {
            body: Some(Box::pin(body(co))),
            started: false,
            slot,
            waker: Waker::from(Arc::new(NoopWaker)),
        }
    }

    /// Resumes the body with `value` and runs it to its next `yield_` or its
    /// end: Python's `gen.send(value)`.
    ///
    /// The first call must be `send(None)`: it runs the body up to its first
    /// `yield_`. After that, `value` becomes the result of the paused `yield_`.
    pub fn send(&mut self, value: Option<S>) -> Result<Step<Y, R>, SendError> {
        // Take the body out while it runs. If it panics, the unwind drops it
        // here and the coroutine is left closed, as an exception leaves a
        // Python generator closed.
        let mut body = self.body.take().ok_or(SendError::Closed)?;
        if self.started {
            self.slot.set(Slot::Sent(value));
        } else if value.is_some() {
            self.body = Some(body);
            return Err(SendError::JustStarted);
        } else {
            self.started = true;
        }

        let mut cx = Context::from_waker(&self.waker);
        let poll = body.as_mut().poll(&mut cx);
        // Empty the slot whatever happened, so no value outlives this call.
        match (poll, self.slot.take()) {
            (Poll::Ready(returned), _) => Ok(Step::Returned(returned)),
            (Poll::Pending, Slot::Yielded(yielded)) => {
                self.body = Some(body);
                Ok(Step::Yielded(yielded))
            }
            // Pending, but not at a yield_: a foreign future. `body` drops.
            (Poll::Pending, _) => Err(SendError::ForeignAwait),
        }
    }

    /// Drops the body where it is paused: Python's `gen.close()`.
    ///
    /// Every value the body holds is dropped, so its `Drop` guards run, as
    /// `finally:` blocks do when `GeneratorExit` is raised at the paused
    /// `yield`. Closing an unstarted coroutine runs nothing; closing a closed
    /// one does nothing.
    pub fn close(&mut self) {
        self.body = None;
    }
}

impl<Y, S, R> Coroutine<Y, S, R> {
    /// Where the coroutine is in its life: `inspect.getgeneratorstate(gen)`.
    pub fn state(&self) -> State {
        match (&self.body, self.started) {
            (None, _) => State::Closed,
            (Some(_), false) => State::Created,
            (Some(_), true) => State::Suspended,
        }
    }
}

impl<Y, S> Co<Y, S> {
    /// Hands `value` out of the coroutine and pauses: Python's `yield value`.
    ///
    /// Awaiting it evaluates to what the next [`Coroutine::send`] passes in
    /// (`None` for `send(None)`). Await each yield before making the next one.
    pub fn yield_(&self, value: Y) -> Yield<Y, S> {
        Yield {
            slot: Rc::clone(&self.slot),
            value: Some(value),
        }
    }
}

impl<Y, S> Future for Yield<Y, S> {
    type Output = Option<S>;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<S>> {
        let this = self.get_mut();
        // First poll: leave the value for `send` to return, and pause.
        if let Some(value) = this.value.take() {
            this.slot.set(Slot::Yielded(value));
            return Poll::Pending;
        }
        // Later polls come from the next `send`, which has filled the slot.
        match this.slot.take() {
            Slot::Sent(sent) => Poll::Ready(sent),
            other => {
                this.slot.set(other);
                Poll::Pending
            }
        }
    }
}

// `Yield` never hands out pinned references to its fields, so it can be moved
// freely even when `Y` cannot; this lets `poll` use `get_mut` without unsafe.
impl<Y, S> Unpin for Yield<Y, S> {}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendError::JustStarted => "can't send non-None value to a just-started generator",
            SendError::Closed => "can't send to a finished generator",
            SendError::ForeignAwait => "generator awaited a future that is not its own yield",
        })
    }
}

impl std::error::Error for SendError {}

impl<Y, S, R> fmt::Debug for Coroutine<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Coroutine")
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl<Y, S> fmt::Debug for Co<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Co").finish_non_exhaustive()
    }
}

impl<Y, S> fmt::Debug for Yield<Y, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Yield")
            .field("yielded", &self.value.is_none())
            .finish_non_exhaustive()
    }
}
