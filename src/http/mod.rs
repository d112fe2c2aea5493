//! HTTP/1.x on the wire: the request bytes we send.
//!
//! This stands in for the asyncio seed's request string,
//! `'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' % host`.

mod request;

pub use request::{Method, Request, RequestError, Version, USER_AGENT};
