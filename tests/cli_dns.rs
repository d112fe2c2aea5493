//! Our resolver through the binary (issue 12), part one: what the answers
//! come to. Every typed DNS outcome in one run, url, each naming the server
//! that gave it; a cluster of dead names that delays no healthy one;
//! forged answers dropped; truncation, CNAME chains and long answers; the
//! resolver's counters in `--stats`; an open-file limit that must leave
//! room for the resolver's sockets.
//!
//! Every lookup goes to a DNS server of the test's own on loopback
//! (`--resolver`), with a hosts file and a resolv.conf the test writes
//! (see `support/dns_cli.rs`). The resolver's mechanisms are tested on
//! their own in `tests/dns_*.rs`; these tests check what a user of the
//! command sees of them. `cli_dns_config.rs` has part two: Happy
//! Eyeballs, `--resolve`, the hosts file, resolv.conf and the flags.
#[path = "support/dns_cli.rs"]
mod dns_cli;
mod support;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use dns_cli::{address, args, by_target, kind, message, run, stats, url, Dns};
use serde_json::Value;
use support::dns_server::{a, cname, Reply, A};

/// Issue 12's "done when": a run over a list of names gives every name its
/// typed outcome, and the message names the server that said it.
#[test]
fn every_dns_outcome_has_its_kind_and_names_its_server() {
    let dns = Dns::new();
    let server = &dns.server;
    let ns = dns.addr();
    let http = dns_cli::http("ok");
    server.set("ok.test", Reply::Records(vec![a("ok.test", "127.0.0.1")]));
    server.set("nx.test", Reply::NxDomain);
    server.set("nodata.test", Reply::Records(vec![]));
    server.set("servfail.test", Reply::ServFail);
    server.set("refused.test", Reply::Refused);
    server.set("dead.test", Reply::Drop);
    server.set("garbled.test", Reply::Garbled);
    server.set("notimp.test", Reply::Rcode(4));
    server.set(
        "loop.test",
        Reply::Records(vec![
            cname("loop.test", "loop2.test"),
            cname("loop2.test", "loop.test"),
        ]),
    );
    // Truncated over UDP; over TCP, the answer to another question.
    server.set(
        "mismatch.test",
        Reply::Truncate(Reply::WrongQuestion.boxed()),
    );

    // (name, kind, the message, or its start when it ends in a duration)
    let expected: Vec<(&str, Option<&str>, String)> = vec![
        ("ok.test", None, String::new()),
        (
            "nx.test",
            Some("nxdomain"),
            format!("nx.test: no such name (NXDOMAIN from server {ns})"),
        ),
        (
            "nodata.test",
            Some("nodata"),
            format!("(NODATA from server {ns})"),
        ),
        (
            "servfail.test",
            Some("servfail"),
            format!("servfail.test: server {ns} failed (SERVFAIL)"),
        ),
        (
            "refused.test",
            Some("dns-refused"),
            format!("refused.test: server {ns} refused the query (REFUSED)"),
        ),
        (
            "dead.test",
            Some("dns-timeout"),
            format!("dead.test: no answer from {ns} in "),
        ),
        (
            "garbled.test",
            Some("bad-response"),
            format!("garbled.test: bad response from {ns}: malformed: "),
        ),
        (
            "notimp.test",
            Some("bad-response"),
            format!("notimp.test: bad response from {ns}: response code NOTIMP"),
        ),
        (
            "loop.test",
            Some("bad-response"),
            format!("loop.test: bad response from {ns}: a CNAME chain longer than 8 links"),
        ),
        (
            "mismatch.test",
            Some("bad-response"),
            format!("mismatch.test: bad response from {ns}: over TCP, the answer to another query"),
        ),
    ];
    let targets: Vec<String> = expected
        .iter()
        .map(|(name, _, _)| url(name, http.port()))
        .collect();

    // JSON: one object per target, and nothing else.
    let mut json_args = args(&dns, &["--json", "--connect-timeout", "5s"]);
    json_args.extend(targets.iter().cloned());
    let json = run(json_args);
    assert_eq!(json.code, Some(1), "stderr: {}", json.stderr);
    assert_eq!(
        json.text().lines().count(),
        targets.len(),
        "{}",
        json.text()
    );
    let outcomes = by_target(&json);
    for ((name, want, text), target) in expected.iter().zip(&targets) {
        let outcome = &outcomes[target];
        assert_eq!(kind(outcome), *want, "{name}: {outcome}");
        let got = message(outcome);
        match *name {
            "ok.test" => {
                assert_eq!(outcome["status"], 200, "{outcome}");
                assert_eq!(address(outcome), Some(http.to_string().as_str()));
            }
            "nodata.test" => assert!(
                got.starts_with("nodata.test: no IPv") && got.ends_with(text.as_str()),
                "{got}"
            ),
            "dead.test" | "garbled.test" => {
                assert!(got.starts_with(text.as_str()), "{name}: {got}")
            }
            _ => assert_eq!(got, text, "{name}"),
        }
    }
    let dead = message(&outcomes[&url("dead.test", http.port())]);
    assert!(dead.ends_with(" s"), "the wait is given: {dead}");
    // The summary counts each kind.
    for count in [
        "1 ok, 9 failed",
        "nxdomain 1",
        "nodata 1",
        "servfail 1",
        "dns-refused 1",
        "dns-timeout 1",
        "bad-response 4",
    ] {
        assert!(json.stderr.contains(count), "{count:?} in {}", json.stderr);
    }

    // Text: the same outcomes as `TARGET error > KIND: MESSAGE`, one line
    // per failure, the head lines of the success.
    let mut text_args = args(&dns, &["-q", "--connect-timeout", "5s"]);
    text_args.extend(targets.iter().cloned());
    let text = run(text_args);
    assert_eq!(text.code, Some(1));
    let lines: Vec<&str> = text.text().lines().collect();
    for (target, (name, want, _)) in targets.iter().zip(&expected) {
        let own: Vec<&&str> = lines
            .iter()
            .filter(|line| line.starts_with(&format!("{target} ")))
            .collect();
        match want {
            None => {
                assert_eq!(
                    own,
                    [
                        &format!("{target} header > HTTP/1.0 200 OK").as_str(),
                        &format!("{target} header > Server: ok").as_str()
                    ],
                    "{name}"
                );
            }
            Some(want) => {
                assert_eq!(own.len(), 1, "{name}: {own:?}");
                let json_message = message(&outcomes[target]);
                if *name == "dead.test" {
                    let start = format!("{target} error > {want}: dead.test: no answer from {ns}");
                    assert!(own[0].starts_with(&start), "{}", own[0]);
                } else {
                    assert_eq!(*own[0], format!("{target} error > {want}: {json_message}"));
                }
            }
        }
    }
    assert_eq!(lines.len(), 2 + 9, "{}", text.text());
}

/// `--connect-timeout` bounds resolving too: a name whose server stays
/// silent longer than that is `dns-timeout`, at the limit, and its message
/// names the server that was silent, as every DNS outcome names the server
/// that said it (with the defaults, resolv.conf's 5 s x 2 attempts against
/// a 10 s `--connect-timeout`, this is what a user of a dead nameserver
/// sees).
#[test]
fn connect_timeout_ends_a_lookup_as_dns_timeout() {
    // Each question would wait 5 s; the limit is 500 ms.
    let dns = Dns::with_files("", "options timeout:5 attempts:1\n");
    dns.server.set("slow.test", Reply::Drop);
    let outcome = run(args(
        &dns,
        &["--json", "--connect-timeout", "500ms", "http://slow.test/"],
    ));
    let outcomes = by_target(&outcome);
    let slow = &outcomes["http://slow.test/"];
    assert_eq!(kind(slow), Some("dns-timeout"), "{slow}");
    assert_eq!(
        message(slow),
        format!("slow.test: no answer from {} in 0.5 s", dns.addr())
    );
    assert!(
        message(slow).contains(&dns.addr().to_string()),
        "{}",
        message(slow)
    );
    assert!(!dns.server.queries_for("slow.test").is_empty());
}

/// A server that cannot be asked at all (nothing on its UDP port: the
/// kernel answers "port unreachable") is `dns`, naming the server.
#[test]
fn a_server_that_cannot_be_asked_is_a_dns_error_naming_it() {
    let dns = Dns::new();
    let closed = dns_cli::closed_udp_port();
    let mut argv = vec!["--resolver".to_string(), closed.to_string()];
    argv.extend(dns.args().into_iter().skip(2)); // the files, not the server
    argv.extend(["--json".into(), "-4".into(), "http://x.test/".into()]);
    let outcomes = by_target(&run(argv));
    let x = &outcomes["http://x.test/"];
    // Another process could bind the port meanwhile; then the question is
    // not answered, and the timeout names the server too.
    match kind(x) {
        Some("dns") => assert_eq!(
            message(x),
            format!("x.test: cannot query {closed}: connection refused")
        ),
        Some("dns-timeout") => assert!(message(x).contains(&closed.to_string()), "{x}"),
        other => panic!("unexpected {other:?}: {x}"),
    }
    assert!(dns.server.queries().is_empty());
}

/// Issue 12: "a dead name costs its own timeout and no one else's". In the
/// issue's run with getaddrinfo on 16 threads, names whose servers never
/// answer held every thread, and 136 of 200 healthy names queued behind
/// them failed. Here the
/// dead names come first and all 250 fetches start together under a
/// 3 s --connect-timeout: a healthy name that waited for the dead ones
/// would fail as dns-timeout at 3 s. The second run shows that it would:
/// with --dns-in-flight 10, lookups queue behind the dead ones, and the
/// healthy names do fail.
#[test]
fn a_cluster_of_dead_names_delays_no_healthy_name() {
    // A dead name's question waits 30 s; --connect-timeout ends it at 3 s.
    let dns = Dns::with_files("", "options timeout:30 attempts:1\n");
    let http = dns_cli::http("healthy");
    let dead: Vec<String> = (0..50).map(|i| format!("dead{i}.test")).collect();
    let healthy: Vec<String> = (0..200).map(|i| format!("ok{i}.test")).collect();
    for name in &dead {
        dns.server.set(name, Reply::Drop);
    }
    for name in &healthy {
        dns.server
            .set(name, Reply::Records(vec![a(name, "127.0.0.1")]));
    }
    let targets: Vec<String> = dead
        .iter()
        .chain(&healthy)
        .map(|name| url(name, http.port()))
        .collect();
    let run_with = |more: &[&str]| {
        let mut argv = args(
            &dns,
            &[
                "--json",
                "-q",
                "-c",
                "250",
                "--connect-timeout",
                "3s",
                "--read-timeout",
                "10s",
                "-m",
                "20s",
            ],
        );
        argv.extend(more.iter().map(|s| s.to_string()));
        argv.extend(targets.iter().cloned());
        by_target(&run(argv))
    };

    let outcomes = run_with(&[]);
    assert_eq!(outcomes.len(), 250);
    let mut healthy_dns_ms = Vec::new();
    for name in &healthy {
        let outcome = &outcomes[&url(name, http.port())];
        assert_eq!(kind(outcome), None, "{name}: {outcome}");
        assert_eq!(outcome["status"], 200);
        healthy_dns_ms.push(outcome["timings"]["dns_ms"].as_f64().expect("dns_ms"));
    }
    for name in &dead {
        let outcome = &outcomes[&url(name, http.port())];
        assert_eq!(kind(outcome), Some("dns-timeout"), "{name}: {outcome}");
    }
    // Resolving a healthy name took a small part of the limit the dead
    // ones ran into (the median: one slow outlier on a loaded machine
    // says nothing about queueing).
    healthy_dns_ms.sort_by(f64::total_cmp);
    let median = healthy_dns_ms[healthy_dns_ms.len() / 2];
    assert!(median < 1000.0, "median dns_ms {median}");

    // Ten names on the network at once, the ten dead ones first: every
    // healthy name waits behind them until its limit.
    let outcomes = run_with(&["--dns-in-flight", "10"]);
    assert_eq!(outcomes.len(), 250);
    let starved = healthy
        .iter()
        .filter(|name| kind(&outcomes[&url(name, http.port())]) == Some("dns-timeout"))
        .count();
    assert_eq!(starved, healthy.len(), "queued behind the dead names");
}

/// A [`Reply`] that goes around the real answer (`Reply::WrongIdFirst`, ...).
type Wrap = fn(Box<Reply>) -> Reply;

/// Forged answers are dropped through the binary too: the connection goes
/// to the real address, never to the forged one (a loopback address where
/// nothing listens, so a mistake stays on this machine). The mechanisms
/// have their own tests in `tests/dns_spoofing.rs`.
#[test]
fn forged_answers_are_dropped_and_the_real_one_is_connected_to() {
    let dns = Dns::new();
    dns.server.set_forged_address(Ipv4Addr::new(127, 6, 6, 6));
    let http = dns_cli::http("real");
    let scripts: [(&str, Wrap); 4] = [
        ("id.test", Reply::WrongIdFirst),
        ("question.test", Reply::WrongQuestionFirst),
        ("qr.test", Reply::NotResponseFirst),
        ("port.test", Reply::OtherPortFirst),
    ];
    for (name, wrap) in scripts {
        let real = Reply::Records(vec![a(name, "127.0.0.1")]);
        dns.server.set_type(name, A, wrap(real.boxed()));
    }
    let mut argv = args(&dns, &["--json", "--stats", "-4"]);
    argv.extend(scripts.iter().map(|(name, _)| url(name, http.port())));
    let run = run(argv);
    let outcomes = by_target(&run);
    for (name, _) in scripts {
        let outcome = &outcomes[&url(name, http.port())];
        assert_eq!(kind(outcome), None, "{name}: {outcome}");
        assert_eq!(address(outcome), Some(http.to_string().as_str()), "{name}");
        assert_eq!(dns.server.queries_for(name).len(), 1, "{name}: no retry");
    }
    // The ID, question and QR forgeries reached us and were dropped; the
    // one from another port never did (the connected socket filters it).
    assert_eq!(stats(&run)["dns"]["dropped_mismatched"], 3);
}

/// A truncated UDP answer is asked again over TCP, and the fetch goes on.
#[test]
fn a_truncated_answer_is_fetched_over_tcp() {
    let dns = Dns::new();
    let http = dns_cli::http("tc");
    dns.server.set(
        "tc.test",
        Reply::Truncate(Reply::Records(vec![a("tc.test", "127.0.0.1")]).boxed()),
    );
    let run = run(args(
        &dns,
        &["--json", "--stats", "-4", &url("tc.test", http.port())],
    ));
    let outcomes = by_target(&run);
    let outcome = &outcomes[&url("tc.test", http.port())];
    assert_eq!(kind(outcome), None, "{outcome}");
    assert_eq!(address(outcome), Some(http.to_string().as_str()));
    let over_tcp: Vec<bool> = dns
        .server
        .queries_for("tc.test")
        .iter()
        .map(|q| q.tcp)
        .collect();
    assert_eq!(over_tcp, [false, true]);
    assert_eq!(stats(&run)["dns"]["tcp_fallbacks"], 1);
}

/// A CNAME chain in the answer is followed without another query.
#[test]
fn a_cname_chain_is_followed_inside_the_answer() {
    let dns = Dns::new();
    let http = dns_cli::http("cname");
    dns.server.set(
        "www.test",
        Reply::Records(vec![
            cname("www.test", "edge.test"),
            cname("edge.test", "host.test"),
            a("host.test", "127.0.0.1"),
        ]),
    );
    let run = run(args(&dns, &["--json", &url("www.test", http.port())]));
    let outcomes = by_target(&run);
    let outcome = &outcomes[&url("www.test", http.port())];
    assert_eq!(kind(outcome), None, "{outcome}");
    assert_eq!(address(outcome), Some(http.to_string().as_str()));
    let asked: HashSet<String> = dns.server.queries().into_iter().map(|q| q.name).collect();
    assert_eq!(asked, HashSet::from(["www.test".to_string()]));
}

/// 100 A records do not fit the 1,232 bytes we offer over UDP: the answer
/// comes over TCP, and the connect walks the list (every address but one
/// refuses) to the one that listens.
#[test]
fn a_hundred_addresses_come_over_tcp_and_the_one_that_listens_is_used() {
    let dns = Dns::new();
    let listening = Ipv4Addr::new(127, 0, 1, 60);
    let http = dns_cli::serve_at(listening.into(), 0, "sixty").expect("bind 127.0.1.60");
    let records = (1..=100)
        .map(|i| a("many.test", &format!("127.0.1.{i}")))
        .collect();
    dns.server.set("many.test", Reply::Records(records));
    let run = run(args(
        &dns,
        &[
            "--json",
            "-4",
            "--connect-timeout",
            "5s",
            &url("many.test", http.port()),
        ],
    ));
    let outcomes = by_target(&run);
    let outcome = &outcomes[&url("many.test", http.port())];
    assert_eq!(kind(outcome), None, "{outcome}");
    assert_eq!(address(outcome), Some(http.to_string().as_str()));
    assert_eq!(dns_cli::server_header(outcome), Some("sixty"));
    let over_tcp: Vec<bool> = dns
        .server
        .queries_for("many.test")
        .iter()
        .map(|q| q.tcp)
        .collect();
    assert_eq!(over_tcp, [false, true]);
}

/// `--stats`: the resolver's counters, in the table and as JSON's `dns`
/// object, match what the server saw.
#[test]
fn stats_count_what_the_resolver_did() {
    let dns = Dns::with_files("", "options timeout:1 attempts:2\n");
    let http = dns_cli::http("stats");
    let server = &dns.server;
    let records = |name: &str| Reply::Records(vec![a(name, "127.0.0.1")]);
    server.set("plain.test", records("plain.test"));
    server.set("tc.test", Reply::Truncate(records("tc.test").boxed()));
    server.set(
        "old.test",
        Reply::FormErrOnEdns(records("old.test").boxed()),
    );
    server.set(
        "flaky.test",
        Reply::DropFirst(1, records("flaky.test").boxed()),
    );
    server.set_forged_address(Ipv4Addr::new(127, 6, 6, 6));
    server.set(
        "forged.test",
        Reply::WrongIdFirst(records("forged.test").boxed()),
    );
    let port = http.port();
    let names = [
        "plain.test",
        "plain.test",
        "tc.test",
        "old.test",
        "flaky.test",
        "forged.test",
        "localhost",
        "nosuch.invalid",
    ];
    let mut argv = args(&dns, &["--json", "--stats", "-4"]);
    argv.extend(names.iter().map(|name| url(name, port)));
    // An IP literal needs no lookup at all.
    argv.push(http.to_string());
    let run = run(argv);
    let outcomes = run.json();
    assert_eq!(outcomes.len(), names.len() + 1);
    let stats = stats(&run);
    let dns_stats = &stats["dns"];
    let keys: HashSet<&str> = dns_stats
        .as_object()
        .expect("a dns object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        HashSet::from([
            "lookups",
            "local_answers",
            "cache_hits",
            "deduplicated",
            "resolutions",
            "queued",
            "queries_sent",
            "retries",
            "timeouts",
            "tcp_fallbacks",
            "edns_fallbacks",
            "dropped_mismatched",
        ])
    );
    let count = |key: &str| dns_stats[key].as_u64().unwrap_or_else(|| panic!("{key}"));
    let seen = server.queries();
    // plain 1, tc 2 (UDP, TCP), old 2 (EDNS, without), flaky 2, forged 1.
    assert_eq!(seen.len(), 8, "{seen:?}");
    assert_eq!(count("queries_sent"), seen.len() as u64);
    assert_eq!(count("lookups"), names.len() as u64, "not the IP literal");
    assert_eq!(count("local_answers"), 2, "localhost and .invalid");
    assert_eq!(
        count("cache_hits") + count("deduplicated"),
        1,
        "plain twice"
    );
    assert_eq!(count("resolutions"), 5);
    assert_eq!(count("queued"), 0);
    assert_eq!(count("retries"), 1, "flaky's second attempt");
    assert_eq!(count("timeouts"), 1, "flaky's first attempt");
    assert_eq!(count("tcp_fallbacks"), 1);
    assert_eq!(count("edns_fallbacks"), 1);
    assert_eq!(count("dropped_mismatched"), 1);
    assert_eq!(stats["summary"]["ok"], 8, "all but .invalid");
    assert_eq!(stats["summary"]["failed"]["nxdomain"], 1);

    // The table has the same counters under "resolver".
    let table = run_table(&dns, port);
    let resolver = table
        .split("resolver\n")
        .nth(1)
        .expect("a resolver section")
        .split("latency (ms)")
        .next()
        .unwrap_or_default();
    let row = |name: &str| -> u64 {
        resolver
            .lines()
            .find(|line| line.trim_start().starts_with(name))
            .and_then(|line| line.split_whitespace().last())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no row {name:?} in:\n{resolver}"))
    };
    assert_eq!(row("lookups"), 2);
    assert_eq!(row("local answers"), 1);
    assert_eq!(row("cache hits"), 0);
    assert_eq!(row("resolutions"), 1);
    assert_eq!(row("queries sent"), 1);
    assert_eq!(row("dropped mismatched"), 0);
}

/// A text `--stats` run over one fresh name and localhost; its stderr.
fn run_table(dns: &Dns, port: u16) -> String {
    dns.server.set(
        "table.test",
        Reply::Records(vec![a("table.test", "127.0.0.1")]),
    );
    let run = run(args(
        dns,
        &[
            "--stats",
            "-q",
            "-4",
            &url("table.test", port),
            &url("localhost", port),
        ],
    ));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.stderr
}

/// The open-file budget must leave room for the resolver's sockets: each
/// name in flight holds a UDP socket per family while it is asked, beside
/// the fetch's own TCP socket, and a limit that counts only the latter
/// makes lookups fail with "too many open files" (`dns`).
#[test]
fn a_small_fd_limit_leaves_room_for_the_resolvers_sockets() {
    let dns = Dns::new();
    let http = dns_cli::http("fd");
    let names: Vec<String> = (0..200).map(|i| format!("fd{i}.test")).collect();
    for name in &names {
        dns.server
            .set(name, Reply::Records(vec![a(name, "127.0.0.1")]));
    }
    let mut argv = args(&dns, &["--json", "-c", "500", "--timeout", "10s"]);
    argv.extend(names.iter().map(|name| url(name, http.port())));
    let run = run_with_fd_limit(64, argv);
    assert!(
        run.stderr.contains("concurrency is lowered from 500 to")
            && run
                .stderr
                .contains("(each fetch may hold a socket and two DNS sockets)"),
        "{}",
        run.stderr
    );
    let outcomes = by_target(&run);
    assert_eq!(outcomes.len(), names.len(), "stderr: {}", run.stderr);
    let failed: Vec<&Value> = outcomes.values().filter(|o| kind(o).is_some()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {}",
        failed.len(),
        failed[0]
    );
}

/// A fetch that gives up on its lookup (--connect-timeout) frees its slot
/// at once, but the lookup goes on to the resolver's own timeout, holding
/// its place among the names in flight. Under a small open-file limit that
/// bound is lowered to the concurrency (about a dozen here), so a dozen
/// dead names abandoned at 300 ms hold every place for 30 s, and every name after
/// them waits until its own --connect-timeout: 60 dead names cost 100
/// healthy ones their outcomes, against "a dead name costs its own timeout
/// and no one else's". (The same happens without a limit once a run meets
/// more dead names than --dns-in-flight, whenever the resolver's timeout
/// outlasts --connect-timeout.)
#[test]
fn abandoned_lookups_leave_room_for_the_next_names_under_a_small_fd_limit() {
    // A dead name's question would wait 30 s; its fetch gives up at 300 ms.
    let dns = Dns::with_files("", "options timeout:30 attempts:1\n");
    let http = dns_cli::http("fd");
    let dead: Vec<String> = (0..60).map(|i| format!("dead{i}.test")).collect();
    let healthy: Vec<String> = (0..100).map(|i| format!("ok{i}.test")).collect();
    for name in &dead {
        dns.server.set(name, Reply::Drop);
    }
    for name in &healthy {
        dns.server
            .set(name, Reply::Records(vec![a(name, "127.0.0.1")]));
    }
    let mut argv = args(
        &dns,
        &[
            "--json",
            "-c",
            "500",
            "--connect-timeout",
            "300ms",
            "--read-timeout",
            "5s",
        ],
    );
    argv.extend(
        dead.iter()
            .chain(&healthy)
            .map(|name| url(name, http.port())),
    );
    let run = run_with_fd_limit(64, argv);
    let outcomes = by_target(&run);
    assert_eq!(outcomes.len(), dead.len() + healthy.len(), "{}", run.stderr);
    for name in &dead {
        let outcome = &outcomes[&url(name, http.port())];
        assert_eq!(kind(outcome), Some("dns-timeout"), "{name}: {outcome}");
    }
    let failed: Vec<&Value> = healthy
        .iter()
        .map(|name| &outcomes[&url(name, http.port())])
        .filter(|outcome| kind(outcome).is_some())
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} healthy names failed, e.g. {}",
        failed.len(),
        healthy.len(),
        failed[0]
    );
}

/// [`dns_cli::run`] with `RLIMIT_NOFILE` at `limit`, soft and hard.
fn run_with_fd_limit(limit: u64, args: Vec<String>) -> support::Run {
    use std::process::{Command, Stdio};
    support::with_deadline(Duration::from_secs(60), move || {
        let mut command = Command::new(support::BIN);
        command
            .args(&args)
            .env_remove("RUST_LOG")
            .env_remove("LOCALDOMAIN")
            .env_remove("RES_OPTIONS")
            .stdin(Stdio::null());
        support::limit_open_files(&mut command, limit);
        let started = std::time::Instant::now();
        let output = command.output().expect("run fetch-headers");
        support::Run {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    })
}
