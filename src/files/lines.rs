//! The line protocol every Python-style stream here shares: `readlines(hint)`
//! and `for line in f`, both written once in terms of the stream's own
//! `readline()`.
//!
//! Python defines both on `IOBase` the same way, so [`TextFile`],
//! [`BinaryFile`], [`StringIO`] and [`BytesIO`] only have to say how to read
//! one line. The invariant they all keep: `readline()` returns an empty line
//! only at the end of the stream.
//!
//! [`TextFile`]: super::TextFile
//! [`BinaryFile`]: super::BinaryFile
//! [`StringIO`]: crate::buffers::StringIO
//! [`BytesIO`]: crate::buffers::BytesIO

use super::error::Error;

/// A line as a stream hands it out: `Vec<u8>` from a binary stream,
/// `String` from a text one.
pub(crate) trait Line {
    /// Its length as Python's `len(line)` counts it: bytes for a binary
    /// line, characters (not UTF-8 bytes) for a text one.
    fn python_len(&self) -> usize;

    /// Whether it is the empty line that marks the end of the stream.
    fn is_empty(&self) -> bool;
}

impl Line for Vec<u8> {
    fn python_len(&self) -> usize {
        self.len()
    }

    fn is_empty(&self) -> bool {
        <[u8]>::is_empty(self)
    }
}

impl Line for String {
    fn python_len(&self) -> usize {
        self.chars().count()
    }

    fn is_empty(&self) -> bool {
        str::is_empty(self)
    }
}

/// Python's `readlines(hint)`: lines from `readline` up to the end of the
/// stream, or only until the lines read hold at least `hint` bytes or
/// characters. A `hint` of `None` or 0 means all of them, as in Python.
pub(crate) fn readlines<L: Line>(
    hint: Option<usize>,
    mut readline: impl FnMut() -> Result<L, Error>,
) -> Result<Vec<L>, Error> {
    let hint = hint.filter(|&h| h > 0).unwrap_or(usize::MAX);
    let mut lines = Vec::new();
    let mut total = 0;
    while total < hint {
        let line = readline()?;
        if line.is_empty() {
            break;
        }
        total += line.python_len();
        lines.push(line);
    }
    Ok(lines)
}

/// One step of `for line in f`: turns a `readline()` result into the
/// iterator's next item, `None` at the end of the stream. An error is
/// yielded as `Some(Err)`, so the caller decides whether to go on.
pub(crate) fn next<L: Line>(line: Result<L, Error>) -> Option<Result<L, Error>> {
    match line {
        Ok(line) if line.is_empty() => None,
        other => Some(other),
    }
}
