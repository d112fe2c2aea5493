//! Certificate verdicts: every `cert-*` kind from a real server, with the
//! chain and the verdict recorded on failure and under `insecure`, all
//! against the pinned clock so the dates never rot.
mod support;
#[path = "support/tls.rs"]
mod tls;

use fetch_headers::tls::{TlsError, Untrusted, Verdict};
use rcgen::{ExtendedKeyUsagePurpose, KeyPair};
use tls::{Ca, ServerSetup};

/// Handshakes with a server sending `setup`, as `host`, trusting `ca`.
fn verdict_of(
    ca: &Ca,
    setup: ServerSetup,
    host: &str,
) -> (Result<(), TlsError>, fetch_headers::tls::TlsInfo) {
    let (addr, _server) = tls::handshake_server(setup.config());
    tls::handshake(&tls::connector(ca), host, addr)
}

#[test]
fn an_expired_leaf_is_cert_expired_with_its_dates() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf_valid(&["localhost"], (2025, 1, 1), (2026, 1, 1));
    let (result, info) = verdict_of(&ca, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-expired");
    assert_eq!(
        error.to_string(),
        "certificate expired at 2026-01-01T00:00:00Z, 151 days before the check at \
         2026-06-01T00:00:00Z"
    );
    match &error {
        TlsError::CertExpired {
            not_after,
            checked_at,
            ..
        } => {
            assert_eq!(not_after.map(|t| t.unix), Some(tls::JAN_2026));
            assert_eq!(checked_at.map(|t| t.unix), Some(tls::NOW));
        }
        other => panic!("{other:?}"),
    }
    let source = std::error::Error::source(&error).expect("rustls error kept");
    assert!(source.downcast_ref::<rustls::Error>().is_some());
    // Recorded on failure: the verdict, and the chain as sent.
    assert_eq!(info.verdict.kind(), "cert-expired");
    let facts = info.chain[0].facts.as_ref().unwrap();
    assert_eq!(facts.days_left, Some(-151));
    assert!(
        info.summary().contains("expired 2026-01-01 (151 days ago)"),
        "{}",
        info.summary()
    );
}

#[test]
fn a_leaf_from_the_future_is_cert_not_yet_valid() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf_valid(&["localhost"], (2027, 1, 1), (2028, 1, 1));
    let (result, info) = verdict_of(&ca, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-not-yet-valid");
    assert_eq!(
        error.to_string(),
        "certificate is not valid before 2027-01-01T00:00:00Z, 214 days after the check at \
         2026-06-01T00:00:00Z"
    );
    assert_eq!(
        info.chain[0].facts.as_ref().unwrap().not_before.unix,
        tls::JAN_2027
    );
}

#[test]
fn a_self_signed_leaf_is_untrusted_and_says_so() {
    let ca = Ca::root("Test Root");
    let leaf = tls::self_signed(&["localhost"]);
    let (result, info) = verdict_of(&ca, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-untrusted");
    assert!(
        matches!(&error, TlsError::CertUntrusted { why: Untrusted::SelfSigned { subject }, .. } if subject == "CN=localhost"),
        "{error:?}"
    );
    assert!(error
        .to_string()
        .starts_with("self-signed certificate (CN=localhost)"));
    assert_eq!(info.chain.len(), 1);
}

#[test]
fn a_leaf_sent_without_its_intermediate_is_a_missing_intermediate() {
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let leaf = intermediate.leaf(&["localhost"]);
    // The intermediate is not sent: the server is misconfigured.
    let (result, info) = verdict_of(&root, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-untrusted");
    assert!(
        matches!(&error, TlsError::CertUntrusted { why: Untrusted::MissingIntermediate { issuer }, .. } if issuer == "CN=Test Intermediate"),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("intermediate certificate is missing"),
        "{error}"
    );
    assert_eq!(info.chain.len(), 1);
}

#[test]
fn a_chain_to_a_root_nobody_trusts_is_an_unknown_issuer_naming_it() {
    let trusted = Ca::root("Test Root");
    let stranger = Ca::root("Stranger Root");
    let intermediate = stranger.intermediate("Stranger Intermediate");
    let leaf = intermediate.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).with_chain(&[&intermediate.der]);
    let (result, info) = verdict_of(&trusted, setup, "localhost");
    let error = result.unwrap_err();
    assert!(
        matches!(&error, TlsError::CertUntrusted { why: Untrusted::UnknownIssuer { issuer: Some(issuer) }, .. } if issuer == "CN=Stranger Root"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "unknown issuer (CN=Stranger Root): the chain the server sent leads to no trusted root"
    );
    assert_eq!(info.chain.len(), 2, "both certificates recorded on failure");
}

#[test]
fn a_leaf_for_another_name_is_a_name_mismatch_naming_both() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["other.test", "10.9.8.7"]);
    let (result, _) = verdict_of(&ca, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-name-mismatch");
    assert_eq!(
        error.to_string(),
        "certificate is not valid for localhost: it names other.test, 10.9.8.7"
    );
}

#[test]
fn a_leaf_only_for_client_auth_is_cert_invalid() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf_with(&["localhost"], KeyPair::generate().unwrap(), |params| {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    });
    let (result, _) = verdict_of(&ca, ServerSetup::new(&leaf), "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-invalid", "{error}");
    assert!(error.is_certificate());
}

/// `-k`: every failure above still completes the handshake, and the real
/// verdict and chain are recorded.
#[test]
fn insecure_mode_goes_on_and_records_the_real_verdict() {
    let root = Ca::root("Test Root");
    let intermediate = root.intermediate("Test Intermediate");
    let cases: Vec<(&str, ServerSetup, &str)> = vec![
        (
            "cert-expired",
            ServerSetup::new(&root.leaf_valid(&["localhost"], (2025, 1, 1), (2026, 1, 1))),
            "localhost",
        ),
        (
            "cert-untrusted",
            ServerSetup::new(&tls::self_signed(&["localhost"])),
            "localhost",
        ),
        (
            "cert-untrusted",
            ServerSetup::new(&intermediate.leaf(&["localhost"])),
            "localhost",
        ),
        (
            "cert-name-mismatch",
            ServerSetup::new(&root.leaf(&["localhost"])),
            "127.0.0.1",
        ),
        (
            "ok",
            ServerSetup::new(&root.leaf(&["localhost"])),
            "localhost",
        ),
    ];
    let insecure = tls::connector_with(&root, |options| options.insecure = true);
    for (kind, setup, host) in cases {
        let (addr, server) = tls::handshake_server(setup.config());
        let (result, info) = tls::handshake(&insecure, host, addr);
        result.unwrap_or_else(|e| panic!("{kind}: insecure handshake failed: {e}"));
        server.join().unwrap().handshake.expect("server side");
        assert_eq!(info.verdict.kind(), kind);
        assert_eq!(info.chain.len(), 1, "{kind}: chain recorded");
        if kind == "ok" {
            assert!(matches!(info.verdict, Verdict::Trusted));
            assert!(!info.summary().contains("verdict"), "{}", info.summary());
        } else {
            assert!(
                info.summary().ends_with(&format!(" verdict {kind}")),
                "{}",
                info.summary()
            );
        }
    }
}

#[test]
fn mozilla_roots_are_trusted_by_default_and_a_private_ca_is_not() {
    // No --cacert: our test CA is unknown, so its leaf is untrusted, and
    // the chain is still recorded.
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _server) = tls::handshake_server(ServerSetup::new(&leaf).config());
    let connector = fetch_headers::tls::TlsConnector::new(&fetch_headers::tls::TlsOptions {
        clock: tls::pinned(),
        ..Default::default()
    })
    .unwrap();
    let (result, info) = tls::handshake(&connector, "localhost", addr);
    let error = result.unwrap_err();
    assert!(
        matches!(&error, TlsError::CertUntrusted { why: Untrusted::MissingIntermediate { issuer }, .. } if issuer == "CN=Test Root"),
        "{error:?}"
    );
    assert_eq!(info.chain.len(), 1);
}

/// A server holding a real certificate but signing the handshake with
/// another key is an impostor: the handshake fails with `cert-invalid`
/// (a bad signature), also under `insecure`, where the verdict recorded
/// for the certificate itself stays what it was.
#[test]
fn a_handshake_signed_with_another_key_fails_even_under_insecure() {
    let ca = Ca::root("Test Root");
    let other_key = ca.leaf(&["localhost"]).key;

    let leaf = ca.leaf(&["localhost"]);
    let setup = ServerSetup::new(&leaf).signed_by(other_key.clone_key());
    let (result, info) = verdict_of(&ca, setup, "localhost");
    let error = result.unwrap_err();
    assert_eq!(error.kind(), "cert-invalid", "{error}");
    assert!(
        matches!(info.verdict, Verdict::Trusted),
        "the certificate itself is fine"
    );

    let expired = ca.leaf_valid(&["localhost"], (2025, 1, 1), (2026, 1, 1));
    let setup = ServerSetup::new(&expired).signed_by(other_key);
    let (addr, _server) = tls::handshake_server(setup.config());
    let insecure = tls::connector_with(&ca, |options| options.insecure = true);
    let (result, info) = tls::handshake(&insecure, "localhost", addr);
    let error = result.unwrap_err();
    assert_eq!(
        error.kind(),
        "cert-invalid",
        "not the overridden verdict: {error}"
    );
    assert_eq!(info.verdict.kind(), "cert-expired");
}
