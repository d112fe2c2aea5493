//! Every outcome kind of a lookup, each naming who said it, against the
//! tests' own DNS server on loopback.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use std::time::{Duration, Instant};

use dns_loop::{config, ip, on_loop};
use fetch_headers::net::dns::{
    BadResponse, IpFamily, LookupError, Origin, ResolverConfig, StubResolver,
};
use support::dns_server::{a, aaaa, cname, DnsServer, Reply, A, AAAA};

#[test]
fn a_and_aaaa_are_asked_in_parallel_and_both_returned() {
    let server = DnsServer::start();
    server.set(
        "www.test",
        Reply::Records(vec![
            a("www.test", "192.0.2.1"),
            aaaa("www.test", "2001:db8::1"),
        ]),
    );
    let resolver_config = config(&server);
    let addresses = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let addresses = resolver.lookup("www.test").await.unwrap();
        (addresses.to_vec(), resolver.stats())
    });
    let (addresses, stats) = addresses;
    assert_eq!(addresses, vec![ip("192.0.2.1"), ip("2001:db8::1")]);
    assert_eq!(stats.queries_sent, 2);
    let queries = server.queries();
    assert_eq!(queries.len(), 2);
    let mut types: Vec<u16> = queries.iter().map(|q| q.qtype).collect();
    types.sort();
    assert_eq!(types, vec![A, AAAA]);
    assert!(queries.iter().all(|q| q.edns && !q.tcp), "{queries:?}");
}

/// Happy Eyeballs needs the first family as soon as it arrives: here AAAA
/// at once and A after 400 ms.
#[test]
fn each_family_is_yielded_as_soon_as_it_arrives() {
    let server = DnsServer::start();
    server.set_type(
        "he.test",
        AAAA,
        Reply::Records(vec![aaaa("he.test", "2001:db8::2")]),
    );
    server.set_type(
        "he.test",
        A,
        Reply::Delay(
            Duration::from_millis(400),
            Reply::Records(vec![a("he.test", "192.0.2.2")]).boxed(),
        ),
    );
    let resolver_config = config(&server);
    let (first, second) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let started = Instant::now();
        let mut lookup = resolver.lookup_each("he.test");
        let first = lookup.next().await.unwrap();
        let first_at = started.elapsed();
        let second = lookup.next().await.unwrap();
        let second_at = started.elapsed();
        assert!(lookup.next().await.is_none(), "two families, two results");
        (
            (first.0, first.1.unwrap().to_vec(), first_at),
            (second.0, second_at),
        )
    });
    assert_eq!(first.0, IpFamily::V6);
    assert_eq!(first.1, vec![ip("2001:db8::2")]);
    assert_eq!(second.0, IpFamily::V4);
    assert!(
        first.2 < second.1,
        "AAAA at {:?} came before A at {:?}",
        first.2,
        second.1
    );
    assert!(second.1 >= Duration::from_millis(400));
}

#[test]
fn nxdomain_names_the_server_that_said_it() {
    let server = DnsServer::start();
    server.set("gone.test", Reply::NxDomain);
    let resolver_config = config(&server);
    let addr = server.addr();
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("gone.test")
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), "nxdomain");
    assert!(
        matches!(&error, LookupError::NxDomain { name, origin: Origin::Server(s) }
            if name.to_string() == "gone.test" && *s == addr),
        "{error:?}"
    );
    assert!(error.to_string().contains(&addr.to_string()), "{error}");
}

#[test]
fn nodata_is_the_missing_family_of_a_name_that_exists() {
    let server = DnsServer::start();
    server.set(
        "v4only.test",
        Reply::Records(vec![a("v4only.test", "192.0.2.3")]),
    );
    let resolver_config = config(&server);
    let addr = server.addr();
    let (v6, both) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let v6 = resolver.lookup_family("v4only.test", IpFamily::V6).await;
        let both = resolver.lookup("v4only.test").await.map(|a| a.to_vec());
        (v6, both)
    });
    let error = v6.unwrap_err();
    assert_eq!(error.kind(), "nodata");
    assert!(matches!(
        error,
        LookupError::NoData { family: IpFamily::V6, origin: Origin::Server(s), .. } if s == addr
    ));
    assert_eq!(both.unwrap(), vec![ip("192.0.2.3")], "one family is enough");

    // Neither family: the lookup is NODATA.
    server.set("empty.test", Reply::Records(vec![]));
    let resolver_config = config(&server);
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("empty.test")
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), "nodata");
}

#[test]
fn servfail_and_refused_name_the_server() {
    let server = DnsServer::start();
    server.set("sick.test", Reply::ServFail);
    server.set("rude.test", Reply::Refused);
    let resolver_config = config(&server);
    let addr = server.addr();
    let (sick, rude) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        (
            resolver.lookup("sick.test").await.unwrap_err(),
            resolver.lookup("rude.test").await.unwrap_err(),
        )
    });
    assert_eq!(sick.kind(), "servfail");
    assert!(matches!(sick, LookupError::ServFail { server, .. } if server == addr));
    assert_eq!(rude.kind(), "refused");
    assert!(matches!(rude, LookupError::Refused { server, .. } if server == addr));
}

#[test]
fn a_silent_server_is_a_timeout_that_says_where_and_how_long() {
    let server = DnsServer::start();
    server.set("dead.test", Reply::Drop);
    let mut resolver_config = config(&server);
    resolver_config.timeout = Duration::from_millis(200);
    resolver_config.attempts = 2;
    let addr = server.addr();
    let (error, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let error = resolver
            .lookup_family("dead.test", IpFamily::V4)
            .await
            .unwrap_err();
        (error, resolver.stats())
    });
    assert_eq!(error.kind(), "dns-timeout");
    match &error {
        LookupError::Timeout {
            servers, waited, ..
        } => {
            assert_eq!(servers, &vec![addr]);
            assert!(*waited >= Duration::from_millis(400), "{waited:?}");
        }
        other => panic!("not a timeout: {other:?}"),
    }
    let a_queries = server
        .queries_for("dead.test")
        .iter()
        .filter(|q| q.qtype == A)
        .count();
    assert_eq!(a_queries, 2, "one query per attempt");
    assert_eq!(stats.timeouts, 4, "two attempts for each of A and AAAA");
    assert_eq!(stats.retries, 2);
}

#[test]
fn a_cname_chain_is_followed_up_to_eight_links() {
    let server = DnsServer::start();
    // c0 -> c1 -> ... -> c8: eight links, then the address.
    let chain = |links: usize, prefix: &str| {
        let mut records: Vec<_> = (0..links)
            .map(|i| {
                cname(
                    &format!("{prefix}{i}.test"),
                    &format!("{prefix}{}.test", i + 1),
                )
            })
            .collect();
        records.push(a(&format!("{prefix}{links}.test"), "192.0.2.8"));
        records
    };
    server.set("c0.test", Reply::Records(chain(8, "c")));
    server.set("d0.test", Reply::Records(chain(9, "d")));
    let resolver_config = config(&server);
    let addr = server.addr();
    let (ok, too_long) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        (
            resolver
                .lookup_family("c0.test", IpFamily::V4)
                .await
                .map(|a| a.to_vec()),
            resolver
                .lookup_family("d0.test", IpFamily::V4)
                .await
                .unwrap_err(),
        )
    });
    assert_eq!(ok.unwrap(), vec![ip("192.0.2.8")]);
    assert_eq!(too_long.kind(), "bad-response");
    assert!(
        matches!(too_long, LookupError::BadResponse { server, reason: BadResponse::CnameChain(_), .. } if server == addr),
        "{too_long:?}"
    );
}

#[test]
fn a_truncated_answer_is_asked_again_over_tcp() {
    let server = DnsServer::start();
    server.set(
        "tc.test",
        Reply::Truncate(Reply::Records(vec![a("tc.test", "192.0.2.9")]).boxed()),
    );
    // 100 A records do not fit in 1232 bytes: the server truncates them.
    let many: Vec<_> = (0..100)
        .map(|i| a("many.test", &format!("10.0.{}.{}", i / 250, i % 250 + 1)))
        .collect();
    server.set("many.test", Reply::Records(many));
    let resolver_config = config(&server);
    let (tc, many, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let tc = resolver.lookup_family("tc.test", IpFamily::V4).await;
        let many = resolver.lookup_family("many.test", IpFamily::V4).await;
        (
            tc.map(|a| a.to_vec()),
            many.map(|a| a.len()),
            resolver.stats(),
        )
    });
    assert_eq!(tc.unwrap(), vec![ip("192.0.2.9")]);
    assert_eq!(many.unwrap(), 100);
    assert!(stats.tcp_fallbacks >= 2, "{stats:?}");
    for name in ["tc.test", "many.test"] {
        let queries: Vec<_> = server
            .queries_for(name)
            .into_iter()
            .filter(|q| q.qtype == A)
            .collect();
        assert_eq!(queries.len(), 2, "{queries:?}");
        assert!(
            !queries[0].tcp && queries[1].tcp,
            "UDP, then TCP: {queries:?}"
        );
    }
}

#[test]
fn formerr_to_edns_is_asked_again_without_it() {
    let server = DnsServer::start();
    let old =
        |name: &str, ip: &str| Reply::FormErrOnEdns(Reply::Records(vec![a(name, ip)]).boxed());
    server.set_type("old.test", A, old("old.test", "192.0.2.10"));
    server.set_type("old2.test", A, old("old2.test", "192.0.2.11"));
    let mut resolver_config = config(&server);
    resolver_config.no_aaaa = true;
    let (first, second, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let first = resolver.lookup("old.test").await.map(|a| a.to_vec());
        let second = resolver.lookup("old2.test").await.map(|a| a.to_vec());
        (first, second, resolver.stats())
    });
    assert_eq!(first.unwrap(), vec![ip("192.0.2.10")]);
    assert_eq!(second.unwrap(), vec![ip("192.0.2.11")]);
    let edns: Vec<bool> = server
        .queries_for("old.test")
        .iter()
        .map(|q| q.edns)
        .collect();
    assert_eq!(edns, vec![true, false]);
    let edns: Vec<bool> = server
        .queries_for("old2.test")
        .iter()
        .map(|q| q.edns)
        .collect();
    assert_eq!(edns, vec![false], "the server is remembered as EDNS-less");
    assert_eq!(stats.edns_fallbacks, 1);
}

#[test]
fn a_port_with_no_server_fails_fast_as_an_io_error() {
    // A UDP port with nothing bound: the kernel answers ICMP "port
    // unreachable", which the connected socket reports as refused.
    let closed = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap()
    };
    let mut resolver_config = ResolverConfig::new(vec![closed]);
    resolver_config.timeout = Duration::from_secs(5);
    resolver_config.attempts = 1;
    let (error, took) = on_loop(move || async move {
        let started = Instant::now();
        let error = StubResolver::new(resolver_config)
            .lookup_family("x.test", IpFamily::V4)
            .await
            .unwrap_err();
        (error, started.elapsed())
    });
    // Another test's socket could take the port meanwhile; then the
    // datagram is simply not answered and this is a timeout instead.
    match &error {
        LookupError::Io { kind, server, .. } => {
            assert_eq!(*kind, std::io::ErrorKind::ConnectionRefused);
            assert_eq!(*server, closed);
            assert!(took < Duration::from_secs(2), "{took:?}");
        }
        LookupError::Timeout { .. } => {}
        other => panic!("unexpected: {other:?}"),
    }
}
