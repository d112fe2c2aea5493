//! Targets: what the user typed, checked and split into host, port and path.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};

/// A target ready to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The host for DNS and the `Host` header: an IPv4 literal, an IPv6
    /// literal without brackets, or a name in ASCII (internationalised names
    /// converted to punycode).
    pub host: String,
    /// The TCP port (80 unless given).
    pub port: u16,
    /// The request path (`/` unless given).
    pub path: String,
}

impl Target {
    /// The `Host` header value: the host, bracketed if IPv6, with `:port`
    /// unless it is 80.
    pub fn host_header(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 80 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }

    /// The host as an IP address, when it is an address literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `http://host[:port]/path`, for reports.
    pub fn url(&self) -> String {
        format!("http://{}{}", self.host_header(), self.path)
    }
}

/// Why a target could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetError {
    /// Malformed: empty host, bad port, bad characters, unknown scheme.
    Bad(String),
    /// Well-formed, but needs something not built yet (TLS).
    Unsupported(String),
}

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetError::Bad(message) | TargetError::Unsupported(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for TargetError {}

/// Parses `host`, `host:port`, `1.2.3.4`, `::1`, `[::1]:8080` or
/// `http://host[:port][/path][#fragment]`. An IPv6 address with a port
/// must be in brackets; the fragment is dropped, as browsers do.
pub fn parse_target(input: &str) -> Result<Target, TargetError> {
    let bad = |why: &str| TargetError::Bad(format!("'{input}': {why}"));
    let text = input.trim();
    let rest = match text.split_once("://") {
        None => text,
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
        Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
            return Err(TargetError::Unsupported(format!(
                "'{input}': TLS is not supported yet; use http:// or a plain host"
            )))
        }
        Some((scheme, _)) => {
            return Err(bad(&format!(
                "unknown scheme '{scheme}' (only http:// is supported)"
            )))
        }
    };
    // A fragment (`#...`) names a part of the page for the browser; it is
    // never sent to the server.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    if path.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(bad(
            "the path has spaces, control or non-ASCII characters (percent-encode them)",
        ));
    }
    if authority.contains('@') {
        return Err(bad("user names in URLs are not supported"));
    }
    let (host, port) = split_host_port(authority).map_err(bad)?;
    let port = match port {
        None => 80,
        // Digits only: `u16::from_str` alone would also take `+80`.
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => return Err(bad(&format!("bad port '{text}' (want 1-65535)"))),
        },
    };
    Ok(Target {
        host: normalise_host(host).map_err(|why| bad(&why))?,
        port,
        path,
    })
}

/// Splits `host[:port]` or `[v6][:port]`.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), &'static str> {
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("unclosed '[' in an IPv6 address")?;
        if host.parse::<Ipv6Addr>().is_err() {
            return Err("not an IPv6 address inside [ ]");
        }
        return match after {
            "" => Ok((host, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host, Some(port))),
                None => Err("unexpected text after ']'"),
            },
        };
    }
    // Two colons or more without brackets can only be a whole IPv6
    // address, on the default port: `::1:8080` is the address ::1:8080, and
    // a port needs brackets, as in `[::1]:8080`.
    if authority.matches(':').count() > 1 {
        return match authority.parse::<Ipv6Addr>() {
            Ok(_) => Ok((authority, None)),
            Err(_) => {
                Err("more than one ':' (an IPv6 address with a port goes in [ ], as [::1]:8080)")
            }
        };
    }
    match authority.split_once(':') {
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

/// Checks a host and converts an internationalised name to ASCII.
fn normalise_host(host: &str) -> Result<String, String> {
    if host.is_empty() {
        return Err("empty host".into());
    }
    if host.contains(':') {
        // Only an IPv6 literal may hold ':'. Anything else here had a second
        // ':' (`h:80:80`), and must not reach DNS as the name `h:80`.
        return match host.parse::<Ipv6Addr>() {
            Ok(_) => Ok(host.to_owned()),
            Err(_) => Err("more than one ':' (put IPv6 addresses in [ ])".into()),
        };
    }
    let ascii = if host.is_ascii() {
        host.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii(host)
            .map_err(|_| "not a valid internationalised domain name".to_owned())?
    };
    let valid_label = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    let trimmed = ascii.strip_suffix('.').unwrap_or(&ascii);
    if ascii.len() > 253 || !trimmed.split('.').all(valid_label) {
        return Err("not a valid host name (letters, digits, '-', '.')".to_owned());
    }
    Ok(ascii)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> (String, u16, String) {
        let t = parse_target(input).unwrap();
        (t.host, t.port, t.path)
    }

    #[test]
    fn accepted_forms() {
        for (input, host, port, path) in [
            ("www.sohu.com", "www.sohu.com", 80, "/"),
            ("Example.COM:8080", "example.com", 8080, "/"),
            ("1.2.3.4", "1.2.3.4", 80, "/"),
            ("[::1]:8080", "::1", 8080, "/"),
            ("::1", "::1", 80, "/"),
            ("http://h:81/a/b?q=1", "h", 81, "/a/b?q=1"),
            ("HTTP://h?x", "h", 80, "/?x"),
            ("中文.com", "xn--fiq228c.com", 80, "/"),
            ("例子.测试", "xn--fsqu00a.xn--0zwm56d", 80, "/"),
            ("http://h/a#frag", "h", 80, "/a"),
            ("http://h:81#top", "h", 81, "/"),
            ("h/p?q#x", "h", 80, "/p?q"),
            ("::1:8080", "::1:8080", 80, "/"),
        ] {
            assert_eq!(ok(input), (host.into(), port, path.into()), "{input}");
        }
    }

    #[test]
    fn rejected_forms() {
        for input in [
            "",
            ":80",
            "h:0",
            "h:65536",
            "h:x",
            "ftp://h",
            "[::1",
            "[zz]:1",
            "a b",
            "h/ x",
            "u@h",
            "a..b",
            "h:80:80",
            "http://h:80:80/",
            "a:b:c",
            "h:+80",
            "::1:18556",
            "fe80::1:99999",
        ] {
            assert!(
                matches!(parse_target(input), Err(TargetError::Bad(_))),
                "{input:?}"
            );
        }
        assert!(matches!(
            parse_target("https://h"),
            Err(TargetError::Unsupported(_))
        ));
    }

    #[test]
    fn host_header_brackets_v6_and_adds_odd_ports() {
        assert_eq!(
            parse_target("[::1]:8080").unwrap().host_header(),
            "[::1]:8080"
        );
        assert_eq!(parse_target("h").unwrap().host_header(), "h");
        assert_eq!(parse_target("h:81").unwrap().url(), "http://h:81/");
    }
}
