//! The HTTPS part of `cargo bench --bench fetch`: our client against tokio
//! `current_thread` + tokio-rustls, fetching heads over TLS from a loopback
//! server in its own process (`tls_server.rs`).
//!
//! The two clients do the same work on the wire (see `tokio_tls_fetch.rs`
//! for the list: same rustls and `ring` provider, same roots, versions,
//! ALPN, no resumption, same request bytes, same head check, same
//! concurrency), and the bench checks the part it can see: before anything
//! is measured, one fetch by each reports what its session negotiated, and
//! the two must agree on version, cipher suite and ALPN. Every fetch of
//! every run must get a `200` head, or the bench fails.
//!
//! Four measurements, in markdown tables with ratios ours / tokio:
//!
//! 1. **Throughput, in this process.** `FH_BENCH_TLS_N` fetches (default
//!    5,000) at each concurrency of `FH_BENCH_TLS_CONCURRENCY` (a comma
//!    list, default `200,500`), `FH_BENCH_TLS_REPEATS` (default 5)
//!    interleaved runs, medians: wall time, fetches per second, this
//!    process's user + system CPU per fetch, the ratio ours / tokio of
//!    the medians and its range run by run, and the server's CPU per
//!    fetch (asked of the server before and after each run). A second
//!    table splits the client thread's wall time, from the scheduler's
//!    own accounting, into time on a CPU, time waiting for one (other load
//!    on the machine) and time blocked with nothing to do: a server that
//!    was the bottleneck would keep the client blocked, so that share shows
//!    it was not.
//! 2. **Instructions per fetch** (`valgrind --tool=callgrind`, user space,
//!    all threads of a client child process): each client at
//!    `FH_BENCH_TLS_VG_SMALL` and `FH_BENCH_TLS_VG_LARGE` fetches (default
//!    100 and 500; 0 skips) at `FH_BENCH_TLS_VG_CONCURRENCY` (default 50),
//!    and the marginal count between them, which leaves out start-up.
//!    Skipped, with a message, without valgrind. `FH_BENCH_TLS_VG_DIR=DIR`
//!    keeps callgrind's files for `callgrind_annotate`.
//! 3. **Memory per TLS connection.** A client child process opens
//!    `FH_BENCH_TLS_MEM_CONNS` connections (default 1,000) at once; the
//!    server completes each handshake, reads the request and holds the
//!    answer until all are held. At that moment every session is
//!    established and waiting for its head, and the bench reads the
//!    child's RSS (`VmRSS`); then the server answers them all. Also run
//!    with a tenth as many connections and with none (the baseline), and
//!    reported as RSS growth per connection over the baseline, and as the
//!    marginal cost between the two loads. Median of
//!    `FH_BENCH_TLS_MEM_REPEATS` (default 3).
//! 4. **The command as users run it**: `fetch-headers --cacert CA -i LIST
//!    -q -o /dev/null -c C` on a list of `FH_BENCH_TLS_CLI_N` (default
//!    5,000; 0 skips) `https://127.0.0.1:PORT/` lines, C the first
//!    concurrency of the list, against the tokio client as a child process
//!    making as many fetches: whole processes, start-up included, CPU from
//!    `wait4`, median of the repeats.
//!
//! # Sizes
//!
//! `FH_BENCH_TLS` picks what runs and at which default sizes (each
//! `FH_BENCH_TLS_*` variable still overrides its own size):
//!
//! - unset: this part after the plain one, at full sizes under
//!   `cargo bench`, unless the plain part was sized by hand
//!   (`FH_BENCH_N`, `FH_BENCH_REPEATS` or `FH_BENCH_MEM_CONNS` set, as
//!   CI's smoke line does): a run sized down by hand is a quick one, so
//!   this part takes its smoke sizes too;
//! - `full`: full sizes, whatever the plain part's variables say;
//! - `only`: full sizes, and nothing of the plain part;
//! - `smoke`: smoke sizes;
//! - `0`: this part is skipped.
//!
//! Without `--bench` (`cargo test --benches`) the sizes are smoke sizes
//! whatever the mode. Smoke sizes: 100 fetches at 20 in flight, one run,
//! 50 sessions held, 100 fetches of the command, no valgrind. The first
//! line of this part's output says which sizes it took, and why.

use std::io::{self, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::figures::{median, ms, ratio, thousands};
use crate::tls_server::TlsServerProcess;
use crate::wire::Tally;
use crate::{child, env, ours_tls_fetch, sys, tls_certs, tls_server, tokio_tls_fetch};

/// Child role: one TLS client making fetches, reporting on stdout.
pub const ROLE_TLS_CLIENT: &str = "tls-client";

/// The command under test, as cargo built it for this bench.
const BINARY: &str = env!("CARGO_BIN_EXE_fetch-headers");

// What a client child is told.
const CHILD_CLIENT: &str = "FH_BENCH_TLS_CHILD_CLIENT";
const CHILD_ADDR: &str = "FH_BENCH_TLS_CHILD_ADDR";
const CHILD_FETCHES: &str = "FH_BENCH_TLS_CHILD_FETCHES";
const CHILD_IN_FLIGHT: &str = "FH_BENCH_TLS_CHILD_IN_FLIGHT";
const CHILD_CA: &str = "FH_BENCH_TLS_CHILD_CA";

/// The two clients, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Ours,
    Tokio,
}

impl Client {
    const ALL: [Client; 2] = [Client::Ours, Client::Tokio];

    fn name(self) -> &'static str {
        match self {
            Client::Ours => "ours (fetch::run)",
            Client::Tokio => "tokio current_thread + tokio-rustls",
        }
    }

    /// Stable name for passing a client to a child process.
    fn key(self) -> &'static str {
        match self {
            Client::Ours => "ours",
            Client::Tokio => "tokio",
        }
    }

    fn from_key(key: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.key() == key)
    }
}

/// What this part runs, from the environment.
#[derive(Debug)]
pub struct TlsConfig {
    /// Run only this part (`FH_BENCH_TLS=only`).
    pub only: bool,
    /// Which default sizes were taken, and why: printed with the results.
    sizing: &'static str,
    fetches: usize,
    concurrency: Vec<usize>,
    repeats: usize,
    mem_conns: usize,
    mem_repeats: usize,
    vg_small: usize,
    vg_large: usize,
    vg_concurrency: usize,
    vg_dir: Option<PathBuf>,
    cli_fetches: usize,
}

/// The plain part's size variables: setting any of them makes an unset
/// `FH_BENCH_TLS` take smoke sizes.
const PLAIN_SIZES: [&str; 3] = ["FH_BENCH_N", "FH_BENCH_REPEATS", "FH_BENCH_MEM_CONNS"];

impl TlsConfig {
    /// Reads the `FH_BENCH_TLS*` variables (see the module doc for the
    /// rules); `None` if `FH_BENCH_TLS=0`.
    pub fn from_env() -> Option<TlsConfig> {
        let mode = std::env::var("FH_BENCH_TLS").unwrap_or_default();
        let hand_sized = PLAIN_SIZES.iter().any(|v| std::env::var_os(v).is_some());
        let (full, sizing) = match mode.as_str() {
            "0" => return None,
            _ if !env::full_run() => (false, "smoke sizes: run without --bench"),
            "smoke" => (false, "smoke sizes: FH_BENCH_TLS=smoke"),
            "full" => (true, "full sizes: FH_BENCH_TLS=full"),
            "only" => (true, "full sizes: FH_BENCH_TLS=only"),
            "" if hand_sized => (
                false,
                "smoke sizes: the plain part was sized by hand (FH_BENCH_N, \
                 FH_BENCH_REPEATS or FH_BENCH_MEM_CONNS) and FH_BENCH_TLS is unset; \
                 FH_BENCH_TLS=full for full sizes",
            ),
            "" => (true, "full sizes: cargo bench"),
            other => {
                eprintln!(
                    "bench: FH_BENCH_TLS={other:?} is none of 0, smoke, full, only; \
                     taking smoke sizes"
                );
                (false, "smoke sizes: FH_BENCH_TLS not understood")
            }
        };
        // Every size has one default for this run, whatever `env::size`
        // would pick from `--bench` alone.
        let size = |name: &str, full_default: usize, smoke_default: usize| {
            let default = if full { full_default } else { smoke_default };
            env::size(name, default, default)
        };
        Some(TlsConfig {
            only: mode == "only",
            sizing,
            fetches: size("FH_BENCH_TLS_N", 5_000, 100),
            concurrency: concurrency_list(if full { "200,500" } else { "20" }),
            repeats: size("FH_BENCH_TLS_REPEATS", 5, 1).max(1),
            mem_conns: size("FH_BENCH_TLS_MEM_CONNS", 1_000, 50),
            mem_repeats: size("FH_BENCH_TLS_MEM_REPEATS", 3, 1).max(1),
            vg_small: size("FH_BENCH_TLS_VG_SMALL", 100, 0),
            vg_large: size("FH_BENCH_TLS_VG_LARGE", 500, 0),
            vg_concurrency: size("FH_BENCH_TLS_VG_CONCURRENCY", 50, 10).max(1),
            vg_dir: std::env::var_os("FH_BENCH_TLS_VG_DIR").map(PathBuf::from),
            cli_fetches: size("FH_BENCH_TLS_CLI_N", 5_000, 100),
        })
    }
}

/// `FH_BENCH_TLS_CONCURRENCY` as a list, or `default`'s.
fn concurrency_list(default: &str) -> Vec<usize> {
    let parse = |text: &str| -> Option<Vec<usize>> {
        let list: Option<Vec<usize>> = text
            .split(',')
            .map(|n| n.trim().parse().ok().filter(|&n| n > 0))
            .collect();
        list.filter(|l| !l.is_empty())
    };
    match std::env::var("FH_BENCH_TLS_CONCURRENCY") {
        Ok(text) => parse(&text).unwrap_or_else(|| {
            eprintln!("bench: FH_BENCH_TLS_CONCURRENCY={text:?} is not a list of counts");
            parse(default).expect("the default parses")
        }),
        Err(_) => parse(default).expect("the default parses"),
    }
}

/// Each client's shared configuration, built once, outside any timing.
struct Prepared {
    ca: PathBuf,
    ours: Option<fetch_headers::tls::TlsConnector>,
    tokio: Option<Arc<rustls::ClientConfig>>,
    request: Arc<[u8]>,
}

impl Prepared {
    /// The configurations of `clients` (a client child builds only its own).
    fn new(ca: &Path, addr: SocketAddr, clients: &[Client]) -> io::Result<Prepared> {
        let ours = match clients.contains(&Client::Ours) {
            true => Some(ours_tls_fetch::connector(ca).map_err(io::Error::other)?),
            false => None,
        };
        let tokio = match clients.contains(&Client::Tokio) {
            true => Some(tokio_tls_fetch::client_config(ca)?),
            false => None,
        };
        Ok(Prepared {
            ca: ca.to_owned(),
            ours,
            tokio,
            request: ours_tls_fetch::request_bytes(addr).into(),
        })
    }

    fn ours(&self) -> io::Result<fetch_headers::tls::TlsConnector> {
        self.ours
            .clone()
            .ok_or_else(|| io::Error::other("ours was not prepared"))
    }

    fn tokio(&self) -> io::Result<Arc<rustls::ClientConfig>> {
        self.tokio
            .clone()
            .ok_or_else(|| io::Error::other("tokio was not prepared"))
    }

    /// Builds `client`'s runtime (not timed), then runs `total` fetches
    /// with `concurrency` in flight, timing them.
    fn run(
        &self,
        client: Client,
        addr: SocketAddr,
        total: usize,
        concurrency: usize,
    ) -> io::Result<Timed> {
        Ok(match client {
            Client::Ours => {
                let rt = fetch_headers::runtime::Runtime::new()?;
                let tls = self.ours()?;
                measure(|| rt.block_on(ours_tls_fetch::fetch_all(addr, total, concurrency, tls)))
            }
            Client::Tokio => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                let (config, request) = (self.tokio()?, self.request.clone());
                measure(|| {
                    rt.block_on(tokio_tls_fetch::fetch_all(
                        addr,
                        total,
                        concurrency,
                        config,
                        request,
                    ))
                })
            }
        })
    }
}

/// One timed run of a client in this process.
#[derive(Debug)]
struct Timed {
    wall: Duration,
    user: Duration,
    sys: Duration,
    /// The running thread's scheduler times over the run, if the kernel
    /// keeps them.
    sched: Option<Sched>,
    tally: Tally,
}

/// Times `work`: wall clock, this process's user and system CPU, and the
/// scheduler's view of this thread (both clients run on the thread that
/// calls `block_on`).
fn measure(work: impl FnOnce() -> Tally) -> Timed {
    let (user_before, sys_before) = sys::process_cpu_times();
    let sched_before = Sched::this_thread();
    let start = Instant::now();
    let tally = work();
    let wall = start.elapsed();
    let sched = Sched::this_thread()
        .zip(sched_before)
        .map(|(after, before)| after.since(before));
    let (user, sys) = sys::process_cpu_times();
    Timed {
        wall,
        user: user.saturating_sub(user_before),
        sys: sys.saturating_sub(sys_before),
        sched,
        tally,
    }
}

/// What the scheduler says of one thread (`/proc/thread-self/schedstat`):
/// time on a CPU, and time runnable but waiting for one. Over a run, the
/// rest of the wall time the thread was blocked: in `epoll_wait` with
/// nothing ready, waiting for the server or the network. That rest is what
/// shows whether the server kept the client waiting; the time waiting for
/// a CPU is what other load on the machine cost.
#[derive(Debug, Clone, Copy)]
struct Sched {
    on_cpu: Duration,
    waiting_for_cpu: Duration,
}

impl Sched {
    /// The calling thread's totals so far; `None` where the kernel does
    /// not keep them (no `CONFIG_SCHED_INFO`).
    fn this_thread() -> Option<Sched> {
        let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
        let mut nanos = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        Some(Sched {
            on_cpu: Duration::from_nanos(nanos.next()??),
            waiting_for_cpu: Duration::from_nanos(nanos.next()??),
        })
    }

    fn since(self, before: Sched) -> Sched {
        Sched {
            on_cpu: self.on_cpu.saturating_sub(before.on_cpu),
            waiting_for_cpu: self.waiting_for_cpu.saturating_sub(before.waiting_for_cpu),
        }
    }
}

/// Runs every measurement of this part. Returns false if any fetch failed
/// or the clients did not negotiate alike.
pub fn run(config: &TlsConfig) -> io::Result<bool> {
    let certs = tls_certs::make()?;
    let mut server = TlsServerProcess::spawn(&certs)?;
    let addr = server.addr();
    let prepared = Prepared::new(&certs.ca, addr, &Client::ALL)?;
    println!(
        "\n## HTTPS: {} against a loopback TLS server (pid {}, {} tokio worker threads) at {addr}",
        Client::ALL.map(Client::name).join(" vs "),
        server.pid(),
        tls_server::THREADS,
    );
    println!("\n{}", config.sizing);
    let mut all_ok = negotiated(&prepared, addr)?;
    let mut part = |name: &str, result: io::Result<bool>| match result {
        Ok(ok) => all_ok &= ok,
        Err(e) => {
            eprintln!("fetch bench: tls {name}: {e}");
            all_ok = false;
        }
    };
    if config.fetches > 0 {
        part("throughput", throughput(config, &prepared, &mut server));
    }
    if config.vg_large > 0 {
        part("callgrind", callgrind(config, &prepared, addr));
    }
    if config.mem_conns > 0 {
        part("memory", memory(config, &prepared, &mut server));
    }
    if config.cli_fetches > 0 {
        part("command", command(config, &prepared, addr));
    }
    Ok(all_ok)
}

/// One fetch by each client, printing what its session negotiated; false
/// if they differ.
fn negotiated(prepared: &Prepared, addr: SocketAddr) -> io::Result<bool> {
    let rt = fetch_headers::runtime::Runtime::new()?;
    let ours = rt.block_on(ours_tls_fetch::probe(addr, prepared.ours()?));
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tokio = tokio_rt.block_on(tokio_tls_fetch::probe(
        addr,
        prepared.tokio()?,
        &prepared.request,
    ));
    let (ours, tokio) = match (ours, tokio) {
        (Ok(ours), Ok(tokio)) => (ours, tokio),
        (ours, tokio) => {
            eprintln!("FAILED: the first fetch: ours {ours:?}, tokio {tokio:?}");
            return Ok(false);
        }
    };
    let ours_version = ours.version.map_or("none", |v| v.as_str());
    let ours_suite = ours.cipher_suite.unwrap_or("none");
    let ours_alpn = ours.alpn.as_deref().unwrap_or("none");
    println!(
        "\nnegotiated: ours {ours_version} {ours_suite} ALPN {ours_alpn} verdict {}; \
         tokio {} {} ALPN {} key exchange {}; request {:?}",
        ours.verdict.kind(),
        tokio.version,
        tokio.suite,
        tokio.alpn,
        tokio.group,
        String::from_utf8_lossy(&prepared.request),
    );
    let same =
        ours_version == tokio.version && ours_suite == tokio.suite && ours_alpn == tokio.alpn;
    if !same {
        eprintln!("FAILED: the two clients negotiated different sessions");
    }
    Ok(same)
}

/// One timed run.
#[derive(Debug)]
struct Sample {
    wall: Duration,
    user: Duration,
    sys: Duration,
    sched: Option<Sched>,
    server_cpu: Duration,
}

impl Sample {
    fn cpu(&self) -> Duration {
        self.user + self.sys
    }
}

/// The in-process throughput table.
fn throughput(
    config: &TlsConfig,
    prepared: &Prepared,
    server: &mut TlsServerProcess,
) -> io::Result<bool> {
    let addr = server.addr();
    let n = config.fetches;
    let mut all_ok = true;
    let mut check = |client: Client, tally: &Tally| {
        if tally.failed > 0 || tally.ok != n {
            all_ok = false;
            eprintln!("FAILED TLS run of {}: {tally}", client.name());
        }
    };
    // Rows: (concurrency, client, samples).
    let mut rows: Vec<(usize, Client, Vec<Sample>)> = Vec::new();
    for &c in &config.concurrency {
        // Untimed first: the server's runtime and the kernel's socket
        // caches warm up on it.
        for client in Client::ALL {
            prepared.run(client, addr, (n / 10).max(c.min(n)), c)?;
        }
        let first = rows.len();
        for client in Client::ALL {
            rows.push((c, client, Vec::new()));
        }
        for _ in 0..config.repeats {
            for (client, row) in Client::ALL.iter().zip(&mut rows[first..]) {
                let server_before = server.cpu_time()?;
                let timed = prepared.run(*client, addr, n, c)?;
                let server_cpu = server.cpu_time()?.saturating_sub(server_before);
                check(*client, &timed.tally);
                row.2.push(Sample {
                    wall: timed.wall,
                    user: timed.user,
                    sys: timed.sys,
                    sched: timed.sched,
                    server_cpu,
                });
            }
        }
    }

    println!(
        "\nHTTPS throughput, in this process: {n} fetches of https://{addr}/ per run, \
         median of {} interleaved runs; CPU is this process's user + system time \
         (user and sys are each their own median), the server's is asked of it \
         before and after each run; CPU / tokio is the ratio of the medians, then \
         the lowest and highest of the ratios run by run (each run of ours against \
         the tokio run next to it):\n",
        config.repeats
    );
    println!(
        "| client | in flight | wall ms | fetches/s | client CPU µs/fetch | user | sys | \
         client CPU % of wall | server CPU µs/fetch | server CPU % of wall | wall / tokio | \
         CPU / tokio | run by run |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    struct Row {
        c: usize,
        client: Client,
        wall: Duration,
        cpu: Duration,
        user: Duration,
        sys: Duration,
        server_cpu: Duration,
    }
    let medians: Vec<Row> = rows
        .iter()
        .map(|(c, client, samples)| Row {
            c: *c,
            client: *client,
            wall: median(samples.iter().map(|s| s.wall)),
            cpu: median(samples.iter().map(Sample::cpu)),
            user: median(samples.iter().map(|s| s.user)),
            sys: median(samples.iter().map(|s| s.sys)),
            server_cpu: median(samples.iter().map(|s| s.server_cpu)),
        })
        .collect();
    let per_fetch = |d: Duration| micros(d) / n as f64;
    for ((_, _, samples), row) in rows.iter().zip(&medians) {
        let tokio = medians
            .iter()
            .find(|r| r.c == row.c && r.client == Client::Tokio)
            .expect("tokio ran at every concurrency");
        let run_by_run = match row.client {
            Client::Tokio => "–".to_owned(),
            Client::Ours => {
                let tokio_samples = rows
                    .iter()
                    .find(|(c, client, _)| *c == row.c && *client == Client::Tokio)
                    .map(|(_, _, samples)| samples)
                    .expect("tokio ran at every concurrency");
                let ratios: Vec<f64> = samples
                    .iter()
                    .zip(tokio_samples)
                    .map(|(ours, tokio)| ratio(ours.cpu(), tokio.cpu()))
                    .collect();
                let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
                let high = ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                format!("{low:.2}–{high:.2}")
            }
        };
        println!(
            "| {} | {} | {:.0} | {:.0} | **{:.1}** | {:.1} | {:.1} | {:.0}% | {:.1} | {:.0}% | \
             {:.2} | **{:.2}** | {run_by_run} |",
            row.client.name(),
            row.c,
            ms(row.wall),
            n as f64 / row.wall.as_secs_f64(),
            per_fetch(row.cpu),
            per_fetch(row.user),
            per_fetch(row.sys),
            100.0 * row.cpu.as_secs_f64() / row.wall.as_secs_f64(),
            per_fetch(row.server_cpu),
            100.0 * row.server_cpu.as_secs_f64() / row.wall.as_secs_f64(),
            ratio(row.wall, tokio.wall),
            ratio(row.cpu, tokio.cpu),
        );
    }
    wall_time_table(&rows);
    Ok(all_ok)
}

/// Where the client thread's wall time went, from [`Sched`]: the check
/// that the server was not the bottleneck (a client kept waiting by its
/// server is blocked, not on a CPU), and how much the machine's other load
/// cost the wall figures.
fn wall_time_table(rows: &[(usize, Client, Vec<Sample>)]) {
    let Some(shares) = rows
        .iter()
        .map(|(_, _, samples)| {
            let per_run: Option<Vec<[f64; 3]>> = samples
                .iter()
                .map(|s| {
                    let sched = s.sched?;
                    let wall = s.wall.as_secs_f64();
                    let on_cpu = sched.on_cpu.as_secs_f64();
                    let waiting = sched.waiting_for_cpu.as_secs_f64();
                    Some([
                        on_cpu / wall,
                        waiting / wall,
                        (wall - on_cpu - waiting) / wall,
                    ])
                })
                .collect();
            per_run.map(|runs| [0, 1, 2].map(|i| median_f64(runs.iter().map(|shares| shares[i]))))
        })
        .collect::<Option<Vec<[f64; 3]>>>()
    else {
        println!(
            "\nWhere the client's wall time went: SKIPPED: no /proc/thread-self/schedstat \
             (a kernel without CONFIG_SCHED_INFO)"
        );
        return;
    };
    println!(
        "\nWhere the client's wall time went (its thread's /proc/thread-self/schedstat, \
         median of the runs): on a CPU; runnable but waiting for one (the machine's \
         other load); blocked with nothing to do, waiting for the server or the network \
         (what a server that is the bottleneck would show):\n"
    );
    println!(
        "| client | in flight | on a CPU | waiting for a CPU | blocked, waiting for the server |"
    );
    println!("|---|---|---|---|---|");
    for ((c, client, _), [on_cpu, waiting, blocked]) in rows.iter().zip(shares) {
        println!(
            "| {} | {c} | {:.1}% | {:.1}% | **{:.1}%** |",
            client.name(),
            100.0 * on_cpu,
            100.0 * waiting,
            100.0 * blocked.max(0.0),
        );
    }
}

/// A client child's report.
#[derive(Debug, Default)]
struct Report {
    ok: usize,
    failed: usize,
    peak_kib: u64,
}

impl Report {
    fn parse(out: &str) -> io::Result<Report> {
        let mut report = Report::default();
        for line in out.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let bad = || io::Error::other(format!("tls client child said {line:?}"));
            match key {
                "ok" => report.ok = value.parse().map_err(|_| bad())?,
                "failed" => report.failed = value.parse().map_err(|_| bad())?,
                "peak_kib" => report.peak_kib = value.parse().map_err(|_| bad())?,
                _ => {}
            }
        }
        Ok(report)
    }

    /// Prints a failure and returns false unless all `n` fetches got a 200.
    fn check(&self, what: &str, n: usize) -> bool {
        let ok = self.ok == n && self.failed == 0;
        if !ok {
            eprintln!(
                "FAILED: {what}: {} ok, {} failed of {n}",
                self.ok, self.failed
            );
        }
        ok
    }
}

/// The command line of a client child: this binary in the client role,
/// under `wrapper` (valgrind's command) if not empty. Its stdout is piped.
fn client_command(
    wrapper: &[String],
    client: Client,
    prepared: &Prepared,
    addr: SocketAddr,
    fetches: usize,
    in_flight: usize,
) -> io::Result<Command> {
    let exe = std::env::current_exe()?;
    let mut command = match wrapper.split_first() {
        Some((tool, args)) => {
            let mut command = Command::new(tool);
            command.args(args).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    command
        .env(child::ROLE_VAR, ROLE_TLS_CLIENT)
        .env(CHILD_CLIENT, client.key())
        .env(CHILD_ADDR, addr.to_string())
        .env(CHILD_FETCHES, fetches.to_string())
        .env(CHILD_IN_FLIGHT, in_flight.to_string())
        .env(CHILD_CA, &prepared.ca)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    Ok(command)
}

/// Runs a client child to the end and returns its report.
fn run_client_child(mut command: Command, what: &str) -> io::Result<Report> {
    let output = command.output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "{what} exited with {}",
            output.status
        )));
    }
    Report::parse(&String::from_utf8_lossy(&output.stdout))
}

/// Instructions per fetch, under callgrind.
fn callgrind(config: &TlsConfig, prepared: &Prepared, addr: SocketAddr) -> io::Result<bool> {
    match Command::new("valgrind").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => {
            println!(
                "\nHTTPS instructions per fetch: SKIPPED: valgrind is not installed \
                 (apt-get install valgrind)"
            );
            return Ok(true);
        }
    }
    let (small, large, c) = (config.vg_small, config.vg_large, config.vg_concurrency);
    if small >= large {
        eprintln!(
            "fetch bench: FH_BENCH_TLS_VG_SMALL={small} must be below FH_BENCH_TLS_VG_LARGE={large}"
        );
        return Ok(false);
    }
    let scratch = tempfile::tempdir()?;
    let dir = match &config.vg_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir.clone()
        }
        None => scratch.path().to_path_buf(),
    };
    let mut all_ok = true;
    let mut rows = Vec::new();
    for client in Client::ALL {
        let mut counts = [0u64; 2];
        for (count, n) in counts.iter_mut().zip([small, large]) {
            let out = dir.join(format!("tls-{}-{n}.callgrind.out", client.key()));
            let log = dir.join(format!("tls-{}-{n}.callgrind.log", client.key()));
            let wrapper = [
                "valgrind".to_owned(),
                "--tool=callgrind".to_owned(),
                format!("--callgrind-out-file={}", out.display()),
                format!("--log-file={}", log.display()),
            ];
            let command = client_command(&wrapper, client, prepared, addr, n, c)?;
            let what = format!("{} under callgrind, {n} fetches", client.name());
            let report = run_client_child(command, &what)?;
            all_ok &= report.check(&what, n);
            let text = std::fs::read_to_string(&out)?;
            *count = text
                .lines()
                .find_map(|l| {
                    l.strip_prefix("summary:")
                        .or_else(|| l.strip_prefix("totals:"))
                })
                .and_then(|n| n.split_whitespace().next()?.parse().ok())
                .ok_or_else(|| io::Error::other(format!("no instruction total in {out:?}")))?;
        }
        rows.push((client, counts));
    }
    let span = (large - small) as f64;
    let per_fetch = |c: &[u64; 2]| (c[1] as f64 - c[0] as f64) / span;
    let tokio = rows
        .iter()
        .find(|(client, _)| *client == Client::Tokio)
        .map_or(f64::NAN, |(_, c)| per_fetch(c));
    println!(
        "\nHTTPS instructions per fetch (valgrind --tool=callgrind, user space, every \
         thread of a client child process; marginal between {small} and {large} fetches \
         at {c} in flight):\n"
    );
    println!("| client | Ir at {small} | Ir at {large} | fixed Ir | Ir per fetch | / tokio |");
    println!("|---|---|---|---|---|---|");
    for (client, c) in &rows {
        let marginal = per_fetch(c);
        println!(
            "| {} | {} | {} | {} | **{}** | **{:.2}** |",
            client.name(),
            thousands(c[0] as f64),
            thousands(c[1] as f64),
            thousands(c[0] as f64 - marginal * small as f64),
            thousands(marginal),
            marginal / tokio
        );
    }
    if config.vg_dir.is_some() {
        println!("\ncallgrind's files are in {}", dir.display());
    }
    Ok(all_ok)
}

/// One memory run: the child's RSS with every session held, and its peak.
#[derive(Debug, Clone, Copy)]
struct MemorySample {
    held_kib: u64,
    peak_kib: u64,
}

/// Runs `client` in a child with `n` sessions held at once by the server.
fn memory_run(
    client: Client,
    prepared: &Prepared,
    server: &mut TlsServerProcess,
    n: usize,
) -> io::Result<(MemorySample, bool)> {
    let what = format!("{} holding {n} TLS sessions", client.name());
    if n > 0 {
        server.hold(n)?;
    }
    let mut child = client_command(&[], client, prepared, server.addr(), n, n.max(1))?.spawn()?;
    let held = if n > 0 {
        let waited = server.wait_held(n, || matches!(child.try_wait(), Ok(None)));
        let rss = waited.and_then(|()| rss_kib(child.id()));
        // Release in any case, so the child can finish and be reaped.
        let released = server.release();
        match (rss, released) {
            (Ok(kib), Ok(())) => Some(kib),
            (Err(e), _) | (_, Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(io::Error::other(format!("{what}: {e}")));
            }
        }
    } else {
        None
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(io::Error::other(format!("{what}: exited with {status}")));
    }
    let report = Report::parse(&out)?;
    let ok = report.check(&what, n);
    let sample = MemorySample {
        // With no session to hold, the baseline is the child's peak: its
        // runtime and TLS configuration, built and idle.
        held_kib: held.unwrap_or(report.peak_kib),
        peak_kib: report.peak_kib,
    };
    Ok((sample, ok))
}

/// `VmRSS` of the running process `pid`, in KiB.
fn rss_kib(pid: u32) -> io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other(format!("no VmRSS line for pid {pid}")))
}

/// The memory table.
fn memory(
    config: &TlsConfig,
    prepared: &Prepared,
    server: &mut TlsServerProcess,
) -> io::Result<bool> {
    let n = config.mem_conns;
    let tenth = (n / 10).max(1);
    let sizes = [0, tenth, n];
    let mut all_ok = true;
    // samples[client][size] over the repeats, interleaved.
    let mut samples: Vec<Vec<Vec<MemorySample>>> = vec![vec![Vec::new(); 3]; 2];
    for _ in 0..config.mem_repeats {
        for (ci, client) in Client::ALL.into_iter().enumerate() {
            for (si, &size) in sizes.iter().enumerate() {
                let (sample, ok) = memory_run(client, prepared, server, size)?;
                all_ok &= ok;
                samples[ci][si].push(sample);
            }
        }
    }
    let kib = |runs: &Vec<MemorySample>, f: fn(&MemorySample) -> u64| {
        let mut v: Vec<u64> = runs.iter().map(f).collect();
        v.sort_unstable();
        v[v.len() / 2]
    };
    struct Row {
        client: Client,
        baseline: u64,
        held_tenth: u64,
        held: u64,
        peak: u64,
        growth: f64,
        marginal: f64,
    }
    let rows: Vec<Row> = Client::ALL
        .into_iter()
        .zip(&samples)
        .map(|(client, s)| {
            let baseline = kib(&s[0], |m| m.held_kib);
            let held_tenth = kib(&s[1], |m| m.held_kib);
            let held = kib(&s[2], |m| m.held_kib);
            Row {
                client,
                baseline,
                held_tenth,
                held,
                peak: kib(&s[2], |m| m.peak_kib),
                growth: (held as f64 - baseline as f64) * 1024.0 / n as f64,
                marginal: (held as f64 - held_tenth as f64) * 1024.0 / (n - tenth).max(1) as f64,
            }
        })
        .collect();
    let tokio = rows
        .iter()
        .find(|r| r.client == Client::Tokio)
        .expect("tokio ran");
    println!(
        "\nHTTPS memory: {n} TLS sessions established at once and waiting for their head \
         (the server holds every answer until all {n} requests are in), in a client child \
         process; its RSS (VmRSS) at that moment, with {tenth} sessions and with none, and \
         its peak (VmHWM) over the run; median of {} runs:\n",
        config.mem_repeats
    );
    println!(
        "| client | baseline (0) | RSS at {tenth} | RSS at {n} | peak at {n} | \
         growth per session (vs 0) | marginal per session ({tenth} to {n}) | / tokio |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for row in &rows {
        println!(
            "| {} | {:.1} MiB | {:.1} MiB | {:.1} MiB | {:.1} MiB | **{} B** | {} B | **{:.2}** |",
            row.client.name(),
            row.baseline as f64 / 1024.0,
            row.held_tenth as f64 / 1024.0,
            row.held as f64 / 1024.0,
            row.peak as f64 / 1024.0,
            thousands(row.growth),
            thousands(row.marginal),
            row.growth / tokio.growth,
        );
    }
    Ok(all_ok)
}

/// The built command against the tokio client, both as child processes.
fn command(config: &TlsConfig, prepared: &Prepared, addr: SocketAddr) -> io::Result<bool> {
    let n = config.cli_fetches;
    let c = config.concurrency[0];
    let scratch = tempfile::tempdir()?;
    let list = scratch.path().join("targets.txt");
    std::fs::write(
        &list,
        format!("{}\n", ours_tls_fetch::target(addr)).repeat(n),
    )?;
    let cli = || {
        let mut command = Command::new(BINARY);
        command
            .arg("--cacert")
            .arg(&prepared.ca)
            .arg("-i")
            .arg(&list)
            .args(["-q", "-o", "/dev/null", "-c", &c.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    let mut all_ok = true;
    // samples[0] the command, samples[1] tokio: (wall, user + sys).
    let mut samples: [Vec<(Duration, Duration)>; 2] = [Vec::new(), Vec::new()];
    for round in 0..=config.repeats {
        // Round 0 is an untimed warm-up.
        for (i, slot) in samples.iter_mut().enumerate() {
            let mut command = if i == 0 {
                cli()
            } else {
                client_command(&[], Client::Tokio, prepared, addr, n, c)?
            };
            let start = Instant::now();
            let mut child = command.spawn()?;
            // Drained on a thread: this one waits for the child.
            let pipe = child.stderr.take();
            let stdout = child.stdout.take();
            let reader = std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut out) = stdout {
                    let _ = out.read_to_string(&mut text);
                }
                if let Some(mut err) = pipe {
                    let _ = err.read_to_string(&mut text);
                }
                text
            });
            let (status, usage) = sys::wait_with_usage(child.id())?;
            let wall = start.elapsed();
            let text = reader
                .join()
                .map_err(|_| io::Error::other("reader panicked"))?;
            let ok = if i == 0 {
                let ok = status.success();
                if !ok {
                    eprintln!(
                        "FAILED: fetch-headers exited with {status} (1: some fetch failed): {text}"
                    );
                }
                ok
            } else {
                status.success() && Report::parse(&text)?.check("the tokio client process", n)
            };
            all_ok &= ok;
            if round > 0 {
                slot.push((wall, usage.user + usage.sys));
            }
        }
    }
    let rows: Vec<(String, Duration, Duration)> = samples
        .iter()
        .zip([
            format!("`fetch-headers --cacert CA -i LIST -q -o /dev/null -c {c}`"),
            "tokio current_thread + tokio-rustls, a process".to_owned(),
        ])
        .map(|(runs, name)| {
            (
                name,
                median(runs.iter().map(|r| r.0)),
                median(runs.iter().map(|r| r.1)),
            )
        })
        .collect();
    println!(
        "\nHTTPS, the command as users run it: {n} lines of https://{addr}/ at {c} in flight, \
         each client a fresh process (start-up included), CPU from wait4; median of {} \
         interleaved runs:\n",
        config.repeats
    );
    println!(
        "| client | wall ms | fetches/s | CPU ms | CPU µs/fetch | wall / tokio | CPU / tokio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let (tokio_wall, tokio_cpu) = (rows[1].1, rows[1].2);
    for (name, wall, cpu) in &rows {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} | {:.1} | {:.2} | **{:.2}** |",
            ms(*wall),
            n as f64 / wall.as_secs_f64(),
            ms(*cpu),
            micros(*cpu) / n as f64,
            ratio(*wall, tokio_wall),
            ratio(*cpu, tokio_cpu),
        );
    }
    Ok(all_ok)
}

/// Child role: one TLS client making `CHILD_FETCHES` fetches with
/// `CHILD_IN_FLIGHT` in flight, reporting its counts and peak RSS.
pub fn client_role() -> ExitCode {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let (Some(client), Ok(addr), Ok(fetches), Ok(in_flight)) = (
        Client::from_key(&var(CHILD_CLIENT)),
        var(CHILD_ADDR).parse::<SocketAddr>(),
        var(CHILD_FETCHES).parse::<usize>(),
        var(CHILD_IN_FLIGHT).parse::<usize>(),
    ) else {
        eprintln!(
            "tls client: bad {CHILD_CLIENT} / {CHILD_ADDR} / {CHILD_FETCHES} / {CHILD_IN_FLIGHT}"
        );
        return ExitCode::from(2);
    };
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("tls client: cannot raise the fd limit: {e}");
    }
    let ca = PathBuf::from(var(CHILD_CA));
    let result = Prepared::new(&ca, addr, &[client])
        .and_then(|prepared| prepared.run(client, addr, fetches, in_flight));
    let tally = match result {
        Ok(timed) => timed.tally,
        Err(e) => {
            eprintln!("tls client {}: {e}", client.name());
            return ExitCode::FAILURE;
        }
    };
    if tally.failed > 0 {
        eprintln!("tls client {}: {tally}", client.name());
    }
    println!("ok={}", tally.ok);
    println!("failed={}", tally.failed);
    match sys::peak_rss_kib() {
        Ok(kib) => println!("peak_kib={kib}"),
        Err(e) => eprintln!("tls client: {e}"),
    }
    ExitCode::SUCCESS
}

fn median_f64(values: impl Iterator<Item = f64>) -> f64 {
    let mut values: Vec<f64> = values.collect();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
