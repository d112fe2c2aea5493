//! `/etc/nsswitch.conf`'s `hosts:` line: which sources answer a name, in
//! which order, and when a name must go to `getaddrinfo` instead.
//!
//! glibc's `getaddrinfo` asks each source of the line in turn:
//!
//! ```text
//! hosts: files mdns4_minimal [NOTFOUND=return] dns myhostname
//! ```
//!
//! We can serve two of them: `files` (the hosts table) and `dns` (our stub
//! resolver). For the others we follow Go's resolver (`net/conf.go`): a
//! name that another source could answer differently is handed to the
//! `getaddrinfo` pool, which runs the whole line in libc. Which names:
//!
//! - `mdns*` answers only `.local` names: those fall back, others skip it;
//! - `myhostname` answers `localhost.localdomain`, `gateway` and the
//!   machine's own name: those fall back (plain `localhost` and
//!   `*.localhost` we answer ourselves, as loopback);
//! - `files` or `dns` with action criteria other than the defaults
//!   (`[NOTFOUND=return]` or any `!` on a source that another follows):
//!   every name falls back, since the order alone no longer says what
//!   glibc does;
//! - any other source (`resolve`, `ldap`, `nis`, `sss`, `wins`, ...):
//!   every name falls back.
//!
//! With no `hosts:` line, or no file, the order is `files dns`, as Go
//! assumes.

use std::fmt;
use std::path::Path;

use super::conf::{self, ConfError};

/// A source we can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The hosts table.
    Files,
    /// DNS, through the stub resolver.
    Dns,
}

/// One `[STATUS=action]` criterion after a source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Criterion {
    /// `!STATUS`: every status but this one.
    pub negate: bool,
    /// `success`, `notfound`, `unavail` or `tryagain`, in lower case.
    pub status: String,
    /// `return`, `continue` or `merge`, in lower case.
    pub action: String,
}

/// One source on the `hosts:` line, with its criteria.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// The source's name as written (`files`, `dns`, `mdns4_minimal`).
    pub name: String,
    /// The criteria written after it.
    pub criteria: Vec<Criterion>,
}

/// Why a name must be resolved by `getaddrinfo` instead of by us.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// An mDNS source is listed and the name ends in `.local`.
    Mdns(String),
    /// `myhostname` is listed and the name is one it answers.
    MyHostname,
    /// `files` or `dns` has criteria whose effect the order cannot show.
    Criteria(String),
    /// A source we cannot serve is listed.
    Source(String),
}

impl fmt::Display for Fallback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fallback::Mdns(source) => write!(f, "{source} answers .local names"),
            Fallback::MyHostname => f.write_str("myhostname answers this name"),
            Fallback::Criteria(source) => {
                write!(f, "nsswitch.conf gives {source} non-default actions")
            }
            Fallback::Source(source) => write!(f, "nsswitch.conf lists {source}"),
        }
    }
}

/// The `hosts:` line of an nsswitch.conf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NsSwitch {
    /// The sources in order.
    pub hosts: Vec<Service>,
}

impl Default for NsSwitch {
    /// `hosts: files dns`.
    fn default() -> NsSwitch {
        let plain = |name: &str| Service {
            name: name.into(),
            criteria: Vec::new(),
        };
        NsSwitch {
            hosts: vec![plain("files"), plain("dns")],
        }
    }
}

/// Parses the words of a `[...]` group: `NOTFOUND=return !UNAVAIL=continue`.
fn parse_criteria(group: &str) -> Vec<Criterion> {
    group
        .split_whitespace()
        .filter_map(|word| {
            let (status, action) = word.split_once('=')?;
            let (negate, status) = match status.strip_prefix('!') {
                Some(status) => (true, status),
                None => (false, status),
            };
            Some(Criterion {
                negate,
                status: status.to_ascii_lowercase(),
                action: action.to_ascii_lowercase(),
            })
        })
        .collect()
}

impl NsSwitch {
    /// Parses nsswitch.conf text; only the `hosts:` line matters. Without
    /// one, [`NsSwitch::default`].
    pub fn parse(text: &str) -> NsSwitch {
        let line = text.lines().find_map(|line| {
            let line = line.split_once('#').map_or(line, |(data, _)| data).trim();
            let (database, rest) = line.split_once(':')?;
            (database.trim() == "hosts").then_some(rest)
        });
        let Some(mut rest) = line else {
            return NsSwitch::default();
        };
        let mut hosts: Vec<Service> = Vec::new();
        loop {
            rest = rest.trim_start();
            if rest.is_empty() {
                break;
            }
            if let Some(group) = rest.strip_prefix('[') {
                // A criteria group, which may hold spaces: up to its `]`.
                let (inside, after) = group.split_once(']').unwrap_or((group, ""));
                if let Some(service) = hosts.last_mut() {
                    service.criteria.extend(parse_criteria(inside));
                }
                rest = after;
                continue;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '[')
                .unwrap_or(rest.len());
            hosts.push(Service {
                name: rest[..end].to_ascii_lowercase(),
                criteria: Vec::new(),
            });
            rest = &rest[end..];
        }
        if hosts.is_empty() {
            return NsSwitch::default();
        }
        NsSwitch { hosts }
    }

    /// Reads and parses an nsswitch.conf.
    pub fn load(path: &Path) -> Result<NsSwitch, ConfError> {
        Ok(NsSwitch::parse(&conf::read(path)?))
    }

    /// `/etc/nsswitch.conf`, or `files dns` if it does not exist.
    pub fn system() -> Result<NsSwitch, ConfError> {
        match NsSwitch::load(Path::new("/etc/nsswitch.conf")) {
            Err(e) if e.is_not_found() => Ok(NsSwitch::default()),
            result => result,
        }
    }

    /// The sources we serve, in the line's order (others left out).
    pub fn order(&self) -> Vec<Source> {
        let mut order = Vec::new();
        for service in &self.hosts {
            let source = match service.name.as_str() {
                "files" => Source::Files,
                "dns" => Source::Dns,
                _ => continue,
            };
            if !order.contains(&source) {
                order.push(source);
            }
        }
        order
    }

    /// Whether `host` must go to `getaddrinfo` instead of to us, and why;
    /// `hostname` is the machine's own name, if known. See the module
    /// docs for the rules.
    pub fn fallback_for(&self, host: &str, hostname: Option<&str>) -> Option<Fallback> {
        let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
        let last = self.hosts.len().saturating_sub(1);
        for (index, service) in self.hosts.iter().enumerate() {
            match service.name.as_str() {
                "files" | "dns" => {
                    if !service
                        .criteria
                        .iter()
                        .all(|c| is_default_action(c, index == last))
                    {
                        return Some(Fallback::Criteria(service.name.clone()));
                    }
                }
                name if name.starts_with("mdns") => {
                    if host.ends_with(".local") {
                        return Some(Fallback::Mdns(service.name.clone()));
                    }
                }
                "myhostname" => {
                    let own = hostname.is_some_and(|h| h.eq_ignore_ascii_case(&host));
                    if own
                        || host == "gateway"
                        || host == "localhost.localdomain"
                        || host.ends_with(".localhost.localdomain")
                    {
                        return Some(Fallback::MyHostname);
                    }
                }
                other => return Some(Fallback::Source(other.to_owned())),
            }
        }
        None
    }
}

/// True when `criterion` does what glibc does anyway: return on success,
/// continue otherwise. On the last source every action comes to the same,
/// since no source follows.
fn is_default_action(criterion: &Criterion, last_source: bool) -> bool {
    if last_source {
        return true;
    }
    if criterion.negate {
        return false;
    }
    let default = match criterion.status.as_str() {
        "success" => "return",
        "notfound" | "unavail" | "tryagain" => "continue",
        _ => return false,
    };
    criterion.action == default
}
