//! Fairness (checklist 9): a task that uses up its I/O budget runs again
//! only after the reactor has been polled and the other ready tasks have
//! run, so one peer that never stops sending cannot hold up I/O, timers or
//! other fetches.
//!
//! Everything here is counted, not timed. A *flood* task reads a loopback
//! peer that sends as fast as it can, 64 bytes a read, so every poll of it
//! spends its whole budget; each of its polls is logged with the instant it
//! began. Then, for something that became due at instant `t` (a timer's
//! deadline, a response's bytes arriving), the polls of the flood that began
//! after `t` and before the thing was handled are the delay the flood
//! caused. With deferral that is at most one poll: the flood's poll that
//! was under way at `t` ends, the loop polls the reactor and fires the
//! timers, and the woken task runs before the flood's next poll. (If `t`
//! falls just after the reactor was polled, one more poll of the flood
//! comes first.) Without deferral the flood was polled again at once, up
//! to 255 times, before the loop looked at I/O or timers again.
mod support;

use std::cell::RefCell;
use std::future::Future;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use fetch_headers::fetch::{self, Config, FromIter, Outcome, Sink};
use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{self, sleep, spawn, yield_now, Runtime};
use support::{peer, read_head, with_deadline};

const LIMIT: Duration = Duration::from_secs(60);

/// The most polls of the flood between something becoming due and its
/// being handled: one, as the module docs explain, and one more for luck.
const MAX_FLOOD_POLLS: usize = 2;

/// The instants at which a future's polls began.
#[derive(Default)]
struct PollLog(RefCell<Vec<Instant>>);

impl PollLog {
    /// How many polls began at or after `t`.
    fn since(&self, t: Instant) -> usize {
        self.0.borrow().iter().filter(|&&start| start >= t).count()
    }

    /// How many polls began after `from` and before `to`.
    fn between(&self, from: Instant, to: Instant) -> usize {
        let polls = self.0.borrow();
        polls.iter().filter(|&&s| s > from && s < to).count()
    }

    fn len(&self) -> usize {
        self.0.borrow().len()
    }
}

/// `future`, with each poll logged in `log`.
struct Logged<F> {
    future: Pin<Box<F>>,
    log: Rc<PollLog>,
}

impl<F: Future> Future for Logged<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.log.0.borrow_mut().push(Instant::now());
        self.future.as_mut().poll(cx)
    }
}

fn logged<F: Future>(future: F, log: &Rc<PollLog>) -> Logged<F> {
    Logged {
        future: Box::pin(future),
        log: log.clone(),
    }
}

/// A peer that sends to its one connection as fast as it can, until the
/// client goes away.
fn flood_peer() -> SocketAddr {
    let (addr, _) = peer(|mut stream| {
        let chunk = [b'x'; 64 * 1024];
        while stream.write_all(&chunk).is_ok() {}
    });
    addr
}

/// Reads the flood peer 64 bytes at a time, for ever: each read is full,
/// so no read ever says the socket is drained, and only the budget stops
/// a poll.
async fn read_flood(addr: SocketAddr) {
    let stream = TcpStream::connect(addr)
        .await
        .expect("connect to the flood");
    let mut buf = [0u8; 64];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
    panic!("the flood peer stopped");
}

/// Waits until the flood has spent its budget `n` times since the start.
async fn flood_under_way(n: u64) {
    while runtime::stats().budget_exhausted < n {
        yield_now().await;
    }
}

/// For each of `rounds` short sleeps beside `log`'s flood, how many flood
/// polls began after the sleep's deadline and before it woke its task.
async fn polls_after_deadlines(log: &PollLog, rounds: usize) -> Vec<usize> {
    let mut late = Vec::new();
    for _ in 0..rounds {
        let nap = sleep(Duration::from_millis(2));
        let deadline = nap.deadline();
        nap.await;
        late.push(log.since(deadline));
    }
    late
}

#[test]
fn a_timer_beside_a_flooding_task_fires_after_at_most_one_flood_poll() {
    let addr = flood_peer();
    let (late, stats, flood_polls) = with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        let log = Rc::new(PollLog::default());
        let late = rt.block_on(async {
            let flood = spawn(logged(read_flood(addr), &log));
            flood_under_way(10).await;
            let late = polls_after_deadlines(&log, 50).await;
            flood.abort();
            late
        });
        (late, rt.stats(), log.len())
    });
    eprintln!("flood polls after each deadline: {late:?}");
    // The flood was flooding: it spent its budget on most of its polls.
    assert!(
        stats.budget_exhausted as usize > flood_polls / 2 && flood_polls > 50,
        "{} of {flood_polls} polls spent the budget",
        stats.budget_exhausted
    );
    let worst = late.iter().copied().max().unwrap_or_default();
    assert!(
        worst <= MAX_FLOOD_POLLS,
        "a timer waited for {worst} polls of the flood: {late:?}"
    );
    assert!(stats.tasks_deferred >= stats.budget_exhausted);
}

#[test]
fn a_flooding_block_on_future_lets_a_timer_fire_after_at_most_one_poll() {
    let addr = flood_peer();
    let late = with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        let log = Rc::new(PollLog::default());
        let late = Rc::new(RefCell::new(None));
        // The flood is the `block_on` future itself, until the timers are done.
        let flood = {
            let (log, late) = (log.clone(), late.clone());
            async move {
                let timers = spawn(async move {
                    flood_under_way(10).await;
                    *late.borrow_mut() = Some(polls_after_deadlines(&log, 50).await);
                });
                let stream = TcpStream::connect(addr).await.expect("connect");
                let mut buf = [0u8; 64];
                while !timers.is_finished() {
                    assert_eq!(stream.read(&mut buf).await.expect("read"), 64);
                }
            }
        };
        rt.block_on(logged(flood, &log));
        assert!(log.len() > 50, "the flood ran: {} polls", log.len());
        late.take().expect("the timers ran")
    });
    eprintln!("block_on polls after each deadline: {late:?}");
    let worst = late.iter().copied().max().unwrap_or_default();
    assert!(worst <= MAX_FLOOD_POLLS, "{late:?}");
}

/// Records when each outcome arrived.
#[derive(Default)]
struct Arrivals(RefCell<Vec<(Outcome, Instant)>>);

impl Sink for Arrivals {
    fn finished(&self, outcome: Outcome) {
        self.0.borrow_mut().push((outcome, Instant::now()));
    }
}

#[test]
fn healthy_fetches_beside_a_flood_finish_one_flood_poll_after_their_response() {
    // One at a time, so that each fetch waits on the network (connect,
    // response) with the flood running, not all of them in one batch.
    const HEALTHY: usize = 50;
    let flood = flood_peer();
    // One peer per healthy target, so each says when it sent its response.
    let (targets, peers): (Vec<String>, Vec<_>) = (0..HEALTHY)
        .map(|_| {
            let (addr, sent) = peer(|mut stream| {
                read_head(&mut stream);
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\nServer: healthy\r\n\r\n")
                    .expect("send the response");
                let sent = Instant::now();
                // Hold the connection until the client has read and gone.
                let _ = stream.read(&mut [0u8; 1]);
                sent
            });
            (addr.to_string(), sent)
        })
        .unzip();
    let names = targets.clone();

    let (arrivals, flood_log) = with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        let log = Rc::new(PollLog::default());
        let sink = Rc::new(Arrivals::default());
        rt.block_on(async {
            let flood = spawn(logged(read_flood(flood), &log));
            flood_under_way(10).await;
            let config = Config {
                concurrency: 1,
                ..Config::default()
            };
            fetch::run(config, FromIter(targets.into_iter()), sink.clone()).await;
            flood.abort();
        });
        let arrivals = sink.0.take();
        let log = Rc::into_inner(log).expect("the flood task is gone");
        (arrivals, log.0.into_inner())
    });
    let flood_log = PollLog(RefCell::new(flood_log));

    let sent: Vec<Instant> = peers
        .into_iter()
        .map(|p| p.join().expect("healthy peer"))
        .collect();
    assert_eq!(arrivals.len(), HEALTHY);
    let mut late = Vec::new();
    for (outcome, arrived) in &arrivals {
        let head = outcome.head().unwrap_or_else(|| panic!("{outcome:?}"));
        assert_eq!(head.header("server"), Some(&b"healthy"[..]));
        let index = names.iter().position(|name| *name == outcome.input);
        let index = index.expect("a target of this test");
        late.push(flood_log.between(sent[index], *arrived));
    }
    eprintln!("flood polls between response and outcome: {late:?}");
    // The flood was flooding meanwhile. Each fetch waited on the network at
    // least twice (to connect, for the response), and the flood is polled
    // on every turn of the loop that it has data for, which is nearly all:
    // half of them is what this asks.
    let first = arrivals.iter().map(|(_, at)| *at).min().expect("outcomes");
    let during = flood_log.since(first);
    assert!(
        during >= HEALTHY,
        "the flood ran {during} times during the fetches"
    );
    let worst = late.iter().copied().max().unwrap_or_default();
    assert!(worst <= MAX_FLOOD_POLLS, "{late:?}");
}
