//! `StringIO` against docs/PYTHON-SEMANTICS.md section 5.

use std::fmt::Write as _;

use fetch_headers::buffers::StringIO;
use fetch_headers::files::{ErrorKind, Whence};

#[test]
fn initial_value_starts_at_zero_and_is_overwritten() {
    let mut s = StringIO::new("initial");
    assert_eq!(s.tell().unwrap(), 0);
    assert_eq!(s.write("XY").unwrap(), 2);
    assert_eq!(s.getvalue().unwrap(), "XYitial");
}

#[test]
fn write_moves_the_position() {
    let mut s = StringIO::default();
    assert_eq!(s.write("hello").unwrap(), 5);
    assert_eq!(s.write(" world\n").unwrap(), 7);
    assert_eq!(s.tell().unwrap(), 12);
    assert_eq!(s.read(None).unwrap(), "");
    s.seek(0, Whence::Start).unwrap();
    s.write("HE").unwrap();
    assert_eq!(s.getvalue().unwrap(), "HEllo world\n");
    assert_eq!(s.read(Some(3)).unwrap(), "llo");
}

#[test]
fn seeking_past_the_end_then_writing_pads_with_nul() {
    let mut s = StringIO::new("abc");
    assert_eq!(s.seek(10, Whence::Start).unwrap(), 10);
    assert_eq!(s.getvalue().unwrap(), "abc");
    s.write("Z").unwrap();
    assert_eq!(s.getvalue().unwrap(), "abc\0\0\0\0\0\0\0Z");
}

#[test]
fn only_absolute_seeks() {
    let mut s = StringIO::new("abc");
    for (offset, whence) in [(1, Whence::Current), (-1, Whence::End)] {
        let err = s.seek(offset, whence).unwrap_err();
        assert_eq!(
            (err.kind(), err.message()),
            (ErrorKind::Os, "Can't do nonzero cur-relative seeks")
        );
    }
    let err = s.seek(-1, Whence::Start).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::InvalidArgument, "Negative seek position -1")
    );
    assert_eq!(s.seek(0, Whence::End).unwrap(), 3);
    assert_eq!(s.seek(0, Whence::Current).unwrap(), 3);
}

#[test]
fn getvalue_ignores_position_and_tell_counts_code_points() {
    let mut s = StringIO::new("héllo😀");
    s.read(Some(2)).unwrap();
    assert_eq!(s.getvalue().unwrap(), "héllo😀");
    s.seek(0, Whence::End).unwrap();
    assert_eq!(s.tell().unwrap(), 6, "code points, not UTF-8 bytes");
}

#[test]
fn closed_buffers_fail() {
    let mut s = StringIO::new("x");
    s.close();
    s.close();
    assert!(s.is_closed());
    for err in [
        s.getvalue().unwrap_err(),
        s.read(None).unwrap_err(),
        s.write("y").unwrap_err(),
        s.tell().unwrap_err(),
        s.seek(0, Whence::Start).unwrap_err(),
        s.truncate(None).unwrap_err(),
    ] {
        assert_eq!(
            (err.kind(), err.message()),
            (ErrorKind::Closed, "I/O operation on closed file")
        );
    }
}

#[test]
fn readline_splits_on_lf_only() {
    let s = StringIO::new("line1\nline2\r\nline3\rline4");
    let lines: Vec<String> = s.map(Result::unwrap).collect();
    assert_eq!(lines, ["line1\n", "line2\r\n", "line3\rline4"]);

    let mut s = StringIO::new("a\nb\nc");
    let got: Vec<String> = (0..4).map(|_| s.readline(None).unwrap()).collect();
    assert_eq!(got, ["a\n", "b\n", "c", ""]);
    assert_eq!(StringIO::new("abcdef\n").readline(Some(3)).unwrap(), "abc");
    assert_eq!(
        StringIO::new("one\ntwo\nthree\n")
            .readlines(Some(5))
            .unwrap(),
        ["one\n", "two\n"]
    );
}

#[test]
fn truncate_never_extends_or_moves() {
    let mut s = StringIO::new("hello world");
    s.seek(8, Whence::Start).unwrap();
    assert_eq!(s.truncate(Some(5)).unwrap(), 5);
    assert_eq!(s.getvalue().unwrap(), "hello");
    assert_eq!(s.tell().unwrap(), 8);

    let mut s = StringIO::new("hello");
    s.seek(2, Whence::Start).unwrap();
    assert_eq!(s.truncate(None).unwrap(), 2);
    assert_eq!(s.getvalue().unwrap(), "he");

    let mut s = StringIO::new("abc");
    assert_eq!(s.truncate(Some(10)).unwrap(), 10);
    assert_eq!(s.getvalue().unwrap(), "abc");

    let mut s = StringIO::new("hello");
    s.read(None).unwrap();
    s.truncate(Some(0)).unwrap();
    s.write("X").unwrap();
    assert_eq!(s.getvalue().unwrap(), "\0\0\0\0\0X");
    s.seek(0, Whence::Start).unwrap();
    s.truncate(None).unwrap();
    s.write("fresh").unwrap();
    assert_eq!(s.getvalue().unwrap(), "fresh");
}

#[test]
fn fmt_write_and_types() {
    // StringIO.write(b'x') is a TypeError in Python; here `write` takes &str,
    // so the mistake does not compile. fmt::Write works like print(file=).
    let mut s = StringIO::default();
    let word = "two";
    write!(s, "{}-{word}", 1).unwrap();
    assert_eq!(s.getvalue().unwrap(), "1-two");
}
