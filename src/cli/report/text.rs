//! The seed's text output, `HOST header > LINE`, and the summary line.
//!
//! Every line starts with the target, so lines from different hosts never
//! need context, and every byte a server sent passes through
//! [`escape_line_into`] (a head's lines through [`escape_lines_into`],
//! which cuts and escapes them in one walk), so a hostile server cannot
//! drive the terminal.
//!
//! Outcomes are written as bytes straight into the buffer the writer
//! thread gets: the target (escaped once per outcome), the tag, the line
//! escaped in place. No `core::fmt` on the way, and nothing allocated per
//! line; only an error's message and a TLS session's summary are
//! formatted, by their own code.

use std::fmt::Write as _;
use std::ops::Range;

use fetch_headers::fetch::{FetchError, Outcome, Summary};
use fetch_headers::http::{escape_line_into, escape_lines_into, escaped_str, ResponseHead};
use fetch_headers::tls::TlsInfo;

use super::Skipped;

/// Appends the text form of `outcome`:
///
/// ```text
/// www.sohu.com header > HTTP/1.1 200 OK
/// www.sohu.com header > Server: nginx
/// nosuch.invalid error > nxdomain: nosuch.invalid: no such name (NXDOMAIN from a local rule, no query sent)
/// ```
///
/// Each redirect followed (`-L`) comes first, its head and then
/// `TARGET redirect > URL`; a TLS session's facts, when the outcome has
/// them (`--tls-info`), come before the head that came over it:
///
/// ```text
/// sina.com.cn header > HTTP/1.1 302 Moved Temporarily
/// sina.com.cn header > Location: https://www.sina.com.cn/
/// sina.com.cn redirect > https://www.sina.com.cn/
/// sina.com.cn tls > TLSv1.3 TLS13_AES_128_GCM_SHA256 http/1.1 cert CN=... issuer CN=... expires 2027-03-05 (94 days)
/// sina.com.cn header > HTTP/1.1 200 OK
/// ```
pub(crate) fn outcome(out: &mut Vec<u8>, outcome: &Outcome) {
    let label = escaped_str(&outcome.input);
    for hop in &outcome.redirects {
        tls_line(out, &label, hop.tls.as_deref());
        heads(out, &label, &hop.heads);
        tagged(out, &label, " redirect > ", hop.location.as_bytes());
    }
    tls_line(out, &label, outcome.tls.as_deref());
    match &outcome.result {
        Ok(list) => heads(out, &label, list),
        Err(e) => error(out, &label, e),
    }
}

/// Appends the error line of a failed `outcome`, and nothing for a
/// success: for `--live`, where the head lines went out as they came.
pub(crate) fn failure(out: &mut Vec<u8>, outcome: &Outcome) {
    if let Err(e) = &outcome.result {
        error(out, &escaped_str(&outcome.input), e);
    }
}

/// Appends `TARGET redirect > URL`, for `--live`.
pub(crate) fn redirect(out: &mut Vec<u8>, target: &str, location: &str) {
    let label = escaped_str(target);
    tagged(out, &label, " redirect > ", location.as_bytes());
}

fn heads(out: &mut Vec<u8>, label: &str, heads: &[ResponseHead]) {
    // `LABEL header > ` is the same for every line: written out for the
    // first, then copied from there.
    let mut prefix = None;
    let mut start_line = |out: &mut Vec<u8>| match &prefix {
        Some(range) => out.extend_from_within(Range::clone(range)),
        None => {
            let start = out.len();
            out.extend_from_slice(label.as_bytes());
            out.extend_from_slice(b" header > ");
            prefix = Some(start..out.len());
        }
    };
    for head in heads {
        escape_lines_into(out, head.raw(), &mut start_line);
    }
}

/// Appends `LABEL TAG BYTES` and a newline: `label` is escaped already,
/// `bytes` are escaped here, straight into `out`.
fn tagged(out: &mut Vec<u8>, label: &str, tag: &str, bytes: &[u8]) {
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(tag.as_bytes());
    escape_line_into(out, bytes);
    out.push(b'\n');
}

/// `LABEL error > KIND: MESSAGE`. The kind is a plain word, so escaping
/// it with the message changes nothing.
fn error(out: &mut Vec<u8>, label: &str, e: &FetchError) {
    let message = format!("{}: {e}", e.kind());
    tagged(out, label, " error > ", message.as_bytes());
}

fn tls_line(out: &mut Vec<u8>, label: &str, tls: Option<&TlsInfo>) {
    if let Some(tls) = tls {
        // `summary` escapes what the server chose.
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(b" tls > ");
        out.extend_from_slice(tls.summary().as_bytes());
        out.push(b'\n');
    }
}

/// Appends one head line as it arrived, for `--live`.
pub(crate) fn line(out: &mut Vec<u8>, target: &str, line: &[u8]) {
    tagged(out, &escaped_str(target), " header > ", line);
}

/// Appends the seed's `wget TARGET...`, for `-v`.
pub(crate) fn started(out: &mut Vec<u8>, target: &str) {
    out.extend_from_slice(b"wget ");
    escape_line_into(out, target.as_bytes());
    out.extend_from_slice(b"...\n");
}

/// The summary line for stderr:
/// `3 hosts: 2 ok, 1 failed (dns 1) in 0.52s, 5.8 hosts/s`, then what the
/// run left out (the targets `--skip-done` found done, `--shard`'s share)
/// and, for a run stopped early, why: `...; interrupted by SIGINT`.
pub(crate) fn summary(summary: &Summary, skipped: Skipped) -> String {
    let noun = if summary.hosts == 1 { "host" } else { "hosts" };
    let mut line = format!(
        "{} {noun}: {} ok, {} failed",
        summary.hosts,
        summary.ok,
        summary.failures()
    );
    let kinds: Vec<String> = summary
        .failed()
        .map(|(kind, n)| format!("{kind} {n}"))
        .collect();
    if !kinds.is_empty() {
        let _ = write!(line, " ({})", kinds.join(", "));
    }
    let _ = write!(
        line,
        " in {:.2}s, {:.0} hosts/s",
        summary.elapsed.as_secs_f64(),
        summary.rate()
    );
    if skipped.done > 0 {
        let _ = write!(line, "; {} skipped as done", skipped.done);
    }
    if let Some((shard, others)) = skipped.shard {
        let _ = write!(
            line,
            "; shard {shard}, {others} targets of other shards skipped"
        );
    }
    if let Some(reason) = summary.stopped {
        let _ = write!(line, "; {reason}");
    }
    line
}
