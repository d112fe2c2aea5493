//! Making peer-controlled bytes safe to print.
//!
//! Every header byte a report prints passes through here, so the common
//! case is made cheap. A run of printable ASCII (all of most header lines)
//! is found eight bytes at a time and copied as it is, in one piece,
//! straight into the output buffer. Only
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
    // Printable ASCII, the common case, is found eight bytes at a time,
    // and is UTF-8 with nothing to escape.
    if plain_ascii_run(line) == line.len() {
        if let Ok(text) = std::str::from_utf8(line) {
            return Cow::Borrowed(text);
        }
    }
    match std::str::from_utf8(line) {
        Ok(text) if text.bytes().all(is_plain) => Cow::Borrowed(text),
        _ => Cow::Owned(escape_line(line)),
    }
}

/// [`escaped`] for text that is UTF-8 already (a target as it was given):
/// the text itself, with no UTF-8 check, when it is printable ASCII with no
/// backslash, as nearly every target is.
///
/// ```
/// use std::borrow::Cow;
/// use fetch_headers::http::escaped_str;
///
/// assert!(matches!(escaped_str("example.com:80"), Cow::Borrowed("example.com:80")));
/// assert_eq!(escaped_str("a\x1bb"), r"a\x1bb");
/// ```
pub fn escaped_str(text: &str) -> Cow<'_, str> {
    if plain_ascii_run(text.as_bytes()) == text.len() {
        Cow::Borrowed(text)
    } else {
        escaped(text.as_bytes())
    }
}

/// [`escape_line`], appending its UTF-8 bytes to `out`: a report writes
/// each line straight into its output buffer, with no `String` per line.
pub fn escape_line_into(out: &mut Vec<u8>, mut line: &[u8]) {
    loop {
        let run = plain_ascii_run(line);
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

/// Appends each line of `text` escaped, as [`escape_line_into`] escapes
/// it, and a `\n` after it; before each line, `start_line(out)` writes
/// what goes first (a report's `TARGET header > `).
///
/// The lines are those of a head: `text` is cut after each `\n`, each
/// line loses its `\n` or `\r\n` (or a lone `\r` at the very end), and
/// the first empty line ends them, as
/// [`ResponseHead::lines`](super::ResponseHead::lines) cuts a head's
/// [`raw`](super::ResponseHead::raw) bytes. The output is the same as
/// escaping each of those lines in turn, but the bytes are walked once:
/// `\r` and `\n` are not plain, so the scan that copies a line's plain
/// bytes stops at its end by itself, and no separate search for the `\n`
/// is needed.
///
/// ```
/// use fetch_headers::http::escape_lines_into;
///
/// let mut out = Vec::new();
/// let head = b"HTTP/1.1 200 OK\r\nX: \x1b[2J\r\n\r\nbody";
/// escape_lines_into(&mut out, head, |out| out.extend_from_slice(b"> "));
/// assert_eq!(out, b"> HTTP/1.1 200 OK\n> X: \\x1b[2J\n");
/// ```
pub fn escape_lines_into(
    out: &mut Vec<u8>,
    mut text: &[u8],
    mut start_line: impl FnMut(&mut Vec<u8>),
) {
    while !starts_with_empty_line(text) {
        start_line(out);
        text = escape_first_line(out, text);
        out.push(b'\n');
    }
}

/// Whether the first line of `text` is empty once its line ending is
/// taken off (which is also true of no text at all).
fn starts_with_empty_line(text: &[u8]) -> bool {
    matches!(text, [] | [b'\n', ..] | [b'\r', b'\n', ..] | [b'\r'])
}

/// Appends the first line of `text` escaped, without its line ending, and
/// returns what follows that line ending.
fn escape_first_line<'t>(out: &mut Vec<u8>, mut text: &'t [u8]) -> &'t [u8] {
    loop {
        // Copy the plain run; the byte it stops at is the first that needs
        // a look, and at the end of the line that is the `\r` or `\n`.
        let run = plain_ascii_run(text);
        out.extend_from_slice(&text[..run]);
        text = &text[run..];
        match text {
            [] => return text,
            [b'\n', rest @ ..] | [b'\r', b'\n', rest @ ..] => return rest,
            // A lone `\r` at the very end: the first half of a line ending.
            [b'\r'] => return &[],
            [byte, rest @ ..] if byte.is_ascii() => {
                escape_ascii(out, *byte);
                text = rest;
            }
            // From the first non-ASCII byte on, the rest of the line is
            // decoded as UTF-8, as `escape_line_into` does: so first find
            // where the line ends.
            _ => {
                let end = memchr::memchr(b'\n', text).map_or(text.len(), |newline| newline + 1);
                let (line, rest) = text.split_at(end);
                escape_non_ascii(out, super::without_line_ending(line));
                return rest;
            }
        }
    }
}

/// How many bytes at the start of `bytes` are plain ASCII (see
/// [`is_plain_ascii`]).
fn plain_ascii_run(bytes: &[u8]) -> usize {
    printable_run(bytes, b'\\')
}

/// How many bytes at the start of `bytes` are printable ASCII (the space
/// to `~`) other than the backslash and `also_stop_at`: the bytes that an
/// escaper copies as they are. The JSON writer stops at `"` as well.
///
/// Header lines are mostly such bytes, so this looks at eight bytes at a
/// time: each word is read as a little-endian `u64` (its first byte
/// lowest), and a few additions and masks set the top bit of every byte
/// lane that holds a byte to stop at (`stop_lanes`, in the source, shows
/// how). A word with no lane set is skipped whole; otherwise its lowest
/// lane set is the first byte to stop at. Bytes left over, fewer than
/// eight, are read with the bytes before them as one last word (or, in a
/// text shorter than a word, looked at one by one).
///
/// ```
/// use fetch_headers::http::printable_run;
///
/// assert_eq!(printable_run(b"Server: nginx\r\n", b'"'), 13);
/// assert_eq!(printable_run(br#"ETag: "5e""#, b'"'), 6);
/// assert_eq!(printable_run(br"C:\x", b'"'), 2);
/// ```
#[inline]
pub fn printable_run(bytes: &[u8], also_stop_at: u8) -> usize {
    let mut rest = bytes;
    while let Some((word, after)) = rest.split_first_chunk::<8>() {
        let lanes = stop_lanes(u64::from_le_bytes(*word), also_stop_at);
        if lanes != 0 {
            let in_word = (lanes.trailing_zeros() / 8) as usize;
            return bytes.len() - rest.len() + in_word;
        }
        rest = after;
    }
    if rest.is_empty() {
        return bytes.len();
    }
    // Fewer than eight bytes are left. If the whole is eight bytes long or
    // more, its last word, read again, holds them: its first lanes hold
    // bytes already passed (no stop among them, so no borrow or carry out
    // of them either), and are masked off.
    if let Some(last) = bytes.last_chunk::<8>() {
        let passed = 8 - rest.len();
        let lanes = stop_lanes(u64::from_le_bytes(*last), also_stop_at) >> (8 * passed);
        return match lanes {
            0 => bytes.len(),
            lanes => bytes.len() - rest.len() + (lanes.trailing_zeros() / 8) as usize,
        };
    }
    rest.iter()
        .position(|&b| !is_plain_ascii(b) || b == also_stop_at)
        .unwrap_or(rest.len())
}

/// `0x01` in each byte lane of a word.
const LANES: u64 = u64::from_le_bytes([0x01; 8]);
/// The top bit of every byte lane.
const TOPS: u64 = LANES * 0x80;

/// The top bit of each byte lane of `word` whose byte is one to stop at:
/// a control below the space, DEL and above, the backslash, or `also`.
/// Only the lowest lane set is sure to be right (a borrow or a carry out
/// of a lane that is set can set a lane above it), and that is all
/// [`printable_run`] reads.
///
/// Each test is a classic of bit twiddling on byte lanes:
/// - below `0x20`: subtracting `0x20` from each lane sets its top bit for
///   a byte below `0x20` or at `0xA0` and above, and `& !word` keeps only
///   the lanes whose byte had its top bit clear: those below `0x20`;
/// - `0x7F` and above: adding 1 carries `0x7F` into the top bit, and
///   `| word` adds the bytes that had it already;
/// - one given byte: `^` with a word of that byte makes it a zero lane,
///   and a zero lane is the one lane that subtracting 1 turns from top bit
///   clear to top bit set.
#[inline]
fn stop_lanes(word: u64, also: u8) -> u64 {
    let below_space = word.wrapping_sub(LANES * 0x20) & !word;
    let del_and_above = word.wrapping_add(LANES) | word;
    (below_space
        | del_and_above
        | zero_lanes(word ^ (LANES * u64::from(b'\\')))
        | zero_lanes(word ^ (LANES * u64::from(also))))
        & TOPS
}

/// The top bit of the lanes of `word` that are zero (the lowest one
/// exactly; see [`stop_lanes`]).
#[inline]
fn zero_lanes(word: u64) -> u64 {
    word.wrapping_sub(LANES) & !word
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
