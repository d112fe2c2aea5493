//! `cargo bench --bench fetch`: HTTP head fetches against a loopback server,
//! by our runtime, tokio and raw mio, side by side in one table; and HTTPS
//! fetches by ours and tokio-rustls.
//!
//! Three measurements:
//!
//! 1. **Throughput.** `FH_BENCH_N` fetches (default 20,000) with
//!    `FH_BENCH_CONCURRENCY` (default 500) in flight, by four clients:
//!    ours, tokio `current_thread` (the fair peer of a single-threaded loop),
//!    tokio multi-thread (reference only: it may use both cores), and the raw
//!    mio state machine (the floor: no futures at all). Runs are repeated
//!    `FH_BENCH_REPEATS` times (default 5), interleaved so drift on a shared
//!    machine hits every client alike, and the medians are reported: wall
//!    time, fetches per second, and CPU time of this process (the server is
//!    another process, so its work is not counted), with ratios to tokio
//!    `current_thread` and to the floor.
//! 2. **Memory per connection.** Each client runs alone in a fresh child
//!    process and opens `FH_BENCH_MEM_CONNS` connections (default 5,000) at
//!    once to a server that holds every answer for `FH_BENCH_MEM_DELAY_MS`
//!    (default 200), so all of them are in flight together. The child's peak
//!    RSS minus that of the same client making no connections, divided by
//!    the connection count, is the memory one in-flight fetch costs.
//!    `FH_BENCH_MEM_CONNS=0` skips this part.
//! 3. **HTTPS** (`support/tls_bench.rs`): ours against tokio
//!    `current_thread` + tokio-rustls on the same rustls and `ring`
//!    provider, against a loopback TLS server in its own process: CPU and
//!    wall time per fetch, instructions per fetch under callgrind, memory
//!    per established TLS session with 1,000 held at once, and the built
//!    command run as users run it. `FH_BENCH_TLS_*` sizes it;
//!    `FH_BENCH_TLS=0` skips it, `FH_BENCH_TLS=only` runs only it, and
//!    `smoke` / `full` pick its default sizes. Left unset, it takes smoke
//!    sizes when the plain part is sized by hand (`FH_BENCH_N`,
//!    `FH_BENCH_REPEATS` or `FH_BENCH_MEM_CONNS` set, as CI's line does),
//!    full sizes otherwise.
//!
//! Every fetch must get a `200` head; any failure is printed and makes the
//! bench exit non-zero. Run without `--bench` (as `cargo test --benches`
//! does), it uses smoke sizes. Quick run:
//!
//! ```text
//! FH_BENCH_N=200 FH_BENCH_REPEATS=1 FH_BENCH_MEM_CONNS=100 FH_BENCH_TLS=0 cargo bench --bench fetch
//! FH_BENCH_TLS=only FH_BENCH_TLS_N=500 FH_BENCH_TLS_REPEATS=1 FH_BENCH_TLS_MEM_CONNS=100 \
//!     FH_BENCH_TLS_VG_LARGE=0 FH_BENCH_TLS_CLI_N=500 cargo bench --bench fetch
//! ```

#[path = "support/child.rs"]
mod child;
#[path = "support/env.rs"]
mod env;
#[path = "support/figures.rs"]
mod figures;
#[path = "support/ours_fetch.rs"]
mod ours_fetch;
#[path = "support/ours_tls_fetch.rs"]
mod ours_tls_fetch;
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
#[path = "support/tls_bench.rs"]
mod tls_bench;
#[path = "support/tls_certs.rs"]
mod tls_certs;
#[path = "support/tls_server.rs"]
mod tls_server;
#[path = "support/tokio_fetch.rs"]
mod tokio_fetch;
#[path = "support/tokio_tls_fetch.rs"]
mod tokio_tls_fetch;
#[path = "support/wire.rs"]
mod wire;

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use figures::{median, ms, ratio};
use process::ServerProcess;
use wire::Tally;

/// Child role: one client holding many connections, reporting its peak RSS.
const ROLE_MEMORY_CLIENT: &str = "memory-client";

/// The four clients, in table order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    Ours,
    TokioCurrentThread,
    TokioMultiThread,
    RawMio,
}

impl Client {
    const ALL: [Client; 4] = [
        Client::Ours,
        Client::TokioCurrentThread,
        Client::TokioMultiThread,
        Client::RawMio,
    ];

    /// The clients measured for memory: the single-threaded ones.
    const MEMORY: [Client; 3] = [Client::Ours, Client::TokioCurrentThread, Client::RawMio];

    fn name(self) -> &'static str {
        match self {
            Client::Ours => "ours",
            Client::TokioCurrentThread => "tokio current_thread",
            Client::TokioMultiThread => "tokio multi_thread",
            Client::RawMio => "raw mio (floor)",
        }
    }

    /// Stable name for passing a client to a child process.
    fn key(self) -> &'static str {
        match self {
            Client::Ours => "ours",
            Client::TokioCurrentThread => "tokio-ct",
            Client::TokioMultiThread => "tokio-mt",
            Client::RawMio => "raw-mio",
        }
    }

    fn from_key(key: &str) -> Option<Client> {
        Client::ALL.into_iter().find(|c| c.key() == key)
    }

    /// Builds this client's runtime (not timed), then times `total` fetches
    /// with `concurrency` in flight.
    fn run(self, addr: SocketAddr, total: usize, concurrency: usize) -> io::Result<Sample> {
        Ok(match self {
            Client::Ours => {
                let rt = fetch_headers::runtime::Runtime::new()?;
                measure(|| rt.block_on(ours_fetch::fetch_all_with_engine(addr, total, concurrency)))
            }
            Client::TokioCurrentThread => {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                measure(|| rt.block_on(tokio_fetch::fetch_all(addr, total, concurrency)))
            }
            Client::TokioMultiThread => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()?;
                measure(|| rt.block_on(tokio_fetch::fetch_all(addr, total, concurrency)))
            }
            Client::RawMio => {
                let mut client = raw_mio::Client::new()?;
                measure(|| client.run(addr, total, concurrency))
            }
        })
    }
}

/// One timed run.
#[derive(Debug)]
struct Sample {
    wall: Duration,
    cpu: Duration,
    tally: Tally,
}

/// Times `work` by the wall clock and by this process's CPU time.
fn measure(work: impl FnOnce() -> Tally) -> Sample {
    let cpu_before = sys::process_cpu_time();
    let start = Instant::now();
    let tally = work();
    let wall = start.elapsed();
    let cpu = sys::process_cpu_time().saturating_sub(cpu_before);
    Sample { wall, cpu, tally }
}

/// Bench sizes, from the environment.
#[derive(Debug)]
struct Config {
    requests: usize,
    concurrency: usize,
    repeats: usize,
    mem_conns: usize,
    mem_delay: Duration,
}

impl Config {
    /// Reads the `FH_BENCH_*` variables. Without `--bench` on the command
    /// line (a `cargo test` run) the defaults are smoke sizes.
    fn from_env() -> Config {
        Config {
            requests: env::size("FH_BENCH_N", 20_000, 200),
            concurrency: env::size("FH_BENCH_CONCURRENCY", 500, 50),
            repeats: env::size("FH_BENCH_REPEATS", 5, 1).max(1),
            mem_conns: env::size("FH_BENCH_MEM_CONNS", 5_000, 100),
            mem_delay: Duration::from_millis(env::size("FH_BENCH_MEM_DELAY_MS", 200, 200) as u64),
        }
    }
}

fn main() -> ExitCode {
    // A re-executed copy of this binary runs its role and nothing else.
    match std::env::var(child::ROLE_VAR).as_deref() {
        Ok(process::ROLE_SERVER) => process::run_server_role(),
        Ok(ROLE_MEMORY_CLIENT) => return memory_client_role(),
        Ok(tls_server::ROLE_TLS_SERVER) => tls_server::run_server_role(),
        Ok(tls_bench::ROLE_TLS_CLIENT) => return tls_bench::client_role(),
        _ => {}
    }

    let config = Config::from_env();
    let tls_config = tls_bench::TlsConfig::from_env();
    let plain = !tls_config.as_ref().is_some_and(|tls| tls.only);
    let mut failed = false;
    if plain {
        match throughput(&config) {
            Ok(ok) => failed |= !ok,
            Err(e) => {
                eprintln!("fetch bench: throughput: {e}");
                failed = true;
            }
        }
    }
    if plain && config.mem_conns > 0 {
        match memory(&config) {
            Ok(ok) => failed |= !ok,
            Err(e) => {
                eprintln!("fetch bench: memory: {e}");
                failed = true;
            }
        }
    }
    if let Some(tls_config) = &tls_config {
        match tls_bench::run(tls_config) {
            Ok(ok) => failed |= !ok,
            Err(e) => {
                eprintln!("fetch bench: https: {e}");
                failed = true;
            }
        }
    }
    if failed {
        eprintln!("\nfetch bench: FAILED: some fetches did not get a 200 head (see above)");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Runs the throughput table. Returns false if any fetch failed.
fn throughput(config: &Config) -> io::Result<bool> {
    let server = ServerProcess::spawn(server::Options::default())?;
    println!(
        "\nfetch: {} requests, {} in flight, median of {} interleaved runs; \
         server pid {} at {}",
        config.requests,
        config.concurrency,
        config.repeats,
        server.pid(),
        server.addr()
    );

    // One short untimed pass first: the first runs after the server starts
    // pay for its slab growing and the kernel's socket caches filling.
    let warm_up = (config.requests / 10).max(config.concurrency.min(config.requests));
    for client in Client::ALL {
        client.run(server.addr(), warm_up, config.concurrency)?;
    }

    let mut samples: Vec<Vec<Sample>> = Client::ALL.iter().map(|_| Vec::new()).collect();
    for _ in 0..config.repeats {
        for (client, runs) in Client::ALL.iter().zip(&mut samples) {
            runs.push(client.run(server.addr(), config.requests, config.concurrency)?);
        }
    }

    struct Row {
        client: Client,
        wall: Duration,
        cpu: Duration,
        failed: usize,
    }
    let rows: Vec<Row> = Client::ALL
        .iter()
        .zip(&samples)
        .map(|(&client, runs)| Row {
            client,
            wall: median(runs.iter().map(|s| s.wall)),
            cpu: median(runs.iter().map(|s| s.cpu)),
            failed: runs.iter().map(|s| s.tally.failed).sum(),
        })
        .collect();
    let find = |c: Client| {
        rows.iter()
            .find(|r| r.client == c)
            .expect("every client ran")
    };
    let (ct, floor) = (find(Client::TokioCurrentThread), find(Client::RawMio));

    println!(
        "{:<22}{:>9}{:>10}{:>9}{:>8}{:>9}{:>9}{:>9}{:>9}{:>8}",
        "client",
        "wall ms",
        "hosts/s",
        "cpu ms",
        "cpu%",
        "wall/ct",
        "wall/flr",
        "cpu/ct",
        "cpu/flr",
        "failed"
    );
    for row in &rows {
        println!(
            "{:<22}{:>9.1}{:>10.0}{:>9.1}{:>7.0}%{:>9.2}{:>9.2}{:>9.2}{:>9.2}{:>8}",
            row.client.name(),
            ms(row.wall),
            config.requests as f64 / row.wall.as_secs_f64(),
            ms(row.cpu),
            100.0 * row.cpu.as_secs_f64() / row.wall.as_secs_f64(),
            ratio(row.wall, ct.wall),
            ratio(row.wall, floor.wall),
            ratio(row.cpu, ct.cpu),
            ratio(row.cpu, floor.cpu),
            row.failed,
        );
    }

    let mut all_ok = true;
    for (client, runs) in Client::ALL.iter().zip(&samples) {
        for run in runs.iter().filter(|run| run.tally.failed > 0) {
            all_ok = false;
            eprintln!("FAILED run of {}: {}", client.name(), run.tally);
        }
    }
    Ok(all_ok)
}

/// Runs the memory table. Returns false if any fetch failed.
fn memory(config: &Config) -> io::Result<bool> {
    let server = ServerProcess::spawn(server::Options {
        delay: config.mem_delay,
        ..server::Options::default()
    })?;
    println!(
        "\nmemory: {} connections in flight at once (server holds each answer {} ms); \
         peak RSS (VmHWM) of one child process per client",
        config.mem_conns,
        config.mem_delay.as_millis()
    );
    println!(
        "{:<22}{:>12}{:>14}{:>14}{:>10}{:>8}",
        "client", "peak KiB", "baseline KiB", "bytes/conn", "wall ms", "failed"
    );
    let mut all_ok = true;
    for client in Client::MEMORY {
        let baseline = memory_child(client, server.addr(), 0)?;
        let loaded = memory_child(client, server.addr(), config.mem_conns)?;
        let per_conn =
            (loaded.peak_kib as f64 - baseline.peak_kib as f64) * 1024.0 / config.mem_conns as f64;
        println!(
            "{:<22}{:>12}{:>14}{:>14.0}{:>10.1}{:>8}",
            client.name(),
            loaded.peak_kib,
            baseline.peak_kib,
            per_conn,
            loaded.wall_ms,
            loaded.failed
        );
        if loaded.failed > 0 || loaded.ok != config.mem_conns {
            all_ok = false;
            eprintln!(
                "FAILED memory run of {}: {} ok, {} failed of {}",
                client.name(),
                loaded.ok,
                loaded.failed,
                config.mem_conns
            );
        }
    }
    Ok(all_ok)
}

/// What a memory child reports on its stdout, one `key=value` per line.
#[derive(Debug, Default)]
struct MemoryReport {
    peak_kib: u64,
    ok: usize,
    failed: usize,
    wall_ms: f64,
}

/// Runs `client` in a child process making `conns` simultaneous fetches.
fn memory_child(client: Client, addr: SocketAddr, conns: usize) -> io::Result<MemoryReport> {
    let out = child::run_child(
        ROLE_MEMORY_CLIENT,
        &[
            ("FH_BENCH_CLIENT", client.key().to_string()),
            ("FH_BENCH_ADDR", addr.to_string()),
            ("FH_BENCH_CONNS", conns.to_string()),
        ],
    )?;
    let mut report = MemoryReport::default();
    for line in out.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let bad = || io::Error::other(format!("memory child sent {line:?}"));
        match key {
            "peak_kib" => report.peak_kib = value.parse().map_err(|_| bad())?,
            "ok" => report.ok = value.parse().map_err(|_| bad())?,
            "failed" => report.failed = value.parse().map_err(|_| bad())?,
            "wall_ms" => report.wall_ms = value.parse().map_err(|_| bad())?,
            _ => {}
        }
    }
    Ok(report)
}

/// Child role: run one client with every connection in flight at once, then
/// report peak RSS and the tally on stdout.
fn memory_client_role() -> ExitCode {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let (Some(client), Ok(addr), Ok(conns)) = (
        Client::from_key(&env("FH_BENCH_CLIENT")),
        env("FH_BENCH_ADDR").parse::<SocketAddr>(),
        env("FH_BENCH_CONNS").parse::<usize>(),
    ) else {
        eprintln!("memory client: bad FH_BENCH_CLIENT / FH_BENCH_ADDR / FH_BENCH_CONNS");
        return ExitCode::from(2);
    };
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("memory client: cannot raise the fd limit: {e}");
    }
    let sample = match client.run(addr, conns, conns) {
        Ok(sample) => sample,
        Err(e) => {
            eprintln!("memory client {}: {e}", client.name());
            return ExitCode::FAILURE;
        }
    };
    let peak = match sys::peak_rss_kib() {
        Ok(peak) => peak,
        Err(e) => {
            eprintln!("memory client: {e}");
            return ExitCode::FAILURE;
        }
    };
    if sample.tally.failed > 0 {
        eprintln!("memory client {}: {}", client.name(), sample.tally);
    }
    println!("peak_kib={peak}");
    println!("ok={}", sample.tally.ok);
    println!("failed={}", sample.tally.failed);
    println!("wall_ms={:.1}", ms(sample.wall));
    ExitCode::SUCCESS
}
