//! Encodings and error handlers through real files and through
//! `Encoding::decode` / `encode` (docs/PYTHON-SEMANTICS.md section 4).

use std::fs;

use fetch_headers::files::{Encoding, ErrorKind, Errors, OpenOptions};

/// 中, bad 0xff, 文, a, b, bad 0x80, c, and a truncated lead byte.
const GBK_MIXED: &[u8] = b"\xd6\xd0\xff\xce\xc4ab\x80c\xd6";

fn read_with(
    bytes: &[u8],
    encoding: &str,
    errors: &str,
) -> Result<String, fetch_headers::files::Error> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.txt");
    fs::write(&path, bytes).unwrap();
    let mut options = OpenOptions::new();
    options.encoding(encoding).errors(errors);
    options.open(&path, "r")?.text()?.read(None)
}

fn gbk() -> Encoding {
    Encoding::from_name("gbk").unwrap()
}

#[test]
fn default_is_utf8_and_keeps_a_bom_unless_sig() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.txt");
    fs::write(&path, b"\xef\xbb\xbfhi").unwrap();
    let mut f = fetch_headers::files::open(&path, "r")
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(f.encoding().name(), "utf-8");
    assert_eq!(f.read(None).unwrap(), "\u{feff}hi");
    assert_eq!(
        read_with(b"\xef\xbb\xbfhi", "utf-8-sig", "strict").unwrap(),
        "hi"
    );

    let mut w = OpenOptions::new()
        .encoding("utf-8-sig")
        .open(&path, "w")
        .unwrap()
        .text()
        .unwrap();
    w.write("hi").unwrap();
    w.write("!").unwrap();
    drop(w);
    assert_eq!(
        fs::read(&path).unwrap(),
        b"\xef\xbb\xbfhi!",
        "one BOM, at the start"
    );
}

#[test]
fn gbk_error_handlers_match_python() {
    assert_eq!(
        read_with(GBK_MIXED, "gbk", "strict")
            .unwrap_err()
            .to_string(),
        "'gbk' codec can't decode byte 0xff in position 2: illegal multibyte sequence"
    );
    assert_eq!(read_with(GBK_MIXED, "gbk", "ignore").unwrap(), "中文abc");
    assert_eq!(
        read_with(GBK_MIXED, "gbk", "replace").unwrap(),
        "中�文ab�c�"
    );
    assert_eq!(
        read_with(GBK_MIXED, "gbk", "backslashreplace").unwrap(),
        "中\\xff文ab\\x80c\\xd6"
    );
    let err = read_with(GBK_MIXED, "gbk", "strict").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[test]
fn wrong_codec_reads() {
    let utf8 = "你好，世界\n".as_bytes();
    assert_eq!(
        read_with(utf8, "gbk", "ignore").unwrap(),
        "浣犲ソ锛屼笘鐣\n"
    );
    let gbk_bytes = gbk().encode("中文\n", Errors::Strict).unwrap();
    assert_eq!(
        read_with(&gbk_bytes, "utf-8", "strict")
            .unwrap_err()
            .message(),
        "'utf-8' codec can't decode byte 0xd6 in position 0: invalid continuation byte"
    );
}

#[test]
fn gbk_error_spans_are_the_lead_byte_only() {
    let decode = |b: &[u8], e| gbk().decode(b, e);
    assert_eq!(decode(b"\xa1@", Errors::Replace).unwrap(), "\u{fffd}@");
    assert_eq!(
        decode(b"\xfe\xfe", Errors::Replace).unwrap(),
        "\u{fffd}\u{fffd}"
    );
    assert_eq!(
        decode(b"ab\xd6", Errors::Strict).unwrap_err().message(),
        "'gbk' codec can't decode byte 0xd6 in position 2: incomplete multibyte sequence"
    );
}

#[test]
fn gbk_is_pythons_not_whatwgs() {
    // Python's gbk (and its alias cp936) rejects 0x80 and GB18030 additions,
    // which WHATWG GBK (encoding_rs) would read as the euro sign.
    for name in ["gbk", "cp936", "GBK"] {
        let enc = Encoding::from_name(name).unwrap();
        assert_eq!(enc.decode(b"\x80", Errors::Replace).unwrap(), "\u{fffd}");
        assert_eq!(
            enc.decode(b"\xa2\xe3", Errors::Replace).unwrap(),
            "\u{fffd}\u{fffd}"
        );
        assert_eq!(
            enc.decode(b"\x81\x30\x81\x30", Errors::Ignore).unwrap(),
            "00"
        );
    }
    let what = encoding_rs::GBK
        .decode_without_bom_handling(b"\x80\xa2\xe3")
        .0;
    assert_eq!(what, "€€", "the WHATWG table this module filters");
    // gb18030 is the documented way to get them.
    let gb18030 = Encoding::from_name("gb18030").unwrap();
    assert_eq!(
        gb18030
            .decode(b"\xa2\xe3\x81\x30\x81\x30", Errors::Strict)
            .unwrap(),
        "€\u{80}"
    );
}

#[test]
fn encoding_with_each_error_handler() {
    let text = "a€😀b";
    let err = gbk().encode(text, Errors::Strict).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Encode);
    assert_eq!(
        err.message(),
        "'gbk' codec can't encode character '\\u20ac' in position 1: illegal multibyte sequence"
    );
    assert_eq!(gbk().encode(text, Errors::Ignore).unwrap(), b"ab");
    assert_eq!(gbk().encode(text, Errors::Replace).unwrap(), b"a??b");
    assert_eq!(
        gbk().encode(text, Errors::BackslashReplace).unwrap(),
        b"a\\u20ac\\U0001f600b"
    );
    assert_eq!(
        gbk().encode("中文", Errors::Strict).unwrap(),
        b"\xd6\xd0\xce\xc4"
    );

    // Through a file, in text mode.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.txt");
    let mut options = OpenOptions::new();
    options.encoding("gbk").errors("replace");
    let mut f = options.open(&path, "w").unwrap().text().unwrap();
    assert_eq!(f.write(text).unwrap(), 4);
    drop(f);
    assert_eq!(fs::read(&path).unwrap(), b"a??b");
}

#[test]
fn single_byte_codecs() {
    let latin1 = Encoding::from_name("latin-1").unwrap();
    assert_eq!(
        latin1.decode(b"caf\xe9\x80", Errors::Strict).unwrap(),
        "café\u{80}"
    );
    assert_eq!(
        latin1.encode("a€€b", Errors::Strict).unwrap_err().message(),
        "'latin-1' codec can't encode characters in position 1-2: ordinal not in range(256)"
    );
    let ascii = Encoding::from_name("ascii").unwrap();
    assert_eq!(
        ascii
            .decode(b"ok\xe4", Errors::Strict)
            .unwrap_err()
            .message(),
        "'ascii' codec can't decode byte 0xe4 in position 2: ordinal not in range(128)"
    );
    let sjis = Encoding::from_name("shift_jis").unwrap();
    assert_eq!(sjis.decode(b"\x82\xa0", Errors::Strict).unwrap(), "あ");
    let big5 = Encoding::from_name("big5").unwrap();
    assert_eq!(big5.encode("中", Errors::Strict).unwrap(), b"\xa4\xa4");
    let euc_kr = Encoding::from_name("euc_kr").unwrap();
    assert_eq!(euc_kr.decode(b"\xc7\xd1", Errors::Strict).unwrap(), "한");
}

#[test]
fn unknown_names() {
    let err = Encoding::from_name("utf-16").unwrap_err();
    assert_eq!(
        (err.kind(), err.message()),
        (ErrorKind::UnknownName, "unknown encoding: utf-16")
    );
    // Deliberate deviation: Python raises LookupError only at the first
    // undecodable byte; here the name is checked when the file is opened.
    let err = read_with(b"plain ascii", "utf-8", "bogus").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownName);
    assert_eq!(err.message(), "unknown error handler name 'bogus'");
}

#[test]
fn decode_errors_report_file_offsets_across_lines() {
    let err = read_with(b"line one\nline \xff two\n", "utf-8", "strict").unwrap_err();
    assert_eq!(
        err.message(),
        "'utf-8' codec can't decode byte 0xff in position 14: invalid start byte"
    );
}
