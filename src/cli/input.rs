//! Where a run's targets come from: the command line's arguments, then the
//! lines of each `-i` input, read off the loop thread.
//!
//! A file or a pipe can block (a slow producer on stdin, a network file
//! system), so lines are read on a plain thread and handed to the loop
//! through a bounded [`channel`]: the file is streamed, never loaded whole,
//! and reading pauses while the fetches catch up. The arguments are in
//! memory already, so they go straight to the loop.

use std::io::{self, BufRead, BufReader, Read};
use std::thread;

use fetch_headers::fetch::Targets;
use fetch_headers::files::{Encoding, Errors, UTF_8};
use fetch_headers::runtime::channel::{self, Receiver};

use super::error::CliError;

/// A reader (a file or stdin) with one target per line.
pub(crate) type Input = Box<dyn Read + Send>;

/// An input that failed: its name as given (`-` for stdin), and why.
type ReadError = (String, io::Error);

/// The targets of a run: the arguments first, then the inputs' lines.
pub(crate) struct CliTargets {
    args: std::vec::IntoIter<String>,
    /// The reader thread's end, if there are inputs.
    inputs: Option<TargetReader>,
}

impl CliTargets {
    /// `args`, then the lines of `inputs` (named, decoded from `encoding`)
    /// read by a thread of their own, started here if there are any.
    pub(crate) fn new(
        args: Vec<String>,
        inputs: Vec<(String, Input)>,
        encoding: Encoding,
    ) -> io::Result<CliTargets> {
        let inputs = match inputs.is_empty() {
            true => None,
            false => Some(spawn_reader(inputs, encoding)?),
        };
        Ok(CliTargets {
            args: args.into_iter(),
            inputs,
        })
    }
}

impl CliTargets {
    /// The read error that ended the targets early, if one did: the run
    /// then ends with exit status 2, after the results it has.
    pub(crate) fn take_error(&mut self) -> Option<CliError> {
        let (path, source) = self.inputs.as_mut()?.error.take()?;
        Some(CliError::Input { path, source })
    }
}

impl Targets for CliTargets {
    async fn next(&mut self) -> Option<String> {
        if let Some(target) = self.args.next() {
            return Some(target);
        }
        self.inputs.as_mut()?.next().await
    }
}

/// Batches queued between the reader thread and the loop.
const QUEUE: usize = 8;

/// Targets per batch: one hand-over between threads per batch, not per
/// line, keeps the threads from waking each other for every target.
const BATCH: usize = 256;

/// The loop's end of the reader thread: yields targets one at a time.
#[derive(Debug)]
struct TargetReader {
    rx: Receiver<Result<Vec<String>, ReadError>>,
    batch: std::vec::IntoIter<String>,
    /// The read error that ended the inputs, once it has come.
    error: Option<ReadError>,
}

impl Targets for TargetReader {
    async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(target) = self.batch.next() {
                return Some(target);
            }
            match self.rx.recv().await? {
                Ok(batch) => self.batch = batch.into_iter(),
                Err(error) => {
                    self.error = Some(error);
                    return None;
                }
            }
        }
    }
}

/// The longest target line accepted; longer lines become one bad target
/// rather than unbounded memory.
pub(crate) const MAX_LINE: usize = 8 * 1024;

/// Starts a thread that reads `inputs` in order and sends each target:
/// trimmed lines, without blank lines and `#` comments. File lines are
/// decoded from `encoding`; bytes that do not decode are kept as `\xNN`
/// escapes, which then fail as bad targets naming the bytes. A read error
/// ends the reading: the targets read before it are sent, then the error,
/// for the run to end with.
fn spawn_reader(inputs: Vec<(String, Input)>, encoding: Encoding) -> io::Result<TargetReader> {
    let (tx, rx) = channel::channel(QUEUE);
    thread::Builder::new()
        .name("fetch-headers-input".into())
        .spawn(move || {
            let mut batch = Vec::with_capacity(BATCH);
            // Hands the batch over; false once the loop has stopped listening.
            let send = |batch: &mut Vec<String>| {
                batch.is_empty() || tx.send_blocking(Ok(std::mem::take(batch))).is_ok()
            };
            for (name, input) in inputs {
                let mut reader = BufReader::with_capacity(64 * 1024, input);
                let mut line = Vec::new();
                loop {
                    // About to wait on the OS (a slow pipe, a person
                    // typing): let the loop have what we have first.
                    if (reader.buffer().is_empty() || batch.len() >= BATCH) && !send(&mut batch) {
                        return;
                    }
                    line.clear();
                    match read_line(&mut reader, &mut line) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(e) => {
                            if send(&mut batch) {
                                let _ = tx.send_blocking(Err((name, e)));
                            }
                            return;
                        }
                    }
                    batch.extend(target_of(&line, &encoding));
                }
            }
            send(&mut batch);
        })?;
    Ok(TargetReader {
        rx,
        batch: Vec::new().into_iter(),
        error: None,
    })
}

/// Reads one line, keeping at most [`MAX_LINE`] bytes of it.
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            // A signal landed on this thread mid-read: read again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
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
/// blank and `#` lines skipped, and a `#` comment after the target cut off.
fn target_of(line: &[u8], encoding: &Encoding) -> Option<String> {
    // A UTF-8 line that is valid already is its own text: decoding would
    // only copy it (and `utf-8-sig`'s BOM is trimmed below either way).
    let decoded;
    let text = match std::str::from_utf8(line) {
        Ok(text) if *encoding == UTF_8 || encoding.name() == "utf-8-sig" => text,
        // Decoding never fails with backslashreplace.
        _ => {
            decoded = encoding
                .decode(line, Errors::BackslashReplace)
                .unwrap_or_default();
            &decoded
        }
    };
    let text = without_comment(text.trim_start_matches('\u{feff}')).trim();
    if text.is_empty() {
        return None;
    }
    Some(text.to_owned())
}

/// `line` up to a `#` that starts it or follows a blank: a comment. A `#`
/// inside a target (a URL's fragment) is kept.
fn without_comment(line: &str) -> &str {
    // Most lines have no '#' at all: only a found one is looked at closer.
    for (i, _) in line.match_indices('#') {
        let previous = line[..i].chars().next_back().unwrap_or(' ');
        if previous.is_whitespace() {
            return &line[..i];
        }
    }
    line
}
