//! [`TlsConnector`]: the client configuration of a run, built once.
//!
//! Building a rustls `ClientConfig` costs real work (the root store, the
//! verifier, the provider's tables), and rustls is built for one config to be
//! shared: each connection holds an `Arc` of it. So a run builds one
//! [`TlsConnector`] from its [`TlsOptions`] and hands every connection a
//! clone of the `Arc`, as asyncio programs build one `ssl.SSLContext` and
//! pass it as `ssl=` to every `open_connection`.
//!
//! Choices made here, for every connection of the run:
//!
//! - **Crypto**: rustls's *ring* provider, chosen explicitly
//!   (`builder_with_details`), so aws-lc-rs is never built.
//! - **Trust**: Mozilla's roots from `webpki-roots`, plus the certificates of
//!   an optional PEM file (`--cacert`), wrapped in the recording verifier of
//!   [`super::verifier`].
//! - **Versions**: TLS 1.2 and 1.3, or a narrower range.
//! - **ALPN**: `http/1.1` is offered; what the server picks is recorded.
//! - **No resumption**: a resumed session skips the certificate, and this
//!   tool exists to report the certificate of every host it visits.
//! - **Clock**: the system's, or a fixed instant so tests of expiry never
//!   rot. Days-left figures use the same clock.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, ClientConnection, RootCertStore, SupportedProtocolVersion};

use super::error::TlsError;
use super::stream::TlsStream;
use super::verifier::RecordingVerifier;
use crate::net::TcpStream;

/// The protocol ALPN offers: this tool speaks HTTP/1.1 only.
const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A TLS protocol version this client can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl TlsVersion {
    /// The name used in output, as OpenSSL spells it: `TLSv1.2`, `TLSv1.3`.
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }

    fn rustls(self) -> &'static SupportedProtocolVersion {
        match self {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        }
    }

    /// Our name for a version rustls negotiated (it negotiates no other).
    pub(crate) fn from_rustls(version: rustls::ProtocolVersion) -> Option<TlsVersion> {
        match version {
            rustls::ProtocolVersion::TLSv1_2 => Some(TlsVersion::Tls12),
            rustls::ProtocolVersion::TLSv1_3 => Some(TlsVersion::Tls13),
            _ => None,
        }
    }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The time certificates are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Clock {
    /// The system clock, read at each check.
    #[default]
    System,
    /// A fixed instant: for tests, so a certificate made to expire in 2030
    /// is still valid when the test runs in 2031.
    Fixed(SystemTime),
}

impl Clock {
    /// The current time by this clock, as rustls wants it.
    pub(crate) fn now(&self) -> UnixTime {
        match self {
            Clock::System => UnixTime::now(),
            // Before 1970 cannot be expressed; it clamps to the epoch.
            Clock::Fixed(at) => {
                UnixTime::since_unix_epoch(at.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO))
            }
        }
    }
}

/// rustls asks its `TimeProvider` for the time of every certificate check.
#[derive(Debug)]
struct ClockTime(Clock);

impl TimeProvider for ClockTime {
    fn current_time(&self) -> Option<UnixTime> {
        Some(self.0.now())
    }
}

/// How the TLS client of a run behaves. `Default` is the safe setting:
/// Mozilla's roots, verification on, TLS 1.2 and 1.3, the system clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsOptions {
    /// A PEM file of extra certificates to trust as roots (`--cacert`), on
    /// top of Mozilla's.
    pub cacert: Option<PathBuf>,
    /// Complete handshakes whose certificate failed verification (`-k`).
    /// The real verdict is still recorded in [`super::TlsInfo`].
    pub insecure: bool,
    /// The oldest version to accept.
    pub min_version: TlsVersion,
    /// The newest version to offer.
    pub max_version: TlsVersion,
    /// The clock certificates are checked against.
    pub clock: Clock,
}

impl Default for TlsOptions {
    fn default() -> TlsOptions {
        TlsOptions {
            cacert: None,
            insecure: false,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            clock: Clock::System,
        }
    }
}

/// Why the TLS client could not be configured: a problem with the options,
/// reported before any connection is made.
#[derive(Debug)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The `--cacert` file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file is not valid PEM.
    Pem {
        /// The file.
        path: PathBuf,
        /// What the PEM reader said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The file holds no `CERTIFICATE` section.
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in the file cannot serve as a trust anchor.
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Which certificate, counting from 1.
        index: usize,
        /// What rustls said about it.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `min_version` is newer than `max_version`.
    NoVersion {
        /// The oldest version asked for.
        min: TlsVersion,
        /// The newest version asked for.
        max: TlsVersion,
    },
    /// rustls refused the configuration (not expected with these options).
    Rustls {
        /// What rustls said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::Read { path, source } => {
                write!(f, "cannot read CA file {}: {source}", path.display())
            }
            TlsConfigError::Pem { path, source } => {
                write!(f, "CA file {} is not valid PEM: {source}", path.display())
            }
            TlsConfigError::NoCertificate { path } => write!(
                f,
                "CA file {} holds no certificate (no '-----BEGIN CERTIFICATE-----' section)",
                path.display()
            ),
            TlsConfigError::BadCertificate {
                path,
                index,
                source,
            } => write!(
                f,
                "certificate {index} in CA file {} cannot be trusted as a root: {source}",
                path.display()
            ),
            TlsConfigError::NoVersion { min, max } => {
                write!(f, "no TLS version is both >= {min} and <= {max}")
            }
            TlsConfigError::Rustls { source } => write!(f, "TLS configuration: {source}"),
        }
    }
}

impl std::error::Error for TlsConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TlsConfigError::Read { source, .. } => Some(source),
            TlsConfigError::Pem { source, .. }
            | TlsConfigError::BadCertificate { source, .. }
            | TlsConfigError::Rustls { source } => Some(source.as_ref()),
            TlsConfigError::NoCertificate { .. } | TlsConfigError::NoVersion { .. } => None,
        }
    }
}

/// The TLS client of a run: one shared rustls configuration, and the
/// factory of [`TlsStream`]s. Cloning is cheap (two `Arc`s).
#[derive(Clone)]
pub struct TlsConnector {
    config: Arc<ClientConfig>,
    options: Arc<TlsOptions>,
}

impl fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConnector")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl TlsConnector {
    /// Builds the configuration every connection of the run will share.
    /// Fails only on bad options: an unreadable or empty CA file, or an
    /// empty version range.
    pub fn new(options: &TlsOptions) -> Result<TlsConnector, TlsConfigError> {
        let versions: Vec<&'static SupportedProtocolVersion> =
            [TlsVersion::Tls12, TlsVersion::Tls13]
                .into_iter()
                .filter(|v| (options.min_version..=options.max_version).contains(v))
                .map(TlsVersion::rustls)
                .collect();
        if versions.is_empty() {
            return Err(TlsConfigError::NoVersion {
                min: options.min_version,
                max: options.max_version,
            });
        }

        // Mozilla's roots are `&'static` data: copying the list copies
        // pointers, not certificates.
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        if let Some(path) = &options.cacert {
            add_pem_roots(&mut roots, path)?;
        }
        let roots = Arc::new(roots);

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let rustls_error = |e: &dyn fmt::Display| TlsConfigError::Rustls {
            source: e.to_string().into(),
        };
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| rustls_error(&e))?;
        let verifier = Arc::new(RecordingVerifier::new(webpki, roots, options.insecure));

        let mut config =
            ClientConfig::builder_with_details(provider, Arc::new(ClockTime(options.clock)))
                .with_protocol_versions(&versions)
                .map_err(|e| rustls_error(&e))?
                // "dangerous" because a custom verifier could accept anything.
                // Ours asks webpki first and only overrides its verdict under
                // `insecure`, which is what the user asked for.
                .dangerous()
                .with_custom_certificate_verifier(verifier)
                .with_no_client_auth();
        config.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        config.resumption = Resumption::disabled();
        Ok(TlsConnector {
            config: Arc::new(config),
            options: Arc::new(options.clone()),
        })
    }

    /// The options this connector was built from.
    pub fn options(&self) -> &TlsOptions {
        &self.options
    }

    /// Starts a TLS session with `host` over a connected `tcp` stream. No
    /// byte is sent yet: the first [`TlsStream::poll_handshake`] sends the
    /// ClientHello.
    ///
    /// `host` is a DNS name, sent as SNI and matched against the
    /// certificate's DNS names, or an IP literal (IPv6 without brackets),
    /// which sends no SNI (RFC 6066 forbids it) and is matched against the
    /// certificate's IP addresses. A trailing dot is dropped.
    pub fn connect(&self, host: &str, tcp: TcpStream) -> Result<TlsStream, TlsError> {
        let host = host.strip_suffix('.').unwrap_or(host);
        let name = ServerName::try_from(host)
            .map_err(|_| TlsError::InvalidName {
                host: host.to_owned(),
            })?
            .to_owned();
        let sni = match &name {
            ServerName::DnsName(dns) => Some(dns.as_ref().to_owned()),
            _ => None,
        };
        let conn = ClientConnection::new(self.config.clone(), name)
            .map_err(|e| TlsError::from_rustls(e, None))?;
        Ok(TlsStream::new(tcp, conn, sni))
    }
}

/// Adds every certificate of the PEM file at `path` to `roots`.
fn add_pem_roots(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsConfigError> {
    // Read the file ourselves so a missing file is reported as an I/O error
    // with its name, not as a PEM error.
    let bytes = std::fs::read(path).map_err(|source| TlsConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut added = 0;
    for (index, cert) in CertificateDer::pem_slice_iter(&bytes).enumerate() {
        let cert = cert.map_err(|e: pem::Error| match e {
            pem::Error::Io(source) => TlsConfigError::Read {
                path: path.to_owned(),
                source,
            },
            other => TlsConfigError::Pem {
                path: path.to_owned(),
                source: other.to_string().into(),
            },
        })?;
        roots
            .add(cert)
            .map_err(|e| TlsConfigError::BadCertificate {
                path: path.to_owned(),
                index: index + 1,
                source: e.to_string().into(),
            })?;
        added += 1;
    }
    if added == 0 {
        return Err(TlsConfigError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(())
}
