//! Finding the heads of one response in the bytes a socket delivers.

use super::{pool, HeadError, Limit, Limits, ProtocolError, ResponseHead};

/// The first bytes of every HTTP/1.x response.
const PREFIX: &[u8] = b"HTTP/";

/// Where a head's buffer starts: most heads fit in 1 KiB.
const INITIAL_CAPACITY: usize = 1024;

/// Empty lines skipped before a status line. RFC 9112 §2.2 asks a recipient
/// to ignore at least one; servers that send any send one (a stray `\r\n`
/// after a `100 Continue`, say). Four leaves room for that, and a peer that
/// sends nothing but empty lines fails at the fifth instead of holding the
/// fetch until its read timeout.
const MAX_EMPTY_LINES: u8 = 4;

/// An incremental parser of one response's heads: feed it chunks as they
/// are read, and it says when a head is complete.
///
/// It copies each byte of a head once, into a buffer that only grows (up
/// to [`Limits::max_head`]) for larger heads, and that becomes the finished
/// head's [`raw`](ResponseHead::raw). The buffer comes from a small pool on
/// the thread, which dropped heads give their buffers back to, so a run's
/// heads mostly reuse a few buffers instead of allocating one each; a new
/// one starts at 1 KiB.
///
/// A head that arrives whole in one chunk, well within the limits (as
/// nearly every head does), is walked once, by `httparse`, which finds its
/// end as it parses it; only a head split across reads, or one near a
/// limit, is walked line by line as it comes, checking the limits as each
/// line ends, and handed to `httparse` when it is complete.
///
/// Interim `1xx` heads come first on the same connection, so the parser
/// does not stop at one head: after an interim head it is ready for the
/// next, and the rest of the chunk can be fed to it. The [`Limits`] cover
/// the interim heads and the final head together, and at most
/// [`Limits::max_interim`] interim heads are taken: a server that sends
/// `100 Continue` for ever gets `too-large`, not a reader that buffers for
/// ever. After the final head the parser starts over, for a next response.
///
/// Up to four empty lines before a status line (`\r\n` or `\n`) are
/// skipped, as RFC 9112 §2.2 recommends; they are not part of any head.
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
    /// The head so far, exactly as received from its status line on.
    buf: Vec<u8>,
    /// Where the unfinished line begins in `buf`.
    line_start: usize,
    /// Finished non-empty lines of this head, the status line included.
    lines: usize,
    /// Bytes of this response's earlier (interim) heads: with `buf`, what
    /// counts against [`Limits::max_head`].
    earlier_bytes: usize,
    /// Lines of this response's earlier heads, for [`Limits::max_lines`].
    earlier_lines: usize,
    /// Interim heads of this response so far.
    interim: usize,
    /// Empty lines skipped before this head's status line (a `u8`, like
    /// the flag below: a fetch holds its parser, so every byte counts).
    empty_lines: u8,
    /// A skipped `\r` before this head's status line still waits for its
    /// `\n` (the two may come in different reads).
    cr_pending: bool,
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
        /// How many bytes of the chunk it took (with any empty lines skipped
        /// before it). The rest of the chunk is what follows the head: the
        /// next head after a `1xx`, or the body.
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
            earlier_bytes: 0,
            earlier_lines: 0,
            interim: 0,
            empty_lines: 0,
            cr_pending: false,
        }
    }

    /// Takes the next chunk read from the connection.
    ///
    /// Returns [`Feed::Complete`] as soon as the empty line that ends a head
    /// arrives, with the bytes of `chunk` it used; otherwise takes all of
    /// `chunk` and returns [`Feed::Partial`]. Fails as soon as the bytes
    /// cannot be an HTTP response or a limit is crossed, without buffering
    /// past the limit.
    ///
    /// However the bytes are split into chunks, the outcome is the same,
    /// with two details aside: [`ProtocolError::NotHttp`] quotes the bytes
    /// that had arrived, and a chunk that crosses both
    /// [`Limits::max_line`] and [`Limits::max_head`] names the line limit,
    /// which is checked first, where smaller chunks might have crossed the
    /// head limit first.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Feed, HeadError> {
        // Before a status line: skip the empty lines a sloppy server may
        // send, then check that what follows can begin `HTTP/`.
        let mut consumed = 0;
        if self.buf.is_empty() {
            consumed = self.skip_empty_lines(chunk)?;
            // Most heads come whole in one read: then one walk over them,
            // by httparse, finds the end and the fields at once.
            if let Some((head, len)) = self.whole_head(&chunk[consumed..]) {
                let head = self.finish_head(head, len)?;
                let consumed = consumed + len;
                return Ok(Feed::Complete { head, consumed });
            }
        }
        self.check_start(&chunk[consumed..])?;

        // Walk the new bytes a line at a time, checking the limits as each
        // line ends, and copy what was taken into the buffer once, at the
        // end. Only the new bytes are searched for '\n'; what is already
        // buffered was searched before. The first line found may continue
        // one that is buffered (`held`); the others are all in `chunk`.
        let start = consumed;
        let mut taken = self.buf.len();
        let mut held = self.buf.len() - self.line_start;
        while let Some(newline) = memchr::memchr(b'\n', &chunk[consumed..]) {
            let line_end = consumed + newline + 1;
            let line = &chunk[consumed..line_end];
            let content = content_len(&self.buf[self.buf.len() - held..], line);
            self.check_limits(content, taken + line.len())?;
            taken += line.len();
            consumed = line_end;
            held = 0;
            if content == 0 {
                // The empty line: the head is complete.
                self.buffer(&chunk[start..consumed]);
                let head = self.take_head()?;
                return Ok(Feed::Complete { head, consumed });
            }
            self.lines += 1;
            if self.earlier_lines + self.lines > self.limits.max_lines {
                return Err(too_large(Limit::Lines, self.limits.max_lines));
            }
        }
        // The rest of the chunk begins a line, or goes on with the held one.
        let rest = &chunk[consumed..];
        let content = content_len(&self.buf[self.buf.len() - held..], rest);
        self.check_limits(content, taken + rest.len())?;
        if held == 0 {
            self.line_start = self.buf.len() + (consumed - start);
        }
        self.buffer(&chunk[start..]);
        Ok(Feed::Partial)
    }

    /// How many bytes of an unfinished head are buffered. With the interim
    /// heads before it, never more than [`Limits::max_head`].
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The error to report when the connection closes before the final head
    /// is complete (the seed's `readline()` would return `b''` for ever).
    pub fn eof(&self) -> HeadError {
        ProtocolError::Truncated {
            received: self.earlier_bytes + self.buf.len(),
        }
        .into()
    }

    /// Skips the empty lines that may come before a status line, up to
    /// [`MAX_EMPTY_LINES`] of them, and returns how many bytes of `chunk`
    /// they took. Called only while no byte of the status line is buffered.
    fn skip_empty_lines(&mut self, chunk: &[u8]) -> Result<usize, HeadError> {
        for (i, &byte) in chunk.iter().enumerate() {
            match (byte, self.cr_pending) {
                (b'\n', _) => {
                    self.cr_pending = false;
                    self.empty_lines += 1;
                    if self.empty_lines > MAX_EMPTY_LINES {
                        let max = usize::from(MAX_EMPTY_LINES);
                        return Err(ProtocolError::EmptyLines { max }.into());
                    }
                }
                (b'\r', false) => self.cr_pending = true,
                // A '\r' that does not end an empty line cannot begin
                // `HTTP/` either.
                (_, true) => return Err(not_http(b"\r", &chunk[i..])),
                (_, false) => return Ok(i),
            }
        }
        Ok(chunk.len())
    }

    /// Fails at the first byte that cannot begin `HTTP/`, rather than waiting
    /// for a whole line of something that is not HTTP.
    fn check_start(&self, chunk: &[u8]) -> Result<(), HeadError> {
        let Some(expected) = PREFIX.get(self.buf.len()..) else {
            return Ok(()); // the prefix is already checked
        };
        // A head needs room for `HTTP/` at least. Saying so before looking
        // at the bytes gives the same error however they were split:
        // otherwise a piece `HT` could cross the limit where a whole `HTX`
        // would be found not to be HTTP.
        if self.buf.is_empty() && !chunk.is_empty() && self.room() < PREFIX.len() {
            return Err(too_large(Limit::Head, self.limits.max_head));
        }
        let n = expected.len().min(chunk.len());
        if chunk[..n] == expected[..n] {
            return Ok(());
        }
        Err(not_http(&self.buf, chunk))
    }

    /// Checks that a line of `content` bytes (its line ending aside) stays
    /// within [`Limits::max_line`], and then that a head of `bytes` so far
    /// stays within what is left of [`Limits::max_head`].
    fn check_limits(&self, content: usize, bytes: usize) -> Result<(), HeadError> {
        if content > self.limits.max_line {
            return Err(too_large(Limit::Line, self.limits.max_line));
        }
        if bytes > self.room() {
            return Err(too_large(Limit::Head, self.limits.max_head));
        }
        Ok(())
    }

    /// Buffers `bytes`, which [`check_limits`](Self::check_limits) has let
    /// through.
    fn buffer(&mut self, bytes: &[u8]) {
        // A new head's buffer comes from the pool, with the capacity an
        // earlier head left it; then it grows by doubling from a small
        // start, but never past the room left.
        let needed = self.buf.len() + bytes.len();
        if self.buf.capacity() == 0 {
            self.buf = pool::take_bytes();
        }
        if needed > self.buf.capacity() {
            let target = (2 * self.buf.capacity())
                .max(INITIAL_CAPACITY)
                .min(self.room())
                .max(needed);
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(bytes);
    }

    /// How many bytes this head may have: what the response's earlier
    /// (interim) heads left of [`Limits::max_head`].
    fn room(&self) -> usize {
        self.limits.max_head.saturating_sub(self.earlier_bytes)
    }

    /// The fast path: the head that `bytes` (the start of a chunk, where
    /// no byte of this head is buffered yet) begins with, and its length,
    /// if all of it is in `bytes` and it is short enough that no limit can
    /// be crossed. `None` sends the caller the long way, line by line,
    /// which then finds the same head, or the error.
    ///
    /// How short is short enough follows from the head's length alone:
    /// no line is longer than the head, and as a line that is not empty
    /// takes two bytes at least (`x\n`) and the final empty line one, a
    /// head of `len` bytes has at most `(len - 1) / 2` lines.
    fn whole_head(&self, bytes: &[u8]) -> Option<(ResponseHead, usize)> {
        let lines_left = self.limits.max_lines.saturating_sub(self.earlier_lines);
        let max_len = self
            .room()
            .min(self.limits.max_line)
            .min(lines_left.saturating_mul(2).saturating_add(1));
        ResponseHead::parse_whole(bytes, max_len)
    }

    /// Hands the complete head to `httparse` and leaves the parser ready
    /// for the next head (see [`finish_head`](Self::finish_head)).
    fn take_head(&mut self) -> Result<ResponseHead, HeadError> {
        let raw = std::mem::take(&mut self.buf);
        let (bytes, lines) = (raw.len(), std::mem::take(&mut self.lines));
        self.line_start = 0;
        let head = ResponseHead::parse(raw, lines)?;
        self.count_head(&head, bytes, lines)?;
        Ok(head)
    }

    /// Leaves the parser ready for the next head after `head`, of `bytes`
    /// bytes, which the fast path found: see [`count_head`](Self::count_head).
    fn finish_head(&mut self, head: ResponseHead, bytes: usize) -> Result<ResponseHead, HeadError> {
        // Only an interim head's lines count against the next head's
        // limits, so only then are they counted: each ends with a '\n',
        // and so does the final empty line.
        let lines = if head.is_informational() {
            memchr::memchr_iter(b'\n', head.raw())
                .count()
                .saturating_sub(1)
        } else {
            0
        };
        self.count_head(&head, bytes, lines)?;
        Ok(head)
    }

    /// Leaves the parser ready for the next head after `head`, which had
    /// `bytes` bytes and `lines` lines: of this response after an interim
    /// head, which counts against the limits, or of a new response after
    /// the final one.
    fn count_head(
        &mut self,
        head: &ResponseHead,
        bytes: usize,
        lines: usize,
    ) -> Result<(), HeadError> {
        self.empty_lines = 0;
        if head.is_informational() {
            if self.interim == self.limits.max_interim {
                return Err(too_large(Limit::Interim, self.limits.max_interim));
            }
            self.interim += 1;
            self.earlier_bytes += bytes;
            self.earlier_lines += lines;
        } else {
            self.interim = 0;
            self.earlier_bytes = 0;
            self.earlier_lines = 0;
        }
        Ok(())
    }
}

/// A parser dropped mid-head (an error, a timeout) gives its buffer back.
impl Drop for HeadParser {
    fn drop(&mut self) {
        pool::give_back(std::mem::take(&mut self.buf), Vec::new());
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

/// `NotHttp`, with the first bytes of `held` and then `new` for the message.
fn not_http(held: &[u8], new: &[u8]) -> HeadError {
    let start = held.iter().chain(new).take(16).copied().collect();
    ProtocolError::NotHttp { start }.into()
}

fn too_large(limit: Limit, max: usize) -> HeadError {
    HeadError::TooLarge { limit, max }
}
