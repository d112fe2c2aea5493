//! From a host and port to a connected [`TcpStream`]: the connector.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Addresses, DnsError, Resolver, TcpStream};

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

/// Connecting to one of a host's addresses: the address walk that both
/// [`connect`] and the fetch engine use. It is a future whose output is the
/// connected stream.
///
/// The addresses of the wanted [`Family`] are tried in the resolver's
/// order, one at a time: an attempt that fails (refused, unreachable, or a
/// socket that could not even be created) is dropped, and the next address
/// is tried at once. The first attempt to connect wins. When every address
/// has failed, the error is the last one, with how many were tried.
///
/// Attempts live in this one type so that racing them (RFC 8305's Happy
/// Eyeballs: start the next address while an earlier one is still
/// connecting) changes this type alone, not its callers.
#[derive(Debug)]
pub struct Connecting {
    addrs: Addresses,
    port: u16,
    family: Family,
    /// Index into `addrs` of the next address to consider.
    next: usize,
    /// Addresses tried so far.
    attempts: usize,
    /// The attempt in progress; taken when it connects.
    current: Option<Attempt>,
}

/// One connection attempt.
#[derive(Debug)]
struct Attempt {
    addr: SocketAddr,
    stream: TcpStream,
}

impl Connecting {
    /// Starts connecting to `port` on the first of `addrs` of `family`.
    /// Fails at once if none is of that family (`host` names the host in
    /// that error), or if no socket could be started on any of them.
    pub fn start(
        host: &str,
        addrs: Addresses,
        port: u16,
        family: Family,
    ) -> Result<Connecting, ConnectError> {
        let Some(first) = addrs.iter().position(|ip| family.allows(ip)) else {
            return Err(ConnectError::NoAddress {
                host: host.to_owned(),
                family,
            });
        };
        let addr = SocketAddr::new(addrs[first], port);
        let mut connecting = Connecting {
            addrs,
            port,
            family,
            next: first + 1,
            attempts: 1,
            current: None,
        };
        match TcpStream::start_connect(addr) {
            Ok(stream) => connecting.current = Some(Attempt { addr, stream }),
            Err(e) => connecting.start_next((addr, e))?,
        }
        Ok(connecting)
    }

    /// The address being tried now.
    pub fn addr(&self) -> Option<SocketAddr> {
        self.current.as_ref().map(|attempt| attempt.addr)
    }

    /// After the attempt on `failed` failed: starts the next address of the
    /// family, or gives the last failure when none is left. A socket that
    /// cannot even be created counts as a failed attempt.
    fn start_next(&mut self, failed: (SocketAddr, io::Error)) -> Result<(), ConnectError> {
        let mut last = failed;
        log::debug!("connect {}: {}", last.0, last.1);
        while let Some(&ip) = self.addrs.get(self.next) {
            self.next += 1;
            if !self.family.allows(&ip) {
                continue;
            }
            let addr = SocketAddr::new(ip, self.port);
            self.attempts += 1;
            match TcpStream::start_connect(addr) {
                Ok(stream) => {
                    self.current = Some(Attempt { addr, stream });
                    return Ok(());
                }
                Err(e) => {
                    log::debug!("connect {addr}: {e}");
                    last = (addr, e);
                }
            }
        }
        let (addr, source) = last;
        Err(ConnectError::Connect {
            addr,
            source,
            attempts: self.attempts,
        })
    }
}

impl Future for Connecting {
    type Output = Result<(TcpStream, SocketAddr), ConnectError>;

    /// Ready with the first stream that connects and its address, or with
    /// the last error once every address has failed.
    ///
    /// # Panics
    /// If polled again after it was ready.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let attempt = self
                .current
                .take()
                .expect("Connecting polled after completion");
            match attempt.stream.poll_connected(cx) {
                Poll::Pending => {
                    self.current = Some(attempt);
                    return Poll::Pending;
                }
                Poll::Ready(Ok(())) => return Poll::Ready(Ok((attempt.stream, attempt.addr))),
                Poll::Ready(Err(e)) => {
                    let addr = attempt.addr;
                    // Dropping the attempt closes its socket.
                    drop(attempt);
                    if let Err(last) = self.start_next((addr, e)) {
                        return Poll::Ready(Err(last));
                    }
                }
            }
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
    let addrs = resolver.lookup(host).await.map_err(ConnectError::Dns)?;
    let (stream, _) = Connecting::start(host, addrs, port, family)?.await?;
    Ok(stream)
}
