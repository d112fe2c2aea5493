//! Certificate facts parsed from DER: names, SANs, dates and days left by
//! the pinned clock, serial, fingerprint (checked against `sha256sum`),
//! key type and size, signature algorithm, CA flag; the one-line summary;
//! and certificates that do not parse, which must never panic.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::net::IpAddr;
use std::process::Command;

use fetch_headers::tls::{CertInfo, KeyInfo, Timestamp};
use rcgen::{DnType, KeyPair, SerialNumber};
use tls::{Ca, ServerSetup};

/// An RSA key made once with `openssl genpkey` for these tests (rcgen on
/// ring cannot generate RSA keys). It protects nothing.
const RSA_3072_TEST_KEY: &str = include_str!("data/rsa3072-test-key.pem");

fn now() -> Option<Timestamp> {
    Some(Timestamp::from_unix(tls::NOW))
}

#[test]
fn a_leaf_has_every_fact_right() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf_with(
        &["localhost", "127.0.0.1", "::1"],
        KeyPair::generate().unwrap(),
        |params| {
            params.serial_number = Some(SerialNumber::from_slice(&[0x01, 0x02, 0xab]));
            params
                .distinguished_name
                .push(DnType::OrganizationName, "Example, Inc.");
        },
    );
    let info = CertInfo::from_der(&leaf.der, now());
    let facts = info.facts.as_ref().expect("parses");
    assert_eq!(facts.subject, r"O=Example\, Inc.,CN=localhost");
    assert_eq!(facts.subject_cn.as_deref(), Some("CN=localhost"));
    assert_eq!(facts.issuer, "CN=Test Root");
    assert_eq!(facts.dns_names, ["localhost"]);
    assert_eq!(
        facts.ip_addresses,
        [
            "127.0.0.1".parse::<IpAddr>().unwrap(),
            "::1".parse().unwrap()
        ]
    );
    assert_eq!(facts.not_before.unix, tls::JAN_2026);
    assert_eq!(facts.not_after.unix, tls::JAN_2027);
    assert_eq!(facts.not_after.to_string(), "2027-01-01T00:00:00Z");
    assert_eq!(facts.days_left, Some(214));
    assert_eq!(facts.serial, "0102ab");
    assert_eq!(
        facts.key,
        KeyInfo::Ec {
            curve: "P-256".into(),
            bits: Some(256)
        }
    );
    assert_eq!(facts.key.to_string(), "EC P-256");
    assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
    assert!(!facts.is_ca);
    assert_eq!(info.der_len, leaf.der.len());

    // The fingerprint, checked by another program.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaf.der");
    std::fs::write(&path, leaf.der.as_ref()).unwrap();
    let out = Command::new("sha256sum")
        .arg(&path)
        .output()
        .expect("sha256sum");
    let theirs = String::from_utf8(out.stdout).unwrap();
    assert_eq!(theirs.split(' ').next(), Some(info.sha256.as_str()));

    let root = CertInfo::from_der(&ca.der, None);
    let root = root.facts.unwrap();
    assert!(root.is_ca);
    assert_eq!(root.subject, root.issuer);
    assert_eq!(root.days_left, None, "no check time, no days");
}

/// One key of each type, with how it must be shown and its own signature
/// algorithm (what a self-signed certificate of it is signed with).
fn keys() -> Vec<(KeyPair, &'static str, u32, &'static str)> {
    vec![
        (
            KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
            "Ed25519",
            256,
            "id-Ed25519",
        ),
        (
            KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
            "EC P-384",
            384,
            "ecdsa-with-SHA384",
        ),
        (
            KeyPair::from_pem_and_sign_algo(RSA_3072_TEST_KEY, &rcgen::PKCS_RSA_SHA256).unwrap(),
            "RSA 3072",
            3072,
            "sha256WithRSAEncryption",
        ),
    ]
}

#[test]
fn key_types_and_sizes_are_read_from_the_key() {
    let ca = Ca::root("Test Root");
    for (key, shown, bits, _) in keys() {
        let leaf = ca.leaf_with(&["localhost"], key, |_| {});
        let facts = CertInfo::from_der(&leaf.der, now()).facts.unwrap();
        assert_eq!(facts.key.to_string(), shown);
        assert_eq!(facts.key.bits(), Some(bits));
        // The CA signed it, with its own P-256 key.
        assert_eq!(facts.signature_algorithm, "ecdsa-with-SHA256");
    }
}

#[test]
fn the_signature_algorithm_is_the_issuers() {
    for (key, shown, _, algorithm) in keys() {
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let facts = CertInfo::from_der(cert.der(), now()).facts.unwrap();
        assert_eq!(facts.signature_algorithm, algorithm, "{shown}");
    }
}

#[test]
fn a_certificate_that_does_not_parse_has_a_fingerprint_and_an_error() {
    let info = CertInfo::from_der(b"definitely not DER", now());
    assert_eq!(info.sha256.len(), 64);
    let error = info.facts.unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot parse the certificate: "),
        "{error}"
    );

    // Every truncation and many corruptions of a real certificate: an
    // error or facts, never a panic.
    let ca = Ca::root("Test Root");
    let der = ca.leaf(&["localhost", "127.0.0.1"]).der.to_vec();
    for len in 0..der.len() {
        let _ = CertInfo::from_der(&der[..len], now());
    }
    for i in 0..der.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = der.clone();
            bad[i] ^= flip;
            let _ = CertInfo::from_der(&bad, now());
        }
    }
}

#[test]
fn the_summary_line_reads_as_the_issue_shows() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let (result, info) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    result.unwrap();
    assert_eq!(
        info.summary(),
        format!(
            "TLSv1.3 {} http/1.1 cert CN=localhost issuer CN=Test Root expires 2027-01-01 (214 days)",
            info.cipher_suite.unwrap()
        )
    );
}

#[test]
fn a_hostile_subject_cannot_reach_the_terminal_raw() {
    let ca = Ca::root("Evil\u{1b}]0;pwned\u{7} Root");
    let leaf = ca.leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "x\u{1b}[2J\u{9b}y");
    });
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let (result, info) = tls::handshake(&tls::connector(&ca), "localhost", addr);
    result.unwrap();
    let line = info.summary();
    assert!(
        !line.chars().any(|c| c.is_control()),
        "no control character in {line:?}"
    );
    assert!(line.contains("cert CN=x"), "{line}");
}

/// `days_left` is rounded down (-2 a day and an hour after expiry), but
/// the summary says how long ago in whole days, as the `cert-expired`
/// message does: one day, not two.
#[test]
fn the_summary_counts_whole_days_since_expiry_as_the_verdict_does() {
    let ca = Ca::root("Test Root");
    let expired_at = tls::NOW - 86_400 - 3_600;
    let leaf = ca.leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
        tls::valid_between(params, tls::JAN_2026, expired_at)
    });
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let insecure = tls::connector_with(&ca, |options| options.insecure = true);
    let (result, info) = tls::handshake(&insecure, "localhost", addr);
    result.unwrap();
    let facts = info.chain[0].facts.as_ref().unwrap();
    assert_eq!(facts.days_left, Some(-2), "rounded down");
    let verdict = match &info.verdict {
        fetch_headers::tls::Verdict::Failed(e) => e.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(verdict.contains(", 1 days before the check"), "{verdict}");
    assert!(
        info.summary()
            .ends_with(" expired 2026-05-30 (1 days ago) verdict cert-expired"),
        "{}",
        info.summary()
    );
}
