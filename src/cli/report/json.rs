//! JSON: one small writer for every JSON this command prints (outcomes,
//! `--stats`, the `--timeline` trace), and the JSON Lines form of an
//! outcome.
//!
//! Why not serde_json: the outcome is written once, field by field, from
//! borrowed data; a writer that appends to the output buffer needs no
//! intermediate value tree and no derive, and keeps the output's field
//! order and escaping under our eyes (the tests read it back with
//! serde_json).
//!
//! An outcome is written on the loop thread for every target, so its path
//! is kept cheap: its keys, which never change, are written with the
//! punctuation around them as literals; strings are copied in runs of
//! bytes that need no escape (found eight bytes at a time by
//! [`printable_run`]); integers, IPv4 addresses and durations are written
//! by hand, two digits per division; and header fields are taken straight
//! from the head's lines. Writing a plain-HTTP answer allocates nothing
//! but the `url` (`Outcome::url` builds it), and formats nothing with
//! `core::fmt`, unless a header is not UTF-8, the address is IPv6, or a
//! duration lies exactly halfway between two microseconds (or lasts
//! twelve days); errors and TLS facts are formatted by their `Display`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

use fetch_headers::fetch::Outcome;
use fetch_headers::http::{escape_line, printable_run, ResponseHead};
use fetch_headers::tls::{CertInfo, TlsInfo, Verdict};

use super::ms;

/// Appends JSON text to a byte buffer, placing the commas.
///
/// A comma is due before a key or an array element unless it is the first
/// in its object or array; `comma` tracks exactly that, so no stack of
/// containers is needed: opening a container clears it, writing a value or
/// closing a container sets it, and a key clears it for its value.
pub(crate) struct JsonWriter<'a> {
    out: &'a mut Vec<u8>,
    comma: bool,
}

impl<'a> JsonWriter<'a> {
    /// A writer appending to `out`.
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        JsonWriter { out, comma: false }
    }

    fn separate(&mut self) {
        if self.comma {
            self.out.push(b',');
        }
        self.comma = true;
    }

    /// `{`, as a value.
    pub(crate) fn begin_object(&mut self) -> &mut Self {
        self.open(b'{')
    }

    /// `}`.
    pub(crate) fn end_object(&mut self) -> &mut Self {
        self.close(b'}')
    }

    /// `[`, as a value.
    pub(crate) fn begin_array(&mut self) -> &mut Self {
        self.open(b'[')
    }

    /// `]`.
    pub(crate) fn end_array(&mut self) -> &mut Self {
        self.close(b']')
    }

    fn open(&mut self, bracket: u8) -> &mut Self {
        self.separate();
        self.out.push(bracket);
        self.comma = false;
        self
    }

    fn close(&mut self, bracket: u8) -> &mut Self {
        self.out.push(bracket);
        self.comma = true;
        self
    }

    /// `"name":`, for the value that follows. Keys are this program's own
    /// words (`target`, `dns_ms`, `bad-target`), none of which needs an
    /// escape, so `name` is copied as it is.
    pub(crate) fn key(&mut self, name: &str) -> &mut Self {
        debug_assert!(
            name.bytes()
                .all(|b| b >= b' ' && b != b'"' && b != b'\\' && b != 0x7f),
            "a key that needs escaping: {name:?}"
        );
        self.separate();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.comma = false;
        self
    }

    /// A string value.
    pub(crate) fn string(&mut self, text: &str) -> &mut Self {
        self.separate();
        string_literal(self.out, text);
        self
    }

    /// A string value, or `null`.
    pub(crate) fn opt_string(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(text) => self.string(text),
            None => self.null(),
        }
    }

    /// Bytes from a peer as a string: valid UTF-8 as is, anything else
    /// with the undecodable bytes as `\xNN` (see [`escape_line`]).
    pub(crate) fn bytes(&mut self, value: &[u8]) -> &mut Self {
        // Most header names and values are printable ASCII with no `"` or
        // `\`: those are written between the quotes as they are.
        if printable_run(value, b'"') == value.len() {
            return self.plain(value);
        }
        self.joined(std::iter::once(value))
    }

    /// Bytes that need no escape (printable ASCII with no `"` or `\`, as
    /// the caller has checked) as a string.
    fn plain(&mut self, bytes: &[u8]) -> &mut Self {
        self.separate();
        plain_literal(self.out, bytes);
        self
    }

    /// `null`.
    pub(crate) fn null(&mut self) -> &mut Self {
        self.raw("null")
    }

    /// An integer.
    pub(crate) fn u64(&mut self, n: u64) -> &mut Self {
        self.separate();
        write_u64(self.out, n);
        self
    }

    /// A number with `decimals` digits after the point.
    pub(crate) fn fixed(&mut self, value: f64, decimals: usize) -> &mut Self {
        self.separate();
        let _ = write!(self.out, "{value:.decimals$}");
        self
    }

    /// A duration in milliseconds, to the microsecond; `null` for none.
    pub(crate) fn millis(&mut self, value: Option<Duration>) -> &mut Self {
        match value {
            Some(d) => {
                self.separate();
                write_millis(self.out, d);
                self
            }
            None => self.null(),
        }
    }

    /// A value already in JSON form.
    pub(crate) fn raw(&mut self, json: &str) -> &mut Self {
        self.separate();
        self.out.extend_from_slice(json.as_bytes());
        self
    }

    /// Bytes from a peer, `parts` joined by single spaces, as one string:
    /// what [`bytes`](Self::bytes) makes of the joined bytes, written with
    /// no buffer of its own (but when they are not UTF-8).
    fn joined<'b>(&mut self, parts: impl Iterator<Item = &'b [u8]> + Clone) -> &mut Self {
        self.separate();
        let start = self.out.len();
        self.out.push(b'"');
        // A space cannot complete a UTF-8 sequence, so the joined bytes are
        // UTF-8 exactly when each part is: they are written part by part.
        let mut utf8 = true;
        for (i, part) in parts.clone().enumerate() {
            if i > 0 {
                self.out.push(b' ');
            }
            if !escape_json_bytes(self.out, part) {
                utf8 = false;
                break;
            }
        }
        if utf8 {
            self.out.push(b'"');
            return self;
        }
        // Not UTF-8 (rare): written again, joined and escaped first.
        self.out.truncate(start);
        let mut joined = Vec::new();
        for (i, part) in parts.enumerate() {
            if i > 0 {
                joined.push(b' ');
            }
            joined.extend_from_slice(part);
        }
        string_literal(self.out, &escape_line(&joined));
        self
    }
}

/// Appends `text` as a JSON string literal.
fn string_literal(out: &mut Vec<u8>, text: &str) {
    if printable_run(text.as_bytes(), b'"') == text.len() {
        return plain_literal(out, text.as_bytes());
    }
    out.push(b'"');
    escape_json(out, text);
    out.push(b'"');
}

/// Appends `bytes`, which need no escape, between quotes.
fn plain_literal(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(bytes);
    out.push(b'"');
}

/// Appends `text` escaped for the inside of a JSON string. Runs of bytes
/// that need no escape (all but `"`, `\`, the ASCII controls and DEL;
/// every byte of a non-ASCII character among them) are copied whole.
fn escape_json(out: &mut Vec<u8>, text: &str) {
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        let rest = &bytes[escape_json_ascii(out, bytes)..];
        // Non-ASCII characters of valid text never need an escape.
        let other = rest.iter().position(u8::is_ascii).unwrap_or(rest.len());
        out.extend_from_slice(&rest[..other]);
        bytes = &rest[other..];
    }
}

/// Appends a peer's `bytes` escaped for the inside of a JSON string, and
/// says whether they are UTF-8 (when they are not, some of them have been
/// appended all the same). As in `escape_line_into`, ASCII needs no UTF-8
/// check; only from the first non-ASCII byte on is the rest checked.
fn escape_json_bytes(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let ascii = escape_json_ascii(out, bytes);
    match std::str::from_utf8(&bytes[ascii..]) {
        Ok(rest) => {
            escape_json(out, rest);
            true
        }
        Err(_) => false,
    }
}

/// Appends `bytes` escaped for the inside of a JSON string up to their
/// first non-ASCII byte, and returns how many it took.
fn escape_json_ascii(out: &mut Vec<u8>, bytes: &[u8]) -> usize {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut at = 0;
    loop {
        // Where a scan of ASCII text for JSON stops: at the bytes JSON
        // escapes (`"`, `\`, the controls, DEL) and at any byte of a
        // non-ASCII character.
        let run = at + printable_run(&bytes[at..], b'"');
        out.extend_from_slice(&bytes[at..run]);
        let byte = match bytes.get(run) {
            Some(&byte) if byte.is_ascii() => byte,
            _ => return run,
        };
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            // `\u00XX`: the other controls and DEL.
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(byte >> 4)]);
                out.push(HEX[usize::from(byte & 0xf)]);
            }
        }
        at = run + 1;
    }
}

/// Appends `addr` as a string literal: `"127.0.0.1:80"`, `"[::1]:80"`.
fn socket_addr_literal(out: &mut Vec<u8>, addr: SocketAddr) {
    out.push(b'"');
    match addr {
        SocketAddr::V4(v4) => {
            let [a, b, c, d] = v4.ip().octets();
            write_short(out, u16::from(a));
            out.push(b'.');
            write_short(out, u16::from(b));
            out.push(b'.');
            write_short(out, u16::from(c));
            out.push(b'.');
            write_short(out, u16::from(d));
            out.push(b':');
            write_u64(out, u64::from(v4.port()));
        }
        // IPv6 text has its own rules (the longest run of zeros
        // shortened, a scope); std knows them. None of its characters
        // needs a JSON escape.
        SocketAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
    out.push(b'"');
}

/// The numbers `00` to `99` in decimal, two digits each: with them a
/// number costs one division by 100 per two digits, instead of one
/// division by 10 per digit.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut pairs = [[0; 2]; 100];
    let mut n = 0;
    while n < 100 {
        pairs[n] = [b'0' + (n / 10) as u8, b'0' + (n % 10) as u8];
        n += 1;
    }
    pairs
};

/// The two decimal digits of `n`, which is below 100.
fn digit_pair(n: u16) -> [u8; 2] {
    DIGIT_PAIRS[usize::from(n % 100)]
}

/// Appends `n` in decimal.
fn write_u64(out: &mut Vec<u8>, n: u64) {
    match u16::try_from(n) {
        Ok(short) if short < 1000 => write_short(out, short),
        _ => write_long_u64(out, n),
    }
}

/// Appends `n`, which is below 1000, in decimal. Most numbers an outcome
/// holds are this short: a status, an address's octets, the whole
/// milliseconds of a phase. They are written straight to `out`, each copy
/// of a known length, and the function is small enough to be inlined at
/// each octet of an address.
#[inline]
fn write_short(out: &mut Vec<u8>, n: u16) {
    match n {
        0..10 => out.push(b'0' + n as u8),
        10..100 => out.extend_from_slice(&digit_pair(n)),
        _ => {
            out.push(b'0' + (n / 100) as u8);
            out.extend_from_slice(&digit_pair(n % 100));
        }
    }
}

/// Appends `n`, which has four digits or more, in decimal: made two
/// digits at a time, last first, in a buffer copied to `out` in one piece.
fn write_long_u64(out: &mut Vec<u8>, mut n: u64) {
    // u64::MAX has 20 digits.
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    while n >= 100 {
        start -= 2;
        digits[start..start + 2].copy_from_slice(&digit_pair((n % 100) as u16));
        n /= 100;
    }
    if n >= 10 {
        start -= 2;
        digits[start..start + 2].copy_from_slice(&digit_pair(n as u16));
    } else {
        start -= 1;
        digits[start] = b'0' + n as u8;
    }
    out.extend_from_slice(&digits[start..]);
}

/// Durations below this (about 12 days) are written by [`write_millis`]
/// with integers; the float's error stays far below a nanosecond there.
const EXACT_MILLIS_BELOW: Duration = Duration::from_secs(1 << 20);

/// Appends `d` in milliseconds with three decimals, the same text as
/// `format!("{:.3}", ms(d))`, with integer arithmetic.
///
/// That format rounds the float `d.as_secs_f64() * 1e3` to whole
/// microseconds. The float differs from the exact `nanos / 10^6` by a few
/// parts in 10^16; a nanosecond count that is not exactly halfway between
/// two microseconds (500 ns past one) is at least 1 ns from the halfway
/// point, which for a duration under [`EXACT_MILLIS_BELOW`] is far more
/// than that error, so rounding the exact count to the nearest microsecond
/// gives the same digits. The exact halfway counts (where the float's own
/// rounding decides) and longer durations are left to the float format.
fn write_millis(out: &mut Vec<u8>, d: Duration) {
    let below_micro = d.subsec_nanos() % 1000;
    if below_micro == 500 || d >= EXACT_MILLIS_BELOW {
        let _ = write!(out, "{:.3}", ms(d));
        return;
    }
    // Below 2^20 s, the count of microseconds fits a u64 with room.
    let micros =
        d.as_secs() * 1_000_000 + u64::from(d.subsec_micros()) + u64::from(below_micro > 500);
    write_u64(out, micros / 1000);
    let frac = micros % 1000;
    let [tens, ones] = digit_pair((frac % 100) as u16);
    out.extend_from_slice(&[b'.', b'0' + (frac / 100) as u8, tens, ones]);
}

/// Appends the JSON Lines form of `outcome`: one object, one line.
///
/// Every object has the same keys, in this order, with `null` for what the
/// outcome does not have: `target`, `url`, `final_url` (where redirects
/// led; the `url` without them), `address` (of the last hop); the final
/// head's `status`, `version`, `reason` and `headers` (ordered
/// `[name, value]` pairs, case and duplicates kept); `interim`, the earlier
/// `1xx` heads (`[]` for none; `null` for a failure); `redirects`, one
/// `{url, address, status, location, tls}` per redirect followed (`[]` for
/// none); `tls`, the last hop's TLS session (see [`tls_object`]; `null`
/// over plain HTTP or before a handshake began); `error: {kind, message}`
/// (`null` for a success); and `timings` in milliseconds, each phase on its
/// own, the last hop's, with `redirect_ms` the time before it (see
/// `Timings`). `headers` holds every header line as sent (see
/// `fields_as_sent`). Header bytes that are not UTF-8 are given escaped as
/// `\xNN` (see [`escape_line`]); valid UTF-8 is given as is, JSON-escaped.
///
/// The keys and their order never change, so no comma is decided at run
/// time but between array elements: each key is written with the
/// punctuation around it as one literal (`,"url":`), and only the values
/// are computed.
pub(crate) fn outcome(out: &mut Vec<u8>, outcome: &Outcome) {
    out.extend_from_slice(b"{\"target\":");
    string_literal(out, &outcome.input);
    out.extend_from_slice(b",\"url\":");
    let url_at = out.len();
    opt_string_literal(out, outcome.url().as_deref());
    let url_json = url_at..out.len();
    // The last hop's URL: where the last redirect pointed, or, with none,
    // `url`, whose JSON is copied rather than escaped again.
    out.extend_from_slice(b",\"final_url\":");
    match outcome.redirects.last() {
        Some(redirect) => string_literal(out, &redirect.location),
        None => out.extend_from_within(url_json),
    }
    out.extend_from_slice(b",\"address\":");
    opt_socket_addr(out, outcome.addr);
    out.push(b',');
    let heads = outcome.result.as_ref().ok();
    match outcome.head() {
        Some(head) => head_fields(out, head),
        None => out.extend_from_slice(
            b"\"status\":null,\"version\":null,\"reason\":null,\"headers\":null",
        ),
    }
    out.extend_from_slice(b",\"interim\":");
    match heads {
        Some(heads) => {
            out.push(b'[');
            for (i, head) in heads.interim().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                head_fields(out, head);
                out.push(b'}');
            }
            out.push(b']');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"redirects\":[");
    for (i, hop) in outcome.redirects.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"url\":");
        string_literal(out, &hop.url);
        out.extend_from_slice(b",\"address\":");
        opt_socket_addr(out, hop.addr);
        out.extend_from_slice(b",\"status\":");
        write_u64(out, u64::from(hop.status()));
        out.extend_from_slice(b",\"location\":");
        string_literal(out, &hop.location);
        out.extend_from_slice(b",\"tls\":");
        tls_object(&mut JsonWriter::new(out), hop.tls.as_deref());
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"tls\":");
    tls_object(&mut JsonWriter::new(out), outcome.tls.as_deref());
    out.extend_from_slice(b",\"error\":");
    match &outcome.result {
        Ok(_) => out.extend_from_slice(b"null"),
        Err(e) => {
            out.extend_from_slice(b"{\"kind\":");
            string_literal(out, e.kind().as_str());
            out.extend_from_slice(b",\"message\":");
            string_literal(out, &e.to_string());
            out.push(b'}');
        }
    }
    let t = &outcome.timings;
    out.extend_from_slice(b",\"timings\":{\"dns_ms\":");
    opt_millis(out, t.dns);
    out.extend_from_slice(b",\"connect_ms\":");
    opt_millis(out, t.connect);
    out.extend_from_slice(b",\"tls_ms\":");
    opt_millis(out, t.tls);
    out.extend_from_slice(b",\"first_byte_ms\":");
    opt_millis(out, t.first_byte);
    out.extend_from_slice(b",\"redirect_ms\":");
    opt_millis(out, t.redirected);
    out.extend_from_slice(b",\"total_ms\":");
    write_millis(out, t.total);
    out.extend_from_slice(b"}}\n");
}

/// Appends `text` as a string literal, or `null`.
fn opt_string_literal(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        Some(text) => string_literal(out, text),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `addr` as a string literal, or `null`.
fn opt_socket_addr(out: &mut Vec<u8>, addr: Option<SocketAddr>) {
    match addr {
        Some(addr) => socket_addr_literal(out, addr),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends `d` as [`write_millis`] writes it, or `null`.
fn opt_millis(out: &mut Vec<u8>, d: Option<Duration>) {
    match d {
        Some(d) => write_millis(out, d),
        None => out.extend_from_slice(b"null"),
    }
}

/// A TLS session as JSON, or `null`:
///
/// `{version, cipher_suite, alpn, sni, handshake_ms, verdict, verdict_message,
/// checked_at, chain}`: the version (`TLSv1.3`), rustls's name of the
/// suite, the protocol chosen by ALPN and the name sent as SNI (`null`
/// when none), how long the handshake took, the verdict on the certificate
/// (`ok`, `unchecked`, or the error kind, also under `-k`) with its message
/// (`null` unless it failed), when it was checked (RFC 3339), and the chain
/// as the server sent it, its own certificate first. Each certificate is
/// `{subject, issuer, dns_names, ip_addresses, not_before, not_after,
/// days_left, serial, sha256, key_type, key_bits, signature_algorithm,
/// is_ca, der_bytes}`, or `{sha256, der_bytes, error}` when it cannot be
/// parsed.
fn tls_object(json: &mut JsonWriter<'_>, tls: Option<&TlsInfo>) {
    let Some(tls) = tls else {
        json.null();
        return;
    };
    json.begin_object();
    json.key("version")
        .opt_string(tls.version.map(|version| version.as_str()));
    json.key("cipher_suite").opt_string(tls.cipher_suite);
    json.key("alpn").opt_string(tls.alpn.as_deref());
    json.key("sni").opt_string(tls.sni.as_deref());
    json.key("handshake_ms").millis(tls.handshake_time);
    json.key("verdict").string(tls.verdict.kind());
    json.key("verdict_message");
    match &tls.verdict {
        Verdict::Failed(e) => json.string(&e.to_string()),
        Verdict::Trusted | Verdict::Unchecked => json.null(),
    };
    json.key("checked_at")
        .opt_string(tls.checked_at.map(|at| at.to_string()).as_deref());
    json.key("chain").begin_array();
    for cert in &tls.chain {
        certificate(json, cert);
    }
    json.end_array();
    json.end_object();
}

fn certificate(json: &mut JsonWriter<'_>, cert: &CertInfo) {
    json.begin_object();
    match &cert.facts {
        Ok(facts) => {
            json.key("subject").string(&facts.subject);
            json.key("issuer").string(&facts.issuer);
            json.key("dns_names").begin_array();
            for name in &facts.dns_names {
                json.string(name);
            }
            json.end_array();
            json.key("ip_addresses").begin_array();
            for ip in &facts.ip_addresses {
                json.string(&ip.to_string());
            }
            json.end_array();
            json.key("not_before").string(&facts.not_before.to_string());
            json.key("not_after").string(&facts.not_after.to_string());
            json.key("days_left");
            match facts.days_left {
                Some(days) => json.raw(&days.to_string()),
                None => json.null(),
            };
            json.key("serial").string(&facts.serial);
            json.key("sha256").string(&cert.sha256);
            json.key("key_type").string(facts.key.kind());
            json.key("key_bits");
            match facts.key.bits() {
                Some(bits) => json.u64(u64::from(bits)),
                None => json.null(),
            };
            json.key("signature_algorithm")
                .string(&facts.signature_algorithm);
            json.key("is_ca")
                .raw(if facts.is_ca { "true" } else { "false" });
        }
        Err(e) => {
            json.key("sha256").string(&cert.sha256);
            json.key("error").string(&e.to_string());
        }
    }
    json.key("der_bytes").u64(cert.der_len as u64);
    json.end_object();
}

/// Appends a head's members, `"status":…,"version":…,"reason":…,"headers":[…]`,
/// without the braces around them: the final head's are the outcome's
/// own, and each interim head has an object of its own.
fn head_fields(out: &mut Vec<u8>, head: &ResponseHead) {
    out.extend_from_slice(b"\"status\":");
    write_u64(out, u64::from(head.status));
    // httparse accepts only HTTP/1.0 and HTTP/1.1.
    out.extend_from_slice(if head.version == 0 {
        b",\"version\":\"HTTP/1.0\",\"reason\":"
    } else {
        b",\"version\":\"HTTP/1.1\",\"reason\":"
    });
    JsonWriter::new(out).bytes(head.reason());
    out.extend_from_slice(b",\"headers\":[");
    fields_as_sent(out, head);
    out.push(b']');
}

/// Appends the header fields exactly as sent, from the head's raw lines,
/// each as `[name, value]`, separated by commas (the elements of an array,
/// without its brackets): each line after the status line split at its
/// first `:` (the value without the blanks around it), a folded line
/// (starting with a blank) joined to the field before it with a space, a
/// line with no `:` given as a name with an empty value.
///
/// `ResponseHead::headers` is `httparse`'s view, which skips lines it
/// rejects (a control byte in a value, say); JSON readers get every line, and
/// JSON escaping keeps control bytes harmless.
fn fields_as_sent(out: &mut Vec<u8>, head: &ResponseHead) {
    // Most heads are plain lines `Name: value` and nothing else: those are
    // written by the fast loop, which finds each line's end, its colon and
    // whether it needs escapes in one scan, and copies the name and the
    // value between fixed runs of punctuation. At the first line that
    // needs a closer look, the lines from there on go the careful way.
    let raw = head.raw();
    let mut rest =
        memchr::memchr(b'\n', raw).map_or(&raw[raw.len()..], |newline| &raw[newline + 1..]);
    let mut plain_lines = 0;
    while let Some((name, value, after)) = plain_field(rest) {
        if plain_lines > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"[\"");
        out.extend_from_slice(name);
        out.extend_from_slice(b"\",\"");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\"]");
        rest = after;
        plain_lines += 1;
    }
    if matches!(rest, [] | [b'\n', ..] | [b'\r', b'\n', ..]) {
        return; // the empty line that ends the head: all lines were plain
    }
    // The careful way writes through a `JsonWriter`, told whether a field
    // came before, so that it places the commas from here on.
    let mut json = JsonWriter {
        out,
        comma: plain_lines > 0,
    };
    let is_folded = |line: &&[u8]| matches!(line.first(), Some(b' ' | b'\t'));
    let mut lines = head.lines().skip(1 + plain_lines).peekable();
    while let Some(line) = lines.next() {
        let (name, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => (&line[..colon], line[colon + 1..].trim_ascii()),
            None => (line, &b""[..]),
        };
        json.begin_array().bytes(name);
        // Peeking keeps the next line for the next turn of the loop, so
        // each line is found once.
        if lines.peek().is_some_and(is_folded) {
            // Lines folded onto this one (rare): looked at without taking
            // them, then skipped.
            let folds = lines.clone().take_while(is_folded).map(<[u8]>::trim_ascii);
            json.joined(std::iter::once(value).chain(folds));
            while lines.next_if(is_folded).is_some() {}
        } else {
            json.bytes(value);
        }
        json.end_array();
    }
}

/// The first line of `rest` as a field, if it is a plain one: printable
/// ASCII with no `"` or `\` (nothing to escape), ending in `\r\n` or `\n`,
/// and not followed by a folded line. Returns its name and value, as the
/// careful way in [`fields_as_sent`] would cut them, and what follows it.
/// `None` for anything else, the empty line that ends the head included.
fn plain_field(rest: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let content = &rest[..printable_run(rest, b'"')];
    let after = match &rest[content.len()..] {
        [b'\r', b'\n', after @ ..] | [b'\n', after @ ..] => after,
        _ => return None,
    };
    if content.is_empty() || matches!(after.first(), Some(b' ' | b'\t')) {
        return None;
    }
    Some(match memchr::memchr(b':', content) {
        Some(colon) => (&content[..colon], content[colon + 1..].trim_ascii(), after),
        None => (content, &b""[..], after),
    })
}

#[cfg(test)]
mod tests {
    //! The writer's fast paths against the simple code they replaced (kept
    //! here as the oracles), so the JSON stays the same byte for byte.

    use std::fmt::Write as _;
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use fetch_headers::fetch::{
        parse_target, Expired, FetchError, Heads, Outcome, Redirect, StopReason, TargetError,
        Timings,
    };
    use fetch_headers::http::{escape_line, Feed, HeadParser, ResponseHead};
    use fetch_headers::tls::{TlsInfo, TlsVersion, Verdict};

    use super::{
        escape_json, fields_as_sent, outcome as outcome_json, socket_addr_literal, tls_object,
        write_millis, write_u64, JsonWriter,
    };
    use crate::cli::report::ms;

    /// The string escaper before runs were copied whole.
    fn old_string_literal(text: &str) -> String {
        let mut out = String::from('"');
        for c in text.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    /// The fields of a head as they were gathered before, into `Vec`s.
    fn old_fields(head: &ResponseHead) -> Vec<(&[u8], Vec<u8>)> {
        let mut fields: Vec<(&[u8], Vec<u8>)> = Vec::new();
        for line in head.lines().skip(1) {
            if let (Some(b' ' | b'\t'), Some((_, value))) = (line.first(), fields.last_mut()) {
                value.push(b' ');
                value.extend_from_slice(line.trim_ascii());
                continue;
            }
            match line.iter().position(|&b| b == b':') {
                Some(colon) => {
                    fields.push((&line[..colon], line[colon + 1..].trim_ascii().to_vec()))
                }
                None => fields.push((line, Vec::new())),
            }
        }
        fields
    }

    /// How a peer's bytes were written before: UTF-8 as is, else escaped.
    fn old_bytes(value: &[u8]) -> String {
        match std::str::from_utf8(value) {
            Ok(text) => old_string_literal(text),
            Err(_) => old_string_literal(&escape_line(value)),
        }
    }

    fn written(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).expect("the writer writes UTF-8")
    }

    #[test]
    fn strings_are_escaped_as_before() {
        // Every character up to U+0100 alone and between letters, and
        // characters of every UTF-8 length.
        let mut texts: Vec<String> = (0..=0x100u32)
            .filter_map(char::from_u32)
            .flat_map(|c| [c.to_string(), format!("a{c}b{c}{c}")])
            .collect();
        texts.extend(
            ["", "plain", "\"q\\u\"", "café 正常 😀", "\u{9b}\u{7f}\u{0}"].map(String::from),
        );
        for text in &texts {
            let new = written(|out| {
                out.push(b'"');
                escape_json(out, text);
                out.push(b'"');
            });
            assert_eq!(new, old_string_literal(text), "{text:?}");
        }
    }

    #[test]
    fn peer_bytes_are_written_as_before() {
        let values: &[&[u8]] = &[
            b"",
            b"nginx",
            b"a\"b\\c\x01\x7f",
            "café 正常 😀 \u{9b}".as_bytes(),
            b"caf\xe9",
            b"\xff\xfe",
            b"ok \xe6\xad",
            b"\\ \x1b[2J \xc2",
        ];
        for value in values {
            let new = written(|out| {
                JsonWriter::new(out).bytes(value);
            });
            assert_eq!(new, old_bytes(value), "{value:?}");
        }
        // In an array, the rewrite of a value that is not UTF-8 keeps the
        // comma before it.
        let new = written(|out| {
            let mut json = JsonWriter::new(out);
            json.begin_array().bytes(b"a").bytes(b"\xff").end_array();
        });
        assert_eq!(new, r#"["a","\\xff"]"#);
    }

    #[test]
    fn integers_are_written_in_decimal() {
        // Every number up to six digits (each length of the short path and
        // of the pairs, both parities of digit count), and both sides of
        // every power of ten up to u64::MAX.
        let edges = (1..20).flat_map(|k| {
            let power = 10u64.pow(k);
            [power - 1, power, power + 1]
        });
        for n in (0..1_000_000).chain(edges).chain([u64::MAX - 1, u64::MAX]) {
            assert_eq!(written(|out| write_u64(out, n)), n.to_string());
        }
    }

    #[test]
    fn durations_are_written_as_the_float_format_wrote_them() {
        let check = |d: Duration| {
            let want = format!("{:.3}", ms(d));
            assert_eq!(written(|out| write_millis(out, d)), want, "{d:?}");
        };
        for nanos in [
            0,
            1,
            499,
            500,
            501,
            999,
            1_000,
            999_499,
            999_500,
            999_501,
            999_999_499,
            999_999_500,
            999_999_501,
            1_234_567_890,
        ] {
            check(Duration::from_nanos(nanos));
        }
        // Around every boundary the integer path has: the rounding of each
        // microsecond, the limit of the exact range, and far beyond it.
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..200_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let secs = match i % 4 {
                0 => 0,
                1 => state % 60,
                2 => state % (1 << 20),
                _ => state % (1 << 40),
            };
            let near = [0, 1, 499, 500, 501, 999][(state >> 40) as usize % 6];
            let nanos = (state >> 20) % 1_000_000 * 1000 + near;
            check(Duration::new(secs, nanos as u32));
            check(Duration::new(secs, (state % 1_000_000_000) as u32));
        }
        check(Duration::from_secs(1 << 20) - Duration::from_nanos(1));
        check(Duration::from_secs(1 << 20));
        check(Duration::MAX);
    }

    #[test]
    fn addresses_are_written_as_std_shows_them() {
        for addr in [
            "127.0.0.1:80",
            "0.0.0.0:0",
            "255.255.255.255:65535",
            "10.20.3.4:8080",
            "[::1]:443",
            "[fe80::1%3]:8080",
            "[2001:db8::ff00:42:8329]:1",
        ] {
            let addr: SocketAddr = addr.parse().expect("an address");
            let new = written(|out| socket_addr_literal(out, addr));
            assert_eq!(new, format!("\"{addr}\""));
        }
    }

    fn head(bytes: &[u8]) -> ResponseHead {
        match HeadParser::new().feed(bytes) {
            Ok(Feed::Complete { head, .. }) => head,
            other => panic!(
                "not a head: {other:?}: {:?}",
                String::from_utf8_lossy(bytes)
            ),
        }
    }

    #[test]
    fn header_fields_are_written_as_before() {
        let heads: &[&[u8]] = &[
            b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\r\n",
            // Folded values, a line with no colon, blanks around values,
            // an empty value.
            b"HTTP/1.1 200 OK\r\nX: a\r\n  b \r\n\tc\r\nnocolon\r\nY:  \r\nZ:v\r\n\r\n",
            // A folded line right after the status line is a field itself.
            b"HTTP/1.1 200 OK\r\n odd: x\r\n more\r\nA: 1\r\n\r\n",
            // Bytes that are not UTF-8: in a value, in a fold, in a name,
            // and a sequence cut by the fold.
            b"HTTP/1.1 200 OK\r\nX-Latin: caf\xe9 \xff\r\nY: ok\r\n \xfe\r\nN\xe9: v\r\nC: \xe6\r\n \xad\r\n\r\n",
            // Controls, quotes and backslashes, which httparse refuses as
            // fields but the lines keep.
            b"HTTP/1.1 200 OK\r\nX: \x1b[2J \"q\" \\\r\nY: a\x7fb\r\n\r\n",
        ];
        for bytes in heads {
            let head = head(bytes);
            assert_fields_as_before(&head, &bytes[..]);
        }
    }

    /// `fields_as_sent` writes `head`'s fields as the old writer did.
    fn assert_fields_as_before(head: &ResponseHead, bytes: &[u8]) {
        let new = written(|out| {
            out.push(b'[');
            fields_as_sent(out, head);
            out.push(b']');
        });
        let old: Vec<String> = old_fields(head)
            .iter()
            .map(|(name, value)| format!("[{},{}]", old_bytes(name), old_bytes(value)))
            .collect();
        assert_eq!(new, format!("[{}]", old.join(",")), "{bytes:?}");
    }

    /// Random heads of plain and odd lines: the fast loop for plain lines
    /// and the careful way after it write what the old writer wrote.
    #[test]
    fn random_header_fields_are_written_as_before() {
        const LINES: &[&[u8]] = &[
            b"Server: nginx",
            b"Content-Length: 3",
            b"X:",
            b"X:  spaced  ",
            b"nocolon",
            b": no name",
            b"A:b:c",
            b" folded",
            b"\tfolded tab",
            b"X: \"quoted\"",
            b"X: back\\slash",
            b"X: caf\xc3\xa9",
            b"X: caf\xe9",
            b"X: tab\there",
            b"X: ctl\x01",
        ];
        let mut seed = 0x5eed_u64;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let mut checked = 0;
        for _ in 0..3000 {
            let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
            for _ in 0..next(8) {
                bytes.extend_from_slice(LINES[next(LINES.len())]);
                bytes.extend_from_slice(if next(4) == 0 { b"\n" } else { b"\r\n" });
            }
            bytes.extend_from_slice(b"\r\n");
            let Ok(Feed::Complete { head, .. }) = HeadParser::new().feed(&bytes) else {
                continue;
            };
            assert_fields_as_before(&head, &bytes[..]);
            checked += 1;
        }
        assert!(checked > 1000, "only {checked} heads parsed");
    }

    /// The outcome writer before its keys became literals and its numbers
    /// and addresses were written by hand: every comma placed by a
    /// `JsonWriter`, every number and address formatted by std, the
    /// fields gathered by `old_fields`.
    fn old_outcome(out: &mut Vec<u8>, outcome: &Outcome) {
        fn millis(json: &mut JsonWriter<'_>, d: Option<Duration>) {
            match d {
                Some(d) => json.raw(&format!("{:.3}", ms(d))),
                None => json.null(),
            };
        }
        fn address(json: &mut JsonWriter<'_>, addr: Option<SocketAddr>) {
            match addr {
                Some(addr) => json.raw(&format!("\"{addr}\"")),
                None => json.null(),
            };
        }
        fn head_fields(json: &mut JsonWriter<'_>, head: &ResponseHead) {
            json.key("status").raw(&head.status.to_string());
            json.key("version").string(if head.version == 0 {
                "HTTP/1.0"
            } else {
                "HTTP/1.1"
            });
            json.key("reason").raw(&old_bytes(head.reason()));
            json.key("headers").begin_array();
            for (name, value) in old_fields(head) {
                json.begin_array();
                json.raw(&old_bytes(name)).raw(&old_bytes(&value));
                json.end_array();
            }
            json.end_array();
        }
        let mut json = JsonWriter::new(out);
        json.begin_object();
        json.key("target").string(&outcome.input);
        let url = outcome.url();
        json.key("url").opt_string(url.as_deref());
        let final_url = match outcome.redirects.last() {
            Some(redirect) => Some(redirect.location.as_str()),
            None => url.as_deref(),
        };
        json.key("final_url").opt_string(final_url);
        json.key("address");
        address(&mut json, outcome.addr);
        let heads = outcome.result.as_ref().ok();
        match heads.and_then(|heads| heads.last()) {
            Some(head) => head_fields(&mut json, head),
            None => {
                for key in ["status", "version", "reason", "headers"] {
                    json.key(key).null();
                }
            }
        }
        json.key("interim");
        match heads {
            Some(heads) => {
                json.begin_array();
                for head in &heads[..heads.len().saturating_sub(1)] {
                    json.begin_object();
                    head_fields(&mut json, head);
                    json.end_object();
                }
                json.end_array();
            }
            None => {
                json.null();
            }
        }
        json.key("redirects").begin_array();
        for hop in &outcome.redirects {
            json.begin_object();
            json.key("url").string(&hop.url);
            json.key("address");
            address(&mut json, hop.addr);
            json.key("status").raw(&hop.status().to_string());
            json.key("location").string(&hop.location);
            json.key("tls");
            tls_object(&mut json, hop.tls.as_deref());
            json.end_object();
        }
        json.end_array();
        json.key("tls");
        tls_object(&mut json, outcome.tls.as_deref());
        json.key("error");
        match &outcome.result {
            Ok(_) => {
                json.null();
            }
            Err(e) => {
                json.begin_object();
                json.key("kind").string(e.kind().as_str());
                json.key("message").string(&e.to_string());
                json.end_object();
            }
        }
        let t = &outcome.timings;
        json.key("timings").begin_object();
        json.key("dns_ms");
        millis(&mut json, t.dns);
        json.key("connect_ms");
        millis(&mut json, t.connect);
        json.key("tls_ms");
        millis(&mut json, t.tls);
        json.key("first_byte_ms");
        millis(&mut json, t.first_byte);
        json.key("redirect_ms");
        millis(&mut json, t.redirected);
        json.key("total_ms");
        millis(&mut json, Some(t.total));
        json.end_object();
        json.end_object();
        out.push(b'\n');
    }

    /// Heads of every shape the writer treats apart: plain, interim, with
    /// a reason or none, HTTP/1.0, folds, bytes that are not UTF-8,
    /// controls, quotes and backslashes, in the reason and in the fields.
    const HEADS: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 21:02:54 GMT\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nServer: bench\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n",
        b"HTTP/1.1 204 \r\n\r\n",
        b"HTTP/1.1 301 Moved \"Permanently\"\r\nLocation: http://127.0.0.1:1/next\r\n\r\n",
        b"HTTP/1.1 404 Nicht gefunden caf\xc3\xa9 \xe6\xad\xa3\r\nX: a\r\n  b \r\n\tc\r\nnocolon\r\nY:  \r\n\r\n",
        b"HTTP/1.1 500 caf\xe9\r\nX-Latin: caf\xe9 \xff\r\nY: ok\r\n \xfe\r\nN\xe9: v\r\n\r\n",
        b"HTTP/1.1 999 a\tb \"q\" \\\r\nServer: plain\r\nX: \x1b[2J \"q\" \\\r\nY: a\x7fb\r\nZ: tab\there\r\n\r\n",
    ];

    /// Durations on both sides of each rounding and range edge of
    /// `write_millis`, from zero to `Duration::MAX`.
    const DURATIONS: &[Duration] = &[
        Duration::ZERO,
        Duration::from_nanos(1),
        Duration::from_nanos(499),
        Duration::from_nanos(500),
        Duration::from_nanos(501),
        Duration::from_nanos(999_500),
        Duration::from_micros(58),
        Duration::from_micros(1_234),
        Duration::from_micros(99_999),
        Duration::from_nanos(12_345_678_901),
        Duration::from_secs(1 << 20),
        Duration::MAX,
    ];

    fn some_error(pick: usize) -> FetchError {
        use std::io::{Error, ErrorKind as Io};
        match pick % 8 {
            0 => FetchError::Target(TargetError("bad \"target\" \x1b".into())),
            1 => FetchError::Send(Error::from(Io::BrokenPipe)),
            2 => FetchError::Read(Error::from(Io::ConnectionReset)),
            3 => FetchError::Timeout(Expired::Total(Duration::from_millis(1500))),
            4 => FetchError::Timeout(Expired::Connect {
                addr: "[::1]:80".parse().ok(),
                limit: Duration::from_secs(2),
            }),
            5 => FetchError::Timeout(Expired::Read(Duration::from_secs(5))),
            6 => FetchError::Interrupted(StopReason::OutputClosed),
            _ => FetchError::Interrupted(StopReason::Signal(2)),
        }
    }

    fn some_tls(pick: usize) -> Option<Box<TlsInfo>> {
        (!pick.is_multiple_of(3)).then(|| {
            Box::new(TlsInfo {
                version: Some(TlsVersion::Tls13),
                cipher_suite: Some("TLS13_AES_128_GCM_SHA256"),
                alpn: pick.is_multiple_of(2).then(|| "http/1.1".to_string()),
                sni: Some("example.com".into()),
                handshake_time: Some(DURATIONS[pick % DURATIONS.len()]),
                verdict: if pick % 3 == 1 {
                    Verdict::Trusted
                } else {
                    Verdict::Unchecked
                },
                checked_at: None,
                chain: Vec::new(),
            })
        })
    }

    /// Outcomes made from many draws of each part, written by the new
    /// writer and by the old one: the same bytes, and JSON that reads back.
    #[test]
    fn outcomes_are_written_as_before() {
        const INPUTS: &[&str] = &[
            "127.0.0.1:8080",
            "http://[::1]:8080/path?q=1",
            "https://example.com/caf\u{e9}",
            "example.com/\"quoted\"\\back",
            "a\u{1b}[2J\u{7f}b",
            "",
        ];
        const ADDRS: &[Option<&str>] = &[
            Some("127.0.0.1:37801"),
            Some("0.0.0.0:0"),
            Some("255.255.255.255:65535"),
            Some("10.2.30.4:80"),
            Some("[::1]:443"),
            Some("[fe80::1%3]:8080"),
            Some("[2001:db8::ff00:42:8329]:1"),
            None,
        ];
        let mut seed = 0x0dd_5eed_u64;
        let mut next = move |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        let duration = |next: &mut dyn FnMut(usize) -> usize| {
            (next(4) > 0).then(|| DURATIONS[next(DURATIONS.len())])
        };
        let addr = |pick: usize| ADDRS[pick % ADDRS.len()].and_then(|a| a.parse().ok());
        for _ in 0..3000 {
            let input = INPUTS[next(INPUTS.len())];
            let result = if next(3) == 0 {
                Err(some_error(next(8)))
            } else {
                let interim = (0..next(3))
                    .map(|_| head(HEADS[next(HEADS.len())]))
                    .collect();
                Ok(Heads::new(interim, head(HEADS[next(HEADS.len())])))
            };
            let redirects = (0..next(4) / 2)
                .map(|i| Redirect {
                    url: format!("http://127.0.0.1:{}/hop{i}", next(65536)),
                    addr: addr(next(ADDRS.len())),
                    heads: Heads::new(Vec::new(), head(HEADS[5])),
                    location: INPUTS[next(INPUTS.len())].to_string(),
                    tls: some_tls(next(6)),
                })
                .collect();
            let outcome = Outcome {
                input: input.to_string(),
                target: parse_target(input).ok(),
                redirects,
                addr: addr(next(ADDRS.len())),
                result,
                tls: some_tls(next(6)),
                timings: Timings {
                    start: Instant::now(),
                    dns: duration(&mut next),
                    connect: duration(&mut next),
                    tls: duration(&mut next),
                    redirected: duration(&mut next),
                    sent: duration(&mut next),
                    first_byte: duration(&mut next),
                    total: DURATIONS[next(DURATIONS.len())],
                },
            };
            let new = written(|out| outcome_json(out, &outcome));
            let old = written(|out| old_outcome(out, &outcome));
            assert_eq!(new, old, "{outcome:?}");
            let line = new.strip_suffix('\n').expect("one line");
            serde_json::from_str::<serde_json::Value>(line).expect("valid JSON");
        }
    }
}
