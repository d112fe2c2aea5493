//! The recording verifier: webpki's verdict, plus a record of what it saw.
//!
//! rustls keeps the server's chain only when verification succeeds, and
//! under `insecure` a failed verdict must still be reported. So rustls is
//! given [`RecordingVerifier`], which asks rustls's own
//! `WebPkiServerVerifier` for the real verdict, records the chain as the
//! server sent it together with that verdict, and then returns the
//! verdict to rustls (or, under `insecure`, "verified"). The handshake's
//! signature checks are always delegated as they are: `insecure` lets a
//! bad certificate through, never a forged handshake.
//!
//! # Handing the record to the right connection
//!
//! One verifier serves every connection of the run (it lives in the shared
//! `Arc<ClientConfig>`), so it cannot hold "the" record. But rustls calls
//! it synchronously, inside `ClientConnection::process_new_packets`, on the
//! thread that called that. So the verifier leaves its record in a
//! thread-local slot, and [`super::TlsStream`] empties the slot before
//! each `process_new_packets` call and takes what is in it right after.
//! Nothing else runs on the thread in between, so what it takes belongs to
//! its own connection. A map keyed by connection would need a key rustls
//! does not give the verifier, and a lock; the slot needs neither, costs
//! two thread-local accesses per `process_new_packets`, and holds one
//! record at most.

use std::cell::Cell;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme};

use super::error::{Seen, TlsError};

/// What the verifier saw and decided for one connection.
#[derive(Debug)]
pub(crate) struct Verification {
    /// The chain as the server sent it, its own certificate first.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// The check time rustls passed in, from the connector's clock.
    pub(crate) checked_at: UnixTime,
    /// webpki's verdict, sorted into our kinds.
    pub(crate) verdict: Result<(), TlsError>,
    /// Whether the verdict was a failure that `insecure` kept from rustls:
    /// then any certificate error rustls reports later is not this one.
    pub(crate) overridden: bool,
}

thread_local! {
    /// The record of the last verification on this thread, until the stream
    /// that drove it takes it.
    static RECORD: Cell<Option<Verification>> = const { Cell::new(None) };
}

/// Empties this thread's slot: called before `process_new_packets`, so a
/// record left by a connection we do not drive (another user of the same
/// config on this thread) can never be taken for ours.
pub(crate) fn clear() {
    drop(RECORD.take());
}

/// Takes the record the verifier left during the `process_new_packets`
/// call that just returned, if it ran.
pub(crate) fn take() -> Option<Verification> {
    RECORD.take()
}

/// webpki, wrapped so its verdict and the chain are recorded.
#[derive(Debug)]
pub(crate) struct RecordingVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    roots: Arc<RootCertStore>,
    insecure: bool,
}

impl RecordingVerifier {
    /// Wraps `webpki`, which trusts `roots`. Under `insecure`, a failed
    /// verdict is recorded and then overridden.
    pub(crate) fn new(
        webpki: Arc<WebPkiServerVerifier>,
        roots: Arc<RootCertStore>,
        insecure: bool,
    ) -> RecordingVerifier {
        RecordingVerifier {
            webpki,
            roots,
            insecure,
        }
    }
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        // rustls limits the Certificate message to 64 KiB, which bounds this copy.
        let chain: Vec<CertificateDer<'static>> = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|cert| cert.clone().into_owned())
            .collect();
        let recorded = match &verdict {
            Ok(_) => Ok(()),
            Err(error) => Err(TlsError::from_rustls(
                error.clone(),
                Some(&Seen {
                    chain: &chain,
                    host: server_name,
                    roots: &self.roots,
                }),
            )),
        };
        let overridden = self.insecure && recorded.is_err();
        RECORD.set(Some(Verification {
            chain,
            checked_at: now,
            verdict: recorded,
            overridden,
        }));
        match verdict {
            Err(error) if self.insecure => {
                log::debug!("insecure: going on despite {error}");
                Ok(ServerCertVerified::assertion())
            }
            verdict => verdict,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }

    fn root_hint_subjects(&self) -> Option<&[DistinguishedName]> {
        self.webpki.root_hint_subjects()
    }
}
