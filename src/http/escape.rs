//! Making peer-controlled bytes safe to print.
//!
//! Every header byte a report prints passes through here, so the common
//! case is made cheap: a line is checked for valid UTF-8 once (std does
//! that a word at a time), and then copied in whole runs of bytes that
//! need no escape. Only the bytes that might need one (an ASCII control,
//! DEL, a backslash, the lead byte of a C1 control) are looked at one
//! character at a time.
//!
//! Invariant: the output is the same, byte for byte, as escaping the line
//! one character at a time by the rules of [`escape_line`]
//! (`tests/http_escape_diff.rs` checks it against that simple version).

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
    let mut out = String::with_capacity(line.len());
    escape_line_into(&mut out, line);
    out
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

/// [`escape_line`], appending to `out`: a report writes each line straight
/// into its output buffer, with no `String` per line.
pub fn escape_line_into(out: &mut String, line: &[u8]) {
    match std::str::from_utf8(line) {
        Ok(text) => escape_text(out, text),
        // Not UTF-8 throughout: the valid stretches are text like any
        // other, and each byte of an invalid sequence becomes `\xNN`.
        Err(_) => {
            for chunk in line.utf8_chunks() {
                escape_text(out, chunk.valid());
                for &byte in chunk.invalid() {
                    push_hex_escape(out, "\\x", byte, "");
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
fn escape_text(out: &mut String, mut text: &str) {
    loop {
        let run = text
            .bytes()
            .position(|b| !is_plain(b))
            .unwrap_or(text.len());
        out.push_str(&text[..run]);
        text = &text[run..];
        let Some(c) = text.chars().next() else {
            return;
        };
        match c {
            '\\' => out.push_str(r"\\"),
            // An ASCII control or DEL: one byte, below 0x80.
            c if c.is_ascii_control() => push_hex_escape(out, "\\x", c as u8, ""),
            // A C1 control: U+0080 to U+009F, so it fits a byte as well.
            c if c.is_control() => push_hex_escape(out, "\\u{", c as u8, "}"),
            // A character from U+00A0 to U+00BF: plain after all.
            c => out.push(c),
        }
        text = &text[c.len_utf8()..];
    }
}

/// Appends `before`, `byte` as two lowercase hex digits, and `after`.
fn push_hex_escape(out: &mut String, before: &str, byte: u8, after: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push_str(before);
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0xf)]));
    out.push_str(after);
}
