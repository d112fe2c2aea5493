//! What one target ends in: its response heads, or one typed error.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::stop::StopReason;
use super::target::TargetError;
use crate::http::{HeadError, ProtocolError, RequestError, ResponseHead};
use crate::net::{ConnectError, DnsError};

/// The kind of a failure, as printed (`dns`, `refused`, ...): the one word
/// users count and filter on.
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
    /// The run was stopped (a signal, the output closed) before the fetch
    /// ended.
    Interrupted,
}

impl ErrorKind {
    /// Every kind, in the order summaries list them (the declaration order).
    pub const ALL: [ErrorKind; 14] = [
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
        ErrorKind::Interrupted,
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
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// What the kind means, in a few words, for `--help`.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorKind::BadTarget => "the target is malformed",
            ErrorKind::Dns => "the name did not resolve, or not to the wanted family",
            ErrorKind::Refused => "nothing listens on that port",
            ErrorKind::Unreachable => "no route to the host or network",
            ErrorKind::ConnectTimeout => "no connection within --connect-timeout",
            ErrorKind::ReadTimeout => "the server was silent for --read-timeout",
            ErrorKind::Timeout => "no complete head within --max-time",
            ErrorKind::Reset => "the connection was reset",
            ErrorKind::Closed => "the server closed before the head ended",
            ErrorKind::Protocol => "the server does not speak HTTP/1.x",
            ErrorKind::TooLarge => "the head went past a size limit",
            ErrorKind::Unsupported => "needs something not built yet (https://)",
            ErrorKind::Local => "out of file descriptors, memory or ports",
            ErrorKind::Interrupted => "the run was stopped (a signal, the output closed) first",
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

/// Which time limit ran out, with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// `--connect-timeout`, while the name was being resolved.
    Resolve(Duration),
    /// `--connect-timeout`, while connecting (to `addr`, if an attempt was
    /// under way).
    Connect {
        /// The address being tried.
        addr: Option<SocketAddr>,
        /// The limit.
        limit: Duration,
    },
    /// `--read-timeout`, while the request was being sent.
    Send(Duration),
    /// `--read-timeout`, while waiting for the response.
    Read(Duration),
    /// `--max-time`, the limit on the whole fetch.
    Total(Duration),
}

/// Why a fetch failed: the typed cause. [`FetchError::kind`] is the word
/// users filter on; `Display` is the message, made only when it is shown.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchError {
    /// The target text could not be used.
    Target(TargetError),
    /// No request can be built for this target.
    Request(RequestError),
    /// Name resolution failed.
    Dns(DnsError),
    /// No connection: no address of the wanted family, or every address
    /// failed (the error of the last one).
    Connect(ConnectError),
    /// Writing the request failed.
    Send(io::Error),
    /// Reading the response failed.
    Read(io::Error),
    /// The response head was malformed, too large, or cut short.
    Head(HeadError),
    /// A time limit ran out.
    Timeout(Expired),
    /// The run was stopped before the fetch ended.
    Interrupted(StopReason),
}

impl FetchError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Target(TargetError::Bad(_)) | FetchError::Request(_) => {
                ErrorKind::BadTarget
            }
            FetchError::Target(TargetError::Unsupported(_)) => ErrorKind::Unsupported,
            FetchError::Dns(_)
            | FetchError::Connect(ConnectError::Dns(_) | ConnectError::NoAddress { .. })
            | FetchError::Timeout(Expired::Resolve(_)) => ErrorKind::Dns,
            FetchError::Connect(ConnectError::Connect { source, .. })
            | FetchError::Send(source)
            | FetchError::Read(source) => ErrorKind::of_io(source),
            FetchError::Head(HeadError::TooLarge { .. }) => ErrorKind::TooLarge,
            FetchError::Head(HeadError::Protocol(ProtocolError::Truncated { .. })) => {
                ErrorKind::Closed
            }
            FetchError::Head(HeadError::Protocol(_)) => ErrorKind::Protocol,
            FetchError::Timeout(Expired::Connect { .. }) => ErrorKind::ConnectTimeout,
            FetchError::Timeout(Expired::Send(_) | Expired::Read(_)) => ErrorKind::ReadTimeout,
            FetchError::Timeout(Expired::Total(_)) => ErrorKind::Timeout,
            FetchError::Interrupted(_) => ErrorKind::Interrupted,
        }
    }
}

impl fmt::Display for FetchError {
    /// The message, without the kind: `connect to 127.0.0.1:80: Connection
    /// refused (os error 111)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Target(e) => e.fmt(f),
            FetchError::Request(e) => e.fmt(f),
            FetchError::Dns(e) => e.fmt(f),
            // The address that failed last, with what the OS said.
            FetchError::Connect(ConnectError::Connect { addr, source, .. }) => {
                write!(f, "connect to {addr}: {source}")
            }
            FetchError::Connect(e) => e.fmt(f),
            FetchError::Send(e) => write!(f, "sending the request: {e}"),
            FetchError::Read(e) => write!(f, "reading the response: {e}"),
            FetchError::Head(e) => e.fmt(f),
            FetchError::Timeout(expired) => match *expired {
                Expired::Resolve(limit) => write!(f, "resolving took over {}", Human(limit)),
                Expired::Connect {
                    addr: Some(addr),
                    limit,
                } => write!(f, "no connection to {addr} within {}", Human(limit)),
                Expired::Connect { addr: None, limit } => {
                    write!(f, "no connection within {}", Human(limit))
                }
                Expired::Send(limit) => {
                    write!(f, "the server took no request bytes for {}", Human(limit))
                }
                Expired::Read(limit) => write!(f, "no data from the server for {}", Human(limit)),
                Expired::Total(limit) => {
                    write!(f, "no complete response head within {}", Human(limit))
                }
            },
            FetchError::Interrupted(reason) => reason.fmt(f),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Target(e) => Some(e),
            FetchError::Request(e) => Some(e),
            FetchError::Dns(e) => Some(e),
            FetchError::Connect(e) => Some(e),
            FetchError::Send(e) | FetchError::Read(e) => Some(e),
            FetchError::Head(e) => Some(e),
            FetchError::Timeout(_) | FetchError::Interrupted(_) => None,
        }
    }
}

/// `?` and `.into()` turn each cause into its `FetchError`.
macro_rules! from_cause {
    ($($cause:ty => $variant:ident),* $(,)?) => {
        $(impl From<$cause> for FetchError {
            fn from(e: $cause) -> Self {
                FetchError::$variant(e)
            }
        })*
    };
}

from_cause! {
    TargetError => Target,
    RequestError => Request,
    DnsError => Dns,
    ConnectError => Connect,
    HeadError => Head,
    Expired => Timeout,
}

/// A duration as the command line spells it: `10s`, `500ms`.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_millis() == 0 && d.as_secs() > 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            write!(f, "{}ms", d.as_millis())
        }
    }
}

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
#[derive(Debug)]
pub struct Outcome {
    /// The target as the user wrote it (the `target` of the JSON output).
    pub input: String,
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

    /// Whether the fetch got as far as the network: false for a target that
    /// was rejected before any lookup.
    pub fn started(&self) -> bool {
        !matches!(self.result, Err(FetchError::Target(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    /// `Summary` counts failures in an array indexed by `kind as usize`.
    #[test]
    fn all_lists_every_kind_in_declaration_order() {
        for (index, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "{kind}");
        }
    }
}
