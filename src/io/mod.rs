//! Buffered streams over a TCP connection: asyncio's `StreamReader`,
//! `StreamWriter` and `open_connection`.
//!
//! - [`StreamReader`] buffers what the socket delivers and cuts it into lines
//!   ([`StreamReader::readline`]), up to a separator, or into exact sizes,
//!   with asyncio's limit rules and errors.
//! - [`StreamWriter`] never blocks on `write`: it sends what the socket takes
//!   at once and keeps the rest, which a small flusher task sends as the
//!   socket drains. [`StreamWriter::drain`] is the back-pressure point.
//!
//! Deliberate differences from asyncio are listed on each type.

mod stream_reader;
mod stream_writer;

use std::rc::Rc;

pub use stream_reader::{ReadError, StreamReader, DEFAULT_LIMIT};
pub use stream_writer::{StreamWriter, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER};

use crate::net::{self, ConnectError, Family, Resolver, TcpStream};

/// Connects to `host:port` and returns the two halves of the connection:
/// `reader, writer = await asyncio.open_connection(host, port)`.
///
/// An IP literal is used directly; a name is resolved on the shared
/// resolver's worker threads ([`Resolver::global`]), and its addresses are
/// tried in turn. `TCP_NODELAY` is set, as asyncio does.
pub async fn open_connection(
    host: &str,
    port: u16,
) -> Result<(StreamReader, StreamWriter), ConnectError> {
    let stream = net::connect(Resolver::global(), host, port, Family::Any).await?;
    // Best effort, as in asyncio: a socket that refuses the option still works.
    let _ = stream.set_nodelay(true);
    Ok(split(stream))
}

/// Splits a connected stream into a reader and a writer that share it.
pub fn split(stream: TcpStream) -> (StreamReader, StreamWriter) {
    let stream = Rc::new(stream);
    (StreamReader::new(stream.clone()), StreamWriter::new(stream))
}
