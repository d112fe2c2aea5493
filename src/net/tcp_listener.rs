//! `TcpListener`: accepts connections on the loop.

use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Socket, Type};

use super::TcpStream;
use crate::runtime::{Direction, IoSource};

/// The listen backlog: how many finished handshakes may wait for `accept`.
/// The kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// A listening TCP socket registered with the running loop.
#[derive(Debug)]
pub struct TcpListener {
    source: IoSource<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (port 0 picks a free port) with `SO_REUSEADDR` and a
    /// listen backlog of 1024. Must be called inside `Runtime::block_on`.
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        // Not `mio::net::TcpListener::bind`: it listens with std's backlog of
        // 128, and a burst of more connects than that overflows the accept
        // queue; the kernel drops the extra SYNs and the clients retry only
        // after a second. socket2 lets us choose the backlog without unsafe.
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_reuse_address(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(BACKLOG)?;
        let listener = mio::net::TcpListener::from_std(socket.into());
        Ok(TcpListener {
            source: IoSource::new(listener)?,
        })
    }

    /// Waits for and accepts the next connection.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) =
            poll_fn(|cx| self.source.poll_io(Direction::Read, cx, |l| l.accept())).await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }

    /// The bound address, with the port the OS chose.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }
}
