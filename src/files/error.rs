//! The one error type of [`files`](crate::files) and [`buffers`](crate::buffers).
//!
//! Python reports file and buffer failures with a handful of exception classes
//! (`ValueError`, `io.UnsupportedOperation`, `FileNotFoundError`,
//! `UnicodeDecodeError`, ...). [`ErrorKind`] names those classes so callers can
//! branch on them, and the message is worded like CPython's so that a user who
//! knows Python recognises it.

use std::fmt;
use std::io;
use std::path::Path;

/// What went wrong, named after the Python exception it stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A bad argument: an invalid mode string, newline value or seek offset
    /// (`ValueError`).
    InvalidArgument,
    /// An operation on a closed file or buffer (`ValueError: I/O operation on
    /// closed file.`).
    Closed,
    /// Reading a write-only file, writing a read-only one, or a seek the text
    /// layer cannot do (`io.UnsupportedOperation`).
    Unsupported,
    /// The file does not exist (`FileNotFoundError`).
    NotFound,
    /// Mode `x` found an existing file (`FileExistsError`).
    AlreadyExists,
    /// Bytes that are invalid in the chosen encoding (`UnicodeDecodeError`).
    Decode,
    /// Text the chosen encoding cannot represent (`UnicodeEncodeError`).
    Encode,
    /// An unknown encoding or error-handler name (`LookupError`).
    UnknownName,
    /// A text file was asked for where a binary one was opened, or the
    /// reverse (`TypeError`).
    WrongKind,
    /// Any other failure reported by the operating system (`OSError`).
    Os,
}

impl ErrorKind {
    /// The name of the CPython exception class this kind mirrors, for messages
    /// and for comparing against a real Python in tests.
    pub fn python_exception(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument | ErrorKind::Closed => "ValueError",
            ErrorKind::Unsupported => "UnsupportedOperation",
            ErrorKind::NotFound => "FileNotFoundError",
            ErrorKind::AlreadyExists => "FileExistsError",
            ErrorKind::Decode => "UnicodeDecodeError",
            ErrorKind::Encode => "UnicodeEncodeError",
            ErrorKind::UnknownName => "LookupError",
            ErrorKind::WrongKind => "TypeError",
            ErrorKind::Os => "OSError",
        }
    }
}

/// A failed file, codec or buffer operation: a [`ErrorKind`] plus a message
/// worded like CPython's, and the OS error underneath when there is one.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<io::Error>,
}

impl Error {
    /// Builds an error from its parts; the library's own constructors below
    /// cover the common cases.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// The Python exception class this error mirrors.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone, without the exception name, as `str(exc)` gives it.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn closed(message: &'static str) -> Error {
        Error::new(ErrorKind::Closed, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn unsupported(message: &'static str) -> Error {
        Error::new(ErrorKind::Unsupported, message)
    }

    /// Wraps an OS error the way CPython words it:
    /// `[Errno 2] No such file or directory: 'missing.txt'`.
    pub(crate) fn os(err: io::Error, path: Option<&Path>) -> Error {
        let kind = match err.kind() {
            io::ErrorKind::NotFound => ErrorKind::NotFound,
            io::ErrorKind::AlreadyExists => ErrorKind::AlreadyExists,
            _ => ErrorKind::Os,
        };
        let mut message = match err.raw_os_error() {
            // std's Display appends " (os error N)" to strerror; Python puts
            // the number first instead.
            Some(code) => {
                let text = err.to_string();
                let suffix = format!(" (os error {code})");
                let strerror = text.strip_suffix(&suffix).unwrap_or(&text);
                format!("[Errno {code}] {strerror}")
            }
            None => err.to_string(),
        };
        if let Some(path) = path {
            message.push_str(": ");
            message.push_str(&repr(&path.to_string_lossy()));
        }
        Error {
            kind,
            message,
            source: Some(err),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Lets [`BytesIO`](crate::buffers::BytesIO) and
/// [`BinaryFile`](crate::files::BinaryFile) serve `std::io` traits without
/// losing the Python-style message.
impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        let kind = match err.kind {
            ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => io::ErrorKind::AlreadyExists,
            ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::InvalidArgument | ErrorKind::UnknownName | ErrorKind::WrongKind => {
                io::ErrorKind::InvalidInput
            }
            ErrorKind::Decode | ErrorKind::Encode => io::ErrorKind::InvalidData,
            ErrorKind::Closed | ErrorKind::Os => io::ErrorKind::Other,
        };
        io::Error::new(kind, err)
    }
}

/// Quotes a string the way Python's `repr(str)` does, so messages such as
/// `invalid mode: 'U'` read exactly like CPython's.
pub(crate) fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
