//! From a host and port to a connected [`TcpStream`].

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use super::{DnsError, Resolver, TcpStream};

/// Which address families a connection may use (`-4` / `-6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Whatever the resolver returns, in its order.
    #[default]
    Any,
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// Whether `ip` is of this family.
    pub fn allows(self, ip: &IpAddr) -> bool {
        match self {
            Family::Any => true,
            Family::V4 => ip.is_ipv4(),
            Family::V6 => ip.is_ipv6(),
        }
    }
}

/// Why a connection could not be made.
#[derive(Debug)]
pub enum ConnectError {
    /// The name did not resolve.
    Dns(DnsError),
    /// The name resolved, but to no address of the wanted family.
    NoAddress {
        /// The host that was looked up.
        host: String,
        /// The family that was asked for.
        family: Family,
    },
    /// Every address was tried and failed; this is the last failure.
    Connect {
        /// The address of the last attempt.
        addr: SocketAddr,
        /// What `connect` reported (refused, unreachable, ...).
        source: io::Error,
        /// How many addresses were tried.
        attempts: usize,
    },
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Dns(e) => e.fmt(f),
            ConnectError::NoAddress { host, family } => {
                write!(f, "'{host}' has no {family:?} address")
            }
            ConnectError::Connect {
                addr,
                source,
                attempts: 1,
            } => write!(f, "connect to {addr} failed: {source}"),
            ConnectError::Connect {
                addr,
                source,
                attempts,
            } => write!(
                f,
                "all {attempts} addresses failed; the last, {addr}: {source}"
            ),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Dns(e) => Some(e),
            ConnectError::NoAddress { .. } => None,
            ConnectError::Connect { source, .. } => Some(source),
        }
    }
}

/// Resolves `host` (no lookup for an IP literal) and connects to `port` on
/// each of its addresses in turn until one answers, as `asyncio.open_connection`
/// does without happy eyeballs. Wrap it in [`crate::runtime::timeout`] to
/// bound the whole attempt.
pub async fn connect(
    resolver: &Resolver,
    host: &str,
    port: u16,
    family: Family,
) -> Result<TcpStream, ConnectError> {
    let ips = resolver.lookup(host).await.map_err(ConnectError::Dns)?;
    let mut last = None;
    let mut attempts = 0;
    for ip in ips.iter().filter(|ip| family.allows(ip)) {
        let addr = SocketAddr::new(*ip, port);
        attempts += 1;
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => {
                log::debug!("connect {host} via {addr}: {e}");
                last = Some((addr, e));
            }
        }
    }
    match last {
        Some((addr, source)) => Err(ConnectError::Connect {
            addr,
            source,
            attempts,
        }),
        None => Err(ConnectError::NoAddress {
            host: host.to_owned(),
            family,
        }),
    }
}
