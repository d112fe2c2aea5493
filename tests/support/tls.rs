//! TLS test helpers: certificates made with rcgen at a pinned time, and TLS
//! peers on plain threads (rustls's blocking `ServerConnection` over a std
//! socket; they never touch the runtime under test).
//!
//! Included by the `tls_*` tests with `#[path = "support/tls.rs"] mod tls;`
//! next to `mod support;`, so the other tests do not build it.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fetch_headers::net;
use fetch_headers::runtime::Runtime;
use fetch_headers::tls::{Clock, TlsConnector, TlsError, TlsInfo, TlsOptions, TlsVersion};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

/// The instant every test checks certificates at: 2026-06-01T00:00:00Z.
pub const NOW: u64 = 1_780_272_000;
/// 2026-01-01T00:00:00Z: leaves are valid from here...
pub const JAN_2026: u64 = 1_767_225_600;
/// ...to 2027-01-01T00:00:00Z, 214 days after [`NOW`].
pub const JAN_2027: u64 = 1_798_761_600;
/// 2025-01-01T00:00:00Z.
pub const JAN_2025: u64 = 1_735_689_600;
/// 2028-01-01T00:00:00Z.
pub const JAN_2028: u64 = 1_830_297_600;

/// The pinned clock: [`NOW`].
pub fn pinned() -> Clock {
    Clock::Fixed(UNIX_EPOCH + Duration::from_secs(NOW))
}

/// A calendar date at midnight UTC, as `(year, month, day)`.
pub type Date = (i32, u8, u8);

/// A certificate authority made for the test.
pub struct Ca {
    pub der: CertificateDer<'static>,
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Ca {
    /// A self-signed root named `CN=<name>`, valid 2020..2040.
    pub fn root(name: &str) -> Ca {
        Ca::root_with(name, |_| {})
    }

    /// A self-signed root named `CN=<name>`, its parameters adjusted by
    /// `adjust` (its validity, say).
    pub fn root_with(name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Ca {
        let key = KeyPair::generate().expect("key");
        let mut params = ca_params(name);
        adjust(&mut params);
        let cert = params.self_signed(&key).expect("self-sign");
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// An intermediate CA named `CN=<name>`, signed by `self`.
    pub fn intermediate(&self, name: &str) -> Ca {
        self.intermediate_with(name, |_| {})
    }

    /// An intermediate CA named `CN=<name>`, signed by `self`, its
    /// parameters adjusted by `adjust`.
    pub fn intermediate_with(&self, name: &str, adjust: impl FnOnce(&mut CertificateParams)) -> Ca {
        let key = KeyPair::generate().expect("key");
        let mut params = ca_params(name);
        adjust(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Ca {
            der: cert.der().clone(),
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A leaf for `names` (DNS names or IP literals; the first is also the
    /// CN), valid 2026-01-01..2027-01-01.
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_valid(names, (2026, 1, 1), (2027, 1, 1))
    }

    /// A leaf valid from `not_before` to `not_after`.
    pub fn leaf_valid(&self, names: &[&str], not_before: Date, not_after: Date) -> Leaf {
        self.leaf_with(names, KeyPair::generate().expect("key"), |params| {
            params.not_before = rcgen::date_time_ymd(not_before.0, not_before.1, not_before.2);
            params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        })
    }

    /// A leaf with the key `key` and parameters adjusted by `adjust`.
    pub fn leaf_with(
        &self,
        names: &[&str],
        key: KeyPair,
        adjust: impl FnOnce(&mut CertificateParams),
    ) -> Leaf {
        let mut params = leaf_params(names);
        adjust(&mut params);
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Leaf {
            der: cert.der().clone(),
            pem: cert.pem(),
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

/// A self-signed leaf for `names` (a server with no CA at all).
pub fn self_signed(names: &[&str]) -> Leaf {
    self_signed_with(names, |_| {})
}

/// A self-signed leaf for `names`, its parameters adjusted by `adjust`.
pub fn self_signed_with(names: &[&str], adjust: impl FnOnce(&mut CertificateParams)) -> Leaf {
    let key = KeyPair::generate().expect("key");
    let mut params = leaf_params(names);
    adjust(&mut params);
    let cert = params.self_signed(&key).expect("self-sign");
    Leaf {
        der: cert.der().clone(),
        pem: cert.pem(),
        key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    params
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let owned: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(owned).expect("names");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
    params.not_before = rcgen::date_time_ymd(2026, 1, 1);
    params.not_after = rcgen::date_time_ymd(2027, 1, 1);
    params
}

/// A server's certificate and private key.
pub struct Leaf {
    pub der: CertificateDer<'static>,
    /// The certificate as PEM (for a server in another process: nginx).
    pub pem: String,
    pub key: PrivateKeyDer<'static>,
}

/// Writes `pem` to a new temporary file and returns it (kept alive by the
/// caller).
pub fn pem_file(pem: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().expect("temp file");
    file.write_all(pem.as_bytes()).expect("write pem");
    file
}

/// What a server needs: the chain it sends (its own certificate first),
/// its key, the versions it speaks and its ALPN protocols.
pub struct ServerSetup {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    pub versions: Vec<&'static rustls::SupportedProtocolVersion>,
    pub alpn: Vec<Vec<u8>>,
    /// Sign the handshake with this key instead of the certificate's own:
    /// an impostor holding someone else's certificate.
    pub impostor_key: Option<PrivateKeyDer<'static>>,
}

impl ServerSetup {
    /// Sends `leaf` alone, TLS 1.2 and 1.3, ALPN `http/1.1`.
    pub fn new(leaf: &Leaf) -> ServerSetup {
        ServerSetup {
            chain: vec![leaf.der.clone()],
            key: leaf.key.clone_key(),
            versions: vec![&rustls::version::TLS12, &rustls::version::TLS13],
            alpn: vec![b"http/1.1".to_vec()],
            impostor_key: None,
        }
    }

    /// Signs the handshake with `key`, which does not match the certificate.
    pub fn signed_by(mut self, key: PrivateKeyDer<'static>) -> ServerSetup {
        self.impostor_key = Some(key);
        self
    }

    /// Sends `extra` after the leaf (intermediates).
    pub fn with_chain(mut self, extra: &[&CertificateDer<'static>]) -> ServerSetup {
        self.chain.extend(extra.iter().map(|c| (*c).clone()));
        self
    }

    /// Speaks only `version`.
    pub fn only(mut self, version: &'static rustls::SupportedProtocolVersion) -> ServerSetup {
        self.versions = vec![version];
        self
    }

    /// Offers these ALPN protocols instead.
    pub fn alpn(mut self, protocols: &[&[u8]]) -> ServerSetup {
        self.alpn = protocols.iter().map(|p| p.to_vec()).collect();
        self
    }

    /// The rustls server configuration, on ring.
    pub fn config(self) -> Arc<ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&self.versions)
            .expect("versions")
            .with_no_client_auth();
        let mut config = match self.impostor_key {
            None => builder
                .with_single_cert(self.chain, self.key)
                .expect("server cert"),
            // `with_single_cert` would refuse a key that does not match.
            Some(key) => {
                let key = provider.key_provider.load_private_key(key).expect("key");
                let certified = rustls::sign::CertifiedKey::new(self.chain, key);
                builder
                    .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)))
            }
        };
        config.alpn_protocols = self.alpn;
        Arc::new(config)
    }
}

/// What a test server saw of its one connection.
#[derive(Debug)]
pub struct ServerSeen {
    /// The SNI the client sent.
    pub sni: Option<String>,
    /// How the handshake ended on the server's side.
    pub handshake: Result<(), String>,
    /// Plaintext the client sent after the handshake, until it closed
    /// (only read by servers that read).
    pub received: Vec<u8>,
}

/// A TLS server for one connection: handshakes (blocking, on its own
/// thread), then runs `after` on the session if the handshake succeeded.
pub fn tls_server(
    config: Arc<ServerConfig>,
    after: impl FnOnce(&mut ServerConnection, &mut TcpStream) -> Vec<u8> + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<ServerSeen>) {
    crate::support::peer(move |mut sock| {
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("read timeout");
        let mut conn = ServerConnection::new(config).expect("server connection");
        let mut handshake = Ok(());
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut sock) {
                handshake = Err(e.to_string());
                break;
            }
        }
        let sni = conn.server_name().map(str::to_owned);
        let received = match handshake {
            Ok(()) => after(&mut conn, &mut sock),
            Err(_) => Vec::new(),
        };
        ServerSeen {
            sni,
            handshake,
            received,
        }
    })
}

/// A server that handshakes and then closes at once (no data).
pub fn handshake_server(config: Arc<ServerConfig>) -> (SocketAddr, thread::JoinHandle<ServerSeen>) {
    tls_server(config, |_, _| Vec::new())
}

/// Writes `data` through the session, all of it, and its records to the socket.
pub fn send(conn: &mut ServerConnection, sock: &mut impl Write, data: &[u8]) -> io::Result<()> {
    conn.writer().write_all(data)?;
    while conn.wants_write() {
        conn.write_tls(sock)?;
    }
    Ok(())
}

/// Reads plaintext until the client closes (cleanly or not) or `limit`
/// bytes have come.
pub fn receive(conn: &mut ServerConnection, sock: &mut TcpStream, limit: usize) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    while got.len() < limit {
        match conn.reader().read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => break,
        }
        match conn.read_tls(sock) {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                if conn.process_new_packets().is_err() {
                    break;
                }
            }
        }
        while conn.wants_write() {
            if conn.write_tls(sock).is_err() {
                return got;
            }
        }
    }
    got
}

/// A connector trusting `ca` (through a PEM file, as `--cacert` does), on
/// the pinned clock.
pub fn connector(ca: &Ca) -> TlsConnector {
    connector_with(ca, |_| {})
}

/// Like [`connector`], with the options adjusted by `adjust`.
pub fn connector_with(ca: &Ca, adjust: impl FnOnce(&mut TlsOptions)) -> TlsConnector {
    let file = pem_file(&ca.pem);
    let mut options = TlsOptions {
        cacert: Some(file.path().to_owned()),
        clock: pinned(),
        ..TlsOptions::default()
    };
    adjust(&mut options);
    TlsConnector::new(&options).expect("connector")
}

/// Restricts a connector to one version.
pub fn only(version: TlsVersion) -> impl FnOnce(&mut TlsOptions) {
    move |options| {
        options.min_version = version;
        options.max_version = version;
    }
}

/// Connects to `addr`, handshakes as `host`, and returns the result with
/// what the session learned, all on a fresh runtime, under a deadline.
pub fn handshake(
    connector: &TlsConnector,
    host: &str,
    addr: SocketAddr,
) -> (Result<(), TlsError>, TlsInfo) {
    let connector = connector.clone();
    let host = host.to_owned();
    crate::support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().expect("runtime");
        rt.block_on(async move {
            let tcp = net::TcpStream::connect(addr).await.expect("connect");
            let mut tls = connector.connect(&host, tcp).expect("tls stream");
            let result = tls.handshake().await;
            (result, tls.info())
        })
    })
}

/// Seconds since the epoch, now (for tests on the system clock).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

// ---------------------------------------------------------------------------
// For tests on the system clock (the CLI has no pinned clock): validity
// relative to now, so the certificates never rot.
// ---------------------------------------------------------------------------

/// Seconds in a day.
pub const DAY: i64 = 86_400;

/// Makes `params` valid from `from` to `to` seconds after now (negative:
/// before now).
pub fn valid_from_now(params: &mut CertificateParams, from: i64, to: i64) {
    let now = unix_now() as i64;
    valid_between(params, (now + from) as u64, (now + to) as u64);
}

/// Makes `params` valid from `not_before` to `not_after`, in seconds since
/// the epoch.
pub fn valid_between(params: &mut CertificateParams, not_before: u64, not_after: u64) {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    params.not_before = epoch + Duration::from_secs(not_before);
    params.not_after = epoch + Duration::from_secs(not_after);
}

/// A leaf of `ca` for `names`, valid from `from` to `to` seconds after now.
pub fn leaf_from_now(ca: &Ca, names: &[&str], from: i64, to: i64) -> Leaf {
    ca.leaf_with(names, KeyPair::generate().expect("key"), |params| {
        valid_from_now(params, from, to)
    })
}

/// A root valid from a year ago for ten years from now.
pub fn root_now(name: &str) -> Ca {
    Ca::root_with(name, |params| {
        valid_from_now(params, -365 * DAY, 3650 * DAY)
    })
}

/// `unix` as RFC 3339 in UTC (`2027-03-05T12:00:00Z`), worked out here
/// (the civil-from-days algorithm) rather than by the code under test.
pub fn rfc3339(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    // Howard Hinnant's `civil_from_days`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// What a TLS server of [`https_server`] saw of one request.
#[derive(Debug)]
pub struct TlsRequest {
    /// The SNI the client sent.
    pub sni: Option<String>,
    /// The request head, up to its blank line.
    pub head: Vec<u8>,
}

/// A TLS server for any number of connections, each on its own thread:
/// it handshakes, reads the request head, hands it (with the SNI) to the
/// returned channel, answers what `answer` makes of the head, and closes
/// with `close_notify`. A failed handshake sends rustls's alert, if any,
/// and closes.
pub fn https_server(
    config: Arc<ServerConfig>,
    answer: impl Fn(&[u8]) -> Vec<u8> + Send + Sync + Clone + 'static,
) -> (SocketAddr, mpsc::Receiver<TlsRequest>) {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let addr = crate::support::serve(move |mut sock| {
        let _ = sock.set_read_timeout(Some(Duration::from_secs(20)));
        let Ok(mut conn) = ServerConnection::new(config.clone()) else {
            return;
        };
        while conn.is_handshaking() {
            if conn.complete_io(&mut sock).is_err() {
                let _ = conn.write_tls(&mut sock);
                return;
            }
        }
        let head = receive_head(&mut conn, &mut sock);
        let response = answer(&head);
        let sni = conn.server_name().map(str::to_owned);
        // Recorded before the answer, so a client that has its answer
        // finds the request here.
        let _ = tx.lock().map(|tx| tx.send(TlsRequest { sni, head }));
        if send(&mut conn, &mut sock, &response).is_ok() {
            conn.send_close_notify();
            while conn.wants_write() {
                if conn.write_tls(&mut sock).is_err() {
                    break;
                }
            }
        }
    });
    (addr, rx)
}

/// Like [`https_server`], answering `response` to every request.
pub fn https_answering(
    config: Arc<ServerConfig>,
    response: &'static [u8],
) -> (SocketAddr, mpsc::Receiver<TlsRequest>) {
    https_server(config, move |_| response.to_vec())
}

/// Reads plaintext until the end of a request head (a blank line), the
/// client closes, or 64 KiB have come.
pub fn receive_head(conn: &mut ServerConnection, sock: &mut (impl Read + Write)) -> Vec<u8> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end + 4);
            return head;
        }
        if head.len() > 64 * 1024 {
            return head;
        }
        match conn.reader().read(&mut buf) {
            Ok(0) => return head,
            Ok(n) => {
                head.extend_from_slice(&buf[..n]);
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return head,
        }
        match conn.read_tls(sock) {
            Ok(0) | Err(_) => return head,
            Ok(_) => {
                if conn.process_new_packets().is_err() {
                    return head;
                }
            }
        }
        while conn.wants_write() {
            if conn.write_tls(sock).is_err() {
                return head;
            }
        }
    }
}
