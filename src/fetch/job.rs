//! One target, start to finish: [`Fetch`], the hand-written future the
//! driver spawns per target.
//!
//! ```text
//!  Resolve ──► Connect ──► Send ──► Read ──► Done
//!  (DNS worker) (each address   (request)  (until the final head)
//!               in turn)
//! ```
//!
//! The seed did these steps with `open_connection`, `write`/`drain` and a
//! `readline` loop, each an `await`. Here they are the states of one enum,
//! advanced by `poll`, for two reasons a header fetcher cares about:
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
use std::time::{Duration, Instant};

use super::outcome::{ErrorKind, FetchError, Outcome, Timings};
use super::target::{parse_target, Target, TargetError};
use super::{Config, Sink};
use crate::http::{Feed, HeadParser, ResponseHead};
use crate::net::{Addresses, Lookup, Resolver, TcpStream};
use crate::runtime::{sleep_until, Sleep};

/// Bytes one read may take from a socket, into the shared scratch buffer.
pub(crate) const SCRATCH_SIZE: usize = 16 * 1024;

/// What every fetch of a run shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) resolver: Resolver,
    pub(crate) scratch: RefCell<Vec<u8>>,
}

/// Where a fetch is.
enum Phase {
    /// Waiting for a DNS worker.
    Resolve { lookup: Lookup },
    /// Trying `ips[next - 1]` (the `stream`), then the rest in turn.
    Connect {
        ips: Addresses,
        next: usize,
        stream: Option<TcpStream>,
        last_error: Option<FetchError>,
    },
    /// Writing the request; `written` bytes are out.
    Send {
        stream: TcpStream,
        request: Vec<u8>,
        written: usize,
    },
    /// Reading and parsing until the final (non-1xx) head.
    Read {
        stream: TcpStream,
        parser: HeadParser,
        heads: Vec<ResponseHead>,
        live: Option<LiveLines>,
    },
    /// The outcome was produced.
    Done,
}

/// The future of one fetch; its output is the target's [`Outcome`].
pub(crate) struct Fetch<'a, S> {
    shared: &'a Shared,
    sink: &'a S,
    input: String,
    target: Result<Target, TargetError>,
    timings: Timings,
    addr: Option<SocketAddr>,
    phase: Phase,
    /// Fires at `deadline()`: the nearest limit for the current phase.
    timer: Sleep,
    /// When the current phase must be over (before `max_time` applies).
    phase_deadline: Instant,
}

/// Starts the fetch of one target line.
pub(crate) fn fetch<'a, S: Sink>(shared: &'a Shared, input: String, sink: &'a S) -> Fetch<'a, S> {
    let start = Instant::now();
    let target = parse_target(&input);
    let phase_deadline = start + shared.config.connect_timeout;
    let mut fetch = Fetch {
        shared,
        sink,
        input,
        target,
        timings: Timings::new(start),
        addr: None,
        phase: Phase::Resolve {
            lookup: Lookup::default(),
        },
        timer: sleep_until(start),
        phase_deadline,
    };
    fetch.timer = sleep_until(deadline(phase_deadline, &fetch.timings, &shared.config));
    fetch
}

/// The nearer of a phase's limit and the fetch's `max_time`.
fn deadline(phase_deadline: Instant, timings: &Timings, config: &Config) -> Instant {
    phase_deadline.min(timings.start + config.max_time)
}

impl<S: Sink> Fetch<'_, S> {
    fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Runs the phases as far as they go without waiting. `Ready` carries
    /// the result; `Pending` means a waker is registered.
    fn advance(&mut self, cx: &mut Context<'_>) -> Poll<Result<Vec<ResponseHead>, FetchError>> {
        let (shared, sink) = (self.shared, self.sink);
        let config = &shared.config;
        // After each read the read limit starts again (and after connecting,
        // it replaces the connect limit).
        let renew = |timer: &mut Sleep, phase_deadline: &mut Instant, timings: &Timings| {
            *phase_deadline = Instant::now() + config.read_timeout;
            timer.reset(deadline(*phase_deadline, timings, config));
        };
        let target = match &self.target {
            Ok(target) => target,
            Err(TargetError::Bad(message)) => {
                return Poll::Ready(Err(FetchError::new(ErrorKind::BadTarget, message.clone())))
            }
            Err(TargetError::Unsupported(message)) => {
                return Poll::Ready(Err(FetchError::new(
                    ErrorKind::Unsupported,
                    message.clone(),
                )))
            }
        };
        loop {
            match &mut self.phase {
                Phase::Resolve { lookup } => {
                    let ips = match shared.resolver.poll_lookup(lookup, &target.host, cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => {
                            return Poll::Ready(Err(FetchError::new(ErrorKind::Dns, e.to_string())))
                        }
                        Poll::Ready(Ok(ips)) => ips,
                    };
                    self.timings.dns = Some(self.timings.start.elapsed());
                    log::debug!("{}: resolved to {ips:?}", self.input);
                    self.phase = Phase::Connect {
                        ips,
                        next: 0,
                        stream: None,
                        last_error: None,
                    };
                }
                Phase::Connect {
                    ips,
                    next,
                    stream,
                    last_error,
                } => {
                    let Some(connecting) = stream else {
                        // Start on the next address of the wanted family.
                        let family = config.family;
                        let found = ips[*next..]
                            .iter()
                            .enumerate()
                            .find(|(_, ip)| family.allows(ip));
                        let Some((offset, &ip)) = found else {
                            let error = last_error.take().unwrap_or_else(|| {
                                FetchError::new(
                                    ErrorKind::Dns,
                                    format!("'{}' has no {family:?} address", target.host),
                                )
                            });
                            return Poll::Ready(Err(error));
                        };
                        *next += offset + 1;
                        let addr = SocketAddr::new(ip, target.port);
                        self.addr = Some(addr);
                        match TcpStream::start_connect(addr) {
                            Ok(started) => *stream = Some(started),
                            Err(e) => *last_error = Some(connect_error(addr, &e)),
                        }
                        continue;
                    };
                    match connecting.poll_connected(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(e)) => {
                            let addr = self
                                .addr
                                .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
                            log::debug!("{}: connect {addr}: {e}", self.input);
                            *last_error = Some(connect_error(addr, &e));
                            *stream = None; // closes it; try the next address
                        }
                        Poll::Ready(Ok(())) => {
                            let Some(connected) = stream.take() else {
                                unreachable!("matched Some above")
                            };
                            let dns = self.timings.dns.unwrap_or_default();
                            self.timings.connect =
                                Some(self.timings.start.elapsed().saturating_sub(dns));
                            if let Some(addr) = self.addr {
                                log::debug!("{}: connected to {addr}", self.input);
                            }
                            let request = request_bytes(config, target)?;
                            self.phase = Phase::Send {
                                stream: connected,
                                request,
                                written: 0,
                            };
                            renew(&mut self.timer, &mut self.phase_deadline, &self.timings);
                        }
                    }
                }
                Phase::Send {
                    stream,
                    request,
                    written,
                } => {
                    while *written < request.len() {
                        match stream.poll_write(cx, &request[*written..]) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(Ok(n)) => *written += n,
                            Poll::Ready(Err(e)) => {
                                return Poll::Ready(Err(FetchError::new(
                                    ErrorKind::of_io(&e),
                                    format!("sending the request: {e}"),
                                )))
                            }
                        }
                    }
                    log::debug!("{}: request sent ({} bytes)", self.input, request.len());
                    let Phase::Send { stream, .. } =
                        std::mem::replace(&mut self.phase, Phase::Done)
                    else {
                        unreachable!("matched Send above")
                    };
                    self.phase = Phase::Read {
                        stream,
                        parser: HeadParser::with_limits(config.limits),
                        heads: Vec::new(),
                        live: config.live.then(LiveLines::default),
                    };
                    self.timings.sent = Some(self.timings.start.elapsed());
                }
                Phase::Read {
                    stream,
                    parser,
                    heads,
                    live,
                } => {
                    let mut scratch = shared.scratch.borrow_mut();
                    let n = match stream.poll_read(cx, &mut scratch[..]) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Ok(n)) => n,
                        Poll::Ready(Err(e)) => {
                            return Poll::Ready(Err(FetchError::new(
                                ErrorKind::of_io(&e),
                                format!("reading the response: {e}"),
                            )))
                        }
                    };
                    if let (None, Some(sent)) = (self.timings.first_byte, self.timings.sent) {
                        self.timings.first_byte =
                            Some(self.timings.start.elapsed().saturating_sub(sent));
                    }
                    match feed(
                        parser,
                        &scratch[..n],
                        heads,
                        live.as_mut(),
                        &self.input,
                        sink,
                    ) {
                        Fed::More => {}
                        Fed::Done => {
                            log::debug!("{}: head complete", self.input);
                            return Poll::Ready(Ok(std::mem::take(heads)));
                        }
                        Fed::Eof => return Poll::Ready(Err(FetchError::from_head(&parser.eof()))),
                        Fed::Failed(error) => return Poll::Ready(Err(error)),
                    }
                    drop(scratch);
                    renew(&mut self.timer, &mut self.phase_deadline, &self.timings);
                }
                Phase::Done => {
                    return Poll::Ready(Err(FetchError::new(
                        ErrorKind::Local,
                        "polled after completion",
                    )))
                }
            }
        }
    }

    /// The error for the limit that just expired.
    fn expired(&self) -> FetchError {
        let config = self.config();
        let max_time = self.timings.start + config.max_time;
        if self.phase_deadline >= max_time {
            return FetchError::new(
                ErrorKind::Timeout,
                format!(
                    "no complete response head within {}",
                    human(config.max_time)
                ),
            );
        }
        match &self.phase {
            Phase::Resolve { .. } => FetchError::new(
                ErrorKind::Dns,
                format!("resolving took over {}", human(config.connect_timeout)),
            ),
            Phase::Connect { .. } => FetchError::new(
                ErrorKind::ConnectTimeout,
                match self.addr {
                    Some(addr) => format!(
                        "no connection to {addr} within {}",
                        human(config.connect_timeout)
                    ),
                    None => format!("no connection within {}", human(config.connect_timeout)),
                },
            ),
            Phase::Send { .. } => FetchError::new(
                ErrorKind::ReadTimeout,
                format!(
                    "the server took no request bytes for {}",
                    human(config.read_timeout)
                ),
            ),
            Phase::Read { .. } | Phase::Done => FetchError::new(
                ErrorKind::ReadTimeout,
                format!("no data from the server for {}", human(config.read_timeout)),
            ),
        }
    }
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
                Poll::Ready(()) => Err(this.expired()),
            },
        };
        // Dropping the phase closes the socket now, not when the task ends.
        this.phase = Phase::Done;
        this.timings.total = this.timings.start.elapsed();
        match &result {
            Ok(_) => log::debug!("{}: done in {:?}", this.input, this.timings.total),
            Err(e) => log::debug!("{}: {e}", this.input),
        }
        Poll::Ready(Outcome {
            target: std::mem::take(&mut this.input),
            url: this.target.as_ref().ok().map(Target::url),
            addr: this.addr,
            result,
            timings: this.timings,
        })
    }
}

fn connect_error(addr: SocketAddr, e: &std::io::Error) -> FetchError {
    FetchError::new(ErrorKind::of_io(e), format!("connect to {addr}: {e}"))
}

/// What feeding one read to the parser came to.
enum Fed {
    More,
    Done,
    Eof,
    Failed(FetchError),
}

fn feed(
    parser: &mut HeadParser,
    mut chunk: &[u8],
    heads: &mut Vec<ResponseHead>,
    mut live: Option<&mut LiveLines>,
    input: &str,
    sink: &impl Sink,
) -> Fed {
    if chunk.is_empty() {
        return Fed::Eof;
    }
    loop {
        match parser.feed(chunk) {
            Err(e) => return Fed::Failed(FetchError::from_head(&e)),
            Ok(Feed::Partial) => {
                if let Some(live) = live.as_deref_mut() {
                    live.push(chunk, input, sink);
                }
                return Fed::More;
            }
            Ok(Feed::Complete { head, consumed }) => {
                if let Some(live) = live.as_deref_mut() {
                    live.push(&chunk[..consumed], input, sink);
                }
                let interim = head.is_informational();
                heads.push(head);
                if !interim {
                    return Fed::Done;
                }
                chunk = &chunk[consumed..];
                if chunk.is_empty() {
                    return Fed::More;
                }
            }
        }
    }
}

/// Cuts head bytes into lines for `--live`, which reports each line the
/// moment it is complete (the seed's interleaved output).
#[derive(Default)]
struct LiveLines {
    partial: Vec<u8>,
}

impl LiveLines {
    fn push(&mut self, mut bytes: &[u8], input: &str, sink: &impl Sink) {
        while let Some(i) = bytes.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&bytes[..i]);
            bytes = &bytes[i + 1..];
            let line = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
            if !line.is_empty() {
                sink.line(input, line);
            }
            self.partial.clear();
        }
        self.partial.extend_from_slice(bytes);
    }
}

/// The request for `target` under `config`.
fn request_bytes(config: &Config, target: &Target) -> Result<Vec<u8>, FetchError> {
    // `Config::check_request` has already vetted the options; what is
    // left to fail here comes from the target itself.
    config
        .request(target)
        .to_bytes()
        .map_err(|e| FetchError::new(ErrorKind::BadTarget, e.to_string()))
}

/// `10s`, `500ms`: durations as the CLI spells them.
pub(crate) fn human(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
