//! `/etc/resolv.conf`: which servers to ask and how, read as glibc reads it.
//!
//! This is what `res_init(3)` does before the first lookup of a C program.
//! The format is a line per setting, the keyword first:
//!
//! ```text
//! # comment (also `;`), only at the start of a line
//! nameserver 192.0.2.53          # up to three; IPv6 too, fe80::1%eth0 with a scope
//! search corp.example example    # the search list; `domain x` is a list of one
//! options ndots:2 timeout:3 attempts:2 rotate edns0 no-aaaa
//! ```
//!
//! glibc's rules, kept here: the fourth and later `nameserver` lines are
//! ignored; `search` and `domain` replace each other, the last one wins; no
//! `nameserver` at all means 127.0.0.1; unknown keywords and options are
//! ignored. Option values are read as C's `atoi` reads them (leading
//! digits; none is 0) and capped as glibc caps them: `ndots` at 15,
//! `timeout` at 30 s, `attempts` at 5. Like Go's resolver, and unlike
//! glibc, `timeout` and `attempts` are at least 1, since 0 would mean no
//! query at all. After the file, the environment: `LOCALDOMAIN` replaces
//! the search list and `RES_OPTIONS` is one more `options` line.
//!
//! `edns0` is parsed and kept; the resolver sends EDNS0 whether or not it
//! is set (as Go does), falling back to plain DNS on FORMERR.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};
use std::path::Path;
use std::time::Duration;

use super::conf::{self, ConfError};

/// The most `nameserver` lines used (glibc's `MAXNS`).
pub const MAX_NAMESERVERS: usize = 3;

/// The cap on `ndots` (glibc's `RES_MAXNDOTS`).
pub const MAX_NDOTS: u8 = 15;

/// The cap on `timeout`, in seconds (glibc's `RES_MAXRETRANS`).
pub const MAX_TIMEOUT_SECS: u64 = 30;

/// The cap on `attempts` (glibc's `RES_MAXRETRY`).
pub const MAX_ATTEMPTS: u8 = 5;

/// The DNS port: resolv.conf has no syntax for another.
const DNS_PORT: u16 = 53;

/// The settings of a resolv.conf, with glibc's defaults where it is silent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvConf {
    /// Servers to ask, in order, at most [`MAX_NAMESERVERS`]; never empty.
    pub nameservers: Vec<SocketAddr>,
    /// Domains appended to a name with fewer than `ndots` dots, in order.
    pub search: Vec<String>,
    /// A name with at least this many dots is first tried as it is
    /// (default 1).
    pub ndots: u8,
    /// How long to wait for one server's answer (default 5 s).
    pub timeout: Duration,
    /// Rounds over all servers before giving up (default 2).
    pub attempts: u8,
    /// Spread queries over the servers instead of always asking the first.
    pub rotate: bool,
    /// The `edns0` option was given.
    pub edns0: bool,
    /// Ask no AAAA questions (glibc 2.36's `no-aaaa`).
    pub no_aaaa: bool,
}

impl Default for ResolvConf {
    fn default() -> ResolvConf {
        ResolvConf {
            nameservers: vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), DNS_PORT)],
            search: Vec::new(),
            ndots: 1,
            timeout: Duration::from_secs(5),
            attempts: 2,
            rotate: false,
            edns0: false,
            no_aaaa: false,
        }
    }
}

/// C's `atoi` for the values we read: the leading decimal digits, 0 if
/// there are none, saturating instead of overflowing.
fn atoi(text: &str) -> u64 {
    text.bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, d| {
            n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
        })
}

/// Parses a `nameserver` address: IPv4, IPv6, or IPv6 with `%scope` (an
/// interface name or number), on port 53.
fn parse_nameserver(text: &str) -> Option<SocketAddr> {
    if let Some((addr, scope)) = text.split_once('%') {
        let ip = addr.parse().ok()?;
        return Some(SocketAddr::V6(SocketAddrV6::new(
            ip,
            DNS_PORT,
            0,
            scope_id(scope),
        )));
    }
    Some(SocketAddr::new(text.parse().ok()?, DNS_PORT))
}

/// The scope id for `%scope`: a number, or an interface's index read from
/// `/sys/class/net/NAME/ifindex` (what `if_nametoindex(3)` reports); 0,
/// as glibc gives, when neither works.
fn scope_id(scope: &str) -> u32 {
    if let Ok(n) = scope.parse() {
        return n;
    }
    // An interface name is at most 15 bytes and never a path.
    let plain = !scope.is_empty()
        && scope.len() <= 15
        && !scope.contains('/')
        && scope != "."
        && scope != "..";
    if !plain {
        return 0;
    }
    std::fs::read_to_string(format!("/sys/class/net/{scope}/ifindex"))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(0)
}

/// A search domain as written, without its trailing dot; `None` for the
/// root, which adds nothing.
fn search_domain(word: &str) -> Option<String> {
    let domain = word.strip_suffix('.').unwrap_or(word);
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

impl ResolvConf {
    /// Parses resolv.conf text; never fails (glibc ignores what it does
    /// not understand). The environment is not consulted: see
    /// [`ResolvConf::apply_env`].
    pub fn parse(text: &str) -> ResolvConf {
        let mut conf = ResolvConf {
            nameservers: Vec::new(),
            ..ResolvConf::default()
        };
        for line in text.lines() {
            if line.starts_with(['#', ';']) {
                continue;
            }
            let mut words = line.split_whitespace();
            match words.next() {
                Some("nameserver") => {
                    let Some(addr) = words.next().and_then(parse_nameserver) else {
                        continue;
                    };
                    if conf.nameservers.len() < MAX_NAMESERVERS {
                        conf.nameservers.push(addr);
                    }
                }
                Some("domain") => {
                    conf.search = words.next().and_then(search_domain).into_iter().collect();
                }
                Some("search") => conf.search = words.filter_map(search_domain).collect(),
                Some("options") => conf.apply_options(&words.collect::<Vec<_>>().join(" ")),
                _ => {}
            }
        }
        if conf.nameservers.is_empty() {
            conf.nameservers = ResolvConf::default().nameservers;
        }
        conf
    }

    /// Applies the words of one `options` line (or of `RES_OPTIONS`).
    pub fn apply_options(&mut self, options: &str) {
        for option in options.split_whitespace() {
            let (key, value) = option.split_once(':').unwrap_or((option, ""));
            match key {
                "ndots" => self.ndots = atoi(value).min(u64::from(MAX_NDOTS)) as u8,
                "timeout" => {
                    self.timeout = Duration::from_secs(atoi(value).clamp(1, MAX_TIMEOUT_SECS))
                }
                "attempts" => self.attempts = atoi(value).clamp(1, u64::from(MAX_ATTEMPTS)) as u8,
                "rotate" => self.rotate = true,
                "edns0" => self.edns0 = true,
                "no-aaaa" => self.no_aaaa = true,
                _ => {} // debug, inet6, single-request, use-vc, trust-ad, ...
            }
        }
    }

    /// Applies the environment's overrides, as `res_init` does after the
    /// file: `LOCALDOMAIN` (a space-separated search list) replaces the
    /// search list, and `RES_OPTIONS` is read as one more `options` line.
    pub fn apply_env(&mut self, localdomain: Option<&str>, res_options: Option<&str>) {
        if let Some(domains) = localdomain {
            self.search = domains
                .split_whitespace()
                .filter_map(search_domain)
                .collect();
        }
        if let Some(options) = res_options {
            self.apply_options(options);
        }
    }

    /// Reads and parses `path`, then applies this process's `LOCALDOMAIN`
    /// and `RES_OPTIONS`. A missing file is an error here; see
    /// [`ResolvConf::system`] for glibc's "missing means defaults".
    pub fn load(path: &Path) -> Result<ResolvConf, ConfError> {
        let mut conf = ResolvConf::parse(&conf::read(path)?);
        conf.apply_process_env();
        Ok(conf)
    }

    /// `/etc/resolv.conf` and the environment; the defaults (127.0.0.1)
    /// if the file does not exist, as glibc does.
    pub fn system() -> Result<ResolvConf, ConfError> {
        match ResolvConf::load(Path::new("/etc/resolv.conf")) {
            Err(e) if e.is_not_found() => {
                let mut conf = ResolvConf::default();
                conf.apply_process_env();
                Ok(conf)
            }
            result => result,
        }
    }

    fn apply_process_env(&mut self) {
        let var = |name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
        let (localdomain, res_options) = (var("LOCALDOMAIN"), var("RES_OPTIONS"));
        self.apply_env(localdomain.as_deref(), res_options.as_deref());
    }
}
