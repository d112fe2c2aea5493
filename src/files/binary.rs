//! [`BinaryFile`]: a file opened with `b`, Python's `BufferedReader`,
//! `BufferedWriter` and `BufferedRandom` in one type.

use std::io::{self, SeekFrom};

use super::error::Error;
use super::lines;
use super::raw::{LineEnd, RawFile};
use super::whence::Whence;

/// Implements `std::io::Write` for a binary stream by handing each call to
/// the Python-style `write` and `flush` of its core field: the [`RawFile`]
/// of a [`BinaryFile`], the buffer of a [`BytesIO`]. Their [`Error`]s become
/// `io::Error`s through `From`.
///
/// A macro because `std::io::Write` is a foreign trait: Rust allows no
/// blanket impl of it over a trait of this crate, so each type needs its own
/// `impl` block, and this writes both.
///
/// [`BytesIO`]: crate::buffers::BytesIO
macro_rules! impl_io_write {
    ($stream:ty, $core:ident) => {
        impl ::std::io::Write for $stream {
            fn write(&mut self, data: &[u8]) -> ::std::io::Result<usize> {
                Ok(self.$core.write(data)?)
            }

            fn flush(&mut self) -> ::std::io::Result<()> {
                Ok(self.$core.flush()?)
            }
        }
    };
}

pub(crate) use impl_io_write;

/// A file opened in binary mode (`"rb"`, `"wb"`, `"ab"`, `"r+b"`, ...):
/// bytes in and out, no codec, lines split only at `\n`.
///
/// Writing a `str` to a binary file, a `TypeError` in Python, does not
/// compile here: [`BinaryFile::write`] takes `&[u8]`. The `std::io` traits
/// are implemented so the file plugs into Rust code that expects them; for
/// that reason it is not an `Iterator` over lines (the two traits' `take`
/// and `chain` would clash): loop on [`BinaryFile::readline`] instead.
///
/// Dropping the file closes it; as writes are not buffered, nothing is lost.
#[derive(Debug)]
pub struct BinaryFile {
    raw: RawFile,
}

impl BinaryFile {
    pub(crate) fn new(raw: RawFile) -> BinaryFile {
        BinaryFile { raw }
    }

    /// Reads up to `n` bytes, or to end of file when `n` is `None`.
    pub fn read(&mut self, n: Option<usize>) -> Result<Vec<u8>, Error> {
        self.raw.read(n)
    }

    /// Reads one line, keeping its `\n`; at most `limit` bytes. `\r` is an
    /// ordinary byte here. Empty at end of file.
    pub fn readline(&mut self, limit: Option<usize>) -> Result<Vec<u8>, Error> {
        self.raw.read_line(LineEnd::Lf, limit)
    }

    /// Reads the remaining lines; with a `hint`, stops once the lines read
    /// hold at least `hint` bytes.
    pub fn readlines(&mut self, hint: Option<usize>) -> Result<Vec<Vec<u8>>, Error> {
        lines::readlines(hint, || self.readline(None))
    }

    /// Writes all of `data` and returns its length in bytes. In append mode
    /// the bytes go to the end of the file wherever the position was.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.raw.write(data)
    }

    /// Writes each chunk in turn; nothing is added between them.
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for line in lines {
            self.write(line.as_ref())?;
        }
        Ok(())
    }

    /// Moves the position and returns it. A negative absolute offset is a
    /// `ValueError` in Python and an [`ErrorKind::InvalidArgument`] here;
    /// seeking past the end is allowed.
    ///
    /// [`ErrorKind::InvalidArgument`]: super::ErrorKind::InvalidArgument
    pub fn seek(&mut self, offset: i64, whence: Whence) -> Result<u64, Error> {
        self.raw.tell()?;
        let to = match whence {
            Whence::Start if offset < 0 => {
                return Err(Error::invalid(format!("negative seek position {offset}")))
            }
            Whence::Start => SeekFrom::Start(offset as u64),
            Whence::Current => SeekFrom::Current(offset),
            Whence::End => SeekFrom::End(offset),
        };
        self.raw.seek(to)
    }

    /// The position in bytes.
    pub fn tell(&mut self) -> Result<u64, Error> {
        self.raw.tell()
    }

    /// Checks the file is open; writes are not buffered, so there is nothing
    /// to push. Kept so Python code ports unchanged.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.raw.flush()
    }

    /// Closes the file; any later operation fails with
    /// `I/O operation on closed file.`. Closing twice is allowed.
    pub fn close(&mut self) -> Result<(), Error> {
        self.raw.close()
    }

    /// Whether [`BinaryFile::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl io::Read for BinaryFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let data = self.raw.read(Some(buf.len()))?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }
}

impl_io_write!(BinaryFile, raw);

impl io::Seek for BinaryFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        Ok(self.raw.seek(pos)?)
    }
}
