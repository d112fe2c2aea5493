//! The fast escaper against the simple one it replaced: the same output,
//! byte for byte, for every line.
//!
//! `oracle` below is the escaper as it was before runs of plain bytes were
//! copied whole: every character through `Utf8Chunks` and `char` methods,
//! every escape through `write!`. It is kept here, unchanged, as the
//! definition of the output. The lines are edge cases (invalid UTF-8,
//! sequences cut short, controls, DEL, C1 controls and their neighbours)
//! and many random byte strings from a fixed-seed generator, drawn so that
//! every class of byte and every length of UTF-8 sequence turns up often.

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

use std::borrow::Cow;
use std::fmt::Write;

use fetch_headers::http::{
    escape_line, escape_line_into, escape_lines_into, escaped, escaped_str, printable_run, Feed,
    HeadParser,
};

/// The escaper before the fast path, verbatim.
fn oracle(line: &[u8]) -> String {
    let mut out = String::with_capacity(line.len());
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
    out
}

/// Checks every entry point on `line` against the oracle.
fn check(line: &[u8]) {
    let want = oracle(line);
    assert_eq!(escape_line(line), want, "escape_line({line:?})");

    let mut out = b"prefix ".to_vec();
    escape_line_into(&mut out, line);
    assert_eq!(
        out.strip_prefix(b"prefix "),
        Some(want.as_bytes()),
        "escape_line_into({line:?}) appends"
    );

    let cow = escaped(line);
    assert_eq!(cow, want, "escaped({line:?})");
    // Borrowed only when nothing needed escaping, and always for
    // printable ASCII without a backslash.
    let borrowed = matches!(cow, Cow::Borrowed(_));
    assert!(
        !borrowed || want.as_bytes() == line,
        "escaped({line:?}) borrowed a line that needed escapes"
    );
    let plain_ascii = line
        .iter()
        .all(|&b| (b' '..=b'~').contains(&b) && b != b'\\');
    assert!(
        borrowed || !plain_ascii,
        "escaped({line:?}) copied plain ASCII"
    );

    if let Ok(text) = std::str::from_utf8(line) {
        let cow = escaped_str(text);
        assert_eq!(cow, want, "escaped_str({text:?})");
        let borrowed = matches!(cow, Cow::Borrowed(_));
        assert!(!borrowed || want == text, "escaped_str({text:?}) borrowed");
        assert!(borrowed || !plain_ascii, "escaped_str({text:?}) copied");
    }
}

#[test]
fn edge_cases_match_the_oracle() {
    let cases: &[&[u8]] = &[
        b"",
        b"Server: nginx",
        b"\\",
        b"\\\\x1b",
        b"\x00\x01\x1f\x20\x7e\x7f",
        b"\t\r\n",
        b"\x1b[2J\x1b]0;title\x07",
        // Invalid: lone continuation bytes, bytes that never appear in
        // UTF-8, overlong forms, surrogates, above U+10FFFF.
        b"\x80\xbf",
        b"\xc0\xc1\xf5\xff\xfe",
        b"\xc0\xaf",
        b"\xe0\x80\xaf",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        // Sequences cut short, at the end and in the middle.
        b"end\xe6\xad",
        b"\xe6\xadmid",
        b"\xf0\x9f\x98",
        b"\xc2",
        b"x\xc2",
        // C1 controls (0xC2 0x80..=0x9F) and their neighbours U+007F,
        // U+00A0 (no-break space), U+00BF, U+00C0.
        "\u{80}\u{85}\u{9b}\u{9f}".as_bytes(),
        "\u{7f}\u{a0}\u{a9}\u{bf}\u{c0}".as_bytes(),
        "a\u{9b}2J".as_bytes(),
        // 0xC2 followed by something that does not continue it.
        b"\xc2A",
        b"\xc2\xc2\x85",
        // Valid non-ASCII text of every sequence length.
        "café 正常 😀 \u{10ffff}".as_bytes(),
        "\u{feff}BOM".as_bytes(),
        // Latin-1 and GBK bytes, as servers send them.
        b"caf\xe9!",
        b"\xd5\xfd\xb3\xa3",
        b"C:\\x1b \xff \\",
    ];
    for line in cases {
        check(line);
    }
}

/// A random line: mostly printable ASCII, as real headers are, with every
/// kind of byte that needs care mixed in.
fn random_line(rng: &mut Rng) -> Vec<u8> {
    let len = match rng.below(4) {
        0 => rng.below(4),
        1 => rng.below(16),
        _ => rng.below(120),
    };
    let mut line = Vec::with_capacity(len + 4);
    while line.len() < len {
        match rng.below(20) {
            0..=9 => line.push(rng.byte_in(b' ', b'~')),
            10 => line.push(b'\\'),
            11 => line.push(rng.byte_in(0x00, 0x1f)),
            12 => line.push(0x7f),
            // Any byte at all: mostly invalid on its own.
            13 => line.push(rng.below(256) as u8),
            // Two-byte sequences starting 0xC2: C1 controls and U+00A0..
            14 => line.extend([0xc2, rng.byte_in(0x80, 0xbf)]),
            // Other characters, whole, of every length.
            15 => {
                let c = match rng.below(3) {
                    0 => rng.byte_in(0xc3, 0xff) as u32,
                    1 => 0x800 + rng.below(0xd000) as u32,
                    _ => 0x10000 + rng.below(0x100000) as u32,
                };
                if let Some(c) = char::from_u32(c) {
                    line.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
            }
            // A character cut short: its first bytes only.
            16 => {
                let c = char::from_u32(0x800 + rng.below(0xd000) as u32).unwrap_or('\u{800}');
                let mut buf = [0; 4];
                let bytes = c.encode_utf8(&mut buf).as_bytes();
                let keep = 1 + rng.below(bytes.len() - 1);
                line.extend_from_slice(&bytes[..keep]);
            }
            // A lone lead or continuation byte.
            17 => line.push(rng.byte_in(0x80, 0xbf)),
            18 => line.push(rng.byte_in(0xc0, 0xff)),
            _ => line.push(b' '),
        }
    }
    line
}

#[test]
fn random_lines_match_the_oracle() {
    let mut rng = Rng(0x5eed_f00d);
    let (mut escapes, mut plain) = (0, 0);
    for _ in 0..100_000 {
        let line = random_line(&mut rng);
        check(&line);
        if oracle(&line).as_bytes() == line.as_slice() {
            plain += 1;
        } else {
            escapes += 1;
        }
    }
    // The draw covers both paths often, not only one.
    assert!(
        escapes > 10_000 && plain > 10_000,
        "{escapes} escaped, {plain} plain"
    );
}

/// Every byte value at every position of lines from 1 to 24 bytes long:
/// the eight-byte words of the fast path must stop at the right byte
/// wherever it falls, in the first word, across a word's edge, or in the
/// tail that is shorter than a word.
#[test]
fn every_byte_at_every_position_matches_the_oracle() {
    for len in 1..=24 {
        for at in 0..len {
            for byte in 0..=255u8 {
                let mut line = vec![b'a'; len];
                line[at] = byte;
                check(&line);
            }
        }
    }
}

/// Characters of every UTF-8 length (C1 controls among them) and pairs of
/// bytes that need care, starting at every position of a 17-byte line,
/// so that some cross the edge between two eight-byte words.
#[test]
fn sequences_across_word_edges_match_the_oracle() {
    let pieces: &[&[u8]] = &[
        "\u{85}".as_bytes(),
        "\u{a0}".as_bytes(),
        "é".as_bytes(),
        "正".as_bytes(),
        "😀".as_bytes(),
        b"\\\\",
        b"\r\n",
        b"\x1b[",
        b"\xe6\xad",
        b"\xff\xfe",
    ];
    for piece in pieces {
        for at in 0..17 {
            let mut line = vec![b'x'; 17];
            line.splice(at..(at + piece.len()).min(17), piece.iter().copied());
            check(&line);
        }
    }
}

/// How `ResponseHead::lines` cuts a head, written the simple way: after
/// each `\n`, each line without its `\n` and then without one `\r`, up to
/// the first empty line.
fn oracle_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(rest.len(), |i| i + 1);
        let (line, after) = rest.split_at(end);
        rest = after;
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    lines
}

/// Checks `escape_lines_into` on `text` against the oracle, line by line.
fn check_lines(text: &[u8]) {
    let mut want = b"before|".to_vec();
    for line in oracle_lines(text) {
        want.extend_from_slice(b"> ");
        want.extend_from_slice(oracle(line).as_bytes());
        want.push(b'\n');
    }
    let mut out = b"before|".to_vec();
    escape_lines_into(&mut out, text, |out| out.extend_from_slice(b"> "));
    assert_eq!(
        String::from_utf8_lossy(&out),
        String::from_utf8_lossy(&want),
        "escape_lines_into({text:?})"
    );
}

#[test]
fn head_lines_edge_cases_match_the_oracle() {
    let cases: &[&[u8]] = &[
        b"",
        b"\r\n",
        b"\n",
        b"\r",
        b"a",
        b"a\r",
        b"a\n",
        b"a\r\n",
        b"a\r\r\n",
        b"\ra\r\n",
        b"a\rb\r\nc\n\r\nd\r\n",
        b"a\n\nb\n",
        b"a\r\n\r",
        b"a\r\n\rb\r\n",
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n",
        b"HTTP/1.1 200 OK\nX: caf\xe9\nY: \xc2\x85\r\n\nbody\n",
        "HTTP/1.1 200 OK\r\nX: café\r\r\nY: 😀\r\n\r\n".as_bytes(),
        b"X: \xe6\xad\r\nZ\r\n",
        b"X: \\\x1b[2J\x7f\r\n\r\n",
    ];
    for text in cases {
        check_lines(text);
    }
}

#[test]
fn random_heads_match_the_oracle() {
    let mut rng = Rng(0x1ead_5eed);
    for _ in 0..20_000 {
        let mut text = Vec::new();
        for _ in 0..rng.below(6) {
            text.extend_from_slice(&random_line(&mut rng));
            let ending: &[u8] = match rng.below(8) {
                0 => b"\n",
                1 => b"\r",
                2 => b"",
                3 => b"\r\r\n",
                _ => b"\r\n",
            };
            text.extend_from_slice(ending);
        }
        if rng.below(2) == 0 {
            // The empty line that ends a head, and something after it.
            text.extend_from_slice(b"\r\n");
            text.extend_from_slice(&random_line(&mut rng));
        }
        check_lines(&text);
    }
}

/// The oracle's cut is the head's own: for heads the parser produced,
/// `escape_lines_into` writes `ResponseHead::lines`, each escaped.
#[test]
fn parsed_heads_are_written_as_their_lines() {
    let responses: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\n\r\nok\n",
        b"HTTP/1.0 404 Not Found\nX: caf\xe9 \\ \x7f\n\n",
        b"HTTP/1.1 200 \r\nX: a\r\n b\r\nY:\t\x01\r\n\r\n",
    ];
    for response in responses {
        let head = match HeadParser::new().feed(response) {
            Ok(Feed::Complete { head, .. }) => head,
            other => panic!("{response:?}: {other:?}"),
        };
        let mut want = Vec::new();
        for line in head.lines() {
            want.extend_from_slice(b"> ");
            want.extend_from_slice(oracle(line).as_bytes());
            want.push(b'\n');
        }
        let mut out = Vec::new();
        escape_lines_into(&mut out, head.raw(), |out| out.extend_from_slice(b"> "));
        assert_eq!(out, want, "{response:?}");
        assert_eq!(head.lines().collect::<Vec<_>>(), oracle_lines(head.raw()));
    }
}

/// `printable_run`, which the JSON writer calls with `"`, against its
/// definition, for every byte at every position of lines from 1 to 24
/// bytes and a few bytes to stop at as well.
#[test]
fn printable_run_stops_at_the_first_byte_to_stop_at() {
    let simple = |line: &[u8], also: u8| {
        line.iter()
            .position(|&b| !(b' '..=b'~').contains(&b) || b == b'\\' || b == also)
            .unwrap_or(line.len())
    };
    for also in [b'"', b'\\', b'a', b' ', b'~', 0x00, 0x7f, 0xff] {
        for len in 1..=24 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut line = vec![b'a' + (len % 3) as u8; len];
                    line[at] = byte;
                    assert_eq!(
                        printable_run(&line, also),
                        simple(&line, also),
                        "{line:?} stopping at {also:#x} too"
                    );
                }
            }
        }
    }
}
