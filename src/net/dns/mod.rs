//! Name resolution: our own stub resolver on the loop, and the
//! `getaddrinfo` worker pool for what it cannot serve.
//!
//! Python resolves through `loop.getaddrinfo`, which runs libc's
//! `getaddrinfo(3)` on a thread pool. This module has that pool
//! ([`Resolver`]) and, beside it, what libc does inside: a stub resolver
//! ([`StubResolver`]) that reads the same configuration files and speaks
//! DNS itself on the loop's reactor, so lookups cost sockets and map
//! entries instead of blocked threads.
//!
//! - [`StubResolver`]: lookups as futures on the loop, A and AAAA in
//!   parallel and each observable ([`Lookup`]), retries, TCP on
//!   truncation, a shared cache and a bound on lookups in flight;
//!   [`LookupError`] says what failed and who said so.
//! - [`wire`]: encoding one query and parsing a response (RFC 1035, 6891).
//! - [`ResolvConf`], [`HostsTable`], [`NsSwitch`]: `/etc/resolv.conf`,
//!   `/etc/hosts` and nsswitch.conf's `hosts:` line, parsed from text or
//!   loaded from a path; [`ResolverConfig`] gathers them.
//! - [`pool`]: [`Resolver`], `getaddrinfo(3)` on worker threads, as asyncio's
//!   `loop.getaddrinfo` does with `run_in_executor`, so the loop thread never
//!   blocks on DNS; for names nsswitch.conf gives to a source we cannot
//!   serve ([`LookupError::Unsupported`]).
//!
//! The invariant: nothing here blocks the loop thread, and no byte from
//! the network can make it panic or grow memory without bound.

mod cache;
mod conf;
mod error;
mod hosts;
mod limiter;
mod nsswitch;
pub mod pool;
mod resolv_conf;
mod stub;
pub mod wire;

pub use conf::{ConfError, MAX_FILE_LEN};
pub use error::{BadResponse, IpFamily, LookupError, Origin};
pub use hosts::HostsTable;
pub use nsswitch::{Criterion, Fallback, NsSwitch, Service, Source};
pub use pool::{Addresses, DnsError, PoolLookup, Resolver, CACHE_CAPACITY};
pub use resolv_conf::{ResolvConf, MAX_ATTEMPTS, MAX_NAMESERVERS, MAX_NDOTS, MAX_TIMEOUT_SECS};
pub use stub::{
    DnsStats, Lookup, ResolverConfig, StubResolver, DEFAULT_MAX_IN_FLIGHT, MAX_CNAME_LINKS,
};
