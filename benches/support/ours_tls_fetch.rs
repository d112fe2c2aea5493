//! The HTTPS fetch workload on our runtime, as a user of the library runs
//! it: `fetch::run` with a [`Config`] whose `tls` is a [`TlsConnector`]
//! built from `TlsOptions { cacert, ..Default::default() }` (what
//! `fetch-headers --cacert FILE` builds), fetching `https://127.0.0.1:PORT/`.
//! Outcomes are counted, not printed, and no TLS facts are asked for (as
//! the command does without `--tls-info` or `--json`), except by [`probe`].

use std::cell::RefCell;
use std::net::SocketAddr;
use std::path::Path;
use std::rc::Rc;

use fetch_headers::fetch::{self, Config, FromIter, Outcome, Sink};
use fetch_headers::http::Request;
use fetch_headers::tls::{TlsConfigError, TlsConnector, TlsInfo, TlsOptions};

use crate::ours_fetch::verdict;
use crate::wire::Tally;

/// The connector a run shares: Mozilla's roots plus the CA in `ca`.
pub fn connector(ca: &Path) -> Result<TlsConnector, TlsConfigError> {
    TlsConnector::new(&TlsOptions {
        cacert: Some(ca.to_owned()),
        ..TlsOptions::default()
    })
}

/// The target line for the server at `addr`.
pub fn target(addr: SocketAddr) -> String {
    format!("https://{addr}/")
}

/// The run's configuration: the defaults, `concurrency` in flight, `tls`.
fn config(concurrency: usize, tls: TlsConnector) -> Config {
    Config {
        concurrency,
        tls: Some(tls),
        ..Config::default()
    }
}

/// The bytes ours sends to [`target`]`(addr)`: its default request (`GET`,
/// HTTP/1.0, `Host` with the port, its `User-Agent`), built by the
/// library's own request builder from the same [`Config`] fields the fetch
/// uses, so the tokio client can send exactly the same.
pub fn request_bytes(addr: SocketAddr) -> Vec<u8> {
    let defaults = Config::default();
    let request = Request {
        method: defaults.method,
        path: "/".to_owned(),
        host: fetch::parse_target(&target(addr))
            .expect("an https URL of an IP address parses")
            .host_header(),
        user_agent: defaults.user_agent,
        headers: defaults.headers,
        version: defaults.version,
    };
    request
        .to_bytes()
        .expect("the default request to an IP address is valid")
}

/// Counts outcomes instead of printing them; keeps the first TLS facts if
/// asked to.
struct Counting {
    tally: RefCell<Tally>,
    want_info: bool,
    info: RefCell<Option<TlsInfo>>,
}

impl Sink for Counting {
    fn wants_tls_info(&self) -> bool {
        self.want_info
    }

    fn finished(&self, outcome: Outcome) {
        self.tally.borrow_mut().record(verdict(&outcome));
        let mut kept = self.info.borrow_mut();
        if let (Some(info), None) = (outcome.tls, &*kept) {
            *kept = Some(*info);
        }
    }
}

async fn run(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
    tls: TlsConnector,
    want_info: bool,
) -> Rc<Counting> {
    let targets = FromIter(std::iter::repeat_n(target(addr), total));
    let sink = Rc::new(Counting {
        tally: RefCell::default(),
        want_info,
        info: RefCell::new(None),
    });
    fetch::run(config(concurrency, tls), targets, sink.clone()).await;
    sink
}

/// Fetches `total` heads from `addr` over TLS with `concurrency` in
/// flight. Must run inside `Runtime::block_on`.
pub async fn fetch_all(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
    tls: TlsConnector,
) -> Tally {
    run(addr, total, concurrency, tls, false).await.tally.take()
}

/// One fetch that keeps the session's facts: what it negotiated.
pub async fn probe(addr: SocketAddr, tls: TlsConnector) -> Result<TlsInfo, String> {
    let sink = run(addr, 1, 1, tls, true).await;
    let tally = sink.tally.take();
    if tally.ok != 1 {
        return Err(tally.to_string());
    }
    sink.info
        .take()
        .ok_or_else(|| "the outcome carried no TLS facts".into())
}
