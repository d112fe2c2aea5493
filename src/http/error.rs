//! Why a response head could not be read.

use std::fmt;

use super::escape_line;

/// A response head that could not be parsed. Each variant is one error kind
/// the fetch layer reports (`protocol`, `too-large`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    /// The peer is not speaking HTTP/1.x, or spoke it wrongly.
    Protocol(ProtocolError),
    /// The response broke one of the [`Limits`](super::Limits); parsing
    /// stopped before buffering past it.
    TooLarge {
        /// Which limit.
        limit: Limit,
        /// Its value.
        max: usize,
    },
}

/// What was wrong with bytes that are not a valid HTTP/1.x response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// The first bytes cannot begin `HTTP/`: an SSH banner, an SMTP greeting,
    /// TLS, HTTP/0.9 or garbage. Detected as soon as the first wrong byte
    /// arrives.
    NotHttp {
        /// Up to the first 16 bytes received, for the message.
        start: Vec<u8>,
    },
    /// More empty lines than the parser skips came before a status line
    /// (RFC 9112 §2.2 asks a recipient to ignore at least one; a peer that
    /// sends line after empty line is not answering).
    EmptyLines {
        /// How many the parser skips.
        max: usize,
    },
    /// The head was complete but `httparse` rejected it.
    Malformed(httparse::Error),
    /// The connection closed before the head was complete.
    Truncated {
        /// How many bytes of the head had arrived.
        received: usize,
    },
}

/// The limit named by [`HeadError::TooLarge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_line`](super::Limits::max_line).
    Line,
    /// [`Limits::max_lines`](super::Limits::max_lines).
    Lines,
    /// [`Limits::max_head`](super::Limits::max_head).
    Head,
    /// [`Limits::max_interim`](super::Limits::max_interim).
    Interim,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Protocol(error) => error.fmt(f),
            HeadError::TooLarge { limit, max } => match limit {
                Limit::Line => write!(f, "response head has a line over {max} bytes"),
                Limit::Lines => write!(f, "response head has over {max} lines"),
                Limit::Head => write!(f, "response head is over {max} bytes"),
                Limit::Interim => {
                    write!(f, "response has more than {max} interim (1xx) heads")
                }
            },
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::NotHttp { start } => {
                write!(
                    f,
                    "not an HTTP response: starts with \"{}\"",
                    escape_line(start)
                )
            }
            ProtocolError::EmptyLines { max } => {
                write!(f, "more than {max} empty lines before a status line")
            }
            ProtocolError::Malformed(error) => write!(f, "malformed response head: {error}"),
            ProtocolError::Truncated { received: 0 } => {
                f.write_str("connection closed before any response")
            }
            ProtocolError::Truncated { received } => write!(
                f,
                "connection closed after {received} bytes of the response head"
            ),
        }
    }
}

impl std::error::Error for HeadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HeadError::Protocol(error) => Some(error),
            HeadError::TooLarge { .. } => None,
        }
    }
}

impl std::error::Error for ProtocolError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProtocolError::Malformed(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ProtocolError> for HeadError {
    fn from(error: ProtocolError) -> Self {
        HeadError::Protocol(error)
    }
}
