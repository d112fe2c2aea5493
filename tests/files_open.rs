//! `files::open`: mode strings, per-mode semantics, reading and writing
//! (docs/PYTHON-SEMANTICS.md section 4), on real files in a temporary directory.

use std::fs;

use fetch_headers::files::{self, BinaryFile, ErrorKind, OpenOptions, TextFile, Whence};

fn text(path: &std::path::Path, mode: &str) -> TextFile {
    files::open(path, mode).unwrap().text().unwrap()
}

fn binary(path: &std::path::Path, mode: &str) -> BinaryFile {
    files::open(path, mode).unwrap().binary().unwrap()
}

fn open_error(mode: &str) -> (ErrorKind, String) {
    let dir = tempfile::tempdir().unwrap();
    let err = files::open(dir.path().join("f"), mode).unwrap_err();
    (err.kind(), err.to_string())
}

#[test]
fn invalid_modes_are_rejected_with_python_messages() {
    let long = "Must have exactly one of create/read/write/append mode and at most one plus";
    for mode in ["", "b", "t", "+"] {
        assert_eq!(open_error(mode), (ErrorKind::InvalidArgument, long.into()));
    }
    let one = "must have exactly one of create/read/write/append mode";
    assert_eq!(open_error("rw").1, one);
    assert_eq!(open_error("wa").1, one);
    assert_eq!(
        open_error("tb").1,
        "can't have text and binary mode at once"
    );
    assert_eq!(open_error("U").1, "invalid mode: 'U'");
    assert_eq!(open_error("rU").1, "invalid mode: 'rU'");
    assert_eq!(open_error("z").1, "invalid mode: 'z'");
    assert_eq!(open_error("rr").1, "invalid mode: 'rr'");
}

#[test]
fn read_mode_needs_the_file_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.txt");
    let err = files::open(&missing, "r").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let expected = format!(
        "[Errno 2] No such file or directory: '{}'",
        missing.display()
    );
    assert_eq!(err.to_string(), expected);

    let path = dir.path().join("a.txt");
    fs::write(&path, "x").unwrap();
    let err = text(&path, "r").write("y").unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Unsupported, "not writable")
    );
}

#[test]
fn write_mode_truncates_and_counts_characters() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.txt");
    fs::write(&path, "old content that is long").unwrap();
    let mut f = text(&path, "w");
    assert_eq!(f.write("héllo\n").unwrap(), 6);
    assert_eq!(f.write("").unwrap(), 0);
    f.writelines(["a\n", "b\n"]).unwrap();
    f.close().unwrap();
    assert_eq!(fs::read(&path).unwrap(), "héllo\na\nb\n".as_bytes());
    assert_eq!(fs::read(&path).unwrap().len(), 11);
}

#[test]
fn append_mode_always_writes_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    fs::write(&path, "new\n").unwrap();
    let mut f = text(&path, "a");
    assert_eq!(f.tell().unwrap(), 4);
    f.write("app1\n").unwrap();
    f.seek(0, Whence::Start).unwrap();
    f.write("app2\n").unwrap();
    let err = f.read(None).unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::Unsupported, "not readable")
    );
    drop(f);
    assert_eq!(fs::read(&path).unwrap(), b"new\napp1\napp2\n");

    // 'a' creates the file too.
    let fresh = dir.path().join("fresh.txt");
    assert_eq!(text(&fresh, "a").tell().unwrap(), 0);
    assert!(fresh.exists());
}

#[test]
fn exclusive_mode_fails_on_an_existing_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.txt");
    text(&path, "x").write("made").unwrap();
    let err = files::open(&path, "x").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyExists);
    let expected = format!("[Errno 17] File exists: '{}'", path.display());
    assert_eq!(err.to_string(), expected);
}

#[test]
fn plus_modes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.txt");
    fs::write(&path, "0123456789").unwrap();
    text(&path, "r+").write("AB").unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "AB23456789");

    let mut f = text(&path, "w+");
    assert_eq!(f.read(None).unwrap(), "");
    f.write("fresh").unwrap();
    f.seek(0, Whence::Start).unwrap();
    assert_eq!(f.read(None).unwrap(), "fresh");

    let mut f = text(&path, "a+");
    assert_eq!(f.read(None).unwrap(), "", "a+ starts at the end");
    f.seek(0, Whence::Start).unwrap();
    assert_eq!(f.read(None).unwrap(), "fresh");
}

#[test]
fn binary_mode_counts_bytes_and_splits_only_on_lf() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.bin");
    let mut f = binary(&path, "wb");
    assert_eq!(f.write(b"one\r\ntwo\rthree\nfour").unwrap(), 19);
    drop(f);
    assert!(files::open(&path, "rb").unwrap().text().is_err());
    let lines = binary(&path, "rb").readlines(None).unwrap();
    assert_eq!(lines, [&b"one\r\n"[..], b"two\rthree\n", b"four"]);
    let mut f = binary(&path, "ab");
    f.write(b"!").unwrap();
    assert_eq!(f.tell().unwrap(), 20);

    let err = OpenOptions::new()
        .encoding("utf-8")
        .open(&path, "rb")
        .unwrap_err();
    assert_eq!(
        err.message(),
        "binary mode doesn't take an encoding argument"
    );
    let err = OpenOptions::new()
        .errors("ignore")
        .open(&path, "rb")
        .unwrap_err();
    assert_eq!(err.message(), "binary mode doesn't take an errors argument");
    let err = OpenOptions::new()
        .newline("")
        .open(&path, "rb")
        .unwrap_err();
    assert_eq!(err.message(), "binary mode doesn't take a newline argument");
}

#[test]
fn binary_read_sizes_and_seeks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.bin");
    fs::write(&path, b"0123456789").unwrap();
    let mut f = binary(&path, "r+b");
    assert_eq!(f.read(Some(3)).unwrap(), b"012");
    assert_eq!(f.readline(Some(2)).unwrap(), b"34");
    assert_eq!(f.seek(-2, Whence::End).unwrap(), 8);
    assert_eq!(f.read(None).unwrap(), b"89");
    let err = f.seek(-1, Whence::Start).unwrap_err();
    assert_eq!(err.message(), "negative seek position -1");
    f.seek(4, Whence::Start).unwrap();
    f.write(b"xy").unwrap();
    assert_eq!(f.read(Some(1)).unwrap(), b"6", "a write moves the position");
    assert_eq!(fs::read(&path).unwrap(), b"0123xy6789");
}

#[test]
fn universal_newlines_translate_and_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nl.txt");
    fs::write(&path, b"one\r\ntwo\rthree\nfour").unwrap();
    let mut f = text(&path, "r");
    assert_eq!(f.read(None).unwrap(), "one\ntwo\nthree\nfour");
    assert_eq!(f.newlines(), ["\r", "\n", "\r\n"]);

    let lines: Vec<String> = text(&path, "r").map(Result::unwrap).collect();
    assert_eq!(lines, ["one\n", "two\n", "three\n", "four"]);
    assert_eq!(text(&path, "r").readlines(None).unwrap(), lines);

    let mut raw = OpenOptions::new()
        .newline("")
        .open(&path, "r")
        .unwrap()
        .text()
        .unwrap();
    let lines = raw.readlines(None).unwrap();
    assert_eq!(lines, ["one\r\n", "two\r", "three\n", "four"]);
}

#[test]
fn writes_leave_lf_alone_unless_asked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.txt");
    text(&path, "w").write("a\nb\n").unwrap();
    assert_eq!(fs::read(&path).unwrap(), b"a\nb\n");
    let mut f = OpenOptions::new()
        .newline("\r\n")
        .open(&path, "w")
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(f.write("a\nb\n").unwrap(), 4);
    drop(f);
    assert_eq!(fs::read(&path).unwrap(), b"a\r\nb\r\n");
    let err = OpenOptions::new()
        .newline("x")
        .open(&path, "r")
        .unwrap_err();
    assert_eq!(err.message(), "illegal newline value: x");
}

#[test]
fn readline_keeps_lf_and_returns_empty_at_eof() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.txt");
    fs::write(&path, "one\ntwo\nthree\nfour").unwrap();
    let mut f = text(&path, "r");
    let got: Vec<String> = (0..5).map(|_| f.readline(None).unwrap()).collect();
    assert_eq!(got, ["one\n", "two\n", "three\n", "four", ""]);

    let mut f = text(&path, "r");
    f.readline(None).unwrap();
    f.readline(None).unwrap();
    assert_eq!(f.readline(Some(2)).unwrap(), "th");
    assert_eq!(f.readline(None).unwrap(), "ree\n");
    assert_eq!(
        text(&path, "r").readlines(Some(5)).unwrap(),
        ["one\n", "two\n"]
    );

    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "").unwrap();
    assert!(text(&empty, "r").readlines(None).unwrap().is_empty());
    assert_eq!(text(&empty, "r").readline(None).unwrap(), "");
}

#[test]
fn text_read_counts_characters_and_tell_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.txt");
    fs::write(&path, "héllo\nwörld\n").unwrap();
    let mut f = text(&path, "r");
    assert_eq!(f.read(Some(2)).unwrap(), "hé");
    let mid = f.tell().unwrap();
    assert_eq!(f.read(Some(5)).unwrap(), "llo\nw");
    f.seek(mid as i64, Whence::Start).unwrap();
    assert_eq!(f.read(None).unwrap(), "llo\nwörld\n");
    assert_eq!(
        f.tell().unwrap(),
        14,
        "between lines tell() is the byte offset"
    );
    let err = f.seek(1, Whence::Current).unwrap_err();
    assert_eq!(err.message(), "can't do nonzero cur-relative seeks");
    let err = f.seek(1, Whence::End).unwrap_err();
    assert_eq!(err.message(), "can't do nonzero end-relative seeks");
    assert_eq!(f.seek(0, Whence::Start).unwrap(), 0);
    assert_eq!(f.readline(None).unwrap(), "héllo\n");
}

#[test]
fn closed_files_refuse_every_operation() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.txt");
    let mut f = text(&path, "w+");
    f.close().unwrap();
    f.close().unwrap();
    assert!(f.is_closed());
    for err in [
        f.read(None).unwrap_err(),
        f.write("x").unwrap_err(),
        f.tell().unwrap_err(),
        f.seek(0, Whence::Start).unwrap_err(),
        f.flush().unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::Closed);
        assert_eq!(err.to_string(), "I/O operation on closed file.");
    }
    let mut b = binary(&path, "rb");
    b.close().unwrap();
    assert_eq!(b.read(None).unwrap_err().kind(), ErrorKind::Closed);
}

#[test]
fn a_directory_is_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let err = files::open(dir.path(), "r").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Os);
    let expected = format!("[Errno 21] Is a directory: '{}'", dir.path().display());
    assert_eq!(err.to_string(), expected);
}

#[test]
fn one_call_helpers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.txt");
    assert_eq!(files::write(&path, "héllo\n").unwrap(), 6);
    assert_eq!(files::append(&path, "more\n").unwrap(), 5);
    assert_eq!(
        files::read_to_string(&path, "utf-8").unwrap(),
        "héllo\nmore\n"
    );
    let err = files::read_to_string(&path, "klingon").unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::UnknownName, "unknown encoding: klingon")
    );
}
