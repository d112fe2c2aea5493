//! Handshakes that fail for reasons other than the certificate: no common
//! version, an alert, a server that closes or stalls mid-handshake, plain
//! HTTP on a TLS port, a reset. Each peer is a real server on a plain thread.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::{Duration, Instant};

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{timeout, Runtime};
use fetch_headers::tls::{TlsError, TlsVersion, Verdict};
use tls::{Ca, ServerSetup};

/// Reads what the client sends first (its ClientHello) from `sock`.
fn read_client_hello(sock: &mut std::net::TcpStream) -> usize {
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.read(&mut buf).unwrap();
    assert_eq!(buf[0], 22, "a TLS handshake record");
    n
}

#[test]
fn a_tls12_only_server_and_a_tls13_only_client_have_no_common_version() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).only(&rustls::version::TLS12);
    let (addr, server) = tls::handshake_server(setup.config());
    let connector = tls::connector_with(&ca, tls::only(TlsVersion::Tls13));
    let (result, info) = tls::handshake(&connector, "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "tls-version", "{error}");
    assert!(error.to_string().starts_with("no TLS version in common"));
    assert!(server.join().unwrap().handshake.is_err());
    assert!(matches!(info.verdict, Verdict::Unchecked));
    assert!(info.chain.is_empty());
}

#[test]
fn a_tls13_only_server_and_a_tls12_only_client_have_no_common_version() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).only(&rustls::version::TLS13);
    let (addr, _server) = tls::handshake_server(setup.config());
    let connector = tls::connector_with(&ca, tls::only(TlsVersion::Tls12));
    let (result, _) = tls::handshake(&connector, "localhost", addr);
    assert_eq!(result.unwrap_err().kind(), "tls-version");
}

#[test]
fn an_alert_from_the_server_is_tls_alert_with_its_name() {
    // A raw peer: answer the ClientHello with a fatal handshake_failure
    // alert record (type 21, TLS 1.2, length 2, level fatal, 40).
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        sock.write_all(&[21, 3, 3, 0, 2, 2, 40]).unwrap();
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
    });
    let ca = Ca::root("Test Root");
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "tls-alert");
    assert!(
        matches!(&error, TlsError::Alert { alert, .. } if alert == "handshake_failure"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "the server sent the TLS alert handshake_failure"
    );
}

#[test]
fn a_server_that_speaks_only_h2_answers_with_no_application_protocol() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).alpn(&[b"h2"]);
    let (addr, _server) = tls::handshake_server(setup.config());
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, TlsError::Alert { alert, .. } if alert == "no_application_protocol"),
        "{error:?}"
    );
}

#[test]
fn a_server_that_closes_mid_handshake_is_tls_closed() {
    // After the ClientHello, nothing at all.
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
    });
    let ca = Ca::root("Test Root");
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert!(
        matches!(error, TlsError::Closed { received: 0 }),
        "{error:?}"
    );

    // After the first bytes of a real ServerHello.
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        sock.write_all(&[22, 3, 3, 0, 90, 2, 0, 0]).unwrap();
    });
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "tls-closed");
    assert_eq!(
        error.to_string(),
        "the server closed the connection during the TLS handshake, after 8 bytes"
    );
}

#[test]
fn plain_http_on_a_tls_port_is_not_tls_showing_its_first_line() {
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        sock.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
    });
    let ca = Ca::root("Test Root");
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "not-tls");
    assert_eq!(
        error.to_string(),
        "the server does not speak TLS: it sent \"HTTP/1.1 400 Bad Request\""
    );

    // Control bytes from a hostile server are shown escaped.
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        sock.write_all(b"\x1b[2J\x07gotcha\r\n").unwrap();
    });
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    assert_eq!(
        result.unwrap_err().to_string(),
        r#"the server does not speak TLS: it sent "\x1b[2J\x07gotcha""#
    );
}

/// A server that accepts, reads the ClientHello and then says nothing: the
/// caller's own timer ends the handshake by dropping it, on time.
#[test]
fn a_stalled_handshake_ends_when_the_callers_timeout_drops_it() {
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    let (addr, _server) = support::peer(move |mut sock| {
        read_client_hello(&mut sock);
        // Wait for the client to leave; its close is an EOF here.
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
        closed_tx.send(()).unwrap();
    });
    let ca = Ca::root("Test Root");
    let connector = tls::connector(&ca);
    let (elapsed, open_after) = support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        let started = Instant::now();
        let timed_out = rt.block_on(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            timeout(Duration::from_millis(300), stream.handshake())
                .await
                .is_err()
        });
        assert!(timed_out, "the handshake must not finish");
        (started.elapsed(), rt.stats().connections_open)
    });
    assert!(elapsed >= Duration::from_millis(300), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    assert_eq!(open_after, 0, "the dropped stream closed its socket");
    closed_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the server saw the client close");
}

#[test]
fn a_reset_mid_handshake_is_an_io_error_for_the_caller_to_classify() {
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        support::set_linger_zero(&sock);
        drop(sock);
    });
    let ca = Ca::root("Test Root");
    let (result, _) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "io", "{error:?}");
    assert_eq!(
        error.io_error().map(std::io::Error::kind),
        Some(std::io::ErrorKind::ConnectionReset)
    );
}

#[test]
fn a_host_that_is_no_name_is_refused_before_any_byte() {
    let (addr, server) = support::peer(|mut sock| {
        let mut got = Vec::new();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let _ = sock.read_to_end(&mut got);
        got.len()
    });
    let ca = Ca::root("Test Root");
    let connector = tls::connector(&ca);
    let error = support::with_deadline(Duration::from_secs(20), move || {
        Runtime::new().unwrap().block_on(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let error = connector.connect("bad host!", tcp).unwrap_err();
            (error.kind(), error.to_string())
        })
    });
    assert_eq!(
        error,
        (
            "bad-target",
            "'bad host!' is neither a DNS name nor an IP address".to_owned()
        )
    );
    assert_eq!(server.join().unwrap(), 0, "nothing was sent");
}

/// After the handshake failed, every later call returns the same error at
/// once, and the half-open TLS session sends nothing more.
#[test]
fn a_failed_session_keeps_failing_the_same_way() {
    let (addr, _server) = support::peer(|mut sock| {
        read_client_hello(&mut sock);
        sock.write_all(b"SSH-2.0-OpenSSH_9.6\r\n").unwrap();
        let _ = sock.shutdown(Shutdown::Write);
        let mut rest = Vec::new();
        let _ = sock.read_to_end(&mut rest);
    });
    let ca = Ca::root("Test Root");
    let connector = tls::connector(&ca);
    let kinds = support::with_deadline(Duration::from_secs(20), move || {
        Runtime::new().unwrap().block_on(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            let first = stream.handshake().await.unwrap_err().kind();
            let mut buf = [0u8; 8];
            let read = stream.read(&mut buf).await.unwrap_err().kind();
            let write = stream.write(b"GET").await.unwrap_err().kind();
            [first, read, write]
        })
    });
    assert_eq!(kinds, ["not-tls"; 3]);
}
