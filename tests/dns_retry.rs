//! Retries: attempts with a timer per try, servers in turn or rotated, and
//! a failing server passed over.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use std::time::Duration;

use dns_loop::{config, ip, on_loop};
use fetch_headers::net::dns::{IpFamily, LookupError, ResolverConfig, StubResolver};
use support::dns_server::{a, DnsServer, Reply, A};

fn a_queries(server: &DnsServer, name: &str) -> usize {
    server
        .queries_for(name)
        .iter()
        .filter(|q| q.qtype == A)
        .count()
}

#[test]
fn a_dropped_query_is_sent_again_in_the_next_attempt() {
    let server = DnsServer::start();
    server.set(
        "flaky.test",
        Reply::DropFirst(
            1,
            Reply::Records(vec![a("flaky.test", "192.0.2.1")]).boxed(),
        ),
    );
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_millis(200);
    resolver_config.attempts = 2;
    resolver_config.no_aaaa = true;
    let (addresses, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let addresses = resolver.lookup("flaky.test").await.map(|a| a.to_vec());
        (addresses, resolver.stats())
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.1")]);
    assert_eq!(a_queries(&server, "flaky.test"), 2);
    assert_eq!((stats.timeouts, stats.retries), (1, 1));

    // With one attempt, the same server script is a timeout.
    let server = DnsServer::start();
    server.set(
        "flaky.test",
        Reply::DropFirst(
            1,
            Reply::Records(vec![a("flaky.test", "192.0.2.1")]).boxed(),
        ),
    );
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_millis(200);
    resolver_config.no_aaaa = true;
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("flaky.test")
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), "dns-timeout");
}

#[test]
fn servers_are_tried_in_turn_after_a_timeout_or_a_failure() {
    let dead = DnsServer::start();
    dead.set("x.test", Reply::Drop);
    let sick = DnsServer::start();
    sick.set("x.test", Reply::ServFail);
    let good = DnsServer::start();
    good.set("x.test", Reply::Records(vec![a("x.test", "192.0.2.2")]));
    let mut resolver_config = ResolverConfig::new(vec![dead.addr(), sick.addr(), good.addr()]);
    resolver_config.timeout = Duration::from_millis(200);
    resolver_config.attempts = 1;
    let addresses = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup_family("x.test", IpFamily::V4)
            .await
            .map(|a| a.to_vec())
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.2")]);
    for server in [&dead, &sick, &good] {
        assert_eq!(a_queries(server, "x.test"), 1);
    }
}

#[test]
fn a_timeout_lists_every_silent_server() {
    let one = DnsServer::start();
    one.set("void.test", Reply::Drop);
    let two = DnsServer::start();
    two.set("void.test", Reply::Drop);
    let mut resolver_config = ResolverConfig::new(vec![one.addr(), two.addr()]);
    resolver_config.timeout = Duration::from_millis(150);
    resolver_config.attempts = 2;
    resolver_config.no_aaaa = true;
    let expected = vec![one.addr(), two.addr()];
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("void.test")
            .await
            .unwrap_err()
    });
    match error {
        LookupError::Timeout {
            servers, waited, ..
        } => {
            assert_eq!(servers, expected);
            assert!(waited >= Duration::from_millis(600), "{waited:?}");
        }
        other => panic!("not a timeout: {other:?}"),
    }
    // Two rounds over two servers: each asked twice.
    assert_eq!(
        (a_queries(&one, "void.test"), a_queries(&two, "void.test")),
        (2, 2)
    );
}

#[test]
fn rotate_spreads_questions_over_the_servers() {
    let run = |rotate: bool| {
        let one = DnsServer::start();
        let two = DnsServer::start();
        let names: Vec<String> = (0..6).map(|i| format!("r{i}.test")).collect();
        for server in [&one, &two] {
            for name in &names {
                server.set(name, Reply::Records(vec![a(name, "192.0.2.3")]));
            }
        }
        let mut resolver_config = ResolverConfig::new(vec![one.addr(), two.addr()]);
        resolver_config.rotate = rotate;
        resolver_config.no_aaaa = true;
        on_loop(move || async move {
            let resolver = StubResolver::new(resolver_config);
            for name in &names {
                resolver.lookup(name).await.unwrap();
            }
        });
        (one.queries().len(), two.queries().len())
    };
    assert_eq!(
        run(false),
        (6, 0),
        "without rotate, the first server always"
    );
    assert_eq!(run(true), (3, 3), "with rotate, each in turn");
}
