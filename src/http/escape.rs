//! Making peer-controlled bytes safe to print.
//!
//! Every header byte a report prints passes through here, so the common
//! case is made cheap. A run of printable ASCII (all of most header lines)
//! is copied as it is, in one piece, straight into the output buffer. Only
//! at a byte that is not printable ASCII does the escaper look closer: an
//! ASCII control, DEL or a backslash is escaped on the spot; from the
//! first non-ASCII byte on, the rest of the line is decoded as UTF-8, and
//! even then the characters that need no escape are copied in runs.
//!
//! Invariant: the output is the same, byte for byte, as escaping the line
//! one character at a time by the rules of [`escape_line`]
//! (`tests/http_escape_diff.rs` checks it against that simple version),
//! and it is valid UTF-8: every byte written is ASCII, or part of a whole
//! character copied from valid text.

use std::borrow::Cow;

/// Renders a header line for a terminal: valid UTF-8 text is kept (accents,
/// CJK, emoji), and everything that could drive the terminal or is not text
/// is written as an escape, so a hostile server cannot move the cursor,
/// retitle the window or hide a line.
///
/// - ASCII control characters (tab, CR, ESC, DEL, ...) become `\xNN`
///   (`\x1b`), as do bytes that are not valid UTF-8 (`\xff`). This is
///   Python's `errors='backslashreplace'` applied to the whole line.
/// - C1 control characters (U+0080 to U+009F, which some terminals obey)
///   become `\u{NN}`, so they cannot be mistaken for raw bytes.
/// - A backslash becomes `\\`, so every escape can be read back unambiguously.
///
/// ```
/// use fetch_headers::http::escape_line;
///
/// assert_eq!(escape_line(b"Server: nginx"), "Server: nginx");
/// assert_eq!(escape_line(b"X: \x1b[2J\xff"), r"X: \x1b[2J\xff");
/// assert_eq!(escape_line("X: caf\u{e9} \\".as_bytes()), r"X: café \\");
/// ```
pub fn escape_line(line: &[u8]) -> String {
    let mut out = Vec::with_capacity(line.len());
    escape_line_into(&mut out, line);
    // Cannot fail (see the module's invariant); the lossy form only keeps
    // this function total.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`escape_line`], without a copy for plain text, which most targets and
/// header lines are: `line` itself when it is valid UTF-8 with no control
/// character and no backslash (a few such lines, those with a character
/// from U+00A0 to U+00BF, are copied all the same, unchanged).
pub fn escaped(line: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(text) if text.bytes().all(is_plain) => Cow::Borrowed(text),
        _ => Cow::Owned(escape_line(line)),
    }
}

/// [`escape_line`], appending its UTF-8 bytes to `out`: a report writes
/// each line straight into its output buffer, with no `String` per line.
pub fn escape_line_into(out: &mut Vec<u8>, mut line: &[u8]) {
    loop {
        let run = line
            .iter()
            .position(|&b| !is_plain_ascii(b))
            .unwrap_or(line.len());
        out.extend_from_slice(&line[..run]);
        line = &line[run..];
        match line.first() {
            None => return,
            Some(&byte) if byte.is_ascii() => {
                escape_ascii(out, byte);
                line = &line[1..];
            }
            // The first non-ASCII byte follows ASCII, so it starts the
            // same UTF-8 sequence (or invalid one) it would start in the
            // whole line: the rest can be decoded on its own.
            Some(_) => return escape_non_ascii(out, line),
        }
    }
}

/// Printable ASCII but the backslash: the bytes most lines are made of.
fn is_plain_ascii(byte: u8) -> bool {
    matches!(byte, b' '..=b'~') && byte != b'\\'
}

/// Escapes an ASCII byte that is not plain: a control, DEL, a backslash.
fn escape_ascii(out: &mut Vec<u8>, byte: u8) {
    match byte {
        b'\\' => out.extend_from_slice(br"\\"),
        _ => push_hex_escape(out, b"\\x", byte, b""),
    }
}

/// Escapes `line` from a non-ASCII byte on: valid UTF-8 is text like any
/// other, and each byte of an invalid sequence becomes `\xNN`.
fn escape_non_ascii(out: &mut Vec<u8>, line: &[u8]) {
    match std::str::from_utf8(line) {
        Ok(text) => escape_text(out, text),
        Err(_) => {
            for chunk in line.utf8_chunks() {
                escape_text(out, chunk.valid());
                for &byte in chunk.invalid() {
                    push_hex_escape(out, b"\\x", byte, b"");
                }
            }
        }
    }
}

/// Whether a byte of valid UTF-8 text is copied as it is: printable ASCII
/// but the backslash, and any byte of a non-ASCII character but the lead
/// byte `0xC2`.
///
/// The only non-ASCII characters that need an escape are the C1 controls,
/// U+0080 to U+009F, and in UTF-8 each of them is `0xC2` followed by
/// `0x80..=0x9F`. Stopping at every `0xC2` (the characters U+00A0 to
/// U+00BF start with it too, and are only looked at more closely) keeps
/// every run on a character boundary: `0xC2` is never a continuation byte.
fn is_plain(byte: u8) -> bool {
    match byte {
        b'\\' => false,
        b' '..=b'~' => true,
        0x80.. => byte != 0xC2,
        // Below the space, and DEL: ASCII controls.
        _ => false,
    }
}

/// Appends valid `text`, escaped. Runs of plain bytes are copied whole;
/// at each byte that is not plain, one character is looked at.
fn escape_text(out: &mut Vec<u8>, mut text: &str) {
    loop {
        let run = text
            .bytes()
            .position(|b| !is_plain(b))
            .unwrap_or(text.len());
        out.extend_from_slice(&text.as_bytes()[..run]);
        text = &text[run..];
        let Some(c) = text.chars().next() else {
            return;
        };
        match c {
            // An ASCII control, DEL or the backslash: one byte.
            c if c.is_ascii() => escape_ascii(out, c as u8),
            // A C1 control: U+0080 to U+009F, so it fits a byte as well.
            c if c.is_control() => push_hex_escape(out, b"\\u{", c as u8, b"}"),
            // A character from U+00A0 to U+00BF: plain after all.
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
        text = &text[c.len_utf8()..];
    }
}

/// Appends `before`, `byte` as two lowercase hex digits, and `after`.
fn push_hex_escape(out: &mut Vec<u8>, before: &[u8], byte: u8, after: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(before);
    out.push(HEX[usize::from(byte >> 4)]);
    out.push(HEX[usize::from(byte & 0xf)]);
    out.extend_from_slice(after);
}
