//! `TcpStream`: a nonblocking TCP connection driven by the loop.

use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use crate::runtime::{Direction, Drained, IoSource};

/// A TCP connection registered with the running loop.
///
/// Methods take `&self`, so a reader half and a writer half can share one
/// stream (as asyncio's `StreamReader` and `StreamWriter` share a transport).
/// Dropping the stream deregisters and closes the socket.
#[derive(Debug)]
pub struct TcpStream {
    source: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`.
    ///
    /// The `connect(2)` call returns at once with `EINPROGRESS`; the socket
    /// becomes writable when the handshake ends, either way. `take_error()`
    /// then tells success from failure (refused, unreachable), and
    /// `peer_addr()` failing with `NotConnected` means the wakeup was
    /// spurious and we wait again.
    pub async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::start_connect(addr)?;
        poll_fn(|cx| stream.poll_connected(cx)).await?;
        log::debug!("connected to {addr}");
        Ok(stream)
    }

    /// Starts connecting to `addr` without waiting: the first half of
    /// [`TcpStream::connect`], for hand-written futures, which then call
    /// [`TcpStream::poll_connected`].
    pub fn start_connect(addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)
    }

    /// Wraps an already connected (or connecting) mio stream.
    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        let source = IoSource::new(stream)?;
        source.core().counters.connection_opened();
        Ok(TcpStream { source })
    }

    /// Ready once a connect started by [`TcpStream::start_connect`] has
    /// finished, with its error if it failed.
    pub fn poll_connected(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            let ready = self.source.poll_io(Direction::Write, cx, |s| {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                }
            });
            match ready {
                Poll::Ready(Ok(true)) => return Poll::Ready(Ok(())),
                // Woken before the handshake finished: wait for the next edge.
                Poll::Ready(Ok(false)) => self
                    .source
                    .clear_readiness(Direction::Write, Drained::WouldBlock),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Reads up to `buf.len()` bytes, waiting until at least one byte (or
    /// EOF, `Ok(0)`) is there.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// The poll form of [`TcpStream::read`], for hand-written futures.
    pub fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let result = self
            .source
            .poll_transfer(Direction::Read, cx, len, |mut s| s.read(buf));
        if let Poll::Ready(Ok(n)) = result {
            self.source.core().counters.bytes_read.add(n as u64);
        }
        result
    }

    /// Writes some of `buf`, waiting until the socket accepts at least one
    /// byte.
    pub async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// The poll form of [`TcpStream::write`].
    pub fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = self
            .source
            .poll_transfer(Direction::Write, cx, buf.len(), |mut s| s.write(buf));
        if let Poll::Ready(Ok(n)) = result {
            self.source.core().counters.bytes_written.add(n as u64);
        }
        result
    }

    /// Writes some of `bufs`, in order, with one `writev(2)`: the TLS layer
    /// hands over a whole flight of records (several buffers) at once.
    pub fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|buf| buf.len()).sum();
        let result = self
            .source
            .poll_transfer(Direction::Write, cx, len, |mut s| s.write_vectored(bufs));
        if let Poll::Ready(Ok(n)) = result {
            self.source.core().counters.bytes_written.add(n as u64);
        }
        result
    }

    /// Writes all of `buf`, waiting for the socket as often as needed.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            match self.write(buf).await? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => buf = &buf[n..],
            }
        }
        Ok(())
    }

    /// Writes what the socket takes right now, never waiting: `Ok(0)` when
    /// its send buffer is full. The immediate `send` of asyncio's
    /// `transport.write`.
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match (&mut self.source.get_ref()).write(buf) {
            Ok(n) => {
                self.source.core().counters.bytes_written.add(n as u64);
                if n < buf.len() {
                    // The send buffer is full: the flusher waits for the
                    // next writable edge instead of trying again now.
                    self.source
                        .clear_readiness(Direction::Write, Drained::Short);
                }
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                self.source.core().counters.would_block.incr();
                self.source
                    .clear_readiness(Direction::Write, Drained::WouldBlock);
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    /// Shuts down the read half, the write half or both (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self.source.get_ref().shutdown(how) {
            // The peer already closed: there is nothing left to shut down.
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }

    /// The remote address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (asyncio sets it on every TCP transport).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.get_ref().set_nodelay(nodelay)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        self.source.core().counters.connection_closed();
    }
}
