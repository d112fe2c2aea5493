//! Python's `open()` on top of `std::fs`: mode strings, text encodings,
//! error handlers and universal newlines.
//!
//! ```no_run
//! use fetch_headers::files::{self, OpenOptions};
//!
//! # fn main() -> Result<(), fetch_headers::files::Error> {
//! let mut f = files::open("notes.txt", "w")?.text()?;
//! f.write("héllo\n")?; // 6 characters, 7 bytes
//! f.close()?;
//!
//! let mut f = OpenOptions::new()
//!     .encoding("gbk")
//!     .errors("ignore")
//!     .open("legacy.txt", "r")?
//!     .text()?;
//! for line in &mut f {
//!     print!("{}", line?);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! The mode string decides, as in Python, whether the file is text
//! ([`TextFile`]: `&str` in, `String` out, counted in characters) or binary
//! ([`BinaryFile`]: bytes in and out). Every operation on a closed file, and
//! every read of a write-only file or write of a read-only one, fails with
//! the error Python raises. Failures are [`Error`]s whose [`ErrorKind`] names
//! the Python exception and whose message is worded like CPython 3.11's.
//!
//! # Where this differs from Python, on purpose
//!
//! - Python's `TypeError`s for `write(str)` on a binary file and
//!   `write(bytes)` on a text file cannot happen: the types forbid them.
//! - An unknown `errors=` name fails when the file is opened; CPython only
//!   notices it at the first undecodable byte. Encoding and newline names
//!   are also checked before the file is created or truncated.
//! - `gbk` is CPython's GBK, not the WHATWG one: 0x80, GB18030 four-byte
//!   sequences and GB18030 two-byte additions are errors, as in Python.
//!   Name `gb18030` to accept them. Other legacy encodings use the WHATWG
//!   tables; see [`Encoding`] for the details.
//! - Text-mode `tell()` is the byte offset between lines; inside a line it is
//!   a cookie with the character count above bit 40, as CPython's packs its
//!   decoder state. Error positions count from the start of the file.
//! - Writes are not buffered: each `write` is one `write(2)`. Dropping a file
//!   therefore never loses data, and [`TextFile::flush`] has nothing to do.
//! - Encodings must be ASCII-compatible (no `utf-16`, no `iso-2022-jp`).

mod binary;
mod codec;
mod error;
pub(crate) mod lines;
mod mode;
mod newline;
mod open;
mod raw;
mod text;
mod whence;

use std::path::Path;

pub(crate) use binary::impl_io_write;
pub use binary::BinaryFile;
pub use codec::{Encoding, Errors, UTF_8};
pub use error::{Error, ErrorKind};
pub use mode::{Access, Mode};
pub use newline::Newline;
pub use open::{open, File, OpenOptions};
pub use text::TextFile;
pub use whence::Whence;

/// Reads a whole text file in one call, as
/// `open(path, encoding=encoding).read()` does.
pub fn read_to_string(path: impl AsRef<Path>, encoding: &str) -> Result<String, Error> {
    OpenOptions::new()
        .encoding(encoding)
        .open(path, "r")?
        .text()?
        .read(None)
}

/// Creates or truncates `path` and writes `text` as UTF-8; returns the
/// number of characters written, as `open(path, 'w').write(text)` does.
pub fn write(path: impl AsRef<Path>, text: &str) -> Result<usize, Error> {
    open(path, "w")?.text()?.write(text)
}

/// Appends `text` as UTF-8, creating `path` if needed; returns the number of
/// characters written, as `open(path, 'a').write(text)` does.
pub fn append(path: impl AsRef<Path>, text: &str) -> Result<usize, Error> {
    open(path, "a")?.text()?.write(text)
}
