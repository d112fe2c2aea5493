//! The fetch workload on our runtime, through the fetch engine: the same
//! library path the `fetch-headers` command runs (`fetch::run`), with the
//! output discarded and each outcome checked.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;

use fetch_headers::fetch::{self, Config, FromIter, Outcome, Sink};

use crate::wire::Tally;

/// Counts outcomes instead of printing them.
struct Counting(RefCell<Tally>);

impl Sink for Counting {
    fn finished(&self, outcome: Outcome) {
        self.0.borrow_mut().record(verdict(&outcome));
    }
}

/// What the benches count an outcome as: a `200` head, or why not.
pub fn verdict(outcome: &Outcome) -> Result<(), String> {
    match &outcome.result {
        Ok(heads) if heads.last_head().status == 200 => Ok(()),
        Ok(heads) => Err(format!("status {}", heads.last_head().status)),
        Err(e) => Err(e.to_string()),
    }
}

/// Fetches `total` heads from `addr` with `concurrency` in flight, with
/// `fetch::run`. Must run inside `Runtime::block_on`.
pub async fn fetch_all_with_engine(addr: SocketAddr, total: usize, concurrency: usize) -> Tally {
    let config = Config {
        concurrency,
        ..Config::default()
    };
    let target = addr.to_string();
    let targets = FromIter(std::iter::repeat_n(target, total));
    let sink = Rc::new(Counting(RefCell::default()));
    fetch::run(config, targets, sink.clone()).await;
    sink.0.take()
}
