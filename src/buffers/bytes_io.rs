//! [`BytesIO`]: an in-memory byte stream, Python's `io.BytesIO`.

use std::io::{self, SeekFrom};

use super::core::{buffer_methods, Buffer};
use crate::files::{impl_io_write, lines, Error, Whence};

/// An in-memory byte stream with Python's `io.BytesIO` semantics, and the
/// `std::io` traits so it can stand in for a file or socket in Rust code.
///
/// Lines end at `\n` only. Loop on [`BytesIO::readline`] or use
/// [`io::BufRead::split`] to walk lines; it is not an `Iterator` because its
/// `take` and `chain` would clash with `io::Read`'s.
#[derive(Debug, Clone)]
pub struct BytesIO {
    buf: Buffer<u8>,
}

impl Default for BytesIO {
    fn default() -> BytesIO {
        BytesIO::new(b"")
    }
}

impl BytesIO {
    /// A stream holding `initial`, positioned at 0: a first write
    /// overwrites the start of it, as in Python.
    pub fn new(initial: &[u8]) -> BytesIO {
        BytesIO {
            buf: Buffer::new(initial.to_vec(), "I/O operation on closed file."),
        }
    }

    /// Writes at the position and returns the number of bytes. A position
    /// past the end is first padded with zero bytes.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.buf.write(data)
    }

    /// Up to `n` bytes, or the rest when `None`.
    pub fn read(&mut self, n: Option<usize>) -> Result<Vec<u8>, Error> {
        self.buf.read(n)
    }

    /// One line with its `\n`, at most `limit` bytes; empty at the end.
    pub fn readline(&mut self, limit: Option<usize>) -> Result<Vec<u8>, Error> {
        self.buf.readline(limit, b'\n')
    }

    /// The remaining lines, or enough of them to hold `hint` bytes.
    pub fn readlines(&mut self, hint: Option<usize>) -> Result<Vec<Vec<u8>>, Error> {
        lines::readlines(hint, || self.readline(None))
    }

    /// All the bytes, whatever the position.
    pub fn getvalue(&self) -> Result<&[u8], Error> {
        self.buf.value()
    }

    /// Moves the position and returns it. Any whence is allowed; a relative
    /// seek before the start stops at 0, as in CPython, while a negative
    /// absolute position is an error.
    pub fn seek(&mut self, offset: i64, whence: Whence) -> Result<usize, Error> {
        self.buf.check_open()?;
        let base = match whence {
            Whence::Start if offset < 0 => {
                return Err(Error::invalid(format!("negative seek value {offset}")))
            }
            Whence::Start => 0,
            Whence::Current => self.buf.tell()?,
            Whence::End => self.buf.len(),
        };
        let pos = i64::try_from(base)
            .map_or(i64::MAX, |base| base.saturating_add(offset))
            .max(0);
        let pos = usize::try_from(pos).unwrap_or(usize::MAX);
        self.buf.set_position(pos);
        Ok(pos)
    }

    buffer_methods!(
        BytesIO,
        unit: "bytes",
        holds: "data",
        closed: "I/O operation on closed file."
    );
}

impl io::Read for BytesIO {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        self.buf.check_open()?;
        let rest = self.buf.remaining();
        let n = rest.len().min(out.len());
        out[..n].copy_from_slice(&rest[..n]);
        self.buf.advance(n);
        Ok(n)
    }
}

impl io::BufRead for BytesIO {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.buf.check_open()?;
        Ok(self.buf.remaining())
    }

    fn consume(&mut self, amt: usize) {
        let amt = amt.min(self.buf.remaining().len());
        self.buf.advance(amt);
    }
}

impl_io_write!(BytesIO, buf);

/// Follows Rust's contract rather than Python's: a seek before the start is
/// an `InvalidInput` error, not clamped to 0 (use [`BytesIO::seek`] for
/// Python's behaviour).
impl io::Seek for BytesIO {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.buf.check_open()?;
        let (base, delta) = match to {
            SeekFrom::Start(n) => (0, i128::from(n)),
            SeekFrom::Current(d) => (self.buf.tell()?, i128::from(d)),
            SeekFrom::End(d) => (self.buf.len(), i128::from(d)),
        };
        let target = base as i128 + delta;
        let pos = usize::try_from(target).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "invalid seek to a negative or overflowing position",
            )
        })?;
        self.buf.set_position(pos);
        Ok(pos as u64)
    }
}
