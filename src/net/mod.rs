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

pub use connector::{connect, ConnectError, Connecting, Family, ATTEMPT_DELAY};
pub use dns::{Addresses, DnsError, PoolLookup, Resolver, CACHE_CAPACITY};
pub use tcp_listener::TcpListener;
pub use tcp_stream::TcpStream;
pub use udp_socket::UdpSocket;

/// Whether any interface has a global IPv6 address (not loopback, not
/// link-local), from `/proc/net/if_inet6`: without one, no IPv6 address
/// outside this machine can be reached, and asking DNS for AAAA records
/// only slows a lookup down. glibc's `AI_ADDRCONFIG` makes the same
/// judgement. Unknown (no `/proc`) counts as yes.
pub fn has_global_ipv6() -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/if_inet6") else {
        return true;
    };
    // Each line: address, interface index, prefix length, scope, flags,
    // name; scope 00 is global.
    table
        .lines()
        .any(|line| line.split_whitespace().nth(3) == Some("00"))
}
