//! Escaping header lines for the terminal.

use fetch_headers::http::escape_line;

#[test]
fn plain_ascii_is_unchanged() {
    assert_eq!(
        escape_line(b"Content-Type: text/html; charset=utf-8"),
        "Content-Type: text/html; charset=utf-8"
    );
    assert_eq!(escape_line(b""), "");
}

#[test]
fn control_characters_are_escaped() {
    assert_eq!(escape_line(b"\x1b[31mred\x1b[0m"), r"\x1b[31mred\x1b[0m");
    assert_eq!(escape_line(b"a\tb\rc\x00d\x7f"), r"a\x09b\x0dc\x00d\x7f");
    assert_eq!(escape_line(b"bell\x07\x08"), r"bell\x07\x08");
}

#[test]
fn invalid_utf8_bytes_are_escaped() {
    assert_eq!(escape_line(b"\xff\xfe"), r"\xff\xfe");
    assert_eq!(escape_line(b"caf\xe9!"), r"caf\xe9!"); // Latin-1 é
    assert_eq!(escape_line(b"\xd5\xfd\xb3\xa3"), r"\xd5\xfd\xb3\xa3"); // GBK 正常
    assert_eq!(escape_line(b"end\xe6\xad"), r"end\xe6\xad"); // truncated UTF-8
}

#[test]
fn valid_non_ascii_utf8_is_kept() {
    assert_eq!(escape_line("café 正常 😀".as_bytes()), "café 正常 😀");
}

#[test]
fn c1_controls_are_escaped_as_code_points() {
    // U+009B is CSI, which some terminals obey like ESC [.
    assert_eq!(escape_line("a\u{9b}2J".as_bytes()), r"a\u{9b}2J");
}

#[test]
fn backslash_is_escaped_so_escapes_are_unambiguous() {
    assert_eq!(escape_line(br"C:\x1b"), r"C:\\x1b");
    assert_eq!(escape_line(b"\\\x1b"), r"\\\x1b");
}
