//! The loop's counters add up on a known workload.
mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use fetch_headers::fetch::{self, Config, FromIter, Outcome, Sink};
use fetch_headers::runtime::Runtime;

const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: stats-test\r\nContent-Length: 0\r\n\r\n";

#[derive(Default)]
struct Collect(RefCell<Vec<Outcome>>);

impl Sink for Collect {
    fn finished(&self, outcome: Outcome) {
        self.0.borrow_mut().push(outcome);
    }
}

#[test]
fn counters_match_a_known_fetch_workload() {
    let addr = support::http_server(RESPONSE);
    let (stats, outcomes, summary) = support::with_deadline(Duration::from_secs(60), move || {
        let rt = Runtime::new().unwrap();
        let sink = Rc::new(Collect::default());
        let targets = FromIter(std::iter::repeat_n(addr.to_string(), 200));
        let config = Config {
            concurrency: 20,
            ..Config::default()
        };
        let summary = rt.block_on(fetch::run(config, targets, sink.clone()));
        let outcomes: Vec<_> = sink
            .0
            .take()
            .into_iter()
            .map(|o| o.result.is_ok())
            .collect();
        (rt.stats(), outcomes, summary)
    });
    assert_eq!(outcomes.len(), 200);
    assert!(outcomes.iter().all(|ok| *ok));
    assert_eq!((summary.hosts, summary.ok), (200, 200));
    // One task per target, each run to completion.
    assert_eq!(stats.tasks_spawned, 200);
    assert_eq!(stats.tasks_completed, 200);
    // Every byte the server sent was read, and nothing more.
    assert_eq!(stats.bytes_read, 200 * RESPONSE.len() as u64);
    assert!(stats.bytes_written > 0);
    // Concurrency was honoured and every socket closed.
    assert!(stats.connections_max <= 20 && stats.connections_max > 0);
    assert_eq!(stats.connections_open, 0);
    // One timer per fetch, none of which fired.
    assert_eq!(stats.timers_fired, 0);
    assert_eq!(summary.latency.total.count(), 200);
    assert_eq!(summary.latency.first_byte.count(), 200);
}
