//! The writer thread: the only code that writes results, so a slow terminal
//! or pipe never blocks the loop (checklist item 5).
//!
//! The loop hands it [`Chunk`]s through a bounded channel; it writes each,
//! flushes when no more are queued, and on a terminal keeps a progress line
//! on stderr. The emptied buffers go back to the loop through [`Buffers`],
//! so the same few allocations carry every chunk. When the results go to that same terminal, the progress line
//! is erased before each write, so no result is glued to its end.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use fetch_headers::runtime::channel::{self, Receiver};
use rustix::event::{PollFd, PollFlags};

use super::stderr;

/// Text for the writer thread, with how many outcomes it carries.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    /// UTF-8 text, as the reports write it: bytes, since they are only
    /// written out.
    pub(crate) text: Vec<u8>,
    pub(crate) ok: u64,
    pub(crate) failed: u64,
}

/// Emptied chunk buffers on their way back from the writer thread to the
/// sink that fills them. Without it, each hand-over allocated a buffer on
/// the loop thread (a large one, which costs `malloc` more) and freed it on
/// the writer thread. A few buffers are kept, none too large, so the pool
/// holds little memory however the run goes.
#[derive(Debug, Default)]
pub(crate) struct Buffers(Mutex<Vec<Vec<u8>>>);

impl Buffers {
    /// Buffers kept at most: the writer rarely holds more than a couple.
    const KEEP: usize = 4;
    /// Buffers that grew larger than this (a chunk carrying huge heads) are
    /// freed rather than kept.
    const MAX_CAPACITY: usize = 256 * 1024;

    /// An empty buffer: a kept one, or a new one of `capacity`.
    pub(crate) fn take(&self, capacity: usize) -> Vec<u8> {
        let kept = self.0.lock().unwrap_or_else(PoisonError::into_inner).pop();
        kept.unwrap_or_else(|| Vec::with_capacity(capacity))
    }

    /// Keeps `buffer` for another chunk, if there is room for it.
    fn give_back(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() > Self::MAX_CAPACITY {
            return;
        }
        buffer.clear();
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() < Self::KEEP {
            kept.push(buffer);
        }
    }
}

/// How often the progress line is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// What the writer thread did: the failures among the outcomes it wrote
/// whole, and how it ended.
#[derive(Debug)]
pub(crate) struct Report {
    /// Failed outcomes written.
    pub(crate) failed: u64,
    /// `Err` with the first write error, where the thread stopped.
    pub(crate) result: io::Result<()>,
}

/// Where the progress line goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// None (`-q`, or stderr is not a terminal).
    Off,
    /// On stderr's terminal, the results elsewhere.
    On,
    /// On the terminal the results go to as well: it is erased before
    /// results are written, so none starts after it on the same line.
    SharingTheTerminal,
}

/// Starts the writer thread on `out`, giving each chunk's buffer back to
/// `buffers` once written; it ends when the sending side is dropped, or at
/// the first write error.
pub(crate) fn spawn(
    rx: Receiver<Chunk>,
    out: Box<dyn Write + Send>,
    progress: Progress,
    buffers: Arc<Buffers>,
) -> thread::JoinHandle<Report> {
    thread::spawn(move || {
        let mut failed = 0;
        let result = write_all(&rx, out, progress, &buffers, &mut failed);
        Report { failed, result }
    })
}

/// The writer thread's loop; `failed` counts the failures written.
fn write_all(
    rx: &Receiver<Chunk>,
    mut out: Box<dyn Write + Send>,
    progress: Progress,
    buffers: &Buffers,
    failed: &mut u64,
) -> io::Result<()> {
    let started = Instant::now();
    let mut last_progress = started;
    let mut ok = 0u64;
    // A progress line is on the terminal, with the cursor at its end.
    let mut shown = false;
    while let Some(chunk) = rx.recv_blocking() {
        if shown && progress == Progress::SharingTheTerminal {
            stderr::write("\r\x1b[K");
            shown = false;
        }
        out.write_all(&chunk.text)?;
        ok += chunk.ok;
        *failed += chunk.failed;
        buffers.give_back(chunk.text);
        if rx.is_empty() {
            out.flush()?;
        }
        if progress != Progress::Off && last_progress.elapsed() >= PROGRESS_EVERY {
            if progress == Progress::SharingTheTerminal {
                // The results must reach the terminal before the line that
                // is drawn after them (stdout is buffered, stderr is not).
                out.flush()?;
            }
            shown = true;
            last_progress = Instant::now();
            let done = ok + *failed;
            let rate = done as f64 / started.elapsed().as_secs_f64();
            stderr::write(format!(
                "\r\x1b[K{done} done: {ok} ok, {} failed, {rate:.0} hosts/s",
                *failed
            ));
        }
    }
    if progress != Progress::Off {
        stderr::write("\r\x1b[K");
    }
    out.flush()
}

/// Starts a thread that waits until the reader of `output` (a pipe or a
/// socket) has gone, and then says so on the returned channel.
///
/// `poll(2)` with no events asked for still reports `POLLERR` (a pipe
/// whose read end is closed) and `POLLHUP` (a socket whose peer is gone),
/// so the thread sleeps in the kernel until then, and the loop hears of it
/// through the channel at once, even with nothing to write. The thread is
/// left blocked when the run ends; the process's exit ends it.
pub(crate) fn watch_reader(output: OwnedFd) -> io::Result<Receiver<()>> {
    let (tx, rx) = channel::channel(1);
    thread::Builder::new()
        .name("fetch-headers-output-watch".into())
        .spawn(move || {
            let mut fds = [PollFd::new(&output, PollFlags::empty())];
            loop {
                match rustix::event::poll(&mut fds, None) {
                    Ok(_) if !fds[0].revents().is_empty() => break,
                    Ok(_) | Err(rustix::io::Errno::INTR) => {}
                    // Cannot watch: a write will find out instead.
                    Err(_) => return,
                }
            }
            let _ = tx.send_blocking(());
        })?;
    Ok(rx)
}
