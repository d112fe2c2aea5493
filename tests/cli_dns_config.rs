//! Our resolver through the binary (issue 12), part two: where answers
//! come from and where they lead. Happy Eyeballs from the first answer
//! (RFC 8305) with `-4`/`-6`; `--resolve` pins; the hosts file and the
//! names answered without a query (`localhost`, `.invalid`); resolv.conf's
//! search list and options, and the environment over them; several
//! `--resolver`s and one on `::1`; `--system-dns`; and flag values that
//! are refused.
//!
//! As in `cli_dns.rs`, every lookup goes to a DNS server of the test's
//! own on loopback, with files the test writes (`support/dns_cli.rs`).
//! Assertions are on which address was connected to and what the server
//! was asked, never on how long something took: where a test shows that
//! the connect did not wait for something, that something never comes,
//! and the fetch would have failed at its --connect-timeout had it waited.
#[path = "support/dns_cli.rs"]
mod dns_cli;
mod support;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use dns_cli::{
    address, args, by_target, kind, message, run, run_with_env, server_header, url, Dns,
};
use fetch_headers::net::dns::HostsTable;
use fetch_headers::net::has_global_ipv6;
use support::dns_server::{a, aaaa, DnsServer, Reply, A, AAAA};

/// Fetches `target` with `more` flags and returns its one JSON outcome.
fn fetch(dns: &Dns, more: &[&str], target: &str) -> serde_json::Value {
    let mut argv = args(dns, &["--json", "-q"]);
    argv.extend(more.iter().map(|s| s.to_string()));
    argv.push(target.to_owned());
    let run = run(argv);
    let mut outcomes = by_target(&run);
    assert_eq!(outcomes.len(), 1, "stderr: {}", run.stderr);
    outcomes.remove(target).expect("the target's outcome")
}

/// The types the server was asked for `name`.
fn asked_types(server: &DnsServer, name: &str) -> Vec<u16> {
    server.queries_for(name).iter().map(|q| q.qtype).collect()
}

fn v4(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

fn v6(port: u16) -> String {
    format!("[::1]:{port}")
}

// ---------------------------------------------------------------------------
// Happy Eyeballs and the families.
// ---------------------------------------------------------------------------

/// A name with both families, a server on both: `-4` connects over IPv4
/// and asks no AAAA question; `-6` connects over IPv6.
#[test]
fn dash_4_and_dash_6_pick_the_family() {
    let dns = Dns::new();
    let port = dual_port(true, true);
    dns.server.set(
        "dual.test",
        Reply::Records(vec![a("dual.test", "127.0.0.1"), aaaa("dual.test", "::1")]),
    );
    let target = url("dual.test", port);

    let four = fetch(&dns, &["-4"], &target);
    assert_eq!(kind(&four), None, "{four}");
    assert_eq!(address(&four), Some(v4(port).as_str()));
    assert_eq!(server_header(&four), Some("v4"));
    assert_eq!(
        asked_types(&dns.server, "dual.test"),
        [A],
        "no AAAA with -4"
    );

    let six = fetch(&dns, &["-6"], &target);
    assert_eq!(kind(&six), None, "{six}");
    assert_eq!(address(&six), Some(v6(port).as_str()));
    assert_eq!(server_header(&six), Some("v6"));
    assert!(asked_types(&dns.server, "dual.test").contains(&AAAA));
}

/// A name with an address of one family only is NODATA for the other,
/// under `-4` / `-6`, from the server that said so.
#[test]
fn the_missing_family_under_dash_4_or_dash_6_is_nodata() {
    let dns = Dns::new();
    let ns = dns.addr();
    dns.server.set(
        "six-only.test",
        Reply::Records(vec![aaaa("six-only.test", "::1")]),
    );
    dns.server.set(
        "four-only.test",
        Reply::Records(vec![a("four-only.test", "127.0.0.1")]),
    );
    let four = fetch(&dns, &["-4"], "http://six-only.test/");
    assert_eq!(kind(&four), Some("nodata"), "{four}");
    assert_eq!(
        message(&four),
        format!("six-only.test: no IPv4 address (NODATA from server {ns})")
    );
    let six = fetch(&dns, &["-6"], "http://four-only.test/");
    assert_eq!(kind(&six), Some("nodata"), "{six}");
    assert_eq!(
        message(&six),
        format!("four-only.test: no IPv6 address (NODATA from server {ns})")
    );
}

/// Without -4/-6, a name with both families reaches whichever family has
/// a server: the refused one costs nothing. AAAA is asked only where the
/// machine has global IPv6 (as glibc's AI_ADDRCONFIG); without it the
/// IPv6 server cannot be reached by name.
#[test]
fn either_family_that_listens_is_reached() {
    let dns = Dns::new();
    let records = || Reply::Records(vec![a("dual.test", "127.0.0.1"), aaaa("dual.test", "::1")]);
    dns.server.set("dual.test", records());

    let only_v4 = dual_port(true, false);
    let outcome = fetch(&dns, &[], &url("dual.test", only_v4));
    assert_eq!(kind(&outcome), None, "{outcome}");
    assert_eq!(address(&outcome), Some(v4(only_v4).as_str()));

    let only_v6 = dual_port(false, true);
    let outcome = fetch(&dns, &[], &url("dual.test", only_v6));
    if has_global_ipv6() {
        assert_eq!(kind(&outcome), None, "{outcome}");
        assert_eq!(address(&outcome), Some(v6(only_v6).as_str()));
    } else {
        assert_eq!(kind(&outcome), Some("refused"), "{outcome}");
        assert_eq!(address(&outcome), Some(v4(only_v6).as_str()));
        assert!(!asked_types(&dns.server, "dual.test").contains(&AAAA));
    }
}

/// RFC 8305 §3: the AAAA answer starts the connect at once; the A answer,
/// which never comes here, is not waited for (had it been, the fetch would
/// have failed at its 2 s --connect-timeout, long before the 10 s the
/// question waits).
#[test]
fn the_aaaa_answer_connects_without_waiting_for_a() {
    let dns = Dns::with_files("", "options timeout:10 attempts:1\n");
    let port = dual_port(true, true);
    dns.server.set_type("late-a.test", A, Reply::Drop);
    dns.server.set_type(
        "late-a.test",
        AAAA,
        Reply::Records(vec![aaaa("late-a.test", "::1")]),
    );
    let outcome = fetch(
        &dns,
        &["--connect-timeout", "2s"],
        &url("late-a.test", port),
    );
    if has_global_ipv6() {
        assert_eq!(kind(&outcome), None, "{outcome}");
        assert_eq!(address(&outcome), Some(v6(port).as_str()));
        assert_eq!(server_header(&outcome), Some("v6"));
    } else {
        // Only A is asked, and it never answers.
        assert_eq!(kind(&outcome), Some("dns-timeout"), "{outcome}");
        assert_eq!(asked_types(&dns.server, "late-a.test"), [A]);
    }
}

/// RFC 8305 §3: an A answer waits 50 ms for AAAA and then connects over
/// IPv4; an AAAA answer that never comes does not hold the fetch.
#[test]
fn the_a_answer_connects_when_aaaa_never_comes() {
    let dns = Dns::with_files("", "options timeout:10 attempts:1\n");
    let port = dual_port(true, true);
    dns.server.set_type(
        "late-aaaa.test",
        A,
        Reply::Records(vec![a("late-aaaa.test", "127.0.0.1")]),
    );
    dns.server.set_type("late-aaaa.test", AAAA, Reply::Drop);
    let outcome = fetch(
        &dns,
        &["--connect-timeout", "2s"],
        &url("late-aaaa.test", port),
    );
    assert_eq!(kind(&outcome), None, "{outcome}");
    assert_eq!(address(&outcome), Some(v4(port).as_str()));
    assert_eq!(server_header(&outcome), Some("v4"));
    if has_global_ipv6() {
        assert!(asked_types(&dns.server, "late-aaaa.test").contains(&AAAA));
    }
}

/// The family that answers late joins the connect in progress: A points
/// at an address that drops every SYN, AAAA comes 300 ms later with ::1,
/// and the connection is made over IPv6 (without it, the fetch would end
/// at its --connect-timeout on the silent IPv4 address).
#[test]
fn a_late_aaaa_answer_joins_a_connect_that_hangs() {
    let dns = Dns::with_files("", "options timeout:10 attempts:1\n");
    let six = dns_cli::serve_at(IpAddr::V6(Ipv6Addr::LOCALHOST), 0, "v6").expect("bind ::1");
    let port = six.port();
    support::black_hole(Ipv4Addr::new(127, 0, 0, 3), port);
    dns.server.set_type(
        "join.test",
        A,
        Reply::Records(vec![a("join.test", "127.0.0.3")]),
    );
    dns.server.set_type(
        "join.test",
        AAAA,
        Reply::Delay(
            Duration::from_millis(300),
            Reply::Records(vec![aaaa("join.test", "::1")]).boxed(),
        ),
    );
    let outcome = fetch(&dns, &["--connect-timeout", "3s"], &url("join.test", port));
    if has_global_ipv6() {
        assert_eq!(kind(&outcome), None, "{outcome}");
        assert_eq!(address(&outcome), Some(six.to_string().as_str()));
    } else {
        assert_eq!(kind(&outcome), Some("connect-timeout"), "{outcome}");
        assert_eq!(
            address(&outcome),
            Some(format!("127.0.0.3:{port}").as_str())
        );
    }
}

/// When every address of the first family has failed, the fetch waits for
/// the family still to come: A's address refuses at once, AAAA's comes
/// 300 ms later and connects.
#[test]
fn a_refused_first_family_waits_for_the_late_one() {
    let dns = Dns::with_files("", "options timeout:10 attempts:1\n");
    let port = dual_port(false, true);
    dns.server.set_type(
        "wait.test",
        A,
        Reply::Records(vec![a("wait.test", "127.0.0.1")]),
    );
    dns.server.set_type(
        "wait.test",
        AAAA,
        Reply::Delay(
            Duration::from_millis(300),
            Reply::Records(vec![aaaa("wait.test", "::1")]).boxed(),
        ),
    );
    let outcome = fetch(&dns, &["--connect-timeout", "3s"], &url("wait.test", port));
    if has_global_ipv6() {
        assert_eq!(kind(&outcome), None, "{outcome}");
        assert_eq!(address(&outcome), Some(v6(port).as_str()));
    } else {
        assert_eq!(kind(&outcome), Some("refused"), "{outcome}");
        assert_eq!(address(&outcome), Some(v4(port).as_str()));
    }
}

/// A first address that drops SYNs costs the 250 ms attempt delay, not the
/// connect: the second address is tried beside it and connects.
#[test]
fn a_dead_first_address_does_not_cost_the_connect() {
    let dns = Dns::new();
    let http = dns_cli::http("second");
    support::black_hole(Ipv4Addr::new(127, 0, 0, 4), http.port());
    dns.server.set(
        "two.test",
        Reply::Records(vec![a("two.test", "127.0.0.4"), a("two.test", "127.0.0.1")]),
    );
    let outcome = fetch(
        &dns,
        &["-4", "--connect-timeout", "2s"],
        &url("two.test", http.port()),
    );
    assert_eq!(kind(&outcome), None, "{outcome}");
    assert_eq!(address(&outcome), Some(http.to_string().as_str()));
    assert_eq!(server_header(&outcome), Some("second"));
}

// ---------------------------------------------------------------------------
// --resolve, the hosts file, and the names answered without a query.
// ---------------------------------------------------------------------------

/// `--resolve HOST:PORT:ADDR` uses ADDR without asking, on that port only;
/// on another port the name is looked up as usual.
#[test]
fn resolve_pins_a_host_on_one_port_without_a_query() {
    let dns = Dns::new();
    let http = dns_cli::http("pinned");
    let other = dns_cli::http("other-port");
    let six = dual_port(false, true);
    dns.server.set("pin.test", Reply::NxDomain);
    let pins = [
        format!("pin.test:{}:127.0.0.1", http.port()),
        // A list: the first refuses (nothing on 127.0.0.5), the second answers.
        format!("list.test:{}:127.0.0.5,127.0.0.1", http.port()),
        // IPv6 in brackets; the host in any case.
        format!("PIN6.test:{six}:[::1]"),
    ];
    let pinned_run = |targets: &[String]| {
        let mut argv = args(&dns, &["--json", "-q"]);
        for pin in &pins {
            argv.extend(["--resolve".to_string(), pin.clone()]);
        }
        argv.extend(targets.iter().cloned());
        by_target(&run(argv))
    };
    let targets = [
        url("pin.test", http.port()),
        url("list.test", http.port()),
        url("pin6.test", six),
    ];
    let outcomes = pinned_run(&targets);
    let expected = [http.to_string(), http.to_string(), v6(six)];
    for (target, addr) in targets.iter().zip(&expected) {
        let outcome = &outcomes[target];
        assert_eq!(kind(outcome), None, "{target}: {outcome}");
        assert_eq!(address(outcome), Some(addr.as_str()), "{target}");
    }
    assert!(
        dns.server.queries().is_empty(),
        "{:?}",
        dns.server.queries()
    );

    // The pin is for one port: on another, pin.test is asked for, and the
    // server says it does not exist.
    let target = url("pin.test", other.port());
    let outcomes = pinned_run(std::slice::from_ref(&target));
    let unpinned = &outcomes[&target];
    assert_eq!(kind(unpinned), Some("nxdomain"), "{unpinned}");
    assert!(message(unpinned).contains(&dns.addr().to_string()));
    assert!(!dns.server.queries_for("pin.test").is_empty());
}

/// A pin for an internationalised host applies to it: targets are resolved
/// by their ASCII (punycode) form, so the pin's host must be compared in
/// that form too (`Pinned::host` says it is kept "in lower case and ASCII
/// form"; `parse_pin` only lowers the case, and the pin never matches).
#[test]
fn resolve_pins_an_internationalised_host() {
    let dns = Dns::new();
    let http = dns_cli::http("idn");
    let pin = format!("中文.test:{}:127.0.0.1", http.port());
    let target = url("中文.test", http.port());
    let outcome = fetch(&dns, &["--resolve", &pin], &target);
    assert_eq!(kind(&outcome), None, "{outcome}");
    assert_eq!(address(&outcome), Some(http.to_string().as_str()));
    assert!(
        dns.server.queries().is_empty(),
        "{:?}",
        dns.server.queries()
    );
}

/// A pin with addresses of the other family only is NODATA, said in the
/// words the rest of the command uses for a family ("IPv4", as in "no IPv4
/// address" from a server), not Rust's debug form of it.
#[test]
fn a_pin_of_the_other_family_is_nodata_in_plain_words() {
    let dns = Dns::new();
    let pin = "pin.test:80:[::1]";
    let outcome = fetch(&dns, &["-4", "--resolve", pin], "http://pin.test/");
    assert_eq!(kind(&outcome), Some("nodata"), "{outcome}");
    assert!(message(&outcome).contains("IPv4"), "{}", message(&outcome));
    assert!(dns.server.queries().is_empty());
}

/// `--hosts-file` answers before DNS, without a query (case and a trailing
/// dot do not matter); `localhost` and `*.localhost` are loopback and
/// `.invalid` does not exist, all without a query (RFC 6761).
#[test]
fn the_hosts_file_and_special_names_are_answered_without_a_query() {
    let dns = Dns::with_files(
        "# the test's own hosts file\n\
         127.0.0.1   fromfile.test  alias.test   # two names\n\
         ::1         v6-file.test\n",
        dns_cli::RESOLV_CONF,
    );
    // The server would say these do not exist: the file must win.
    for name in ["fromfile.test", "alias.test", "v6-file.test"] {
        dns.server.set(name, Reply::NxDomain);
    }
    // The IPv6 side refuses: localhost's ::1 costs nothing.
    let port = dual_port(true, false);
    let targets = [
        url("fromfile.test", port),
        url("ALIAS.Test.", port),
        url("localhost", port),
        url("api.localhost", port),
        url("nosuch.invalid", port),
    ];
    let mut argv = args(&dns, &["--json", "-q"]);
    argv.extend(targets.iter().cloned());
    let outcomes = by_target(&run(argv));
    for target in &targets[..4] {
        let outcome = &outcomes[target];
        assert_eq!(kind(outcome), None, "{target}: {outcome}");
        assert_eq!(address(outcome), Some(v4(port).as_str()), "{target}");
    }
    let invalid = &outcomes[&targets[4]];
    assert_eq!(kind(invalid), Some("nxdomain"), "{invalid}");
    // Said by a local rule, not by a server (the wording of the rule is
    // the resolver's; what matters is that no server is named or asked).
    let said = message(invalid);
    assert!(
        said.starts_with("nosuch.invalid: no such name (NXDOMAIN from ")
            && !said.contains("server"),
        "{said}"
    );

    // A name in the file without the family asked is NODATA from the file.
    let four = fetch(&dns, &["-4"], &url("v6-file.test", port));
    assert_eq!(kind(&four), Some("nodata"), "{four}");
    assert_eq!(
        message(&four),
        "v6-file.test: no IPv4 address (NODATA from the hosts table)"
    );
    assert!(
        dns.server.queries().is_empty(),
        "{:?}",
        dns.server.queries()
    );
}

// ---------------------------------------------------------------------------
// resolv.conf, the environment, and the servers.
// ---------------------------------------------------------------------------

/// `--resolv-conf` gives the search list and ndots (its nameserver line
/// cannot carry a port, so `--resolver` names the server and takes
/// precedence over it): a short name is found through the second search
/// domain; a name with ndots dots is asked as it is first; a trailing dot
/// means absolute.
#[test]
fn resolv_conf_search_and_ndots_shape_the_questions() {
    let dns = Dns::with_files(
        "",
        "nameserver 127.0.0.1\n\
         search corp.test other.test\n\
         options ndots:2 timeout:1 attempts:1\n",
    );
    let http = dns_cli::http("search");
    let records = |name: &str| Reply::Records(vec![a(name, "127.0.0.1")]);
    dns.server
        .set("short.other.test", records("short.other.test"));
    dns.server.set("x.y.z", records("x.y.z"));
    let port = http.port();
    let targets = [url("short", port), url("x.y.z", port), url("abs.", port)];
    let mut argv = args(&dns, &["--json", "-q", "-4"]);
    argv.extend(targets.iter().cloned());
    let outcomes = by_target(&run(argv));
    for target in &targets[..2] {
        assert_eq!(kind(&outcomes[target]), None, "{}", outcomes[target]);
    }
    let abs = &outcomes[&targets[2]];
    assert_eq!(kind(abs), Some("nxdomain"), "{abs}");
    assert_eq!(
        message(abs),
        format!("abs: no such name (NXDOMAIN from server {})", dns.addr())
    );
    let asked: Vec<String> = dns.server.queries().into_iter().map(|q| q.name).collect();
    let order = |name: &str| asked.iter().position(|q| q == name);
    // Fewer dots than ndots: the search list first, in order, and the
    // search ends at the first name that exists.
    assert!(order("short.corp.test") < order("short.other.test"));
    assert_eq!(order("short"), None, "{asked:?}");
    // ndots dots: as it is, and found.
    assert!(order("x.y.z").is_some());
    assert_eq!(order("x.y.z.corp.test"), None, "{asked:?}");
    // Absolute: only as it is.
    assert_eq!(
        asked
            .iter()
            .filter(|q| q.starts_with("abs"))
            .collect::<Vec<_>>(),
        ["abs"]
    );
}

/// resolv.conf's `no-aaaa` (glibc 2.36): no AAAA question, whatever the
/// machine's IPv6, and the name still connects over IPv4.
#[test]
fn resolv_conf_no_aaaa_asks_only_for_a() {
    let dns = Dns::with_files("", "options timeout:1 attempts:1 no-aaaa\n");
    let port = dual_port(true, true);
    dns.server.set(
        "dual.test",
        Reply::Records(vec![a("dual.test", "127.0.0.1"), aaaa("dual.test", "::1")]),
    );
    let outcome = fetch(&dns, &[], &url("dual.test", port));
    assert_eq!(kind(&outcome), None, "{outcome}");
    assert_eq!(address(&outcome), Some(v4(port).as_str()));
    assert_eq!(asked_types(&dns.server, "dual.test"), [A]);
}

/// `LOCALDOMAIN` replaces the file's search list and `RES_OPTIONS` adds
/// to its options, as in glibc: here two attempts instead of one, so the
/// dead name is asked twice, and its timeout says how long it waited.
#[test]
fn localdomain_and_res_options_apply_over_the_file() {
    let dns = Dns::with_files("", "search corp.test\noptions timeout:1 attempts:1\n");
    let http = dns_cli::http("env");
    dns.server.set(
        "short.env.test",
        Reply::Records(vec![a("short.env.test", "127.0.0.1")]),
    );
    dns.server.set("dead.test", Reply::Drop);
    let mut argv = args(&dns, &["--json", "-q", "-4", "--connect-timeout", "5s"]);
    argv.extend([url("short", http.port()), url("dead.test.", http.port())]);
    let run = run_with_env(
        argv,
        &[("LOCALDOMAIN", "env.test"), ("RES_OPTIONS", "attempts:2")],
    );
    let outcomes = by_target(&run);
    let short = &outcomes[&url("short", http.port())];
    assert_eq!(kind(short), None, "{short}");
    assert!(dns.server.queries_for("short.corp.test").is_empty());
    let dead = &outcomes[&url("dead.test.", http.port())];
    assert_eq!(kind(dead), Some("dns-timeout"), "{dead}");
    assert!(
        message(dead).starts_with(&format!("dead.test: no answer from {} in 2.", dns.addr())),
        "{}",
        message(dead)
    );
    assert_eq!(asked_types(&dns.server, "dead.test"), [A, A]);
}

/// Repeated `--resolver`s are tried in turn: a silent first server costs
/// one timeout and the second answers; when both are silent, the timeout
/// names both.
#[test]
fn several_resolvers_are_tried_in_turn_and_all_named() {
    let first = Dns::new();
    let second = DnsServer::start();
    let http = dns_cli::http("second");
    first.server.set("turn.test", Reply::Drop);
    first.server.set("dead.test", Reply::Drop);
    second.set(
        "turn.test",
        Reply::Records(vec![a("turn.test", "127.0.0.1")]),
    );
    second.set("dead.test", Reply::Drop);
    let mut argv = args(
        &first,
        &[
            "--resolver",
            &second.addr().to_string(),
            "--json",
            "-q",
            "-4",
        ],
    );
    argv.extend(["--connect-timeout".into(), "5s".into()]);
    argv.extend([url("turn.test", http.port()), url("dead.test", http.port())]);
    let outcomes = by_target(&run(argv));
    let turn = &outcomes[&url("turn.test", http.port())];
    assert_eq!(kind(turn), None, "{turn}");
    assert_eq!(first.server.queries_for("turn.test").len(), 1);
    assert_eq!(second.queries_for("turn.test").len(), 1);
    let dead = &outcomes[&url("dead.test", http.port())];
    assert_eq!(kind(dead), Some("dns-timeout"), "{dead}");
    assert!(
        message(dead).starts_with(&format!(
            "dead.test: no answer from {}, {} in ",
            first.addr(),
            second.addr()
        )),
        "{}",
        message(dead)
    );
}

/// `--resolver [::1]:PORT`: a server asked over IPv6.
#[test]
fn a_resolver_on_ipv6_loopback_is_asked_over_ipv6() {
    let dns = Dns::on(
        DnsServer::start_on(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        "",
        dns_cli::RESOLV_CONF,
    );
    assert!(dns.args()[1].starts_with("[::1]:"), "{:?}", dns.args());
    let http = dns_cli::http("v6-resolver");
    dns.server
        .set("six.test", Reply::Records(vec![a("six.test", "127.0.0.1")]));
    let outcome = fetch(&dns, &["-4"], &url("six.test", http.port()));
    assert_eq!(kind(&outcome), None, "{outcome}");
    let seen = dns.server.queries_for("six.test");
    assert_eq!(seen.len(), 1);
    assert!(seen[0].from.is_ipv6(), "{seen:?}");
}

// ---------------------------------------------------------------------------
// --system-dns, and flags that are refused.
// ---------------------------------------------------------------------------

/// `--system-dns` is the getaddrinfo pool: with our resolver's flags it is
/// a usage error; alone it resolves `localhost` (from /etc/hosts), and
/// `--stats` has no resolver counters (`"dns": null`).
#[test]
fn system_dns_conflicts_with_the_resolver_flags_and_works_alone() {
    let dns = Dns::new();
    for (flag, value) in [
        ("--resolver", dns.addr().to_string()),
        ("--hosts-file", dns.hosts.display().to_string()),
        ("--resolv-conf", dns.resolv_conf.display().to_string()),
    ] {
        let run = run(["--system-dns", flag, &value, "localhost"]);
        assert_eq!(run.code, Some(2), "{flag}: {}", run.stderr);
        assert!(
            run.stderr.contains("'--system-dns' cannot be used with") && run.stderr.contains(flag),
            "{flag}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    }

    // getaddrinfo answers localhost from /etc/hosts; where that file does
    // not have it, glibc would ask the machine's DNS server: not here.
    let system_has_localhost = HostsTable::system()
        .ok()
        .is_some_and(|hosts| hosts.get("localhost").is_some());
    if !system_has_localhost {
        eprintln!("skipped --system-dns localhost: /etc/hosts does not name localhost");
        return;
    }
    let port = dual_port(true, false);
    let run = run([
        "--system-dns".to_string(),
        "--json".into(),
        "--stats".into(),
        url("localhost", port),
    ]);
    let outcomes = by_target(&run);
    let outcome = &outcomes[&url("localhost", port)];
    assert_eq!(kind(outcome), None, "{outcome}");
    assert_eq!(address(outcome), Some(v4(port).as_str()));
    let stats = dns_cli::stats(&run);
    assert!(stats["dns"].is_null(), "{stats}");
    assert!(dns.server.queries().is_empty());
}

/// Bad values for the resolver's flags are usage errors (exit status 2)
/// that say what is wrong, before any lookup.
#[test]
fn bad_resolver_flag_values_are_usage_errors() {
    let dns = Dns::new();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir_path = dir.path().display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--resolver".into(), "notanaddr".into()],
            "'notanaddr' is not a DNS server address".into(),
        ),
        (
            vec!["--resolver".into(), "127.0.0.1:99999".into()],
            "'127.0.0.1:99999' is not a DNS server address".into(),
        ),
        (
            vec!["--resolve".into(), "bad".into()],
            "'bad' is not HOST:PORT:ADDR".into(),
        ),
        (
            vec!["--resolve".into(), ":80:127.0.0.1".into()],
            "':80:127.0.0.1' is not HOST:PORT:ADDR".into(),
        ),
        (
            vec!["--resolve".into(), "h.test:0:127.0.0.1".into()],
            "'h.test:0:127.0.0.1': '0' is not a port".into(),
        ),
        (
            vec!["--resolve".into(), "h.test:80:nope".into()],
            "'h.test:80:nope': 'nope' is not an IP address".into(),
        ),
        (
            vec!["--dns-in-flight".into(), "0".into()],
            "--dns-in-flight".into(),
        ),
        (
            vec!["--hosts-file".into(), "/nonexistent/hosts".into()],
            "cannot read /nonexistent/hosts: No such file or directory".into(),
        ),
        (
            vec!["--resolv-conf".into(), "/nonexistent/resolv.conf".into()],
            "cannot read /nonexistent/resolv.conf: No such file or directory".into(),
        ),
        (
            vec!["--hosts-file".into(), dir_path.clone()],
            format!("cannot read {dir_path}: "),
        ),
        (
            vec!["--hosts-file".into(), "/dev/zero".into()],
            "/dev/zero is larger than 16 MiB".into(),
        ),
    ];
    for (flags, says) in cases {
        // The test's server and files, but for the flag under test (a
        // file flag may be given once).
        let mut argv = vec!["--resolver".to_string(), dns.addr().to_string()];
        for (flag, path) in [
            ("--hosts-file", &dns.hosts),
            ("--resolv-conf", &dns.resolv_conf),
        ] {
            if !flags.iter().any(|f| f == flag) {
                argv.extend([flag.to_string(), path.display().to_string()]);
            }
        }
        argv.extend(flags.iter().cloned());
        argv.push(url("never.test", 80));
        let run = run(argv);
        assert_eq!(run.code, Some(2), "{flags:?}: {}", run.stderr);
        assert!(run.stderr.contains(&says), "{flags:?}: {}", run.stderr);
        assert!(
            !run.stderr.contains("panicked"),
            "{flags:?}: {}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{flags:?}");
    }
    assert!(dns.server.queries().is_empty(), "nothing was looked up");
}

/// One port on both loopbacks (see [`dns_cli::dual_port`]).
fn dual_port(v4: bool, v6: bool) -> u16 {
    dns_cli::dual_port(v4, v6)
}
