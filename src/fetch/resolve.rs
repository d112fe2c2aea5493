//! The resolve phase of a fetch: from a host to the first addresses worth
//! connecting to, and the family still on its way (RFC 8305, Happy
//! Eyeballs v2, §3).
//!
//! asyncio's `open_connection` waits for `getaddrinfo` to return every
//! address before it connects to any. Our stub resolver asks A and AAAA at
//! once and hands over each family's answer as it comes, so the fetch can
//! start sooner:
//!
//! ```text
//!   AAAA answer first ──────────────► connect now (IPv6 first); A joins later
//!   A answer first ──► hold 50 ms ──► AAAA came: connect, IPv6 first
//!                                 └─► it did not: connect on IPv4; AAAA joins later
//!   one family failed ──────────────► the other decides
//!   both failed ────────────────────► the more telling error (NODATA only if both were)
//! ```
//!
//! "Joins later" is [`Connecting::extend`](crate::net::Connecting::extend):
//! the late family's addresses are added to the race in progress. With
//! `--system-dns` (or for a name nsswitch.conf gives to a source the stub
//! cannot serve) the `getaddrinfo` pool answers both families together, as
//! it does for asyncio. An IP literal and a `--resolve` pin need no lookup
//! at all.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::job::RunContext;
use super::outcome::FetchError;
use super::target::Target;
use crate::net::dns::{IpFamily, Lookup, LookupError};
use crate::net::{Addresses, ConnectError, Family, PoolLookup};
use crate::runtime::{sleep, Sleep};

/// RFC 8305's Resolution Delay: how long an A answer waits for the AAAA
/// answer before connecting over IPv4 alone.
pub const RESOLUTION_DELAY: Duration = Duration::from_millis(50);

/// A lookup in progress.
pub(crate) enum Resolving {
    /// Known without asking: an IP literal, or a `--resolve` pin.
    Ready(Addresses),
    /// The `getaddrinfo` pool.
    Pool(PoolLookup),
    /// Our stub resolver, each family as it comes.
    Stub(Box<StubResolving>),
}

/// What the stub has said so far.
pub(crate) struct StubResolving {
    /// `None` once handed on as the [`Rest`].
    lookup: Option<Lookup>,
    /// The IPv4 answer, held for [`RESOLUTION_DELAY`] in case IPv6 follows.
    v4: Option<Addresses>,
    /// When the hold ends.
    hold: Option<Sleep>,
    /// The first family's error, until the other family decides.
    error: Option<LookupError>,
}

/// What resolving came to.
pub(crate) enum Resolved {
    /// Connect to these, in order; `rest` brings the other family's
    /// addresses later, when they are still on their way.
    Addrs {
        addrs: Addresses,
        rest: Option<Rest>,
    },
    /// The lookup failed.
    Failed(FetchError),
}

impl Resolving {
    /// Starts resolving `target`'s host for this run.
    pub(crate) fn start(run: &RunContext, target: &Target) -> Resolving {
        if let Some(ip) = target.ip() {
            return Resolving::Ready(Addresses::from(ip));
        }
        if let Some(addrs) = run.config.pinned(&target.host, target.port) {
            return Resolving::Ready(addrs.into());
        }
        match &run.stub {
            Some(stub) => Resolving::Stub(Box::new(StubResolving {
                lookup: Some(stub.lookup_each(&target.host)),
                v4: None,
                hold: None,
                error: None,
            })),
            None => Resolving::Pool(PoolLookup::default()),
        }
    }

    /// Polls the lookup of `host`, for addresses of `family`.
    pub(crate) fn poll(
        &mut self,
        run: &RunContext,
        host: &str,
        family: Family,
        cx: &mut Context<'_>,
    ) -> Poll<Resolved> {
        loop {
            let stub = match self {
                Resolving::Ready(addrs) => {
                    let addrs = addrs.clone();
                    return Poll::Ready(Resolved::Addrs { addrs, rest: None });
                }
                Resolving::Pool(lookup) => {
                    return run
                        .resolver
                        .poll_lookup(lookup, host, cx)
                        .map(|answer| match answer {
                            Ok(addrs) => Resolved::Addrs { addrs, rest: None },
                            Err(e) => Resolved::Failed(e.into()),
                        });
                }
                Resolving::Stub(stub) => stub,
            };
            match stub.poll(host, family, cx) {
                StubStep::Pending => return Poll::Pending,
                StubStep::Done(resolved) => return Poll::Ready(resolved),
                StubStep::ToPool => {
                    log::debug!("dns {host}: left to the getaddrinfo pool");
                    *self = Resolving::Pool(PoolLookup::default());
                }
            }
        }
    }
}

/// One poll of the stub lookup.
enum StubStep {
    Pending,
    Done(Resolved),
    /// nsswitch.conf gives this name to a source only `getaddrinfo` serves.
    ToPool,
}

impl StubResolving {
    fn poll(&mut self, host: &str, family: Family, cx: &mut Context<'_>) -> StubStep {
        loop {
            let next = match &mut self.lookup {
                Some(lookup) => lookup.poll_next(cx),
                None => Poll::Ready(None),
            };
            let (of, answer) = match next {
                Poll::Ready(Some(next)) => next,
                // Both families have answered, and neither was used.
                Poll::Ready(None) => return StubStep::Done(self.settle(host, family)),
                Poll::Pending => return self.poll_hold(cx),
            };
            if !wanted(family, of) {
                continue; // -4 or -6: the other family does not count
            }
            match answer {
                Ok(addrs) if of == IpFamily::V6 || family != Family::Any => {
                    // IPv6 (with any IPv4 held), or the one family wanted:
                    // no reason to wait.
                    let (addrs, rest) = match self.v4.take() {
                        Some(v4) => (addrs.iter().chain(v4.iter()).copied().collect(), None),
                        // IPv4 is still to come, unless it failed or is
                        // not wanted.
                        None if family == Family::Any && self.error.is_none() => {
                            (addrs, self.rest(family))
                        }
                        None => (addrs, None),
                    };
                    return StubStep::Done(Resolved::Addrs { addrs, rest });
                }
                Ok(addrs) => {
                    if self.error.is_some() {
                        // IPv6 has failed already: nothing to wait for.
                        return StubStep::Done(Resolved::Addrs { addrs, rest: None });
                    }
                    self.v4 = Some(addrs);
                    self.hold = Some(sleep(RESOLUTION_DELAY));
                }
                Err(LookupError::Unsupported { .. }) => return StubStep::ToPool,
                Err(e) => {
                    if let Some(v4) = self.v4.take() {
                        // IPv6 failed while IPv4 was held: go with IPv4.
                        return StubStep::Done(Resolved::Addrs {
                            addrs: v4,
                            rest: None,
                        });
                    }
                    self.error = Some(match self.error.take() {
                        // NODATA for one family says less than the other's error.
                        Some(first) if !matches!(first, LookupError::NoData { .. }) => first,
                        _ => e,
                    });
                    if family != Family::Any {
                        return StubStep::Done(self.settle(host, family));
                    }
                }
            }
        }
    }

    /// While an IPv4 answer is held: connect with it once the hold is over.
    fn poll_hold(&mut self, cx: &mut Context<'_>) -> StubStep {
        let Some(hold) = &mut self.hold else {
            return StubStep::Pending;
        };
        if Pin::new(hold).poll(cx).is_pending() {
            return StubStep::Pending;
        }
        self.hold = None;
        match self.v4.take() {
            Some(addrs) => {
                log::debug!(
                    "dns: no AAAA answer within {RESOLUTION_DELAY:?}; connecting over IPv4"
                );
                StubStep::Done(Resolved::Addrs {
                    addrs,
                    rest: self.rest(Family::Any),
                })
            }
            None => StubStep::Pending,
        }
    }

    /// The end, once no family gave an address to connect to.
    fn settle(&mut self, host: &str, family: Family) -> Resolved {
        if let Some(addrs) = self.v4.take() {
            return Resolved::Addrs { addrs, rest: None };
        }
        Resolved::Failed(match self.error.take() {
            Some(e) => FetchError::Lookup(e),
            // No answer of the wanted family came at all (not expected:
            // the stub answers every family it is asked).
            None => FetchError::Connect(ConnectError::NoAddress {
                host: host.to_owned(),
                family,
            }),
        })
    }

    /// The lookup, handed on to bring the family still to come.
    fn rest(&mut self, family: Family) -> Option<Rest> {
        let lookup = self.lookup.take()?;
        Some(Rest { lookup, family })
    }
}

/// Whether an answer for `of` matters under `family` (`-4`, `-6`).
fn wanted(family: Family, of: IpFamily) -> bool {
    match family {
        Family::Any => true,
        Family::V4 => of == IpFamily::V4,
        Family::V6 => of == IpFamily::V6,
    }
}

/// The family still to come, while the first one's addresses are being
/// connected to.
pub(crate) struct Rest {
    lookup: Lookup,
    family: Family,
}

impl Rest {
    /// Addresses that have just come (`Ready(Some)`), the end of the lookup
    /// (`Ready(None)`: a failure of the late family changes nothing, the
    /// first one's addresses are being tried), or `Pending`.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Option<Vec<IpAddr>>> {
        loop {
            match self.lookup.poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some((of, Ok(addrs)))) if wanted(self.family, of) => {
                    return Poll::Ready(Some(addrs.to_vec()));
                }
                Poll::Ready(Some(_)) => {}
            }
        }
    }
}
