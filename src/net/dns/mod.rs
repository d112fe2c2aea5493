//! Name resolution: the DNS wire format and the `getaddrinfo` worker pool.
//!
//! - [`pool`]: [`Resolver`], `getaddrinfo(3)` on worker threads, as asyncio's
//!   `loop.getaddrinfo` does with `run_in_executor`, so the loop thread never
//!   blocks on DNS.
//! - [`wire`]: encoding one query and parsing a response (RFC 1035, 6891).
//! - [`ResolvConf`], [`HostsTable`], [`NsSwitch`]: `/etc/resolv.conf`,
//!   `/etc/hosts` and nsswitch.conf's `hosts:` line, parsed from text or
//!   loaded from a path.

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
pub use pool::{Addresses, DnsError, Resolver, CACHE_CAPACITY};
pub use resolv_conf::{ResolvConf, MAX_ATTEMPTS, MAX_NAMESERVERS, MAX_NDOTS, MAX_TIMEOUT_SECS};
pub use stub::{
    DnsStats, Lookup, ResolverConfig, StubResolver, DEFAULT_MAX_IN_FLIGHT, MAX_CNAME_LINKS,
};
