//! Nonblocking TCP and name resolution on top of the runtime's reactor.
//!
//! - [`TcpStream`]: `connect`, `read`, `write`, each a leaf future.
//! - [`TcpListener`]: `bind` and `accept`, for tests, examples and servers.
//! - [`UdpSocket`]: datagrams, `send`/`recv` as leaf futures; the resolver's
//!   transport.
//! - [`dns`]: names to addresses. [`dns::StubResolver`] speaks DNS itself
//!   on the loop; [`Resolver`] runs `getaddrinfo` on a small pool of worker
//!   threads, as asyncio's `loop.getaddrinfo` does with `run_in_executor`,
//!   so the loop thread never blocks on DNS.
//! - [`Connecting`] and [`connect`]: a host's addresses (or its name) and a
//!   port to a connected stream, racing the addresses as RFC 8305's Happy
//!   Eyeballs does: the connecting half of `asyncio.open_connection` (with
//!   `happy_eyeballs_delay=0.25`), shared with the fetch engine.
//!
//! Nothing here knows about HTTP.

mod connector;
pub mod dns;
mod tcp_listener;
mod tcp_stream;
mod udp_socket;

pub use connector::{connect, ConnectError, Connecting, Family};
pub use dns::{Addresses, DnsError, PoolLookup, Resolver, CACHE_CAPACITY};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp_socket::UdpSocket;
