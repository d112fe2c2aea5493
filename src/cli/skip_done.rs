//! `--skip-done FILE`: resuming a long run where it stopped.
//!
//! FILE is an earlier run's output, JSON Lines or text. Every target that
//! has an outcome there is skipped this time, so
//! `-o out.jsonl --append --skip-done out.jsonl` picks an interrupted
//! million-host run up where it left off. A target counts as done when:
//!
//! - in JSON Lines, a complete line (one ending in `\n`) names it as its
//!   `"target"` (this command writes that key first), unless its error kind
//!   is `interrupted`: a fetch that a signal cut short is fetched again;
//! - in text, a line reads `TARGET header > ...` or `TARGET error > ...`,
//!   again unless it is an `interrupted` error. Targets are matched as
//!   printed, which is as given for any target without control characters.
//!
//! Only the targets' 64-bit FNV-1a hashes are kept, in one sorted vector:
//! 8 bytes per done target, 8 MB for a million. Two different targets
//! share a hash with a chance of about 1 in 36 million for a million
//! targets (n² / 2⁶⁵), in which case the second is skipped too.

use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::rc::Rc;

use fetch_headers::fetch::Targets;

use super::fnv::fnv1a64;

/// The targets an earlier run finished.
#[derive(Debug, Default)]
pub(crate) struct DoneSet {
    /// Hashes of the done targets, sorted, no duplicates.
    hashes: Vec<u64>,
}

impl DoneSet {
    /// Reads the outcomes in `file`.
    pub(crate) fn read(file: File) -> io::Result<DoneSet> {
        let mut reader = BufReader::new(file);
        let mut hashes = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            // A line without its newline was cut off mid-write.
            let Some(line) = line.strip_suffix(b"\n") else {
                break;
            };
            if let Some(target) = done_target(line) {
                hashes.push(fnv1a64(&target));
            }
        }
        hashes.sort_unstable();
        hashes.dedup();
        Ok(DoneSet { hashes })
    }

    /// How many distinct targets are done.
    pub(crate) fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether `target` (as given) is done.
    pub(crate) fn contains(&self, target: &str) -> bool {
        // Without --skip-done the set is empty: no need to hash the target.
        !self.hashes.is_empty()
            && self
                .hashes
                .binary_search(&fnv1a64(target.as_bytes()))
                .is_ok()
    }
}

/// The target a finished outcome line names, if the line is one.
fn done_target(line: &[u8]) -> Option<Vec<u8>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"{") {
        if contains(line, br#""error":{"kind":"interrupted""#) {
            return None;
        }
        return json_target(line);
    }
    if let Some((target, _)) = split_once(line, b" header > ") {
        return Some(target.to_vec());
    }
    match split_once(line, b" error > ") {
        Some((target, error)) if !error.starts_with(b"interrupted:") => Some(target.to_vec()),
        _ => None,
    }
}

/// The value of a leading `"target":"..."` key, unescaped.
fn json_target(line: &[u8]) -> Option<Vec<u8>> {
    let mut rest = line.strip_prefix(br#"{"target":""#)?.iter();
    let mut target = Vec::new();
    loop {
        match *rest.next()? {
            b'"' => return Some(target),
            b'\\' => match *rest.next()? {
                b'n' => target.push(b'\n'),
                b'r' => target.push(b'\r'),
                b't' => target.push(b'\t'),
                b'u' => {
                    let hex: Vec<u8> = rest.by_ref().take(4).copied().collect();
                    let code = u32::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?;
                    let c = char::from_u32(code)?;
                    target.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                other => target.push(other),
            },
            byte => target.push(byte),
        }
    }
}

fn split_once<'a>(line: &'a [u8], separator: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let at = line.windows(separator.len()).position(|w| w == separator)?;
    Some((&line[..at], &line[at + separator.len()..]))
}

fn contains(line: &[u8], needle: &[u8]) -> bool {
    line.windows(needle.len()).any(|w| w == needle)
}

/// The targets, without those an earlier run finished.
pub(crate) struct SkipDone<T> {
    pub(crate) targets: T,
    pub(crate) done: DoneSet,
    /// How many were skipped, for the summary.
    pub(crate) skipped: Rc<Cell<u64>>,
}

impl<T: Targets> Targets for SkipDone<T> {
    async fn next(&mut self) -> Option<String> {
        loop {
            let target = self.targets.next().await?;
            if !self.done.contains(&target) {
                return Some(target);
            }
            self.skipped.set(self.skipped.get() + 1);
        }
    }
}
