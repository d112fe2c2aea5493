//! What one target ends in: its response heads, or one typed error.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::Deref;
use std::time::{Duration, Instant};

use super::stop::StopReason;
use super::target::{Target, TargetError};
use crate::http::redirect::LocationError;
use crate::http::{HeadError, ProtocolError, RequestError, ResponseHead};
use crate::net::dns::LookupError;
use crate::net::{ConnectError, DnsError};
use crate::tls::{TlsError, TlsInfo};

/// Defines [`ErrorKind`] from one table: each kind's variant, the name it
/// is printed as, and what it means (for `--help`), so the three never
/// drift apart and [`ErrorKind::ALL`] lists every kind.
macro_rules! error_kinds {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, $meaning:literal; )*) => {
        /// The kind of a failure, as printed (`dns`, `refused`, ...): the one
        /// word users count and filter on.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ErrorKind {
            $( $(#[$doc])* $variant, )*
        }

        impl ErrorKind {
            /// Every kind, in the order summaries list them (the
            /// declaration order).
            pub const ALL: [ErrorKind; [$( $name ),*].len()] = [$( ErrorKind::$variant ),*];

            /// The name used in output and JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( ErrorKind::$variant => $name, )*
                }
            }

            /// What the kind means, in a few words, for `--help`.
            pub fn meaning(self) -> &'static str {
                match self {
                    $( ErrorKind::$variant => $meaning, )*
                }
            }
        }
    };
}

error_kinds! {
    /// The target text is malformed.
    BadTarget = "bad-target", "the target is malformed";
    /// The lookup failed another way: `getaddrinfo`'s error
    /// (`--system-dns`), or the DNS server could not be asked.
    Dns = "dns", "the lookup failed (getaddrinfo's error, or no way to ask the server)";
    /// NXDOMAIN: the name does not exist.
    NxDomain = "nxdomain", "the name does not exist (NXDOMAIN)";
    /// NODATA: the name exists, with no address of the wanted family.
    NoData = "nodata", "the name has no address of the wanted family (NODATA)";
    /// SERVFAIL: the DNS server could not get an answer.
    ServFail = "servfail", "the DNS server failed to answer (SERVFAIL)";
    /// REFUSED: the DNS server will not answer us.
    DnsRefused = "dns-refused", "the DNS server refused the query (REFUSED)";
    /// No DNS server answered in time (its own retries, or
    /// `--connect-timeout`).
    DnsTimeout = "dns-timeout", "no DNS answer in time";
    /// The DNS server's answer could not be used.
    BadResponse = "bad-response", "the DNS server's answer is malformed or unusable";
    /// The server refused the connection (nothing listening).
    Refused = "refused", "nothing listens on that port";
    /// No route to the host or network.
    Unreachable = "unreachable", "no route to the host or network";
    /// No connection (or TLS handshake) within `--connect-timeout`.
    ConnectTimeout = "connect-timeout", "no connection or TLS handshake within --connect-timeout";
    /// No byte from the server within `--read-timeout`.
    ReadTimeout = "read-timeout", "the server was silent for --read-timeout";
    /// No complete head within `--max-time`.
    Timeout = "timeout", "no complete head within --max-time";
    /// The connection was reset.
    Reset = "reset", "the connection was reset";
    /// The server closed the connection before the head ended.
    Closed = "closed", "the server closed before the head ended";
    /// The server did not speak HTTP.
    Protocol = "protocol", "the server does not speak HTTP/1.x";
    /// The head went past a size limit.
    TooLarge = "too-large", "the head went past a size limit";
    /// A certificate's validity ended before now.
    CertExpired = "cert-expired", "the server's certificate has expired";
    /// A certificate's validity starts after now.
    CertNotYetValid = "cert-not-yet-valid", "the server's certificate is not valid yet";
    /// The chain leads to no trusted root (self-signed, an intermediate
    /// missing, an unknown issuer).
    CertUntrusted = "cert-untrusted", "the certificate chain leads to no trusted root";
    /// The certificate is not for the host.
    CertNameMismatch = "cert-name-mismatch", "the certificate is for other names";
    /// Any other certificate problem.
    CertInvalid = "cert-invalid", "the certificate is malformed, badly signed or unfit";
    /// The server and we share no TLS version.
    TlsVersion = "tls-version", "no TLS version both sides speak";
    /// The server ended the TLS session with an alert.
    TlsAlert = "tls-alert", "the server ended TLS with an alert";
    /// The TLS handshake failed some other way.
    TlsHandshake = "tls-handshake", "the TLS handshake failed otherwise";
    /// The server closed the connection during the TLS handshake.
    TlsClosed = "tls-closed", "the server closed during the TLS handshake";
    /// The server does not speak TLS on that port.
    NotTls = "not-tls", "the server does not speak TLS on that port (plain HTTP?)";
    /// More redirects than `--max-redirs`, or a loop.
    TooManyRedirects = "too-many-redirects", "more redirects than --max-redirs, or a loop";
    /// A redirect that cannot or may not be followed.
    BadRedirect = "bad-redirect", "a redirect with no usable Location, or to a private address";
    /// A local failure: out of file descriptors, memory, ports.
    Local = "local", "out of file descriptors, memory or ports";
    /// The run was stopped (a signal, the output closed) before the fetch
    /// ended.
    Interrupted = "interrupted", "the run was stopped (a signal, the output closed) first";
}

impl ErrorKind {
    /// Classifies an OS error from connecting, writing or reading.
    pub fn of_io(error: &io::Error) -> ErrorKind {
        match error.kind() {
            io::ErrorKind::ConnectionRefused => return ErrorKind::Refused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => return ErrorKind::Reset,
            io::ErrorKind::TimedOut => return ErrorKind::ConnectTimeout,
            io::ErrorKind::OutOfMemory => return ErrorKind::Local,
            _ => {}
        }
        match error.raw_os_error() {
            Some(libc::EHOSTUNREACH | libc::ENETUNREACH | libc::ENETDOWN | libc::EHOSTDOWN) => {
                ErrorKind::Unreachable
            }
            // EMFILE, ENFILE, ENOBUFS, EADDRNOTAVAIL (out of ports), ...
            _ => ErrorKind::Local,
        }
    }
}

impl ErrorKind {
    /// Classifies a failed lookup by our resolver.
    pub fn of_lookup(error: &LookupError) -> ErrorKind {
        match error {
            LookupError::NxDomain { .. } => ErrorKind::NxDomain,
            LookupError::NoData { .. } => ErrorKind::NoData,
            LookupError::ServFail { .. } => ErrorKind::ServFail,
            LookupError::Refused { .. } => ErrorKind::DnsRefused,
            LookupError::Timeout { .. } => ErrorKind::DnsTimeout,
            LookupError::BadResponse { .. } => ErrorKind::BadResponse,
            LookupError::InvalidName { .. } => ErrorKind::BadTarget,
            LookupError::Io { .. } | LookupError::Unsupported { .. } => ErrorKind::Dns,
        }
    }

    /// Classifies a failed TLS session. A socket error under TLS is
    /// classified as any socket error.
    pub fn of_tls(error: &TlsError) -> ErrorKind {
        if let Some(io) = error.io_error() {
            return ErrorKind::of_io(io);
        }
        match error {
            TlsError::CertExpired { .. } => ErrorKind::CertExpired,
            TlsError::CertNotYetValid { .. } => ErrorKind::CertNotYetValid,
            TlsError::CertUntrusted { .. } => ErrorKind::CertUntrusted,
            TlsError::CertNameMismatch { .. } => ErrorKind::CertNameMismatch,
            TlsError::CertInvalid { .. } => ErrorKind::CertInvalid,
            TlsError::Version { .. } => ErrorKind::TlsVersion,
            TlsError::Alert { .. } => ErrorKind::TlsAlert,
            TlsError::Closed { .. } => ErrorKind::TlsClosed,
            TlsError::NotTls { .. } => ErrorKind::NotTls,
            TlsError::InvalidName { .. } => ErrorKind::BadTarget,
            _ => ErrorKind::TlsHandshake,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which time limit ran out, with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expired {
    /// `--connect-timeout`, while the name was being resolved.
    Resolve(Duration),
    /// `--connect-timeout`, while connecting (to `addr`, if an attempt was
    /// under way).
    Connect {
        /// The address being tried.
        addr: Option<SocketAddr>,
        /// The limit.
        limit: Duration,
    },
    /// `--connect-timeout`, while the TLS handshake with `addr` was under
    /// way (the limit covers resolving, connecting and the handshake).
    Handshake {
        /// The server's address.
        addr: SocketAddr,
        /// The limit.
        limit: Duration,
    },
    /// `--read-timeout`, while the request was being sent.
    Send(Duration),
    /// `--read-timeout`, while waiting for the response.
    Read(Duration),
    /// `--max-time`, the limit on the whole fetch.
    Total(Duration),
}

/// Why a fetch failed: the typed cause. [`FetchError::kind`] is the word
/// users filter on; `Display` is the message, made only when it is shown.
#[derive(Debug)]
#[non_exhaustive]
pub enum FetchError {
    /// The target text could not be used.
    Target(TargetError),
    /// No request can be built for this target.
    Request(RequestError),
    /// Name resolution by `getaddrinfo` failed.
    Dns(DnsError),
    /// Name resolution by our resolver failed.
    Lookup(LookupError),
    /// No connection: no address of the wanted family, or every address
    /// failed (the error of the last one).
    Connect(ConnectError),
    /// The TLS handshake failed: the certificate, the protocol, or the
    /// server hanging up.
    Tls(TlsError),
    /// Writing the request failed.
    Send(io::Error),
    /// Reading the response failed.
    Read(io::Error),
    /// The response head was malformed, too large, or cut short.
    Head(HeadError),
    /// A time limit ran out.
    Timeout(Expired),
    /// A redirect that cannot or may not be followed.
    Redirect(RedirectError),
    /// The run was stopped before the fetch ended.
    Interrupted(StopReason),
}

impl FetchError {
    /// The kind of failure.
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::Target(_) | FetchError::Request(_) => ErrorKind::BadTarget,
            FetchError::Dns(_) | FetchError::Connect(ConnectError::Dns(_)) => ErrorKind::Dns,
            FetchError::Lookup(e) => ErrorKind::of_lookup(e),
            FetchError::Connect(ConnectError::NoAddress { .. }) => ErrorKind::NoData,
            FetchError::Timeout(Expired::Resolve(_)) => ErrorKind::DnsTimeout,
            FetchError::Connect(ConnectError::Connect { source, .. })
            | FetchError::Send(source)
            | FetchError::Read(source) => ErrorKind::of_io(source),
            FetchError::Head(HeadError::TooLarge { .. }) => ErrorKind::TooLarge,
            FetchError::Head(HeadError::Protocol(ProtocolError::Truncated { .. })) => {
                ErrorKind::Closed
            }
            FetchError::Head(HeadError::Protocol(_)) => ErrorKind::Protocol,
            FetchError::Tls(e) => ErrorKind::of_tls(e),
            FetchError::Timeout(Expired::Connect { .. } | Expired::Handshake { .. }) => {
                ErrorKind::ConnectTimeout
            }
            FetchError::Timeout(Expired::Send(_) | Expired::Read(_)) => ErrorKind::ReadTimeout,
            FetchError::Timeout(Expired::Total(_)) => ErrorKind::Timeout,
            FetchError::Redirect(RedirectError::TooMany { .. } | RedirectError::Loop { .. }) => {
                ErrorKind::TooManyRedirects
            }
            FetchError::Redirect(_) => ErrorKind::BadRedirect,
            FetchError::Interrupted(_) => ErrorKind::Interrupted,
        }
    }
}

impl fmt::Display for FetchError {
    /// The message, without the kind: `connect to 127.0.0.1:80: Connection
    /// refused (os error 111)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Target(e) => e.fmt(f),
            FetchError::Request(e) => e.fmt(f),
            FetchError::Dns(e) => e.fmt(f),
            FetchError::Lookup(e) => e.fmt(f),
            // The address that failed last, with what the OS said.
            FetchError::Connect(ConnectError::Connect { addr, source, .. }) => {
                write!(f, "connect to {addr}: {source}")
            }
            FetchError::Connect(e) => e.fmt(f),
            FetchError::Tls(e) => e.fmt(f),
            FetchError::Send(e) => write!(f, "sending the request: {e}"),
            FetchError::Read(e) => write!(f, "reading the response: {e}"),
            FetchError::Head(e) => e.fmt(f),
            FetchError::Timeout(expired) => match *expired {
                Expired::Resolve(limit) => {
                    write!(
                        f,
                        "no DNS answer within {} (--connect-timeout)",
                        Human(limit)
                    )
                }
                Expired::Connect {
                    addr: Some(addr),
                    limit,
                } => write!(f, "no connection to {addr} within {}", Human(limit)),
                Expired::Connect { addr: None, limit } => {
                    write!(f, "no connection within {}", Human(limit))
                }
                Expired::Handshake { addr, limit } => {
                    write!(f, "no TLS handshake with {addr} within {}", Human(limit))
                }
                Expired::Send(limit) => {
                    write!(f, "the server took no request bytes for {}", Human(limit))
                }
                Expired::Read(limit) => write!(f, "no data from the server for {}", Human(limit)),
                Expired::Total(limit) => {
                    write!(f, "no complete response head within {}", Human(limit))
                }
            },
            FetchError::Redirect(e) => e.fmt(f),
            FetchError::Interrupted(reason) => reason.fmt(f),
        }
    }
}

impl std::error::Error for FetchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FetchError::Target(e) => Some(e),
            FetchError::Request(e) => Some(e),
            FetchError::Dns(e) => Some(e),
            FetchError::Lookup(e) => Some(e),
            FetchError::Connect(e) => Some(e),
            FetchError::Send(e) | FetchError::Read(e) => Some(e),
            FetchError::Tls(e) => Some(e),
            FetchError::Head(e) => Some(e),
            FetchError::Redirect(e) => Some(e),
            FetchError::Timeout(_) | FetchError::Interrupted(_) => None,
        }
    }
}

/// Why a redirect was not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedirectError {
    /// `too-many-redirects`: one more than `--max-redirs` allows.
    TooMany {
        /// The limit.
        limit: u32,
        /// Where the last redirect pointed.
        location: String,
    },
    /// `too-many-redirects`: the redirect leads back to a URL this fetch
    /// has already fetched.
    Loop {
        /// That URL.
        location: String,
    },
    /// `bad-redirect`: the `Location` is missing or unusable.
    Location {
        /// The status of the redirect.
        status: u16,
        /// What is wrong with it.
        error: LocationError,
    },
    /// `bad-redirect`: the `Location` is not a target (`http://:0/`, say).
    Target(TargetError),
    /// `bad-redirect`: a redirect from a public address to a loopback,
    /// private or link-local one (the cloud-metadata trap), refused
    /// because the original target was public.
    Internal {
        /// The URL redirected to.
        location: String,
        /// The internal address it resolved to.
        addr: std::net::IpAddr,
        /// What kind of range holds that address.
        range: &'static str,
    },
}

impl fmt::Display for RedirectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RedirectError::TooMany { limit, location } => write!(
                f,
                "more than {limit} redirects (--max-redirs); the next was to {location}"
            ),
            RedirectError::Loop { location } => {
                write!(f, "redirect loop: {location} was already fetched")
            }
            RedirectError::Location { status, error } => write!(f, "{status} redirect: {error}"),
            RedirectError::Target(e) => write!(f, "redirect to {e}"),
            RedirectError::Internal {
                location,
                addr,
                range,
            } => write!(
                f,
                "redirect to {location} refused: it resolves to {addr}, a {range} address, \
                 and the original target is public"
            ),
        }
    }
}

impl std::error::Error for RedirectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RedirectError::Location { error, .. } => Some(error),
            RedirectError::Target(e) => Some(e),
            _ => None,
        }
    }
}

/// `?` and `.into()` turn each cause into its `FetchError`.
macro_rules! from_cause {
    ($($cause:ty => $variant:ident),* $(,)?) => {
        $(impl From<$cause> for FetchError {
            fn from(e: $cause) -> Self {
                FetchError::$variant(e)
            }
        })*
    };
}

from_cause! {
    TargetError => Target,
    RequestError => Request,
    DnsError => Dns,
    LookupError => Lookup,
    ConnectError => Connect,
    TlsError => Tls,
    HeadError => Head,
    Expired => Timeout,
    RedirectError => Redirect,
}

/// A duration as the command line spells it: `10s`, `500ms`.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_millis() == 0 && d.as_secs() > 0 {
            write!(f, "{}s", d.as_secs())
        } else {
            write!(f, "{}ms", d.as_millis())
        }
    }
}

/// How long each phase of one fetch took, from the moment it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    /// When the fetch started.
    pub start: Instant,
    /// Name resolution (near zero for an IP literal or a cached name).
    pub dns: Option<Duration>,
    /// TCP connect, after DNS.
    pub connect: Option<Duration>,
    /// The TLS handshake, after connecting (`https` only).
    pub tls: Option<Duration>,
    /// Time spent on earlier hops, when redirects were followed: the phases
    /// above are those of the last hop, which began this long after `start`.
    pub redirected: Option<Duration>,
    /// When the request was fully written, from `start`.
    pub sent: Option<Duration>,
    /// From the request being sent to the first response byte.
    pub first_byte: Option<Duration>,
    /// From start to outcome.
    pub total: Duration,
}

impl Timings {
    pub(crate) fn new(start: Instant) -> Timings {
        Timings {
            start,
            dns: None,
            connect: None,
            tls: None,
            redirected: None,
            sent: None,
            first_byte: None,
            total: Duration::ZERO,
        }
    }
}

/// The heads of one response: its interim `1xx` heads, if it sent any,
/// then its final head. It derefs to them as a slice, in that order, and
/// is never empty. Nearly every response has the final head alone: that
/// one is kept inline, and only a response with interim heads allocates.
#[derive(Debug)]
pub struct Heads(HeadList);

#[derive(Debug)]
enum HeadList {
    One(ResponseHead),
    /// Interim heads, then the final one: never empty.
    Many(Vec<ResponseHead>),
}

impl Heads {
    /// The heads of a response that sent `interim` before `last`.
    pub fn new(mut interim: Vec<ResponseHead>, last: ResponseHead) -> Heads {
        if interim.is_empty() {
            Heads(HeadList::One(last))
        } else {
            interim.push(last);
            Heads(HeadList::Many(interim))
        }
    }

    /// The interim heads, the final one left out (none for most
    /// responses).
    pub fn interim(&self) -> &[ResponseHead] {
        match &self.0 {
            HeadList::One(_) => &[],
            HeadList::Many(heads) => &heads[..heads.len() - 1],
        }
    }

    /// The final head.
    pub fn last_head(&self) -> &ResponseHead {
        match &self.0 {
            HeadList::One(head) => head,
            // Never empty: `new` pushed the final head.
            HeadList::Many(heads) => &heads[heads.len() - 1],
        }
    }
}

impl Deref for Heads {
    type Target = [ResponseHead];

    fn deref(&self) -> &[ResponseHead] {
        match &self.0 {
            HeadList::One(head) => std::slice::from_ref(head),
            HeadList::Many(heads) => heads,
        }
    }
}

/// One redirect that was followed (`-L`).
#[derive(Debug)]
pub struct Redirect {
    /// The URL fetched.
    pub url: String,
    /// The address it was fetched from.
    pub addr: Option<SocketAddr>,
    /// Its heads (interim `1xx` heads first), the last one the redirect.
    pub heads: Heads,
    /// Where it pointed: its `Location`, resolved against `url`.
    pub location: String,
    /// Its TLS session, when the sink asked for TLS facts.
    pub tls: Option<Box<TlsInfo>>,
}

impl Redirect {
    /// The redirect's status (`301`, ...).
    pub fn status(&self) -> u16 {
        self.heads.last_head().status
    }
}

/// Everything known about one target at the end.
#[derive(Debug)]
pub struct Outcome {
    /// The target as the user wrote it (the `target` of the JSON output).
    pub input: String,
    /// The last hop's target, once the input parsed: the input's own, or,
    /// after redirects, where the last one pointed. Its URL is built only
    /// when a report asks ([`Outcome::url`]); the text output never does.
    pub target: Option<Target>,
    /// The redirects followed before the last hop, first first (`-L`).
    pub redirects: Vec<Redirect>,
    /// The address of the last hop, connected to (or last tried).
    pub addr: Option<SocketAddr>,
    /// The last hop's response heads (interim `1xx` heads first, the final
    /// head last), or the error.
    pub result: Result<Heads, FetchError>,
    /// The last hop's TLS session, successful or not, when the sink asked
    /// for TLS facts ([`Sink::wants_tls_info`](super::Sink::wants_tls_info)).
    pub tls: Option<Box<TlsInfo>>,
    /// Phase timings.
    pub timings: Timings,
}

impl Outcome {
    /// `http[s]://host[:port]/path` of the first request, once the target
    /// parsed.
    pub fn url(&self) -> Option<Cow<'_, str>> {
        match self.redirects.first() {
            Some(first) => Some(Cow::Borrowed(&first.url)),
            None => self.target.as_ref().map(|target| Cow::Owned(target.url())),
        }
    }

    /// The final head, for a success.
    pub fn head(&self) -> Option<&ResponseHead> {
        self.result.as_ref().ok().map(Heads::last_head)
    }

    /// Whether the fetch got as far as the network: false for a target that
    /// was rejected before any lookup.
    pub fn started(&self) -> bool {
        !matches!(self.result, Err(FetchError::Target(_)))
    }
}

#[cfg(test)]
mod tests {
    use super::{ErrorKind, Heads};
    use crate::http::{Feed, HeadParser, ResponseHead};

    fn head(bytes: &[u8]) -> ResponseHead {
        match HeadParser::new().feed(bytes) {
            Ok(Feed::Complete { head, .. }) => head,
            other => panic!("not a whole head: {other:?}"),
        }
    }

    #[test]
    fn heads_are_the_interim_ones_then_the_final_one() {
        let alone = Heads::new(Vec::new(), head(b"HTTP/1.1 200 OK\r\n\r\n"));
        assert_eq!(alone.iter().map(|h| h.status).collect::<Vec<_>>(), [200]);
        assert_eq!(alone.last_head().status, 200);
        assert!(alone.interim().is_empty());

        let interim = vec![
            head(b"HTTP/1.1 100 Continue\r\n\r\n"),
            head(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"),
        ];
        let all = Heads::new(interim, head(b"HTTP/1.1 404 Not Found\r\n\r\n"));
        let statuses: Vec<u16> = all.iter().map(|h| h.status).collect();
        assert_eq!(statuses, [100, 103, 404]);
        assert_eq!(all.last_head().status, 404);
        let interim: Vec<u16> = all.interim().iter().map(|h| h.status).collect();
        assert_eq!(interim, [100, 103]);
        assert_eq!(all.last().map(|h| h.status), Some(404));
    }

    /// `Summary` counts failures in an array indexed by `kind as usize`.
    #[test]
    fn all_lists_every_kind_in_declaration_order() {
        for (index, kind) in ErrorKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index, "{kind}");
        }
    }
}
