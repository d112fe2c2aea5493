//! The request we send: the seed's `'GET / HTTP/1.0\r\nHost: %s\r\n\r\n'`.

use std::fmt;

/// The `User-Agent` sent by default: `fetch-headers/<version>`.
pub const USER_AGENT: &str = concat!("fetch-headers/", env!("CARGO_PKG_VERSION"));

/// A request for a response head. Only the head is wanted, so there is no
/// body, and the methods are the two that make sense without one.
///
/// Build it with [`Request::new`] and adjust the public fields; nothing is
/// checked until [`to_bytes`](Self::to_bytes), which refuses anything that
/// could smuggle a second header or request onto the wire.
///
/// ```
/// use fetch_headers::http::{Method, Request, Version};
///
/// let request = Request {
///     version: Version::Http11,
///     ..Request::new(Method::Head, "example.com")
/// };
/// let bytes = request.to_bytes()?;
/// assert!(bytes.starts_with(b"HEAD / HTTP/1.1\r\nHost: example.com\r\n"));
/// assert!(bytes.ends_with(b"Connection: close\r\n\r\n"));
/// # Ok::<(), fetch_headers::http::RequestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET` (what the seed sends) or `HEAD`.
    pub method: Method,
    /// The request target, `/` by default. Visible ASCII only: percent-encode
    /// anything else.
    pub path: String,
    /// The `Host` header value: the name, with `:port` when not the default.
    pub host: String,
    /// The `User-Agent` header value, [`USER_AGENT`] by default; empty to
    /// send none.
    pub user_agent: String,
    /// More header fields, sent in order after the built-in ones, as curl's
    /// `-H` does: the first field named like a built-in one (`Host`,
    /// `User-Agent`, `Connection`, in any case) is sent in the built-in
    /// one's place instead, and a field with an empty value is not sent at
    /// all, so it removes the built-in field of its name.
    pub headers: Vec<(String, String)>,
    /// `HTTP/1.0` by default, as in the seed.
    pub version: Version,
}

/// The request method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`: the server sends a body after the head, which we do not read.
    Get,
    /// `HEAD`: the server sends the head only (if it honours HEAD).
    Head,
}

/// The protocol version to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// `HTTP/1.0`: the server closes the connection after the response.
    #[default]
    Http10,
    /// `HTTP/1.1`, sent with `Connection: close` so that it closes too.
    Http11,
}

/// A request that cannot be written safely: a field holds a byte that would
/// end the line (CR, LF) or is otherwise not allowed there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestError {
    /// The path is empty or holds a byte other than visible ASCII.
    InvalidPath(String),
    /// The host is empty or holds a byte other than visible ASCII.
    InvalidHost(String),
    /// A header name is empty or not an HTTP token (letters, digits and
    /// ``!#$%&'*+-.^_`|~``).
    InvalidHeaderName(String),
    /// A header value holds a control character (CR, LF, NUL, ...).
    InvalidHeaderValue {
        /// The header's name.
        name: String,
        /// The value refused.
        value: String,
    },
}

impl Request {
    /// `GET`/`HEAD` `/` on `host`, HTTP/1.0, with the default user agent.
    pub fn new(method: Method, host: impl Into<String>) -> Self {
        Request {
            method,
            path: "/".to_string(),
            host: host.into(),
            user_agent: USER_AGENT.to_string(),
            headers: Vec::new(),
            version: Version::default(),
        }
    }

    /// The bytes to write to the socket:
    /// `GET <path> HTTP/1.0\r\nHost: <host>\r\nUser-Agent: <ua>\r\n<headers>\r\n`.
    pub fn to_bytes(&self) -> Result<Vec<u8>, RequestError> {
        let template =
            RequestTemplate::new(self.method, &self.user_agent, &self.headers, self.version);
        let mut out = String::new();
        template.write(&mut out, &self.path, |out| out.push_str(&self.host))?;
        Ok(out.into_bytes())
    }
}

/// What every request of a run has in common: the method, the version and
/// the header fields, checked and laid out once, so that each target's
/// request is a few copies into a buffer the caller keeps.
///
/// The fields are those of a [`Request`] with the same `user_agent` and
/// `headers`, in the same order; only the path and the `Host` value are
/// the target's. As with [`Request::to_bytes`], a field that cannot be
/// sent is refused when a request is written, not before, and after the
/// path and the host have been checked.
///
/// ```
/// use fetch_headers::http::{Method, RequestTemplate, Version};
///
/// let template = RequestTemplate::new(Method::Get, "", &[], Version::Http11);
/// let mut out = String::new();
/// template.write(&mut out, "/a", |out| out.push_str("example.com"))?;
/// assert_eq!(out, "GET /a HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
/// # Ok::<(), fetch_headers::http::RequestError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTemplate {
    method: Method,
    version: Version,
    /// Whether `Host: <the target's host>` is the first field, or the
    /// caller's own `Host` field stands in its place (or removed it).
    target_host: bool,
    /// What follows the target's host: the end of its `Host` line, if it
    /// has one, then the other fields (every field, if there is no such
    /// `Host`), each `Name: value\r\n`, and the empty line that ends the
    /// head; or the first field that cannot be sent. One copy a request.
    after_host: Result<String, RequestError>,
}

impl RequestTemplate {
    /// The common part of requests sent with `user_agent` (empty for
    /// none) and the caller's `headers` (see [`Request::headers`]).
    pub fn new(
        method: Method,
        user_agent: &str,
        headers: &[(String, String)],
        version: Version,
    ) -> RequestTemplate {
        // The built-in fields, in order; `None` is the target's host. The
        // caller's first field of the same name stands in its place
        // instead (none, if its value is empty); the caller's other fields
        // follow, in order.
        let mut builtins = vec![("Host", None)];
        if !user_agent.is_empty() {
            builtins.push(("User-Agent", Some(user_agent)));
        }
        if version == Version::Http11 {
            builtins.push(("Connection", Some("close")));
        }
        let mut replaced = Vec::new();
        let mut fields = Vec::with_capacity(builtins.len() + headers.len());
        for (name, value) in builtins {
            let own = headers
                .iter()
                .position(|(n, _)| n.eq_ignore_ascii_case(name));
            match own {
                None => fields.push((name, value)),
                Some(index) => {
                    replaced.push(index);
                    let (name, value) = &headers[index];
                    fields.push((name.as_str(), Some(value.as_str())));
                }
            }
        }
        for (index, (name, value)) in headers.iter().enumerate() {
            if !replaced.contains(&index) {
                fields.push((name.as_str(), Some(value.as_str())));
            }
        }
        // An empty value only removes.
        fields.retain(|(_, value)| *value != Some(""));

        let target_host = fields.first().is_some_and(|(_, value)| value.is_none());
        let given = &fields[usize::from(target_host)..];
        let end_of_host = if target_host { "\r\n" } else { "" };
        let laid_out = given
            .iter()
            .try_fold(end_of_host.to_owned(), |mut out, &(name, value)| {
                let value = value.unwrap_or_default();
                check_field(name, value)?;
                out.push_str(name);
                out.push_str(": ");
                out.push_str(value);
                out.push_str("\r\n");
                Ok(out)
            })
            .map(|mut out| {
                out.push_str("\r\n");
                out
            });
        RequestTemplate {
            method,
            version,
            target_host,
            after_host: laid_out,
        }
    }

    /// Appends the request for `path` to `out`, the `Host` value written
    /// by `host` (into `out`, so the caller needs no `String` for it).
    /// Checks, in this order, the path, the host and the fields; on an
    /// error, what was appended to `out` is left there.
    pub fn write(
        &self,
        out: &mut String,
        path: &str,
        host: impl FnOnce(&mut String),
    ) -> Result<(), RequestError> {
        if !is_visible_ascii(path) {
            return Err(RequestError::InvalidPath(path.to_owned()));
        }
        // The request line and the start of `Host`, in three copies: the
        // method and the version each with the text around them.
        out.push_str(match self.method {
            Method::Get => "GET ",
            Method::Head => "HEAD ",
        });
        out.push_str(path);
        out.push_str(match self.version {
            Version::Http10 => " HTTP/1.0\r\nHost: ",
            Version::Http11 => " HTTP/1.1\r\nHost: ",
        });
        let host_start = out.len();
        host(out);
        if !is_visible_ascii(&out[host_start..]) {
            return Err(RequestError::InvalidHost(out[host_start..].to_owned()));
        }
        if !self.target_host {
            // Checked all the same, as `Request::to_bytes` checks its
            // `host` even when a field of the caller's replaces it.
            out.truncate(host_start - "Host: ".len());
        }
        match &self.after_host {
            Ok(after_host) => {
                out.push_str(after_host);
                Ok(())
            }
            Err(e) => Err(e.clone()),
        }
    }
}

/// Refuses a header field that would break the request's framing.
fn check_field(name: &str, value: &str) -> Result<(), RequestError> {
    if name.is_empty() || !name.bytes().all(is_token_byte) {
        return Err(RequestError::InvalidHeaderName(name.to_string()));
    }
    // RFC 9110 field-value: tab, space, visible ASCII and non-ASCII (which
    // a `&str` always holds as valid UTF-8).
    if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(RequestError::InvalidHeaderValue {
            name: name.to_string(),
            value: value.to_string(),
        });
    }
    Ok(())
}

/// Non-empty, and only bytes `!` through `~`: no space, CR, LF or non-ASCII.
///
/// Every request checks its path and its host, so this looks at eight
/// bytes at a time, as one `u64` ([`word_is_visible`]); a text shorter
/// than that goes byte by byte. The last word may overlap the one before:
/// a byte checked twice is still checked.
fn is_visible_ascii(s: &str) -> bool {
    let bytes = s.as_bytes();
    match bytes.last_chunk::<8>() {
        None => !bytes.is_empty() && bytes.iter().all(u8::is_ascii_graphic),
        Some(&last) => {
            let (words, _) = bytes.as_chunks::<8>();
            words.iter().all(|&word| word_is_visible(word)) && word_is_visible(last)
        }
    }
}

/// Whether all eight bytes of `word` are `!` (0x21) through `~` (0x7e),
/// with a few operations on the word instead of eight tests.
///
/// Each byte's top bit (0x80) is the flag of that byte. Subtracting 0x21
/// from every byte at once sets the flag of a byte below 0x21 (it wraps
/// around, past 0x80); `& !x` keeps it only for bytes whose own flag was
/// clear. Adding 1 to every byte sets the flag of 0x7f, and `| x` adds
/// every byte of 0x80 or more. A borrow or a carry into the next byte
/// starts only at a byte that is rightly flagged, so a wrong flag can
/// only appear when the answer is "no" already: the answer is exact, as
/// `visible_words_are_checked_as_bytes_are` checks against the
/// byte-by-byte test.
fn word_is_visible(word: [u8; 8]) -> bool {
    const EACH: u64 = u64::from_ne_bytes([1; 8]);
    const FLAGS: u64 = EACH * 0x80;
    let x = u64::from_le_bytes(word);
    let below = x.wrapping_sub(EACH * 0x21) & !x;
    let above = x.wrapping_add(EACH) | x;
    (below | above) & FLAGS == 0
}

/// An RFC 9110 `tchar`, the bytes a header name may hold.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Method {
    /// `GET` or `HEAD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
        }
    }
}

impl Version {
    /// `HTTP/1.0` or `HTTP/1.1`.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::InvalidPath(path) => write!(
                f,
                "invalid request path {path:?}: use visible ASCII only (percent-encode the rest)"
            ),
            RequestError::InvalidHost(host) => write!(
                f,
                "invalid host {host:?}: use visible ASCII only (punycode for international names)"
            ),
            RequestError::InvalidHeaderName(name) => {
                write!(f, "invalid header name {name:?}: use letters, digits and -")
            }
            RequestError::InvalidHeaderValue { name, value } => write!(
                f,
                "invalid value {value:?} for header {name}: control characters are not allowed"
            ),
        }
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time check gives the byte-by-byte answer, for every
    /// byte value at every place of texts of 0 to 24 bytes, and for
    /// random texts.
    #[test]
    fn visible_words_are_checked_as_bytes_are() {
        let by_bytes = |b: &[u8]| !b.is_empty() && b.iter().all(u8::is_ascii_graphic);
        let check = |bytes: &[u8]| {
            // Only valid UTF-8 is a `&str`; the word test itself takes any
            // bytes, so the non-ASCII values are tried through it alone.
            let want = by_bytes(bytes);
            if let Ok(text) = std::str::from_utf8(bytes) {
                assert_eq!(is_visible_ascii(text), want, "{bytes:?}");
            }
            for word in bytes.windows(8) {
                let word: [u8; 8] = word.try_into().unwrap();
                assert_eq!(word_is_visible(word), by_bytes(&word), "{word:?}");
            }
            want
        };
        let mut visible = 0;
        for len in 0..=24 {
            for background in [b'!', b'a', b'~'] {
                for at in 0..len {
                    for byte in 0..=255 {
                        let mut text = vec![background; len];
                        text[at] = byte;
                        visible += usize::from(check(&text));
                    }
                }
            }
        }
        // xorshift64: random, yet the same texts on every run; mostly
        // visible bytes, so that the answer is not always "no".
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..100_000 {
            let len = (next() % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| match next() % 64 {
                    0 => (next() % 256) as u8,
                    _ => b'!' + (next() % 94) as u8,
                })
                .collect();
            visible += usize::from(check(&text));
        }
        assert!(visible > 20_000, "{visible}");
    }
}
