//! [`TlsStream`]: one TLS session, driven by our reactor.
//!
//! # How rustls is driven
//!
//! rustls's `ClientConnection` does no I/O. It holds two queues of
//! ciphertext and tells us what it wants:
//!
//! ```text
//!           server ──► socket ──read_tls──► [incoming records] ──process_new_packets──┐
//!                                                                                     ▼
//!   poll_read  ◄── reader() ◄── [plaintext from the server] ◄──── the state machine
//!   poll_write ──► writer() ──► [records to send] ──write_tls──► socket ──► server
//!                                   ▲
//!                  handshake messages and alerts go here too
//! ```
//!
//! - `wants_write()`: records are queued; `write_tls` hands them to the socket.
//! - `wants_read()`: it would take more records; `read_tls` fills its buffer
//!   from the socket, and `process_new_packets` decrypts and acts on them
//!   (which may queue records to send: our next handshake flight, an alert).
//!
//! Every poll below is a loop over those two directions. Each turn sends
//! everything queued until the socket says `Pending`, then reads what the
//! socket has until it says `Pending`, processing after every read. The loop
//! returns `Pending` only when our `TcpStream` has returned `Pending` in each
//! direction rustls wants: a `TcpStream` that says `Pending` has stored the
//! task's waker for that direction (see `IoSource::poll_io`), so whichever
//! direction becomes ready first wakes the task. Returning `Pending` any
//! other way could strand the task (checklist item 10).
//!
//! rustls's `complete_io` would do this loop for a blocking socket; on a
//! nonblocking one it cannot tell "wait" from "done", so it is never used.
//!
//! # What it costs
//!
//! Per connection, rustls holds an incoming buffer of 4 KiB that grows to one
//! full record (about 18 KiB) while a large record arrives and 64 KiB at
//! most while a large handshake message does; decrypted plaintext waiting
//! for `poll_read` (one buffer's worth, at most about 18 KiB, because we read
//! from the socket only once it has been drained); and the records to send,
//! capped here at [`OUTGOING_LIMIT`]. On top of that we keep the
//! certificate chain the server sent (a few KiB) until the handshake
//! succeeds, when rustls's own copy replaces ours.

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read, Write};
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use rustls::ClientConnection;

use super::config::TlsVersion;
use super::error::{TlsError, NOT_TLS_SHOWN};
use super::info::{CertInfo, Timestamp, TlsInfo, Verdict};
use super::verifier::{self, Verification};
use crate::http::escape_line;
use crate::net::TcpStream;

/// The most ciphertext rustls may queue for sending: one full TLS record
/// (16 KiB of plaintext), against rustls's default of 64 KiB. A header
/// fetcher sends one small request, so the smaller queue costs nothing and
/// bounds what a stalled server can make us hold.
pub const OUTGOING_LIMIT: usize = 16 * 1024;

/// How the server ended the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerClose {
    /// With a `close_notify` alert: the data is known to be complete.
    CloseNotify,
    /// With a bare TCP FIN. Many servers do this; whether it matters
    /// depends on whether what was read is complete (a full response head).
    Eof,
}

/// A TLS client session over a [`TcpStream`].
///
/// Made by [`super::TlsConnector::connect`]. Drive the handshake with
/// [`TlsStream::poll_handshake`] (or [`TlsStream::handshake`]), then read
/// and write plaintext; reading or writing first drives the handshake
/// itself. Dropping the stream at any point (a timeout, say) closes the
/// socket and frees its reactor slot; the stream owns no timer and nothing
/// else on the loop.
pub struct TlsStream {
    tcp: TcpStream,
    // Boxed: rustls's connection is about a kilobyte, and a stream lives
    // inside the fetch's state machine, which should stay small.
    session: Box<Session>,
}

struct Session {
    conn: ClientConnection,
    sni: Option<String>,
    started: Instant,
    handshake_time: Option<Duration>,
    verification: Option<Verification>,
    /// The first bytes from the server, until they are judged to be TLS.
    first_bytes: FirstBytes,
    /// Ciphertext bytes read so far (for the message of a `tls-closed`).
    received: usize,
    /// The error that ended the session; every later poll returns it.
    failed: Option<TlsError>,
    peer_closed: Option<PeerClose>,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.session;
        f.debug_struct("TlsStream")
            .field("tcp", &self.tcp)
            .field("sni", &s.sni)
            .field("handshaking", &s.conn.is_handshaking())
            .field("failed", &s.failed.as_ref().map(TlsError::kind))
            .finish_non_exhaustive()
    }
}

impl TlsStream {
    pub(crate) fn new(tcp: TcpStream, mut conn: ClientConnection, sni: Option<String>) -> Self {
        conn.set_buffer_limit(Some(OUTGOING_LIMIT));
        TlsStream {
            tcp,
            session: Box::new(Session {
                conn,
                sni,
                started: Instant::now(),
                handshake_time: None,
                verification: None,
                first_bytes: FirstBytes::default(),
                received: 0,
                failed: None,
                peer_closed: None,
            }),
        }
    }

    /// The TCP stream underneath (for its addresses).
    pub fn get_ref(&self) -> &TcpStream {
        &self.tcp
    }

    /// Drives the handshake: ready with `Ok` once it is complete, or with
    /// the error that ended it (after which [`TlsStream::info`] still tells
    /// what was learned). Calling it again after it finished returns the
    /// same result at once.
    pub fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TlsError>> {
        let s = &mut *self.session;
        if let Some(error) = &s.failed {
            return Poll::Ready(Err(error.clone()));
        }
        if s.handshake_time.is_some() {
            return Poll::Ready(Ok(()));
        }
        let result = ready!(drive_handshake(&self.tcp, s, cx));
        // Done, one way or the other: note when, and what rustls now holds.
        s.handshake_time = Some(s.started.elapsed());
        match result {
            Ok(()) => {
                // rustls keeps the chain once the handshake has succeeded:
                // drop our copy rather than hold it twice.
                if let Some(verification) = &mut s.verification {
                    if s.conn.peer_certificates().is_some() {
                        verification.chain = Vec::new();
                    }
                }
                log::debug!(
                    "tls handshake done in {:?}: {:?} {:?}",
                    s.started.elapsed(),
                    s.conn.protocol_version(),
                    s.conn.negotiated_cipher_suite().map(|suite| suite.suite()),
                );
                Poll::Ready(Ok(()))
            }
            Err(error) => {
                // Send the alert rustls queued about it, if the socket takes
                // it now; never wait for that.
                let _ = flush(&self.tcp, &mut s.conn, cx);
                log::debug!("tls handshake failed: {error}");
                s.failed = Some(error.clone());
                Poll::Ready(Err(error))
            }
        }
    }

    /// Reads plaintext into `buf`, waiting until at least one byte is there
    /// or the server has ended the session: then `Ok(0)`, and
    /// [`TlsStream::peer_closed`] tells a `close_notify` from a bare EOF.
    /// Drives the handshake first if it is not complete.
    pub fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, TlsError>> {
        ready!(self.poll_handshake(cx))?;
        let s = &mut *self.session;
        if let Some(error) = &s.failed {
            return Poll::Ready(Err(error.clone()));
        }
        loop {
            // 1. Plaintext rustls has already decrypted comes first, with
            //    no syscall at all.
            match s.conn.reader().read(buf) {
                Ok(0) if !buf.is_empty() => {
                    s.peer_closed = Some(PeerClose::CloseNotify);
                    return Poll::Ready(Ok(0));
                }
                Ok(n) => return Poll::Ready(Ok(n)),
                // rustls's way of saying "nothing decrypted yet".
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    s.peer_closed = Some(PeerClose::Eof);
                    return Poll::Ready(Ok(0));
                }
                Err(e) => return Poll::Ready(Err(s.fail(TlsError::io(e)))),
            }
            // 2. Send what rustls has queued: the rest of our request, or an
            //    answer it owes the server (a TLS 1.3 KeyUpdate). If the
            //    socket is full, its writer waker is now stored, and step 3
            //    decides whether we wait.
            if let Err(e) = flush(&self.tcp, &mut s.conn, cx) {
                return Poll::Ready(Err(s.fail(TlsError::io(e))));
            }
            // 3. Read more records. `Pending` here means the socket had
            //    nothing and stored the reader waker: both directions rustls
            //    wants are now waiting on the reactor. Bytes (or EOF) go
            //    round the loop to step 1.
            match read_records(&self.tcp, s, cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(s.fail(error))),
            }
        }
    }

    /// Hands plaintext from `buf` to rustls, which encrypts it, and sends
    /// what the socket takes. `Ok(n)`: rustls took `n` bytes; records the
    /// socket did not take yet go out on the next write, flush or read.
    /// Waits only when rustls's outgoing queue ([`OUTGOING_LIMIT`]) and the
    /// socket are both full. Drives the handshake first if needed.
    pub fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<Result<usize, TlsError>> {
        ready!(self.poll_handshake(cx))?;
        let s = &mut *self.session;
        if let Some(error) = &s.failed {
            return Poll::Ready(Err(error.clone()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        loop {
            // 1. rustls encrypts what fits in its queue.
            let taken = match s.conn.writer().write(buf) {
                Ok(n) => n,
                Err(e) => return Poll::Ready(Err(s.fail(TlsError::io(e)))),
            };
            // 2. Send records until none are left or the socket is full.
            let sent_all = match flush(&self.tcp, &mut s.conn, cx) {
                Ok(sent_all) => sent_all,
                Err(e) => return Poll::Ready(Err(s.fail(TlsError::io(e)))),
            };
            if taken > 0 {
                return Poll::Ready(Ok(taken));
            }
            if !sent_all {
                // The queue was full and the socket took nothing: the writer
                // waker is stored, and writability resumes us.
                return Poll::Pending;
            }
            // The queue was full, and flushing emptied it: rustls takes
            // `buf` on the next turn.
        }
    }

    /// Sends every record rustls has queued; ready once the socket has
    /// taken them all.
    pub fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TlsError>> {
        ready!(self.poll_handshake(cx))?;
        let s = &mut *self.session;
        match flush(&self.tcp, &mut s.conn, cx) {
            Ok(true) => Poll::Ready(Ok(())),
            Ok(false) => Poll::Pending,
            Err(e) => Poll::Ready(Err(s.fail(TlsError::io(e)))),
        }
    }

    /// Completes the handshake: [`TlsStream::poll_handshake`] as a future.
    pub async fn handshake(&mut self) -> Result<(), TlsError> {
        poll_fn(|cx| self.poll_handshake(cx)).await
    }

    /// Reads plaintext: [`TlsStream::poll_read`] as a future.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize, TlsError> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Writes some plaintext: [`TlsStream::poll_write`] as a future.
    pub async fn write(&mut self, buf: &[u8]) -> Result<usize, TlsError> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf` and flushes it to the socket.
    pub async fn write_all(&mut self, mut buf: &[u8]) -> Result<(), TlsError> {
        while !buf.is_empty() {
            let n = self.write(buf).await?;
            buf = &buf[n..];
        }
        self.flush().await
    }

    /// Flushes: [`TlsStream::poll_flush`] as a future.
    pub async fn flush(&mut self) -> Result<(), TlsError> {
        poll_fn(|cx| self.poll_flush(cx)).await
    }

    /// How the server ended the session, once a read has returned `Ok(0)`.
    pub fn peer_closed(&self) -> Option<PeerClose> {
        self.session.peer_closed
    }

    /// The version negotiated, once the server's hello has come.
    pub fn version(&self) -> Option<TlsVersion> {
        self.session
            .conn
            .protocol_version()
            .and_then(TlsVersion::from_rustls)
    }

    /// The verdict on the server's certificate: the real one, also when
    /// `insecure` let the handshake go on. Cheap: parses nothing.
    pub fn verdict(&self) -> Verdict {
        match &self.session.verification {
            None => Verdict::Unchecked,
            Some(Verification {
                verdict: Ok(()), ..
            }) => Verdict::Trusted,
            Some(Verification {
                verdict: Err(error),
                ..
            }) => Verdict::Failed(error.clone()),
        }
    }

    /// What this session learned, with the facts of every certificate
    /// (parsed now, so ask only when they are to be shown).
    pub fn info(&self) -> TlsInfo {
        let s = &self.session;
        let checked_at = s
            .verification
            .as_ref()
            .map(|v| Timestamp::from_unix(v.checked_at.as_secs()));
        let ours = s.verification.as_ref().map(|v| v.chain.as_slice());
        let chain = match (ours, s.conn.peer_certificates()) {
            (Some(chain), _) if !chain.is_empty() => chain,
            (_, Some(chain)) => chain,
            _ => &[],
        };
        TlsInfo {
            version: self.version(),
            cipher_suite: s
                .conn
                .negotiated_cipher_suite()
                .and_then(|suite| suite.suite().as_str()),
            alpn: s.conn.alpn_protocol().map(escape_line),
            sni: s.sni.clone(),
            handshake_time: s.handshake_time,
            verdict: self.verdict(),
            checked_at,
            chain: chain
                .iter()
                .map(|der| CertInfo::from_der(der, checked_at))
                .collect(),
        }
    }
}

impl Session {
    /// Records `error` as the end of the session and returns it.
    fn fail(&mut self, error: TlsError) -> TlsError {
        self.failed = Some(error.clone());
        error
    }

    /// Lets rustls act on the records read so far, and collects the
    /// verifier's record if a certificate was among them.
    fn process(&mut self) -> Result<(), TlsError> {
        verifier::clear();
        let result = self.conn.process_new_packets();
        // The verifier, if it ran, ran inside that call, on this thread:
        // what is in the slot now is ours (see `verifier`).
        if let Some(verification) = verifier::take() {
            self.verification = Some(verification);
        }
        match result {
            Ok(_) => Ok(()),
            Err(error) => Err(self.error_from(error)),
        }
    }

    fn error_from(&self, error: rustls::Error) -> TlsError {
        // A certificate failure the verifier returned to rustls was already
        // sorted by it, with the chain in hand: prefer its account. (Under
        // `insecure` it returned none, so a later certificate error, such
        // as a bad handshake signature, is rustls's own.)
        if let (
            rustls::Error::InvalidCertificate(_),
            Some(Verification {
                verdict: Err(recorded),
                overridden: false,
                ..
            }),
        ) = (&error, &self.verification)
        {
            return recorded.clone();
        }
        TlsError::from_rustls(error, None)
    }

    /// The error for a connection the server closed mid-handshake.
    fn closed_error(&mut self) -> TlsError {
        match self.first_bytes.judge() {
            Judged::NotTls => TlsError::NotTls {
                first_bytes: std::mem::take(&mut self.first_bytes.bytes),
            },
            Judged::Tls | Judged::TooShort => TlsError::Closed {
                received: self.received,
            },
        }
    }
}

/// One handshake, until it is complete or fails. The loop of the module
/// docs, with one handshake-only rule: rustls does not read while it has
/// handshake records queued, so a write that said `Pending` is then the
/// only direction it wants.
fn drive_handshake(
    tcp: &TcpStream,
    s: &mut Session,
    cx: &mut Context<'_>,
) -> Poll<Result<(), TlsError>> {
    loop {
        // 1. Send our flight: the ClientHello on the first turn, our
        //    Finished (with the key exchange, in TLS 1.2) on the last.
        let sent_all = flush(tcp, &mut s.conn, cx).map_err(TlsError::io)?;
        // 2. rustls says when it is done. If the socket did not take all of
        //    our Finished, the rest goes out first thing on the next read or
        //    write: rustls keeps the order.
        if !s.conn.is_handshaking() {
            return Poll::Ready(Ok(()));
        }
        if !s.conn.wants_read() {
            if !sent_all {
                // The socket is full and stored our writer waker.
                return Poll::Pending;
            }
            // Nothing to send and nothing wanted: the server said
            // close_notify in the middle of the handshake.
            return Poll::Ready(Err(s.closed_error()));
        }
        // 3. Read the server's flight. `Pending`: the reader waker is stored,
        //    and everything queued has been sent (rustls wants to read only
        //    then), so this is the only direction left to wait on.
        let n = ready!(read_records(tcp, s, cx))?;
        if n == 0 {
            return Poll::Ready(Err(s.closed_error()));
        }
    }
}

/// rustls reads and writes through `std::io::Read` and `Write`. This
/// adapter lends it our socket for one call: a `Pending` from the socket
/// becomes `WouldBlock`, which rustls hands back to us unchanged. A
/// `TcpStream` that returns `Pending` has stored the task's waker, so the
/// `WouldBlock` we get back means "a wakeup is arranged".
struct SocketIo<'a, 'b> {
    tcp: &'a TcpStream,
    cx: &'a mut Context<'b>,
    /// Where to keep a copy of the first bytes read, while they are unjudged.
    first_bytes: Option<&'a mut FirstBytes>,
}

impl Read for SocketIo<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.tcp.poll_read(self.cx, buf) {
            Poll::Ready(Ok(n)) => {
                if let Some(first) = self.first_bytes.as_deref_mut() {
                    first.keep(&buf[..n]);
                }
                Ok(n)
            }
            Poll::Ready(Err(e)) => Err(e),
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }
}

impl Write for SocketIo<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_vectored(&[io::IoSlice::new(buf)])
    }

    // rustls hands over every queued record at once: one `writev`.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        match self.tcp.poll_write_vectored(self.cx, bufs) {
            Poll::Ready(result) => result,
            Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends records until rustls has none left (`Ok(true)`) or the socket is
/// full (`Ok(false)`, with the writer waker stored).
fn flush(tcp: &TcpStream, conn: &mut ClientConnection, cx: &mut Context<'_>) -> io::Result<bool> {
    while conn.wants_write() {
        let mut io = SocketIo {
            tcp,
            cx,
            first_bytes: None,
        };
        match conn.write_tls(&mut io) {
            // A socket that takes no byte of a non-empty write will never
            // take one; without this the loop would spin.
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    Ok(true)
}

/// One `read_tls` from the socket, then `process_new_packets`. Ready with
/// the number of bytes read (0 at EOF), or `Pending` with the reader waker
/// stored. During the handshake the first bytes are judged before rustls
/// sees them, so a plain-HTTP answer is reported as `not-tls`, not as a
/// malformed record.
fn read_records(
    tcp: &TcpStream,
    s: &mut Session,
    cx: &mut Context<'_>,
) -> Poll<Result<usize, TlsError>> {
    let judging = s.first_bytes.judging;
    let mut io = SocketIo {
        tcp,
        cx,
        first_bytes: judging.then_some(&mut s.first_bytes),
    };
    let n = match s.conn.read_tls(&mut io) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Poll::Pending,
        // rustls's own complaints about its buffers come back as these
        // kinds; the socket's errors have kinds of their own.
        Err(e) if matches!(e.kind(), io::ErrorKind::InvalidData | io::ErrorKind::Other) => {
            return Poll::Ready(Err(TlsError::Handshake {
                source: std::sync::Arc::new(e),
            }))
        }
        Err(e) => return Poll::Ready(Err(TlsError::io(e))),
    };
    s.received = s.received.saturating_add(n);
    if judging {
        match s.first_bytes.judge() {
            Judged::NotTls => {
                return Poll::Ready(Err(TlsError::NotTls {
                    first_bytes: std::mem::take(&mut s.first_bytes.bytes),
                }))
            }
            Judged::Tls => s.first_bytes.done(),
            Judged::TooShort => {}
        }
    }
    // At EOF too: rustls notes it, and the reader then reports it.
    s.process()?;
    Poll::Ready(Ok(n))
}

/// The first bytes a server sent, kept until they show whether it speaks
/// TLS. Judging takes three bytes, so this is empty again after the first
/// read from nearly every server.
struct FirstBytes {
    bytes: Vec<u8>,
    judging: bool,
}

impl Default for FirstBytes {
    fn default() -> Self {
        FirstBytes {
            bytes: Vec::new(),
            judging: true,
        }
    }
}

enum Judged {
    Tls,
    NotTls,
    TooShort,
}

impl FirstBytes {
    fn keep(&mut self, read: &[u8]) {
        let room = NOT_TLS_SHOWN.saturating_sub(self.bytes.len());
        self.bytes.extend_from_slice(&read[..read.len().min(room)]);
    }

    /// A TLS server's first bytes are a record header: a content type
    /// (change_cipher_spec 20, alert 21, handshake 22, application_data
    /// 23), then a version whose major byte is 3 (SSL 3.0 to TLS 1.3 all
    /// write 3.x there). `HTTP/1.1 400` fails at its first byte, `H`.
    fn judge(&self) -> Judged {
        match self.bytes.as_slice() {
            [] => Judged::TooShort,
            [kind, ..] if !(20..=23).contains(kind) => Judged::NotTls,
            [_] => Judged::TooShort,
            [_, 3] => Judged::TooShort,
            [_, 3, minor, ..] if *minor <= 4 => Judged::Tls,
            _ => Judged::NotTls,
        }
    }

    fn done(&mut self) {
        self.judging = false;
        self.bytes = Vec::new();
    }
}
