//! JSON: one small writer for every JSON this command prints (outcomes,
//! `--stats`, the `--timeline` trace), and the JSON Lines form of an
//! outcome.
//!
//! Why not serde_json: the outcome is written once, field by field, from
//! borrowed data; a writer that appends to a `String` needs no intermediate
//! value tree and no derive, and keeps the output's field order and
//! escaping under our eyes (the tests read it back with serde_json).

use std::io::Write as _;
use std::time::Duration;

use fetch_headers::fetch::Outcome;
use fetch_headers::http::{escape_line, ResponseHead};
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

    /// `"name":`, for the value that follows.
    pub(crate) fn key(&mut self, name: &str) -> &mut Self {
        self.separate();
        string_literal(self.out, name);
        self.out.push(b':');
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
        match std::str::from_utf8(value) {
            Ok(text) => self.string(text),
            Err(_) => self.string(&escape_line(value)),
        }
    }

    /// `null`.
    pub(crate) fn null(&mut self) -> &mut Self {
        self.raw("null")
    }

    /// An integer.
    pub(crate) fn u64(&mut self, n: u64) -> &mut Self {
        self.separate();
        let _ = write!(self.out, "{n}");
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
            Some(d) => self.fixed(ms(d), 3),
            None => self.null(),
        }
    }

    /// A value already in JSON form.
    pub(crate) fn raw(&mut self, json: &str) -> &mut Self {
        self.separate();
        self.out.extend_from_slice(json.as_bytes());
        self
    }
}

/// Appends `text` as a JSON string literal.
fn string_literal(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for c in text.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out.push(b'"');
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
pub(crate) fn outcome(out: &mut Vec<u8>, outcome: &Outcome) {
    let mut json = JsonWriter::new(out);
    json.begin_object();
    json.key("target").string(&outcome.input);
    json.key("url").opt_string(outcome.url.as_deref());
    json.key("final_url").opt_string(outcome.final_url());
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
        json.key("status").u64(u64::from(hop.status()));
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
    json.key("dns_ms").millis(t.dns);
    json.key("connect_ms").millis(t.connect);
    json.key("tls_ms").millis(t.tls);
    json.key("first_byte_ms").millis(t.first_byte);
    json.key("redirect_ms").millis(t.redirected);
    json.key("total_ms").millis(Some(t.total));
    json.end_object();
    json.end_object();
    out.push(b'\n');
}

fn address(json: &mut JsonWriter<'_>, addr: Option<std::net::SocketAddr>) {
    match addr {
        Some(addr) => json.string(&addr.to_string()),
        None => json.null(),
    };
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

fn head_fields(json: &mut JsonWriter<'_>, head: &ResponseHead) {
    json.key("status").u64(u64::from(head.status));
    // httparse accepts only HTTP/1.0 and HTTP/1.1.
    json.key("version").string(if head.version == 0 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    });
    json.key("reason").bytes(head.reason());
    json.key("headers").begin_array();
    for (name, value) in fields_as_sent(head) {
        json.begin_array().bytes(name).bytes(&value).end_array();
    }
    json.end_array();
}

/// The header fields exactly as sent, from the head's raw lines: each line
/// after the status line split at its first `:` (the value without the blanks
/// around it), a folded line (starting with a blank) joined to the field
/// before it, a line with no `:` given as a name with an empty value.
///
/// `ResponseHead::headers` is `httparse`'s view, which skips lines it
/// rejects (a control byte in a value, say); JSON readers get every line, and
/// JSON escaping keeps control bytes harmless.
fn fields_as_sent(head: &ResponseHead) -> Vec<(&[u8], Vec<u8>)> {
    let mut fields: Vec<(&[u8], Vec<u8>)> = Vec::new();
    for line in head.lines().skip(1) {
        if let (Some(b' ' | b'\t'), Some((_, value))) = (line.first(), fields.last_mut()) {
            value.push(b' ');
            value.extend_from_slice(line.trim_ascii());
            continue;
        }
        match line.iter().position(|&b| b == b':') {
            Some(colon) => fields.push((&line[..colon], line[colon + 1..].trim_ascii().to_vec())),
            None => fields.push((line, Vec::new())),
        }
    }
    fields
}
