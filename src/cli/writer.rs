//! The writer thread: the only code that writes results, so a slow terminal
//! or pipe never blocks the loop (checklist item 5).
//!
//! The loop hands it [`Chunk`]s through a bounded channel; it writes each,
//! flushes when no more are queued, and on a terminal keeps a progress line
//! on stderr.

use std::io::{self, Write};
use std::thread;
use std::time::{Duration, Instant};

use fetch_headers::runtime::channel::Receiver;

use super::stderr;

/// Text for the writer thread, with how many outcomes it carries.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub(crate) text: String,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
}

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Starts the writer thread on `out`; it ends when the sending side is
/// dropped, or at the first write error, which it returns.
pub(crate) fn spawn(
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
            if progress && last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                let rate = (ok + failed) as f64 / started.elapsed().as_secs_f64();
                stderr::write(&format!(
                    "\r\x1b[K{} done: {ok} ok, {failed} failed, {rate:.0} hosts/s",
                    ok + failed
                ));
            }
        }
        if progress {
            stderr::write("\r\x1b[K");
        }
        out.flush()
    })
}
