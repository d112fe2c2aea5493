//! Targets: what the user typed, checked and split into scheme, host, port
//! and path.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How a target is fetched: plain HTTP, or HTTP over TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `http://`, port 80 by default.
    Http,
    /// `https://`, port 443 by default.
    Https,
}

impl Scheme {
    /// The port a URL of this scheme means when it names none.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }

    /// `http` or `https`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A target ready to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// How to fetch it.
    pub scheme: Scheme,
    /// The host for DNS and the `Host` header: an IPv4 literal, an IPv6
    /// literal without brackets, or a name in ASCII (internationalised names
    /// converted to punycode).
    pub host: String,
    /// The TCP port (the scheme's default unless given).
    pub port: u16,
    /// The request path (`/` unless given: that one is a `&'static str`,
    /// so the common target allocates nothing for its path).
    pub path: Cow<'static, str>,
    /// The host as an address, when it is an address literal: parsed once,
    /// here, for the family check and the resolve phase.
    ip: Option<IpAddr>,
}

impl Target {
    /// The `Host` header value: the host, bracketed if IPv6, with `:port`
    /// unless it is the scheme's default.
    pub fn host_header(&self) -> String {
        let mut out = String::with_capacity(self.host.len() + 8);
        self.write_host_header(&mut out);
        out
    }

    /// Appends [`host_header`](Self::host_header) to `out`: the request of
    /// every fetch gets it this way, with no `String` of its own.
    pub fn write_host_header(&self, out: &mut String) {
        if self.host.contains(':') {
            out.push('[');
            out.push_str(&self.host);
            out.push(']');
        } else {
            out.push_str(&self.host);
        }
        if self.port != self.scheme.default_port() {
            out.push(':');
            push_decimal(out, self.port);
        }
    }

    /// A target that names nothing, to leave in the place of one moved
    /// out (a finished fetch's, into its outcome). It allocates nothing.
    pub(crate) fn none() -> Target {
        Target {
            scheme: Scheme::Http,
            host: String::new(),
            port: 0,
            path: Cow::Borrowed(""),
            ip: None,
        }
    }

    /// The host as an IP address, when it is an address literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.ip
    }

    /// `http[s]://host[:port]/path`, for reports.
    pub fn url(&self) -> String {
        let scheme = self.scheme.as_str();
        let mut url =
            String::with_capacity(scheme.len() + 3 + self.host.len() + 8 + self.path.len());
        url.push_str(scheme);
        url.push_str("://");
        self.write_host_header(&mut url);
        url.push_str(&self.path);
        url
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut String, n: u16) {
    let mut divisor = 10_000;
    while divisor > 1 && n < divisor {
        divisor /= 10;
    }
    while divisor > 0 {
        out.push(char::from(b'0' + (n / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// Why a target could not be used: malformed (an empty host, a bad port,
/// bad characters, an unknown scheme), with a message naming the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetError(pub String);

impl fmt::Display for TargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TargetError {}

/// Parses `host`, `host:port`, `1.2.3.4`, `::1`, `[::1]:8080` or
/// `http://host[:port][/path][#fragment]`. An IPv6 address with a port
/// must be in brackets; the fragment is dropped, as browsers do.
pub fn parse_target(input: &str) -> Result<Target, TargetError> {
    parse_target_as(input, Scheme::Http)
}

/// Like [`parse_target`], with `scheme` for a target written without one
/// (`--scheme`).
pub fn parse_target_as(input: &str, scheme: Scheme) -> Result<Target, TargetError> {
    // The plain parser takes no whitespace, so a line it takes as it is
    // has nothing to trim: most lines never pay for `trim`.
    if let Some(target) = parse_plain(input, scheme) {
        return Ok(target);
    }
    // A line with blanks around it is trimmed, and may be plain then.
    let text = input.trim();
    if text.len() < input.len() {
        if let Some(target) = parse_plain(text, scheme) {
            return Ok(target);
        }
    }
    parse_general(input, text, scheme)
}

/// Parses `text` (`input`, trimmed), whatever form it has.
fn parse_general(input: &str, text: &str, scheme: Scheme) -> Result<Target, TargetError> {
    let bad = |why: &str| TargetError(format!("'{input}': {why}"));
    let (scheme, rest) = match split_scheme(text) {
        None => (scheme, text),
        Some((given, rest)) if given.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
        Some((given, rest)) if given.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
        Some((given, _)) => {
            return Err(bad(&format!(
                "unknown scheme '{given}' (use http:// or https://)"
            )))
        }
    };
    // A fragment (`#...`) names a part of the page for the browser; it is
    // never sent to the server.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (authority, path) = match rest.bytes().position(|b| b == b'/' || b == b'?') {
        Some(i) => (&rest[..i], Cow::Owned(rest[i..].to_owned())),
        None => (rest, Cow::Borrowed("/")),
    };
    let path = if path.starts_with('?') {
        Cow::Owned(format!("/{path}"))
    } else {
        path
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
        None => scheme.default_port(),
        // Digits only: `u16::from_str` alone would also take `+80`.
        Some(text) => match text.parse::<u16>() {
            Ok(port) if port > 0 && text.bytes().all(|b| b.is_ascii_digit()) => port,
            _ => return Err(bad(&format!("bad port '{text}' (want 1-65535)"))),
        },
    };
    let host = normalise_host(host).map_err(|why| bad(&why))?;
    Ok(Target {
        scheme,
        ip: host.parse().ok(),
        host,
        port,
        path,
    })
}

/// The target most lines are, `host` or `host:port` with a lowercase
/// ASCII host and no scheme, path or brackets, parsed in one pass over its
/// bytes; `None` for anything else, which the general parser takes (and
/// gives its error, if it is one). What this returns is exactly what the
/// general parser would: `plain_targets_parse_as_the_general_parser_does`
/// checks them against each other.
fn parse_plain(text: &str, scheme: Scheme) -> Option<Target> {
    let bytes = text.as_bytes();
    let mut colon = None;
    // As `is_host_name` counts: labels of 1 to 63 bytes.
    let mut label_len = 0;
    // The same pass reads the host as an IPv4 address, for as long as it
    // can be one, so that an address literal needs no second parser.
    let mut ipv4 = DottedQuad::new();
    for (i, &byte) in bytes.iter().enumerate() {
        match byte {
            b':' => {
                colon = Some(i);
                break;
            }
            b'.' if label_len == 0 => return None,
            b'.' => {
                label_len = 0;
                ipv4.dot();
            }
            b'0'..=b'9' if label_len < 63 => {
                label_len += 1;
                ipv4.digit(byte - b'0');
            }
            b'a'..=b'z' | b'-' | b'_' if label_len < 63 => {
                label_len += 1;
                ipv4.other();
            }
            _ => return None,
        }
    }
    let host_end = colon.unwrap_or(bytes.len());
    // A last label of 0 bytes is the root's dot (`example.com.`), allowed
    // after at least one label.
    if host_end == 0 || host_end > 253 || (label_len == 0 && host_end == 1) {
        return None;
    }
    let port = match colon {
        None => scheme.default_port(),
        Some(at) => {
            let digits = &bytes[at + 1..];
            if digits.is_empty() || digits.len() > 5 || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let port = digits
                .iter()
                .fold(0u32, |n, &digit| n * 10 + u32::from(digit - b'0'));
            match u16::try_from(port) {
                Ok(port) if port > 0 => port,
                _ => return None,
            }
        }
    };
    let host = &text[..host_end];
    Some(Target {
        scheme,
        ip: ipv4.address().map(IpAddr::V4),
        host: host.to_owned(),
        port,
        path: Cow::Borrowed("/"),
    })
}

/// An IPv4 address read a byte at a time, by the rules of
/// `str::parse::<Ipv4Addr>`: four decimal octets of 1 to 3 digits, each
/// 0 to 255, joined by dots, and no leading zero unless the octet is `0`
/// itself (`01` could be read as octal elsewhere, so std refuses it).
/// A digit costs a multiply and an add; the rules are checked once per
/// octet, at its end. `dotted_quads_read_as_std_parses_them` checks it
/// against std.
#[derive(Debug)]
struct DottedQuad {
    /// The octets finished so far, the first in the highest byte.
    done: u32,
    /// How many octets are finished (the dots seen).
    dots: u32,
    /// The value of the octet being read. It wraps on a long run of
    /// digits, which is refused for its count of digits anyway.
    octet: u32,
    /// How many digits the octet being read has.
    digits: u32,
    /// No byte so far was other than a digit or a dot, and every octet
    /// finished kept the rules.
    valid: bool,
}

impl DottedQuad {
    fn new() -> DottedQuad {
        DottedQuad {
            done: 0,
            dots: 0,
            octet: 0,
            digits: 0,
            valid: true,
        }
    }

    fn digit(&mut self, digit: u8) {
        self.octet = self.octet.wrapping_mul(10).wrapping_add(u32::from(digit));
        self.digits += 1;
    }

    fn dot(&mut self) {
        self.valid &= self.octet_ok() && self.dots < 3;
        self.done = self.done << 8 | self.octet;
        self.dots += 1;
        self.octet = 0;
        self.digits = 0;
    }

    fn other(&mut self) {
        self.valid = false;
    }

    /// The octet being read keeps the rules. With no leading zero, two
    /// digits make at least 10 and three at least 100, so the rules are
    /// one range per count of digits.
    fn octet_ok(&self) -> bool {
        match self.digits {
            1 => true,
            2 => self.octet >= 10,
            3 => (100..=255).contains(&self.octet),
            _ => false,
        }
    }

    /// The address, if what was read is one, whole.
    fn address(&self) -> Option<Ipv4Addr> {
        let whole = self.valid && self.dots == 3 && self.octet_ok();
        whole.then(|| Ipv4Addr::from(self.done << 8 | self.octet))
    }
}

/// The kind of non-public range `ip` is in (`loopback`, `private`,
/// `link-local`, ...), or `None` for a public address. A redirect from a
/// public target may not lead into one of these: that is how a server
/// makes a client fetch `169.254.169.254` (cloud metadata) or a service
/// on the client's own machine. An IPv4-mapped IPv6 address is judged by
/// its IPv4 address.
pub fn internal_range(ip: IpAddr) -> Option<&'static str> {
    let v4 = match ip {
        IpAddr::V4(v4) => v4,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4,
            None => {
                let first = v6.segments()[0];
                return if v6.is_loopback() {
                    Some("loopback")
                } else if v6.is_unspecified() {
                    Some("unspecified")
                } else if first & 0xfe00 == 0xfc00 {
                    Some("private")
                } else if first & 0xffc0 == 0xfe80 {
                    Some("link-local")
                } else {
                    None
                };
            }
        },
    };
    let [a, b, ..] = v4.octets();
    if v4.is_loopback() {
        Some("loopback")
    } else if a == 0 {
        // 0.0.0.0/8: connecting to it reaches this machine on Linux.
        Some("unspecified")
    } else if v4.is_private() {
        Some("private")
    } else if v4.is_link_local() {
        Some("link-local")
    } else if a == 100 && b & 0xc0 == 64 {
        // 100.64.0.0/10, carrier-grade NAT (RFC 6598).
        Some("shared")
    } else {
        None
    }
}

/// The redirect rule: a redirect whose host has any of `addrs` in an
/// internal range ([`internal_range`]) is refused, with that address and
/// its range, unless the fetch began at an internal address itself
/// (`internal_origin`): scanning one's own network is allowed, being led
/// into it from outside is not. Every address counts, not only the one a
/// connection would pick, so a name mixing public and internal addresses
/// cannot slip through.
pub fn redirect_refused(internal_origin: bool, addrs: &[IpAddr]) -> Option<(IpAddr, &'static str)> {
    if internal_origin {
        return None;
    }
    addrs
        .iter()
        .find_map(|&ip| internal_range(ip).map(|range| (ip, range)))
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
    match authority.split_once(':') {
        // Two colons or more without brackets can only be a whole IPv6
        // address, on the default port: `::1:8080` is the address
        // ::1:8080, and a port needs brackets, as in `[::1]:8080`.
        Some((_, after)) if after.contains(':') => match authority.parse::<Ipv6Addr>() {
            Ok(_) => Ok((authority, None)),
            Err(_) => {
                Err("more than one ':' (an IPv6 address with a port goes in [ ], as [::1]:8080)")
            }
        },
        Some((host, port)) => Ok((host, Some(port))),
        None => Ok((authority, None)),
    }
}

/// Splits `scheme://rest` at the first `://`, if there is one.
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    // A byte search: `str::split_once("://")` sets up a general substring
    // searcher, which costs more than the search for a target this short.
    let at = text.as_bytes().windows(3).position(|w| w == b"://")?;
    Some((&text[..at], &text[at + 3..]))
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
    if ascii.len() > 253 || !is_host_name(&ascii) {
        return Err("not a valid host name (letters, digits, '-', '.')".to_owned());
    }
    Ok(ascii)
}

/// Whether `name` (in ASCII) is labels of letters, digits, `-` and `_`,
/// each of 1 to 63 of them, joined by dots, with one more dot at the end
/// allowed (the root). One pass over the bytes.
fn is_host_name(name: &str) -> bool {
    let labels = name.strip_suffix('.').unwrap_or(name);
    let mut label_len = 0;
    for byte in labels.bytes() {
        match byte {
            b'.' if label_len == 0 => return false,
            b'.' => label_len = 0,
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' if label_len < 63 => {
                label_len += 1
            }
            _ => return false,
        }
    }
    label_len > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> (String, u16, String) {
        let t = parse_target(input).unwrap();
        (t.host, t.port, t.path.into_owned())
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
            assert!(parse_target(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn https_targets_and_the_default_scheme() {
        let t = parse_target("https://h/a").unwrap();
        assert_eq!(
            (t.scheme, t.port, t.url()),
            (Scheme::Https, 443, "https://h/a".into())
        );
        let t = parse_target("HTTPS://h:443").unwrap();
        assert_eq!(t.host_header(), "h");
        let t = parse_target("https://h:80").unwrap();
        assert_eq!(t.host_header(), "h:80");
        let t = parse_target_as("h", Scheme::Https).unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Https, 443));
        // A scheme written out wins over the default.
        let t = parse_target_as("http://h", Scheme::Https).unwrap();
        assert_eq!((t.scheme, t.port), (Scheme::Http, 80));
        assert!(parse_target_as("ftp://h", Scheme::Https).is_err());
    }

    #[test]
    fn redirects_from_public_origins_may_not_lead_inside() {
        let ips =
            |list: &[&str]| -> Vec<IpAddr> { list.iter().map(|a| a.parse().unwrap()).collect() };
        let public = ips(&["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]);
        assert_eq!(redirect_refused(false, &public), None);
        let metadata = ips(&["169.254.169.254"]);
        assert_eq!(
            redirect_refused(false, &metadata),
            Some((metadata[0], "link-local"))
        );
        // One internal address among public ones is enough to refuse.
        let mixed = ips(&["93.184.215.14", "127.0.0.1"]);
        assert_eq!(
            redirect_refused(false, &mixed),
            Some((mixed[1], "loopback"))
        );
        // From an internal origin, anything goes.
        assert_eq!(redirect_refused(true, &mixed), None);
        assert_eq!(redirect_refused(true, &metadata), None);
    }

    #[test]
    fn internal_ranges() {
        for (addr, range) in [
            ("127.0.0.1", Some("loopback")),
            ("127.255.0.9", Some("loopback")),
            ("::1", Some("loopback")),
            ("0.0.0.0", Some("unspecified")),
            ("::", Some("unspecified")),
            ("10.1.2.3", Some("private")),
            ("172.16.0.1", Some("private")),
            ("172.31.255.255", Some("private")),
            ("192.168.1.1", Some("private")),
            ("100.64.0.1", Some("shared")),
            ("fd00::1", Some("private")),
            ("169.254.169.254", Some("link-local")),
            ("fe80::1", Some("link-local")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:169.254.169.254", Some("link-local")),
            ("172.32.0.1", None),
            ("8.8.8.8", None),
            ("100.128.0.1", None),
            ("2001:db8::1", None),
            ("::ffff:8.8.8.8", None),
        ] {
            assert_eq!(internal_range(addr.parse().unwrap()), range, "{addr}");
        }
    }

    /// `is_host_name` against the rule as it was written before: split at
    /// dots, every label checked on its own.
    #[test]
    fn host_names_are_checked_as_label_by_label() {
        let by_labels = |name: &str| {
            let valid_label = |label: &str| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            };
            name.strip_suffix('.')
                .unwrap_or(name)
                .split('.')
                .all(valid_label)
        };
        // Every string of up to six bytes from this alphabet.
        let alphabet = b"a.-_Z!";
        let mut names = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = names
                .iter()
                .filter(|name| name.len() == names.last().map_or(0, String::len))
                .flat_map(|name| {
                    alphabet
                        .iter()
                        .map(move |&b| format!("{name}{}", b as char))
                })
                .collect();
            names.extend(longer);
        }
        let long = |n: usize| "x".repeat(n);
        names.extend([
            long(63),
            long(64),
            format!("{}.{}", long(63), long(63)),
            format!("a.{}.", long(64)),
            format!("{}.", long(63)),
        ]);
        for name in &names {
            assert_eq!(is_host_name(name), by_labels(name), "{name:?}");
        }
    }

    #[test]
    fn host_header_brackets_v6_and_adds_odd_ports() {
        assert_eq!(
            parse_target("[::1]:8080").unwrap().host_header(),
            "[::1]:8080"
        );
        assert_eq!(parse_target("h").unwrap().host_header(), "h");
        assert_eq!(parse_target("h:81").unwrap().url(), "http://h:81/");
        for port in [1, 9, 10, 99, 100, 443, 8080, 10000, 65535] {
            let target = parse_target(&format!("h:{port}")).unwrap();
            assert_eq!(target.host_header(), format!("h:{port}"));
            let target = parse_target(&format!("https://[::1]:{port}/p")).unwrap();
            let want = if port == 443 {
                "[::1]".to_owned()
            } else {
                format!("[::1]:{port}")
            };
            assert_eq!(target.host_header(), want);
            assert_eq!(target.url(), format!("https://{want}/p"));
        }
    }

    /// Blanks around a target are trimmed whichever parser takes it, and
    /// an address literal is known as one either way.
    #[test]
    fn blanks_around_a_target_are_trimmed() {
        for (padded, bare) in [
            (" 127.0.0.1:8080\r\n", "127.0.0.1:8080"),
            ("\t10.0.0.1 ", "10.0.0.1"),
            ("  example.com\n", "example.com"),
            (" http://h:81/p ", "http://h:81/p"),
        ] {
            assert_eq!(parse_target(padded), parse_target(bare), "{padded:?}");
        }
        let ip = |text: &str| parse_target(text).ok().and_then(|t| t.ip());
        assert_eq!(ip(" 10.0.0.1\n"), Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!(ip("http://10.0.0.1/"), Some(IpAddr::from([10, 0, 0, 1])));
        assert_eq!(ip("10.0.0.01"), None);
        assert_eq!(ip("[::1]:80"), "::1".parse().ok());
    }

    /// The IPv4 address `parse_plain` reads in its one pass is the one
    /// `str::parse::<Ipv4Addr>` gives, and there is one exactly when std
    /// finds one: on every string of up to 7 bytes from an alphabet of
    /// the bytes that matter, on every join of octets around the limits,
    /// and on random dotted strings.
    #[test]
    fn dotted_quads_read_as_std_parses_them() {
        let check = |text: &str| {
            let std = text.parse::<Ipv4Addr>().ok().map(IpAddr::V4);
            let ours = parse_plain(text, Scheme::Http).and_then(|t| t.ip());
            assert_eq!(ours, std, "{text:?}");
            std.is_some()
        };
        let mut addresses = 0;
        let mut frontier = vec![String::new()];
        for _ in 0..7 {
            frontier = frontier
                .iter()
                .flat_map(|text| {
                    b"0.1259a".iter().map(move |&b| {
                        let mut next = text.clone();
                        next.push(char::from(b));
                        next
                    })
                })
                .collect();
            addresses += frontier.iter().filter(|text| check(text)).count();
        }
        let octets = [
            "", "0", "00", "01", "000", "1", "9", "10", "99", "100", "199", "200", "249", "250",
            "255", "256", "260", "300", "999", "0255", "1000",
        ];
        for a in octets {
            for b in octets {
                for c in octets {
                    for d in octets {
                        let quad = format!("{a}.{b}.{c}.{d}");
                        addresses += usize::from(check(&quad));
                        check(&format!("{quad}."));
                        check(&format!("{quad}.{d}"));
                        check(&format!("{a}.{b}.{c}{d}"));
                    }
                }
            }
        }
        // xorshift64: random, yet the same strings on every run.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // Mostly four octets of 0 to 299 (most of them addresses), some
        // with a leading zero or none at all, some with 3 or 5 of them.
        for _ in 0..200_000 {
            let parts = [4, 4, 4, 4, 4, 4, 3, 5][next() as usize % 8];
            let mut text = String::new();
            for part in 0..parts {
                if part > 0 {
                    text.push('.');
                }
                match next() % 32 {
                    0 => {}
                    1..=3 => text.push_str(&format!("0{}", next() % 300)),
                    _ => text.push_str(&(next() % 300).to_string()),
                }
            }
            addresses += usize::from(check(&text));
        }
        assert!(addresses > 50_000, "{addresses}");
    }

    /// The one-pass parser of plain `host[:port]` lines gives what the
    /// general parser gives, for every line it takes; and it takes the
    /// common ones.
    #[test]
    fn plain_targets_parse_as_the_general_parser_does() {
        for common in ["example.com", "127.0.0.1:8080", "a-b_c.d.:1", "10.0.0.1"] {
            assert!(parse_plain(common, Scheme::Http).is_some(), "{common}");
        }
        // Every line of up to 5 bytes from an alphabet of the bytes that
        // matter, plus longer ones built around the limits.
        let alphabet = b"a0.:-_Z/@[9 #";
        let mut lines: Vec<String> = vec![String::new()];
        let mut frontier = lines.clone();
        for _ in 0..5 {
            frontier = frontier
                .iter()
                .flat_map(|line| {
                    alphabet.iter().map(move |&b| {
                        let mut next = line.clone();
                        next.push(char::from(b));
                        next
                    })
                })
                .collect();
            lines.extend(frontier.iter().cloned());
        }
        let label = "a".repeat(63);
        let long = format!("{label}.{label}.{label}.{}", "b".repeat(61));
        for extra in [
            format!("{label}.com"),
            format!("{label}a.com"),
            long.clone(),
            format!("{long}b"),
            format!("{long}."),
            "h:65535".into(),
            "h:65536".into(),
            "h:0".into(),
            "h:00080".into(),
            "h:000080".into(),
            "1.2.3.4.".into(),
            "1.2.3.4:99".into(),
            "999.1.1.1".into(),
        ] {
            lines.push(extra);
        }
        let mut taken = 0;
        for line in &lines {
            for scheme in [Scheme::Http, Scheme::Https] {
                if let Some(plain) = parse_plain(line, scheme) {
                    taken += 1;
                    assert_eq!(Ok(plain), parse_general(line, line, scheme), "{line:?}");
                }
            }
        }
        assert!(taken > 10_000, "{taken}");
    }
}
