//! What the DNS tests share on the resolver's side: a loop to run on and a
//! config that asks only the tests' own server. Included with `#[path]` by
//! the `dns_*` tests (`support/mod.rs` stays free of the runtime).
#![allow(dead_code)]

use std::future::Future;
use std::net::IpAddr;
use std::time::Duration;

use fetch_headers::net::dns::ResolverConfig;
use fetch_headers::runtime::Runtime;

use super::support::dns_server::DnsServer;

/// A config asking only `server`, one attempt, a 500 ms timeout: failures
/// are quick, and nothing but loopback is ever asked.
pub fn config(server: &DnsServer) -> ResolverConfig {
    let mut config = ResolverConfig::new(vec![server.addr()]);
    config.timeout = Duration::from_millis(500);
    config.attempts = 1;
    config
}

/// Runs the future `f` makes on a fresh loop on its own thread, failing
/// the test after 30 s.
pub fn on_loop<T, F>(f: impl FnOnce() -> F + Send + 'static) -> T
where
    T: Send + 'static,
    F: Future<Output = T>,
{
    super::support::with_deadline(Duration::from_secs(30), move || {
        Runtime::new().expect("a runtime").block_on(f())
    })
}

/// An IP address from text.
pub fn ip(text: &str) -> IpAddr {
    text.parse().expect("an IP literal")
}
