//! Which names are asked: the search list and ndots as glibc applies them,
//! a trailing dot, names answered without a query (IP literals, localhost,
//! .invalid, the hosts table), nsswitch's order and fallbacks, no-aaaa.
#[path = "support/dns_loop.rs"]
mod dns_loop;
mod support;

use dns_loop::{config, ip, on_loop};
use fetch_headers::net::dns::{
    Fallback, HostsTable, IpFamily, LookupError, NsSwitch, Origin, StubResolver,
};
use support::dns_server::{a, aaaa, DnsServer, Reply, A};

/// The names the server was asked for A records, in order.
fn asked(server: &DnsServer) -> Vec<String> {
    server
        .queries()
        .into_iter()
        .filter(|q| q.qtype == A)
        .map(|q| q.name)
        .collect()
}

#[test]
fn a_short_name_tries_the_search_list_first() {
    let server = DnsServer::start();
    server.set(
        "www.b.test",
        Reply::Records(vec![a("www.b.test", "192.0.2.1")]),
    );
    let mut resolver_config = config(&server);
    resolver_config.search = vec!["a.test".into(), "b.test".into()];
    let addresses = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("www")
            .await
            .map(|a| a.to_vec())
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.1")]);
    assert_eq!(
        asked(&server),
        vec!["www.a.test", "www.b.test"],
        "stops at the first hit"
    );
}

#[test]
fn a_name_with_ndots_dots_is_asked_as_is_first() {
    let server = DnsServer::start();
    server.set(
        "db.corp.a.test",
        Reply::Records(vec![a("db.corp.a.test", "192.0.2.2")]),
    );
    let mut resolver_config = config(&server);
    resolver_config.search = vec!["a.test".into()];
    resolver_config.ndots = 1;
    let addresses = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("db.corp")
            .await
            .map(|a| a.to_vec())
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.2")]);
    assert_eq!(asked(&server), vec!["db.corp", "db.corp.a.test"]);

    // With ndots 2, one dot is too few: the search list comes first.
    let server = DnsServer::start();
    let mut resolver_config = config(&server);
    resolver_config.search = vec!["a.test".into()];
    resolver_config.ndots = 2;
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("db.corp")
            .await
            .unwrap_err()
    });
    assert_eq!(asked(&server), vec!["db.corp.a.test", "db.corp"]);
    assert!(
        matches!(&error, LookupError::NxDomain { name, .. } if name.to_string() == "db.corp"),
        "the last name's NXDOMAIN: {error:?}"
    );
}

#[test]
fn a_trailing_dot_means_absolute() {
    let server = DnsServer::start();
    let mut resolver_config = config(&server);
    resolver_config.search = vec!["a.test".into()];
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("www.")
            .await
            .unwrap_err()
    });
    assert_eq!(error.kind(), "nxdomain");
    assert_eq!(asked(&server), vec!["www"], "no search domain appended");
}

/// Every candidate fails: NODATA somewhere beats NXDOMAIN at the end.
#[test]
fn nodata_on_any_candidate_beats_a_later_nxdomain() {
    let server = DnsServer::start();
    server.set("www.a.test", Reply::Records(vec![]));
    let mut resolver_config = config(&server);
    resolver_config.search = vec!["a.test".into()];
    let error = on_loop(move || async move {
        StubResolver::new(resolver_config)
            .lookup("www")
            .await
            .unwrap_err()
    });
    assert_eq!(asked(&server), vec!["www.a.test", "www"]);
    assert!(
        matches!(&error, LookupError::NoData { name, .. } if name.to_string() == "www.a.test"),
        "{error:?}"
    );
}

#[test]
fn literals_localhost_and_invalid_never_reach_the_server() {
    let server = DnsServer::start();
    let resolver_config = config(&server);
    let (literal, v6_literal, localhost, sub, invalid, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        (
            resolver.lookup("192.0.2.9").await.map(|a| a.to_vec()),
            resolver.lookup("2001:db8::9").await.map(|a| a.to_vec()),
            resolver.lookup("LOCALHOST").await.map(|a| a.to_vec()),
            resolver.lookup("app.localhost.").await.map(|a| a.to_vec()),
            resolver.lookup("printer.invalid").await.unwrap_err(),
            resolver.stats(),
        )
    });
    assert_eq!(literal.unwrap(), vec![ip("192.0.2.9")]);
    assert_eq!(v6_literal.unwrap(), vec![ip("2001:db8::9")]);
    assert_eq!(localhost.unwrap(), vec![ip("127.0.0.1"), ip("::1")]);
    assert_eq!(sub.unwrap(), vec![ip("127.0.0.1"), ip("::1")]);
    assert!(matches!(
        invalid,
        LookupError::NxDomain {
            origin: Origin::Local,
            ..
        }
    ));
    assert_eq!(stats.local_answers, 5);
    assert_eq!(stats.queries_sent, 0);
    assert!(server.queries().is_empty(), "{:?}", server.queries());
}

#[test]
fn the_hosts_table_answers_first_with_files_dns() {
    let server = DnsServer::start();
    server.set(
        "build.test",
        Reply::Records(vec![a("build.test", "192.0.2.99")]),
    );
    let mut resolver_config = config(&server);
    resolver_config.hosts = HostsTable::parse("192.0.2.10 build.test build\n");
    let (addresses, v6, stats) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let addresses = resolver.lookup("Build.Test").await.map(|a| a.to_vec());
        let v6 = resolver.lookup_family("build", IpFamily::V6).await;
        (addresses, v6, resolver.stats())
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.10")]);
    assert!(matches!(
        v6,
        Err(LookupError::NoData {
            origin: Origin::HostsTable,
            ..
        })
    ));
    assert_eq!(stats.queries_sent, 0);
    assert!(server.queries().is_empty());
}

#[test]
fn with_dns_files_the_hosts_table_answers_only_when_dns_fails() {
    let server = DnsServer::start();
    server.set(
        "both.test",
        Reply::Records(vec![a("both.test", "192.0.2.20")]),
    );
    let mut resolver_config = config(&server);
    resolver_config.hosts = HostsTable::parse("192.0.2.21 both.test\n192.0.2.22 only-hosts.test\n");
    resolver_config.nsswitch = NsSwitch::parse("hosts: dns files\n");
    let (both, only) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        (
            resolver.lookup("both.test").await.map(|a| a.to_vec()),
            resolver.lookup("only-hosts.test").await.map(|a| a.to_vec()),
        )
    });
    assert_eq!(both.unwrap(), vec![ip("192.0.2.20")], "DNS first");
    assert_eq!(only.unwrap(), vec![ip("192.0.2.22")], "then the table");
    assert_eq!(
        server.queries_for("only-hosts.test").len(),
        2,
        "DNS was asked"
    );
}

#[test]
fn a_source_we_cannot_serve_hands_the_name_to_getaddrinfo() {
    let server = DnsServer::start();
    let mut resolver_config = config(&server);
    resolver_config.nsswitch = NsSwitch::parse("hosts: files ldap dns\n");
    let (error, reason) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let reason = resolver.fallback_reason("www.test");
        (resolver.lookup("www.test").await.unwrap_err(), reason)
    });
    assert_eq!(error.kind(), "unsupported");
    assert_eq!(reason, Some(Fallback::Source("ldap".into())));
    assert!(server.queries().is_empty());
}

#[test]
fn no_aaaa_asks_no_aaaa_question() {
    let server = DnsServer::start();
    server.set(
        "dual.test",
        Reply::Records(vec![
            a("dual.test", "192.0.2.30"),
            aaaa("dual.test", "2001:db8::30"),
        ]),
    );
    let mut resolver_config = config(&server);
    resolver_config.no_aaaa = true;
    let (addresses, v6) = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        (
            resolver.lookup("dual.test").await.map(|a| a.to_vec()),
            resolver.lookup_family("dual.test", IpFamily::V6).await,
        )
    });
    assert_eq!(addresses.unwrap(), vec![ip("192.0.2.30")]);
    assert!(matches!(
        v6,
        Err(LookupError::NoData {
            origin: Origin::Local,
            ..
        })
    ));
    assert!(
        server.queries().iter().all(|q| q.qtype == A),
        "{:?}",
        server.queries()
    );
}

#[test]
fn a_host_that_is_not_a_dns_name_is_refused_without_a_query() {
    let server = DnsServer::start();
    let resolver_config = config(&server);
    let errors = on_loop(move || async move {
        let resolver = StubResolver::new(resolver_config);
        let long = "x".repeat(64);
        vec![
            resolver.lookup("a..b").await.unwrap_err(),
            resolver.lookup(&format!("{long}.test")).await.unwrap_err(),
            resolver.lookup("").await.unwrap_err(),
        ]
    });
    assert!(errors.iter().all(|e| e.kind() == "bad-name"), "{errors:?}");
    assert!(server.queries().is_empty());
}
