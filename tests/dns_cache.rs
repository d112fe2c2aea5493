//! Answers are shared and kept: identical questions in flight are asked
//! once, a second lookup is answered from the cache until its TTL, negative
//! answers per RFC 2308; memory and lookups in flight are bounded; a dead
//! name delays no one else.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use std::time::{Duration, Instant};

use dns_loop::{config, ip, on_loop};
use fetch_headers::net::dns::{IpFamily, StubResolver};
use fetch_headers::runtime::{join_all, sleep, spawn};
use support::dns_server::{a, DnsServer, Reply, Rr, A};

fn a_queries(server: &DnsServer, name: &str) -> usize {
    server
        .queries_for(name)
        .iter()
        .filter(|q| q.qtype == A)
        .count()
}

#[test]
fn a_second_lookup_is_answered_from_the_cache() {
    let server = DnsServer::start();
    server.set(
        "kept.test",
        Reply::Records(vec![a("kept.test", "192.0.2.1")]),
    );
    let resolver_config = config(&server);
    let (first, second, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let first = resolver.lookup("kept.test").await.map(|a| a.to_vec());
        let second = resolver.lookup("KEPT.test").await.map(|a| a.to_vec());
        (first, second, resolver.stats())
    });
    assert_eq!(first.unwrap(), second.unwrap());
    assert_eq!(server.queries().len(), 2, "one A and one AAAA, once");
    assert_eq!(stats.cache_hits, 1);
}

#[test]
fn an_expired_answer_is_fetched_again() {
    let server = DnsServer::start();
    let short = Rr {
        ttl: 1,
        ..a("brief.test", "192.0.2.2")
    };
    server.set("brief.test", Reply::Records(vec![short]));
    server.set_negative_ttl(1); // the AAAA side's NODATA, also 1 s
    let resolver_config = config(&server);
    let stats = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        resolver.lookup("brief.test").await.unwrap();
        resolver.lookup("brief.test").await.unwrap();
        // Past the TTL, by the resolver's own clock.
        sleep(Duration::from_millis(1100)).await;
        resolver.lookup("brief.test").await.unwrap();
        resolver.stats()
    });
    assert_eq!(a_queries(&server, "brief.test"), 2);
    assert_eq!(stats.cache_hits, 1);
    assert_eq!(stats.resolutions, 2);
}

#[test]
fn negative_answers_are_cached_only_with_an_soa() {
    let server = DnsServer::start();
    server.set("gone.test", Reply::NxDomain);
    server.set("vague.test", Reply::NxDomainNoSoa);
    server.set("sick.test", Reply::ServFail);
    let resolver_config = config(&server);
    on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        for name in ["gone.test", "vague.test", "sick.test"] {
            for _ in 0..2 {
                assert!(resolver.lookup(name).await.is_err());
            }
        }
    });
    assert_eq!(
        a_queries(&server, "gone.test"),
        1,
        "RFC 2308: cached for the SOA's TTL"
    );
    assert_eq!(a_queries(&server, "vague.test"), 2, "no SOA, no caching");
    assert_eq!(
        a_queries(&server, "sick.test"),
        2,
        "failures are never cached"
    );
}

#[test]
fn identical_lookups_in_flight_send_one_query() {
    let server = DnsServer::start();
    server.set(
        "popular.test",
        Reply::Delay(
            Duration::from_millis(100),
            Reply::Records(vec![a("popular.test", "192.0.2.3")]).boxed(),
        ),
    );
    let resolver_config = config(&server);
    let stats = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let lookups = (0..50).map(|_| {
            let resolver = resolver.clone();
            spawn(async move { resolver.lookup_family("popular.test", IpFamily::V4).await })
        });
        let results: Vec<_> = lookups.collect();
        for handle in results {
            let addresses = handle.await.unwrap().unwrap();
            assert_eq!(addresses.to_vec(), vec![ip("192.0.2.3")]);
        }
        resolver.stats()
    });
    assert_eq!(a_queries(&server, "popular.test"), 1);
    assert_eq!(stats.deduplicated, 49);
    assert_eq!(stats.resolutions, 1);
}

#[test]
fn the_cache_keeps_at_most_its_capacity() {
    let server = DnsServer::start();
    for name in ["c1.test", "c2.test", "c3.test"] {
        server.set(name, Reply::Records(vec![a(name, "192.0.2.4")]));
    }
    let mut resolver_config = config(&server);
    resolver_config.cache_capacity = 2;
    resolver_config.no_aaaa = true;
    on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        for name in ["c1.test", "c2.test", "c3.test", "c3.test", "c1.test"] {
            resolver.lookup(name).await.unwrap();
        }
    });
    // c1 expires soonest, so it made room for c3 and was asked again.
    assert_eq!(a_queries(&server, "c1.test"), 2);
    assert_eq!(a_queries(&server, "c3.test"), 1);
}

#[test]
fn lookups_beyond_the_limit_wait_their_turn() {
    let server = DnsServer::start();
    let names: Vec<String> = (0..6).map(|i| format!("slow{i}.test")).collect();
    for name in &names {
        server.set(
            name,
            Reply::Delay(
                Duration::from_millis(150),
                Reply::Records(vec![a(name, "192.0.2.5")]).boxed(),
            ),
        );
    }
    let mut resolver_config = config(&server);
    resolver_config.max_in_flight = 2;
    resolver_config.no_aaaa = true;
    let (finished, took, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let started = Instant::now();
        let lookups = names.into_iter().map(|name| {
            let resolver = resolver.clone();
            async move {
                resolver.lookup(&name).await.unwrap();
                (name, started.elapsed())
            }
        });
        let mut finished: Vec<(String, Duration)> = join_all(lookups)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        let took = started.elapsed();
        finished.sort_by_key(|(_, at)| *at);
        (finished, took, resolver.stats())
    });
    // Two at a time, 150 ms each: three waves.
    assert!(took >= Duration::from_millis(450), "{took:?}");
    assert_eq!(stats.queued, 4);
    // FIFO: the first two asked finish first, the last two last.
    let order: Vec<&str> = finished.iter().map(|(n, _)| n.as_str()).collect();
    assert!(order[..2].contains(&"slow0.test") && order[..2].contains(&"slow1.test"));
    assert!(order[4..].contains(&"slow4.test") && order[4..].contains(&"slow5.test"));
}

/// Issue #12: a name whose server never answers holds only its own
/// lookup; the healthy names of the same run finish at once.
#[test]
fn a_dead_name_delays_no_healthy_name() {
    let server = DnsServer::start();
    server.set("dead.test", Reply::Drop);
    let names: Vec<String> = (0..50).map(|i| format!("ok{i}.test")).collect();
    for name in &names {
        server.set(name, Reply::Records(vec![a(name, "192.0.2.6")]));
    }
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_secs(2);
    resolver_config.no_aaaa = true;
    let (dead_after, healthy_after) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let started = Instant::now();
        let dead = {
            let resolver = resolver.clone();
            spawn(async move {
                let error = resolver.lookup("dead.test").await.unwrap_err();
                assert_eq!(error.kind(), "dns-timeout");
                started.elapsed()
            })
        };
        let healthy = names.into_iter().map(|name| {
            let resolver = resolver.clone();
            async move {
                resolver.lookup(&name).await.unwrap();
                started.elapsed()
            }
        });
        let healthy_after = join_all(healthy)
            .await
            .into_iter()
            .map(Result::unwrap)
            .max()
            .unwrap();
        (dead.await.unwrap(), healthy_after)
    });
    assert!(dead_after >= Duration::from_secs(2), "{dead_after:?}");
    assert!(
        healthy_after < Duration::from_secs(1),
        "the healthy names took {healthy_after:?}"
    );
}
