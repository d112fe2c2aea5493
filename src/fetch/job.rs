//! One target, start to finish: [`Fetch`], the hand-written future the
//! driver spawns per target.
//!
//! ```text
//!  Resolve ──► Connect ──► Send ──► Read ──► outcome
//!  (the name's   (its addresses (the      (until the final head:
//!   addresses)    in turn)       request)  interim 1xx heads are kept)
//! ```
//!
//! The seed did these steps with `open_connection`, `write`/`drain` and a
//! `readline` loop, each an `await`. Here they are the states of one enum,
//! [`Phase`], and each has one method ([`Fetch::resolve`],
//! [`Fetch::connect`], [`Fetch::send`], [`Fetch::read`]) that takes the
//! phase's state by value and says what comes next: the next phase, a wait
//! in the same phase, or the result. A hand-written state machine, not an
//! `async fn`, for two reasons a header fetcher cares about:
//!
//! - **Memory.** An `async fn` with nested `timeout`s keeps every
//!   sub-future's state side by side (about 2 KB here); the enum keeps only
//!   the current phase's (a few hundred bytes), and the fetch holds no read
//!   buffer while it waits: reads go to one scratch buffer shared by the
//!   loop, and only head bytes are kept, in the parser.
//! - **One timer per fetch.** The timer is always set to the nearest limit:
//!   `connect_timeout` (for resolve + connect), `read_timeout` (renewed by
//!   every byte), or `max_time` (the whole fetch). Renewing it after a read
//!   only moves a deadline later, which costs no timer operation.

use std::cell::RefCell;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use super::outcome::{Expired, FetchError, Outcome, Timings};
use super::target::{parse_target, Target};
use super::{Config, Sink};
use crate::http::{without_line_ending, Feed, HeadParser, ResponseHead};
use crate::net::{ConnectError, Connecting, PoolLookup, Resolver, TcpStream};
use crate::runtime::{sleep_until, Sleep};

/// Bytes one read may take from a socket, into the shared scratch buffer.
pub(crate) const SCRATCH_SIZE: usize = 16 * 1024;

/// What every fetch of one run shares.
#[derive(Debug)]
pub(crate) struct RunContext {
    pub(crate) config: Config,
    pub(crate) resolver: Resolver,
    /// The one buffer every read goes to; only head bytes are kept.
    pub(crate) scratch: RefCell<Vec<u8>>,
}

/// Where a fetch is, with what that phase needs.
enum Phase {
    /// Waiting for the name's addresses.
    Resolve(PoolLookup),
    /// Connecting to the addresses in turn.
    Connect(Connecting),
    /// Writing the request.
    Send(Sending),
    /// Reading and parsing until the final (non-1xx) head.
    Read(Reading),
    /// Between phases (while a phase method runs), and after the outcome.
    Done,
}

/// The request, and how much of it is out.
struct Sending {
    stream: TcpStream,
    request: Vec<u8>,
    written: usize,
}

/// The response so far.
struct Reading {
    stream: TcpStream,
    parser: HeadParser,
    /// Complete heads: interim `1xx` ones, then the final one. The parser's
    /// limits bound them all ([`Limits::max_interim`] and the rest), so a
    /// server that never stops sending `100 Continue` cannot grow this.
    ///
    /// [`Limits::max_interim`]: crate::http::Limits::max_interim
    heads: Vec<ResponseHead>,
    /// With a sink that wants each line as it arrives (`--live`).
    live: Option<LiveLines>,
}

/// What a phase method came to.
enum Step {
    /// Go on at once with this phase.
    Next(Phase),
    /// Stay in this phase: a waker is registered for what it waits on.
    Wait(Phase),
    /// The fetch is over.
    Done(Result<Vec<ResponseHead>, FetchError>),
}

/// The future of one fetch; its output is the target's [`Outcome`].
pub(crate) struct Fetch<'a, S> {
    run: &'a RunContext,
    sink: &'a S,
    input: String,
    target: Target,
    timings: Timings,
    /// The address connected to, or being (last) tried.
    addr: Option<SocketAddr>,
    phase: Phase,
    /// Fires at the nearest limit for the current phase.
    timer: Sleep,
    /// When the current phase must be over (before `max_time` applies).
    phase_deadline: Instant,
}

/// A target line, taken up: the future of its outcome. That is the fetch,
/// or, for a line that is not a target, the outcome already.
///
/// It is one future, awaited where it is made, so the task that runs it
/// holds one fetch's state: a `match` with an `.await` inside an arm would
/// keep the matched value alive beside the fetch being awaited.
#[allow(
    clippy::large_enum_variant,
    reason = "nearly every Start is a Fetch: boxing it would cost an allocation per target to save nothing"
)]
pub(crate) enum Start<'a, S> {
    /// The fetch.
    Fetch(Fetch<'a, S>),
    /// The line's outcome: a `bad-target` (or `unsupported`) error; taken
    /// by the first poll.
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
    /// Starts the fetch of one target line, or, for a line that is not a
    /// target, gives its outcome at once.
    pub(crate) fn start(run: &'a RunContext, input: String, sink: &'a S) -> Start<'a, S> {
        let start = Instant::now();
        let target = match parse_target(&input) {
            Ok(target) => target,
            Err(e) => {
                let mut timings = Timings::new(start);
                timings.total = start.elapsed();
                return Start::Rejected(Some(Outcome {
                    input,
                    url: None,
                    addr: None,
                    result: Err(e.into()),
                    timings,
                }));
            }
        };
        let timings = Timings::new(start);
        let phase_deadline = start + run.config.connect_timeout;
        Start::Fetch(Fetch {
            run,
            sink,
            input,
            target,
            timings,
            addr: None,
            phase: Phase::Resolve(PoolLookup::default()),
            timer: sleep_until(deadline(phase_deadline, &timings, &run.config)),
            phase_deadline,
        })
    }

    /// Runs the phases as far as they go without waiting. `Ready` carries
    /// the result; `Pending` means a waker is registered.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<ResponseHead>, FetchError>> {
        loop {
            let step = match std::mem::replace(&mut self.phase, Phase::Done) {
                Phase::Resolve(lookup) => self.resolve(lookup, cx),
                Phase::Connect(connecting) => self.connect(connecting, cx),
                Phase::Send(sending) => self.send(sending, cx),
                Phase::Read(reading) => self.read(reading, cx),
                Phase::Done => panic!("a fetch was polled after its outcome"),
            };
            match step {
                Step::Next(phase) => self.phase = phase,
                Step::Wait(phase) => {
                    self.phase = phase;
                    return Poll::Pending;
                }
                Step::Done(result) => return Poll::Ready(result),
            }
        }
    }

    /// Resolve: wait for the name's addresses (an IP literal has its own at
    /// once), then start connecting to the first.
    fn resolve(&mut self, mut lookup: PoolLookup, cx: &mut Context<'_>) -> Step {
        let resolved = self
            .run
            .resolver
            .poll_lookup(&mut lookup, &self.target.host, cx);
        let addrs = match resolved {
            Poll::Pending => return Step::Wait(Phase::Resolve(lookup)),
            Poll::Ready(Err(e)) => return Step::Done(Err(e.into())),
            Poll::Ready(Ok(addrs)) => addrs,
        };
        self.timings.dns = Some(self.timings.start.elapsed());
        log::debug!("{}: resolved to {addrs:?}", self.input);
        let (host, port) = (&self.target.host, self.target.port);
        match Connecting::start(host, addrs, port, self.config().family) {
            Ok(connecting) => {
                self.addr = connecting.addr();
                Step::Next(Phase::Connect(connecting))
            }
            Err(e) => Step::Done(Err(self.not_connected(e))),
        }
    }

    /// Connect: wait until one of the addresses accepts, then build the
    /// request and switch the timer to the read limit.
    fn connect(&mut self, mut connecting: Connecting, cx: &mut Context<'_>) -> Step {
        let (stream, addr) = match Pin::new(&mut connecting).poll(cx) {
            Poll::Pending => {
                self.addr = connecting.addr();
                return Step::Wait(Phase::Connect(connecting));
            }
            Poll::Ready(Err(e)) => return Step::Done(Err(self.not_connected(e))),
            Poll::Ready(Ok(connected)) => connected,
        };
        self.addr = Some(addr);
        let dns = self.timings.dns.unwrap_or_default();
        self.timings.connect = Some(self.timings.start.elapsed().saturating_sub(dns));
        log::debug!("{}: connected to {addr}", self.input);
        // `Config::check_request` has vetted the options already; what can
        // still fail here comes from the target itself.
        let request = match self.config().request(&self.target).to_bytes() {
            Ok(request) => request,
            Err(e) => return Step::Done(Err(e.into())),
        };
        self.renew_read_deadline();
        Step::Next(Phase::Send(Sending {
            stream,
            request,
            written: 0,
        }))
    }

    /// Send: write the request until every byte is out.
    fn send(&mut self, mut sending: Sending, cx: &mut Context<'_>) -> Step {
        while sending.written < sending.request.len() {
            let rest = &sending.request[sending.written..];
            match sending.stream.poll_write(cx, rest) {
                Poll::Pending => return Step::Wait(Phase::Send(sending)),
                Poll::Ready(Ok(0)) => {
                    let zero = std::io::ErrorKind::WriteZero.into();
                    return Step::Done(Err(FetchError::Send(zero)));
                }
                Poll::Ready(Ok(n)) => sending.written += n,
                Poll::Ready(Err(e)) => return Step::Done(Err(FetchError::Send(e))),
            }
        }
        log::debug!("{}: request sent ({} bytes)", self.input, sending.written);
        self.timings.sent = Some(self.timings.start.elapsed());
        Step::Next(Phase::Read(Reading {
            stream: sending.stream,
            parser: HeadParser::with_limits(self.config().limits),
            heads: Vec::new(),
            live: self.sink.wants_lines().then(LiveLines::default),
        }))
    }

    /// Read: one read into the shared scratch buffer, fed to the parser.
    /// The head is complete, or broken, or more is needed: then the read
    /// limit starts again and the next read follows at once, until the
    /// socket has nothing more (`Wait`).
    fn read(&mut self, mut reading: Reading, cx: &mut Context<'_>) -> Step {
        let mut scratch = self.run.scratch.borrow_mut();
        let n = match reading.stream.poll_read(cx, &mut scratch[..]) {
            Poll::Pending => return Step::Wait(Phase::Read(reading)),
            Poll::Ready(Err(e)) => return Step::Done(Err(FetchError::Read(e))),
            Poll::Ready(Ok(n)) => n,
        };
        if let (None, Some(sent)) = (self.timings.first_byte, self.timings.sent) {
            self.timings.first_byte = Some(self.timings.start.elapsed().saturating_sub(sent));
        }
        let progress = reading.feed(&scratch[..n], &self.input, self.sink);
        drop(scratch);
        match progress {
            ReadProgress::More => {
                self.renew_read_deadline();
                Step::Next(Phase::Read(reading))
            }
            ReadProgress::Done => {
                log::debug!("{}: head complete", self.input);
                Step::Done(Ok(reading.heads))
            }
            ReadProgress::Failed(e) => Step::Done(Err(e)),
        }
    }

    fn config(&self) -> &'a Config {
        &self.run.config
    }

    /// Starts the read limit again: after connecting (it replaces the
    /// connect limit) and after every read.
    fn renew_read_deadline(&mut self) {
        self.phase_deadline = Instant::now() + self.config().read_timeout;
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

    /// Which limit just ran out.
    fn expired(&self) -> Expired {
        let config = self.config();
        if self.phase_deadline >= self.timings.start + config.max_time {
            return Expired::Total(config.max_time);
        }
        match &self.phase {
            Phase::Resolve(_) => Expired::Resolve(config.connect_timeout),
            Phase::Connect(connecting) => Expired::Connect {
                addr: connecting.addr(),
                limit: config.connect_timeout,
            },
            Phase::Send(_) => Expired::Send(config.read_timeout),
            Phase::Read(_) | Phase::Done => Expired::Read(config.read_timeout),
        }
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
        let result = match this.advance(cx) {
            Poll::Ready(result) => result,
            // Waiting on I/O or DNS: make sure the timer will wake us too.
            Poll::Pending => match Pin::new(&mut this.timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => Err(this.expired().into()),
            },
        };
        // Dropping the phase closes the socket now, not when the task ends.
        this.phase = Phase::Done;
        this.timings.total = this.timings.start.elapsed();
        match &result {
            Ok(_) => log::debug!("{}: done in {:?}", this.input, this.timings.total),
            Err(e) => log::debug!("{}: {}: {e}", this.input, e.kind()),
        }
        Poll::Ready(Outcome {
            input: std::mem::take(&mut this.input),
            url: Some(this.target.url()),
            addr: this.addr,
            result,
            timings: this.timings,
        })
    }
}

/// What feeding one read to the parser came to.
enum ReadProgress {
    /// The head is not complete yet.
    More,
    /// The final head is complete.
    Done,
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
                    let interim = head.is_informational();
                    self.heads.push(head);
                    if !interim {
                        return ReadProgress::Done;
                    }
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
