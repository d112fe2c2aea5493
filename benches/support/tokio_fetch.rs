//! The fetch workload on tokio: the reference clients.
//!
//! The same `async fn` runs on tokio's `current_thread` runtime (the fair
//! peer of our single-threaded loop) and on its multi-thread runtime (shown
//! for reference: it can use both cores). Only the runtime differs.
//!
//! Concurrency is bounded the way ours is: `concurrency` worker tasks, each
//! taking the next request number from a shared counter until all are
//! taken, so exactly `concurrency` fetches are in flight until the tail.
//! Each worker keeps its own [`Tally`]; the driver merges them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::wire::{check_head, Tally, MAX_HEAD, REQUEST};

/// Fetches `total` heads from `addr` with `concurrency` in flight.
/// Must run inside a tokio runtime.
pub async fn fetch_all(addr: SocketAddr, total: usize, concurrency: usize) -> Tally {
    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..concurrency.clamp(1, total.max(1)))
        .map(|_| {
            let next = Arc::clone(&next);
            tokio::spawn(async move {
                let mut tally = Tally::default();
                while next.fetch_add(1, Ordering::Relaxed) < total {
                    tally.record(fetch_one(addr).await);
                }
                tally
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
async fn fetch_one(addr: SocketAddr) -> Result<(), String> {
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
            return check_head(&head);
        }
        if head.len() > MAX_HEAD {
            return Err("head too large".into());
        }
    }
}
