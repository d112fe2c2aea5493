//! `cargo bench --bench dns`: resolving many distinct names against a DNS
//! server 20 ms away, by pools of threads each blocking in one lookup
//! (the way of `getaddrinfo` on `run_in_executor`) and by our stub
//! resolver on our loop.
//!
//! **The server** is the responder of `support/dns_responder.rs`, in its
//! own process: UDP on 127.0.0.1 (a port from `bind(0)`), one thread, one
//! FIFO of due answers, so its delay costs no threads. It answers an A
//! query with one A record and an AAAA query with one AAAA record
//! (`support/dns_wire.rs` says which: every name has both), each after
//! `FH_BENCH_DNS_DELAY_MS` (default 20). Its socket has big buffers
//! (`FH_BENCH_DNS_BUFFER` bytes to ask for others), and it reports the
//! datagrams the kernel dropped on it.
//!
//! **The names**: `FH_BENCH_DNS_NAMES` (default 10,000) distinct names,
//! `h<i>.dns.bench.test`, the same list for every client. Each is asked
//! once, both families (`FH_BENCH_DNS_FAMILIES=both`, the default, as
//! `getaddrinfo` with `AF_UNSPEC` does, and as `pool.rs` asks), or A only
//! (`=v4`: `AF_INET`, and the resolver's `no_aaaa`).
//!
//! **The clients**, each in a fresh child process (so each has its own
//! peak RSS), each driven by tasks on our `Runtime`:
//!
//! - **the pool stand-in** (`support/udp_pool.rs`) at
//!   `FH_BENCH_DNS_THREADS` (default `16,64`) threads: the structure of
//!   `src/net/dns/pool.rs` (a channel of names, a mutex-guarded answer
//!   map, wakers called from the workers), with `getaddrinfo` replaced by
//!   the blocking UDP exchange glibc makes, because glibc cannot be
//!   pointed at the responder's port (resolv.conf names servers by address
//!   only, always port 53; `RES_OPTIONS` and `LOCALDOMAIN` set options and
//!   the search list, not a port). The loop keeps
//!   `FH_BENCH_DNS_POOL_QUEUE` (default 1,000) lookups waiting on it, as
//!   the CLI at `-c 1000` would. It does less per name than `getaddrinfo`
//!   (no `/etc/hosts`, no resolv.conf check, no sorting), so its CPU per
//!   name is a floor for the real pool's. It runs everywhere, so the
//!   table's ratios are against it.
//! - **the real getaddrinfo pool**: `pool.rs`'s `Resolver` itself, at the
//!   same thread counts and queue, when the bench may make a private
//!   network and mount namespace (root; `support/netns.rs`): there the
//!   child brings up a loopback of its own, starts a responder of its own
//!   (the same program) on 127.0.0.1:53 and bind-mounts a resolv.conf
//!   saying `nameserver 127.0.0.1` over `/etc/resolv.conf`, for itself
//!   only; nothing outside the child changes. Otherwise these rows are
//!   skipped, with a message; `FH_BENCH_DNS_GAI=0` skips them too.
//! - **ours**: `StubResolver` on `Runtime` at `FH_BENCH_DNS_IN_FLIGHT`
//!   (default `256,1000,4000`) lookups in flight, which is both its
//!   config's `max_in_flight` and the number of driving tasks (so no
//!   lookup waits for a permit: `queued` stays 0). Its config: the
//!   responder as the only nameserver, no search list, ndots 1, glibc's
//!   timeout (5 s) and attempts (2) as the pool has, EDNS0 on (its
//!   default; the responder echoes the OPT record), empty hosts table.
//!
//! **Measured**, per client and run: names per second (wall time from the
//! first lookup to the last answer), CPU per name (user + system of the
//! client process over the same span, every thread, from `getrusage`; the
//! responder is another process, so its work is not counted), peak RSS
//! (`VmHWM` of the child), the resolver's counters (queries, retries,
//! timeouts) and the responder's (datagrams, kernel drops, CPU, how late
//! its answers left). Runs repeat `FH_BENCH_REPEATS` times (default 3),
//! interleaved, and the table gives medians with the spread (min–max),
//! and ratios against the stand-in pool with the fewest threads (and the
//! real getaddrinfo pool with the fewest, when it ran), round by round in
//! the same run. Memory is given as peak RSS, as its growth over the same
//! process making no lookup (which includes the answers kept in each
//! resolver's cache: every name, as both caches keep them), and as the
//! marginal cost of one more lookup in flight (ours) or thread (a pool),
//! between the smallest and largest of each.
//!
//! **Checked**: every name must resolve to exactly its own addresses, with
//! no retry, no timeout, no datagram dropped or refused by the kernel, and
//! every query answered; anything else is printed and the bench exits
//! non-zero. Nothing is timed against a limit.
//!
//! Run without `--bench` (as `cargo test --benches` does), the defaults
//! are smoke sizes (200 names, 1 run). A quick run:
//!
//! ```text
//! FH_BENCH_DNS_NAMES=300 FH_BENCH_REPEATS=1 cargo bench --bench dns
//! ```

#[path = "support/child.rs"]
mod child;
#[path = "support/dns_responder.rs"]
mod dns_responder;
#[path = "support/dns_wire.rs"]
mod dns_wire;
#[path = "support/env.rs"]
mod env;
#[path = "support/netns.rs"]
mod netns;
#[path = "support/sys.rs"]
mod sys;
#[path = "support/udp_pool.rs"]
mod udp_pool;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dns_responder::{ResponderProcess, ResponderStats};
use fetch_headers::net::dns::{Resolver, ResolverConfig, StubResolver};
use fetch_headers::runtime::{spawn, Runtime};
use udp_pool::UdpPool;

/// Child role: one client resolving every name, reporting on stdout.
const ROLE_CLIENT: &str = "dns-client";

/// Which client a child runs: `pool` or `ours`.
const CHILD_KIND: &str = "FH_BENCH_DNS_CHILD_KIND";
/// Threads (pool) or lookups in flight (ours).
const CHILD_WIDTH: &str = "FH_BENCH_DNS_CHILD_WIDTH";
/// Lookups the loop keeps waiting on the pool.
const CHILD_QUEUE: &str = "FH_BENCH_DNS_CHILD_QUEUE";
/// The responder's address.
const CHILD_ADDR: &str = "FH_BENCH_DNS_CHILD_ADDR";
/// How many names to resolve (0: build everything, resolve nothing).
const CHILD_NAMES: &str = "FH_BENCH_DNS_CHILD_NAMES";
/// `1`: ask AAAA too.
const CHILD_BOTH: &str = "FH_BENCH_DNS_CHILD_BOTH";
/// The responder's delay in µs, for the getaddrinfo child's own responder.
const CHILD_DELAY: &str = "FH_BENCH_DNS_CHILD_DELAY_US";

/// The ways of resolving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Threads blocking in one exchange each (the getaddrinfo stand-in).
    Pool,
    /// `pool.rs`'s `Resolver`: threads in glibc's real `getaddrinfo`, in a
    /// private network and mount namespace (`support/netns.rs`).
    Gai,
    /// `StubResolver` on `Runtime`.
    Ours,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Pool, Kind::Gai, Kind::Ours];

    fn key(self) -> &'static str {
        match self {
            Kind::Pool => "pool",
            Kind::Gai => "gai",
            Kind::Ours => "ours",
        }
    }

    fn from_key(key: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.key() == key)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One client of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Client {
    kind: Kind,
    /// Threads (pool) or lookups in flight (ours).
    width: usize,
}

impl Client {
    fn name(self) -> String {
        match self.kind {
            Kind::Pool => format!("pool (UDP stand-in), {} threads", self.width),
            Kind::Gai => format!("getaddrinfo pool (pool.rs), {} threads", self.width),
            Kind::Ours => format!("**ours**, {} in flight", thousands(self.width as u64)),
        }
    }

    /// Lookups in flight at once.
    fn in_flight(self, names: usize) -> usize {
        self.width.min(names).max(1)
    }
}

/// Bench sizes, from the environment.
#[derive(Debug)]
struct Config {
    names: usize,
    repeats: usize,
    delay: Duration,
    threads: Vec<usize>,
    in_flight: Vec<usize>,
    pool_queue: usize,
    both: bool,
    /// Try the real getaddrinfo pool too (it needs root).
    gai: bool,
}

impl Config {
    fn from_env() -> Config {
        let families = std::env::var("FH_BENCH_DNS_FAMILIES").unwrap_or_default();
        let both = match families.as_str() {
            "" | "both" => true,
            "v4" => false,
            other => {
                eprintln!(
                    "dns bench: FH_BENCH_DNS_FAMILIES={other:?} is not both or v4; using both"
                );
                true
            }
        };
        Config {
            names: env::size("FH_BENCH_DNS_NAMES", 10_000, 200).clamp(1, dns_wire::MAX_NAMES),
            repeats: env::size("FH_BENCH_REPEATS", 3, 1).max(1),
            delay: Duration::from_millis(env::size("FH_BENCH_DNS_DELAY_MS", 20, 20) as u64),
            threads: list("FH_BENCH_DNS_THREADS", &[16, 64]),
            in_flight: list("FH_BENCH_DNS_IN_FLIGHT", &[256, 1000, 4000]),
            pool_queue: env::size("FH_BENCH_DNS_POOL_QUEUE", 1000, 1000).max(1),
            both,
            gai: env::size("FH_BENCH_DNS_GAI", 1, 1) != 0,
        }
    }

    /// The clients in table order; the real getaddrinfo pool only `with_gai`.
    fn clients(&self, with_gai: bool) -> Vec<Client> {
        let pools = |kind| {
            self.threads
                .iter()
                .map(move |&width| Client { kind, width })
        };
        let gai = pools(Kind::Gai).filter(|_| with_gai);
        let ours = self.in_flight.iter().map(|&width| Client {
            kind: Kind::Ours,
            width,
        });
        pools(Kind::Pool).chain(gai).chain(ours).collect()
    }

    fn families(&self) -> u64 {
        if self.both {
            2
        } else {
            1
        }
    }
}

/// A comma-separated list of sizes, or `default`.
fn list(name: &str, default: &[usize]) -> Vec<usize> {
    let Ok(text) = std::env::var(name) else {
        return default.to_vec();
    };
    let parsed: Result<Vec<usize>, _> = text
        .split(',')
        .map(|part| part.trim().parse::<usize>())
        .collect();
    match parsed {
        Ok(values) if !values.is_empty() && values.iter().all(|&v| v > 0) => values,
        _ => {
            eprintln!("dns bench: {name}={text:?} is not a list of sizes, using {default:?}");
            default.to_vec()
        }
    }
}

fn main() -> ExitCode {
    // A re-executed copy of this binary runs its role and nothing else.
    match std::env::var(child::ROLE_VAR).as_deref() {
        Ok(dns_responder::ROLE_RESPONDER) => dns_responder::run_responder_role(),
        Ok(ROLE_CLIENT) => return client_role(),
        _ => {}
    }
    let config = Config::from_env();
    match bench(&config) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!(
                "\ndns bench: FAILED: some run did not resolve every name cleanly (see above)"
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("\ndns bench: FAILED: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a client child reports, one `key=value` per line.
#[derive(Debug, Default, Clone)]
struct Report {
    wall_us: u64,
    cpu_us: u64,
    /// The user-space part of `cpu_us`; the rest is the kernel's.
    user_us: u64,
    peak_kib: u64,
    ok: u64,
    failed: u64,
    first_failure: String,
    queries: u64,
    retries: u64,
    timeouts: u64,
    /// Time from asking a name to its answer, mean and max, in µs.
    latency_mean_us: u64,
    latency_max_us: u64,
    /// Time the loop spent blocked in `epoll_wait`, in µs.
    loop_blocked_us: u64,
    /// Ours only: lookups that waited for a permit.
    queued: u64,
    /// Datagrams dropped as not answering (ours: `dropped_mismatched`).
    mismatched: u64,
    /// The getaddrinfo child could not make its namespace: why.
    unavailable: String,
    /// The getaddrinfo child's own responder's counters over the run.
    responder: Option<ResponderStats>,
}

impl Report {
    fn parse(text: &str) -> io::Result<Report> {
        let mut report = Report::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            match key {
                "first_failure" => {
                    report.first_failure = value.to_owned();
                    continue;
                }
                "unavailable" => {
                    report.unavailable = value.to_owned();
                    continue;
                }
                "responder" => {
                    report.responder = Some(ResponderStats::from_line(value)?);
                    continue;
                }
                _ => {}
            }
            let value: u64 = value
                .parse()
                .map_err(|_| io::Error::other(format!("dns client sent {line:?}")))?;
            let field = match key {
                "wall_us" => &mut report.wall_us,
                "cpu_us" => &mut report.cpu_us,
                "user_us" => &mut report.user_us,
                "peak_kib" => &mut report.peak_kib,
                "ok" => &mut report.ok,
                "failed" => &mut report.failed,
                "latency_mean_us" => &mut report.latency_mean_us,
                "latency_max_us" => &mut report.latency_max_us,
                "loop_blocked_us" => &mut report.loop_blocked_us,
                "queries" => &mut report.queries,
                "retries" => &mut report.retries,
                "timeouts" => &mut report.timeouts,
                "queued" => &mut report.queued,
                "mismatched" => &mut report.mismatched,
                _ => continue,
            };
            *field = value;
        }
        Ok(report)
    }
}

/// One measured run: the client's report and what the responder did.
#[derive(Debug, Clone)]
struct Run {
    report: Report,
    responder: ResponderStats,
}

impl Run {
    fn names_per_sec(&self) -> f64 {
        self.report.ok as f64 / (self.report.wall_us as f64 / 1e6)
    }

    fn cpu_us_per_name(&self) -> f64 {
        self.report.cpu_us as f64 / self.report.ok.max(1) as f64
    }
}

/// Runs `client` once in a fresh child process, resolving `names` names.
fn run_client(
    config: &Config,
    responder: &mut ResponderProcess,
    client: Client,
    names: usize,
) -> io::Result<Run> {
    let before = responder.stats()?;
    let out = child::run_child(
        ROLE_CLIENT,
        &[
            (CHILD_KIND, client.kind.key().to_string()),
            (CHILD_WIDTH, client.width.to_string()),
            (CHILD_QUEUE, config.pool_queue.to_string()),
            (CHILD_ADDR, responder.addr().to_string()),
            (CHILD_NAMES, names.to_string()),
            (CHILD_BOTH, u8::from(config.both).to_string()),
            (CHILD_DELAY, config.delay.as_micros().to_string()),
        ],
    )?;
    let mut report = Report::parse(&out)?;
    let after = responder.stats()?;
    // The getaddrinfo child asked a responder of its own.
    let responder = report
        .responder
        .take()
        .unwrap_or_else(|| after.since(&before));
    Ok(Run { report, responder })
}

/// What is wrong with `run` of `client` over `names` names, if anything.
fn problems(config: &Config, client: Client, names: usize, run: &Run) -> Vec<String> {
    let r = &run.report;
    let s = &run.responder;
    let expected_queries = names as u64 * config.families();
    let mut problems = Vec::new();
    if r.ok != names as u64 || r.failed > 0 {
        problems.push(format!(
            "{} of {names} names resolved to their addresses, {} failed (first: {})",
            r.ok, r.failed, r.first_failure
        ));
    }
    if r.queries != expected_queries {
        problems.push(format!(
            "{} queries sent, {expected_queries} expected",
            r.queries
        ));
    }
    if r.retries > 0 || r.timeouts > 0 {
        problems.push(format!(
            "{} retries and {} timeouts: a query or an answer was lost",
            r.retries, r.timeouts
        ));
    }
    if s.kernel_drops > 0 {
        problems.push(format!(
            "the kernel dropped {} queries on the responder's socket (buffer {} bytes)",
            s.kernel_drops, s.rcvbuf
        ));
    }
    if s.received != r.queries || s.answered != s.received {
        problems.push(format!(
            "the responder received {} datagrams and answered {}, the client sent {} queries",
            s.received, s.answered, r.queries
        ));
    }
    if s.malformed > 0 || s.send_errors > 0 {
        problems.push(format!(
            "the responder dropped {} malformed datagrams and failed {} sends",
            s.malformed, s.send_errors
        ));
    }
    if problems.is_empty() {
        return problems;
    }
    problems
        .into_iter()
        .map(|p| format!("FAILED run of {}: {p}", client.name()))
        .collect()
}

fn bench(config: &Config) -> io::Result<bool> {
    let mut responder = ResponderProcess::spawn(config.delay, 0)?;
    let first = responder.stats()?;
    let families = if config.both {
        "A and AAAA (AF_UNSPEC)"
    } else {
        "A only (AF_INET; ours with no_aaaa)"
    };
    println!(
        "\ndns: {} distinct names, {families}; responder pid {} at {}, answers after {} ms, \
         socket buffers {} KiB receive / {} KiB send; median of {} interleaved runs, \
         each client a fresh process",
        thousands(config.names as u64),
        responder.pid(),
        responder.addr(),
        config.delay.as_millis(),
        first.rcvbuf / 1024,
        first.sndbuf / 1024,
        config.repeats,
    );
    println!(
        "the pool stand-in is getaddrinfo(3)'s exchange on {} worker threads: glibc asks \
         port 53 only, so each thread makes the blocking UDP exchange glibc makes (see \
         benches/support/udp_pool.rs); the loop keeps {} lookups waiting on each pool",
        config
            .threads
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" / "),
        thousands(config.pool_queue as u64),
    );

    let mut all_ok = true;
    // Baselines: the same processes with the names, the runtime and the
    // resolver built, and no lookup made. The getaddrinfo child's also
    // says whether it can run here at all.
    let mut baseline_kib = [0u64; 3];
    let mut with_gai = false;
    for kind in Kind::ALL {
        if kind == Kind::Gai && !(config.gai && config.both) {
            continue;
        }
        let client = Client { kind, width: 1 };
        let report = run_client(config, &mut responder, client, 0)?.report;
        if kind == Kind::Gai {
            if report.unavailable.is_empty() {
                with_gai = true;
            } else {
                println!(
                    "the real getaddrinfo pool is skipped: it needs a private network and \
                     mount namespace (root), and here {}",
                    report.unavailable
                );
            }
        }
        baseline_kib[kind.index()] = report.peak_kib;
    }
    if with_gai {
        println!(
            "the getaddrinfo pool is pool.rs's Resolver, glibc's real getaddrinfo (AF_UNSPEC, \
             hosts: files dns) on 16 / 64 threads, run in a private network and mount \
             namespace where a responder of its own (the same program) answers on \
             127.0.0.1:53 and /etc/resolv.conf says `nameserver 127.0.0.1`"
        );
    } else if config.gai && !config.both {
        println!("the real getaddrinfo pool is skipped: pool.rs always asks both families");
    }
    let baseline = |kind: Kind| baseline_kib[kind.index()];
    let clients = config.clients(with_gai);

    // One short untimed pass first, checked: the responder's queue and
    // buffers grow to their size, and a broken client fails early.
    let warm_up = (config.names / 10).max(1);
    for &client in &clients {
        let run = run_client(config, &mut responder, client, warm_up)?;
        for problem in problems(config, client, warm_up, &run) {
            all_ok = false;
            eprintln!("{problem} (warm-up)");
        }
    }

    let mut runs: Vec<Vec<Run>> = clients.iter().map(|_| Vec::new()).collect();
    for _ in 0..config.repeats {
        for (&client, client_runs) in clients.iter().zip(&mut runs) {
            let run = run_client(config, &mut responder, client, config.names)?;
            for problem in problems(config, client, config.names, &run) {
                all_ok = false;
                eprintln!("{problem}");
            }
            client_runs.push(run);
        }
    }

    // The references: the stand-in pool with the fewest threads (it runs
    // everywhere, so its ratios compare across machines), and the real
    // getaddrinfo pool with the fewest threads when it ran.
    let fewest = |kind: Kind| {
        clients
            .iter()
            .enumerate()
            .filter(|(_, c)| c.kind == kind)
            .min_by_key(|(_, c)| c.width)
            .map(|(i, _)| i)
    };
    let references: Vec<usize> = [fewest(Kind::Pool), fewest(Kind::Gai)]
        .into_iter()
        .flatten()
        .collect();
    let ref_name = |r: usize| format!("{}-{}", clients[r].kind.key(), clients[r].width);

    let mut header = String::from(
        "| client | names/s | range | CPU µs/name | range | peak RSS | over baseline |",
    );
    for &r in &references {
        header += &format!(" names/s ÷ {0} | CPU/name ÷ {0} |", ref_name(r));
    }
    println!("\n{header}");
    println!(
        "|---|---|---|---|---|---|---|{}",
        "---|---|".repeat(references.len())
    );
    let mut peaks = Vec::new();
    for (i, (&client, client_runs)) in clients.iter().zip(&runs).enumerate() {
        let rates: Vec<f64> = client_runs.iter().map(Run::names_per_sec).collect();
        let cpus: Vec<f64> = client_runs.iter().map(Run::cpu_us_per_name).collect();
        let cpu = median(cpus.iter().copied());
        let peak = median(client_runs.iter().map(|r| r.report.peak_kib as f64));
        peaks.push(peak);
        let mut line = format!(
            "| {} | {} | {}–{} | {:.1} | {:.1}–{:.1} | {:.1} MiB | {:.1} MiB |",
            client.name(),
            thousands(median(rates.iter().copied()).round() as u64),
            thousands(min(&rates).round() as u64),
            thousands(max(&rates).round() as u64),
            cpu,
            min(&cpus),
            max(&cpus),
            peak / 1024.0,
            (peak - baseline(client.kind) as f64) / 1024.0,
        );
        for &r in &references {
            // The ratio in each round, against the reference's run of the
            // same round: its median, and its spread over the rounds.
            let ratios: Vec<f64> = rates
                .iter()
                .zip(&runs[r])
                .map(|(rate, reference)| rate / reference.names_per_sec())
                .collect();
            let ref_cpu = median(runs[r].iter().map(Run::cpu_us_per_name));
            if i == r {
                line += " 1.00 | 1.00 |";
            } else {
                line += &format!(
                    " **{:.1}** ({:.1}–{:.1}) | {:.2} |",
                    median(ratios.iter().copied()),
                    min(&ratios),
                    max(&ratios),
                    cpu / ref_cpu
                );
            }
        }
        println!("{line}");
    }

    // What one more lookup in flight (ours) or one more thread (a pool)
    // costs: the peak RSS between the smallest and largest of each kind.
    for kind in Kind::ALL {
        let of_kind: Vec<usize> = (0..clients.len())
            .filter(|&i| clients[i].kind == kind)
            .collect();
        let (Some(&small), Some(&large)) = (
            of_kind.iter().min_by_key(|&&i| clients[i].width),
            of_kind.iter().max_by_key(|&&i| clients[i].width),
        ) else {
            continue;
        };
        let (ws, wl) = (
            clients[small].in_flight(config.names),
            clients[large].in_flight(config.names),
        );
        if wl <= ws {
            continue;
        }
        let per = (peaks[large] - peaks[small]) * 1024.0 / (wl - ws) as f64;
        let unit = if kind == Kind::Ours {
            "lookup in flight"
        } else {
            "thread"
        };
        println!(
            "\nmarginal memory, {}: (peak at {} − peak at {}) / {} = {} B per {unit}",
            match kind {
                Kind::Pool => "pool stand-in",
                Kind::Gai => "getaddrinfo pool",
                Kind::Ours => "ours",
            },
            thousands(wl as u64),
            thousands(ws as u64),
            thousands((wl - ws) as u64),
            thousands(per.max(0.0).round() as u64),
        );
    }

    let baselines: Vec<String> = Kind::ALL
        .into_iter()
        .filter(|&kind| clients.iter().any(|c| c.kind == kind))
        .map(|kind| format!("{} {} KiB", kind.key(), baseline(kind)))
        .collect();
    println!(
        "\nbaseline peak RSS (names, runtime and resolver built, no lookup): {}",
        baselines.join(", ")
    );
    println!(
        "\nper client, over its {} runs: counters summed; shares of wall time and \
         latencies are medians (the latest answer: the maximum). `client CPU` below \
         100% with the loop never blocked means the client waited for a core.\n",
        config.repeats
    );
    println!(
        "| client | wall ms | client CPU % of wall | loop blocked in epoll_wait % | mean \
         lookup ms | queries | retries | timeouts | mismatched | queued | kernel drops | \
         responder CPU % | answers late, mean / max ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (&client, client_runs) in clients.iter().zip(&runs) {
        let sum = |f: fn(&Run) -> u64| client_runs.iter().map(f).sum::<u64>();
        let share = |f: fn(&Run) -> u64| {
            median(
                client_runs
                    .iter()
                    .map(|r| 100.0 * f(r) as f64 / r.report.wall_us.max(1) as f64),
            )
        };
        let late_max = client_runs
            .iter()
            .map(|r| r.responder.max_late_us)
            .max()
            .unwrap_or(0);
        let late_mean = median(
            client_runs
                .iter()
                .map(|r| r.responder.late_sum_us as f64 / r.responder.answered.max(1) as f64),
        );
        let queued = if client.kind == Kind::Ours {
            thousands(sum(|r| r.report.queued))
        } else {
            "–".into()
        };
        println!(
            "| {} | {:.0} | {:.0}% | {:.0}% | {:.1} | {} | {} | {} | {} | {queued} | {} | {:.0}% \
             | {:.2} / {:.1} |",
            client.name(),
            median(client_runs.iter().map(|r| r.report.wall_us as f64)) / 1e3,
            share(|r| r.report.cpu_us),
            share(|r| r.report.loop_blocked_us),
            median(client_runs.iter().map(|r| r.report.latency_mean_us as f64)) / 1e3,
            thousands(sum(|r| r.report.queries)),
            sum(|r| r.report.retries),
            sum(|r| r.report.timeouts),
            sum(|r| r.report.mismatched),
            sum(|r| r.responder.kernel_drops),
            share(|r| r.responder.cpu_us),
            late_mean / 1e3,
            late_max as f64 / 1e3,
        );
    }
    Ok(all_ok)
}

/// Lookups done and failed, with the first failure kept for the report.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    failed: u64,
    first_failure: Option<String>,
    /// Time from asking to the answer, summed over every lookup.
    latency_sum: Duration,
    latency_max: Duration,
}

impl Tally {
    fn record(&mut self, result: Result<(), String>, latency: Duration) {
        self.latency_sum += latency;
        self.latency_max = self.latency_max.max(latency);
        match result {
            Ok(()) => self.ok += 1,
            Err(e) => {
                self.failed += 1;
                self.first_failure.get_or_insert(e);
            }
        }
    }
}

/// Resolves names `0..count` with `width` tasks, each doing one lookup at
/// a time, taking the next name as it finishes one.
async fn drive<F, Fut>(count: usize, width: usize, lookup: F) -> Tally
where
    F: Fn(usize) -> Fut + 'static,
    Fut: Future<Output = Result<(), String>> + 'static,
{
    let next = Rc::new(Cell::new(0usize));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let lookup = Rc::new(lookup);
    let tasks: Vec<_> = (0..width.min(count))
        .map(|_| {
            let (next, tally, lookup) = (next.clone(), tally.clone(), lookup.clone());
            spawn(async move {
                loop {
                    let i = next.get();
                    if i >= count {
                        break;
                    }
                    next.set(i + 1);
                    let started = Instant::now();
                    let result = lookup(i).await;
                    tally.borrow_mut().record(result, started.elapsed());
                }
            })
        })
        .collect();
    for task in tasks {
        if let Err(e) = task.await {
            let error = format!("a driving task failed: {e}");
            tally.borrow_mut().record(Err(error), Duration::ZERO);
        }
    }
    tally.take()
}

/// Child role: resolve every name with one client, print the report.
fn client_role() -> ExitCode {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let (Some(kind), Ok(width), Ok(queue), Ok(addr), Ok(count)) = (
        Kind::from_key(&var(CHILD_KIND)),
        var(CHILD_WIDTH).parse::<usize>(),
        var(CHILD_QUEUE).parse::<usize>(),
        var(CHILD_ADDR).parse::<SocketAddr>(),
        var(CHILD_NAMES).parse::<usize>(),
    ) else {
        eprintln!("dns client: bad {CHILD_KIND} / {CHILD_WIDTH} / {CHILD_QUEUE} / {CHILD_ADDR} / {CHILD_NAMES}");
        return ExitCode::from(2);
    };
    let both = var(CHILD_BOTH) == "1";
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("dns client: cannot raise the fd limit: {e}");
    }
    // The real getaddrinfo pool: first into namespaces of its own, where
    // a responder of its own answers on port 53 (before any thread).
    let mut own_responder = None;
    let _resolv_conf = if kind == Kind::Gai {
        let delay = Duration::from_micros(var(CHILD_DELAY).parse().unwrap_or(20_000));
        match gai_namespace(delay) {
            Ok((file, responder)) => {
                own_responder = Some(responder);
                Some(file)
            }
            Err(e) => {
                println!("unavailable={e}");
                return ExitCode::SUCCESS;
            }
        }
    } else {
        None
    };
    let responder_before = match own_responder.as_mut().map(ResponderProcess::stats) {
        Some(Err(e)) => {
            eprintln!("dns client: responder: {e}");
            return ExitCode::FAILURE;
        }
        Some(Ok(stats)) => Some(stats),
        None => None,
    };
    let names: Rc<Vec<String>> = Rc::new((0..count).map(dns_wire::name).collect());
    let runtime = match Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("dns client: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };

    let mut report = Report::default();
    let (user_before, sys_before) = sys::process_cpu_times();
    let start = Instant::now();
    let tally = match kind {
        Kind::Ours => {
            let mut config = ResolverConfig::new(vec![addr]);
            config.max_in_flight = width;
            config.no_aaaa = !both;
            let resolver = StubResolver::new(config);
            let lookup = {
                let (resolver, names) = (resolver.clone(), names.clone());
                move |i: usize| {
                    let (resolver, names) = (resolver.clone(), names.clone());
                    async move {
                        let addresses = resolver
                            .lookup(&names[i])
                            .await
                            .map_err(|e| e.to_string())?;
                        dns_wire::check(i, &addresses, both)
                    }
                }
            };
            let tally = runtime.block_on(drive(count, width, lookup));
            let stats = resolver.stats();
            report.queries = stats.queries_sent;
            report.retries = stats.retries;
            report.timeouts = stats.timeouts;
            report.queued = stats.queued;
            report.mismatched = stats.dropped_mismatched;
            tally
        }
        Kind::Gai => {
            let resolver = Resolver::new(width);
            let lookup = {
                let (resolver, names) = (resolver.clone(), names.clone());
                move |i: usize| {
                    let (resolver, names) = (resolver.clone(), names.clone());
                    async move {
                        let addresses = resolver
                            .lookup(&names[i])
                            .await
                            .map_err(|e| e.to_string())?;
                        dns_wire::check(i, &addresses, true)
                    }
                }
            };
            runtime.block_on(drive(count, queue, lookup))
        }
        Kind::Pool => {
            let pool = UdpPool::new(width, addr, both);
            let lookup = {
                let (pool, names) = (pool.clone(), names.clone());
                move |i: usize| {
                    let (pool, names) = (pool.clone(), names.clone());
                    async move {
                        let addresses = pool.lookup(&names[i]).await?;
                        dns_wire::check(i, &addresses, both)
                    }
                }
            };
            let tally = runtime.block_on(drive(count, queue, lookup));
            let counters = pool.counters();
            report.queries = counters.queries.load(Ordering::Relaxed);
            report.retries = counters.retries.load(Ordering::Relaxed);
            report.timeouts = counters.timeouts.load(Ordering::Relaxed);
            report.mismatched = counters.mismatched.load(Ordering::Relaxed);
            tally
        }
    };
    let wall = start.elapsed();
    let (user_after, sys_after) = sys::process_cpu_times();
    let (user, system) = (user_after - user_before, sys_after - sys_before);
    let cpu = user + system;
    let loop_stats = runtime.stats();
    if let (Some(responder), Some(before)) = (own_responder.as_mut(), responder_before) {
        match responder.stats() {
            Ok(after) => {
                let during = after.since(&before);
                // getaddrinfo counts nothing: its queries are the responder's.
                report.queries = during.received;
                println!("responder={}", during.to_line());
            }
            Err(e) => {
                eprintln!("dns client: responder: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let peak_kib = match sys::peak_rss_kib() {
        Ok(peak) => peak,
        Err(e) => {
            eprintln!("dns client: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("wall_us={}", wall.as_micros());
    println!("cpu_us={}", cpu.as_micros());
    println!("user_us={}", user.as_micros());
    println!("sys_us={}", system.as_micros());
    println!("peak_kib={peak_kib}");
    println!("ok={}", tally.ok);
    println!("failed={}", tally.failed);
    println!("first_failure={}", tally.first_failure.unwrap_or_default());
    let lookups = (tally.ok + tally.failed).max(1);
    println!(
        "latency_mean_us={}",
        tally.latency_sum.as_micros() as u64 / lookups
    );
    println!("latency_max_us={}", tally.latency_max.as_micros());
    println!("loop_blocked_us={}", loop_stats.blocked.as_micros());
    println!("loop_turns={}", loop_stats.turns);
    println!("loop_events={}", loop_stats.events);
    println!("loop_events_max={}", loop_stats.events_max);
    println!("queries={}", report.queries);
    println!("retries={}", report.retries);
    println!("timeouts={}", report.timeouts);
    println!("queued={}", report.queued);
    println!("mismatched={}", report.mismatched);
    ExitCode::SUCCESS
}

/// Enters a private network and mount namespace where `/etc/resolv.conf`
/// says `nameserver 127.0.0.1`, and starts a responder there on port 53.
/// The file must live as long as the namespace is used.
fn gai_namespace(delay: Duration) -> io::Result<(tempfile::NamedTempFile, ResponderProcess)> {
    use std::io::Write;
    let mut file = tempfile::NamedTempFile::new()?;
    file.write_all(b"nameserver 127.0.0.1\n")?;
    file.flush()?;
    netns::enter_private_resolver(file.path())?;
    let responder = ResponderProcess::spawn(delay, 53)?;
    Ok((file, responder))
}

fn median(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn min(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::INFINITY, f64::min)
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
}

/// `12345` as `12,345`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
