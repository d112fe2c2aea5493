//! From a host and port to a connected [`TcpStream`]: the connector.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Addresses, DnsError, Resolver, TcpStream};
use crate::runtime::{sleep, Sleep};

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

impl fmt::Display for Family {
    /// `IPv4`, `IPv6`, or `IPv4 or IPv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Any => "IPv4 or IPv6",
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        })
    }
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
                write!(f, "'{host}' has no {family} address")
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

/// RFC 8305's Connection Attempt Delay: how long an attempt may go on
/// before the next address is tried beside it.
pub const ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// Connecting to one of a host's addresses: the address walk that both
/// [`connect`] and the fetch engine use, racing attempts as RFC 8305
/// (Happy Eyeballs) does. It is a future whose output is the connected
/// stream and its address.
///
/// - The addresses of the wanted [`Family`] are tried with the families
///   interleaved (IPv6, IPv4, IPv6, ... when the resolver put IPv6 first),
///   so a broken family costs one attempt, not a turn each for all its
///   addresses.
/// - An attempt that has not connected after [`ATTEMPT_DELAY`] is kept, and
///   the next address is tried beside it: a first address that drops SYNs
///   (broken IPv6 is common) costs 250 ms, not the whole connect budget.
/// - An attempt that fails (refused, unreachable, or a socket that could
///   not even be created) is dropped and the next address is tried at once.
/// - The first attempt to connect wins; the others are dropped, which
///   closes their sockets. When every address has failed, the error is
///   the last one, with how many were tried.
#[derive(Debug)]
pub struct Connecting {
    addrs: Addresses,
    port: u16,
    family: Family,
    /// Where the scan for the next address of each family resumes: [IPv4,
    /// IPv6].
    cursors: [u32; 2],
    /// Which family the next attempt should be.
    prefer_v6: bool,
    /// Addresses tried so far.
    attempts: usize,
    /// The attempt started last.
    newest: Option<Attempt>,
    /// The race, once there is more than one address to try: boxed, so a
    /// host with one address (most of them) pays neither its memory nor
    /// its timer.
    race: Option<Box<Race>>,
}

/// What racing attempts needs beyond the newest one.
#[derive(Debug, Default)]
struct Race {
    /// When to start the next address beside the ones in flight; armed
    /// only while more addresses are left.
    delay: Option<Sleep>,
    /// Earlier attempts still connecting, oldest first.
    older: Vec<Attempt>,
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
        let Some(first) = addrs.iter().find(|ip| family.allows(ip)) else {
            return Err(ConnectError::NoAddress {
                host: host.to_owned(),
                family,
            });
        };
        let mut connecting = Connecting {
            prefer_v6: first.is_ipv6(),
            addrs,
            port,
            family,
            cursors: [0, 0],
            attempts: 0,
            newest: None,
            race: None,
        };
        connecting.start_next(None)?;
        Ok(connecting)
    }

    /// Adds addresses that came later (the other family's DNS answer) to
    /// the ones left to try. If attempts are in flight and no delay is
    /// running, one starts now, and the first new address joins them one
    /// [`ATTEMPT_DELAY`] later: never sooner than RFC 8305 asks, which
    /// counts from the start of the newest attempt.
    pub fn extend(&mut self, more: &[IpAddr]) {
        if more.is_empty() {
            return;
        }
        self.addrs = self.addrs.iter().chain(more).copied().collect();
        if self.in_flight() && self.has_more() {
            let race = self.race.get_or_insert_with(Box::default);
            if race.delay.is_none() {
                race.delay = Some(sleep(ATTEMPT_DELAY));
            }
        }
    }

    /// The address of the attempt that has been connecting longest.
    pub fn addr(&self) -> Option<SocketAddr> {
        let older = self.race.as_ref().and_then(|race| race.older.first());
        older.or(self.newest.as_ref()).map(|attempt| attempt.addr)
    }

    /// The next address to try: of the preferred family if one is left,
    /// else of the other; the preference then alternates.
    fn next_addr(&mut self) -> Option<SocketAddr> {
        let v6 = self.prefer_v6;
        let ip = self.take(v6).or_else(|| self.take(!v6))?;
        self.prefer_v6 = !ip.is_ipv6();
        Some(SocketAddr::new(ip, self.port))
    }

    /// The next address of one family, in the resolver's order.
    fn take(&mut self, v6: bool) -> Option<IpAddr> {
        let from = self.cursors[usize::from(v6)] as usize;
        let (offset, &ip) = self
            .addrs
            .get(from..)?
            .iter()
            .enumerate()
            .find(|(_, ip)| ip.is_ipv6() == v6 && self.family.allows(ip))?;
        self.cursors[usize::from(v6)] = u32::try_from(from + offset + 1).unwrap_or(u32::MAX);
        Some(ip)
    }

    fn in_flight(&self) -> bool {
        self.newest.is_some()
    }

    /// Starts the next address, after `failed` (the attempt that just
    /// failed, if one did). A socket that cannot even be created is a
    /// failed attempt too, and the one after it is tried. Fails with the
    /// last error when no address is left and no attempt is in flight.
    fn start_next(
        &mut self,
        mut failed: Option<(SocketAddr, io::Error)>,
    ) -> Result<(), ConnectError> {
        while let Some(addr) = self.next_addr() {
            self.attempts += 1;
            match TcpStream::start_connect(addr) {
                Ok(stream) => {
                    let previous = self.newest.replace(Attempt { addr, stream });
                    let more = self.has_more();
                    if previous.is_some() || more {
                        let race = self.race.get_or_insert_with(Box::default);
                        race.older.extend(previous);
                        race.delay = more.then(|| sleep(ATTEMPT_DELAY));
                    }
                    return Ok(());
                }
                Err(e) => {
                    log::debug!("connect {addr}: {e}");
                    failed = Some((addr, e));
                }
            }
        }
        if let Some(race) = &mut self.race {
            race.delay = None;
        }
        match failed {
            Some((addr, source)) if !self.in_flight() => Err(ConnectError::Connect {
                addr,
                source,
                attempts: self.attempts,
            }),
            _ => Ok(()),
        }
    }

    /// Whether an address is left to try.
    fn has_more(&self) -> bool {
        let family = self.family;
        [false, true].into_iter().any(|v6| {
            let from = self.cursors[usize::from(v6)] as usize;
            self.addrs.get(from..).is_some_and(|rest| {
                rest.iter()
                    .any(|ip| ip.is_ipv6() == v6 && family.allows(ip))
            })
        })
    }

    /// Polls every attempt in flight: the first to connect, or the first
    /// failure (removed from those in flight), or `None` while all wait.
    fn poll_attempts(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Option<Result<Attempt, (SocketAddr, io::Error)>> {
        if let Some(race) = &mut self.race {
            let mut index = 0;
            while index < race.older.len() {
                match race.older[index].stream.poll_connected(cx) {
                    Poll::Pending => index += 1,
                    Poll::Ready(result) => {
                        return Some(settle(race.older.remove(index), result));
                    }
                }
            }
        }
        let newest = self.newest.as_ref()?;
        match newest.stream.poll_connected(cx) {
            Poll::Pending => None,
            Poll::Ready(result) => {
                // The newest is gone: the most recent of the older ones
                // (if any) takes its place.
                let older = self.race.as_mut().and_then(|race| race.older.pop());
                let attempt = std::mem::replace(&mut self.newest, older)?;
                Some(settle(attempt, result))
            }
        }
    }
}

/// A finished attempt: connected, or its address and error.
fn settle(attempt: Attempt, result: io::Result<()>) -> Result<Attempt, (SocketAddr, io::Error)> {
    match result {
        Ok(()) => Ok(attempt),
        Err(e) => Err((attempt.addr, e)),
    }
}

impl Future for Connecting {
    type Output = Result<(TcpStream, SocketAddr), ConnectError>;

    /// Ready with the first stream that connects and its address, or with
    /// the last error once every address has failed.
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.poll_attempts(cx) {
                Some(Ok(Attempt { addr, stream })) => {
                    // The attempts still connecting are dropped with `self`.
                    return Poll::Ready(Ok((stream, addr)));
                }
                Some(Err((addr, e))) => {
                    log::debug!("connect {addr}: {e}");
                    if let Err(last) = self.start_next(Some((addr, e))) {
                        return Poll::Ready(Err(last));
                    }
                    continue;
                }
                None => {}
            }
            // Every attempt is still connecting: once the delay is over,
            // the next address joins them.
            let delay = self.race.as_mut().and_then(|race| race.delay.as_mut());
            let delay_over = match delay {
                Some(delay) => Pin::new(delay).poll(cx).is_ready(),
                None => return Poll::Pending,
            };
            if !delay_over {
                return Poll::Pending;
            }
            log::debug!("no connection after {ATTEMPT_DELAY:?}: trying the next address too");
            if let Err(last) = self.start_next(None) {
                return Poll::Ready(Err(last));
            }
        }
    }
}

/// Resolves `host` (no lookup for an IP literal) and connects to `port` on
/// one of its addresses, racing them as [`Connecting`] does (asyncio's
/// `open_connection` with `happy_eyeballs_delay=0.25`). Wrap it in
/// [`crate::runtime::timeout`] to bound the whole attempt.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn order(addrs: &[&str], family: Family) -> Vec<String> {
        let addrs: Addresses = addrs.iter().map(|a| a.parse().unwrap()).collect();
        let mut connecting = Connecting {
            prefer_v6: addrs[0].is_ipv6(),
            addrs,
            port: 80,
            family,
            cursors: [0, 0],
            attempts: 0,
            newest: None,
            race: None,
        };
        std::iter::from_fn(|| connecting.next_addr())
            .map(|addr| addr.ip().to_string())
            .collect()
    }

    #[test]
    fn families_alternate_starting_with_the_resolvers_first() {
        let addrs = ["::1", "::2", "::3", "10.0.0.1", "10.0.0.2"];
        assert_eq!(
            order(&addrs, Family::Any),
            ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
        );
        let addrs = ["10.0.0.1", "::1", "10.0.0.2"];
        assert_eq!(order(&addrs, Family::Any), ["10.0.0.1", "::1", "10.0.0.2"]);
        assert_eq!(order(&addrs, Family::V4), ["10.0.0.1", "10.0.0.2"]);
        assert_eq!(order(&addrs, Family::V6), ["::1"]);
    }
}
