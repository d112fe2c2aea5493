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
                    match read_target(&mut reader, &mut line, &encoding, &mut batch) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            if send(&mut batch) {
                                let _ = tx.send_blocking(Err((name, e)));
                            }
                            return;
                        }
                    }
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

/// Reads the next line of `reader` and adds its target, if it has one, to
/// `batch`; `false` at the end of the input. `line` is room for a line
/// that is not whole in the reader's buffer.
fn read_target(
    reader: &mut BufReader<impl Read>,
    line: &mut Vec<u8>,
    encoding: &Encoding,
    batch: &mut Vec<String>,
) -> io::Result<bool> {
    // Most lines are whole in the reader's buffer already: they are read
    // from there, with no copy into `line`, when `read_line` would keep
    // them whole too.
    let buffered = reader.buffer();
    if let Some(newline) = memchr::memchr(b'\n', buffered).filter(|&at| at < MAX_LINE) {
        batch.extend(target_of(&buffered[..=newline], encoding));
        reader.consume(newline + 1);
        return Ok(true);
    }
    line.clear();
    if read_line(reader, line)? == 0 {
        return Ok(false);
    }
    batch.extend(target_of(line, encoding));
    Ok(true)
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
        let (take, done) = match memchr::memchr(b'\n', buf) {
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
    let target = bare_target(text).or_else(|| careful_target(text))?;
    Some(target.to_owned())
}

/// The target on a line that holds nothing else but its line ending, the
/// common line, known as one by its two ends and a search for `#`; `None`
/// for any other line, which [`careful_target`] takes. Whatever this
/// returns is what `careful_target` would: `bare_lines_are_their_own_targets`
/// checks them against each other.
fn bare_target(text: &str) -> Option<&str> {
    let line = text.strip_suffix('\n').unwrap_or(text);
    let line = line.strip_suffix('\r').unwrap_or(line);
    let bytes = line.as_bytes();
    // Visible ASCII at both ends leaves no blank to trim and no BOM; with
    // no `#` anywhere, there is no comment to cut either.
    let bare = bytes.first()?.is_ascii_graphic()
        && bytes.last()?.is_ascii_graphic()
        && memchr::memchr(b'#', bytes).is_none();
    bare.then_some(line)
}

/// The target on any line: a BOM, a comment and the blanks around it
/// taken off; `None` for a line with nothing left.
fn careful_target(text: &str) -> Option<&str> {
    let text = without_comment(text.trim_start_matches('\u{feff}')).trim();
    (!text.is_empty()).then_some(text)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The quick look at a bare line gives what the careful path gives,
    /// for every line it takes; and it takes the common ones.
    #[test]
    fn bare_lines_are_their_own_targets() {
        for common in [
            "example.com\n",
            "127.0.0.1:8080\r\n",
            "http://h/a?b=c",
            "h:1\r",
        ] {
            assert!(bare_target(common).is_some(), "{common:?}");
        }
        // Every line of up to 6 characters from an alphabet of those that
        // matter: blanks (a vertical tab is one to `trim`), line endings,
        // `#`, a BOM, a non-ASCII letter and a control character.
        let alphabet = [
            'a', '/', ' ', '\t', '\u{b}', '\r', '\n', '#', '\u{feff}', 'é', '\0',
        ];
        let mut frontier = vec![String::new()];
        let mut taken = 0;
        for _ in 0..6 {
            frontier = frontier
                .iter()
                .flat_map(|line| {
                    alphabet.iter().map(move |&c| {
                        let mut next = line.clone();
                        next.push(c);
                        next
                    })
                })
                .collect();
            for line in &frontier {
                if let Some(bare) = bare_target(line) {
                    taken += 1;
                    assert_eq!(Some(bare), careful_target(line), "{line:?}");
                }
            }
        }
        assert!(taken > 10_000, "{taken}");
    }

    /// Lines are taken whole from the reader's buffer or, when one is
    /// split across reads or longer than [`MAX_LINE`], through
    /// `read_line`: the targets are the same either way.
    #[test]
    fn lines_split_across_reads_give_the_same_targets() {
        let x = |n: usize| "x".repeat(n);
        let text = format!(
            "a.example\n  b.example # c\r\n#d\n\n{}\n{}\n{}\ne.example\nlast",
            x(MAX_LINE - 1),
            x(MAX_LINE),
            x(MAX_LINE + 10),
        );
        let want = [
            "a.example".to_owned(),
            "b.example".into(),
            x(MAX_LINE - 1),
            x(MAX_LINE),
            x(MAX_LINE),
            "e.example".into(),
            "last".into(),
        ];
        // A reader that gives at most `step` bytes a read.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(buf.len()).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        for step in [1, 3, 7, 4096, 1 << 20] {
            let mut reader = BufReader::with_capacity(64 * 1024, Trickle(text.as_bytes(), step));
            let (mut line, mut batch) = (Vec::new(), Vec::new());
            while read_target(&mut reader, &mut line, &UTF_8, &mut batch).unwrap() {}
            assert_eq!(batch, want, "{step} bytes a read");
        }
    }
}
