//! What one target ends in: its response heads, or one typed error.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::http::{HeadError, ProtocolError, ResponseHead};

/// The kind of a failure, as printed (`dns`, `refused`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// The target text is malformed.
    BadTarget,
    /// The name did not resolve (or has no address of the wanted family).
    Dns,
    /// The server refused the connection (nothing listening).
    Refused,
    /// No route to the host or network.
    Unreachable,
    /// No connection within `--connect-timeout`.
    ConnectTimeout,
    /// No byte from the server within `--read-timeout`.
    ReadTimeout,
    /// No complete head within `--max-time`.
    Timeout,
    /// The connection was reset.
    Reset,
    /// The server closed the connection before the head ended.
    Closed,
    /// The server did not speak HTTP.
    Protocol,
    /// The head went past a size limit.
    TooLarge,
    /// Something this tool does not do yet (TLS).
    Unsupported,
    /// A local failure: out of file descriptors, memory, ports.
    Local,
}

impl ErrorKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [ErrorKind; 13] = [
        ErrorKind::BadTarget,
        ErrorKind::Dns,
        ErrorKind::Refused,
        ErrorKind::Unreachable,
        ErrorKind::ConnectTimeout,
        ErrorKind::ReadTimeout,
        ErrorKind::Timeout,
        ErrorKind::Reset,
        ErrorKind::Closed,
        ErrorKind::Protocol,
        ErrorKind::TooLarge,
        ErrorKind::Unsupported,
        ErrorKind::Local,
    ];

    /// The name used in output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadTarget => "bad-target",
            ErrorKind::Dns => "dns",
            ErrorKind::Refused => "refused",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::ConnectTimeout => "connect-timeout",
            ErrorKind::ReadTimeout => "read-timeout",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Closed => "closed",
            ErrorKind::Protocol => "protocol",
            ErrorKind::TooLarge => "too-large",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Local => "local",
        }
    }

    /// Classifies an OS error from connecting, writing or reading.
    pub fn of_io(error: &io::Error) -> ErrorKind {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => return ErrorKind::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => return ErrorKind::Reset,
            io::ErrorKind::TimedOut => return ErrorKind::ConnectTimeout,
            io::ErrorKind::OutOfMemory => return ErrorKind::Local,
            _ => {}
        }
        match error.raw_os_error() {
            Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENETDOWN | libc::EHOSTDOWN) => {
                ErrorKind::Unreachable
            }
            // EMFILE, ENFILE, ENOBUFS, EADDRNOTAVAIL (out of ports), ...
            _ => ErrorKind::Local,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed target: a kind to count and filter on, a message for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchError {
    /// What went wrong, in one word.
    pub kind: ErrorKind,
    /// Details: the host, the address, what the OS or server said.
    pub message: String,
}

impl FetchError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> FetchError {
        FetchError {
            kind,
            message: message.into(),
        }
    }

    /// From a response-head failure.
    pub fn from_head(error: &HeadError) -> FetchError {
        let kind = match error {
            HeadError::TooLarge { .. } => ErrorKind::TooLarge,
            HeadError::Protocol(ProtocolError::Truncated { .. }) => ErrorKind::Closed,
            HeadError::Protocol(_) => ErrorKind::Protocol,
        };
        FetchError::new(kind, error.to_string())
    }
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for FetchError {}

/// How long each phase of one fetch took, from the moment it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// When the fetch started.
    pub start: Instant,
    /// Name resolution (near zero for an IP literal or a cached name).
    pub dns: Option<Duration>,
    /// TCP connect, after DNS.
    pub connect: Option<Duration>,
    /// When the request was fully written, from `start`.
    pub sent: Option<Duration>,
    /// From the request being sent to the first response byte.
    pub first_byte: Option<Duration>,
    /// From start to outcome.
    pub total: Duration,
}

impl Timings {
    pub(crate) fn new(start: Instant) -> Timings {
        Timings {
            start,
            dns: None,
            connect: None,
            sent: None,
            first_byte: None,
            total: Duration::ZERO,
        }
    }
}

/// Everything known about one target at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The target as the user wrote it.
    pub target: String,
    /// `http://host[:port]/path`, once the target parsed.
    pub url: Option<String>,
    /// The address connected to (or last tried).
    pub addr: Option<SocketAddr>,
    /// The response heads (interim `1xx` heads first, the final head last),
    /// or the error.
    pub result: Result<Vec<ResponseHead>, FetchError>,
    /// Phase timings.
    pub timings: Timings,
}

impl Outcome {
    /// The final head, for a success.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.result.as_ref().ok().and_then(|heads| heads.last())
    }
}
