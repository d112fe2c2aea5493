//! [`TlsInfo`]: what one session learned, for the `tls` object of the JSON
//! output and the `--tls-info` line.
//!
//! The facts of each certificate ([`CertInfo`]) are parsed from its DER
//! with `x509-cert`, only when asked for: a fetch that prints no
//! certificate facts parses none. A certificate that does not parse still
//! has its SHA-256 fingerprint, with the parse error in place of the facts.
//! Nothing here can panic on a hostile certificate.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ring::digest;
use x509_cert::der::asn1::{AnyRef, ObjectIdentifier, UintRef};
use x509_cert::der::{self, Decode, Encode, Reader, SliceReader};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::{Certificate, TbsCertificate};

use super::config::TlsVersion;
use super::error::TlsError;
use crate::http::escape_line;

const SECONDS_PER_DAY: i64 = 86_400;

/// An instant in UTC, to the second, as certificates state them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub unix: u64,
}

impl Timestamp {
    /// The instant `unix` seconds after the epoch.
    pub fn from_unix(unix: u64) -> Timestamp {
        Timestamp { unix }
    }

    /// The date alone, `2027-03-05`.
    pub fn date(&self) -> String {
        let mut text = self.to_string();
        text.truncate("2027-03-05".len());
        text
    }
}

/// `2027-03-05T12:00:00Z` (RFC 3339, UTC).
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match der::DateTime::from_unix_duration(Duration::from_secs(self.unix)) {
            Ok(time) => time.fmt(f),
            // Past 9999-12-31: no certificate can say so; show the number.
            Err(_) => write!(f, "@{}", self.unix),
        }
    }
}

/// What became of the server's certificate.
#[derive(Debug, Clone)]
pub enum Verdict {
    /// No certificate was checked: the handshake ended before one came.
    Unchecked,
    /// The chain leads to a trusted root and names the host.
    Trusted,
    /// It failed, for this reason. Under `insecure` the handshake went on.
    Failed(TlsError),
}

impl Verdict {
    /// `ok`, `unchecked`, or the error's kind (`cert-expired`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Unchecked => "unchecked",
            Verdict::Trusted => "ok",
            Verdict::Failed(error) => error.kind(),
        }
    }
}

/// What one TLS session learned, available after the handshake succeeded
/// and also after it failed (then with what was known by then).
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// The version negotiated, once the server's hello came.
    pub version: Option<TlsVersion>,
    /// rustls's name of the cipher suite: `TLS13_AES_128_GCM_SHA256`.
    pub cipher_suite: Option<&'static str>,
    /// The protocol the server chose by ALPN, escaped for printing.
    pub alpn: Option<String>,
    /// The name sent as SNI; `None` for an IP-literal host.
    pub sni: Option<String>,
    /// From the stream's creation to the handshake's end, successful or not.
    pub handshake_time: Option<Duration>,
    /// The verdict on the certificate (the real one, also under `insecure`).
    pub verdict: Verdict,
    /// When the certificate was checked, by the connector's clock; days
    /// left are counted from here.
    pub checked_at: Option<Timestamp>,
    /// The chain as the server sent it, its own certificate first.
    pub chain: Vec<CertInfo>,
}

impl TlsInfo {
    /// One line for `--tls-info`:
    /// `TLSv1.3 TLS13_AES_128_GCM_SHA256 http/1.1 cert CN=a issuer CN=b expires 2027-03-05 (94 days)`.
    ///
    /// A value not known is `-`. The common name stands for a name that has
    /// one, the whole name otherwise. A failed verdict is appended as
    /// `verdict KIND`. Every part the server chose is escaped.
    pub fn summary(&self) -> String {
        let mut line = format!(
            "{} {} {}",
            self.version.map_or("-", TlsVersion::as_str),
            self.cipher_suite.unwrap_or("-"),
            self.alpn.as_deref().unwrap_or("-"),
        );
        match self.chain.first().map(|cert| &cert.facts) {
            None => line.push_str(" no certificate"),
            Some(Err(_)) => line.push_str(" cert unreadable"),
            Some(Ok(facts)) => {
                let short = |cn: &Option<String>, full: &String| {
                    escape_line(cn.as_deref().unwrap_or(full).as_bytes())
                };
                line.push_str(&format!(
                    " cert {} issuer {}",
                    short(&facts.subject_cn, &facts.subject),
                    short(&facts.issuer_cn, &facts.issuer)
                ));
                let date = facts.not_after.date();
                match facts.days_left {
                    Some(days) if days < 0 => {
                        // `days_left` is rounded down, so it is already -1
                        // in the first day after expiry; "ago" counts the
                        // whole days since, as the `cert-expired` message does.
                        let ago = self.checked_at.map_or(days.unsigned_abs(), |at| {
                            at.unix.saturating_sub(facts.not_after.unix) / SECONDS_PER_DAY as u64
                        });
                        line.push_str(&format!(" expired {date} ({ago} days ago)"))
                    }
                    Some(days) => line.push_str(&format!(" expires {date} ({days} days)")),
                    None => line.push_str(&format!(" expires {date}")),
                }
            }
        }
        if let Verdict::Failed(error) = &self.verdict {
            line.push_str(" verdict ");
            line.push_str(error.kind());
        }
        line
    }
}

/// One certificate of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// SHA-256 of the DER, lowercase hex.
    pub sha256: String,
    /// The DER's size in bytes.
    pub der_len: usize,
    /// What it says, or why it could not be read.
    pub facts: Result<CertFacts, CertParseError>,
}

/// What a certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFacts {
    /// The subject, RFC 4514 (`CN=example.com,O=Example`).
    pub subject: String,
    /// The subject's common name alone (`CN=example.com`), when it has one.
    pub subject_cn: Option<String>,
    /// The issuer, RFC 4514.
    pub issuer: String,
    /// The issuer's common name alone, when it has one.
    pub issuer_cn: Option<String>,
    /// DNS names of the subjectAltName extension.
    pub dns_names: Vec<String>,
    /// IP addresses of the subjectAltName extension.
    pub ip_addresses: Vec<IpAddr>,
    /// Valid from.
    pub not_before: Timestamp,
    /// Valid until.
    pub not_after: Timestamp,
    /// Whole days from the check to `not_after` (negative once expired),
    /// when the check time is known.
    pub days_left: Option<i64>,
    /// The serial number, lowercase hex of its DER content bytes.
    pub serial: String,
    /// The subject's public key.
    pub key: KeyInfo,
    /// The algorithm the issuer signed with (`ecdsa-with-SHA256`), or its
    /// OID when it has no well-known name.
    pub signature_algorithm: String,
    /// Whether basicConstraints marks it as a CA.
    pub is_ca: bool,
}

/// The type and size of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyInfo {
    /// RSA, with the modulus size.
    Rsa {
        /// Bits of the modulus.
        bits: u32,
    },
    /// Elliptic curve (ECDSA/ECDH) key.
    Ec {
        /// `P-256`, `P-384`, `P-521`, or the curve's name or OID.
        curve: String,
        /// The curve's size, for the curves named above.
        bits: Option<u32>,
    },
    /// Ed25519 (256 bits).
    Ed25519,
    /// Ed448 (456 bits).
    Ed448,
    /// Any other algorithm, by name or OID.
    Other {
        /// The algorithm.
        algorithm: String,
    },
}

impl KeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, or the other algorithm's name.
    pub fn kind(&self) -> &str {
        match self {
            KeyInfo::Rsa { .. } => "RSA",
            KeyInfo::Ec { .. } => "EC",
            KeyInfo::Ed25519 => "Ed25519",
            KeyInfo::Ed448 => "Ed448",
            KeyInfo::Other { algorithm } => algorithm,
        }
    }

    /// The key's size in bits, when known.
    pub fn bits(&self) -> Option<u32> {
        match self {
            KeyInfo::Rsa { bits } => Some(*bits),
            KeyInfo::Ec { bits, .. } => *bits,
            KeyInfo::Ed25519 => Some(256),
            KeyInfo::Ed448 => Some(456),
            KeyInfo::Other { .. } => None,
        }
    }
}

/// `RSA 2048`, `EC P-256`, `Ed25519`.
impl fmt::Display for KeyInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyInfo::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyInfo::Ec { curve, .. } => write!(f, "EC {curve}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// A certificate that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertParseError {
    source: der::Error,
}

impl fmt::Display for CertParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot parse the certificate: {}", self.source)
    }
}

impl std::error::Error for CertParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

impl From<der::Error> for CertParseError {
    fn from(source: der::Error) -> CertParseError {
        CertParseError { source }
    }
}

impl CertInfo {
    /// The facts of the DER certificate `der`, with days left counted from
    /// `checked_at` (none when it is `None`).
    pub fn from_der(der: &[u8], checked_at: Option<Timestamp>) -> CertInfo {
        CertInfo {
            sha256: hex(digest::digest(&digest::SHA256, der).as_ref()),
            der_len: der.len(),
            facts: facts(der, checked_at),
        }
    }
}

fn facts(der: &[u8], checked_at: Option<Timestamp>) -> Result<CertFacts, CertParseError> {
    let cert = Certificate::from_der(der)?;
    let tbs = &cert.tbs_certificate;
    let (dns_names, ip_addresses) = alt_names(tbs)?;
    let is_ca = tbs
        .get::<BasicConstraints>()?
        .is_some_and(|(_, constraints)| constraints.ca);
    let not_before = Timestamp::from_unix(tbs.validity.not_before.to_unix_duration().as_secs());
    let not_after = Timestamp::from_unix(tbs.validity.not_after.to_unix_duration().as_secs());
    let days_left =
        checked_at.map(|now| (not_after.unix as i64 - now.unix as i64).div_euclid(SECONDS_PER_DAY));
    Ok(CertFacts {
        subject: tbs.subject.to_string(),
        subject_cn: common_name(&tbs.subject),
        issuer: tbs.issuer.to_string(),
        issuer_cn: common_name(&tbs.issuer),
        dns_names,
        ip_addresses,
        not_before,
        not_after,
        days_left,
        serial: hex(tbs.serial_number.as_bytes()),
        key: key_info(&tbs.subject_public_key_info)?,
        signature_algorithm: oid_name(&cert.signature_algorithm.oid),
        is_ca,
    })
}

/// The `CN=...` part of a name, as RFC 4514 prints it (escapes included).
fn common_name(name: &Name) -> Option<String> {
    const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
    name.0
        .iter()
        .rev() // RFC 4514 order: the most specific part first
        .flat_map(|rdn| rdn.0.iter())
        .find(|atv| atv.oid == COMMON_NAME)
        .map(|atv| atv.to_string())
}

fn key_info(spki: &x509_cert::spki::SubjectPublicKeyInfoOwned) -> der::Result<KeyInfo> {
    const RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
    const EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
    const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
    const ED448: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.113");
    const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
    const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
    const P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

    let algorithm = spki.algorithm.oid;
    Ok(if algorithm == RSA {
        KeyInfo::Rsa {
            bits: rsa_modulus_bits(spki.subject_public_key.raw_bytes())?,
        }
    } else if algorithm == EC {
        let curve = match &spki.algorithm.parameters {
            Some(parameters) => parameters.decode_as::<ObjectIdentifier>()?,
            None => return Err(der::Tag::ObjectIdentifier.value_error()),
        };
        let (name, bits) = match curve {
            c if c == P256 => ("P-256".to_owned(), Some(256)),
            c if c == P384 => ("P-384".to_owned(), Some(384)),
            c if c == P521 => ("P-521".to_owned(), Some(521)),
            other => (oid_name(&other), None),
        };
        KeyInfo::Ec { curve: name, bits }
    } else if algorithm == ED25519 {
        KeyInfo::Ed25519
    } else if algorithm == ED448 {
        KeyInfo::Ed448
    } else {
        KeyInfo::Other {
            algorithm: oid_name(&algorithm),
        }
    })
}

/// The size of an RSA key: the bit length of the modulus in
/// `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_modulus_bits(public_key: &[u8]) -> der::Result<u32> {
    let mut reader = SliceReader::new(public_key)?;
    let modulus = reader.sequence(|fields| {
        let modulus = UintRef::decode(fields)?;
        let _exponent = UintRef::decode(fields)?;
        Ok(modulus)
    })?;
    // `UintRef` has dropped the sign byte; a modulus is never zero.
    let bytes = modulus.as_bytes();
    let Some(first) = bytes.first() else {
        return Err(der::Tag::Integer.value_error());
    };
    Ok((bytes.len() as u32 - 1) * 8 + (8 - first.leading_zeros()))
}

/// A well-known name for an OID (`sha256WithRSAEncryption`), or its dotted form.
fn oid_name(oid: &ObjectIdentifier) -> String {
    const_oid_name(oid).map_or_else(|| oid.to_string(), str::to_owned)
}

fn const_oid_name(oid: &ObjectIdentifier) -> Option<&'static str> {
    x509_cert::der::oid::db::DB.by_oid(oid)
}

/// The DNS names and IP addresses of the subjectAltName extension.
fn alt_names(tbs: &TbsCertificate) -> der::Result<(Vec<String>, Vec<IpAddr>)> {
    let mut dns_names = Vec::new();
    let mut ip_addresses = Vec::new();
    if let Some((_, SubjectAltName(names))) = tbs.get::<SubjectAltName>()? {
        for name in names {
            match name {
                GeneralName::DnsName(dns) => dns_names.push(dns.to_string()),
                GeneralName::IpAddress(octets) => {
                    if let Some(ip) = ip_from_octets(octets.as_bytes()) {
                        ip_addresses.push(ip);
                    }
                }
                _ => {}
            }
        }
    }
    Ok((dns_names, ip_addresses))
}

fn ip_from_octets(octets: &[u8]) -> Option<IpAddr> {
    match octets.len() {
        4 => <[u8; 4]>::try_from(octets).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(octets).ok().map(IpAddr::from),
        _ => None,
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// The names of a certificate that tell an untrusted chain's cases apart
/// (see `error::untrusted`), parsed only when a chain has failed.
pub(crate) struct Names {
    /// The subject, RFC 4514.
    pub(crate) subject: String,
    /// The issuer, RFC 4514.
    pub(crate) issuer: String,
    /// Its DNS names and IP addresses, as text.
    pub(crate) alt_names: Vec<String>,
    subject_name: Name,
    issuer_name: Name,
}

impl Names {
    /// The names of the DER certificate `der`; `None` if it does not parse.
    pub(crate) fn of(der: &[u8]) -> Option<Names> {
        let cert = Certificate::from_der(der).ok()?;
        let tbs = cert.tbs_certificate;
        let (dns_names, ips) = alt_names(&tbs).unwrap_or_default();
        let alt_names = dns_names
            .into_iter()
            .chain(ips.iter().map(IpAddr::to_string))
            .collect();
        Some(Names {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            alt_names,
            subject_name: tbs.subject,
            issuer_name: tbs.issuer,
        })
    }

    /// Whether the certificate names itself as its issuer.
    pub(crate) fn self_issued(&self) -> bool {
        self.subject_name == self.issuer_name
    }

    /// Whether the issuer is the name whose DER *content* (the bytes inside
    /// the outer SEQUENCE, as a trust anchor stores its subject) is `subject`.
    pub(crate) fn issued_by_subject(&self, subject: &[u8]) -> bool {
        let Ok(encoded) = self.issuer_name.to_der() else {
            return false;
        };
        AnyRef::from_der(&encoded).is_ok_and(|any| any.value() == subject)
    }
}
