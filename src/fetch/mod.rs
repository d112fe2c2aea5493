//! The job: a stream of targets in, one outcome per target out.
//!
//! [`run`] keeps up to `concurrency` fetches in flight. Each target becomes
//! one task (the seed's `wget(host)` coroutine) that resolves, connects,
//! sends the request and reads until the response head is complete
//! (`job.rs`). Outcomes go to a [`Sink`] in completion order; targets come
//! from a [`Targets`] source that is read only as fast as fetches finish, so
//! memory follows the concurrency, not the length of the input.
//!
//! Invariant: every target taken from the source produces exactly one
//! outcome, an `Ok` head or one [`FetchError`], within `max_time`. That
//! holds for a run stopped early too ([`run_until`], `stop.rs`): the
//! fetches it cuts short end with an `interrupted` outcome.

mod config;
mod histogram;
mod job;
mod outcome;
mod resolve;
mod stop;
mod summary;
mod target;

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Instant;

pub use config::{Config, Dns, Pinned, SchemeChoice};
pub use histogram::Histogram;
pub use outcome::{
    ErrorKind, Expired, FetchError, Heads, Outcome, Redirect, RedirectError, Timings,
};
pub use stop::{Stop, StopReason};
pub use summary::{Latency, Summary};
pub use target::{
    internal_range, parse_target, parse_target_as, redirect_refused, Scheme, Target, TargetError,
};

use job::{Fetch, RunContext};

use crate::runtime::{self, sleep_until};

/// Where targets come from, one at a time.
pub trait Targets {
    /// The next target line, or `None` at the end of the input.
    fn next(&mut self) -> impl Future<Output = Option<String>>;
}

/// A source lent to a run, so its owner can ask it afterwards how it
/// ended (the command's input reports a read error this way).
impl<T: Targets + ?Sized> Targets for &mut T {
    fn next(&mut self) -> impl Future<Output = Option<String>> {
        (**self).next()
    }
}

/// Targets from an iterator (a list in memory).
#[derive(Debug)]
pub struct FromIter<I>(pub I);

impl<I: Iterator<Item = String>> Targets for FromIter<I> {
    async fn next(&mut self) -> Option<String> {
        self.0.next()
    }
}

/// Where outcomes go.
pub trait Sink {
    /// A fetch of `target` is starting (for `-v`).
    fn started(&self, _target: &str) {}
    /// Whether [`Sink::line`] should get each head line as it arrives
    /// (`--live`); most sinks want only the outcome.
    fn wants_lines(&self) -> bool {
        false
    }
    /// One head line of `target` arrived (only if [`Sink::wants_lines`]).
    fn line(&self, _target: &str, _line: &[u8]) {}
    /// The fetch of `target` follows a redirect to `location` (`-L`); its
    /// heads so far are in the outcome's [`Outcome::redirects`].
    fn redirected(&self, _target: &str, _location: &str) {}
    /// Whether outcomes should carry the facts of their TLS sessions
    /// ([`Outcome::tls`]): parsing the certificates costs, so only a sink
    /// that shows them asks.
    fn wants_tls_info(&self) -> bool {
        false
    }
    /// `outcome` is final.
    fn finished(&self, outcome: Outcome);
    /// Waits until the sink can take more; called before each new target
    /// starts, so a slow consumer slows the run instead of growing memory.
    fn ready(&self) -> impl Future<Output = ()> {
        async {}
    }
}

/// The concurrency limit: how many fetches are in flight, and the driver's
/// waker for when one finishes (mini-redis bounds its connections with a
/// `Semaphore`; asyncio code would use one too).
///
/// It lives on the loop thread and has one waiter, the driver, so a count
/// and one waker slot do the job: a fetch that finishes releases its slot
/// and wakes the driver, which then starts the next target. That keeps the
/// input read only as fast as fetches finish, and so memory bounded by the
/// concurrency, not by the length of the input.
#[derive(Default)]
struct Slots {
    in_flight: Cell<usize>,
    driver: RefCell<Option<Waker>>,
}

impl Slots {
    fn release(&self) {
        self.in_flight.set(self.in_flight.get() - 1);
        if let Some(waker) = self.driver.borrow_mut().take() {
            waker.wake();
        }
    }

    /// Waits until no fetch is in flight, or until the grace of `stop`'s
    /// request runs out; a later request that shortens the grace is seen
    /// at once.
    async fn drain_within_grace(&self, stop: &Stop) {
        let Some(deadline) = stop.deadline() else {
            return;
        };
        let mut grace = sleep_until(deadline);
        poll_fn(|cx| {
            if self.in_flight.get() == 0 {
                return Poll::Ready(());
            }
            if let Some(deadline) = stop.deadline() {
                grace.reset(deadline);
            }
            if Pin::new(&mut grace).poll(cx).is_ready() {
                return Poll::Ready(());
            }
            runtime::store_waker(&mut self.driver.borrow_mut(), cx);
            stop.wake_on_request(cx);
            Poll::Pending
        })
        .await
    }

    /// Waits until fewer than `limit` fetches are in flight.
    async fn below(&self, limit: usize) {
        poll_fn(|cx| {
            if self.in_flight.get() < limit {
                Poll::Ready(())
            } else {
                runtime::store_waker(&mut self.driver.borrow_mut(), cx);
                Poll::Pending
            }
        })
        .await
    }
}

/// Fetches every target from `targets`, `config.concurrency` at a time,
/// and hands each outcome to `sink`. Must run inside `Runtime::block_on`.
pub async fn run<S: Sink + 'static>(config: Config, targets: impl Targets, sink: Rc<S>) -> Summary {
    run_until(config, targets, sink, Stop::new()).await
}

/// [`run`], until `stop` is requested, if it is: then no more targets are
/// taken, the fetches in flight get the request's grace, and those still
/// going after it end with [`FetchError::Interrupted`]. Every target taken
/// still gets one outcome, and [`Summary::stopped`] says why the run
/// stopped.
pub async fn run_until<S: Sink + 'static>(
    config: Config,
    mut targets: impl Targets,
    sink: Rc<S>,
    stop: Stop,
) -> Summary {
    let started = Instant::now();
    let concurrency = config.concurrency.max(1);
    let run = Rc::new(RunContext::new(config));
    let slots = Rc::new(Slots::default());
    let summary = Rc::new(RefCell::new(Summary::default()));

    loop {
        // A free slot, room in the sink, the next target: a stop request
        // ends any of these waits.
        let next = stop.unless_stopped(async {
            slots.below(concurrency).await;
            sink.ready().await;
            targets.next().await
        });
        let Some(Some(input)) = next.await else {
            break;
        };
        slots.in_flight.set(slots.in_flight.get() + 1);
        sink.started(&input);
        let (run, slots, summary, sink) =
            (run.clone(), slots.clone(), summary.clone(), sink.clone());
        runtime::spawn_detached(async move {
            let mut input = input;
            // Under `--scheme both`, a line without a scheme is fetched
            // twice, one scheme after the other, in the same slot.
            let schemes = run.config.scheme.for_line(&input);
            for (i, &scheme) in schemes.iter().enumerate() {
                let input = if i + 1 == schemes.len() {
                    std::mem::take(&mut input)
                } else {
                    input.clone()
                };
                let outcome = Fetch::start(&run, input, scheme, &*sink).await;
                let mut counted = summary.borrow_mut();
                counted.add(&outcome);
                if run.config.latency {
                    counted.add_latency(&outcome);
                }
                drop(counted);
                sink.finished(outcome);
            }
            slots.release();
        });
    }
    // The summary is complete only once the last fetch has finished. A
    // stop, requested before or while they finish, gives them its grace
    // and then interrupts those still going.
    if stop.unless_stopped(slots.below(1)).await.is_none() {
        slots.drain_within_grace(&stop).await;
        if let (Some(reason), 1..) = (stop.reason(), slots.in_flight.get()) {
            run.interrupts.interrupt_all(reason);
        }
        slots.below(1).await;
    }
    sink.ready().await;
    let mut summary = summary.take();
    summary.elapsed = started.elapsed();
    summary.stopped = stop.reason();
    summary.dns = run.stub.as_ref().map(|stub| stub.stats());
    summary
}
