//! Reading target lists off the loop thread.
//!
//! A file or a pipe can block (a slow producer on stdin, a network file
//! system), so lines are read on a plain thread and handed to the loop
//! through a bounded [`channel`]: the file is streamed, never loaded whole,
//! and reading pauses while the fetches catch up.

use std::io::{self, BufRead, BufReader, Read};
use std::thread;

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

/// Lines queued between the reader thread and the loop.
const QUEUE: usize = 1024;

/// The longest target line accepted; longer lines become one bad target
/// rather than unbounded memory.
pub const MAX_LINE: usize = 8 * 1024;

/// Starts a thread that reads `sources` in order and sends each target:
/// trimmed lines, without blank lines and `#` comments. Read errors and
/// invalid UTF-8 are logged and sent on as (bad) targets, so the run says
/// which line was wrong.
pub fn spawn_reader(sources: Vec<Source>) -> io::Result<Receiver<String>> {
    let (tx, rx) = channel::channel(QUEUE);
    thread::Builder::new().name("fetch-headers-input".into()).spawn(move || {
        for source in sources {
            match source {
                Source::Args(targets) => {
                    for target in targets {
                        if tx.send_blocking(target).is_err() {
                            return;
                        }
                    }
                }
                Source::Reader(reader) => {
                    let mut reader = BufReader::with_capacity(64 * 1024, reader);
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match read_line(&mut reader, &mut line) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) => {
                                log::error!("reading targets: {e}");
                                break;
                            }
                        }
                        let Some(target) = target_of(&line) else { continue };
                        if tx.send_blocking(target).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    })?;
    Ok(rx)
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

/// The target on a line, if any: trimmed; blank and `#` lines skipped.
fn target_of(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.is_empty() || text.starts_with('#') {
        return None;
    }
    Some(text.to_owned())
}
