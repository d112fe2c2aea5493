//! `cargo bench --bench cli`: the built `fetch-headers` command, run as
//! users run it, against a tokio client that prints the same lines and
//! against the raw mio floor, all fetching from one loopback server in its
//! own process.
//!
//! `benches/fetch.rs` measures the engine in-process with no output. This
//! bench measures what a user gets: the binary cargo built for this bench
//! (`CARGO_BIN_EXE_fetch-headers`), parsing a target file, formatting every
//! head line, handing the text to its writer thread and writing it. Its
//! peers run as child roles of this bench executable:
//!
//! - **tokio, printing** (`support/tokio_print.rs`): a plain tokio
//!   `current_thread` program that reads the same target file and prints
//!   the same `TARGET header > LINE` lines to its stdout;
//! - **raw mio** (`support/raw_mio.rs`): the floor, a bare state machine
//!   that prints nothing.
//!
//! The server answers every request with the head nginx sends for
//! `return 200 "ok\n"` (six lines; `FH_BENCH_ANSWER=short` for the
//! three-line bench head), so the figures compare with ones measured against
//! nginx. Four measurements, each printed as a markdown table with ratios
//! to the printing tokio client of the same run:
//!
//! 1. **Instructions per fetch**, user space, every thread of the measured
//!    process, counted by `valgrind --tool=callgrind`: exact, and immune to
//!    the noise of a shared machine. Each client runs at two sizes,
//!    `FH_BENCH_VG_SMALL` and `FH_BENCH_VG_LARGE` fetches (default 200 and
//!    2,000) at `FH_BENCH_VG_CONCURRENCY` (default 100) in flight; the
//!    marginal cost, (Ir(large) - Ir(small)) / (large - small), leaves out
//!    start-up and exit. The command runs as `fetch-headers -i FILE -c 100
//!    -o /dev/null`, with and without `--json`; the tokio client's stdout
//!    is `/dev/null`.
//! 2. **Heap allocations per fetch**, the same way, from
//!    `valgrind --tool=dhat` (its total blocks and bytes allocated).
//! 3. **Wall and CPU time**: `FH_BENCH_N` fetches (default 50,000) at
//!    `FH_BENCH_CONCURRENCY` (default 500), each client a fresh process,
//!    median of `FH_BENCH_REPEATS` (default 5) interleaved runs. Wall time
//!    is from spawn to exit; user and system CPU come from the child's
//!    `wait4` rusage. The command and the tokio client each write to
//!    `/dev/null` and to a real file in a temporary directory. Wall figures
//!    on a shared two-core machine are noisy: read the ratios, and prefer
//!    the instruction counts.
//! 4. **Peak RSS** with `FH_BENCH_MEM_CONNS` (default 5,000) fetches in
//!    flight at once, the server holding each answer `FH_BENCH_MEM_DELAY_MS`
//!    (default 100): the child's `ru_maxrss`, next to the same client run
//!    on an empty target list (its baseline).
//!
//! Every run is checked, so a broken client cannot look fast: each must
//! exit 0 and account for every fetch as a `200` (the command's summary
//! line, the children's own counts of fetches and printed lines), and every
//! run that writes a file has its lines counted and compared with the
//! server's head, line for line (JSON: one object per target, status 200,
//! every header). Before the measurements, one run of each printing client
//! writes to a file and is checked that way, so the `/dev/null` runs are of
//! a command line known to print the right thing. Any failure is printed
//! and makes the bench exit non-zero.
//!
//! Without valgrind the first two parts are skipped, with a message. A size
//! of 0 (`FH_BENCH_VG_LARGE`, `FH_BENCH_N`, `FH_BENCH_MEM_CONNS`) skips its
//! part. Valgrind's files go to a temporary directory, removed at the end;
//! `FH_BENCH_VG_DIR=DIR` keeps them in DIR for `callgrind_annotate` and
//! `dh_view`. Run without `--bench` (as `cargo test --benches` does), the
//! sizes are smoke sizes. A quick run:
//!
//! ```text
//! FH_BENCH_VG_SMALL=20 FH_BENCH_VG_LARGE=60 FH_BENCH_N=500 FH_BENCH_REPEATS=1 \
//!     FH_BENCH_MEM_CONNS=200 cargo bench --bench cli
//! ```

#[path = "support/child.rs"]
mod child;
#[path = "support/env.rs"]
mod env;
#[path = "support/figures.rs"]
mod figures;
#[path = "support/process.rs"]
mod process;
#[path = "support/raw_mio.rs"]
mod raw_mio;
#[path = "support/server.rs"]
mod server;
#[path = "support/slab.rs"]
mod slab;
#[path = "support/sys.rs"]
mod sys;
#[path = "support/tokio_fetch.rs"]
mod tokio_fetch;
#[path = "support/tokio_print.rs"]
mod tokio_print;
#[path = "support/wire.rs"]
mod wire;

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use figures::{median, ms, thousands};
use process::ServerProcess;
use sys::ChildUsage;
use wire::Answer;

/// The command under test, as cargo built it for this bench.
const BINARY: &str = env!("CARGO_BIN_EXE_fetch-headers");

/// Child role: the printing tokio client.
const ROLE_TOKIO_PRINT: &str = "tokio-print";
/// Child role: the raw mio floor.
const ROLE_RAW_MIO: &str = "raw-mio";

/// Tells the tokio child the target file to read.
const CHILD_TARGETS: &str = "FH_BENCH_CHILD_TARGETS";
/// Tells the raw mio child the server's address.
const CHILD_ADDR: &str = "FH_BENCH_CHILD_ADDR";
/// Tells the raw mio child how many fetches to make.
const CHILD_FETCHES: &str = "FH_BENCH_CHILD_FETCHES";
/// Tells either child how many fetches to keep in flight.
const CHILD_CONCURRENCY: &str = "FH_BENCH_CHILD_CONCURRENCY";

/// The clients, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// `fetch-headers` with text output.
    Text,
    /// `fetch-headers --json`.
    Json,
    /// The printing tokio `current_thread` client.
    TokioPrint,
    /// The raw mio floor, printing nothing.
    RawMio,
}

impl Client {
    const ALL: [Client; 4] = [
        Client::Text,
        Client::Json,
        Client::TokioPrint,
        Client::RawMio,
    ];

    fn name(self) -> &'static str {
        match self {
            Client::Text => "fetch-headers (text)",
            Client::Json => "fetch-headers --json",
            Client::TokioPrint => "tokio current_thread, printing",
            Client::RawMio => "raw mio (floor, prints nothing)",
        }
    }
}

/// Where a client's results go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Output {
    DevNull,
    File(PathBuf),
}

impl Output {
    fn name(&self) -> &'static str {
        match self {
            Output::DevNull => "/dev/null",
            Output::File(_) => "file",
        }
    }
}

/// One run of one client: what it fetches and where its output goes.
#[derive(Debug, Clone)]
struct Job {
    client: Client,
    /// The target file (every line the server's address).
    targets: PathBuf,
    addr: SocketAddr,
    fetches: usize,
    concurrency: usize,
    output: Output,
}

impl Job {
    /// The program, arguments and environment that run this job, and
    /// where its stdout goes.
    fn invocation(&self) -> io::Result<Invocation> {
        let c = self.concurrency.to_string();
        let mut inv = Invocation {
            program: PathBuf::new(),
            args: Vec::new(),
            envs: Vec::new(),
            stdout: None,
        };
        match self.client {
            Client::Text | Client::Json => {
                inv.program = PathBuf::from(BINARY);
                let out = match &self.output {
                    Output::DevNull => PathBuf::from("/dev/null"),
                    Output::File(path) => path.clone(),
                };
                inv.args
                    .extend(["-i".into(), self.targets.clone().into_os_string()]);
                inv.args.extend(["-c".into(), c.into()]);
                if self.client == Client::Json {
                    inv.args.push("--json".into());
                }
                inv.args.extend(["-o".into(), out.into_os_string()]);
            }
            Client::TokioPrint => {
                inv.program = std::env::current_exe()?;
                inv.envs.push((child::ROLE_VAR, ROLE_TOKIO_PRINT.into()));
                inv.envs
                    .push((CHILD_TARGETS, self.targets.display().to_string()));
                inv.envs.push((CHILD_CONCURRENCY, c));
                if let Output::File(path) = &self.output {
                    inv.stdout = Some(path.clone());
                }
            }
            Client::RawMio => {
                inv.program = std::env::current_exe()?;
                inv.envs.push((child::ROLE_VAR, ROLE_RAW_MIO.into()));
                inv.envs.push((CHILD_ADDR, self.addr.to_string()));
                inv.envs.push((CHILD_FETCHES, self.fetches.to_string()));
                inv.envs.push((CHILD_CONCURRENCY, c));
            }
        }
        Ok(inv)
    }
}

/// A command line, ready to be run directly or under valgrind.
#[derive(Debug)]
struct Invocation {
    program: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(&'static str, String)>,
    /// Where stdout goes: a file, or `/dev/null` when `None`.
    stdout: Option<PathBuf>,
}

impl Invocation {
    /// The command, run under `wrapper` (a program and its arguments, such
    /// as valgrind's) when there is one.
    fn command(&self, wrapper: &[OsString]) -> io::Result<Command> {
        let mut command = match wrapper.split_first() {
            Some((tool, tool_args)) => {
                let mut command = Command::new(tool);
                command.args(tool_args).arg(&self.program);
                command
            }
            None => Command::new(&self.program),
        };
        command.args(&self.args);
        for (key, value) in &self.envs {
            command.env(key, value);
        }
        let stdout = match &self.stdout {
            Some(path) => Stdio::from(File::create(path)?),
            None => Stdio::null(),
        };
        command
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::piped());
        Ok(command)
    }
}

/// How a child run ended.
#[derive(Debug)]
struct Finished {
    status: ExitStatus,
    wall: Duration,
    usage: ChildUsage,
    stderr: String,
}

/// Runs `job` (under `wrapper`, if not empty) to the end. With
/// `watch_rss`, the child is stopped at its exit for its peak RSS
/// ([`sys::stop_at_exit`]; `ru_maxrss` would include this bench's own).
fn run(job: &Job, wrapper: &[OsString], watch_rss: bool) -> io::Result<Finished> {
    let mut command = job.invocation()?.command(wrapper)?;
    if watch_rss {
        sys::stop_at_exit(&mut command);
    }
    let start = Instant::now();
    let mut child = command.spawn().map_err(|e| {
        let program = wrapper.first().map_or(job.client.name().into(), |w| {
            w.to_string_lossy().into_owned()
        });
        io::Error::other(format!("cannot start {program}: {e}"))
    })?;
    // stderr is read on a thread: this one must stay free to wait for the
    // child, which under ptrace waits for us at every stop.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            pipe.read_to_string(&mut text).map(|_| text)
        })
    });
    let (status, usage) = sys::wait_with_usage(child.id())?;
    let wall = start.elapsed();
    let stderr = match stderr {
        Some(reader) => reader
            .join()
            .map_err(|_| io::Error::other("the stderr reader panicked"))??,
        None => String::new(),
    };
    Ok(Finished {
        status,
        wall,
        usage,
        stderr,
    })
}

/// Checks that `job` fetched every target with a `200` and printed what it
/// should have: the checks every measured run passes before its figures
/// count.
fn check(job: &Job, answer: Answer, finished: &Finished) -> Result<(), String> {
    if !finished.status.success() {
        return Err(format!(
            "exited with {}; its stderr:\n{}",
            finished.status,
            finished.stderr.trim_end()
        ));
    }
    let n = job.fetches;
    let lines_per_head = answer.lines().count();
    match job.client {
        Client::Text | Client::Json => {
            // `N hosts: N ok, 0 failed in ...`: exit status 0 already says
            // every target got a head; the count says all were fetched.
            let counted = finished.stderr.lines().any(|line| {
                line.split_once(':').is_some_and(|(hosts, rest)| {
                    hosts.split(' ').next() == Some(&n.to_string())
                        && rest.starts_with(&format!(" {n} ok, 0 failed"))
                })
            });
            if !counted {
                return Err(format!(
                    "no summary line saying {n} ok, 0 failed; its stderr:\n{}",
                    finished.stderr.trim_end()
                ));
            }
        }
        Client::TokioPrint | Client::RawMio => {
            let counts = ChildCounts::parse(&finished.stderr)?;
            let lines = if job.client == Client::TokioPrint {
                n * lines_per_head
            } else {
                0
            };
            if counts.ok != n || counts.failed != 0 || counts.header_lines != lines {
                return Err(format!(
                    "{} ok, {} failed, {} header lines printed; want {n} ok, {lines} lines; \
                     its stderr:\n{}",
                    counts.ok,
                    counts.failed,
                    counts.header_lines,
                    finished.stderr.trim_end()
                ));
            }
        }
    }
    if let Output::File(path) = &job.output {
        let target = job.addr.to_string();
        let file = File::open(path).map_err(|e| format!("reading {path:?}: {e}"))?;
        // Read line by line: a whole file of 50,000 heads would raise this
        // bench's peak RSS, which the memory part must keep low (see run).
        let lines = BufReader::new(file).split(b'\n');
        match job.client {
            Client::Json => check_json(lines, &target, answer, n)?,
            _ => check_text(lines, &target, answer, n)?,
        }
    }
    Ok(())
}

/// Checks text output: exactly `n` copies of each `TARGET header > LINE`
/// of the server's head, and nothing else.
fn check_text(
    lines: impl Iterator<Item = io::Result<Vec<u8>>>,
    target: &str,
    answer: Answer,
    n: usize,
) -> Result<(), String> {
    let mut want: HashMap<Vec<u8>, usize> = answer
        .lines()
        .map(|line| ([format!("{target} header > ").as_bytes(), line].concat(), 0))
        .collect();
    for line in lines {
        let line = line.map_err(|e| format!("reading the output: {e}"))?;
        match want.get_mut(&line) {
            Some(count) => *count += 1,
            None => {
                return Err(format!(
                    "unexpected line {:?}",
                    String::from_utf8_lossy(&line)
                ))
            }
        }
    }
    for (line, count) in &want {
        if *count != n {
            return Err(format!(
                "{count} copies of {:?}, want {n}",
                String::from_utf8_lossy(line)
            ));
        }
    }
    Ok(())
}

/// Checks JSON Lines output: `n` objects, each for `target` with status
/// 200 and every header of the server's head.
fn check_json(
    lines: impl Iterator<Item = io::Result<Vec<u8>>>,
    target: &str,
    answer: Answer,
    n: usize,
) -> Result<(), String> {
    let headers = answer.lines().count() - 1;
    let mut objects = 0;
    for line in lines {
        let line = line.map_err(|e| format!("reading the output: {e}"))?;
        let value: serde_json::Value = serde_json::from_slice(&line)
            .map_err(|e| format!("not JSON ({e}): {:?}", String::from_utf8_lossy(&line)))?;
        let ok = value["target"] == target
            && value["status"] == 200
            && value["headers"].as_array().map(Vec::len) == Some(headers);
        if !ok {
            return Err(format!("unexpected object {value}"));
        }
        objects += 1;
    }
    if objects != n {
        return Err(format!("{objects} objects, want {n}"));
    }
    Ok(())
}

/// What a child role reports on stderr, one `key=value` per line.
#[derive(Debug, Default)]
struct ChildCounts {
    ok: usize,
    failed: usize,
    header_lines: usize,
}

impl ChildCounts {
    fn parse(stderr: &str) -> Result<ChildCounts, String> {
        let mut counts = ChildCounts::default();
        let mut seen = false;
        for line in stderr.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let slot = match key {
                "ok" => &mut counts.ok,
                "failed" => &mut counts.failed,
                "header_lines" => &mut counts.header_lines,
                _ => continue,
            };
            *slot = value
                .parse()
                .map_err(|_| format!("child reported {line:?}"))?;
            seen = true;
        }
        if !seen {
            return Err(format!("child reported no counts; its stderr:\n{stderr}"));
        }
        Ok(counts)
    }
}

/// Bench sizes, from the environment.
#[derive(Debug)]
struct Config {
    answer: Answer,
    vg_small: usize,
    vg_large: usize,
    vg_concurrency: usize,
    vg_dir: Option<PathBuf>,
    fetches: usize,
    concurrency: usize,
    repeats: usize,
    mem_conns: usize,
    mem_delay: Duration,
}

impl Config {
    fn from_env() -> Config {
        let answer = match std::env::var("FH_BENCH_ANSWER") {
            Ok(key) => Answer::from_key(&key).unwrap_or_else(|| {
                eprintln!("cli bench: FH_BENCH_ANSWER={key:?} is not short or nginx; using nginx");
                Answer::Nginx
            }),
            Err(_) => Answer::Nginx,
        };
        Config {
            answer,
            vg_small: env::size("FH_BENCH_VG_SMALL", 200, 10),
            vg_large: env::size("FH_BENCH_VG_LARGE", 2_000, 30),
            vg_concurrency: env::size("FH_BENCH_VG_CONCURRENCY", 100, 10).max(1),
            vg_dir: std::env::var_os("FH_BENCH_VG_DIR").map(PathBuf::from),
            fetches: env::size("FH_BENCH_N", 50_000, 200),
            concurrency: env::size("FH_BENCH_CONCURRENCY", 500, 50).max(1),
            repeats: env::size("FH_BENCH_REPEATS", 5, 1).max(1),
            mem_conns: env::size("FH_BENCH_MEM_CONNS", 5_000, 100),
            mem_delay: Duration::from_millis(env::size("FH_BENCH_MEM_DELAY_MS", 100, 100) as u64),
        }
    }
}

/// The bench's scratch space: target files and outputs, removed at the end.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A file of `n` lines, each `addr`, made on first use.
    fn targets(&self, addr: SocketAddr, n: usize) -> io::Result<PathBuf> {
        let path = self
            .dir
            .path()
            .join(format!("targets-{}-{n}.txt", addr.port()));
        if !path.exists() {
            let line = format!("{addr}\n");
            std::fs::write(&path, line.repeat(n))?;
        }
        Ok(path)
    }

    fn output(&self, name: &str) -> Output {
        Output::File(self.dir.path().join(name))
    }
}

fn main() -> ExitCode {
    // A re-executed copy of this binary runs its role and nothing else.
    match std::env::var(child::ROLE_VAR).as_deref() {
        Ok(process::ROLE_SERVER) => process::run_server_role(),
        Ok(ROLE_TOKIO_PRINT) => return tokio_print_role(),
        Ok(ROLE_RAW_MIO) => return raw_mio_role(),
        _ => {}
    }

    let config = Config::from_env();
    let scratch = Scratch {
        dir: tempfile::tempdir().expect("cli bench: cannot create a temporary directory"),
    };
    println!(
        "\ncli bench: {BINARY}\nserver answer: {:?} head ({} lines)",
        config.answer,
        config.answer.lines().count()
    );
    let mut failed = false;
    let mut part = |name: &str, result: io::Result<bool>| match result {
        Ok(ok) => failed |= !ok,
        Err(e) => {
            eprintln!("cli bench: {name}: {e}");
            failed = true;
        }
    };
    part("output check", output_check(&config, &scratch));
    if config.vg_large > 0 {
        part("valgrind", valgrind_parts(&config, &scratch));
    }
    if config.fetches > 0 {
        part("wall time", wall_time(&config, &scratch));
    }
    if config.mem_conns > 0 {
        part("memory", memory(&config, &scratch));
    }
    if failed {
        eprintln!(
            "\ncli bench: FAILED: some run did not fetch or print what it should (see above)"
        );
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Starts the bench server answering with `config.answer` after `delay`.
fn start_server(config: &Config, delay: Duration) -> io::Result<ServerProcess> {
    ServerProcess::spawn(server::Options {
        delay,
        answer: config.answer,
    })
}

/// Runs `job` natively and checks it; prints the failure and returns
/// `None` if it fails.
fn run_checked(job: &Job, answer: Answer, watch_rss: bool) -> io::Result<Option<Finished>> {
    let finished = run(job, &[], watch_rss)?;
    match check(job, answer, &finished) {
        Ok(()) => Ok(Some(finished)),
        Err(why) => {
            eprintln!(
                "FAILED: {} ({} fetches, -c {}, output {}): {why}",
                job.client.name(),
                job.fetches,
                job.concurrency,
                job.output.name()
            );
            Ok(None)
        }
    }
}

/// One run of each printing client into a file, checked line by line: the
/// command lines measured later print the right thing.
fn output_check(config: &Config, scratch: &Scratch) -> io::Result<bool> {
    let server = start_server(config, Duration::ZERO)?;
    let fetches = config.vg_small.max(1);
    let targets = scratch.targets(server.addr(), fetches)?;
    let mut all_ok = true;
    for client in [Client::Text, Client::Json, Client::TokioPrint] {
        let job = Job {
            client,
            targets: targets.clone(),
            addr: server.addr(),
            fetches,
            concurrency: config.vg_concurrency,
            output: scratch.output("check.out"),
        };
        all_ok &= run_checked(&job, config.answer, false)?.is_some();
    }
    println!(
        "\noutput check: {fetches} fetches each, written to a file: {}",
        if all_ok {
            "the command (text and JSON) and the tokio client printed every line"
        } else {
            "FAILED"
        }
    );
    Ok(all_ok)
}

/// The valgrind tools this bench runs.
#[derive(Debug, Clone, Copy)]
enum Tool {
    Callgrind,
    Dhat,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Callgrind => "callgrind",
            Tool::Dhat => "dhat",
        }
    }
}

/// A valgrind tool's count for one run.
#[derive(Debug, Clone, Copy, Default)]
struct Count {
    /// Instructions (callgrind) or heap blocks allocated (dhat).
    main: u64,
    /// Bytes allocated (dhat only).
    bytes: u64,
}

/// Runs `job` under valgrind's `tool`, keeping its files in `dir` under
/// `label`, and reads the totals back.
fn run_valgrind(
    tool: Tool,
    job: &Job,
    answer: Answer,
    dir: &Path,
    label: &str,
) -> io::Result<Option<Count>> {
    let base = dir.join(format!("{label}.{}", tool.name()));
    let log = base.with_extension(format!("{}.log", tool.name()));
    let out = match tool {
        Tool::Callgrind => base.with_extension("callgrind.out"),
        Tool::Dhat => base.with_extension("dhat.json"),
    };
    let mut wrapper: Vec<OsString> = vec![
        "valgrind".into(),
        format!("--tool={}", tool.name()).into(),
        concat_os("--log-file=", &log),
    ];
    wrapper.push(match tool {
        Tool::Callgrind => concat_os("--callgrind-out-file=", &out),
        Tool::Dhat => concat_os("--dhat-out-file=", &out),
    });
    let finished = run(job, &wrapper, false)?;
    if let Err(why) = check(job, answer, &finished) {
        eprintln!(
            "FAILED under {}: {} ({} fetches): {why}",
            tool.name(),
            job.client.name(),
            job.fetches
        );
        return Ok(None);
    }
    let count = match tool {
        Tool::Callgrind => {
            let text = std::fs::read_to_string(&out)?;
            let ir = text
                .lines()
                .find_map(|l| {
                    l.strip_prefix("summary:")
                        .or_else(|| l.strip_prefix("totals:"))
                })
                .and_then(|n| n.split_whitespace().next()?.parse().ok())
                .ok_or_else(|| io::Error::other(format!("no instruction total in {out:?}")))?;
            Count { main: ir, bytes: 0 }
        }
        Tool::Dhat => {
            // `==123== Total:     4,567 bytes in 89 blocks`
            let text = std::fs::read_to_string(&log)?;
            let total = text
                .lines()
                .find_map(|l| {
                    l.split_once("Total:")
                        .map(|(_, rest)| rest.replace(',', ""))
                })
                .ok_or_else(|| io::Error::other(format!("no Total line in {log:?}")))?;
            let words: Vec<&str> = total.split_whitespace().collect();
            match words.as_slice() {
                [bytes, "bytes", "in", blocks, "blocks"] => Count {
                    main: blocks.parse().map_err(io::Error::other)?,
                    bytes: bytes.parse().map_err(io::Error::other)?,
                },
                _ => return Err(io::Error::other(format!("dhat said {total:?}"))),
            }
        }
    };
    Ok(Some(count))
}

fn concat_os(prefix: &str, path: &Path) -> OsString {
    let mut s = OsString::from(prefix);
    s.push(path);
    s
}

/// Why valgrind cannot be used, if it cannot.
fn valgrind_missing() -> Option<String> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!("`valgrind --version` exited with {}", out.status)),
        Err(e) => Some(format!("valgrind not found ({e})")),
    }
}

/// Instructions and allocations per fetch, under callgrind and dhat.
fn valgrind_parts(config: &Config, scratch: &Scratch) -> io::Result<bool> {
    if let Some(why) = valgrind_missing() {
        println!(
            "\ninstructions and allocations per fetch: SKIPPED: {why}; \
             install valgrind (apt-get install valgrind) to measure them"
        );
        return Ok(true);
    }
    let (small, large) = (config.vg_small, config.vg_large);
    if small >= large {
        eprintln!("cli bench: FH_BENCH_VG_SMALL={small} must be below FH_BENCH_VG_LARGE={large}");
        return Ok(false);
    }
    let dir = match &config.vg_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => scratch.dir.path().to_path_buf(),
    };
    let server = start_server(config, Duration::ZERO)?;
    println!(
        "\nmeasured under valgrind --tool=callgrind and --tool=dhat, N fetches of one \
         file of N lines `{}`:\n  {BINARY} -i FILE -c {c} -o /dev/null  (and with --json)\n  \
         {}={ROLE_TOKIO_PRINT} {CHILD_TARGETS}=FILE {CHILD_CONCURRENCY}={c} {exe} > /dev/null\n  \
         {}={ROLE_RAW_MIO} {CHILD_ADDR}={} {CHILD_FETCHES}=N {CHILD_CONCURRENCY}={c} {exe}",
        server.addr(),
        child::ROLE_VAR,
        child::ROLE_VAR,
        server.addr(),
        c = config.vg_concurrency,
        exe = std::env::current_exe()?.display(),
    );
    let mut all_ok = true;
    for tool in [Tool::Callgrind, Tool::Dhat] {
        let mut rows = Vec::new();
        for client in Client::ALL {
            let mut counts = [Count::default(); 2];
            for (slot, n) in counts.iter_mut().zip([small, large]) {
                let job = Job {
                    client,
                    targets: scratch.targets(server.addr(), n)?,
                    addr: server.addr(),
                    fetches: n,
                    concurrency: config.vg_concurrency,
                    output: Output::DevNull,
                };
                let label = format!("{}-{n}", client_label(client));
                match run_valgrind(tool, &job, config.answer, &dir, &label)? {
                    Some(count) => *slot = count,
                    None => all_ok = false,
                }
            }
            rows.push((client, counts));
        }
        print_valgrind_table(tool, config, &rows);
    }
    if config.vg_dir.is_some() {
        println!("\nvalgrind's files are in {}", dir.display());
    }
    Ok(all_ok)
}

/// A short file-name-friendly name for a client.
fn client_label(client: Client) -> &'static str {
    match client {
        Client::Text => "text",
        Client::Json => "json",
        Client::TokioPrint => "tokio-print",
        Client::RawMio => "raw-mio",
    }
}

fn print_valgrind_table(tool: Tool, config: &Config, rows: &[(Client, [Count; 2])]) {
    let (small, large) = (config.vg_small, config.vg_large);
    let span = (large - small) as f64;
    let per_fetch = |c: &[Count; 2]| (c[1].main as f64 - c[0].main as f64) / span;
    let bytes_per_fetch = |c: &[Count; 2]| (c[1].bytes as f64 - c[0].bytes as f64) / span;
    let tokio = rows
        .iter()
        .find(|(client, _)| *client == Client::TokioPrint)
        .map(|(_, c)| per_fetch(c))
        .unwrap_or(f64::NAN);
    match tool {
        Tool::Callgrind => {
            println!(
                "\ninstructions per fetch (valgrind --tool=callgrind, user space, all threads; \
                 marginal between {small} and {large} fetches at -c {}):\n",
                config.vg_concurrency
            );
            println!(
                "| client | Ir at {small} | Ir at {large} | fixed Ir | instructions per fetch | / tokio printing |"
            );
            println!("|---|---|---|---|---|---|");
            for (client, c) in rows {
                let marginal = per_fetch(c);
                let fixed = c[0].main as f64 - marginal * small as f64;
                println!(
                    "| {} | {} | {} | {} | **{}** | {:.2} |",
                    client.name(),
                    thousands(c[0].main as f64),
                    thousands(c[1].main as f64),
                    thousands(fixed),
                    thousands(marginal),
                    marginal / tokio
                );
            }
        }
        Tool::Dhat => {
            println!(
                "\nheap allocations per fetch (valgrind --tool=dhat, total blocks and bytes \
                 allocated; marginal between {small} and {large} fetches at -c {}):\n",
                config.vg_concurrency
            );
            println!(
                "| client | blocks at {small} | blocks at {large} | allocations per fetch | bytes per fetch | / tokio printing |"
            );
            println!("|---|---|---|---|---|---|");
            for (client, c) in rows {
                let marginal = per_fetch(c);
                println!(
                    "| {} | {} | {} | **{:.1}** | {} | {:.2} |",
                    client.name(),
                    thousands(c[0].main as f64),
                    thousands(c[1].main as f64),
                    marginal,
                    thousands(bytes_per_fetch(c)),
                    marginal / tokio
                );
            }
        }
    }
}

/// The wall-time runs, in table order: each client and where it writes.
fn wall_jobs(scratch: &Scratch) -> Vec<(Client, Output)> {
    vec![
        (Client::Text, Output::DevNull),
        (Client::Text, scratch.output("text.out")),
        (Client::Json, Output::DevNull),
        (Client::TokioPrint, Output::DevNull),
        (Client::TokioPrint, scratch.output("tokio.out")),
        (Client::RawMio, Output::DevNull),
    ]
}

/// Wall and CPU time of whole runs, median of interleaved repeats.
fn wall_time(config: &Config, scratch: &Scratch) -> io::Result<bool> {
    let server = start_server(config, Duration::ZERO)?;
    let addr = server.addr();
    let jobs: Vec<Job> = wall_jobs(scratch)
        .into_iter()
        .map(|(client, output)| -> io::Result<Job> {
            Ok(Job {
                client,
                targets: scratch.targets(addr, config.fetches)?,
                addr,
                fetches: config.fetches,
                concurrency: config.concurrency,
                output,
            })
        })
        .collect::<io::Result<_>>()?;

    // One short untimed pass first: the first runs after the server starts
    // pay for its slab growing and the kernel's socket caches filling.
    let warm_up = (config.fetches / 10).max(config.concurrency.min(config.fetches));
    let mut all_ok = true;
    for job in &jobs {
        let job = Job {
            fetches: warm_up,
            targets: scratch.targets(addr, warm_up)?,
            ..job.clone()
        };
        all_ok &= run_checked(&job, config.answer, false)?.is_some();
    }

    let mut samples: Vec<Vec<Finished>> = jobs.iter().map(|_| Vec::new()).collect();
    for _ in 0..config.repeats {
        for (job, runs) in jobs.iter().zip(&mut samples) {
            match run_checked(job, config.answer, false)? {
                Some(finished) => runs.push(finished),
                None => all_ok = false,
            }
        }
    }
    if samples.iter().any(Vec::is_empty) {
        return Ok(false);
    }

    struct Row<'a> {
        job: &'a Job,
        wall: Duration,
        user: Duration,
        sys: Duration,
        cpu: Duration,
    }
    let rows: Vec<Row<'_>> = jobs
        .iter()
        .zip(&samples)
        .map(|(job, runs)| Row {
            job,
            wall: median(runs.iter().map(|r| r.wall)),
            user: median(runs.iter().map(|r| r.usage.user)),
            sys: median(runs.iter().map(|r| r.usage.sys)),
            cpu: median(runs.iter().map(|r| r.usage.user + r.usage.sys)),
        })
        .collect();
    // Each row is compared with the tokio client writing to the same kind
    // of output; the floor, which writes nothing, with tokio's /dev/null.
    let peer = |job: &Job| {
        let kind = match job.output {
            Output::File(_) => "file",
            Output::DevNull => "/dev/null",
        };
        rows.iter()
            .find(|r| r.job.client == Client::TokioPrint && r.job.output.name() == kind)
            .expect("the tokio client runs to both outputs")
    };

    println!(
        "\nwall and CPU time: {} fetches at -c {}, each client a fresh process, \
         median of {} interleaved runs; server pid {} at {addr} (wall time on a \
         shared machine is noisy: read the ratios):\n",
        config.fetches,
        config.concurrency,
        config.repeats,
        server.pid()
    );
    println!(
        "| client | output | wall ms | fetches/s | user ms | sys ms | CPU ms | wall / tokio | user / tokio | CPU / tokio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in &rows {
        let tokio = peer(row.job);
        println!(
            "| {} | {} | {:.0} | {} | {:.0} | {:.0} | {:.0} | **{}** | {} | {} |",
            row.job.client.name(),
            row.job.output.name(),
            ms(row.wall),
            thousands(config.fetches as f64 / row.wall.as_secs_f64()),
            ms(row.user),
            ms(row.sys),
            ms(row.cpu),
            ratio(row.wall, tokio.wall),
            ratio(row.user, tokio.user),
            ratio(row.cpu, tokio.cpu),
        );
    }
    Ok(all_ok)
}

/// Peak RSS with every connection in flight at once.
fn memory(config: &Config, scratch: &Scratch) -> io::Result<bool> {
    let server = start_server(config, config.mem_delay)?;
    let addr = server.addr();
    let n = config.mem_conns;
    let mut all_ok = true;
    let mut rows = Vec::new();
    for client in Client::ALL {
        let mut peaks = [0u64; 2];
        for (peak, fetches) in peaks.iter_mut().zip([0, n]) {
            let job = Job {
                client,
                targets: scratch.targets(addr, fetches)?,
                addr,
                fetches,
                concurrency: n.max(1),
                output: Output::DevNull,
            };
            let finished = run_checked(&job, config.answer, true)?;
            match finished.map(|f| f.usage.peak_rss_kib) {
                Some(Some(kib)) => *peak = kib,
                Some(None) => {
                    eprintln!(
                        "FAILED: {} never stopped at its exit, so its peak RSS is unknown",
                        client.name()
                    );
                    all_ok = false;
                }
                None => all_ok = false,
            }
        }
        rows.push((client, peaks));
    }
    let tokio = rows
        .iter()
        .find(|(client, _)| *client == Client::TokioPrint)
        .map_or(0, |(_, peaks)| peaks[1]);
    println!(
        "\npeak RSS: {n} fetches in flight at once (-c {n}; the server holds each answer \
         {} ms), output to /dev/null; the child's own peak RSS (its VmHWM, read as it \
         stops at exit under ptrace), and the same client on an empty target list:\n",
        config.mem_delay.as_millis()
    );
    println!("| client | peak RSS | baseline | per connection | peak / tokio |");
    println!("|---|---|---|---|---|");
    for (client, [baseline, peak]) in &rows {
        let per_conn = (*peak as f64 - *baseline as f64) * 1024.0 / n as f64;
        println!(
            "| {} | {:.1} MiB | {:.1} MiB | {} B | **{:.2}** |",
            client.name(),
            *peak as f64 / 1024.0,
            *baseline as f64 / 1024.0,
            thousands(per_conn),
            *peak as f64 / tokio as f64
        );
    }
    Ok(all_ok)
}

/// Child role: the printing tokio client. Prints heads on stdout and its
/// counts on stderr.
fn tokio_print_role() -> ExitCode {
    let (Some(targets), Ok(concurrency)) = (
        std::env::var_os(CHILD_TARGETS),
        child_number(CHILD_CONCURRENCY),
    ) else {
        eprintln!("tokio print client: bad {CHILD_TARGETS} / {CHILD_CONCURRENCY}");
        return ExitCode::from(2);
    };
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("tokio print client: cannot raise the fd limit: {e}");
    }
    match tokio_print::run(Path::new(&targets), concurrency) {
        Ok(printed) => report_counts(&printed.tally, printed.header_lines),
        Err(e) => {
            eprintln!("tokio print client: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Child role: the raw mio floor. Prints its counts on stderr.
fn raw_mio_role() -> ExitCode {
    let (Ok(addr), Ok(fetches), Ok(concurrency)) = (
        std::env::var(CHILD_ADDR)
            .unwrap_or_default()
            .parse::<SocketAddr>(),
        child_number(CHILD_FETCHES),
        child_number(CHILD_CONCURRENCY),
    ) else {
        eprintln!("raw mio client: bad {CHILD_ADDR} / {CHILD_FETCHES} / {CHILD_CONCURRENCY}");
        return ExitCode::from(2);
    };
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("raw mio client: cannot raise the fd limit: {e}");
    }
    let mut client = match raw_mio::Client::new() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("raw mio client: {e}");
            return ExitCode::FAILURE;
        }
    };
    let tally = client.run(addr, fetches, concurrency);
    report_counts(&tally, 0)
}

fn child_number(name: &str) -> Result<usize, ()> {
    std::env::var(name).map_err(drop)?.parse().map_err(drop)
}

/// A child's report: its counts, then any failures, on stderr.
fn report_counts(tally: &wire::Tally, header_lines: usize) -> ExitCode {
    if tally.failed > 0 {
        eprintln!("{tally}");
    }
    eprintln!("ok={}", tally.ok);
    eprintln!("failed={}", tally.failed);
    eprintln!("header_lines={header_lines}");
    ExitCode::SUCCESS
}

/// `a / b` to two places, or `n/a` when `b` is zero (CPU time of a tiny
/// run can round to nothing).
fn ratio(a: Duration, b: Duration) -> String {
    if b.is_zero() {
        return "n/a".into();
    }
    format!("{:.2}", a.as_secs_f64() / b.as_secs_f64())
}
