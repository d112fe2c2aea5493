//! The HTTPS fetch workload on tokio: tokio's `TcpStream` under
//! tokio-rustls, the reference client the TLS bench compares ours with.
//!
//! It is configured to do what ours does on the wire, so the two differ only
//! in the code that drives them:
//!
//! - the same rustls (one version in the tree) and `ring` provider,
//!   chosen explicitly (`builder_with_provider`);
//! - the same trust store: Mozilla's roots from `webpki-roots` plus the
//!   bench's CA, as `--cacert` gives ours; verification by rustls's
//!   `WebPkiServerVerifier`, which ours wraps;
//! - the same protocol versions offered (TLS 1.3 and 1.2), ALPN
//!   `http/1.1`, no session resumption (ours disables it), no SNI for an
//!   IP address target;
//! - the same request bytes, made by ours's request builder
//!   ([`crate::ours_tls_fetch::request_bytes`]), and the plain tokio
//!   client's head reading, [`read_head`]: tokio's 8 KiB `BufReader`,
//!   lines up to the blank one, checked by `wire::check_head`;
//! - the same bounded concurrency ([`run_workers`]).

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

use crate::tokio_fetch::{read_head, run_workers};
use crate::wire::Tally;

/// The client configuration every connection of a run shares, trusting
/// Mozilla's roots and the certificates in the PEM file `ca`.
pub fn client_config(ca: &Path) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for cert in CertificateDer::pem_file_iter(ca).map_err(io::Error::other)? {
        roots
            .add(cert.map_err(io::Error::other)?)
            .map_err(io::Error::other)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// Fetches `total` heads from `addr` over TLS, `concurrency` in flight,
/// each sending `request`. Must run inside a tokio runtime.
pub async fn fetch_all(
    addr: SocketAddr,
    total: usize,
    concurrency: usize,
    config: Arc<ClientConfig>,
    request: Arc<[u8]>,
) -> Tally {
    let connector = TlsConnector::from(config);
    run_workers(total, concurrency, move |_| {
        let (connector, request) = (connector.clone(), request.clone());
        async move {
            let mut stream = connect(addr, &connector).await?;
            exchange(&mut stream, &request).await.map(drop)
        }
    })
    .await
}

/// What one session negotiated, for the bench to show both clients agree.
#[derive(Debug)]
pub struct Negotiated {
    /// `TLSv1.3` or `TLSv1.2`, as ours spells them.
    pub version: String,
    /// The cipher suite, as rustls names it (and ours reports it).
    pub suite: String,
    /// The key exchange group.
    pub group: String,
    /// The ALPN protocol.
    pub alpn: String,
}

/// One fetch that reports what the session negotiated.
pub async fn probe(
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    request: &[u8],
) -> Result<Negotiated, String> {
    let mut stream = connect(addr, &TlsConnector::from(config)).await?;
    exchange(&mut stream, request).await?;
    let (_, session) = stream.get_ref().get_ref();
    let show = |v: Option<String>| v.unwrap_or_else(|| "none".into());
    Ok(Negotiated {
        version: show(session.protocol_version().map(|v| match v {
            rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
            rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
            other => format!("{other:?}"),
        })),
        suite: show(
            session
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str())
                .map(str::to_owned),
        ),
        group: show(
            session
                .negotiated_key_exchange_group()
                .map(|g| format!("{:?}", g.name())),
        ),
        alpn: show(
            session
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
        ),
    })
}

/// Connects and completes the TLS handshake, verifying the certificate
/// against the IP address of `addr`.
async fn connect(
    addr: SocketAddr,
    connector: &TlsConnector,
) -> Result<BufReader<TlsStream<TcpStream>>, String> {
    let tcp = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let name = ServerName::IpAddress(addr.ip().into());
    let tls = connector
        .connect(name, tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    // The straightforward client, as in `tokio_fetch.rs`: tokio's default
    // 8 KiB `BufReader`, which passes writes straight through.
    Ok(BufReader::new(tls))
}

/// Sends `request` and reads lines up to the blank one: the head, blank
/// line included, if it is a `200`.
async fn exchange(
    stream: &mut BufReader<TlsStream<TcpStream>>,
    request: &[u8],
) -> Result<Vec<u8>, String> {
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("write: {e}"))?;
    // tokio-rustls may keep records it could not write yet: flush sends them.
    stream.flush().await.map_err(|e| format!("flush: {e}"))?;
    read_head(stream).await
}
