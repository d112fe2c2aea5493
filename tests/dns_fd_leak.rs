//! Checklist 6 for the resolver: every try's socket is closed when the try
//! ends (answered, timed out, truncated and asked over TCP, or dropped
//! with the runtime), and the resolver holds no socket between lookups.
//!
//! Alone in its file: it counts `/proc/self/fd`, which other tests running
//! in parallel in the same binary would disturb.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use std::time::{Duration, Instant};

use dns_loop::config;
use fetch_headers::net::dns::StubResolver;
use fetch_headers::runtime::{join_all, Runtime};
use support::dns_server::{a, DnsServer, Reply};

/// Waits, up to a deadline, for the open fds to come back to `baseline`
/// (the test server's TCP threads close their side just after ours).
fn settle(baseline: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let open = support::open_fds();
        if open <= baseline || Instant::now() > deadline {
            return open;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn no_socket_outlives_its_try() {
    let server = DnsServer::start();
    for i in 0..300 {
        let name = format!("ok{i}.test");
        server.set(&name, Reply::Records(vec![a(&name, "192.0.2.1")]));
    }
    for i in 0..20 {
        let name = format!("tc{i}.test");
        server.set(
            &name,
            Reply::Truncate(Reply::Records(vec![a(&name, "192.0.2.2")]).boxed()),
        );
    }
    for i in 0..20 {
        server.set(&format!("dead{i}.test"), Reply::Drop);
    }
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_millis(200);
    let slow = resolver_config.clone();
    let baseline = support::open_fds();

    let answered = support::with_deadline(Duration::from_secs(30), move || {
        let rt = Runtime::new().unwrap();
        let answered = rt.block_on(async move {
            let resolver = StubResolver::new(resolver_config);
            let names = (0..300)
                .map(|i| format!("ok{i}.test"))
                .chain((0..20).map(|i| format!("tc{i}.test")))
                .chain((0..20).map(|i| format!("dead{i}.test")));
            let lookups = names.map(|name| {
                let resolver = resolver.clone();
                async move { resolver.lookup(&name).await.is_ok() }
            });
            join_all(lookups)
                .await
                .into_iter()
                .filter(|r| matches!(r, Ok(true)))
                .count()
        });
        assert_eq!(rt.stats().connections_open, 0, "the TCP fallbacks closed");
        answered
    });
    assert_eq!(answered, 320, "the dead names fail, the rest answer");

    // Lookups still waiting when their runtime is dropped close their
    // sockets too.
    support::with_deadline(Duration::from_secs(30), move || {
        let rt = Runtime::new().unwrap();
        let resolver = StubResolver::new(slow);
        rt.block_on(async {
            for i in 0..20 {
                let resolver = resolver.clone();
                fetch_headers::runtime::spawn(async move {
                    let _ = resolver.lookup(&format!("dead{i}.test")).await;
                });
            }
            // Let the tasks send their queries, then leave them waiting.
            fetch_headers::runtime::sleep(Duration::from_millis(50)).await;
        });
        drop(rt);
    });
    let open = settle(baseline);
    assert!(open <= baseline, "{open} fds open, {baseline} before");
}
