//! The `fetch-headers` command: parses arguments and wires the layers.
//!
//! Exit status: 0 when every target answered with a response head, 1 when
//! any target failed, 2 for a usage error or when the results could not be
//! written.

use std::cell::{Cell, RefCell};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use fetch_headers::fetch::input::{self, Source};
use fetch_headers::fetch::{self, output, Config, Outcome, Sink, Targets, Timeline};
use fetch_headers::files::Encoding;
use fetch_headers::http::{Method, Version};
use fetch_headers::net::Family;
use fetch_headers::runtime::channel::{self, Receiver, Sender};
use fetch_headers::runtime::{self, Runtime};

const EXAMPLES: &str = "\
Examples:
  fetch-headers www.sina.com.cn www.sohu.com
  fetch-headers -i hosts.txt -c 1000 --json > out.jsonl
  cat hosts.txt | fetch-headers -i - --head --timeout 5s
  fetch-headers -H 'Accept: text/html' --http1.1 http://example.com:8080/status
  fetch-headers -i hosts.txt --timeline run.json   # a trace for Perfetto
  fetch-headers -i hosts.txt --timeline run.svg    # a waterfall for a browser

Targets: host, host:port, 1.2.3.4, [::1]:8080, http://host[:port][/path].
Internationalised names (中文.com) are sent to DNS and in Host as punycode.

Output: one line per head line, `TARGET header > LINE`, or one line per
failure, `TARGET error > KIND: MESSAGE`, where KIND is one of bad-target,
dns, refused, unreachable, connect-timeout, read-timeout, timeout, reset,
closed (EOF before the head ended), protocol (not HTTP), too-large,
unsupported, local. Control characters and invalid UTF-8 from servers are
shown escaped (\\x1b, \\xff).

Exit status: 0 every target answered, 1 some failed, 2 usage error or the
results could not be written.
Logging: RUST_LOG=fetch_headers=debug shows each connection's phases.";

/// Fetch the HTTP response heads of many hosts at once.
#[derive(Parser, Debug)]
#[command(name = "fetch-headers", version, about, after_help = EXAMPLES)]
struct Args {
    /// Targets to fetch (also read from --input).
    targets: Vec<String>,

    /// Read targets from FILE, one per line (`-` for stdin); blank lines and
    /// `#` comments are skipped. Streamed, so any size works.
    #[arg(short, long, value_name = "FILE")]
    input: Vec<String>,

    /// Encoding of the --input files (utf-8, gbk, gb18030, big5, shift_jis,
    /// euc-kr, latin-1, ...). A UTF-8 byte-order mark is honoured.
    #[arg(long, value_name = "ENC", default_value = "utf-8")]
    input_encoding: String,

    /// Fetches in flight at once.
    #[arg(short, long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,

    /// Limit on DNS + TCP connect per target (e.g. 500ms, 2s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    connect_timeout: Duration,

    /// Limit on each wait for data from the server.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    read_timeout: Duration,

    /// Limit on the whole fetch of one target.
    #[arg(short = 'm', long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    max_time: Duration,

    /// Set all three timeouts at once (connect, read and max time).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,

    /// Send HEAD instead of GET.
    #[arg(short = 'I', long)]
    head: bool,

    /// Extra request header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    headers: Vec<(String, String)>,

    /// The User-Agent to send (empty: none).
    #[arg(short = 'A', long, value_name = "UA")]
    user_agent: Option<String>,

    /// Request PATH on every target instead of its own path.
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    path: Option<String>,

    /// Send HTTP/1.1 (with `Connection: close`) instead of HTTP/1.0.
    #[arg(long = "http1.1")]
    http11: bool,

    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    ipv4: bool,

    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    ipv6: bool,

    /// Write JSON Lines: one object per target.
    #[arg(long)]
    json: bool,

    /// Print each head line as it arrives (lines of different hosts interleave).
    #[arg(long, conflicts_with = "json")]
    live: bool,

    /// Also print `wget TARGET...` as each fetch starts.
    #[arg(short, long)]
    verbose: bool,

    /// Write results to FILE instead of stdout.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,

    /// With --output, append to FILE instead of truncating it.
    #[arg(long, requires = "output")]
    append: bool,

    /// No summary or progress on stderr.
    #[arg(short, long)]
    quiet: bool,

    /// Print the event loop's counters and per-phase latency percentiles
    /// to stderr at the end (one JSON object with --json).
    #[arg(long)]
    stats: bool,

    /// Write a picture of the run to FILE: a Chrome trace (JSON, with each
    /// connection slot's dns/connect/wait/read phases and the event loop's
    /// own spans; open it in Perfetto or chrome://tracing), or an SVG
    /// waterfall, one bar per target, when FILE ends in `.svg`. Every
    /// target's timings are kept in memory until the end (about 200 bytes
    /// each).
    #[arg(long, value_name = "FILE")]
    timeline: Option<PathBuf>,

    /// DNS resolver threads.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    dns_workers: u32,
}

/// `500ms`, `2s`, `1.5s`, `1m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (try 500ms, 2s, 1m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{text}' (use ms, s or m)"
            ))
        }
    };
    if !(seconds > 0.0 && seconds < 1e9) {
        return Err(format!("'{text}' must be above zero"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `Name: value`.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not a header; write it as 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("'{text}' has an empty header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// An origin-form request path: `/` and the rest.
fn parse_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!("'{text}' must start with '/'"));
    }
    Ok(text.to_owned())
}

/// Text for the writer thread, with how many outcomes it carries.
#[derive(Default)]
struct Chunk {
    text: String,
    ok: u64,
    failed: u64,
}

/// Formats events on the loop thread and hands them to the writer thread.
///
/// Text is gathered for one loop turn and handed over in one piece, by a
/// task spawned for that (it runs at the start of the next turn): one
/// cross-thread hand-over per turn, not one per line, yet a lone result is
/// still printed at once.
struct CliSink {
    json: bool,
    verbose: bool,
    live: bool,
    tx: Sender<Chunk>,
    pending: RefCell<Chunk>,
    flush_scheduled: Cell<bool>,
    /// Every outcome's timings, only with `--timeline`.
    timeline: Option<RefCell<Timeline>>,
    /// Set once the writer thread has gone.
    closed: Cell<bool>,
}

/// Hand-over size that does not wait for the end of the turn.
const FLUSH_AT: usize = 64 * 1024;

impl CliSink {
    fn add(self: &Rc<Self>, text: &str, ok: u64, failed: u64) {
        let mut pending = self.pending.borrow_mut();
        pending.text.push_str(text);
        pending.ok += ok;
        pending.failed += failed;
        let full = pending.text.len() >= FLUSH_AT;
        drop(pending);
        if full {
            self.flush();
        } else if !self.flush_scheduled.replace(true) {
            let sink = self.clone();
            drop(runtime::spawn(async move { sink.flush() }));
        }
    }

    /// Hands what is pending to the writer thread.
    fn flush(&self) {
        self.flush_scheduled.set(false);
        let chunk = self.pending.take();
        // The writer thread only goes away when it failed to write (the
        // error is reported at the end); remember it, so no more targets
        // are started for output nobody will see.
        if (!chunk.text.is_empty() || chunk.ok + chunk.failed > 0) && self.tx.push(chunk).is_err() {
            self.closed.set(true);
        }
    }
}

/// The targets, until the output is gone: once the writer has stopped
/// (the reader of a pipe left, as `| head` does, or a write failed), new
/// fetches would only make results nobody sees. Fetches in flight finish.
struct UntilOutputCloses<T> {
    targets: T,
    sink: Rc<CliSink>,
}

impl<T: Targets> Targets for UntilOutputCloses<T> {
    async fn next(&mut self) -> Option<String> {
        if self.sink.closed.get() {
            return None;
        }
        self.targets.next().await
    }
}

/// The engine's view of the sink.
struct SinkHandle(Rc<CliSink>);

impl Sink for SinkHandle {
    fn started(&self, target: &str) {
        if self.0.verbose && !self.0.json {
            let line = format!(
                "wget {}...\n",
                fetch_headers::http::escape_line(target.as_bytes())
            );
            self.0.add(&line, 0, 0);
        }
    }

    fn line(&self, target: &str, line: &[u8]) {
        let mut text = String::new();
        output::text_line(&mut text, target, line);
        self.0.add(&text, 0, 0);
    }

    fn finished(&self, outcome: Outcome) {
        if let Some(timeline) = &self.0.timeline {
            timeline.borrow_mut().add(&outcome);
        }
        let mut text = String::new();
        if self.0.json {
            output::json(&mut text, &outcome);
        } else if !(self.0.live && outcome.result.is_ok()) {
            // (With --live a head's lines were printed as they came.)
            output::text(&mut text, &outcome);
        }
        let ok = outcome.result.is_ok() as u64;
        self.0.add(&text, ok, 1 - ok);
    }

    async fn ready(&self) {
        self.0.tx.room().await;
    }
}

/// The writer thread: writes chunks as they come, flushes when idle, and
/// shows a progress line on a terminal.
fn spawn_writer(
    rx: Receiver<Chunk>,
    mut out: Box<dyn Write + Send>,
    progress: bool,
) -> thread::JoinHandle<io::Result<()>> {
    thread::spawn(move || {
        let started = Instant::now();
        let mut last_progress = started;
        let (mut ok, mut failed) = (0u64, 0u64);
        while let Some(chunk) = rx.recv_blocking() {
            out.write_all(chunk.text.as_bytes())?;
            ok += chunk.ok;
            failed += chunk.failed;
            if rx.is_empty() {
                out.flush()?;
            }
            if progress && last_progress.elapsed() >= Duration::from_millis(250) {
                last_progress = Instant::now();
                let rate = (ok + failed) as f64 / started.elapsed().as_secs_f64();
                eprint!(
                    "\r\x1b[K{} done: {ok} ok, {failed} failed, {rate:.0} hosts/s",
                    ok + failed
                );
            }
        }
        if progress {
            eprint!("\r\x1b[K");
        }
        out.flush()
    })
}

fn main() -> ExitCode {
    // A panic is a bug in fetch-headers, never the user's or a server's
    // doing: say so in one line instead of a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("fetch-headers: internal error (a bug; please report it): {info}");
    }));
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("fetch-headers: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the fetch; `Err` is a usage or setup problem (exit status 2).
fn run(args: Args) -> Result<ExitCode, String> {
    if args.targets.is_empty() && args.input.is_empty() {
        return Err(
            "no targets: give hosts as arguments or a file with -i FILE (see --help)".into(),
        );
    }
    let encoding =
        Encoding::from_name(&args.input_encoding).map_err(|e| format!("--input-encoding: {e}"))?;
    let mut sources = vec![Source::Args(args.targets.clone())];
    for name in &args.input {
        let reader: Box<dyn io::Read + Send> = if name == "-" {
            Box::new(io::stdin())
        } else {
            Box::new(
                File::open(name).map_err(|e| format!("cannot read targets from '{name}': {e}"))?,
            )
        };
        sources.push(Source::Reader(reader));
    }
    let mut config = Config {
        concurrency: args.concurrency as usize,
        connect_timeout: args.timeout.unwrap_or(args.connect_timeout),
        read_timeout: args.timeout.unwrap_or(args.read_timeout),
        max_time: args.timeout.unwrap_or(args.max_time),
        method: if args.head { Method::Head } else { Method::Get },
        path: args.path.clone(),
        headers: args.headers.clone(),
        version: if args.http11 {
            Version::Http11
        } else {
            Version::Http10
        },
        family: match (args.ipv4, args.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        },
        dns_workers: args.dns_workers as usize,
        live: args.live,
        ..Config::default()
    };
    if let Some(agent) = &args.user_agent {
        config.user_agent = agent.clone();
    }
    // A header, user agent or path that cannot be sent is a usage error,
    // caught before any fetch rather than once per target.
    config
        .check_request()
        .map_err(|e| format!("{e}; fix --header, --user-agent or --path"))?;
    let out: Box<dyn Write + Send> = match &args.output {
        None => Box::new(io::stdout()),
        Some(path) => {
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .append(args.append)
                .truncate(!args.append)
                .open(path)
                .map_err(|e| format!("cannot write to '{}': {e}", path.display()))?;
            Box::new(file)
        }
    };

    let budget = fetch::raise_fd_limit();
    if config.concurrency > budget.max_concurrency() {
        eprintln!(
            "fetch-headers: the open-file limit is {} (hard limit reached), so concurrency is lowered from {} to {}",
            budget.soft,
            config.concurrency,
            budget.max_concurrency()
        );
        config.concurrency = budget.max_concurrency();
    }

    let targets = input::spawn_reader(sources, encoding)
        .map_err(|e| format!("cannot start the input thread: {e}"))?;
    let (tx, rx) = channel::channel(256);
    let progress = !args.quiet && io::stderr().is_terminal();
    let writer = spawn_writer(rx, out, progress);
    let runtime = Runtime::new().map_err(|e| format!("cannot create the event loop: {e}"))?;
    let sink = Rc::new(CliSink {
        json: args.json,
        verbose: args.verbose,
        live: args.live,
        tx,
        pending: RefCell::default(),
        flush_scheduled: Cell::new(false),
        closed: Cell::new(false),
        timeline: args
            .timeline
            .is_some()
            .then(|| RefCell::new(Timeline::new(Instant::now()))),
    });
    runtime.record_spans(sink.timeline.is_some());
    let targets = UntilOutputCloses {
        targets,
        sink: sink.clone(),
    };
    let summary = runtime.block_on(fetch::run(
        config,
        targets,
        Rc::new(SinkHandle(sink.clone())),
    ));
    sink.flush();
    if let (Some(timeline), Some(path)) = (&sink.timeline, &args.timeline) {
        let mut timeline = timeline.borrow_mut();
        timeline.set_loop_spans(runtime.take_spans());
        // The results are out already, so a failure here leaves the exit
        // status to them.
        if let Err(e) = write_timeline(&timeline, path) {
            eprintln!(
                "fetch-headers: cannot write timeline '{}': {e}",
                path.display()
            );
        }
    }
    let loop_stats = runtime.stats();
    drop(runtime); // drops the pending flush task and its clone of the sink
    drop(sink); // closes the channel: the writer finishes
                // Results that were not written are a failure of the run, whatever the
                // targets did: a script must not take exit status 0 for a full disk.
    let output_failed = match writer.join() {
        Ok(Ok(())) => false,
        // The reader of a pipe left (`| head`): it took what it wanted.
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Ok(Err(e)) => {
            eprintln!("fetch-headers: writing results failed: {e}");
            true
        }
        Err(_) => {
            eprintln!("fetch-headers: the output thread crashed");
            true
        }
    };
    if args.stats {
        let report = if args.json {
            fetch::report::json(&loop_stats, &summary)
        } else {
            fetch::report::table(&loop_stats, &summary)
        };
        eprint!("{report}");
    }
    if !args.quiet {
        eprintln!("{summary}");
    }
    Ok(if output_failed {
        ExitCode::from(2)
    } else if summary.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Writes `timeline` to `path`: SVG when the name ends in `.svg`, else a
/// Chrome trace.
fn write_timeline(timeline: &Timeline, path: &Path) -> io::Result<()> {
    let svg = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("svg"));
    let mut out = BufWriter::new(File::create(path)?);
    if svg {
        timeline.write_svg(&mut out)?;
    } else {
        timeline.write_chrome_trace(&mut out)?;
    }
    out.flush()
}
