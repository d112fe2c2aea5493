//! HTTP/1.x on the wire: the request bytes we send, and the response head we
//! read back. No I/O happens here: the [`fetch`](crate::fetch) layer owns the
//! socket, writes each target's request from the run's [`RequestTemplate`]
//! (what [`Request::to_bytes`] does for a single request) and feeds what it
//! reads to a [`HeadParser`].
//!
//! This stands in for the asyncio seed's request string and its
//! `readline()` loop:
//!
//! ```python
//! writer.write(('GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host).encode('utf-8'))
//! while True:
//!     line = yield from reader.readline()
//!     if line == b'\r\n':
//!         break
//!     print('%s header > %s' % (host, line.decode('utf-8').rstrip()))
//! ```
//!
//! The seed trusts the peer: a server that never sends the empty line, sends
//! an endless line, or is not an HTTP server at all makes it loop or buffer
//! without end, and one non-UTF-8 byte makes it crash. Here:
//!
//! - the head ends at the first empty line, whether lines end in `\r\n` or a
//!   bare `\n` (sloppy servers), or a mix of both;
//! - [`Limits`] bound one line, the line count and the bytes of a response's
//!   heads (its interim `1xx` heads and the final head together), and the
//!   number of interim heads; the parser never buffers past them, so memory
//!   stays bounded for any peer, one that sends `100 Continue` for ever
//!   included;
//! - a few empty lines before a status line are skipped (RFC 9112 §2.2's
//!   robustness rule), and then bytes that cannot begin `HTTP/` fail at
//!   once with [`HeadError::Protocol`];
//! - header bytes are kept as bytes, never rejected for not being UTF-8, and
//!   [`escape_line`] makes them safe to print on a terminal.
//!
//! **Invariant**: a [`ResponseHead`] is only produced for a complete head that
//! `httparse` accepted, and it keeps every line of the head as it arrived.

mod error;
mod escape;
mod head;
mod limits;
mod parser;
mod pool;
pub mod redirect;
mod request;

pub use error::{HeadError, Limit, ProtocolError};
pub use escape::{
    escape_line, escape_line_into, escape_lines_into, escaped, escaped_str, printable_run,
};
pub(crate) use head::without_line_ending;
pub use head::ResponseHead;
pub use limits::Limits;
pub use parser::{Feed, HeadParser};
pub use request::{Method, Request, RequestError, RequestTemplate, Version, USER_AGENT};
