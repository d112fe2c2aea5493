//! Reading target lists off the loop thread.
//!
//! A file or a pipe can block (a slow producer on stdin, a network file
//! system), so lines are read on a plain thread and handed to the loop
//! through a bounded [`channel`]: the file is streamed, never loaded whole,
//! and reading pauses while the fetches catch up.

use std::io::{self, BufRead, BufReader, Read};
use std::thread;

use crate::files::{Encoding, Errors};
use crate::runtime::channel::{self, Receiver};

/// Where targets are read from.
pub enum Source {
    /// Targets given on the command line.
    Args(Vec<String>),
    /// A reader (file or stdin) with one target per line.
    Reader(Box<dyn Read + Send>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Args(targets) => f.debug_tuple("Args").field(&targets.len()).finish(),
            Source::Reader(_) => f.write_str("Reader"),
        }
    }
}

/// Batches queued between the reader thread and the loop.
const QUEUE: usize = 8;

/// Targets per batch: one hand-over between threads per batch, not per
/// line, keeps the threads from waking each other for every target.
const BATCH: usize = 256;

/// The loop's end of the reader thread: yields targets one at a time.
#[derive(Debug)]
pub struct TargetReader {
    rx: Receiver<Vec<String>>,
    batch: std::vec::IntoIter<String>,
}

impl super::Targets for TargetReader {
    async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(target) = self.batch.next() {
                return Some(target);
            }
            self.batch = self.rx.recv().await?.into_iter();
        }
    }
}

/// The longest target line accepted; longer lines become one bad target
/// rather than unbounded memory.
pub const MAX_LINE: usize = 8 * 1024;

/// Starts a thread that reads `sources` in order and sends each target:
/// trimmed lines, without blank lines and `#` comments. Read errors and
/// invalid UTF-8 are logged and sent on as (bad) targets, so the run says
/// which line was wrong. File lines are decoded from `encoding`; bytes that
/// do not decode are kept as `\xNN` escapes, which then fail as bad targets
/// naming the bytes.
pub fn spawn_reader(sources: Vec<Source>, encoding: Encoding) -> io::Result<TargetReader> {
    let (tx, rx) = channel::channel(QUEUE);
    thread::Builder::new()
        .name("fetch-headers-input".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            // Hands the batch over; false once the loop has stopped listening.
            let send = |batch: &mut Vec<String>| {
                batch.is_empty() || tx.send_blocking(std::mem::take(batch)).is_ok()
            };
            for source in sources {
                match source {
                    Source::Args(targets) => batch.extend(targets),
                    Source::Reader(reader) => {
                        let mut reader = BufReader::with_capacity(64 * 1024, reader);
                        let mut line = Vec::new();
                        loop {
                            // About to wait on the OS (a slow pipe, a person
                            // typing): let the loop have what we have first.
                            if (reader.buffer().is_empty() || batch.len() >= BATCH)
                                && !send(&mut batch)
                            {
                                return;
                            }
                            line.clear();
                            match read_line(&mut reader, &mut line) {
                                Ok(0) => break,
                                Ok(_) => {}
                                Err(e) => {
                                    log::error!("reading targets: {e}");
                                    break;
                                }
                            }
                            batch.extend(target_of(&line, &encoding));
                        }
                    }
                }
            }
            send(&mut batch);
        })?;
    Ok(TargetReader {
        rx,
        batch: Vec::new().into_iter(),
    })
}

/// Reads one line, keeping at most [`MAX_LINE`] bytes of it.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(&buf[..take.min(room)]);
        reader.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

/// The target on a line, if any: decoded, trimmed (with a UTF-8 BOM);
/// blank and `#` lines skipped.
fn target_of(line: &[u8], encoding: &Encoding) -> Option<String> {
    // Decoding never fails with backslashreplace.
    let text = encoding
        .decode(line, Errors::BackslashReplace)
        .unwrap_or_default();
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    Some(text.to_owned())
}
