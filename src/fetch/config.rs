//! The settings of one run, with the defaults the CLI documents.

use std::net::IpAddr;
use std::time::Duration;

use super::target::Scheme;
use crate::http::{Limits, Method, RequestError, RequestTemplate, Version, USER_AGENT};
use crate::net::dns::ResolverConfig;
use crate::net::Family;
use crate::tls::TlsConnector;

/// How names are resolved.
#[derive(Debug, Clone, Default)]
pub enum Dns {
    /// `getaddrinfo(3)` on a pool of `dns_workers` threads, as asyncio's
    /// `loop.getaddrinfo` does (`--system-dns`).
    #[default]
    System,
    /// Our stub resolver on the loop ([`crate::net::dns::StubResolver`]),
    /// with this configuration. Names that nsswitch.conf gives to a source
    /// it cannot serve go to the `getaddrinfo` pool.
    Stub(Box<ResolverConfig>),
}

/// A fixed answer for one host and port, as curl's `--resolve
/// HOST:PORT:ADDR` gives: no lookup is made for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    /// The host, in lower case and ASCII form.
    pub host: String,
    /// The port it applies to.
    pub port: u16,
    /// The addresses to use, in order.
    pub addrs: Vec<IpAddr>,
}

/// How a target written without a scheme is fetched (`--scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemeChoice {
    /// Plain HTTP, port 80: the seed's behaviour.
    #[default]
    Http,
    /// HTTPS, port 443.
    Https,
    /// Both, one after the other: two outcomes for such a target, one per
    /// scheme, each naming its URL.
    Both,
}

impl SchemeChoice {
    /// The schemes a target line is fetched with: the default ones for a
    /// line without a scheme (the one it names wins otherwise).
    pub fn for_line(self, line: &str) -> &'static [Scheme] {
        match self {
            SchemeChoice::Both if !line.contains("://") => &[Scheme::Http, Scheme::Https],
            SchemeChoice::Https => &[Scheme::Https],
            SchemeChoice::Http | SchemeChoice::Both => &[Scheme::Http],
        }
    }
}

/// How to fetch: concurrency, timeouts, request shape, limits.
#[derive(Debug, Clone)]
pub struct Config {
    /// Targets in flight at once.
    pub concurrency: usize,
    /// Limit on DNS plus TCP connect, per target.
    pub connect_timeout: Duration,
    /// Limit on each wait for the server (sending the request, each read).
    pub read_timeout: Duration,
    /// Limit on the whole fetch of one target.
    pub max_time: Duration,
    /// `GET` or `HEAD`.
    pub method: Method,
    /// Replaces the path of every target's first request (a redirect's
    /// `Location` says the path of the next).
    pub path: Option<String>,
    /// The `User-Agent` value; empty sends none.
    pub user_agent: String,
    /// Extra request headers, in order.
    pub headers: Vec<(String, String)>,
    /// `HTTP/1.0` (default) or `HTTP/1.1` with `Connection: close`.
    pub version: Version,
    /// Address family restriction (`-4`, `-6`).
    pub family: Family,
    /// Response head limits.
    pub limits: Limits,
    /// How names are resolved.
    pub dns: Dns,
    /// Hosts with fixed addresses (`--resolve`), checked before any lookup.
    pub pinned: Vec<Pinned>,
    /// `getaddrinfo` threads, for [`Dns::System`] and the names the stub
    /// resolver leaves to it.
    pub dns_workers: usize,
    /// The scheme of targets written without one.
    pub scheme: SchemeChoice,
    /// The TLS client for `https` targets; `None` builds the default one
    /// (Mozilla's roots, verification on) when the first is met.
    pub tls: Option<TlsConnector>,
    /// Follow redirects (`-L`).
    pub follow_redirects: bool,
    /// The most redirects one fetch follows (`--max-redirs`).
    pub max_redirects: u32,
    /// Count each phase's latency into [`Summary::latency`]'s histograms
    /// (what `--stats` shows). Off, they stay empty, and an outcome costs
    /// its count and nothing more.
    ///
    /// [`Summary::latency`]: super::Summary::latency
    pub latency: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            concurrency: 100,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            max_time: Duration::from_secs(30),
            method: Method::Get,
            path: None,
            user_agent: USER_AGENT.to_owned(),
            headers: Vec::new(),
            version: Version::Http10,
            family: Family::Any,
            limits: Limits::default(),
            dns: Dns::System,
            pinned: Vec::new(),
            dns_workers: 16,
            scheme: SchemeChoice::Http,
            tls: None,
            follow_redirects: false,
            max_redirects: 10,
            latency: true,
        }
    }
}

impl Config {
    /// The fixed addresses of `host` on `port`, if `--resolve` gave some.
    pub(crate) fn pinned(&self, host: &str, port: u16) -> Option<&[IpAddr]> {
        self.pinned
            .iter()
            .find(|pin| pin.port == port && pin.host.eq_ignore_ascii_case(host))
            .map(|pin| pin.addrs.as_slice())
    }

    /// What every request of a run built from this configuration has in
    /// common; each fetch adds its target's path (set from `path` on its
    /// first hop) and `Host`.
    pub(crate) fn request_template(&self) -> RequestTemplate {
        RequestTemplate::new(self.method, &self.user_agent, &self.headers, self.version)
    }

    /// Checks once, before any fetch, that the request options (`path`,
    /// `user_agent`, `headers`) can be sent. They are the same for every
    /// target, so a bad one is the user's mistake to report up front, not
    /// one failure per target after connecting to each.
    pub fn check_request(&self) -> Result<(), RequestError> {
        let path = self.path.as_deref().unwrap_or("/");
        self.request_template()
            .write(&mut String::new(), path, |out| out.push_str("example.com"))
    }
}
