//! The TLS bench's certificates, made with rcgen when the bench starts and
//! written as PEM files: the root CA the clients trust (`--cacert`), and the
//! chain and key the server presents.
//!
//! The chain is shaped like a public site's: a leaf signed by an
//! intermediate signed by the root, the server sending the leaf and the
//! intermediate. So a client verifies two certificate signatures and the
//! handshake's own, as it would against a real server. Every key is ECDSA
//! P-256 (rcgen's default), and the leaf names both `127.0.0.1` (an IP
//! address SAN) and `localhost`.

use std::io;
use std::path::PathBuf;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};

/// The PEM files, in a temporary directory removed when this is dropped.
#[derive(Debug)]
pub struct Certs {
    _dir: tempfile::TempDir,
    /// The root CA certificate: what clients trust.
    pub ca: PathBuf,
    /// The leaf and the intermediate, in that order: what the server sends.
    pub chain: PathBuf,
    /// The leaf's private key (PKCS#8).
    pub key: PathBuf,
}

/// Makes a root, an intermediate and a leaf, and writes them out.
pub fn make() -> io::Result<Certs> {
    let err = |e: rcgen::Error| io::Error::other(format!("rcgen: {e}"));
    let root_key = KeyPair::generate().map_err(err)?;
    let root_params = ca_params("fetch-headers bench root");
    let root = root_params.self_signed(&root_key).map_err(err)?;
    let root_issuer = Issuer::new(root_params, root_key);

    let mid_key = KeyPair::generate().map_err(err)?;
    let mid_params = ca_params("fetch-headers bench intermediate");
    let mid = mid_params.signed_by(&mid_key, &root_issuer).map_err(err)?;
    let mid_issuer = Issuer::new(mid_params, mid_key);

    let leaf_key = KeyPair::generate().map_err(err)?;
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .map_err(err)?;
    leaf_params.distinguished_name = rcgen::DistinguishedName::new();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    leaf_params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    let leaf = leaf_params.signed_by(&leaf_key, &mid_issuer).map_err(err)?;

    let dir = tempfile::tempdir()?;
    let ca = dir.path().join("ca.pem");
    let chain = dir.path().join("chain.pem");
    let key = dir.path().join("key.pem");
    std::fs::write(&ca, root.pem())?;
    std::fs::write(&chain, leaf.pem() + &mid.pem())?;
    std::fs::write(&key, leaf_key.serialize_pem())?;
    Ok(Certs {
        _dir: dir,
        ca,
        chain,
        key,
    })
}

/// A CA named `CN=<name>`, valid 2020..2040.
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
