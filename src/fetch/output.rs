//! Output formats: the seed's `HOST header > LINE` text, and JSON Lines.
//!
//! Text lines each start with the target, so lines from different hosts never
//! need context, and every byte a server sent passes through
//! [`escape_line`], so a hostile server cannot drive the terminal.

use std::fmt::Write as _;
use std::time::Duration;

use super::outcome::Outcome;
use crate::http::{escape_line, ResponseHead};

/// Appends the text form of `outcome`:
///
/// ```text
/// www.sohu.com header > HTTP/1.1 200 OK
/// www.sohu.com header > Server: nginx
/// nosuch.invalid error > dns: failed to resolve 'nosuch.invalid': Name or service not known
/// ```
pub fn text(out: &mut String, outcome: &Outcome) {
    let label = escape_line(outcome.target.as_bytes());
    match &outcome.result {
        Ok(heads) => {
            for line in heads.iter().flat_map(ResponseHead::lines) {
                let _ = writeln!(out, "{label} header > {}", escape_line(line));
            }
        }
        Err(e) => {
            let _ = writeln!(
                out,
                "{label} error > {}: {}",
                e.kind,
                escape_line(e.message.as_bytes())
            );
        }
    }
}

/// Appends one text line for `--live`.
pub fn text_line(out: &mut String, target: &str, line: &[u8]) {
    let _ = writeln!(
        out,
        "{} header > {}",
        escape_line(target.as_bytes()),
        escape_line(line)
    );
}

/// Appends the JSON Lines form of `outcome`: one object, one line.
///
/// Keys: `target`, `url`, `address`, then for a success `status`,
/// `version`, `reason`, `headers` (ordered `[name, value]` pairs, case and
/// duplicates kept) and `interim` (earlier `1xx` heads, if any), or for a
/// failure `error: {kind, message}`; always `timings` in milliseconds.
/// `headers` holds every header line as sent (see `fields_as_sent`). Header
/// bytes that are not UTF-8 are given escaped as `\xNN` (see
/// [`escape_line`]); valid UTF-8 is given as is, JSON-escaped.
pub fn json(out: &mut String, outcome: &Outcome) {
    out.push('{');
    key(out, "target");
    json_string(out, &outcome.target);
    out.push(',');
    key(out, "url");
    match &outcome.url {
        Some(url) => json_string(out, url),
        None => out.push_str("null"),
    }
    out.push(',');
    key(out, "address");
    match outcome.addr {
        Some(addr) => json_string(out, &addr.to_string()),
        None => out.push_str("null"),
    }
    match &outcome.result {
        Ok(heads) => {
            if let Some((last, interim)) = heads.split_last() {
                out.push(',');
                head_fields(out, last);
                if !interim.is_empty() {
                    out.push(',');
                    key(out, "interim");
                    out.push('[');
                    for (i, head) in interim.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push('{');
                        head_fields(out, head);
                        out.push('}');
                    }
                    out.push(']');
                }
            }
        }
        Err(e) => {
            out.push(',');
            key(out, "error");
            out.push('{');
            key(out, "kind");
            json_string(out, e.kind.as_str());
            out.push(',');
            key(out, "message");
            json_string(out, &e.message);
            out.push('}');
        }
    }
    let t = &outcome.timings;
    out.push(',');
    key(out, "timings");
    out.push('{');
    for (i, (name, value)) in [
        ("dns_ms", t.dns),
        ("connect_ms", t.connect),
        ("first_byte_ms", t.first_byte),
        ("total_ms", Some(t.total)),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            out.push(',');
        }
        key(out, name);
        millis(out, value);
    }
    out.push_str("}}\n");
}

fn head_fields(out: &mut String, head: &ResponseHead) {
    let _ = write!(
        out,
        "\"status\":{},\"version\":\"HTTP/1.{}\",",
        head.status, head.version
    );
    key(out, "reason");
    bytes(out, &head.reason);
    out.push(',');
    key(out, "headers");
    out.push('[');
    for (i, (name, value)) in fields_as_sent(head).iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        bytes(out, name);
        out.push(',');
        bytes(out, value);
        out.push(']');
    }
    out.push(']');
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

fn key(out: &mut String, name: &str) {
    json_string(out, name);
    out.push(':');
}

fn millis(out: &mut String, value: Option<Duration>) {
    match value {
        Some(d) => {
            let _ = write!(out, "{:.3}", d.as_secs_f64() * 1000.0);
        }
        None => out.push_str("null"),
    }
}

fn bytes(out: &mut String, value: &[u8]) {
    match std::str::from_utf8(value) {
        Ok(text) => json_string(out, text),
        Err(_) => json_string(out, &escape_line(value)),
    }
}

/// Appends `text` as a JSON string literal.
pub(crate) fn json_string(out: &mut String, text: &str) {
    out.push('"');
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
}
