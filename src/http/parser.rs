//! Finding a response head in the bytes a socket delivers.

use super::head::without_line_ending;
use super::{HeadError, Limit, Limits, ProtocolError, ResponseHead};

/// The first bytes of every HTTP/1.x response.
const PREFIX: &[u8] = b"HTTP/";

/// Where a head's buffer starts: most heads fit in 1 KiB.
const INITIAL_CAPACITY: usize = 1024;

/// An incremental response-head parser: feed it chunks as they are read, and
/// it says when a head is complete.
///
/// It copies each byte of the head once, into a buffer that starts at 1 KiB
/// and only grows (up to [`Limits::max_head`]) for larger heads. The buffer
/// becomes the finished head's [`raw`](ResponseHead::raw), so completing a
/// head copies nothing.
///
/// Interim `1xx` heads come first on the same connection, so the parser
/// does not stop at one head: after [`Feed::Complete`] it is empty again,
/// and the rest of the chunk can be fed to it.
///
/// ```
/// use fetch_headers::http::{Feed, HeadParser};
///
/// let mut parser = HeadParser::new();
/// let mut bytes: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\nServer: x\n\n";
/// let head = loop {
///     match parser.feed(bytes)? {
///         // A 1xx head: the real one follows in the rest of the chunk.
///         Feed::Complete { head, consumed } if head.is_informational() => {
///             bytes = &bytes[consumed..];
///         }
///         Feed::Complete { head, .. } => break head,
///         Feed::Partial => unreachable!("the whole response is in this one chunk"),
///     }
/// };
/// assert_eq!(head.status, 200);
/// assert_eq!(head.header("server"), Some(&b"x"[..]));
/// # Ok::<(), fetch_headers::http::HeadError>(())
/// ```
///
/// After an error the connection is not worth reading further; drop the
/// parser.
#[derive(Debug)]
pub struct HeadParser {
    limits: Limits,
    /// The head so far, exactly as received.
    buf: Vec<u8>,
    /// Where the unfinished line begins in `buf`.
    line_start: usize,
    /// Finished non-empty lines so far, the status line included.
    lines: usize,
}

/// What one [`HeadParser::feed`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Feed {
    /// The head is not complete yet; the whole chunk was taken. Read more.
    Partial,
    /// A head is complete.
    Complete {
        /// The head.
        head: ResponseHead,
        /// How many bytes of the chunk it took. The rest of the chunk is what
        /// follows the head: the next head after a `1xx`, or the body.
        consumed: usize,
    },
}

impl HeadParser {
    /// A parser with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// A parser with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        HeadParser {
            limits,
            buf: Vec::new(),
            line_start: 0,
            lines: 0,
        }
    }

    /// Takes the next chunk read from the connection.
    ///
    /// Returns [`Feed::Complete`] as soon as the empty line that ends a head
    /// arrives, with the bytes of `chunk` it used; otherwise takes all of
    /// `chunk` and returns [`Feed::Partial`]. Fails as soon as the bytes
    /// cannot be an HTTP response or a limit is crossed, without buffering
    /// past the limit.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Feed, HeadError> {
        self.check_start(chunk)?;

        // Take the chunk a line at a time. Only the new bytes are searched
        // for '\n'; what is already buffered was searched before.
        let mut consumed = 0;
        while let Some(newline) = chunk[consumed..].iter().position(|&b| b == b'\n') {
            let line_end = consumed + newline + 1;
            self.append(&chunk[consumed..line_end])?;
            consumed = line_end;
            if self.end_line()? {
                let head = self.take_head()?;
                return Ok(Feed::Complete { head, consumed });
            }
        }
        self.append(&chunk[consumed..])?;
        Ok(Feed::Partial)
    }

    /// How many bytes of an unfinished head are buffered.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The error to report when the connection closes before the head is
    /// complete (the seed's `readline()` would return `b''` for ever).
    pub fn eof(&self) -> HeadError {
        ProtocolError::Truncated {
            received: self.buf.len(),
        }
        .into()
    }

    /// Fails at the first byte that cannot begin `HTTP/`, rather than waiting
    /// for a whole line of something that is not HTTP.
    fn check_start(&self, chunk: &[u8]) -> Result<(), HeadError> {
        let Some(expected) = PREFIX.get(self.buf.len()..) else {
            return Ok(()); // the prefix is already checked
        };
        let n = expected.len().min(chunk.len());
        if chunk[..n] == expected[..n] {
            return Ok(());
        }
        let start = self.buf.iter().chain(chunk).take(16).copied().collect();
        Err(ProtocolError::NotHttp { start }.into())
    }

    /// Buffers `bytes`, which continue the current line, unless that would
    /// cross a limit.
    fn append(&mut self, bytes: &[u8]) -> Result<(), HeadError> {
        let line = &self.buf[self.line_start..];
        if content_len(line, bytes) > self.limits.max_line {
            return Err(too_large(Limit::Line, self.limits.max_line));
        }
        let needed = self.buf.len() + bytes.len();
        if needed > self.limits.max_head {
            return Err(too_large(Limit::Head, self.limits.max_head));
        }
        // Grow by doubling from a small start, but never past max_head.
        if needed > self.buf.capacity() {
            let target = (2 * self.buf.capacity())
                .max(INITIAL_CAPACITY)
                .min(self.limits.max_head)
                .max(needed);
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    /// Closes the line that just received its `\n`. Returns whether it was
    /// the empty line that ends the head.
    fn end_line(&mut self) -> Result<bool, HeadError> {
        let empty = without_line_ending(&self.buf[self.line_start..]).is_empty();
        self.line_start = self.buf.len();
        if empty {
            return Ok(true);
        }
        self.lines += 1;
        if self.lines > self.limits.max_lines {
            return Err(too_large(Limit::Lines, self.limits.max_lines));
        }
        Ok(false)
    }

    /// Hands the complete head to `httparse` and leaves the parser empty,
    /// ready for the next head.
    fn take_head(&mut self) -> Result<ResponseHead, HeadError> {
        let raw = std::mem::take(&mut self.buf);
        let lines = std::mem::take(&mut self.lines);
        self.line_start = 0;
        ResponseHead::parse(raw, lines)
    }
}

impl Default for HeadParser {
    fn default() -> Self {
        Self::new()
    }
}

/// The length of the line `held` + `new` without its line ending.
fn content_len(held: &[u8], new: &[u8]) -> usize {
    let mut from_end = held.iter().chain(new).rev();
    let ending = match (from_end.next(), from_end.next()) {
        (Some(b'\n'), Some(b'\r')) => 2,
        (Some(b'\n' | b'\r'), _) => 1,
        _ => 0,
    };
    held.len() + new.len() - ending
}

fn too_large(limit: Limit, max: usize) -> HeadError {
    HeadError::TooLarge { limit, max }
}
