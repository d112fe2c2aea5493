//! TLS on our own loop: rustls driven sans-IO over a [`net::TcpStream`](crate::net::TcpStream).
//!
//! rustls never touches a socket. Its `ClientConnection` is a state machine
//! with two byte queues: ciphertext that came from the server (fed with
//! `read_tls`) and ciphertext it wants sent (drained with `write_tls`).
//! [`TlsStream`] moves bytes between those queues and our nonblocking
//! [`TcpStream`](crate::net::TcpStream), and returns `Pending` exactly when
//! the socket did. This is the design of asyncio's `SSLProtocol`: an
//! `ssl.SSLObject` between two `ssl.MemoryBIO`s (incoming and outgoing),
//! pumped by the transport's callbacks. Here the pump is a leaf future and
//! the callbacks are wakers.
//!
//! - [`TlsConnector`] is built once per run from [`TlsOptions`] (roots,
//!   `insecure`, versions, clock) and shares one `Arc<ClientConfig>` with
//!   every connection.
//! - [`TlsStream`] is one session: `poll_handshake`, `poll_read`,
//!   `poll_write`, `poll_flush`, and async wrappers.
//! - [`TlsError`] is every way a session can fail, each with a kind
//!   (`cert-expired`, `not-tls`, ...) and a message.
//! - [`TlsInfo`] is what a session learned: version, cipher suite, ALPN,
//!   SNI, timing, the verdict on the certificate and the chain as the
//!   server sent it ([`CertInfo`]), also when the handshake failed.
//!
//! # The invariant
//!
//! A poll returns `Pending` only after our `TcpStream` returned `Pending`
//! (which stores the task's waker) in **every** direction rustls wants: the
//! write direction while rustls has records to send, the read direction
//! while it wants more records. Anything less could lose a wakeup
//! (checklist item 10). Reads and writes run until the socket says
//! `Pending`, because readiness is edge-triggered (checklist item 1).
//!
//! rustls is confined to this module: nothing else in the crate names a
//! rustls type, so its next major version is a change here alone.

mod config;
mod error;
mod info;
mod stream;
mod verifier;

pub use config::{Clock, TlsConfigError, TlsConnector, TlsOptions, TlsVersion};
pub use error::{TlsError, Untrusted, NOT_TLS_SHOWN};
pub use info::{CertFacts, CertInfo, CertParseError, KeyInfo, Timestamp, TlsInfo, Verdict};
pub use stream::{PeerClose, TlsStream, OUTGOING_LIMIT};
