//! HTTP head fetches on raw mio: the floor the async runtimes are measured
//! against, as a program you can run and read.
//!
//! ```text
//! cargo run --release --example raw_mio                          # own server thread
//! cargo run --release --example raw_mio -- -n 20000 -c 500
//! cargo run --release --example raw_mio -- --addr 127.0.0.1:8080 -n 100 -c 10
//! ```
//!
//! The client itself lives in `benches/support/raw_mio.rs`, so that the
//! `fetch` bench runs exactly this code as its "floor" line; read that file
//! for the state machine and the edge-triggered rules it follows. This file
//! only parses arguments, starts a loopback server on a thread when no
//! `--addr` is given, and prints what happened.
//!
//! Only loopback addresses are accepted: this is a load generator.

#[path = "../benches/support/raw_mio.rs"]
mod raw_mio;
#[path = "../benches/support/server.rs"]
mod server;
#[path = "../benches/support/slab.rs"]
mod slab;
#[path = "../benches/support/wire.rs"]
#[allow(dead_code)] // the example uses only part of the wire helpers
mod wire;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: raw_mio [--addr 127.0.0.1:PORT] [-n REQUESTS] [-c CONCURRENCY]";

/// Parsed command line.
struct Args {
    addr: Option<SocketAddr>,
    requests: usize,
    concurrency: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: None,
        requests: 10_000,
        concurrency: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--addr" => {
                let addr: SocketAddr = value.parse().map_err(|e| bad(&e))?;
                if !addr.ip().is_loopback() {
                    return Err(format!("{addr} is not a loopback address"));
                }
                args.addr = Some(addr);
            }
            "-n" => args.requests = value.parse().map_err(|e| bad(&e))?,
            "-c" => args.concurrency = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("raw_mio: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };

    let addr = match args.addr {
        Some(addr) => addr,
        None => match start_server_thread() {
            Ok(addr) => addr,
            Err(e) => {
                eprintln!("raw_mio: cannot start the loopback server: {e}");
                return ExitCode::FAILURE;
            }
        },
    };

    let mut client = match raw_mio::Client::new() {
        Ok(client) => client,
        Err(e) => {
            eprintln!("raw_mio: cannot create the poller: {e}");
            return ExitCode::FAILURE;
        }
    };
    let start = Instant::now();
    let tally = client.run(addr, args.requests, args.concurrency);
    let elapsed = start.elapsed();

    println!(
        "{} requests to {addr}, {} in flight: {tally}",
        args.requests, args.concurrency
    );
    println!(
        "{:.1} ms, {:.0} requests/s",
        elapsed.as_secs_f64() * 1e3,
        args.requests as f64 / elapsed.as_secs_f64()
    );
    if tally.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs the bench server on a background thread; it dies with the process.
fn start_server_thread() -> std::io::Result<SocketAddr> {
    let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = listener.local_addr()?;
    std::thread::spawn(move || {
        if let Err(e) = server::serve(listener, server::Options::default()) {
            eprintln!("raw_mio: server stopped: {e}");
        }
    });
    Ok(addr)
}
