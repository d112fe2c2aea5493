//! A parsed response head.

use std::fmt;
use std::mem::MaybeUninit;

use httparse::{ParserConfig, Status};

use super::{pool, HeadError, ProtocolError};

/// One complete response head: the status line and the header fields.
///
/// The head owns one buffer, its bytes exactly as received
/// ([`raw`](Self::raw)); the reason phrase and each header field are
/// spans of it, so parsing a head of any size makes at most one more
/// allocation (the list of spans). Both buffers go back to the thread's
/// pool when the head is dropped, and the next heads take them from there. Header values and the reason phrase are
/// bytes, because servers do send Latin-1 and worse, and a header fetcher
/// must report them rather than reject them. Header order, case and
/// duplicates are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor version: 0 for `HTTP/1.0`, 1 for `HTTP/1.1`.
    pub version: u8,
    /// The three-digit status code.
    pub status: u16,
    /// Where the reason phrase is in `raw`.
    reason: Span,
    /// Where each field `httparse` accepted is in `raw`, in order.
    fields: Vec<Field>,
    /// The head exactly as received from its status line on, line endings
    /// and final empty line included.
    raw: Vec<u8>,
}

/// A range of a head's `raw` bytes. Spans are made only by
/// [`ResponseHead::parse`], from slices of the buffer they index, so they
/// are always in bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
}

/// One header field: its name and value as spans of `raw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    name: Span,
    value: Span,
}

/// Heads with at most this many lines are parsed with `httparse`'s header
/// slots on the stack (32 bytes each); only a larger head needs a `Vec`.
const STACK_SLOTS: usize = 32;

impl ResponseHead {
    /// The reason phrase (`OK`), possibly empty, as received.
    pub fn reason(&self) -> &[u8] {
        self.bytes(self.reason)
    }

    /// The header fields `httparse` accepted, in order, names as sent.
    ///
    /// A line that is not a valid field (say, a control byte in a value) is
    /// left out here but still appears in [`lines`](Self::lines), so one bad
    /// header does not lose the whole response. A folded value (a line
    /// continued on the next) is given as sent, line break included.
    pub fn headers(&self) -> impl ExactSizeIterator<Item = (&str, &[u8])> + '_ {
        self.fields.iter().map(|field| {
            // httparse accepts only token bytes (ASCII) in a name, so this
            // is never the empty fallback.
            let name = std::str::from_utf8(self.bytes(field.name)).unwrap_or_default();
            (name, self.bytes(field.value))
        })
    }

    /// The head exactly as received from its status line on, line endings
    /// and final empty line included. [`lines`](Self::lines) splits it.
    /// (Empty lines before the status line, which the parser skips, are not
    /// part of it.)
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Each line of the head as received, without its line ending and
    /// without the final empty line: what the seed printed as
    /// `HOST header > LINE`. Print them through
    /// [`escape_line`](super::escape_line).
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> + Clone + '_ {
        let mut rest = self.raw.as_slice();
        std::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |newline| newline + 1);
            let (line, after) = rest.split_at(end);
            rest = after;
            Some(line)
        })
        .map(without_line_ending)
        .take_while(|line| !line.is_empty())
    }

    /// The value of the first header named `name`, compared ignoring ASCII
    /// case, as HTTP field names are.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value)
    }

    /// Whether this is an interim `1xx` head, after which the real response
    /// follows on the same connection: keep feeding the parser.
    ///
    /// `101 Switching Protocols` is excluded: after it the connection no
    /// longer speaks HTTP/1.x, so there is no next head to wait for.
    pub fn is_informational(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// The bytes of `span`.
    fn bytes(&self, span: Span) -> &[u8] {
        self.raw.get(span.start..span.end).unwrap_or_default()
    }

    /// Parses a complete head (`raw` ends with its empty line) that has
    /// `line_count` non-empty lines.
    pub(super) fn parse(raw: Vec<u8>, line_count: usize) -> Result<Self, HeadError> {
        // One header slot per line is always enough: the status line is not
        // a header, and a folded line joins the header above it. The slots
        // need no initial value: httparse fills the ones it uses.
        let mut on_stack = [const { MaybeUninit::uninit() }; STACK_SLOTS];
        let mut on_heap = Vec::new();
        let slots = if line_count <= STACK_SLOTS {
            &mut on_stack[..line_count]
        } else {
            on_heap.resize(line_count, MaybeUninit::uninit());
            &mut on_heap[..]
        };
        let mut response = httparse::Response::new(&mut []);
        match config().parse_response_with_uninit_headers(&mut response, &raw, slots) {
            Ok(Status::Complete(_)) => {}
            // Cannot happen for a buffer that ends with an empty line, but
            // if it did, "ended early" is the honest description.
            Ok(Status::Partial) => return Err(truncated(&raw)),
            Err(error) => return Err(ProtocolError::Malformed(error).into()),
        }
        let parts = Parts::of(&response, &raw).ok_or_else(|| truncated(&raw))?;
        Ok(parts.with(raw))
    }

    /// Parses the head that `bytes` begin with, if all of it is there and
    /// it is at most `max_len` bytes long; returns the head (its bytes
    /// copied into a buffer of its own) and its length. `None` means
    /// "not like that": the head goes on past `bytes`, is longer, or is not
    /// one `httparse` accepts. The caller then takes the long way, which
    /// finds the same head or says what is wrong with it.
    ///
    /// This is the parser's fast path: a head that came in one read is
    /// walked once, by `httparse`, which finds its end as it goes.
    /// `httparse` and the parser end a head at the same place: each line
    /// that `httparse` passes over starts with a byte that is neither `\r`
    /// nor `\n` (at a `\r` or `\n` it either ends the head or fails), so it
    /// is not empty, and it stops at the first empty line, `\r\n` or `\n`.
    pub(super) fn parse_whole(bytes: &[u8], max_len: usize) -> Option<(Self, usize)> {
        let mut slots = [const { MaybeUninit::uninit() }; STACK_SLOTS];
        let mut response = httparse::Response::new(&mut []);
        let len =
            match config().parse_response_with_uninit_headers(&mut response, bytes, &mut slots) {
                Ok(Status::Complete(len)) if len <= max_len => len,
                _ => return None,
            };
        let head = bytes.get(..len)?;
        let parts = Parts::of(&response, head)?;
        let mut raw = pool::take_bytes();
        raw.extend_from_slice(head);
        Some((parts.with(raw), len))
    }
}

/// What a head is made of, but its bytes: found by `httparse` in some
/// bytes, and the head of those bytes once they are given.
struct Parts {
    version: u8,
    status: u16,
    reason: Span,
    fields: Vec<Field>,
}

impl Parts {
    /// The parts of `head`, which `response` is the complete parse of;
    /// `None` if `httparse` left the version or the status out (it does
    /// not, for a complete parse).
    fn of(response: &httparse::Response<'_, '_>, head: &[u8]) -> Option<Self> {
        let (Some(version), Some(status)) = (response.version, response.code) else {
            return None;
        };
        // httparse copies nothing: each name and value it gives is a slice
        // of `head`, so where it starts in `head` is the difference of the
        // two addresses.
        let mut fields = pool::take_fields();
        fields.extend(response.headers.iter().map(|h| Field {
            name: span_in(head, h.name.as_bytes()),
            value: span_in(head, h.value),
        }));
        let reason = match response.reason {
            // httparse's reason phrase is the bytes after the code and its
            // spaces up to the line ending, as ours is, when it gives one.
            Some(reason) if !reason.is_empty() => span_in(head, reason.as_bytes()),
            // It gives none for a reason phrase that is not ASCII (and for
            // an empty one), so take it from the status line ourselves:
            // `HTTP/1.1 SP+ 200 SP* reason`.
            _ => span_in(head, reason_in_status_line(head)),
        };
        Some(Parts {
            version,
            status,
            reason,
            fields,
        })
    }

    /// The head these are the parts of, whose bytes are `raw`.
    fn with(self, raw: Vec<u8>) -> ResponseHead {
        ResponseHead {
            version: self.version,
            status: self.status,
            reason: self.reason,
            fields: self.fields,
            raw,
        }
    }
}

/// The reason phrase in the status line that `head` begins with:
/// `HTTP/1.1 SP+ 200 SP* reason`, without the line ending.
fn reason_in_status_line(head: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', head).map_or(head.len(), |newline| newline + 1);
    without_line_ending(&head[..end])
        .get("HTTP/1.x".len()..)
        .map(trim_spaces)
        .and_then(|rest| rest.get("200".len()..))
        .map(trim_spaces)
        .unwrap_or_default()
}

/// Gives the head's buffers back to this thread's pool, for the next head.
impl Drop for ResponseHead {
    fn drop(&mut self) {
        pool::give_back(
            std::mem::take(&mut self.raw),
            std::mem::take(&mut self.fields),
        );
    }
}

/// Shows the head as text: its status, reason and fields, with bytes that
/// are not UTF-8 replaced (`raw` keeps them).
impl fmt::Debug for ResponseHead {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<_> = self
            .headers()
            .map(|(name, value)| (name, String::from_utf8_lossy(value)))
            .collect();
        f.debug_struct("ResponseHead")
            .field("version", &self.version)
            .field("status", &self.status)
            .field("reason", &String::from_utf8_lossy(self.reason()))
            .field("headers", &headers)
            .finish_non_exhaustive()
    }
}

/// Where `part`, a slice of `whole`, lies in it; an empty span for a slice
/// of something else (which `parse` never passes).
fn span_in(whole: &[u8], part: &[u8]) -> Span {
    let start = (part.as_ptr() as usize).wrapping_sub(whole.as_ptr() as usize);
    match start.checked_add(part.len()) {
        Some(end) if end <= whole.len() => Span { start, end },
        _ => Span { start: 0, end: 0 },
    }
}

/// `line` without a trailing `\n` or `\r\n` (or a lone `\r` that may be the
/// first half of one).
pub(crate) fn without_line_ending(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn truncated(raw: &[u8]) -> HeadError {
    ProtocolError::Truncated {
        received: raw.len(),
    }
    .into()
}

fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != b' ').unwrap_or(bytes.len());
    &bytes[start..]
}

/// httparse, set to accept what real servers send: extra spaces in the
/// status line and after a header name, folded header lines (RFC 7230 calls
/// them obsolete, servers still send them), and invalid header lines, which
/// are skipped instead of failing the whole head.
fn config() -> ParserConfig {
    let mut config = ParserConfig::default();
    config
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true);
    config
}
