//! `UdpSocket`: datagrams on the loop, each send and receive a leaf future.
//!
//! The datagram counterpart of [`super::TcpStream`], and what asyncio's
//! `loop.create_datagram_endpoint` gives a protocol. Every operation goes
//! through `IoSource::poll_io`: try the syscall, and on `WouldBlock` clear
//! the readiness bit and wait for the next epoll edge. A readable UDP
//! socket may hold many datagrams, so a reader keeps calling `recv` until
//! `WouldBlock`, one datagram per call (checklist 1).
//!
//! A UDP socket can be *connected* (`connect(2)` sends nothing: it fixes the
//! peer). Then `send` needs no address, and the kernel drops every datagram
//! that does not come from that peer's address and port before we ever see
//! it. The resolver relies on that: one connected socket per query means a
//! forged answer must guess the port as well as the DNS ID.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;
use std::task::{Context, Poll};

use socket2::{Domain, SockRef, Socket, Type};

use crate::runtime::{Counter, Counters, Direction, Drained, IoSource};

/// A UDP socket registered with the running loop. Dropping it deregisters
/// and closes it.
pub struct UdpSocket {
    source: IoSource<mio::net::UdpSocket>,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local", &self.local_addr().ok())
            .field("peer", &self.peer_addr().ok())
            .finish()
    }
}

impl UdpSocket {
    /// Binds a socket to `addr`; port 0 lets the kernel choose a free
    /// ephemeral port (at random, on Linux). Must be called inside
    /// `Runtime::block_on`.
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        let socket = mio::net::UdpSocket::from_std(socket.into());
        Ok(UdpSocket {
            source: IoSource::new(socket)?,
        })
    }

    /// A socket connected to `peer`, bound by the kernel as it connects
    /// (to a random free port, on Linux): `socket` and `connect`, one
    /// syscall fewer than [`UdpSocket::bind`] and [`UdpSocket::connect`].
    /// Must be called inside `Runtime::block_on`.
    pub fn connected(peer: SocketAddr) -> io::Result<UdpSocket> {
        let socket = Socket::new(Domain::for_address(peer), Type::DGRAM, None)?;
        socket.set_nonblocking(true)?;
        socket.connect(&peer.into())?;
        let socket = mio::net::UdpSocket::from_std(socket.into());
        Ok(UdpSocket {
            source: IoSource::new(socket)?,
        })
    }

    /// Fixes the peer: `send` and `recv` then talk to `peer` only, and the
    /// kernel drops datagrams from any other address or port. No packet
    /// is sent, so this never waits.
    pub fn connect(&self, peer: SocketAddr) -> io::Result<()> {
        self.source.get_ref().connect(peer)
    }

    /// Sends one datagram to the connected peer.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send(cx, buf)).await
    }

    /// The poll form of [`UdpSocket::send`].
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let result = self.source.poll_io(Direction::Write, cx, |s| s.send(buf));
        self.count(&result, |c| &c.bytes_written);
        result
    }

    /// Sends one datagram to the connected peer now, without waiting for
    /// a readiness event: a new socket's send buffer is empty, and its
    /// first `EPOLLOUT` edge would only cost a loop turn. `WouldBlock` if
    /// the buffer is full; then [`UdpSocket::send`] waits for room.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        match self.source.get_ref().send(buf) {
            Ok(n) => {
                self.source.core().counters.bytes_written.add(n as u64);
                Ok(n)
            }
            Err(e) => {
                if e.kind() == io::ErrorKind::WouldBlock {
                    self.source.core().counters.would_block.incr();
                    self.source
                        .clear_readiness(Direction::Write, Drained::WouldBlock);
                }
                Err(e)
            }
        }
    }

    /// Sends one datagram to `target` (on an unconnected socket).
    pub async fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        poll_fn(|cx| self.poll_send_to(cx, buf, target)).await
    }

    /// The poll form of [`UdpSocket::send_to`].
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        let result = self
            .source
            .poll_io(Direction::Write, cx, |s| s.send_to(buf, target));
        self.count(&result, |c| &c.bytes_written);
        result
    }

    /// Receives one datagram from the connected peer into `buf`. A
    /// datagram longer than `buf` is cut to fit (its rest is lost).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_recv(cx, buf)).await
    }

    /// The poll form of [`UdpSocket::recv`].
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let result = self.source.poll_io(Direction::Read, cx, |s| s.recv(buf));
        self.count(&result, |c| &c.bytes_read);
        result
    }

    /// Receives one datagram and the address it came from.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.poll_recv_from(cx, buf)).await
    }

    /// The poll form of [`UdpSocket::recv_from`].
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<(usize, SocketAddr)>> {
        let result = self
            .source
            .poll_io(Direction::Read, cx, |s| s.recv_from(buf));
        if let Poll::Ready(Ok((n, _))) = &result {
            self.source.core().counters.bytes_read.add(*n as u64);
        }
        result
    }

    /// Asks for a receive buffer of `bytes` (`SO_RCVBUF`), so a burst of
    /// datagrams that arrives while the loop is busy waits in the kernel
    /// instead of being dropped. Linux doubles the value for its own
    /// bookkeeping and caps it at `net.core.rmem_max`; read back the
    /// result with [`UdpSocket::recv_buffer_size`].
    pub fn set_recv_buffer_size(&self, bytes: usize) -> io::Result<()> {
        SockRef::from(self.source.get_ref()).set_recv_buffer_size(bytes)
    }

    /// The receive buffer's size as the kernel reports it.
    pub fn recv_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self.source.get_ref()).recv_buffer_size()
    }

    /// Asks for a send buffer of `bytes` (`SO_SNDBUF`), capped by
    /// `net.core.wmem_max`.
    pub fn set_send_buffer_size(&self, bytes: usize) -> io::Result<()> {
        SockRef::from(self.source.get_ref()).set_send_buffer_size(bytes)
    }

    /// The send buffer's size as the kernel reports it.
    pub fn send_buffer_size(&self) -> io::Result<usize> {
        SockRef::from(self.source.get_ref()).send_buffer_size()
    }

    /// The local address, with the port the kernel chose.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().local_addr()
    }

    /// The connected peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.get_ref().peer_addr()
    }

    /// Adds a finished transfer's bytes to one of the loop's counters.
    fn count(&self, result: &Poll<io::Result<usize>>, counter: impl Fn(&Counters) -> &Counter) {
        if let Poll::Ready(Ok(n)) = result {
            counter(&self.source.core().counters).add(*n as u64);
        }
    }
}
