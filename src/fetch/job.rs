//! One target, start to finish: the future the driver spawns per target.
//!
//! ```text
//! parse target ─► resolve (DNS worker) ─► connect (each address in turn)
//!   ─► write request ─► read + parse until the final head ─► close
//! ```
//!
//! `connect_timeout` bounds resolve + connect, `read_timeout` bounds every
//! wait on the server, `max_time` bounds the whole; whichever expires first
//! drops the future, which closes the socket. The seed did the same steps
//! with `open_connection`, `write`/`drain` and a `readline` loop.

use std::cell::RefCell;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::task::Poll;
use std::time::{Duration, Instant};

use super::outcome::{ErrorKind, FetchError, Outcome, Timings};
use super::target::{parse_target, Target, TargetError};
use super::{Config, Sink};
use crate::http::{Feed, HeadParser, ResponseHead};
use crate::net::{Family, Resolver, TcpStream};
use crate::runtime::timeout;

/// Bytes one read may take from a socket. Reads go into one scratch buffer
/// shared by all fetches on the loop; only the head bytes are kept, in the
/// parser, so an idle connection holds no read buffer at all.
pub(crate) const SCRATCH_SIZE: usize = 16 * 1024;

/// What every fetch of a run shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) resolver: Resolver,
    pub(crate) scratch: RefCell<Vec<u8>>,
}

/// Fetches one target and returns its outcome; never fails, never hangs
/// past `max_time`.
pub(crate) async fn fetch(shared: &Shared, input: String, sink: &impl Sink) -> Outcome {
    let timings = RefCell::new(Timings::new(Instant::now()));
    let addr = RefCell::new(None);
    let mut url = None;
    let result = match parse_target(&input) {
        Err(TargetError::Bad(message)) => Err(FetchError::new(ErrorKind::BadTarget, message)),
        Err(TargetError::Unsupported(message)) => {
            Err(FetchError::new(ErrorKind::Unsupported, message))
        }
        Ok(target) => {
            url = Some(target.url());
            let max_time = shared.config.max_time;
            let work = fetch_target(shared, &input, &target, &timings, &addr, sink);
            match timeout(max_time, work).await {
                Ok(result) => result,
                Err(_) => Err(FetchError::new(
                    ErrorKind::Timeout,
                    format!("no complete response head within {}", human(max_time)),
                )),
            }
        }
    };
    let mut timings = timings.into_inner();
    timings.total = timings.start.elapsed();
    let outcome = Outcome {
        target: input,
        url,
        addr: addr.into_inner(),
        result,
        timings,
    };
    match &outcome.result {
        Ok(_) => log::debug!("{}: done in {:?}", outcome.target, timings.total),
        Err(e) => log::debug!("{}: {e}", outcome.target),
    }
    outcome
}

async fn fetch_target(
    shared: &Shared,
    input: &str,
    target: &Target,
    timings: &RefCell<Timings>,
    addr_slot: &RefCell<Option<SocketAddr>>,
    sink: &impl Sink,
) -> Result<Vec<ResponseHead>, FetchError> {
    let config = &shared.config;
    let start = timings.borrow().start;
    let connect_deadline = start + config.connect_timeout;

    // 1. Resolve, on a DNS worker thread (an IP literal returns at once).
    let ips = match timeout_at(connect_deadline, shared.resolver.lookup(&target.host)).await {
        Some(Ok(ips)) => ips,
        Some(Err(e)) => return Err(FetchError::new(ErrorKind::Dns, e.to_string())),
        None => {
            return Err(FetchError::new(
                ErrorKind::Dns,
                format!(
                    "resolving '{}' took over {}",
                    target.host,
                    human(config.connect_timeout)
                ),
            ))
        }
    };
    timings.borrow_mut().dns = Some(start.elapsed());
    log::debug!("{input}: resolved to {ips:?}");

    // 2. Connect to each address in turn, within what is left of the
    //    connect timeout.
    let allowed = |ip: &&std::net::IpAddr| match config.family {
        Family::Any => true,
        Family::V4 => ip.is_ipv4(),
        Family::V6 => ip.is_ipv6(),
    };
    let mut stream = None;
    let mut last_error = None;
    for ip in ips.iter().filter(allowed) {
        let addr = SocketAddr::new(*ip, target.port);
        *addr_slot.borrow_mut() = Some(addr);
        match timeout_at(connect_deadline, TcpStream::connect(addr)).await {
            Some(Ok(connected)) => {
                stream = Some(connected);
                break;
            }
            Some(Err(e)) => {
                log::debug!("{input}: connect {addr}: {e}");
                last_error = Some(FetchError::new(
                    ErrorKind::of_io(&e),
                    format!("connect to {addr}: {e}"),
                ));
            }
            None => {
                return Err(FetchError::new(
                    ErrorKind::ConnectTimeout,
                    format!(
                        "no connection to {addr} within {}",
                        human(config.connect_timeout)
                    ),
                ))
            }
        }
    }
    let Some(stream) = stream else {
        return Err(last_error.unwrap_or_else(|| {
            FetchError::new(
                ErrorKind::Dns,
                format!("'{}' has no {:?} address", target.host, config.family),
            )
        }));
    };
    {
        let mut timings = timings.borrow_mut();
        timings.connect = Some(start.elapsed() - timings.dns.unwrap_or_default());
    }
    log::debug!("{input}: connected to {:?}", *addr_slot.borrow());

    // 3. Send the request.
    let request = request_bytes(config, target)?;
    match timeout(config.read_timeout, stream.write_all(&request)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            return Err(FetchError::new(
                ErrorKind::of_io(&e),
                format!("sending the request: {e}"),
            ))
        }
        Err(_) => {
            return Err(FetchError::new(
                ErrorKind::ReadTimeout,
                format!(
                    "the server took no request bytes for {}",
                    human(config.read_timeout)
                ),
            ))
        }
    }
    let sent_at = Instant::now();
    log::debug!("{input}: request sent ({} bytes)", request.len());

    // 4. Read until the final head is complete. Interim 1xx heads are kept
    //    and reading goes on.
    let mut parser = HeadParser::with_limits(config.limits);
    let mut heads = Vec::new();
    let mut live = config.live.then(LiveLines::default);
    loop {
        let read = poll_fn(|cx| {
            let mut scratch = shared.scratch.borrow_mut();
            let n = match stream.poll_read(cx, &mut scratch[..]) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(n)) => n,
            };
            // Parse while we hold the scratch buffer, within this one poll.
            Poll::Ready(Ok(feed(
                &mut parser,
                &scratch[..n],
                &mut heads,
                live.as_mut(),
                input,
                sink,
            )))
        });
        let fed = match timeout(config.read_timeout, read).await {
            Ok(Ok(fed)) => fed,
            Ok(Err(e)) => {
                return Err(FetchError::new(
                    ErrorKind::of_io(&e),
                    format!("reading the response: {e}"),
                ))
            }
            Err(_) => {
                return Err(FetchError::new(
                    ErrorKind::ReadTimeout,
                    format!("no data from the server for {}", human(config.read_timeout)),
                ))
            }
        };
        if timings.borrow().first_byte.is_none() {
            timings.borrow_mut().first_byte = Some(sent_at.elapsed());
        }
        match fed {
            Fed::More => {}
            Fed::Done => {
                log::debug!("{input}: head complete");
                return Ok(heads);
            }
            Fed::Eof => return Err(FetchError::from_head(&parser.eof())),
            Fed::Failed(error) => return Err(error),
        }
    }
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

/// `timeout` with a deadline; `None` when it passes. A future that is
/// ready at once still wins, as with `timeout`.
async fn timeout_at<F: std::future::Future>(deadline: Instant, future: F) -> Option<F::Output> {
    timeout(deadline.saturating_duration_since(Instant::now()), future)
        .await
        .ok()
}

/// `10s`, `500ms`: durations as the CLI spells them.
pub(crate) fn human(duration: Duration) -> String {
    if duration.subsec_millis() == 0 && duration.as_secs() > 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}
