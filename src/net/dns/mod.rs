//! Name resolution: the DNS wire format and the `getaddrinfo` worker pool.
//!
//! - [`pool`]: [`Resolver`], `getaddrinfo(3)` on worker threads, as asyncio's
//!   `loop.getaddrinfo` does with `run_in_executor`, so the loop thread never
//!   blocks on DNS.
//! - [`wire`]: encoding one query and parsing a response (RFC 1035, 6891).

pub mod pool;
pub mod wire;

pub use pool::{Addresses, DnsError, Resolver, CACHE_CAPACITY};
