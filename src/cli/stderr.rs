//! Everything the command says on stderr goes through here: notes, the
//! progress line, the summary, `--stats`, usage errors and the panic hook.
//!
//! `eprintln!` panics when the write fails, and stderr can fail like any
//! file: `2>/dev/full`, or `2>&1 | head -1` once `head` has left (EPIPE).
//! A panic there used to run the panic hook, whose own `eprintln!`
//! panicked again and aborted the process (SIGABRT, exit status 134).
//! What goes to stderr is for a person; when nobody can read it, it is
//! dropped, and the run ends with the exit status its results earned.

use std::fmt::Display;
use std::io::{self, Write};

/// Writes `text` (a `&str`, or the bytes of text) to stderr as is, in one
/// write where the OS allows, ignoring failure.
pub(crate) fn write(text: impl AsRef<[u8]>) {
    // Locked, so a line from another thread cannot land inside this one.
    let _ = io::stderr().lock().write_all(text.as_ref());
}

/// Writes `text` and a newline to stderr, ignoring failure.
pub(crate) fn line(text: impl Display) {
    write(format!("{text}\n"));
}
