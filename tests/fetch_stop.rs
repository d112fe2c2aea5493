//! `fetch::run_until` with a `Stop`: a run stopped early takes no more
//! targets, lets the fetches in flight finish within the grace, interrupts
//! the rest, and still gives every target it took exactly one outcome.
mod support;

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use fetch_headers::fetch::{
    self, Config, ErrorKind, FetchError, FromIter, Outcome, Sink, Stop, StopReason,
};
use fetch_headers::runtime::{self, channel, Runtime};
use support::{held_server, read_head, serve, with_deadline};

#[derive(Default)]
struct Collect(RefCell<Vec<Outcome>>);

impl Sink for Collect {
    fn finished(&self, outcome: Outcome) {
        self.0.borrow_mut().push(outcome);
    }
}

/// Patient limits: only a stop can end a held fetch within the test.
fn patient(concurrency: usize) -> Config {
    Config {
        concurrency,
        connect_timeout: Duration::from_secs(120),
        read_timeout: Duration::from_secs(120),
        max_time: Duration::from_secs(120),
        ..Config::default()
    }
}

/// On the loop: waits until `n` requests have reached their server (told
/// through `requests` by the server's threads), then runs `then`.
fn after_requests(n: usize, requests: mpsc::Receiver<()>, then: impl FnOnce() + 'static) {
    // The server's channel is a std one; a plain thread passes its news on
    // through a channel the loop can await.
    let (tx, rx) = channel::channel(1);
    thread::spawn(move || {
        for _ in 0..n {
            requests.recv().expect("a request");
        }
        let _ = tx.send_blocking(());
    });
    drop(runtime::spawn(async move {
        rx.recv().await.expect("the requests arrived");
        then();
    }));
}

#[test]
fn stop_interrupts_the_fetches_in_flight_and_takes_no_more_targets() {
    let (held, requests) = held_server();
    let (outcomes, summary) = with_deadline(Duration::from_secs(60), move || {
        let rt = Runtime::new().unwrap();
        let sink = Rc::new(Collect::default());
        let targets = FromIter((0..10).map(move |i| format!("http://{held}/{i}")));
        let stop = Stop::new();
        let summary = rt.block_on(async {
            let requested = stop.clone();
            after_requests(3, requests, move || {
                requested.request(StopReason::Signal(libc::SIGINT), Duration::from_millis(50));
            });
            fetch::run_until(patient(3), targets, sink.clone(), stop).await
        });
        (sink.0.take(), summary)
    });
    assert_eq!(outcomes.len(), 3, "only the 3 in flight were taken");
    assert_eq!(summary.hosts, 3);
    assert_eq!(summary.stopped, Some(StopReason::Signal(libc::SIGINT)));
    for outcome in &outcomes {
        let error = outcome.result.as_ref().unwrap_err();
        assert!(
            matches!(
                error,
                FetchError::Interrupted(StopReason::Signal(libc::SIGINT))
            ),
            "{error:?}"
        );
        assert_eq!(error.kind(), ErrorKind::Interrupted);
        assert_eq!(error.to_string(), "interrupted by SIGINT");
        let timings = &outcome.timings;
        assert!(
            timings.connect.is_some() && timings.sent.is_some(),
            "{timings:?}"
        );
        assert!(timings.first_byte.is_none(), "{timings:?}");
        assert!(
            timings.total >= Duration::from_millis(50),
            "after the grace: {timings:?}"
        );
    }
    assert_eq!(
        summary.failed().collect::<Vec<_>>(),
        [(ErrorKind::Interrupted, 3)]
    );
}

/// A fetch that ends within the grace keeps its own outcome, and the run
/// ends with it, without waiting out the rest of the grace (an hour here,
/// far past the test's deadline).
#[test]
fn a_fetch_that_ends_within_the_grace_keeps_its_outcome() {
    let (requests_tx, requests) = mpsc::channel();
    let (answer_tx, answer) = mpsc::channel::<()>();
    let requests_tx = Arc::new(Mutex::new(requests_tx));
    let answer = Arc::new(Mutex::new(answer));
    let addr = serve(move |mut stream| {
        read_head(&mut stream);
        let _ = requests_tx.lock().unwrap().send(());
        // Answer once the test says the stop has been requested.
        let _ = answer.lock().unwrap().recv();
        let _ = stream.write_all(b"HTTP/1.0 204 No Content\r\n\r\n");
    });
    let (outcomes, summary) = with_deadline(Duration::from_secs(60), move || {
        let rt = Runtime::new().unwrap();
        let sink = Rc::new(Collect::default());
        let targets = FromIter((0..5).map(move |i| format!("http://{addr}/{i}")));
        let stop = Stop::new();
        let summary = rt.block_on(async {
            let requested = stop.clone();
            after_requests(1, requests, move || {
                requested.request(StopReason::OutputClosed, Duration::from_secs(3600));
                answer_tx.send(()).expect("the server waits");
            });
            fetch::run_until(patient(1), targets, sink.clone(), stop).await
        });
        (sink.0.take(), summary)
    });
    assert_eq!(outcomes.len(), 1);
    let head = outcomes[0].head().expect("the answer, not an interruption");
    assert_eq!(head.status, 204);
    assert_eq!(summary.stopped, Some(StopReason::OutputClosed));
    assert_eq!((summary.hosts, summary.ok), (1, 1));
}

/// A second request shortens the grace of the first, and the first
/// request's reason stays. Both come after the last target was taken (the
/// run has room for more), while the driver waits for the fetches to end.
#[test]
fn a_later_request_shortens_the_grace() {
    let (held, requests) = held_server();
    let (outcomes, summary) = with_deadline(Duration::from_secs(60), move || {
        let rt = Runtime::new().unwrap();
        let sink = Rc::new(Collect::default());
        let targets = FromIter((0..2).map(move |i| format!("http://{held}/{i}")));
        let stop = Stop::new();
        let summary = rt.block_on(async {
            let requested = stop.clone();
            after_requests(2, requests, move || {
                requested.request(StopReason::Signal(libc::SIGTERM), Duration::from_secs(3600));
                requested.request(StopReason::OutputClosed, Duration::ZERO);
            });
            fetch::run_until(patient(10), targets, sink.clone(), stop).await
        });
        (sink.0.take(), summary)
    });
    assert_eq!(outcomes.len(), 2);
    for outcome in &outcomes {
        let message = outcome.result.as_ref().unwrap_err().to_string();
        assert_eq!(message, "interrupted by SIGTERM");
    }
    assert_eq!(summary.stopped, Some(StopReason::Signal(libc::SIGTERM)));
}
