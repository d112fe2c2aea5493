//! Building the connector: a CA file that cannot be used is reported before
//! any connection, naming the file; an empty version range is refused.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::path::PathBuf;

use fetch_headers::tls::{TlsConfigError, TlsConnector, TlsOptions, TlsVersion};

fn with_cacert(path: PathBuf) -> Result<TlsConnector, TlsConfigError> {
    TlsConnector::new(&TlsOptions {
        cacert: Some(path),
        ..TlsOptions::default()
    })
}

#[test]
fn a_missing_ca_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.pem");
    let error = with_cacert(path.clone()).unwrap_err();
    assert!(matches!(error, TlsConfigError::Read { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("cannot read CA file {}: ", path.display())),
        "{message}"
    );
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn a_ca_file_without_a_certificate_is_named() {
    // A key, but no certificate.
    let file = tls::pem_file(
        "some text\n-----BEGIN PRIVATE KEY-----\naGVsbG8=\n-----END PRIVATE KEY-----\n",
    );
    let error = with_cacert(file.path().to_owned()).unwrap_err();
    assert!(
        matches!(error, TlsConfigError::NoCertificate { .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains(&file.path().display().to_string()),
        "{error}"
    );

    let empty = tls::pem_file("");
    let error = with_cacert(empty.path().to_owned()).unwrap_err();
    assert!(
        matches!(error, TlsConfigError::NoCertificate { .. }),
        "{error:?}"
    );
}

#[test]
fn a_ca_file_with_broken_pem_or_a_certificate_that_is_none_is_refused() {
    let broken =
        tls::pem_file("-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n");
    let error = with_cacert(broken.path().to_owned()).unwrap_err();
    assert!(matches!(error, TlsConfigError::Pem { .. }), "{error:?}");
    assert!(error.to_string().contains("is not valid PEM"), "{error}");

    // Valid base64 of bytes that are no certificate.
    let garbage =
        tls::pem_file("-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n");
    let error = with_cacert(garbage.path().to_owned()).unwrap_err();
    assert!(
        matches!(error, TlsConfigError::BadCertificate { index: 1, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("certificate 1 in CA file"),
        "{error}"
    );
}

#[test]
fn a_ca_file_of_several_certificates_trusts_them_all() {
    let first = tls::Ca::root("First Root");
    let second = tls::Ca::root("Second Root");
    let both = tls::pem_file(&format!("{}{}", first.pem, second.pem));
    let connector = TlsConnector::new(&TlsOptions {
        cacert: Some(both.path().to_owned()),
        clock: tls::pinned(),
        ..TlsOptions::default()
    })
    .unwrap();
    for ca in [&first, &second] {
        let leaf = ca.leaf(&["localhost"]);
        let (addr, _server) = tls::handshake_server(tls::ServerSetup::new(&leaf).config());
        let (result, _) = tls::handshake(&connector, "localhost", addr);
        result.expect("trusted through the second file entry too");
    }
}

#[test]
fn an_empty_version_range_is_refused() {
    let error = TlsConnector::new(&TlsOptions {
        min_version: TlsVersion::Tls13,
        max_version: TlsVersion::Tls12,
        ..TlsOptions::default()
    })
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no TLS version is both >= TLSv1.3 and <= TLSv1.2"
    );
}
