//! A parsed response head.

use httparse::{ParserConfig, Status};

use super::{HeadError, ProtocolError};

/// One complete response head: the status line and the header fields.
///
/// Everything is owned and kept as received: header values and the reason
/// phrase are bytes, because servers do send Latin-1 and worse, and a header
/// fetcher must report them rather than reject them. Header order, case and
/// duplicates are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The minor version: 0 for `HTTP/1.0`, 1 for `HTTP/1.1`.
    pub version: u8,
    /// The three-digit status code.
    pub status: u16,
    /// The reason phrase (`OK`), possibly empty, as received.
    pub reason: Vec<u8>,
    /// The header fields `httparse` accepted, in order, names as sent.
    ///
    /// A line that is not a valid field (say, a control byte in a value) is
    /// left out here but still appears in [`lines`](Self::lines), so one bad
    /// header does not lose the whole response.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The head exactly as received from its status line on, line endings
    /// and final empty line included. [`lines`](Self::lines) splits it.
    /// (Empty lines before the status line, which the parser skips, are not
    /// part of it.)
    pub raw: Vec<u8>,
}

impl ResponseHead {
    /// Each line of the head as received, without its line ending and
    /// without the final empty line: what the seed printed as
    /// `HOST header > LINE`. Print them through
    /// [`escape_line`](super::escape_line).
    pub fn lines(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.raw
            .split_inclusive(|&b| b == b'\n')
            .map(without_line_ending)
            .take_while(|line| !line.is_empty())
    }

    /// The value of the first header named `name`, compared ignoring ASCII
    /// case, as HTTP field names are.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_slice())
    }

    /// Whether this is an interim `1xx` head, after which the real response
    /// follows on the same connection: keep feeding the parser.
    ///
    /// `101 Switching Protocols` is excluded: after it the connection no
    /// longer speaks HTTP/1.x, so there is no next head to wait for.
    pub fn is_informational(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// Parses a complete head (`raw` ends with its empty line) that has
    /// `line_count` non-empty lines.
    pub(super) fn parse(raw: Vec<u8>, line_count: usize) -> Result<Self, HeadError> {
        // One header slot per line is always enough: the status line is not
        // a header, and a folded line joins the header above it.
        let mut slots = vec![httparse::EMPTY_HEADER; line_count];
        let mut response = httparse::Response::new(&mut slots);
        match config().parse_response(&mut response, &raw) {
            Ok(Status::Complete(_)) => {}
            // Cannot happen for a buffer that ends with an empty line, but
            // if it did, "ended early" is the honest description.
            Ok(Status::Partial) => return Err(truncated(&raw)),
            Err(error) => return Err(ProtocolError::Malformed(error).into()),
        }
        let (Some(version), Some(status)) = (response.version, response.code) else {
            return Err(truncated(&raw));
        };
        let headers = response
            .headers
            .iter()
            .map(|h| (h.name.to_owned(), h.value.to_vec()))
            .collect();

        // httparse drops a reason phrase that is not ASCII, so take it from
        // the status line ourselves: `HTTP/1.1 SP+ 200 SP* reason`.
        let status_line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
        let reason = without_line_ending(status_line)
            .get("HTTP/1.x".len()..)
            .map(trim_spaces)
            .and_then(|rest| rest.get("200".len()..))
            .map(trim_spaces)
            .unwrap_or_default()
            .to_vec();

        Ok(ResponseHead {
            version,
            status,
            reason,
            headers,
            raw,
        })
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
