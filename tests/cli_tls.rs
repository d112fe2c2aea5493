//! HTTPS through the built binary: rustls servers on plain threads, with
//! certificates the test makes and trusts through `--cacert`, and raw peers
//! that break the handshake in one way each. The binary checks
//! certificates against the system clock, so every certificate here is
//! valid relative to now and never rots.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rcgen::{BasicConstraints, IsCa, KeyPair, SerialNumber};
use rustls::ServerConnection;
use serde_json::Value;
use support::{cli, serve, with_deadline, Run};
use tls::{Ca, Leaf, ServerSetup, DAY};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\nServer: tls-test\r\nContent-Length: 0\r\n\r\n";

/// The head lines of [`OK`], as the text output shows them.
fn ok_lines(target: &str) -> String {
    format!(
        "{target} header > HTTP/1.1 200 OK\n{target} header > Server: tls-test\n\
         {target} header > Content-Length: 0\n"
    )
}

/// What a healthy server's certificate has left: 30 days and an hour, so it
/// shows as 30 days whenever, within that hour, the check happens.
const LIFE: i64 = 30 * DAY + 3600;

/// How long a run may take before the test fails.
const LIMIT: Duration = Duration::from_secs(90);

/// The test's own root CA, and the PEM file `--cacert` names.
struct Trust {
    ca: Ca,
    file: tempfile::NamedTempFile,
}

impl Trust {
    fn new() -> Trust {
        let ca = tls::root_now("CLI Test Root");
        let file = tls::pem_file(&ca.pem);
        Trust { ca, file }
    }

    /// A leaf of this CA for `names`, valid since yesterday, [`LIFE`] left.
    fn leaf(&self, names: &[&str]) -> Leaf {
        tls::leaf_from_now(&self.ca, names, -DAY, LIFE)
    }

    /// Runs the binary trusting this CA, with [`PATIENT`](support::PATIENT) timeouts.
    fn run(&self, args: &[&str]) -> Run {
        self.run_with(&support::PATIENT, args)
    }

    /// Runs the binary trusting this CA, with `timeouts` and `args`.
    fn run_with(&self, timeouts: &[&str], args: &[&str]) -> Run {
        let mut all = vec![
            "--cacert".to_owned(),
            self.file.path().display().to_string(),
        ];
        all.extend(timeouts.iter().chain(args).map(|s| s.to_string()));
        with_deadline(LIMIT, move || cli(all))
    }
}

/// The one JSON object of a run of one target.
fn one(run: &Run) -> Value {
    let mut objects = run.json();
    assert_eq!(objects.len(), 1, "{}\n{}", run.text(), run.stderr);
    objects.remove(0)
}

/// A run's JSON objects by target, failing on a target with two.
fn by_target(run: &Run) -> HashMap<String, Value> {
    let mut map = HashMap::new();
    for o in run.json() {
        let target = o["target"].as_str().expect("target").to_owned();
        assert!(map.insert(target, o.clone()).is_none(), "twice: {o}");
    }
    map
}

/// `https://localhost:PORT/` for a server at `addr`.
fn localhost(addr: SocketAddr) -> String {
    format!("https://localhost:{}/", addr.port())
}

fn sha256_hex(der: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The `TARGET tls > ...` line split into its version, its cipher suite and
/// the rest (from the ALPN protocol on).
fn tls_line<'a>(line: &'a str, target: &str) -> (&'a str, &'a str, &'a str) {
    let prefix = format!("{target} tls > ");
    let rest = line
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("not a tls line of {target}: {line}"));
    let mut parts = rest.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    let cipher = parts.next().unwrap_or_default();
    (version, cipher, parts.next().unwrap_or_default())
}

/// `YYYY-MM-DD` of an instant.
fn date(unix: u64) -> String {
    tls::rfc3339(unix)[..10].to_owned()
}

// ---------------------------------------------------------------------------
// A healthy server: the head, and what the session learned.
// ---------------------------------------------------------------------------

#[test]
fn a_trusted_server_gives_its_head_and_every_tls_fact() {
    let trust = Trust::new();
    let intermediate = trust
        .ca
        .intermediate_with("CLI Test Intermediate", |params| {
            tls::valid_from_now(params, -365 * DAY, 3650 * DAY)
        });
    let now = tls::unix_now();
    let (not_before, not_after) = (now - DAY as u64, now + LIFE as u64);
    let leaf = intermediate.leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
        tls::valid_between(params, not_before, not_after);
        params.serial_number = Some(SerialNumber::from_slice(&[0x0a, 0xbc, 0xde]));
    });
    let setup = ServerSetup::new(&leaf).with_chain(&[&intermediate.der]);
    let (addr, requests) = tls::https_answering(setup.config(), OK);
    let target = localhost(addr);

    // Text: the head, as over plain HTTP, and no tls line unless asked.
    let run = trust.run(&[&target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.text(), ok_lines(&target));
    let seen = requests.try_recv().expect("the server saw the request");
    assert_eq!(seen.sni.as_deref(), Some("localhost"));
    let head = String::from_utf8(seen.head).unwrap();
    assert!(head.starts_with("GET / HTTP/1.0\r\n"), "{head}");
    let host = format!("\r\nHost: localhost:{}\r\n", addr.port());
    assert!(head.contains(&host), "{head}");

    // JSON: the tls object, the chain as sent, the handshake's timing.
    let before = tls::unix_now();
    let run = trust.run(&["--json", &target]);
    let after = tls::unix_now();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["url"], target.as_str(), "{o}");
    assert_eq!(o["status"], 200, "{o}");
    assert!(o["error"].is_null(), "{o}");
    let t = &o["tls"];
    assert_eq!(t["version"], "TLSv1.3", "{t}");
    let suite = t["cipher_suite"].as_str().expect("a cipher suite");
    assert!(suite.starts_with("TLS13_"), "{t}");
    assert_eq!(t["alpn"], "http/1.1", "{t}");
    assert_eq!(t["sni"], "localhost", "{t}");
    assert!(
        t["handshake_ms"].as_f64().expect("handshake_ms") > 0.0,
        "{t}"
    );
    assert_eq!(t["verdict"], "ok", "{t}");
    assert!(t["verdict_message"].is_null(), "{t}");
    let checked_at = t["checked_at"].as_str().expect("checked_at");
    // RFC 3339 in UTC sorts as time does.
    assert!(
        tls::rfc3339(before).as_str() <= checked_at && checked_at <= tls::rfc3339(after).as_str(),
        "{checked_at} not within the run"
    );

    let chain = t["chain"].as_array().expect("chain");
    assert_eq!(chain.len(), 2, "leaf and intermediate: {t}");
    let own = &chain[0];
    assert_eq!(own["subject"], "CN=localhost");
    assert_eq!(own["issuer"], "CN=CLI Test Intermediate");
    assert_eq!(own["dns_names"], serde_json::json!(["localhost"]));
    assert_eq!(own["ip_addresses"], serde_json::json!([]));
    assert_eq!(own["not_before"], tls::rfc3339(not_before).as_str());
    assert_eq!(own["not_after"], tls::rfc3339(not_after).as_str());
    assert_eq!(own["days_left"], 30, "{own}");
    assert_eq!(own["serial"], "0abcde");
    assert_eq!(own["sha256"], sha256_hex(&leaf.der).as_str());
    assert_eq!(own["key_type"], "EC");
    assert_eq!(own["key_bits"], 256);
    assert_eq!(own["signature_algorithm"], "ecdsa-with-SHA256");
    assert_eq!(own["is_ca"], false);
    assert_eq!(own["der_bytes"], leaf.der.len());
    let issuer = &chain[1];
    assert_eq!(issuer["subject"], "CN=CLI Test Intermediate");
    assert_eq!(issuer["issuer"], "CN=CLI Test Root");
    assert_eq!(issuer["is_ca"], true);
    assert_eq!(issuer["sha256"], sha256_hex(&intermediate.der).as_str());

    let timings = &o["timings"];
    let tls_ms = timings["tls_ms"].as_f64().expect("tls_ms");
    assert!(tls_ms > 0.0, "{timings}");
    assert!(tls_ms <= timings["total_ms"].as_f64().unwrap(), "{timings}");
    assert!(timings["redirect_ms"].is_null(), "{timings}");
}

#[test]
fn an_ip_literal_target_sends_no_sni_and_matches_an_ip_san() {
    let trust = Trust::new();
    let leaf = trust.leaf(&["127.0.0.1"]);
    let (addr, requests) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let target = format!("https://{addr}/");
    let run = trust.run(&["--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["address"], addr.to_string().as_str());
    let t = &o["tls"];
    assert!(t["sni"].is_null(), "no SNI for an address: {t}");
    assert_eq!(t["verdict"], "ok", "{t}");
    assert_eq!(
        t["chain"][0]["ip_addresses"],
        serde_json::json!(["127.0.0.1"])
    );
    assert_eq!(t["chain"][0]["dns_names"], serde_json::json!([]));
    let seen = requests.try_recv().expect("the server saw the request");
    assert_eq!(seen.sni, None);
}

#[test]
fn tls_info_prints_the_session_before_the_head() {
    let trust = Trust::new();
    let now = tls::unix_now();
    let not_after = now + LIFE as u64;
    let leaf = trust
        .ca
        .leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
            tls::valid_between(params, now - DAY as u64, not_after)
        });
    let (addr, _) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let target = localhost(addr);
    let run = trust.run(&["--tls-info", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (first, head) = run.text().split_once('\n').expect("lines");
    let (version, cipher, rest) = tls_line(first, &target);
    assert_eq!(version, "TLSv1.3", "{first}");
    assert!(cipher.starts_with("TLS13_"), "{first}");
    assert_eq!(
        rest,
        format!(
            "http/1.1 cert CN=localhost issuer CN=CLI Test Root expires {} (30 days)",
            date(not_after)
        )
    );
    assert_eq!(head, ok_lines(&target));

    // A server that picks no protocol by ALPN: `-` in its place, and
    // `null` in JSON.
    let setup = ServerSetup::new(&leaf).alpn(&[]);
    let (addr, _) = tls::https_answering(setup.config(), OK);
    let target = localhost(addr);
    let run = trust.run(&["--tls-info", &target]);
    let first = run.text().lines().next().unwrap_or_default();
    let (_, _, rest) = tls_line(first, &target);
    assert!(rest.starts_with("- cert CN=localhost "), "{first}");
    let run = trust.run(&["--json", &target]);
    let o = one(&run);
    assert!(o["tls"]["alpn"].is_null(), "{o}");
    assert_eq!(o["status"], 200, "{o}");
}

// ---------------------------------------------------------------------------
// Every certificate verdict, through the CLI.
// ---------------------------------------------------------------------------

#[test]
fn every_certificate_failure_has_its_kind_and_says_what_is_wrong() {
    let trust = Trust::new();
    let now = tls::unix_now();
    let expired_at = now - (DAY + 3600) as u64;
    let valid_from = now + (DAY + 3600) as u64;
    let intermediate = trust
        .ca
        .intermediate_with("CLI Test Intermediate", |params| {
            tls::valid_from_now(params, -365 * DAY, 3650 * DAY)
        });
    let stranger = tls::root_now("Stranger Root");
    let stranger_intermediate = stranger.intermediate_with("Stranger Intermediate", |params| {
        tls::valid_from_now(params, -365 * DAY, 3650 * DAY)
    });
    let key = || KeyPair::generate().unwrap();

    // (name, what the server sends, the kind, how the message starts)
    let cases: Vec<(&str, ServerSetup, &str, String)> = vec![
        (
            "expired",
            ServerSetup::new(&trust.ca.leaf_with(&["localhost"], key(), |params| {
                tls::valid_between(params, now - 10 * DAY as u64, expired_at)
            })),
            "cert-expired",
            format!(
                "certificate expired at {}, 1 days before the check at ",
                tls::rfc3339(expired_at)
            ),
        ),
        (
            "not yet valid",
            ServerSetup::new(&trust.ca.leaf_with(&["localhost"], key(), |params| {
                tls::valid_between(params, valid_from, now + 10 * DAY as u64)
            })),
            "cert-not-yet-valid",
            format!(
                "certificate is not valid before {}, 1 days after the check at ",
                tls::rfc3339(valid_from)
            ),
        ),
        (
            "self-signed",
            ServerSetup::new(&tls::self_signed_with(&["localhost"], |params| {
                tls::valid_from_now(params, -DAY, LIFE)
            })),
            "cert-untrusted",
            "self-signed certificate (CN=localhost): no trusted CA vouches for it".into(),
        ),
        (
            "missing intermediate",
            // The intermediate signed the leaf, and is not sent.
            ServerSetup::new(&tls::leaf_from_now(
                &intermediate,
                &["localhost"],
                -DAY,
                LIFE,
            )),
            "cert-untrusted",
            "the server sent only its own certificate, and its issuer \
             (CN=CLI Test Intermediate) is not a trusted root: an intermediate certificate \
             is missing"
                .into(),
        ),
        (
            "unknown issuer",
            ServerSetup::new(&tls::leaf_from_now(
                &stranger_intermediate,
                &["localhost"],
                -DAY,
                LIFE,
            ))
            .with_chain(&[&stranger_intermediate.der]),
            "cert-untrusted",
            "unknown issuer (CN=Stranger Root): the chain the server sent leads to no trusted \
             root"
                .into(),
        ),
        (
            "name mismatch",
            ServerSetup::new(&trust.leaf(&["other.test", "10.9.8.7"])),
            "cert-name-mismatch",
            "certificate is not valid for localhost: it names other.test, 10.9.8.7".into(),
        ),
        (
            "CA as end entity",
            ServerSetup::new(&trust.ca.leaf_with(&["localhost"], key(), |params| {
                tls::valid_from_now(params, -DAY, LIFE);
                params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            })),
            "cert-invalid",
            "invalid certificate: the server's own certificate is a CA certificate \
             (basicConstraints CA:TRUE)"
                .into(),
        ),
    ];
    let cases: Vec<(&str, String, &str, String)> = cases
        .into_iter()
        .map(|(name, setup, kind, message)| {
            let (addr, _) = tls::https_answering(setup.config(), OK);
            (name, localhost(addr), kind, message)
        })
        .collect();

    let mut args = vec!["--json"];
    args.extend(cases.iter().map(|(_, target, _, _)| target.as_str()));
    let run = trust.run(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let outcomes = by_target(&run);
    assert_eq!(outcomes.len(), cases.len(), "{}", run.text());
    for (name, target, kind, message) in &cases {
        let o = &outcomes[target];
        assert_eq!(o["error"]["kind"], *kind, "{name}: {o}");
        let said = o["error"]["message"].as_str().unwrap_or_default();
        assert!(said.starts_with(message.as_str()), "{name}: {said}");
        assert!(o["status"].is_null(), "{name}: {o}");
        // What the handshake saw is kept on failure too.
        let t = &o["tls"];
        assert_eq!(t["verdict"], *kind, "{name}: {t}");
        assert_eq!(t["verdict_message"], said, "{name}: {t}");
        assert!(!t["chain"].as_array().unwrap().is_empty(), "{name}: {t}");
    }
}

// ---------------------------------------------------------------------------
// Handshakes that break for other reasons: raw peers.
// ---------------------------------------------------------------------------

/// Reads one whole TLS record (the client's ClientHello) from `sock`, so
/// that closing afterwards sends a FIN, not the RST of unread data.
fn read_record(sock: &mut TcpStream) -> Option<Vec<u8>> {
    let mut header = [0u8; 5];
    sock.read_exact(&mut header).ok()?;
    if header[0] != 22 {
        return None;
    }
    let mut body = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
    sock.read_exact(&mut body).ok()?;
    Some(body)
}

/// Waits until the client closes its end.
fn until_closed(sock: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(sock.read(&mut sink), Ok(n) if n > 0) {}
}

/// A raw peer: reads the ClientHello, then does `then` on each connection.
fn after_hello(then: impl Fn(&mut TcpStream) + Send + Sync + Clone + 'static) -> SocketAddr {
    serve(move |mut sock| {
        let _ = sock.set_read_timeout(Some(Duration::from_secs(30)));
        if read_record(&mut sock).is_some() {
            then(&mut sock);
        }
    })
}

/// A raw peer that answers the ClientHello with `bytes`, then waits for
/// the client to leave.
fn answering_hello(bytes: &'static [u8]) -> SocketAddr {
    after_hello(move |sock| {
        let _ = sock.write_all(bytes);
        until_closed(sock);
    })
}

#[test]
fn every_handshake_failure_has_its_kind_and_says_what_happened() {
    let trust = Trust::new();
    // (name, peer, the kind, how the message starts)
    let cases: Vec<(&str, SocketAddr, &str, &str)> = vec![
        (
            "protocol_version alert",
            // An alert record: TLS 1.2, length 2, fatal (2), protocol_version (70).
            answering_hello(&[21, 3, 3, 0, 2, 2, 70]),
            "tls-version",
            "no TLS version in common with the server",
        ),
        (
            "handshake_failure alert",
            answering_hello(&[21, 3, 3, 0, 2, 2, 40]),
            "tls-alert",
            "the server sent the TLS alert handshake_failure",
        ),
        (
            "corrupt ServerHello",
            // A handshake record holding a ServerHello two bytes long.
            answering_hello(&[22, 3, 3, 0, 6, 2, 0, 0, 2, 3, 3]),
            "tls-handshake",
            "TLS failed: received corrupt message",
        ),
        (
            "close after the hello",
            after_hello(|_| {}),
            "tls-closed",
            "the server closed the connection during the TLS handshake, without a byte",
        ),
        (
            "close mid ServerHello",
            after_hello(|sock| {
                let _ = sock.write_all(&[22, 3, 3, 0, 90, 2, 0, 0]);
            }),
            "tls-closed",
            "the server closed the connection during the TLS handshake, after 8 bytes",
        ),
        (
            "plain HTTP",
            // As nginx answers bytes that are no request line.
            answering_hello(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
            "not-tls",
            "the server does not speak TLS: it sent \"HTTP/1.1 400 Bad Request\"",
        ),
    ];
    let targets: Vec<String> = cases
        .iter()
        .map(|(_, addr, _, _)| format!("https://{addr}/"))
        .collect();
    let mut args = vec!["--json"];
    args.extend(targets.iter().map(String::as_str));
    let run = trust.run(&args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let outcomes = by_target(&run);
    assert_eq!(outcomes.len(), cases.len(), "{}", run.text());
    for ((name, _, kind, message), target) in cases.iter().zip(&targets) {
        let o = &outcomes[target];
        assert_eq!(o["error"]["kind"], *kind, "{name}: {o}");
        let said = o["error"]["message"].as_str().unwrap_or_default();
        assert!(said.starts_with(message), "{name}: {said}");
        assert!(o["status"].is_null(), "{name}: {o}");
        assert_eq!(o["tls"]["verdict"], "unchecked", "{name}: {o}");
    }
}

/// A server that reads the ClientHello and says nothing: the handshake is
/// under `--connect-timeout`, and the message says it was the handshake
/// that did not finish. The session it began is still reported: the JSON
/// output says `tls` is `null` only "over plain HTTP or before a handshake
/// began", and this one is neither.
#[test]
fn a_handshake_that_stalls_is_a_connect_timeout_naming_the_handshake() {
    let trust = Trust::new();
    let addr = after_hello(until_closed);
    let target = format!("https://{addr}/");
    let timeouts = [
        "--connect-timeout",
        "1s",
        "--read-timeout",
        "10s",
        "-m",
        "20s",
    ];
    let run = trust.run_with(&timeouts, &["--json", &target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["error"]["kind"], "connect-timeout", "{o}");
    let message = o["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("TLS handshake"), "{message}");
    assert_eq!(message, format!("no TLS handshake with {addr} within 1s"));
    assert_eq!(o["tls"]["verdict"], "unchecked", "{o}");
    assert!(run.elapsed >= Duration::from_secs(1), "{:?}", run.elapsed);
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

/// A socket that sends one byte per write, each in its own TCP segment
/// (`TCP_NODELAY` and a pause), counting them.
struct Trickle {
    sock: TcpStream,
    sent: usize,
}

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.sock.read(buf)
    }
}

impl Write for Trickle {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(byte) = buf.first() else {
            return Ok(0);
        };
        self.sock.write_all(&[*byte])?;
        self.sent += 1;
        thread::sleep(Duration::from_millis(1));
        Ok(1)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_server_that_trickles_its_handshake_byte_by_byte_still_succeeds() {
    let trust = Trust::new();
    let leaf = trust.leaf(&["127.0.0.1"]);
    let config = ServerSetup::new(&leaf).config();
    let (sent_tx, sent_rx) = mpsc::channel();
    let (addr, _peer) = support::peer(move |sock| {
        sock.set_nodelay(true).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut io = Trickle { sock, sent: 0 };
        let mut conn = ServerConnection::new(config).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut io).is_err() {
                return;
            }
        }
        let _ = sent_tx.send(io.sent);
        tls::receive_head(&mut conn, &mut io);
        let _ = tls::send(&mut conn, &mut io, OK);
    });
    let target = format!("https://{addr}/");
    let timeouts = [
        "--connect-timeout",
        "30s",
        "--read-timeout",
        "10s",
        "-m",
        "60s",
    ];
    let run = trust.run_with(&timeouts, &["--json", &target]);
    assert_eq!(run.code, Some(0), "{}\n{}", run.text(), run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["tls"]["verdict"], "ok", "{o}");
    let trickled = sent_rx.try_recv().expect("the server finished");
    // The server's flight holds its certificate: hundreds of one-byte
    // segments, each a read for the client.
    assert!(trickled > 500, "only {trickled} bytes trickled");
}

// ---------------------------------------------------------------------------
// -k: on past the certificate, the verdict kept.
// ---------------------------------------------------------------------------

#[test]
fn insecure_goes_past_a_self_signed_certificate_and_keeps_the_verdict() {
    let trust = Trust::new();
    let now = tls::unix_now();
    let not_after = now + LIFE as u64;
    let leaf = tls::self_signed_with(&["localhost"], |params| {
        tls::valid_between(params, now - DAY as u64, not_after)
    });
    let (addr, _) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let target = localhost(addr);
    let why = "self-signed certificate (CN=localhost): no trusted CA vouches for it";

    // Without -k: the error, and no head.
    let run = trust.run(&[&target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(
        run.text(),
        format!("{target} error > cert-untrusted: {why}\n")
    );

    // With -k: the head, and the real verdict in JSON.
    let run = trust.run(&["-k", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert!(o["error"].is_null(), "{o}");
    assert_eq!(o["tls"]["verdict"], "cert-untrusted", "{o}");
    assert_eq!(o["tls"]["verdict_message"], why, "{o}");
    assert_eq!(o["tls"]["chain"][0]["issuer"], "CN=localhost", "{o}");

    // And on the --tls-info line, before the head.
    let run = trust.run(&["-k", "--tls-info", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let (first, head) = run.text().split_once('\n').expect("lines");
    let (version, cipher, rest) = tls_line(first, &target);
    assert_eq!(version, "TLSv1.3", "{first}");
    assert!(cipher.starts_with("TLS13_"), "{first}");
    assert_eq!(
        rest,
        format!(
            "http/1.1 cert CN=localhost issuer CN=localhost expires {} (30 days) \
             verdict cert-untrusted",
            date(not_after)
        )
    );
    assert!(first.ends_with(" verdict cert-untrusted"), "{first}");
    assert_eq!(head, ok_lines(&target));
}

#[test]
fn insecure_goes_past_an_expired_certificate_and_counts_the_days_alike() {
    let trust = Trust::new();
    let now = tls::unix_now();
    // Expired a day and an hour ago.
    let expired_at = now - (DAY + 3600) as u64;
    let leaf = trust
        .ca
        .leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
            tls::valid_between(params, now - 10 * DAY as u64, expired_at)
        });
    let (addr, _) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let target = localhost(addr);

    let run = trust.run(&[&target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.text()
            .starts_with(&format!("{target} error > cert-expired: ")),
        "{}",
        run.text()
    );

    let run = trust.run(&["-k", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["tls"]["verdict"], "cert-expired", "{o}");
    let message = o["tls"]["verdict_message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "certificate expired at {}, 1 days before the check",
            tls::rfc3339(expired_at)
        )),
        "{message}"
    );

    // The line says how long ago as the message does: one whole day.
    let run = trust.run(&["-k", "--tls-info", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let first = run.text().lines().next().unwrap_or_default();
    let (_, _, rest) = tls_line(first, &target);
    assert_eq!(
        rest,
        format!(
            "http/1.1 cert CN=localhost issuer CN=CLI Test Root expired {} (1 days ago) \
             verdict cert-expired",
            date(expired_at)
        )
    );
}

// ---------------------------------------------------------------------------
// Hostile servers beside healthy ones.
// ---------------------------------------------------------------------------

#[test]
fn hostile_tls_servers_beside_thirty_healthy_ones_each_get_their_own_outcome() {
    const HEALTHY: usize = 30;
    let trust = Trust::new();
    let leaf = trust.leaf(&["127.0.0.1"]);
    let (healthy, requests) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let stalling = format!("https://{}/", after_hello(until_closed));
    let closing = format!("https://{}/", after_hello(|_| {}));
    // The hostile ones first, so they hold their slots from the start.
    let mut targets = vec![stalling.clone(), closing.clone()];
    targets.extend((0..HEALTHY).map(|i| format!("https://{healthy}/{i}")));
    let mut args = vec!["--json", "-c", "40"];
    args.extend(targets.iter().map(String::as_str));
    let timeouts = [
        "--connect-timeout",
        "3s",
        "--read-timeout",
        "10s",
        "-m",
        "20s",
    ];
    let run = trust.run_with(&timeouts, &args);
    assert_eq!(run.code, Some(1), "{}", run.stderr);

    let outcomes = by_target(&run);
    assert_eq!(outcomes.len(), targets.len(), "one outcome per target");
    assert_eq!(outcomes[&stalling]["error"]["kind"], "connect-timeout");
    assert_eq!(outcomes[&closing]["error"]["kind"], "tls-closed");
    // Every healthy fetch ended while the stalled one was still waiting.
    let stalled_ms = outcomes[&stalling]["timings"]["total_ms"].as_f64().unwrap();
    for target in &targets[2..] {
        let o = &outcomes[target];
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["tls"]["verdict"], "ok", "{o}");
        let total_ms = o["timings"]["total_ms"].as_f64().unwrap();
        assert!(total_ms < stalled_ms, "{o}");
    }
    let mut paths: Vec<String> = requests
        .try_iter()
        .map(|seen| {
            let head = String::from_utf8_lossy(&seen.head).into_owned();
            head.split(' ').nth(1).unwrap_or_default().to_owned()
        })
        .collect();
    paths.sort();
    let mut expected: Vec<String> = (0..HEALTHY).map(|i| format!("/{i}")).collect();
    expected.sort();
    assert_eq!(paths, expected, "each healthy target fetched once");
}

// ---------------------------------------------------------------------------
// --scheme for targets written without one.
// ---------------------------------------------------------------------------

#[test]
fn scheme_https_fetches_a_bare_target_over_tls() {
    let trust = Trust::new();
    let leaf = trust.leaf(&["localhost"]);
    let (addr, requests) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let bare = format!("localhost:{}", addr.port());
    let run = trust.run(&["--json", "--scheme", "https", &bare]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["target"], bare.as_str());
    assert_eq!(o["url"], localhost(addr).as_str());
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["tls"]["sni"], "localhost", "{o}");
    assert_eq!(o["tls"]["verdict"], "ok", "{o}");
    assert!(requests.try_recv().is_ok(), "the TLS server was asked");
}

/// A plain HTTP server that answers a TLS ClientHello as nginx answers
/// plain HTTP on its TLS port: with a 400 (so `https` to it is `not-tls`),
/// and a request with a 200.
fn plain_server_that_refuses_tls() -> SocketAddr {
    serve(|mut sock| {
        let _ = sock.set_read_timeout(Some(Duration::from_secs(30)));
        let mut first = [0u8; 1];
        if sock.peek(&mut first).is_err() {
            return;
        }
        if first[0] == 22 {
            read_record(&mut sock);
            let _ = sock.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
            until_closed(&mut sock);
        } else {
            support::read_head(&mut sock);
            let _ = sock.write_all(b"HTTP/1.1 200 OK\r\nServer: plain\r\n\r\n");
        }
    })
}

#[test]
fn scheme_both_fetches_a_bare_target_over_http_then_https() {
    let trust = Trust::new();
    let plain = plain_server_that_refuses_tls();
    let leaf = trust.leaf(&["127.0.0.1"]);
    let (secure, _) = tls::https_answering(ServerSetup::new(&leaf).config(), OK);
    let explicit = format!("https://{secure}/explicit");
    // One at a time (-c 1): the outcomes come in a known order, and a
    // bare target's two fetches one after the other.
    let (plain_bare, secure_bare) = (plain.to_string(), secure.to_string());
    let run = trust.run(&[
        "--json",
        "--scheme",
        "both",
        "-c",
        "1",
        &plain_bare,
        &secure_bare,
        &explicit,
    ]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let outcomes = run.json();
    let seen: Vec<(&str, &str, String)> = outcomes
        .iter()
        .map(|o| {
            let result = match o["status"].as_u64() {
                Some(status) => status.to_string(),
                None => o["error"]["kind"].as_str().unwrap_or_default().to_owned(),
            };
            (
                o["target"].as_str().unwrap_or_default(),
                o["url"].as_str().unwrap_or_default(),
                result,
            )
        })
        .collect();
    let url = |scheme: &str, addr: SocketAddr| format!("{scheme}://{addr}/");
    assert_eq!(
        seen,
        [
            (
                plain_bare.as_str(),
                url("http", plain).as_str(),
                "200".into()
            ),
            (
                plain_bare.as_str(),
                url("https", plain).as_str(),
                "not-tls".into()
            ),
            // Plain HTTP to a TLS server: rustls answers the request line
            // with an alert record, which is no HTTP.
            (
                secure_bare.as_str(),
                url("http", secure).as_str(),
                "protocol".into()
            ),
            (
                secure_bare.as_str(),
                url("https", secure).as_str(),
                "200".into()
            ),
            // A target with its own scheme is fetched once, with it.
            (explicit.as_str(), explicit.as_str(), "200".into()),
        ]
    );
    assert!(outcomes[0]["tls"].is_null(), "{}", outcomes[0]);
    assert_eq!(outcomes[3]["tls"]["verdict"], "ok", "{}", outcomes[3]);
}
