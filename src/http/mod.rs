//! HTTP/1.x on the wire: the request bytes we send, and a way to print what
//! comes back safely.
//!
//! This stands in for the asyncio seed's request string,
//! `'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host`.

mod escape;
mod request;

pub use escape::escape_line;
pub use request::{Method, Request, RequestError, Version, USER_AGENT};
