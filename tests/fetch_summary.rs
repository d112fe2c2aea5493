//! The run's `Summary`: one count per outcome, and the phase-latency
//! histograms only when `Config::latency` asks for them.
mod support;

use std::rc::Rc;
use std::time::Duration;

use fetch_headers::fetch::{self, Config, FromIter, Outcome, Sink, Summary};
use fetch_headers::runtime::Runtime;
use support::{closed_port, http_server, with_deadline};

struct Discard;

impl Sink for Discard {
    fn finished(&self, _: Outcome) {}
}

/// Runs 4 fetches of a healthy server and 1 of a closed port.
fn summary_of_a_run(latency: bool) -> Summary {
    let ok = http_server(&b"HTTP/1.0 200 OK\r\n\r\n"[..]);
    let refused = closed_port();
    with_deadline(Duration::from_secs(30), move || {
        let targets = (0..4)
            .map(move |_| ok.to_string())
            .chain([refused.to_string()]);
        let config = Config {
            latency,
            ..Config::default()
        };
        Runtime::new()
            .unwrap()
            .block_on(fetch::run(config, FromIter(targets), Rc::new(Discard)))
    })
}

#[test]
fn latency_histograms_count_every_outcome_that_reached_each_phase() {
    let summary = summary_of_a_run(true);
    assert_eq!((summary.hosts, summary.ok, summary.failures()), (5, 4, 1));
    let latency = &summary.latency;
    assert_eq!(latency.total.count(), 5, "every outcome has a total");
    assert_eq!(latency.dns.count(), 5, "an IP literal is resolved at once");
    assert_eq!(
        latency.connect.count(),
        4,
        "the refused one never connected"
    );
    assert_eq!(latency.first_byte.count(), 4);
    assert_eq!(latency.tls.count(), 0, "no https target");
}

#[test]
fn without_latency_the_counts_are_kept_and_the_histograms_stay_empty() {
    let summary = summary_of_a_run(false);
    assert_eq!((summary.hosts, summary.ok, summary.failures()), (5, 4, 1));
    for (phase, histogram) in summary.latency.phases() {
        assert_eq!(histogram.count(), 0, "{phase}");
    }
}
