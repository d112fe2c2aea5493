//! One target, start to finish: [`Fetch`], the hand-written future the
//! driver spawns per target.
//!
//! ```text
//!  Resolve ──► Connect ──► [Handshake] ──► Send ──► Read ──► outcome
//!  (the name's   (its         (https       (the      (until the final head:
//!   addresses)    addresses)   only: TLS)   request)  interim 1xx heads kept)
//!     ▲                                                 │
//!     └──────────── a redirect, with -L ◄───────────────┘
//! ```
//!
//! The seed did these steps with `open_connection`, `write`/`drain` and a
//! `readline` loop, each an `await`. Here they are the states of one enum,
//! [`Phase`], and each has one method ([`Job::resolve`], [`Job::connect`],
//! then, over the connection, [`Job::handshake`], [`Job::send`],
//! [`Job::read`]) that works on the phase's state where it lies and says
//! what comes next: the next phase, a wait in the same phase, or the
//! result. The state moves only when the phase changes, never for a wait:
//! a `Fetch` is a [`Phase`] beside a [`Job`], everything else the fetch
//! knows, so a method can change both at once. A
//! redirect followed (`-L`) is one more hop of the same fetch: the state
//! machine starts again at `Resolve` with the new target, under the same
//! `max_time`. A hand-written state machine, not an
//! `async fn`, for two reasons a header fetcher cares about:
//!
//! - **Memory.** An `async fn` with nested `timeout`s keeps every
//!   sub-future's state side by side (about 2 KB here); the enum keeps only
//!   the current phase's (a few hundred bytes), and the fetch holds no read
//!   buffer while it waits: reads go to one scratch buffer shared by the
//!   loop, and only head bytes are kept, in the parser.
//! - **One timer per fetch.** The timer is always set to the nearest limit:
//!   `connect_timeout` (for resolve + connect + TLS handshake, per hop),
//!   `read_timeout` (renewed by
//!   every byte), or `max_time` (the whole fetch). Renewing it after a read
//!   only moves a deadline later, which costs no timer operation.

use std::cell::{OnceCell, RefCell};
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::outcome::{Expired, FetchError, Heads, Outcome, Redirect, RedirectError, Timings};
use super::resolve::{Resolved, Resolving, Rest};
use super::stop::Interrupts;
use super::target::{
    internal_range, parse_target_as, redirect_refused, Scheme, Target, TargetError,
};
use super::{Config, Dns, Sink};
use crate::http::redirect::{self, LocationError};
use crate::http::{
    without_line_ending, Feed, HeadParser, RequestError, RequestTemplate, ResponseHead,
};
use crate::net::dns::StubResolver;
use crate::net::{ConnectError, Connecting, Resolver, TcpStream};
use crate::runtime::{sleep_until, Key, Sleep};
use crate::tls::{TlsConnector, TlsError, TlsInfo, TlsOptions, TlsStream};

/// Bytes one read may take from a socket, into the shared scratch buffer.
pub(crate) const SCRATCH_SIZE: usize = 16 * 1024;

/// What every fetch of one run shares.
#[derive(Debug)]
pub(crate) struct RunContext {
    pub(crate) config: Config,
    /// The `getaddrinfo` pool: for `--system-dns`, and for the names our
    /// resolver leaves to it (its threads start with its first lookup).
    pub(crate) resolver: Resolver,
    /// Our resolver, unless `--system-dns`.
    pub(crate) stub: Option<StubResolver>,
    /// The one buffer every read goes to; only head bytes are kept.
    pub(crate) scratch: RefCell<Vec<u8>>,
    /// What every request of the run has in common, laid out once.
    request: RequestTemplate,
    /// The one buffer every request is written into as it is sent.
    request_bytes: RefCell<String>,
    /// The fetches in flight, for a stopped run to interrupt.
    pub(crate) interrupts: Interrupts,
    /// The TLS client, made when the first `https` target needs it.
    pub(crate) tls: OnceCell<Result<TlsConnector, String>>,
}

impl RunContext {
    pub(crate) fn new(config: Config) -> RunContext {
        RunContext {
            resolver: Resolver::new(config.dns_workers),
            stub: match &config.dns {
                Dns::Stub(stub) => {
                    // A fetch waits for a name no longer than
                    // `connect_timeout`, so no lookup needs to go on longer:
                    // one that did would keep a turn of `max_in_flight`
                    // from the names after it.
                    let mut stub = (**stub).clone();
                    let limit = stub.max_lookup_time.unwrap_or(config.connect_timeout);
                    stub.max_lookup_time = Some(limit.min(config.connect_timeout));
                    Some(StubResolver::new(stub))
                }
                Dns::System => None,
            },
            request: config.request_template(),
            request_bytes: RefCell::default(),
            config,
            scratch: RefCell::new(vec![0; SCRATCH_SIZE]),
            interrupts: Interrupts::default(),
            tls: OnceCell::new(),
        }
    }

    /// The run's TLS client: the configured one, or the default.
    fn tls(&self) -> Result<&TlsConnector, FetchError> {
        let made = self.tls.get_or_init(|| match &self.config.tls {
            Some(connector) => Ok(connector.clone()),
            None => TlsConnector::new(&TlsOptions::default()).map_err(|e| e.to_string()),
        });
        // The default options build on any machine; this is for the case
        // where rustls refuses them all the same.
        made.as_ref()
            .map_err(|e| FetchError::Tls(TlsError::setup(e)))
    }
}

/// Where a fetch is, with what that phase needs. A phase is worked on
/// where it lies, in the fetch: a wait leaves it as it is, and only a
/// change of phase writes a new one.
enum Phase {
    /// Waiting for the name's addresses.
    Resolve(Resolving),
    /// Connecting to the addresses, racing them.
    Connect(Connect),
    /// Connected: the TLS handshake (`https`), the request and the
    /// response, each a stage over the one connection.
    Connected(Connected),
    /// After the outcome.
    Done,
}

/// The connection attempts, and the addresses still to come.
struct Connect {
    /// The attempts; `None` once they have all failed while `rest` is
    /// still awaited.
    connecting: Option<Connecting>,
    /// The other address family's answer, still on its way.
    rest: Option<Rest>,
    /// Why the attempts so far failed, while `rest` is awaited.
    failed: Option<ConnectError>,
}

/// A connection to the server at `addr`, how far the exchange over it has
/// come, and the response so far.
struct Connected {
    conn: Conn,
    addr: SocketAddr,
    stage: Stage,
    response: Reading,
}

/// The stages of a connection, in order. Everything else stays where it is
/// from one stage to the next: a stage is only a mark.
enum Stage {
    /// The TLS handshake (`https` only).
    Handshake,
    /// Writing the request: this many bytes are out. The request itself is
    /// not kept: it is written into the run's one request buffer each time
    /// this stage runs (see [`Job::send`]).
    Send { written: usize },
    /// Reading and parsing until the final (non-1xx) head.
    Read,
}

/// The response so far (nothing until the request is out).
struct Reading {
    parser: HeadParser,
    /// Complete interim `1xx` heads. The parser's limits bound them all
    /// ([`Limits::max_interim`] and the rest), so a server that never
    /// stops sending `100 Continue` cannot grow this.
    ///
    /// [`Limits::max_interim`]: crate::http::Limits::max_interim
    interim: Vec<ResponseHead>,
    /// With a sink that wants each line as it arrives (`--live`).
    live: Option<LiveLines>,
}

/// What a phase method came to.
enum Step {
    /// Go on at once with this phase.
    Next(Phase),
    /// Stay in this phase: a waker is registered for what it waits on.
    Wait,
    /// The fetch is over.
    Done(Result<Heads, FetchError>),
}

/// The connection a request goes over: plain TCP, or TLS over TCP.
enum Conn {
    Tcp(TcpStream),
    Tls(TlsStream),
}

impl Conn {
    /// Drives the TLS handshake to its end (a plain TCP connection has
    /// none to do).
    fn poll_handshake(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), TlsError>> {
        match self {
            Conn::Tcp(_) => Poll::Ready(Ok(())),
            Conn::Tls(tls) => tls.poll_handshake(cx),
        }
    }

    /// Writes some of `buf`: a socket error is the request's failure.
    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Result<usize, FetchError>> {
        match self {
            Conn::Tcp(tcp) => tcp.poll_write(cx, buf).map_err(FetchError::Send),
            Conn::Tls(tls) => tls
                .poll_write(cx, buf)
                .map_err(|e| tls_failure(e, FetchError::Send)),
        }
    }

    /// Sends what TLS still holds of the request (nothing to do for TCP,
    /// whose writes go straight to the socket).
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), FetchError>> {
        match self {
            Conn::Tcp(_) => Poll::Ready(Ok(())),
            Conn::Tls(tls) => tls
                .poll_flush(cx)
                .map_err(|e| tls_failure(e, FetchError::Send)),
        }
    }

    /// Reads response bytes into `buf`; `Ok(0)` at the end. Under TLS, an
    /// end without `close_notify` is an end like any other: whether it
    /// came too early is the head parser's call.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<Result<usize, FetchError>> {
        match self {
            Conn::Tcp(tcp) => tcp.poll_read(cx, buf).map_err(FetchError::Read),
            Conn::Tls(tls) => tls
                .poll_read(cx, buf)
                .map_err(|e| tls_failure(e, FetchError::Read)),
        }
    }
}

/// A TLS failure after the handshake: a socket error is reported as the
/// phase's I/O error (`Send` or `Read`), with the OS's code kept so it is
/// classified as the same error on plain TCP would be; anything else is a
/// TLS error.
fn tls_failure(error: TlsError, phase: fn(io::Error) -> FetchError) -> FetchError {
    match error.io_error() {
        Some(e) => phase(match e.raw_os_error() {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(e.kind(), e.to_string()),
        }),
        None => FetchError::Tls(error),
    }
}

/// The future of one fetch; its output is the target's [`Outcome`].
pub(crate) struct Fetch<'a, S> {
    /// Where the fetch is.
    phase: Phase,
    /// Everything else it knows. The phase methods are this part's, so
    /// they can change it while they work on the phase they are given.
    job: Job<'a, S>,
}

/// What a fetch knows besides its phase.
struct Job<'a, S> {
    run: &'a RunContext,
    sink: &'a S,
    input: String,
    /// What is being fetched: the target, or where a redirect pointed.
    target: Target,
    timings: Timings,
    /// When the current phase began (for its timing).
    phase_start: Instant,
    /// The address connected to, or being (last) tried.
    addr: Option<SocketAddr>,
    /// The redirects followed so far.
    redirects: Vec<Redirect>,
    /// Whether the first hop's server was at a loopback, private or
    /// link-local address: then redirects may lead to such addresses too.
    internal_origin: bool,
    /// This hop's TLS facts, when the sink wants them.
    tls: Option<Box<TlsInfo>>,
    /// Fires at the nearest limit for the current phase.
    timer: Sleep,
    /// When the current phase must be over (before `max_time` applies).
    phase_deadline: Instant,
    /// Its waker's place in the run's [`Interrupts`], from the first poll
    /// to the outcome.
    in_flight: Option<Key>,
}

/// A target line, taken up: the future of its outcome. That is the fetch,
/// or, for a line that is not a target, the outcome already.
///
/// It is one future, awaited where it is made, so the task that runs it
/// holds one fetch's state: a `match` with an `.await` inside an arm would
/// keep the matched value alive beside the fetch being awaited.
// The lint would box the fetch: one more allocation per target, where the
// enum already lives in its task's boxed future, and `Rejected` only for a
// moment.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Start<'a, S> {
    /// The fetch.
    Fetch(Fetch<'a, S>),
    /// The line's outcome: a `bad-target` error; taken by the first poll.
    Rejected(Option<Outcome>),
}

impl<S: Sink> Future for Start<'_, S> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match self.get_mut() {
            Start::Fetch(fetch) => Pin::new(fetch).poll(cx),
            Start::Rejected(outcome) => match outcome.take() {
                Some(outcome) => Poll::Ready(outcome),
                None => panic!("a rejected target was polled after its outcome"),
            },
        }
    }
}

impl<'a, S: Sink> Fetch<'a, S> {
    /// Starts the fetch of one target line, `scheme` for a line written
    /// without one, or, for a line that is not a target, gives its outcome
    /// at once.
    pub(crate) fn start(
        run: &'a RunContext,
        input: String,
        scheme: Scheme,
        sink: &'a S,
    ) -> Start<'a, S> {
        let start = Instant::now();
        let mut target = match checked_target(&input, scheme, &run.config) {
            Ok(target) => target,
            Err(e) => {
                let mut timings = Timings::new(start);
                timings.total = start.elapsed();
                return Start::Rejected(Some(Outcome {
                    input,
                    target: None,
                    redirects: Vec::new(),
                    addr: None,
                    result: Err(e.into()),
                    tls: None,
                    timings,
                }));
            }
        };
        // `--path` replaces the path of the first request only, and it is
        // the URL that request names: the one a relative `Location` is
        // resolved against, and the first URL a redirect loop can revisit.
        if let Some(path) = &run.config.path {
            target.path = path.clone().into();
        }
        let timings = Timings::new(start);
        let phase_deadline = start + run.config.connect_timeout;
        let resolving = Resolving::start(run, &target);
        Start::Fetch(Fetch {
            phase: Phase::Resolve(resolving),
            job: Job {
                run,
                sink,
                input,
                target,
                timings,
                phase_start: start,
                addr: None,
                redirects: Vec::new(),
                internal_origin: false,
                tls: None,
                timer: sleep_until(deadline(phase_deadline, &timings, &run.config)),
                phase_deadline,
                in_flight: None,
            },
        })
    }

    /// Runs the phases as far as they go without waiting. `Ready` carries
    /// the result; `Pending` means a waker is registered.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<Heads, FetchError>> {
        let Fetch { phase, job } = self;
        loop {
            let step = match phase {
                Phase::Resolve(resolving) => job.resolve(resolving, cx),
                Phase::Connect(connect) => job.connect(connect, cx),
                Phase::Connected(connected) => job.exchange(connected, cx),
                Phase::Done => panic!("a fetch was polled after its outcome"),
            };
            match step {
                Step::Next(next) => *phase = next,
                Step::Wait => return Poll::Pending,
                Step::Done(result) => return Poll::Ready(result),
            }
        }
    }
}

impl<'a, S: Sink> Job<'a, S> {
    /// Resolve: wait for the name's addresses (an IP literal has its own at
    /// once), then start connecting to the first.
    fn resolve(&mut self, resolving: &mut Resolving, cx: &mut Context<'_>) -> Step {
        let family = self.config().family;
        let (addrs, rest) = match resolving.poll(self.run, &self.target.host, family, cx) {
            Poll::Pending => return Step::Wait,
            Poll::Ready(Resolved::Failed(e)) => return Step::Done(Err(e)),
            Poll::Ready(Resolved::Addrs { addrs, rest }) => (addrs, rest),
        };
        self.timings.dns = Some(self.end_phase());
        log::debug!("{}: resolved to {addrs:?}", self.input);
        if let Err(e) = self.check_redirect_addresses(&addrs) {
            return Step::Done(Err(e));
        }
        let (host, port) = (&self.target.host, self.target.port);
        match Connecting::start(host, addrs, port, family) {
            Ok(connecting) => {
                self.addr = connecting.addr();
                Step::Next(Phase::Connect(Connect {
                    connecting: Some(connecting),
                    rest,
                    failed: None,
                }))
            }
            Err(e) => Step::Done(Err(self.not_connected(e))),
        }
    }

    /// Connect: wait until one of the addresses accepts, then start the TLS
    /// handshake (`https`) or the request. The other family's addresses
    /// join the attempts when their answer comes; if every attempt fails
    /// before it does, the fetch waits for it.
    fn connect(&mut self, connect: &mut Connect, cx: &mut Context<'_>) -> Step {
        if let Some(rest) = &mut connect.rest {
            match rest.poll(cx) {
                Poll::Pending => {}
                Poll::Ready(None) => connect.rest = None,
                Poll::Ready(Some(more)) => {
                    connect.rest = None;
                    log::debug!("{}: more addresses: {more:?}", self.input);
                    if let Err(e) = self.check_redirect_addresses(&more) {
                        return Step::Done(Err(e));
                    }
                    match &mut connect.connecting {
                        Some(connecting) => connecting.extend(&more),
                        None => {
                            let (host, port) = (&self.target.host, self.target.port);
                            match Connecting::start(host, more.into(), port, self.config().family) {
                                Ok(connecting) => connect.connecting = Some(connecting),
                                Err(e) => return Step::Done(Err(self.not_connected(e))),
                            }
                        }
                    }
                }
            }
        }
        let Some(connecting) = &mut connect.connecting else {
            // Every attempt failed; only the late family can still help.
            return match (connect.rest.is_some(), connect.failed.take()) {
                (true, failed) => {
                    connect.failed = failed;
                    Step::Wait
                }
                (false, Some(e)) => Step::Done(Err(self.not_connected(e))),
                (false, None) => Step::Done(Err(FetchError::Connect(ConnectError::NoAddress {
                    host: self.target.host.clone(),
                    family: self.config().family,
                }))),
            };
        };
        let (stream, addr) = match Pin::new(&mut *connecting).poll(cx) {
            Poll::Pending => {
                self.addr = connecting.addr();
                return Step::Wait;
            }
            Poll::Ready(Err(e)) if connect.rest.is_some() => {
                log::debug!(
                    "{}: {e}; waiting for the other family's addresses",
                    self.input
                );
                connect.connecting = None;
                connect.failed = Some(e);
                return Step::Wait;
            }
            Poll::Ready(Err(e)) => return Step::Done(Err(self.not_connected(e))),
            Poll::Ready(Ok(connected)) => connected,
        };
        self.addr = Some(addr);
        self.timings.connect = Some(self.end_phase());
        if self.redirects.is_empty() {
            self.internal_origin = internal_range(addr.ip()).is_some();
        }
        log::debug!("{}: connected to {addr}", self.input);
        let (conn, stage) = match self.target.scheme {
            Scheme::Http => (Conn::Tcp(stream), self.start_request()),
            Scheme::Https => {
                // The handshake stays under the connect limit.
                let started = self.run.tls().and_then(|tls| {
                    tls.connect(&self.target.host, stream)
                        .map_err(FetchError::Tls)
                });
                match started {
                    Ok(tls) => (Conn::Tls(tls), Stage::Handshake),
                    Err(e) => return Step::Done(Err(e)),
                }
            }
        };
        let response = Reading {
            parser: HeadParser::with_limits(self.config().limits),
            interim: Vec::new(),
            live: self.sink.wants_lines().then(LiveLines::default),
        };
        Step::Next(Phase::Connected(Connected {
            conn,
            addr,
            stage,
            response,
        }))
    }

    /// Connected: the stages over the one connection, each as far as it
    /// goes: the handshake, the request, the response.
    fn exchange(&mut self, connected: &mut Connected, cx: &mut Context<'_>) -> Step {
        let Connected {
            conn,
            stage,
            response,
            ..
        } = connected;
        loop {
            let next = match stage {
                Stage::Handshake => self.handshake(conn, cx),
                Stage::Send { written } => self.send(conn, written, cx),
                Stage::Read => return self.read(conn, response, cx),
            };
            match next {
                ControlFlow::Continue(next) => *stage = next,
                ControlFlow::Break(step) => return step,
            }
        }
    }

    /// Handshake: drive TLS until the session is up, keeping its facts if
    /// the sink wants them (also when it failed), then start the request.
    fn handshake(&mut self, conn: &mut Conn, cx: &mut Context<'_>) -> ControlFlow<Step, Stage> {
        let result = match conn.poll_handshake(cx) {
            Poll::Pending => return ControlFlow::Break(Step::Wait),
            Poll::Ready(result) => result,
        };
        self.timings.tls = Some(self.end_phase());
        self.tls = tls_facts(self.sink, conn);
        match result {
            Ok(()) => {
                log::debug!("{}: tls session up", self.input);
                ControlFlow::Continue(self.start_request())
            }
            Err(e) => ControlFlow::Break(Step::Done(Err(FetchError::Tls(e)))),
        }
    }

    /// Switches the timer to the read limit: the request goes out next.
    fn start_request(&mut self) -> Stage {
        self.renew_read_deadline(self.phase_start);
        Stage::Send { written: 0 }
    }

    /// Writes this fetch's request into `out`: the run's template, with
    /// the target's path (which `start` set from `--path` on the first
    /// hop) and its `Host`.
    fn write_request(&self, out: &mut String) -> Result<(), RequestError> {
        out.clear();
        self.run.request.write(out, &self.target.path, |out| {
            self.target.write_host_header(out)
        })
    }

    /// Send: write the request until every byte is out (under TLS: until
    /// every record is on the socket); `written` says how far it is.
    ///
    /// The request depends only on the target and the run's settings, so
    /// it is written afresh into the run's request buffer each time this
    /// stage runs, rather than kept by every fetch; only a full send
    /// buffer makes it run more than once. `Config::check_request` has
    /// vetted the options already; what can still fail here comes from
    /// the target itself.
    fn send(
        &mut self,
        conn: &mut Conn,
        written: &mut usize,
        cx: &mut Context<'_>,
    ) -> ControlFlow<Step, Stage> {
        let done = |result| ControlFlow::Break(Step::Done(Err(result)));
        let mut request = self.run.request_bytes.borrow_mut();
        if let Err(e) = self.write_request(&mut request) {
            return done(e.into());
        }
        while *written < request.len() {
            let rest = &request.as_bytes()[*written..];
            match conn.poll_write(cx, rest) {
                Poll::Pending => return ControlFlow::Break(Step::Wait),
                Poll::Ready(Ok(0)) => {
                    return done(FetchError::Send(io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(e)) => return done(e),
            }
        }
        drop(request);
        match conn.poll_flush(cx) {
            Poll::Pending => return ControlFlow::Break(Step::Wait),
            Poll::Ready(Err(e)) => return done(e),
            Poll::Ready(Ok(())) => {}
        }
        log::debug!("{}: request sent ({written} bytes)", self.input);
        self.timings.sent = Some(self.timings.start.elapsed());
        ControlFlow::Continue(Stage::Read)
    }

    /// Read: reads into the shared scratch buffer, each fed to the parser,
    /// until the head is complete, or broken, or the socket has nothing
    /// more (`Wait`). Every read that brings bytes starts the read limit
    /// again.
    fn read(&mut self, conn: &mut Conn, reading: &mut Reading, cx: &mut Context<'_>) -> Step {
        let mut scratch = self.run.scratch.borrow_mut();
        loop {
            let n = match conn.poll_read(cx, &mut scratch[..]) {
                Poll::Pending => return Step::Wait,
                Poll::Ready(Err(e)) => return Step::Done(Err(e)),
                Poll::Ready(Ok(n)) => n,
            };
            let now = Instant::now();
            if let (None, Some(sent)) = (self.timings.first_byte, self.timings.sent) {
                let since_start = now.saturating_duration_since(self.timings.start);
                self.timings.first_byte = Some(since_start.saturating_sub(sent));
            }
            match reading.feed(&scratch[..n], &self.input, self.sink) {
                ReadProgress::More => self.renew_read_deadline(now),
                ReadProgress::Done(last) => {
                    drop(scratch);
                    log::debug!("{}: head complete", self.input);
                    let interim = std::mem::take(&mut reading.interim);
                    return self.follow(Heads::new(interim, last));
                }
                ReadProgress::Failed(e) => return Step::Done(Err(e)),
            }
        }
    }

    /// After a final head: the result, or, for a redirect under `-L`, the
    /// next hop: resolve its `Location`, check it, and start again at
    /// `Resolve` (the connection of this hop is closed by then).
    fn follow(&mut self, heads: Heads) -> Step {
        let config = self.config();
        let status = heads.last_head().status;
        if !config.follow_redirects || !redirect::is_redirect(status) {
            return Step::Done(Ok(heads));
        }
        let url = self.target.url();
        let location = heads
            .last_head()
            .header("location")
            .ok_or(LocationError::Missing)
            .and_then(|location| redirect::resolve(&url, location));
        let location = match location {
            Ok(location) => location,
            Err(error) => return self.redirect_failed(RedirectError::Location { status, error }),
        };
        let seen = |hop: &Redirect| hop.url == location;
        if location == url || self.redirects.iter().any(seen) {
            return self.redirect_failed(RedirectError::Loop { location });
        }
        if self.redirects.len() >= config.max_redirects as usize {
            let limit = config.max_redirects;
            return self.redirect_failed(RedirectError::TooMany { limit, location });
        }
        let next = match checked_target(&location, Scheme::Http, config) {
            Ok(next) => next,
            Err(e) => return self.redirect_failed(RedirectError::Target(e)),
        };
        log::debug!("{}: {status} redirect to {location}", self.input);
        self.sink.redirected(&self.input, &location);
        self.redirects.push(Redirect {
            url,
            addr: self.addr.take(),
            heads,
            location,
            tls: self.tls.take(),
        });
        self.target = next;
        let now = Instant::now();
        self.timings = Timings {
            redirected: Some(now - self.timings.start),
            ..Timings::new(self.timings.start)
        };
        self.phase_start = now;
        self.phase_deadline = now + config.connect_timeout;
        let at = deadline(self.phase_deadline, &self.timings, config);
        self.timer.reset(at);
        Step::Next(Phase::Resolve(Resolving::start(self.run, &self.target)))
    }

    /// A redirect not followed: the fetch fails, keeping what this hop
    /// learned (its heads are lost with the error; its TLS facts are kept).
    fn redirect_failed(&mut self, e: RedirectError) -> Step {
        Step::Done(Err(FetchError::Redirect(e)))
    }

    /// A redirect from a public target may not lead to a loopback, private
    /// or link-local address (the cloud-metadata trap). Every address the
    /// name has is checked, not only the one a connection would pick, so a
    /// name that mixes public and internal addresses is refused too.
    fn check_redirect_addresses(&self, addrs: &[IpAddr]) -> Result<(), FetchError> {
        if self.redirects.is_empty() {
            return Ok(());
        }
        match redirect_refused(self.internal_origin, addrs) {
            None => Ok(()),
            Some((addr, range)) => Err(FetchError::Redirect(RedirectError::Internal {
                location: self.target.url(),
                addr,
                range,
            })),
        }
    }

    fn config(&self) -> &'a Config {
        &self.run.config
    }

    /// Ends the current phase: how long it took. The same clock reading
    /// starts the next phase (one reading, not two, per phase change).
    fn end_phase(&mut self) -> std::time::Duration {
        let now = Instant::now();
        let took = now.saturating_duration_since(self.phase_start);
        self.phase_start = now;
        took
    }

    /// Starts the read limit again, from `now`: after connecting (it
    /// replaces the connect limit) and after every read.
    fn renew_read_deadline(&mut self, now: Instant) {
        self.phase_deadline = now + self.config().read_timeout;
        let at = deadline(self.phase_deadline, &self.timings, self.config());
        self.timer.reset(at);
    }

    /// A failure to connect, remembering the address that failed last.
    fn not_connected(&mut self, e: ConnectError) -> FetchError {
        if let ConnectError::Connect { addr, .. } = &e {
            self.addr = Some(*addr);
        }
        e.into()
    }

    /// The error of a limit that just ran out. A lookup by our resolver
    /// that `--connect-timeout` cut short is the resolver's own timeout,
    /// which names the servers that stayed silent.
    fn timed_out(&self, phase: &Phase) -> FetchError {
        let expired = self.expired(phase);
        match (&expired, phase, &self.run.stub) {
            (Expired::Resolve(limit), Phase::Resolve(Resolving::Stub(_)), Some(stub)) => {
                FetchError::Lookup(stub.timed_out(&self.target.host, *limit))
            }
            _ => expired.into(),
        }
    }

    /// Which limit just ran out, in `phase`.
    fn expired(&self, phase: &Phase) -> Expired {
        let config = self.config();
        if self.phase_deadline >= self.timings.start + config.max_time {
            return Expired::Total(config.max_time);
        }
        match phase {
            Phase::Resolve(_) => Expired::Resolve(config.connect_timeout),
            Phase::Connect(connect) => Expired::Connect {
                addr: connect
                    .connecting
                    .as_ref()
                    .and_then(Connecting::addr)
                    .or(self.addr),
                limit: config.connect_timeout,
            },
            Phase::Connected(connected) => match connected.stage {
                Stage::Handshake => Expired::Handshake {
                    addr: connected.addr,
                    limit: config.connect_timeout,
                },
                Stage::Send { .. } => Expired::Send(config.read_timeout),
                Stage::Read => Expired::Read(config.read_timeout),
            },
            Phase::Done => Expired::Read(config.read_timeout),
        }
    }
}

/// `input` as a target (`scheme` if it names none) this run can fetch.
fn checked_target(input: &str, scheme: Scheme, config: &Config) -> Result<Target, TargetError> {
    let target = parse_target_as(input, scheme)?;
    match target.ip() {
        // An address literal of the other family could never connect:
        // that is the target's fault, not the name system's.
        Some(ip) if !config.family.allows(&ip) => Err(TargetError(format!(
            "'{input}': an IPv{} address, but only {} addresses are allowed",
            if ip.is_ipv6() { 6 } else { 4 },
            config.family,
        ))),
        _ => Ok(target),
    }
}

/// What a session learned, if it is one and the sink shows it (the facts
/// are parsed from the certificates, so only then).
fn tls_facts(sink: &impl Sink, conn: &Conn) -> Option<Box<TlsInfo>> {
    match conn {
        Conn::Tls(tls) if sink.wants_tls_info() => Some(Box::new(tls.info())),
        _ => None,
    }
}

/// The nearer of a phase's limit and the fetch's `max_time`.
fn deadline(phase_deadline: Instant, timings: &Timings, config: &Config) -> Instant {
    phase_deadline.min(timings.start + config.max_time)
}

impl<S: Sink> Future for Fetch<'_, S> {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        let this = self.get_mut();
        let interrupts = &this.job.run.interrupts;
        // A stopped run ends its fetches where they are (see `stop.rs`).
        let result = if let Some(reason) = interrupts.reason() {
            Err(FetchError::Interrupted(reason))
        } else {
            if this.job.in_flight.is_none() {
                this.job.in_flight = Some(interrupts.enter(cx.waker()));
            }
            match this.advance(cx) {
                Poll::Ready(result) => result,
                // Waiting on I/O or DNS: make sure the timer will wake us too.
                Poll::Pending => match Pin::new(&mut this.job.timer).poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(()) => Err(this.job.timed_out(&this.phase)),
                },
            }
        };
        let job = &mut this.job;
        if let Some(key) = job.in_flight.take() {
            interrupts.leave(key);
        }
        // A handshake cut short by a limit or a stop still began a session:
        // what it learned (SNI, how far it got) is part of the outcome.
        if let Phase::Connected(Connected {
            conn,
            stage: Stage::Handshake,
            ..
        }) = &this.phase
        {
            job.tls = tls_facts(job.sink, conn);
        }
        // Dropping the phase closes the socket now, not when the task ends.
        this.phase = Phase::Done;
        job.timings.total = job.timings.start.elapsed();
        match &result {
            Ok(_) => log::debug!("{}: done in {:?}", job.input, job.timings.total),
            Err(e) => log::debug!("{}: {}: {e}", job.input, e.kind()),
        }
        Poll::Ready(Outcome {
            input: std::mem::take(&mut job.input),
            // The fetch is over: nothing reads its target again.
            target: Some(std::mem::replace(&mut job.target, Target::none())),
            redirects: std::mem::take(&mut job.redirects),
            addr: job.addr,
            result,
            tls: job.tls.take(),
            timings: job.timings,
        })
    }
}

impl<S> Drop for Job<'_, S> {
    fn drop(&mut self) {
        // Dropped unfinished (its task aborted, the loop shut down).
        if let Some(key) = self.in_flight.take() {
            self.run.interrupts.leave(key);
        }
    }
}

/// What feeding one read to the parser came to.
enum ReadProgress {
    /// The head is not complete yet.
    More,
    /// The final head is complete: here it is.
    Done(ResponseHead),
    /// The response is broken, or ended early.
    Failed(FetchError),
}

impl Reading {
    /// Feeds one read (`chunk`; empty at EOF) to the parser. A chunk can
    /// hold the end of an interim `1xx` head and the start of the next.
    fn feed(&mut self, mut chunk: &[u8], input: &str, sink: &impl Sink) -> ReadProgress {
        if chunk.is_empty() {
            return ReadProgress::Failed(self.parser.eof().into());
        }
        loop {
            match self.parser.feed(chunk) {
                Err(e) => return ReadProgress::Failed(e.into()),
                Ok(Feed::Partial) => {
                    self.show_lines(chunk, input, sink);
                    return ReadProgress::More;
                }
                Ok(Feed::Complete { head, consumed }) => {
                    self.show_lines(&chunk[..consumed], input, sink);
                    if !head.is_informational() {
                        return ReadProgress::Done(head);
                    }
                    self.interim.push(head);
                    chunk = &chunk[consumed..];
                    if chunk.is_empty() {
                        return ReadProgress::More;
                    }
                }
            }
        }
    }

    /// Hands the head lines completed by `bytes` to a sink that wants them.
    fn show_lines(&mut self, bytes: &[u8], input: &str, sink: &impl Sink) {
        if let Some(live) = &mut self.live {
            live.push(bytes, input, sink);
        }
    }
}

/// Cuts head bytes into lines for a sink that reports each line the moment
/// it is complete (`--live`, the seed's interleaved output).
#[derive(Default)]
struct LiveLines {
    partial: Vec<u8>,
}

impl LiveLines {
    fn push(&mut self, mut bytes: &[u8], input: &str, sink: &impl Sink) {
        while let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..=i]);
            bytes = &bytes[i + 1..];
            let line = without_line_ending(&self.partial);
            if !line.is_empty() {
                sink.line(input, line);
            }
            self.partial.clear();
        }
        self.partial.extend_from_slice(bytes);
    }
}
