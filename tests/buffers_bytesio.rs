//! `BytesIO` against docs/PYTHON-SEMANTICS.md section 5, and its `std::io` traits.

use std::io::{self, BufRead, Read, Seek, SeekFrom, Write};

use fetch_headers::buffers::BytesIO;
use fetch_headers::files::{ErrorKind, Whence};

#[test]
fn initial_value_starts_at_zero_and_is_overwritten() {
    let mut b = BytesIO::new(b"initial");
    assert_eq!(b.tell().unwrap(), 0);
    assert_eq!(b.write(b"XY").unwrap(), 2);
    assert_eq!(b.getvalue().unwrap(), b"XYitial");
}

#[test]
fn write_moves_the_position() {
    let mut b = BytesIO::default();
    assert_eq!(b.write(b"hello").unwrap(), 5);
    assert_eq!(b.write(b" world\n").unwrap(), 7);
    assert_eq!(b.tell().unwrap(), 12);
    assert_eq!(b.read(None).unwrap(), b"");
    b.seek(0, Whence::Start).unwrap();
    b.write(b"HE").unwrap();
    assert_eq!(b.getvalue().unwrap(), b"HEllo world\n");
}

#[test]
fn seeking_past_the_end_then_writing_pads_with_nul() {
    let mut b = BytesIO::new(b"abc");
    b.seek(10, Whence::Start).unwrap();
    assert_eq!(b.getvalue().unwrap(), b"abc");
    assert_eq!(b.read(None).unwrap(), b"");
    b.write(b"Z").unwrap();
    assert_eq!(b.getvalue().unwrap(), b"abc\x00\x00\x00\x00\x00\x00\x00Z");
}

#[test]
fn any_whence_with_clamping() {
    let mut b = BytesIO::new(b"abc");
    let err = b.seek(-1, Whence::Start).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::InvalidArgument, "negative seek value -1")
    );
    assert_eq!(b.seek(-100, Whence::End).unwrap(), 0);
    assert_eq!(b.seek(-1, Whence::End).unwrap(), 2);
    assert_eq!(b.seek(-1, Whence::Current).unwrap(), 1);
    // io::Seek keeps Rust's contract instead: negative targets are errors.
    assert_eq!(
        Seek::seek(&mut b, SeekFrom::End(-100)).unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    assert_eq!(Seek::seek(&mut b, SeekFrom::End(-1)).unwrap(), 2);
}

#[test]
fn closed_buffers_fail() {
    let mut b = BytesIO::new(b"x");
    b.close();
    for err in [
        b.getvalue().unwrap_err(),
        b.read(None).unwrap_err(),
        b.write(b"y").unwrap_err(),
    ] {
        assert_eq!(
            (err.kind(), err.message()),
            (ErrorKind::Closed, "I/O operation on closed file.")
        );
    }
    let mut buf = [0; 4];
    assert!(Read::read(&mut b, &mut buf).is_err());
}

#[test]
fn readline_splits_on_lf_only() {
    let mut b = BytesIO::new(b"l1\nl2\r\nl3\rl4");
    let got: Vec<Vec<u8>> = (0..5).map(|_| b.readline(None).unwrap()).collect();
    assert_eq!(got, [&b"l1\n"[..], b"l2\r\n", b"l3\rl4", b"", b""]);
    assert_eq!(BytesIO::new(b"abcdef").readline(Some(3)).unwrap(), b"abc");
    assert_eq!(
        BytesIO::new(b"a\nb\nc").readlines(None).unwrap(),
        [&b"a\n"[..], b"b\n", b"c"]
    );
}

#[test]
fn truncate_never_extends_or_moves() {
    let mut b = BytesIO::new(b"hello world");
    b.seek(8, Whence::Start).unwrap();
    assert_eq!(b.truncate(Some(5)).unwrap(), 5);
    assert_eq!(
        (b.getvalue().unwrap(), b.tell().unwrap()),
        (&b"hello"[..], 8)
    );
    assert_eq!(b.truncate(Some(10)).unwrap(), 10);
    assert_eq!(b.getvalue().unwrap(), b"hello");
    b.write(b"X").unwrap();
    assert_eq!(b.getvalue().unwrap(), b"hello\0\0\0X");
    b.seek(0, Whence::Start).unwrap();
    assert_eq!(b.truncate(None).unwrap(), 0);
    assert_eq!(b.getvalue().unwrap(), b"");
}

#[test]
fn std_io_traits() {
    // BytesIO.write('s') is a TypeError in Python; `write` takes bytes here.
    let mut b = BytesIO::default();
    write!(b, "GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    b.flush().unwrap();
    Seek::seek(&mut b, SeekFrom::Start(0)).unwrap();
    let mut first = String::new();
    BufRead::read_line(&mut b, &mut first).unwrap();
    assert_eq!(first, "GET / HTTP/1.1\r\n");
    let mut rest = Vec::new();
    Read::read_to_end(&mut b, &mut rest).unwrap();
    assert_eq!(rest, b"Host: x\r\n");
    assert_eq!(b.tell().unwrap(), 25);
}
