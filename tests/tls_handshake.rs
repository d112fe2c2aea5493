//! Handshakes that succeed, against rustls servers on plain threads:
//! versions, SNI (and none for an IP literal), ALPN, a chain with an
//! intermediate, a server that trickles its handshake a byte at a time,
//! and concurrent handshakes that must each get their own certificate.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::io::Write;
use std::time::Duration;

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{join_all, Runtime};
use fetch_headers::tls::{TlsVersion, Verdict};
use rustls::ServerConnection;
use tls::{Ca, ServerSetup};

#[test]
fn tls13_to_localhost_sends_sni_and_records_the_session() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let (addr, server) = tls::handshake_server(ServerSetup::new(&leaf).config());

    let (result, info) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    result.expect("handshake");
    let seen = server.join().unwrap();
    assert_eq!(seen.sni.as_deref(), Some("localhost"), "SNI on the server");
    seen.handshake.expect("server side");

    assert_eq!(info.version, Some(TlsVersion::Tls13));
    assert!(
        info.cipher_suite.is_some_and(|s| s.starts_with("TLS13_")),
        "{:?}",
        info.cipher_suite
    );
    assert_eq!(info.alpn.as_deref(), Some("http/1.1"));
    assert_eq!(info.sni.as_deref(), Some("localhost"));
    assert!(
        matches!(info.verdict, Verdict::Trusted),
        "{:?}",
        info.verdict
    );
    assert!(info.handshake_time.is_some());
    assert_eq!(info.checked_at.map(|t| t.unix), Some(tls::NOW));
    assert_eq!(info.chain.len(), 1, "the leaf alone was sent");
    let facts = info.chain[0].facts.as_ref().expect("leaf parses");
    assert_eq!(facts.subject, "CN=localhost");
    assert_eq!(facts.issuer, "CN=Test Root");
    assert_eq!(facts.days_left, Some(214));
}

#[test]
fn an_ip_literal_sends_no_sni_and_is_checked_against_ip_sans() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost", "127.0.0.1"]);
    let (addr, server) = tls::handshake_server(ServerSetup::new(&leaf).config());

    let (result, info) = tls::handshake(&tls::connector(&ca), "127.0.0.1", addr);
    result.expect("handshake by IP SAN");
    assert_eq!(server.join().unwrap().sni, None, "no SNI for an IP literal");
    assert_eq!(info.sni, None);

    // The same address, with a certificate that holds only the name: the IP
    // SAN is what is checked, so this must fail.
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let (result, _) = tls::handshake(&tls::connector(&ca), "127.0.0.1", addr);
    assert_eq!(result.unwrap_err().kind(), "cert-name-mismatch");
}

#[test]
fn tls12_is_spoken_when_the_server_speaks_nothing_newer() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).only(&rustls::version::TLS12);
    let (addr, server) = tls::handshake_server(setup.config());

    let (result, info) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    result.expect("handshake");
    server.join().unwrap().handshake.expect("server side");
    assert_eq!(info.version, Some(TlsVersion::Tls12));
    assert!(
        info.cipher_suite
            .is_some_and(|s| s.starts_with("TLS_ECDHE_")),
        "{:?}",
        info.cipher_suite
    );
    assert!(matches!(info.verdict, Verdict::Trusted));
}

#[test]
fn a_client_restricted_to_tls12_gets_tls12() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let connector = tls::connector_with(&ca, tls::only(TlsVersion::Tls12));
    let (result, info) = tls::handshake(&connector, "localhost", addr);
    result.expect("handshake");
    assert_eq!(info.version, Some(TlsVersion::Tls12));
}

#[test]
fn alpn_is_recorded_only_when_the_server_chooses() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).alpn(&[]);
    let (addr, _server) = tls::handshake_server(setup.config());
    let (result, info) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    result.expect("handshake");
    assert_eq!(info.alpn, None, "a server without ALPN chooses nothing");
    assert_eq!(
        info.summary().split(' ').nth(2),
        Some("-"),
        "{}",
        info.summary()
    );
}

#[test]
fn a_chain_with_its_intermediate_is_trusted_and_recorded_in_order() {
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let leaf = intermediate.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).with_chain(&[&intermediate.der]);
    let (addr, _server) = tls::handshake_server(setup.config());

    let (result, info) = tls::handshake(&tls::connector(&root), "localhost", addr);
    result.expect("handshake");
    let subjects: Vec<_> = info
        .chain
        .iter()
        .map(|cert| cert.facts.as_ref().unwrap().subject.clone())
        .collect();
    assert_eq!(subjects, ["CN=localhost", "CN=Test Intermediate"]);
    let intermediate_facts = info.chain[1].facts.as_ref().unwrap();
    assert!(intermediate_facts.is_ca);
    assert_eq!(intermediate_facts.issuer, "CN=Test Root");
}

/// The server writes every byte of its handshake flights in its own
/// `write`, with `TCP_NODELAY` and a pause, so records reach the client a
/// byte at a time and every read ends short of a record.
#[test]
fn a_handshake_trickled_a_byte_at_a_time_succeeds() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let config = ServerSetup::new(&leaf).config();
    let (addr, server) = support::peer(move |mut sock| {
        sock.set_nodelay(true).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut conn = ServerConnection::new(config).unwrap();
        let mut written = 0;
        while conn.is_handshaking() {
            while conn.wants_write() {
                let mut flight = Vec::new();
                conn.write_tls(&mut flight).unwrap();
                for byte in flight {
                    sock.write_all(&[byte]).unwrap();
                    written += 1;
                    std::thread::sleep(Duration::from_micros(100));
                }
            }
            if conn.is_handshaking() {
                if conn.read_tls(&mut sock).unwrap() == 0 {
                    panic!("client left mid-handshake");
                }
                conn.process_new_packets().unwrap();
            }
        }
        tls::send(&mut conn, &mut sock, b"after the trickle").unwrap();
        written
    });

    let connector = tls::connector(&ca);
    let got = support::with_deadline(Duration::from_secs(30), move || {
        Runtime::new().unwrap().block_on(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            stream.handshake().await.expect("handshake");
            let mut buf = [0u8; 64];
            let mut got = Vec::new();
            while got.len() < 17 {
                let n = stream.read(&mut buf).await.expect("read");
                assert!(n > 0, "EOF after {got:?}");
                got.extend_from_slice(&buf[..n]);
            }
            got
        })
    });
    assert_eq!(got, b"after the trickle");
    let written = server.join().unwrap();
    assert!(written > 500, "the server's flights were {written} bytes");
}

/// Four handshakes at once on one loop, with four different certificates
/// (two of them untrusted): each session must end up with its own chain
/// and its own verdict, although one verifier serves them all.
#[test]
fn concurrent_handshakes_each_get_their_own_chain_and_verdict() {
    let ca = Ca::root("Test Root");
    let stranger = Ca::root("Stranger Root");
    let mut servers = Vec::new();
    for (i, issuer) in [&ca, &stranger, &ca, &stranger].into_iter().enumerate() {
        let name = format!("host{i}.test");
        let leaf = issuer.leaf(&[name.as_str()]);
        let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
        servers.push((name, addr));
    }
    let connector = tls::connector(&ca);
    let results = support::with_deadline(Duration::from_secs(30), move || {
        Runtime::new().unwrap().block_on(async move {
            join_all(servers.into_iter().map(|(name, addr)| {
                let connector = connector.clone();
                async move {
                    let tcp = TcpStream::connect(addr).await.unwrap();
                    let mut stream = connector.connect(&name, tcp).unwrap();
                    let result = stream.handshake().await.map_err(|e| e.kind());
                    let info = stream.info();
                    let subject = info.chain[0].facts.as_ref().unwrap().subject.clone();
                    (name, result, info.verdict.kind(), subject)
                }
            }))
            .await
        })
    });
    for (i, joined) in results.into_iter().enumerate() {
        let (name, result, verdict, subject) = joined.expect("task");
        assert_eq!(
            subject,
            format!("CN={name}"),
            "session {i} got its own chain"
        );
        if i % 2 == 0 {
            assert_eq!(result, Ok(()), "{name}");
            assert_eq!(verdict, "ok", "{name}");
        } else {
            assert_eq!(result, Err("cert-untrusted"), "{name}");
            assert_eq!(verdict, "cert-untrusted", "{name}");
        }
    }
}
