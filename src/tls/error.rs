//! [`TlsError`]: every way a TLS session can fail, as kinds people can grep.
//!
//! rustls reports one big `rustls::Error`; a user wants to know *which* of a
//! few things went wrong: the certificate expired, nobody vouches for it, it
//! names another host, the server speaks no TLS at all, or the server
//! hung up. This module sorts rustls's errors into those kinds, with the
//! facts that make each message useful (which issuer, which names, which
//! date). The rustls or I/O error stays reachable through
//! [`std::error::Error::source`].

use std::fmt;
use std::io;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{AlertDescription, CertificateError, PeerIncompatible, RootCertStore};

use super::info::{self, Timestamp};
use crate::http::escape_line;

/// The error behind a [`TlsError`], shared so the error can be cloned (a
/// verdict is both returned and kept in [`super::TlsInfo`]).
type Source = Arc<dyn std::error::Error + Send + Sync>;

/// Why a certificate chain leads to no trusted root.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Untrusted {
    /// The server's certificate is its own issuer (subject == issuer).
    SelfSigned {
        /// Its subject (RFC 4514).
        subject: String,
    },
    /// The server sent its certificate alone, and its issuer is not a
    /// trusted root: the intermediate the server should have sent is
    /// missing, or the issuer is a private CA nobody told us to trust.
    MissingIntermediate {
        /// The issuer named by the certificate.
        issuer: String,
    },
    /// The chain the server sent ends at an issuer we do not trust.
    UnknownIssuer {
        /// The issuer of the last certificate sent, when it could be read.
        issuer: Option<String>,
    },
}

/// A failed TLS session. [`TlsError::kind`] names the kind in one word.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TlsError {
    /// `cert-expired`: a certificate's `notAfter` is before the check time.
    CertExpired {
        /// The certificate's `notAfter`, when rustls reported it.
        not_after: Option<Timestamp>,
        /// When the check was made (by the configured clock).
        checked_at: Option<Timestamp>,
        /// rustls's error.
        source: Source,
    },
    /// `cert-not-yet-valid`: a certificate's `notBefore` is after the check time.
    CertNotYetValid {
        /// The certificate's `notBefore`, when rustls reported it.
        not_before: Option<Timestamp>,
        /// When the check was made.
        checked_at: Option<Timestamp>,
        /// rustls's error.
        source: Source,
    },
    /// `cert-untrusted`: the chain leads to no trusted root.
    CertUntrusted {
        /// Self-signed, missing intermediate, or unknown issuer.
        why: Untrusted,
        /// rustls's error.
        source: Source,
    },
    /// `cert-name-mismatch`: the certificate is not valid for the host.
    CertNameMismatch {
        /// The host we connected to.
        host: String,
        /// The DNS names and IP addresses the certificate holds.
        presented: Vec<String>,
        /// rustls's error.
        source: Source,
    },
    /// `cert-invalid`: any other certificate problem (bad encoding, bad
    /// signature, wrong purpose, unsupported algorithm, ...).
    CertInvalid {
        /// What is wrong, in plain words, for the problems that have them.
        why: Option<&'static str>,
        /// rustls's error.
        source: Source,
    },
    /// `tls-version`: the server and we share no protocol version.
    Version {
        /// rustls's error (a `protocol_version` alert, for instance).
        source: Source,
    },
    /// `tls-alert`: the server ended the session with an alert.
    Alert {
        /// The alert's name as RFC 8446 spells it (`handshake_failure`).
        alert: String,
        /// rustls's error.
        source: Source,
    },
    /// `tls-handshake`: anything else rustls rejected.
    Handshake {
        /// rustls's error (or the I/O error it raised about its buffers).
        source: Source,
    },
    /// `tls-closed`: the server closed the connection mid-handshake.
    Closed {
        /// How many bytes it had sent.
        received: usize,
    },
    /// `not-tls`: the server's first bytes are not a TLS record.
    NotTls {
        /// Its first bytes (at most [`NOT_TLS_SHOWN`] of them).
        first_bytes: Vec<u8>,
    },
    /// `io`: the socket failed (reset, ...). Classify it as any socket
    /// error ([`TlsError::io_error`]); it is not a TLS outcome.
    Io {
        /// What the OS said.
        source: Arc<io::Error>,
    },
    /// `bad-target`: the host is neither a DNS name nor an IP address.
    InvalidName {
        /// The host as given.
        host: String,
    },
}

/// How many of a non-TLS server's first bytes a [`TlsError::NotTls`] keeps.
pub const NOT_TLS_SHOWN: usize = 64;

impl TlsError {
    /// The kind, as printed and counted: `cert-expired`, `cert-not-yet-valid`,
    /// `cert-untrusted`, `cert-name-mismatch`, `cert-invalid`, `tls-version`,
    /// `tls-alert`, `tls-handshake`, `tls-closed`, `not-tls`, `io` or
    /// `bad-target`.
    pub fn kind(&self) -> &'static str {
        match self {
            TlsError::CertExpired { .. } => "cert-expired",
            TlsError::CertNotYetValid { .. } => "cert-not-yet-valid",
            TlsError::CertUntrusted { .. } => "cert-untrusted",
            TlsError::CertNameMismatch { .. } => "cert-name-mismatch",
            TlsError::CertInvalid { .. } => "cert-invalid",
            TlsError::Version { .. } => "tls-version",
            TlsError::Alert { .. } => "tls-alert",
            TlsError::Handshake { .. } => "tls-handshake",
            TlsError::Closed { .. } => "tls-closed",
            TlsError::NotTls { .. } => "not-tls",
            TlsError::Io { .. } => "io",
            TlsError::InvalidName { .. } => "bad-target",
        }
    }

    /// Whether this is a verdict on the certificate (the `cert-*` kinds):
    /// the failures `insecure` mode lets a handshake go past.
    pub fn is_certificate(&self) -> bool {
        matches!(
            self,
            TlsError::CertExpired { .. }
                | TlsError::CertNotYetValid { .. }
                | TlsError::CertUntrusted { .. }
                | TlsError::CertNameMismatch { .. }
                | TlsError::CertInvalid { .. }
        )
    }

    /// The socket error of an [`TlsError::Io`], for the caller to classify
    /// as it classifies any socket error (reset, unreachable, ...).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            TlsError::Io { source } => Some(source),
            _ => None,
        }
    }

    /// A TLS client that could not be set up, reported on the fetch that
    /// needed it.
    pub(crate) fn setup(message: &str) -> TlsError {
        TlsError::Handshake {
            source: Arc::from(Box::<dyn std::error::Error + Send + Sync>::from(format!(
                "no TLS client: {message}"
            ))),
        }
    }

    pub(crate) fn io(error: io::Error) -> TlsError {
        TlsError::Io {
            source: Arc::new(error),
        }
    }

    /// Sorts a rustls error into a kind. `seen` is what the verifier had in
    /// hand when the error is about a certificate: the chain, the host and
    /// the roots, which tell an untrusted chain's three cases apart.
    pub(crate) fn from_rustls(error: rustls::Error, seen: Option<&Seen<'_>>) -> TlsError {
        use rustls::Error as E;
        match &error {
            E::InvalidCertificate(problem) => {
                let problem = problem.clone();
                from_certificate(problem, seen, Arc::new(error))
            }
            E::AlertReceived(AlertDescription::ProtocolVersion) => TlsError::Version {
                source: Arc::new(error),
            },
            E::AlertReceived(alert) => TlsError::Alert {
                alert: alert_name(*alert),
                source: Arc::new(error),
            },
            E::PeerIncompatible(
                PeerIncompatible::ServerDoesNotSupportTls12Or13
                | PeerIncompatible::ServerTlsVersionIsDisabledByOurConfig
                | PeerIncompatible::SupportedVersionsExtensionRequired
                | PeerIncompatible::Tls12NotOffered
                | PeerIncompatible::Tls12NotOfferedOrEnabled,
            ) => TlsError::Version {
                source: Arc::new(error),
            },
            _ => TlsError::Handshake {
                source: Arc::new(error),
            },
        }
    }
}

/// What the verifier saw when it judged a chain.
pub(crate) struct Seen<'a> {
    /// The chain as the server sent it, its own certificate first.
    pub(crate) chain: &'a [CertificateDer<'a>],
    /// The name we checked it against.
    pub(crate) host: &'a ServerName<'a>,
    /// The roots we trust.
    pub(crate) roots: &'a RootCertStore,
}

fn from_certificate(
    problem: CertificateError,
    seen: Option<&Seen<'_>>,
    source: Source,
) -> TlsError {
    use CertificateError as C;
    let stamp = |t: rustls::pki_types::UnixTime| Some(Timestamp::from_unix(t.as_secs()));
    match problem {
        C::Expired => TlsError::CertExpired {
            not_after: None,
            checked_at: None,
            source,
        },
        C::ExpiredContext { time, not_after } => TlsError::CertExpired {
            not_after: stamp(not_after),
            checked_at: stamp(time),
            source,
        },
        C::NotValidYet => TlsError::CertNotYetValid {
            not_before: None,
            checked_at: None,
            source,
        },
        C::NotValidYetContext { time, not_before } => TlsError::CertNotYetValid {
            not_before: stamp(not_before),
            checked_at: stamp(time),
            source,
        },
        C::UnknownIssuer => TlsError::CertUntrusted {
            why: untrusted(seen),
            source,
        },
        C::NotValidForName => TlsError::CertNameMismatch {
            host: seen.map(|s| host_text(s.host)).unwrap_or_default(),
            presented: seen.map(leaf_names).unwrap_or_default(),
            source,
        },
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            // Our own reading of the leaf's names prints them plainly;
            // webpki's list (`DnsName("a.example")`) is the fallback.
            let ours = seen.map(leaf_names).unwrap_or_default();
            TlsError::CertNameMismatch {
                host: host_text(&expected),
                presented: if ours.is_empty() { presented } else { ours },
                source,
            }
        }
        other => TlsError::CertInvalid {
            why: plain_words(&other),
            source,
        },
    }
}

/// The common certificate problems without a kind of their own, as a user
/// would put them; rustls's own text stays in the message beside them.
fn plain_words(problem: &CertificateError) -> Option<&'static str> {
    use CertificateError as C;
    match problem {
        C::BadEncoding => Some("it is not valid DER"),
        C::BadSignature => Some("a signature in the chain does not verify"),
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            Some("it is not meant for a TLS server (its extended key usage)")
        }
        C::UnhandledCriticalExtension => {
            Some("it has a critical extension this client does not know")
        }
        C::Revoked => Some("it has been revoked"),
        // webpki's own errors come wrapped; their names say what they are.
        C::Other(other) => match format!("{other:?}") {
            name if name.contains("CaUsedAsEndEntity") => Some(
                "the server's own certificate is a CA certificate (basicConstraints CA:TRUE); \
                 a server certificate must not be one",
            ),
            name if name.contains("UnsupportedSignatureAlgorithm") => {
                Some("it is signed with an algorithm this client does not accept")
            }
            _ => None,
        },
        _ => None,
    }
}

/// Tells the three cases of an untrusted chain apart, from the chain alone:
/// a leaf that is its own issuer is self-signed; a leaf sent alone whose
/// issuer is not a trusted root means an intermediate is missing; anything
/// else is an unknown issuer, named after the last certificate sent.
fn untrusted(seen: Option<&Seen<'_>>) -> Untrusted {
    let Some(seen) = seen else {
        return Untrusted::UnknownIssuer { issuer: None };
    };
    let Some(leaf) = seen.chain.first().and_then(|der| info::Names::of(der)) else {
        return Untrusted::UnknownIssuer { issuer: None };
    };
    if leaf.self_issued() {
        return Untrusted::SelfSigned {
            subject: leaf.subject,
        };
    }
    if seen.chain.len() == 1 {
        let issuer_is_root = seen
            .roots
            .roots
            .iter()
            .any(|anchor| leaf.issued_by_subject(anchor.subject.as_ref()));
        if !issuer_is_root {
            return Untrusted::MissingIntermediate {
                issuer: leaf.issuer,
            };
        }
    }
    let last = seen.chain.last().and_then(|der| info::Names::of(der));
    Untrusted::UnknownIssuer {
        issuer: last.map(|names| names.issuer),
    }
}

/// The DNS names and IP addresses the server's certificate holds.
fn leaf_names(seen: &Seen<'_>) -> Vec<String> {
    seen.chain
        .first()
        .and_then(|der| info::Names::of(der))
        .map(|names| names.alt_names)
        .unwrap_or_default()
}

fn host_text(name: &ServerName<'_>) -> String {
    match name {
        ServerName::DnsName(dns) => dns.as_ref().to_owned(),
        ServerName::IpAddress(ip) => std::net::IpAddr::from(*ip).to_string(),
        other => format!("{other:?}"),
    }
}

/// An alert's name as the RFCs spell it: rustls names `HandshakeFailure`
/// what RFC 8446 calls `handshake_failure`.
fn alert_name(alert: AlertDescription) -> String {
    let Some(camel) = alert.as_str() else {
        return format!("unknown alert {}", u8::from(alert));
    };
    let mut name = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('_');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

/// "… 152 days before …": whole days between two instants.
fn days_between(earlier: Timestamp, later: Timestamp) -> u64 {
    later.unix.saturating_sub(earlier.unix) / 86_400
}

impl fmt::Display for Untrusted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Untrusted::SelfSigned { subject } => write!(
                f,
                "self-signed certificate ({}): no trusted CA vouches for it",
                escape_line(subject.as_bytes())
            ),
            Untrusted::MissingIntermediate { issuer } => write!(
                f,
                "the server sent only its own certificate, and its issuer ({}) is not a \
                 trusted root: an intermediate certificate is missing, or the issuer is a \
                 private CA that must be trusted explicitly",
                escape_line(issuer.as_bytes())
            ),
            Untrusted::UnknownIssuer {
                issuer: Some(issuer),
            } => write!(
                f,
                "unknown issuer ({}): the chain the server sent leads to no trusted root",
                escape_line(issuer.as_bytes())
            ),
            Untrusted::UnknownIssuer { issuer: None } => {
                f.write_str("unknown issuer: the chain the server sent leads to no trusted root")
            }
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::CertExpired {
                not_after: Some(not_after),
                checked_at: Some(checked_at),
                ..
            } => write!(
                f,
                "certificate expired at {not_after}, {} days before the check at {checked_at}",
                days_between(*not_after, *checked_at)
            ),
            TlsError::CertExpired { .. } => f.write_str("certificate expired"),
            TlsError::CertNotYetValid {
                not_before: Some(not_before),
                checked_at: Some(checked_at),
                ..
            } => write!(
                f,
                "certificate is not valid before {not_before}, {} days after the check at \
                 {checked_at}",
                days_between(*checked_at, *not_before)
            ),
            TlsError::CertNotYetValid { .. } => f.write_str("certificate is not valid yet"),
            TlsError::CertUntrusted { why, .. } => why.fmt(f),
            TlsError::CertNameMismatch {
                host, presented, ..
            } => {
                write!(f, "certificate is not valid for {host}: ")?;
                if presented.is_empty() {
                    return f.write_str("it names no host");
                }
                f.write_str("it names ")?;
                for (i, name) in presented.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&escape_line(name.as_bytes()))?;
                }
                Ok(())
            }
            TlsError::CertInvalid {
                why: Some(why),
                source,
            } => write!(f, "invalid certificate: {why} ({source})"),
            TlsError::CertInvalid { why: None, source } => {
                write!(f, "invalid certificate: {source}")
            }
            TlsError::Version { source } => {
                write!(f, "no TLS version in common with the server ({source})")
            }
            TlsError::Alert { alert, .. } => write!(f, "the server sent the TLS alert {alert}"),
            TlsError::Handshake { source } => write!(f, "TLS failed: {source}"),
            TlsError::Closed { received: 0 } => f.write_str(
                "the server closed the connection during the TLS handshake, without a byte",
            ),
            TlsError::Closed { received } => write!(
                f,
                "the server closed the connection during the TLS handshake, after {received} bytes"
            ),
            TlsError::NotTls { first_bytes } => {
                // One line is enough to recognise a plain HTTP or SSH server.
                let line = first_bytes
                    .split(|b| *b == b'\n')
                    .next()
                    .unwrap_or_default();
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                write!(
                    f,
                    "the server does not speak TLS: it sent \"{}\"",
                    escape_line(line)
                )
            }
            TlsError::Io { source } => source.fmt(f),
            TlsError::InvalidName { host } => write!(
                f,
                "'{}' is neither a DNS name nor an IP address",
                escape_line(host.as_bytes())
            ),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsError::CertExpired { source, .. }
            | TlsError::CertNotYetValid { source, .. }
            | TlsError::CertUntrusted { source, .. }
            | TlsError::CertNameMismatch { source, .. }
            | TlsError::CertInvalid { source, .. }
            | TlsError::Version { source }
            | TlsError::Alert { source, .. }
            | TlsError::Handshake { source } => Some(source.as_ref()),
            TlsError::Io { source } => Some(source.as_ref()),
            TlsError::Closed { .. } | TlsError::NotTls { .. } | TlsError::InvalidName { .. } => {
                None
            }
        }
    }
}
