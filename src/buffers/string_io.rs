//! [`StringIO`]: an in-memory text stream, Python's `io.StringIO`.

use std::fmt;

use super::core::{buffer_methods, Buffer};
use crate::files::{lines, Error, ErrorKind, Whence};

/// An in-memory text stream with Python's `io.StringIO` semantics (its
/// default `newline='\n'`: lines end at `\n` only, nothing is translated).
///
/// Positions, counts and `tell()` are in characters (Unicode code points),
/// as in Python, not in UTF-8 bytes; the text is stored as `char`s so that
/// each position is a plain index.
#[derive(Debug, Clone)]
pub struct StringIO {
    buf: Buffer<char>,
}

impl Default for StringIO {
    fn default() -> StringIO {
        StringIO::new("")
    }
}

impl StringIO {
    /// A stream holding `initial`, positioned at 0: a first write
    /// overwrites the start of it, as in Python.
    pub fn new(initial: &str) -> StringIO {
        StringIO {
            buf: Buffer::new(initial.chars().collect(), "I/O operation on closed file"),
        }
    }

    /// Writes at the position and returns the number of characters. A
    /// position past the end is first padded with NULs.
    pub fn write(&mut self, text: &str) -> Result<usize, Error> {
        let chars: Vec<char> = text.chars().collect();
        self.buf.write(&chars)
    }

    /// Up to `n` characters, or the rest when `None`.
    pub fn read(&mut self, n: Option<usize>) -> Result<String, Error> {
        Ok(self.buf.read(n)?.into_iter().collect())
    }

    /// One line with its `\n`, at most `limit` characters; `""` at the end.
    pub fn readline(&mut self, limit: Option<usize>) -> Result<String, Error> {
        Ok(self.buf.readline(limit, '\n')?.into_iter().collect())
    }

    /// The remaining lines, or enough of them to hold `hint` characters.
    pub fn readlines(&mut self, hint: Option<usize>) -> Result<Vec<String>, Error> {
        lines::readlines(hint, || self.readline(None))
    }

    /// The whole text, whatever the position.
    pub fn getvalue(&self) -> Result<String, Error> {
        Ok(self.buf.value()?.iter().collect())
    }

    /// Moves the position and returns it. As in CPython, only absolute
    /// positions and `(0, Current)` / `(0, End)` are allowed; a position past
    /// the end is fine.
    pub fn seek(&mut self, offset: i64, whence: Whence) -> Result<usize, Error> {
        self.buf.check_open()?;
        let pos = match whence {
            Whence::Start => usize::try_from(offset)
                .map_err(|_| Error::invalid(format!("Negative seek position {offset}")))?,
            // CPython uses this one message for both whences.
            _ if offset != 0 => {
                return Err(Error::new(
                    ErrorKind::Os,
                    "Can't do nonzero cur-relative seeks",
                ))
            }
            Whence::Current => self.buf.tell()?,
            Whence::End => self.buf.len(),
        };
        self.buf.set_position(pos);
        Ok(pos)
    }

    buffer_methods!(
        StringIO,
        unit: "characters",
        holds: "text",
        closed: "I/O operation on closed file"
    );
}

/// `write!` into a `StringIO`, as `print(..., file=buf)` does in Python.
impl fmt::Write for StringIO {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.write(s).map(drop).map_err(|_| fmt::Error)
    }
}

/// Iterating yields lines as `readline` does, like `for line in buf`.
impl Iterator for StringIO {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        lines::next(self.readline(None))
    }
}
