//! [`open`] and [`OpenOptions`]: Python's `open(file, mode, encoding=,
//! errors=, newline=)`.

use std::io;
use std::path::Path;

use super::binary::BinaryFile;
use super::codec::{Encoding, Errors};
use super::error::{Error, ErrorKind};
use super::mode::{Access, Mode};
use super::newline::Newline;
use super::raw::RawFile;
use super::text::TextFile;

/// What [`open`] returns: the mode string decides text or binary at run
/// time, as in Python. Use [`File::text`] or [`File::binary`] to get the
/// typed file.
#[derive(Debug)]
pub enum File {
    /// Opened without `b`.
    Text(TextFile),
    /// Opened with `b`.
    Binary(BinaryFile),
}

impl File {
    /// The text file, or a [`ErrorKind::WrongKind`] error if `b` was given.
    pub fn text(self) -> Result<TextFile, Error> {
        match self {
            File::Text(file) => Ok(file),
            File::Binary(_) => Err(Error::new(
                ErrorKind::WrongKind,
                "expected a text file, but it was opened in binary mode",
            )),
        }
    }

    /// The binary file, or a [`ErrorKind::WrongKind`] error if `b` was
    /// missing.
    pub fn binary(self) -> Result<BinaryFile, Error> {
        match self {
            File::Binary(file) => Ok(file),
            File::Text(_) => Err(Error::new(
                ErrorKind::WrongKind,
                "expected a binary file, but it was opened in text mode",
            )),
        }
    }
}

/// The keyword arguments of Python's `open()`. Names are checked when
/// [`OpenOptions::open`] runs, before the file is touched.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    encoding: Option<String>,
    errors: Option<String>,
    newline: Option<String>,
}

impl OpenOptions {
    /// No keyword arguments: UTF-8, `strict`, universal newlines.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// `encoding=`: a Python-style name, see [`Encoding::from_name`].
    pub fn encoding(&mut self, name: &str) -> &mut OpenOptions {
        self.encoding = Some(name.to_owned());
        self
    }

    /// `errors=`: `strict`, `ignore`, `replace` or `backslashreplace`.
    pub fn errors(&mut self, name: &str) -> &mut OpenOptions {
        self.errors = Some(name.to_owned());
        self
    }

    /// `newline=`: `""`, `"\n"`, `"\r"` or `"\r\n"`; see [`Newline`].
    pub fn newline(&mut self, value: &str) -> &mut OpenOptions {
        self.newline = Some(value.to_owned());
        self
    }

    /// Opens `path` with a Python mode string.
    pub fn open(&self, path: impl AsRef<Path>, mode: &str) -> Result<File, Error> {
        let path = path.as_ref();
        let given = [
            ("encoding", self.encoding.is_some()),
            ("errors", self.errors.is_some()),
            ("newline", self.newline.is_some()),
        ];
        let text_argument = given.iter().find(|(_, set)| *set).map(|(name, _)| *name);
        let mode = Mode::parse_with(mode, text_argument)?;
        // Resolve every name before touching the file, so that a typo cannot
        // leave a truncated file behind (CPython truncates first).
        let text = if mode.is_binary() {
            None
        } else {
            Some((
                Encoding::from_name(self.encoding.as_deref().unwrap_or("utf-8"))?,
                Errors::from_name(self.errors.as_deref().unwrap_or("strict"))?,
                Newline::from_python(self.newline.as_deref())?,
            ))
        };
        let os_error = |e: io::Error| Error::os(e, Some(path));
        let file = mode.fs_options().open(path).map_err(os_error)?;
        // Opening a directory read-only succeeds on Linux; Python checks.
        if file.metadata().map_err(os_error)?.is_dir() {
            return Err(os_error(io::Error::from_raw_os_error(libc::EISDIR)));
        }
        let raw = RawFile::new(file, mode, mode.access() == Access::Append).map_err(os_error)?;
        Ok(match text {
            Some((encoding, errors, newline)) => {
                File::Text(TextFile::new(raw, encoding, errors, newline))
            }
            None => File::Binary(BinaryFile::new(raw)),
        })
    }
}

/// Opens `path` like Python's `open(path, mode)`: UTF-8, `strict`,
/// universal newlines. See [`OpenOptions`] for the keyword arguments.
pub fn open(path: impl AsRef<Path>, mode: &str) -> Result<File, Error> {
    OpenOptions::new().open(path, mode)
}
