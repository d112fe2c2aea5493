//! Following a redirect: which statuses redirect, and where `Location`
//! points, resolved against the URL it came from (RFC 9110 §10.2.2 and
//! RFC 3986 §5). No I/O: the fetch engine decides whether to follow, and
//! what it may connect to.
//!
//! `Location` may be a whole URL (`https://example.com/a`), a URL without
//! its scheme (`//example.com/a`), a path from the root (`/a`), a path
//! relative to the current one (`a`, `../a`), or only a query (`?q=1`). The
//! resolution is RFC 3986's §5.2 algorithm with its dot-segment removal,
//! and its examples (§5.4) are this module's tests. A fragment is dropped:
//! it is never sent.
//!
//! Servers do send bytes a URL may not hold (spaces, UTF-8 text): they are
//! percent-encoded, as browsers do. Control characters are refused.

use std::fmt;

/// Whether `status` sends the client elsewhere with a `Location`: 301,
/// 302, 303, 307 and 308. (300 Multiple Choices and 304 Not Modified do
/// not redirect anywhere.)
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Why a `Location` cannot be followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocationError {
    /// The response had no `Location`, or an empty one.
    Missing,
    /// It holds a control character (CR, LF, NUL, ...).
    ControlCharacter,
    /// Its scheme is not `http` or `https`.
    UnsupportedScheme(String),
    /// It resolves to a URL without a host (`http:path`).
    NoHost,
}

impl fmt::Display for LocationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocationError::Missing => f.write_str("the redirect has no Location"),
            LocationError::ControlCharacter => {
                f.write_str("the Location holds a control character")
            }
            LocationError::UnsupportedScheme(scheme) => {
                write!(f, "the Location's scheme '{scheme}' is not http or https")
            }
            LocationError::NoHost => f.write_str("the Location names no host"),
        }
    }
}

impl std::error::Error for LocationError {}

/// Resolves `location` against `base`, an absolute `http://` or `https://`
/// URL, and returns the absolute URL to fetch next, without a fragment.
pub fn resolve(base: &str, location: &[u8]) -> Result<String, LocationError> {
    let location = encode(location.trim_ascii())?;
    if location.is_empty() {
        return Err(LocationError::Missing);
    }
    let reference = Parts::split(&location);
    let base = Parts::split(base);
    // RFC 3986 §5.2.2, "strict": a reference with a scheme is absolute.
    let (scheme, authority, path, query) = if let Some(scheme) = reference.scheme {
        let path = remove_dot_segments(reference.path);
        (scheme, reference.authority, path, reference.query)
    } else if reference.authority.is_some() {
        let path = remove_dot_segments(reference.path);
        (
            base.scheme.unwrap_or("http"),
            reference.authority,
            path,
            reference.query,
        )
    } else if reference.path.is_empty() {
        let query = reference.query.or(base.query);
        (
            base.scheme.unwrap_or("http"),
            base.authority,
            base.path.to_owned(),
            query,
        )
    } else {
        let path = if reference.path.starts_with('/') {
            remove_dot_segments(reference.path)
        } else {
            remove_dot_segments(&merge(&base, reference.path))
        };
        (
            base.scheme.unwrap_or("http"),
            base.authority,
            path,
            reference.query,
        )
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(LocationError::UnsupportedScheme(scheme.to_owned()));
    }
    let authority = authority
        .filter(|a| !a.is_empty())
        .ok_or(LocationError::NoHost)?;
    let mut url = scheme.to_ascii_lowercase();
    url.push_str("://");
    url.push_str(authority);
    url.push_str(if path.is_empty() { "/" } else { &path });
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// `location` as URL text: visible ASCII as is, every other byte but the
/// control characters percent-encoded.
fn encode(location: &[u8]) -> Result<String, LocationError> {
    let mut text = String::with_capacity(location.len());
    for &byte in location {
        match byte {
            b'!'..=b'~' => text.push(char::from(byte)),
            0..=0x1f | 0x7f => return Err(LocationError::ControlCharacter),
            _ => text.push_str(&format!("%{byte:02X}")),
        }
    }
    Ok(text)
}

/// A URL reference cut into RFC 3986's five parts (the fragment dropped).
#[derive(Debug)]
struct Parts<'a> {
    scheme: Option<&'a str>,
    authority: Option<&'a str>,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> Parts<'a> {
    /// RFC 3986 Appendix B's regular expression, by hand.
    fn split(reference: &'a str) -> Parts<'a> {
        let reference = reference.split_once('#').map_or(reference, |(r, _)| r);
        // A scheme is letters, digits, `+-.`, starting with a letter, then `:`.
        let (scheme, rest) = match reference.find(':') {
            Some(colon)
                if reference[..colon].starts_with(|c: char| c.is_ascii_alphabetic())
                    && reference[..colon]
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
            {
                (Some(&reference[..colon]), &reference[colon + 1..])
            }
            _ => (None, reference),
        };
        let (authority, rest) = match rest.strip_prefix("//") {
            Some(rest) => {
                let end = rest.find(['/', '?']).unwrap_or(rest.len());
                (Some(&rest[..end]), &rest[end..])
            }
            None => (None, rest),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        Parts {
            scheme,
            authority,
            path,
            query,
        }
    }
}

/// RFC 3986 §5.2.3: a relative path joined to the base's directory.
fn merge(base: &Parts<'_>, path: &str) -> String {
    if base.authority.is_some() && base.path.is_empty() {
        return format!("/{path}");
    }
    match base.path.rfind('/') {
        Some(slash) => format!("{}{path}", &base.path[..=slash]),
        None => path.to_owned(),
    }
}

/// RFC 3986 §5.2.4: `.` and `..` segments applied, never above the root.
fn remove_dot_segments(path: &str) -> String {
    let mut output: Vec<&str> = Vec::new();
    let mut input = path;
    while !input.is_empty() {
        if let Some(rest) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = rest;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            output.pop();
        } else if input == "/.." {
            input = "/";
            output.pop();
        } else if input == "." || input == ".." {
            input = "";
        } else {
            // Move the first segment (with its leading '/') to the output.
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push(&input[..end]);
            input = &input[end..];
        }
    }
    output.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://a/b/c/d;p?q";

    fn resolved(location: &str) -> String {
        resolve(BASE, location.as_bytes()).unwrap()
    }

    /// RFC 3986 §5.4.1, normal examples (`g:h` is refused here: only
    /// http and https are followed).
    #[test]
    fn the_rfcs_normal_examples() {
        for (reference, target) in [
            ("g", "http://a/b/c/g"),
            ("./g", "http://a/b/c/g"),
            ("g/", "http://a/b/c/g/"),
            ("/g", "http://a/g"),
            ("//g", "http://g/"),
            ("?y", "http://a/b/c/d;p?y"),
            ("g?y", "http://a/b/c/g?y"),
            ("#s", "http://a/b/c/d;p?q"),
            ("g#s", "http://a/b/c/g"),
            ("g?y#s", "http://a/b/c/g?y"),
            (";x", "http://a/b/c/;x"),
            ("g;x", "http://a/b/c/g;x"),
            ("g;x?y#s", "http://a/b/c/g;x?y"),
            ("", "error"),
            (".", "http://a/b/c/"),
            ("./", "http://a/b/c/"),
            ("..", "http://a/b/"),
            ("../", "http://a/b/"),
            ("../g", "http://a/b/g"),
            ("../..", "http://a/"),
            ("../../", "http://a/"),
            ("../../g", "http://a/g"),
        ] {
            match target {
                "error" => assert_eq!(resolve(BASE, b""), Err(LocationError::Missing)),
                target => assert_eq!(resolved(reference), target, "{reference:?}"),
            }
        }
    }

    /// RFC 3986 §5.4.2, abnormal examples.
    #[test]
    fn the_rfcs_abnormal_examples() {
        for (reference, target) in [
            ("../../../g", "http://a/g"),
            ("../../../../g", "http://a/g"),
            ("/./g", "http://a/g"),
            ("/../g", "http://a/g"),
            ("g.", "http://a/b/c/g."),
            (".g", "http://a/b/c/.g"),
            ("g..", "http://a/b/c/g.."),
            ("..g", "http://a/b/c/..g"),
            ("./../g", "http://a/b/g"),
            ("./g/.", "http://a/b/c/g/"),
            ("g/./h", "http://a/b/c/g/h"),
            ("g/../h", "http://a/b/c/h"),
            ("g;x=1/./y", "http://a/b/c/g;x=1/y"),
            ("g;x=1/../y", "http://a/b/c/y"),
            ("g?y/./x", "http://a/b/c/g?y/./x"),
            ("g?y/../x", "http://a/b/c/g?y/../x"),
        ] {
            assert_eq!(resolved(reference), target, "{reference:?}");
        }
        // Strictly "http:g"; with no host, no URL to fetch.
        assert_eq!(resolve(BASE, b"http:g"), Err(LocationError::NoHost));
    }

    #[test]
    fn schemes_and_hosts_change_as_the_location_says() {
        let base = "http://example.com/old/page";
        let to = |l: &str| resolve(base, l.as_bytes());
        assert_eq!(
            to("https://example.com/"),
            Ok("https://example.com/".into())
        );
        assert_eq!(to("HTTPS://Example.com"), Ok("https://Example.com/".into()));
        assert_eq!(to("//other.example/x"), Ok("http://other.example/x".into()));
        assert_eq!(
            to("ftp://example.com/"),
            Err(LocationError::UnsupportedScheme("ftp".into()))
        );
        assert_eq!(to("  /trimmed  "), Ok("http://example.com/trimmed".into()));
        let https = resolve("https://secure.example:8443/a/b", b"c?d");
        assert_eq!(https, Ok("https://secure.example:8443/a/c?d".into()));
    }

    #[test]
    fn bytes_a_url_cannot_hold_are_encoded_and_controls_refused() {
        assert_eq!(
            resolve("http://h/", "/caf\u{e9} au lait".as_bytes()),
            Ok("http://h/caf%C3%A9%20au%20lait".into())
        );
        assert_eq!(
            resolve("http://h/", b"/a\r\nSet-Cookie: x"),
            Err(LocationError::ControlCharacter)
        );
    }

    #[test]
    fn only_the_five_redirect_statuses_redirect() {
        let redirects: Vec<u16> = (100..600).filter(|&s| is_redirect(s)).collect();
        assert_eq!(redirects, [301, 302, 303, 307, 308]);
    }
}
