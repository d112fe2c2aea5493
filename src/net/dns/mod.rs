//! Name resolution: the `getaddrinfo` worker pool.
//!
//! - [`pool`]: [`Resolver`], `getaddrinfo(3)` on worker threads, as asyncio's
//!   `loop.getaddrinfo` does with `run_in_executor`, so the loop thread never
//!   blocks on DNS.

pub mod pool;

pub use pool::{Addresses, DnsError, Resolver, CACHE_CAPACITY};
