//! The fetch workload on tokio: the reference clients.
//!
//! The same `async fn` runs on tokio's `current_thread` runtime (the fair
//! peer of our single-threaded loop) and on its multi-thread runtime (shown
//! for reference: it can use both cores). Only the runtime differs.
//!
//! Concurrency is bounded the way ours is: `concurrency` worker tasks, each
//! taking the next request number from a shared counter until all are
//! taken, so exactly `concurrency` fetches are in flight until the tail
//! ([`run_workers`], which the printing client in `tokio_print.rs` shares).
//! Each worker keeps its own [`Tally`]; the driver merges them.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::wire::{check_head, Tally, MAX_HEAD, REQUEST};

/// Fetches `total` heads from `addr` with `concurrency` in flight.
/// Must run inside a tokio runtime.
#[allow(dead_code)] // the CLI bench runs only the printing client
pub async fn fetch_all(addr: SocketAddr, total: usize, concurrency: usize) -> Tally {
    run_workers(total, concurrency, move |_| async move {
        fetch_head(addr).await.map(drop)
    })
    .await
}

/// Runs `fetch(0)` to `fetch(total - 1)` on `concurrency` worker tasks,
/// each taking the next number as soon as its last fetch is done, and
/// tallies what they return. Must run inside a tokio runtime.
pub async fn run_workers<F, Fut>(total: usize, concurrency: usize, fetch: F) -> Tally
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let next = Arc::new(AtomicUsize::new(0));
    let fetch = Arc::new(fetch);
    let workers: Vec<_> = (0..concurrency.clamp(1, total.max(1)))
        .map(|_| {
            let (next, fetch) = (Arc::clone(&next), Arc::clone(&fetch));
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        break tally;
                    }
                    tally.record(fetch(i).await);
                }
            })
        })
        .collect();

    let mut tally = Tally::default();
    for worker in workers {
        match worker.await {
            Ok(part) => tally.merge(part),
            Err(e) => tally.record(Err(format!("worker task failed: {e}"))),
        }
    }
    tally
}

/// One fetch: connect, send the request, read lines up to the blank line.
/// Returns the head, blank line included, if it is a `200`.
pub async fn fetch_head(addr: SocketAddr) -> Result<Vec<u8>, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // The straightforward client: tokio's default `BufReader` (8 KiB), the
    // peer the memory target in the benchmark issue is stated against.
    // BufReader passes writes straight through, so one value serves both
    // directions.
    let mut stream = BufReader::new(stream);
    stream
        .write_all(REQUEST)
        .await
        .map_err(|e| format!("write: {e}"))?;
    read_head(&mut stream).await
}

/// Reads lines up to the blank one: the head, blank line included, if it
/// is a `200`. The TLS client reads its heads with it too.
pub async fn read_head(stream: &mut (impl AsyncBufRead + Unpin)) -> Result<Vec<u8>, String> {
    let mut head = Vec::new();
    loop {
        let line_start = head.len();
        let n = stream
            .read_until(b'\n', &mut head)
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {} bytes of head", head.len()));
        }
        if &head[line_start..] == b"\r\n" {
            return check_head(&head).map(|()| head);
        }
        if head.len() > MAX_HEAD {
            return Err("head too large".into());
        }
    }
}
