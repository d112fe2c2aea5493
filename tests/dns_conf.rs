//! resolv.conf, hosts and nsswitch.conf, parsed as glibc (and Go) read them.
use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use fetch_headers::net::dns::{ConfError, Fallback, HostsTable, NsSwitch, ResolvConf, Source};

fn ns(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

#[test]
fn resolv_conf_keeps_three_nameservers_with_ipv6_scopes() {
    let conf = ResolvConf::parse(
        "# a comment\n\
         ; another\n\
         nameserver 192.0.2.1\n\
         nameserver 2001:db8::53\n\
         nameserver fe80::1%2\n\
         nameserver 192.0.2.4\n\
         nameserver not-an-address\n",
    );
    assert_eq!(
        conf.nameservers,
        vec![
            ns("192.0.2.1:53"),
            ns("[2001:db8::53]:53"),
            ns("[fe80::1%2]:53")
        ]
    );
    // "lo" is interface 1 on every Linux; an unknown name gives scope 0.
    let conf = ResolvConf::parse("nameserver fe80::1%lo\nnameserver fe80::2%nosuchif0\n");
    assert_eq!(
        conf.nameservers,
        vec![ns("[fe80::1%1]:53"), ns("[fe80::2%0]:53")]
    );
}

#[test]
fn resolv_conf_defaults_are_glibcs() {
    let conf = ResolvConf::parse("");
    assert_eq!(conf.nameservers, vec![ns("127.0.0.1:53")]);
    assert_eq!(conf.ndots, 1);
    assert_eq!(conf.timeout, Duration::from_secs(5));
    assert_eq!(conf.attempts, 2);
    assert!(conf.search.is_empty());
    assert!(!conf.rotate && !conf.edns0 && !conf.no_aaaa);
    assert_eq!(conf, ResolvConf::default());
}

#[test]
fn search_and_domain_replace_each_other_and_the_last_wins() {
    let conf = ResolvConf::parse("search a.example b.example.\ndomain c.example\n");
    assert_eq!(conf.search, vec!["c.example"]);
    let conf = ResolvConf::parse("domain c.example\nsearch A.example b.example.\n");
    assert_eq!(conf.search, vec!["a.example", "b.example"]);
}

#[test]
fn options_are_read_like_atoi_and_capped() {
    let conf = ResolvConf::parse(
        "options ndots:3 timeout:2 attempts:4 rotate edns0 no-aaaa single-request\n",
    );
    assert_eq!(conf.ndots, 3);
    assert_eq!(conf.timeout, Duration::from_secs(2));
    assert_eq!(conf.attempts, 4);
    assert!(conf.rotate && conf.edns0 && conf.no_aaaa);

    let conf = ResolvConf::parse("options ndots:99 timeout:600 attempts:12\n");
    assert_eq!(
        (conf.ndots, conf.timeout, conf.attempts),
        (15, Duration::from_secs(30), 5)
    );
    let conf = ResolvConf::parse("options ndots:x timeout:0 attempts:0\n");
    assert_eq!(
        (conf.ndots, conf.timeout, conf.attempts),
        (0, Duration::from_secs(1), 1),
        "no digits reads as 0; timeout and attempts stay at least 1"
    );
    let conf = ResolvConf::parse("options ndots:2x timeout:99999999999999999999999\n");
    assert_eq!((conf.ndots, conf.timeout), (2, Duration::from_secs(30)));
}

#[test]
fn localdomain_and_res_options_override_the_file() {
    let mut conf = ResolvConf::parse("search a.example\noptions ndots:2 attempts:3\n");
    conf.apply_env(Some("x.example  y.example"), Some("ndots:5 rotate"));
    assert_eq!(conf.search, vec!["x.example", "y.example"]);
    assert_eq!((conf.ndots, conf.attempts, conf.rotate), (5, 3, true));
    conf.apply_env(None, None);
    assert_eq!(conf.ndots, 5, "no variables, no change");
}

#[test]
fn resolv_conf_loads_from_a_path() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    writeln!(file, "nameserver 127.0.0.53\noptions timeout:3").unwrap();
    let conf = ResolvConf::load(file.path()).unwrap();
    assert_eq!(conf.nameservers, vec![ns("127.0.0.53:53")]);
    let missing = ResolvConf::load(std::path::Path::new("/nonexistent/resolv.conf"));
    assert!(matches!(missing, Err(ref e @ ConfError::Read { .. }) if e.is_not_found()));
}

#[test]
fn hosts_lines_hold_several_names_and_comments() {
    let table = HostsTable::parse(
        "127.0.0.1 localhost\n\
         # a whole-line comment\n\
         192.0.2.10  Build.corp.example build   # trailing comment\n\
         2001:db8::10 build\n\
         192.0.2.10 build\n\
         not-an-ip  ignored.example\n\
         fe80::1%lo scoped.example\n\
         \t192.0.2.11\tTabbed.example.\n",
    );
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    assert_eq!(
        table.get("build"),
        Some(&[ip("192.0.2.10"), ip("2001:db8::10")][..]),
        "every line's address, each once, in file order"
    );
    assert_eq!(
        table.get("BUILD.corp.example."),
        Some(&[ip("192.0.2.10")][..])
    );
    assert_eq!(table.get("tabbed.example"), Some(&[ip("192.0.2.11")][..]));
    assert_eq!(table.get("ignored.example"), None);
    assert_eq!(table.get("scoped.example"), None);
    assert_eq!(table.get("trailing"), None, "comment words are not names");
    assert_eq!(table.len(), 4);
}

#[test]
fn nsswitch_gives_the_order_of_files_and_dns() {
    let conf = NsSwitch::parse("passwd: files\nhosts:  dns files # comment\n");
    assert_eq!(conf.order(), vec![Source::Dns, Source::Files]);
    assert_eq!(conf.fallback_for("www.example.com", None), None);
    assert_eq!(
        NsSwitch::parse("").order(),
        vec![Source::Files, Source::Dns]
    );
    assert_eq!(
        NsSwitch::parse("hosts: files\n").order(),
        vec![Source::Files]
    );
}

#[test]
fn nsswitch_sources_we_cannot_serve_send_names_to_getaddrinfo() {
    // Debian with avahi: mdns matters for .local names only.
    let conf = NsSwitch::parse("hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname\n");
    assert_eq!(conf.order(), vec![Source::Files, Source::Dns]);
    assert_eq!(conf.hosts[1].criteria.len(), 1);
    assert_eq!(conf.fallback_for("www.example.com", Some("box")), None);
    assert_eq!(
        conf.fallback_for("printer.local", None),
        Some(Fallback::Mdns("mdns4_minimal".into()))
    );
    assert_eq!(
        conf.fallback_for("BOX.", Some("box")),
        Some(Fallback::MyHostname)
    );
    assert_eq!(
        conf.fallback_for("gateway", None),
        Some(Fallback::MyHostname)
    );

    // systemd-resolved, LDAP: every name.
    let conf = NsSwitch::parse("hosts: files resolve [!UNAVAIL=return] dns\n");
    assert_eq!(
        conf.fallback_for("www.example.com", None),
        Some(Fallback::Source("resolve".into()))
    );
    // Non-default actions on dns before files change what glibc does.
    let conf = NsSwitch::parse("hosts: dns [NOTFOUND=return] files\n");
    assert_eq!(
        conf.fallback_for("www.example.com", None),
        Some(Fallback::Criteria("dns".into()))
    );
    // ... but on the last source they change nothing.
    let conf = NsSwitch::parse("hosts: files dns [ NOTFOUND=return ]\n");
    assert_eq!(conf.fallback_for("www.example.com", None), None);
    assert_eq!(conf.hosts[1].criteria[0].status, "notfound");
}
