//! Why a lookup failed, and who said so.
//!
//! `getaddrinfo` folds SERVFAIL, REFUSED, a dropped query and a forged
//! answer into one `EAI_AGAIN`, "temporary failure in name resolution".
//! [`LookupError`] keeps them apart, and every variant names its source:
//! the server that answered, the servers that did not, or the local rule
//! that decided. [`LookupError::kind`] is the short tag an outcome carries
//! (`nxdomain`, `nodata`, `servfail`, `refused`, `dns-timeout`,
//! `bad-response`, ...).

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use super::nsswitch::Fallback;
use super::wire::{ChainTooLong, Name, NameError, Rcode, WireError};

/// An address family, for the per-family lookups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpFamily {
    /// IPv4: A records.
    V4,
    /// IPv6: AAAA records.
    V6,
}

impl IpFamily {
    /// Both families, IPv4 first.
    pub const BOTH: [IpFamily; 2] = [IpFamily::V4, IpFamily::V6];

    pub(crate) fn index(self) -> usize {
        match self {
            IpFamily::V4 => 0,
            IpFamily::V6 => 1,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        })
    }
}

/// Who gave a negative answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A DNS server, which answered.
    Server(SocketAddr),
    /// The hosts table: the name is in it, without this family.
    HostsTable,
    /// This resolver, by rule, with no query: an IP literal of the other
    /// family, a `.invalid` name (RFC 6761), `no-aaaa`, or a hosts-only
    /// nsswitch order.
    Local,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Server(addr) => write!(f, "server {addr}"),
            Origin::HostsTable => f.write_str("the hosts table"),
            Origin::Local => f.write_str("a local rule, no query sent"),
        }
    }
}

/// What was wrong with a response that came from the right server with
/// the right ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BadResponse {
    /// It could not be parsed.
    Malformed(WireError),
    /// Its CNAME chain is longer than the limit, or loops.
    CnameChain(ChainTooLong),
    /// An RCODE that answers nothing: FORMERR to a query without EDNS,
    /// NOTIMP, or a code we do not know.
    Rcode(Rcode),
    /// Truncated even over TCP.
    Truncated,
    /// Over TCP, an answer to another query (another ID or question).
    Mismatched,
}

impl fmt::Display for BadResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadResponse::Malformed(e) => write!(f, "malformed: {e}"),
            BadResponse::CnameChain(e) => e.fmt(f),
            BadResponse::Rcode(rcode) => write!(f, "response code {rcode}"),
            BadResponse::Truncated => f.write_str("truncated over TCP"),
            BadResponse::Mismatched => f.write_str("over TCP, the answer to another query"),
        }
    }
}

/// A failed lookup. Cloned to every caller that shared the lookup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LookupError {
    /// NXDOMAIN: the name does not exist.
    NxDomain {
        /// The last name asked (after the search list).
        name: Name,
        /// Who said so.
        origin: Origin,
    },
    /// NODATA: the name exists, with no address of this family.
    NoData {
        /// The name asked.
        name: Name,
        /// The family that has no address.
        family: IpFamily,
        /// Who said so.
        origin: Origin,
    },
    /// SERVFAIL: the server could not get an answer.
    ServFail {
        /// The name asked.
        name: Name,
        /// The server.
        server: SocketAddr,
    },
    /// REFUSED: the server will not answer us.
    Refused {
        /// The name asked.
        name: Name,
        /// The server.
        server: SocketAddr,
    },
    /// No server answered in time.
    Timeout {
        /// The name asked.
        name: Name,
        /// The servers tried, each once however often it was asked.
        servers: Vec<SocketAddr>,
        /// From the first query to giving up.
        waited: Duration,
    },
    /// The right server sent an unusable answer.
    BadResponse {
        /// The name asked.
        name: Name,
        /// The server.
        server: SocketAddr,
        /// What was wrong.
        reason: BadResponse,
    },
    /// A socket call failed: no route to the server, an ICMP "port
    /// unreachable" (which a connected UDP socket reports as refused), no
    /// file descriptors left.
    Io {
        /// The name asked.
        name: Name,
        /// The server.
        server: SocketAddr,
        /// The error's kind (`io::Error` is not `Clone`).
        kind: io::ErrorKind,
    },
    /// The host is not a DNS name (an empty label, a label over 63 bytes).
    InvalidName {
        /// The host as given.
        host: String,
        /// What is wrong with it.
        error: NameError,
    },
    /// nsswitch.conf lists a source we cannot serve for this name: the
    /// caller should ask the `getaddrinfo` pool.
    Unsupported {
        /// The host as given.
        host: String,
        /// Which source, and why it matters for this name.
        reason: Fallback,
    },
}

impl LookupError {
    /// The outcome tag: `nxdomain`, `nodata`, `servfail`, `refused`,
    /// `dns-timeout`, `bad-response`, `dns-io`, `bad-name` or
    /// `unsupported`.
    pub fn kind(&self) -> &'static str {
        match self {
            LookupError::NxDomain { .. } => "nxdomain",
            LookupError::NoData { .. } => "nodata",
            LookupError::ServFail { .. } => "servfail",
            LookupError::Refused { .. } => "refused",
            LookupError::Timeout { .. } => "dns-timeout",
            LookupError::BadResponse { .. } => "bad-response",
            LookupError::Io { .. } => "dns-io",
            LookupError::InvalidName { .. } => "bad-name",
            LookupError::Unsupported { .. } => "unsupported",
        }
    }
}

impl fmt::Display for LookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupError::NxDomain { name, origin } => {
                write!(f, "{name}: no such name (NXDOMAIN from {origin})")
            }
            LookupError::NoData {
                name,
                family,
                origin,
            } => write!(f, "{name}: no {family} address (NODATA from {origin})"),
            LookupError::ServFail { name, server } => {
                write!(f, "{name}: server {server} failed (SERVFAIL)")
            }
            LookupError::Refused { name, server } => {
                write!(f, "{name}: server {server} refused the query (REFUSED)")
            }
            LookupError::Timeout {
                name,
                servers,
                waited,
            } => {
                write!(f, "{name}: no answer from ")?;
                for (i, server) in servers.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{server}")?;
                }
                write!(f, " in {:.1} s", waited.as_secs_f64())
            }
            LookupError::BadResponse {
                name,
                server,
                reason,
            } => write!(f, "{name}: bad response from {server}: {reason}"),
            LookupError::Io { name, server, kind } => {
                write!(
                    f,
                    "{name}: cannot query {server}: {}",
                    io::Error::from(*kind)
                )
            }
            LookupError::InvalidName { host, error } => {
                write!(f, "'{}' is not a DNS name: {error}", host.escape_debug())
            }
            LookupError::Unsupported { host, reason } => {
                write!(
                    f,
                    "'{}' is left to getaddrinfo: {reason}",
                    host.escape_debug()
                )
            }
        }
    }
}

impl std::error::Error for LookupError {}
