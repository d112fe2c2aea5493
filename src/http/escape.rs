//! Making peer-controlled bytes safe to print.

use std::borrow::Cow;
use std::fmt::Write;

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

/// [`escape_line`], without a copy when `line` needs no escape: plain
/// printable text, which most targets and header lines are.
pub fn escaped(line: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(text) if !text.chars().any(|c| c == '\\' || c.is_control()) => Cow::Borrowed(text),
        _ => Cow::Owned(escape_line(line)),
    }
}

/// [`escape_line`], appending to `out`: a report writes each line straight
/// into its output buffer, with no `String` per line.
pub fn escape_line_into(out: &mut String, line: &[u8]) {
    for chunk in line.utf8_chunks() {
        for c in chunk.valid().chars() {
            // Writing to a String cannot fail, so the results are ignored.
            let _ = match c {
                '\\' => out.write_str(r"\\"),
                c if c.is_ascii_control() => write!(out, "\\x{:02x}", c as u32),
                c if c.is_control() => write!(out, "\\u{{{:x}}}", c as u32),
                c => out.write_char(c),
            };
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
}
