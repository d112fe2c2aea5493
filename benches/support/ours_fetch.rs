//! The fetch workload on our runtime.
//!
//! For now this talks to `fetch_headers::net::TcpStream` directly; once the
//! fetch engine (`fetch_headers::fetch`) exists, the bench switches to it so
//! that it measures the path users run. The function name says which path
//! it is, so the table can never be misread.
//!
//! Concurrency is bounded exactly as in the tokio client: `concurrency`
//! worker tasks pull request numbers from a shared counter. Our runtime is
//! single-threaded and its futures need not be `Send`, so the counter is a
//! plain `Rc<Cell>`.

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::spawn;

use crate::wire::{check_head, head_len, Tally, READ_BUF_SIZE, REQUEST};

/// Fetches `total` heads from `addr` with `concurrency` in flight, using
/// the runtime's `net::TcpStream` directly (not yet the fetch engine).
/// Must run inside `Runtime::block_on`.
pub async fn fetch_all_on_net_api(addr: SocketAddr, total: usize, concurrency: usize) -> Tally {
    let next = Rc::new(Cell::new(0));
    let workers: Vec<_> = (0..concurrency.clamp(1, total.max(1)))
        .map(|_| {
            let next = Rc::clone(&next);
            spawn(async move {
                let mut tally = Tally::default();
                while next.get() < total {
                    next.set(next.get() + 1);
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

/// One fetch: connect, send the request, read until the blank line.
async fn fetch_one(addr: SocketAddr) -> Result<(), String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(REQUEST)
        .await
        .map_err(|e| format!("write: {e}"))?;

    let mut buf = [0u8; READ_BUF_SIZE];
    let mut filled = 0;
    while filled < buf.len() {
        let n = stream
            .read(&mut buf[filled..])
            .await
            .map_err(|e| format!("read: {e}"))?;
        if n == 0 {
            return Err(format!("closed after {filled} bytes of head"));
        }
        filled += n;
        if let Some(len) = head_len(&buf[..filled]) {
            return check_head(&buf[..len]);
        }
    }
    Err("head too large".into())
}
