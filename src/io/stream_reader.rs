//! `StreamReader`: lines, separators and exact sizes from a TCP stream.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::num::NonZeroUsize;
use std::rc::Rc;
use std::task::Poll;

use crate::net::TcpStream;

/// asyncio's `_DEFAULT_LIMIT`: 64 KiB for one line or separator-ended chunk.
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// Bytes asked of the socket per read when the buffer needs more.
const READ_CHUNK: usize = 4 * 1024;

/// Why a read gave no data.
#[derive(Debug)]
pub enum ReadError {
    /// The line or chunk is longer than the limit: asyncio's
    /// `LimitOverrunError` (which `readline` turns into `ValueError` with the
    /// same message).
    LimitOverrun {
        /// asyncio's wording: "Separator is found, but chunk is longer than
        /// limit" or "Separator is not found, and chunk exceed the limit".
        message: &'static str,
        /// How many bytes were past the scan start when the limit hit.
        consumed: usize,
    },
    /// EOF came first: asyncio's `IncompleteReadError`.
    IncompleteRead {
        /// What was read before EOF.
        partial: Vec<u8>,
        /// The size asked for (`None` for `read_until`).
        expected: Option<usize>,
    },
    /// The separator given to `read_until` was empty.
    EmptySeparator,
    /// The socket failed (reset, ...).
    Io(io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::LimitOverrun { message, .. } => f.write_str(message),
            ReadError::IncompleteRead {
                partial,
                expected: Some(n),
            } => write!(
                f,
                "{} bytes read on a total of {n} expected bytes",
                partial.len()
            ),
            ReadError::IncompleteRead {
                partial,
                expected: None,
            } => {
                write!(
                    f,
                    "{} bytes read on a total of undefined expected bytes",
                    partial.len()
                )
            }
            ReadError::EmptySeparator => {
                f.write_str("Separator should be at least one-byte string")
            }
            ReadError::Io(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReadError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        ReadError::Io(e)
    }
}

/// The reading half of a connection: asyncio's `StreamReader`.
///
/// Differences from asyncio, on purpose:
/// - Reading is pulled, not pushed: the socket is read only when a caller
///   wants more, so the buffer never grows past the limit plus one read
///   chunk and no `pause_reading` is needed.
/// - Methods take `&mut self`, so two concurrent reads (asyncio's
///   `RuntimeError`) cannot be written.
pub struct StreamReader {
    stream: Rc<TcpStream>,
    buf: Vec<u8>,
    /// Start of the unread bytes in `buf`.
    pos: usize,
    eof: bool,
    limit: usize,
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("buffered", &self.buffered().len())
            .field("eof", &self.eof)
            .field("limit", &self.limit)
            .finish()
    }
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() == 1 {
        return haystack.iter().position(|&b| b == needle[0]);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl StreamReader {
    /// A reader over `stream` with the default 64 KiB limit.
    pub fn new(stream: Rc<TcpStream>) -> StreamReader {
        StreamReader {
            stream,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            limit: DEFAULT_LIMIT,
        }
    }

    /// Sets the line limit (asyncio's `limit=`; zero is impossible by type,
    /// where asyncio raises `ValueError: Limit cannot be <= 0`).
    pub fn set_limit(&mut self, limit: NonZeroUsize) {
        self.limit = limit.get();
    }

    /// True when the peer closed and the buffer is empty: asyncio's `at_eof()`.
    pub fn at_eof(&self) -> bool {
        self.eof && self.buffered().is_empty()
    }

    /// The bytes read from the socket and not yet returned.
    pub fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Takes `n` buffered bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.consume(n);
        out
    }

    fn consume(&mut self, n: usize) {
        self.pos += n;
        if self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        }
    }

    fn clear(&mut self) -> Vec<u8> {
        let rest = self.buf.split_off(self.pos);
        self.buf.clear();
        self.pos = 0;
        rest
    }

    /// Reads once more from the socket into the buffer; sets EOF on `Ok(0)`.
    async fn fill(&mut self) -> io::Result<()> {
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        // Grow the buffer for the read and shrink it back to the bytes that
        // came *within one poll*: when a `timeout` drops us at the await, the
        // buffer must hold only real bytes, never a zero-filled tail.
        let buf = &mut self.buf;
        let stream = &self.stream;
        let n = poll_fn(|cx| {
            let len = buf.len();
            buf.resize(len + READ_CHUNK, 0);
            let read = stream.poll_read(cx, &mut buf[len..]);
            let n = match read {
                Poll::Ready(Ok(n)) => n,
                _ => 0,
            };
            buf.truncate(len + n);
            read
        })
        .await?;
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }

    /// Reads one line, ending in `\n` (kept, as is a `\r` before it):
    /// `await reader.readline()`.
    ///
    /// At EOF the last partial line is returned, then empty vectors for ever.
    /// A line longer than the limit is an error, and as in asyncio it is
    /// thrown away: up to its `\n` if that arrived, else the whole buffer, so
    /// the next call starts clean.
    pub async fn readline(&mut self) -> Result<Vec<u8>, ReadError> {
        match self.read_until(b"\n").await {
            Ok(line) => Ok(line),
            Err(ReadError::IncompleteRead { partial, .. }) => Ok(partial),
            Err(ReadError::LimitOverrun { message, consumed }) => {
                if self.buffered().get(consumed) == Some(&b'\n') {
                    self.consume(consumed + 1);
                } else {
                    self.clear();
                }
                Err(ReadError::LimitOverrun { message, consumed })
            }
            Err(e) => Err(e),
        }
    }

    /// Reads up to and including `separator`: `await reader.readuntil(sep)`.
    ///
    /// Over the limit: `LimitOverrun`, and nothing is consumed. EOF first:
    /// `IncompleteRead` with everything buffered, and the buffer is cleared.
    pub async fn read_until(&mut self, separator: &[u8]) -> Result<Vec<u8>, ReadError> {
        if separator.is_empty() {
            return Err(ReadError::EmptySeparator);
        }
        let mut scanned = 0; // bytes already searched, minus a separator's overlap
        loop {
            let buffered = self.buffered();
            if let Some(offset) = find(&buffered[scanned..], separator) {
                let at = scanned + offset;
                if at > self.limit {
                    return Err(ReadError::LimitOverrun {
                        message: "Separator is found, but chunk is longer than limit",
                        consumed: at,
                    });
                }
                return Ok(self.take(at + separator.len()));
            }
            let unmatched = buffered.len() + 1 - separator.len().min(buffered.len() + 1);
            if unmatched > self.limit {
                return Err(ReadError::LimitOverrun {
                    message: "Separator is not found, and chunk exceed the limit",
                    consumed: unmatched,
                });
            }
            if self.eof {
                return Err(ReadError::IncompleteRead {
                    partial: self.clear(),
                    expected: None,
                });
            }
            scanned = unmatched;
            self.fill().await?;
        }
    }

    /// Reads exactly `n` bytes: `await reader.readexactly(n)`. EOF first:
    /// `IncompleteRead` with what there was (the buffer is cleared).
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buffered().len() < n {
            if self.eof {
                return Err(ReadError::IncompleteRead {
                    partial: self.clear(),
                    expected: Some(n),
                });
            }
            self.fill().await?;
        }
        Ok(self.take(n))
    }

    /// Reads 1 to `n` bytes, or an empty vector at EOF (or for `n == 0`):
    /// `await reader.read(n)`.
    pub async fn read(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.buffered().is_empty() && !self.eof {
            self.fill().await?;
        }
        let available = self.buffered().len().min(n);
        Ok(self.take(available))
    }

    /// Reads until EOF: `await reader.read()`.
    pub async fn read_to_end(&mut self) -> Result<Vec<u8>, ReadError> {
        while !self.eof {
            self.fill().await?;
        }
        Ok(self.clear())
    }
}
