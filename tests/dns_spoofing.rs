//! Anti-spoofing (checklist 11): an answer counts only if QR is set and
//! its ID, question and source address match; IDs and ports are random. A
//! forged answer is dropped and the real one still awaited.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use std::collections::HashSet;
use std::time::Duration;

use dns_loop::{config, ip, on_loop};
use fetch_headers::net::dns::{IpFamily, StubResolver};
use fetch_headers::runtime::{join_all, spawn};
use support::dns_server::{a, DnsServer, Reply, A};

/// Scripts `first` around a real answer of 192.0.2.1 for `name` (A only),
/// looks it up, and returns the addresses and the mismatch count.
fn forged_then_real(wrap: fn(Box<Reply>) -> Reply) -> (Vec<std::net::IpAddr>, u64, DnsServer) {
    let server = DnsServer::start();
    let real = Reply::Records(vec![a("bank.test", "192.0.2.1")]);
    server.set_type("bank.test", A, wrap(real.boxed()));
    let resolver_config = config(&server);
    let (addresses, dropped) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let addresses = resolver
            .lookup_family("bank.test", IpFamily::V4)
            .await
            .unwrap();
        (addresses.to_vec(), resolver.stats().dropped_mismatched)
    });
    (addresses, dropped, server)
}

#[test]
fn an_answer_with_the_wrong_id_is_dropped_and_the_real_one_taken() {
    let (addresses, dropped, server) = forged_then_real(Reply::WrongIdFirst);
    assert_eq!(addresses, vec![ip("192.0.2.1")], "not the forged 6.6.6.6");
    assert_eq!(dropped, 1);
    let a_queries = server
        .queries_for("bank.test")
        .iter()
        .filter(|q| q.qtype == A)
        .count();
    assert_eq!(a_queries, 1, "no second query");
}

#[test]
fn an_answer_to_another_question_is_dropped() {
    let (addresses, dropped, _server) = forged_then_real(Reply::WrongQuestionFirst);
    assert_eq!(addresses, vec![ip("192.0.2.1")]);
    assert_eq!(dropped, 1);
}

#[test]
fn a_message_without_the_response_flag_is_dropped() {
    let (addresses, dropped, _server) = forged_then_real(Reply::NotResponseFirst);
    assert_eq!(addresses, vec![ip("192.0.2.1")]);
    assert_eq!(dropped, 1);
}

/// The connected socket makes the kernel drop it before we see it.
#[test]
fn an_answer_from_another_port_never_arrives() {
    let (addresses, dropped, _server) = forged_then_real(Reply::OtherPortFirst);
    assert_eq!(addresses, vec![ip("192.0.2.1")]);
    assert_eq!(dropped, 0, "filtered by the kernel, not by us");
}

/// A forgery cannot even end a lookup: with no real answer behind it, the
/// lookup times out rather than take it.
#[test]
fn a_forged_answer_alone_is_never_accepted() {
    let server = DnsServer::start();
    server.set_type("lone.test", A, Reply::WrongIdFirst(Reply::Drop.boxed()));
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_millis(200);
    let (error, dropped) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let error = resolver
            .lookup_family("lone.test", IpFamily::V4)
            .await
            .unwrap_err();
        (error, resolver.stats().dropped_mismatched)
    });
    assert_eq!(error.kind(), "dns-timeout", "{error}");
    assert_eq!(dropped, 1);
}

#[test]
fn every_query_has_a_fresh_random_id_and_source_port() {
    let server = DnsServer::start();
    let names: Vec<String> = (0..40).map(|i| format!("n{i}.test")).collect();
    for name in &names {
        server.set(name, Reply::Records(vec![a(name, "192.0.2.7")]));
    }
    let mut resolver_config = config(&server);
    resolver_config.no_aaaa = true;
    on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let lookups = names.into_iter().map(|name| {
            let resolver = resolver.clone();
            async move { resolver.lookup(&name).await.is_ok() }
        });
        let results = join_all(lookups.map(spawn)).await;
        assert!(results.into_iter().all(|r| matches!(r, Ok(Ok(true)))));
    });
    let queries = server.queries();
    assert_eq!(queries.len(), 40);
    let ids: HashSet<u16> = queries.iter().map(|q| q.id).collect();
    let ports: HashSet<u16> = queries.iter().map(|q| q.from.port()).collect();
    // Random 16-bit values: a few collisions are possible, a pattern not.
    assert!(ids.len() >= 35, "only {} distinct IDs", ids.len());
    assert!(ports.len() >= 35, "only {} distinct ports", ports.len());
    let sequential = queries
        .windows(2)
        .filter(|w| w[1].id == w[0].id.wrapping_add(1))
        .count();
    assert!(sequential < 3, "IDs look sequential");
}
