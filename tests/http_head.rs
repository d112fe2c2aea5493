//! Response-head parsing: line endings, chunk boundaries, interim heads,
//! empty lines before a status line, limits (across a response's heads),
//! non-HTTP peers and bytes that are not UTF-8.

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

use fetch_headers::http::{
    Feed, HeadError, HeadParser, Limit, Limits, ProtocolError, ResponseHead,
};

const HEAD: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx\r\n\
Content-Type: text/html\r\n\
\r\n";

/// Feeds `chunks` in order and collects every head until a final (non-1xx)
/// one, as the fetch layer does. Returns the heads and the bytes left over.
fn read_heads(
    parser: &mut HeadParser,
    chunks: &[&[u8]],
) -> Result<(Vec<ResponseHead>, Vec<u8>), HeadError> {
    let mut heads = Vec::new();
    let mut rest = Vec::new();
    for chunk in chunks {
        let mut chunk = *chunk;
        while heads.last().is_none_or(ResponseHead::is_informational) {
            match parser.feed(chunk)? {
                Feed::Partial => {
                    chunk = &[];
                    break;
                }
                Feed::Complete { head, consumed } => {
                    heads.push(head);
                    chunk = &chunk[consumed..];
                }
            }
        }
        rest.extend_from_slice(chunk);
    }
    Ok((heads, rest))
}

fn parse(bytes: &[u8]) -> Result<ResponseHead, HeadError> {
    match HeadParser::new().feed(bytes)? {
        Feed::Complete { head, .. } => Ok(head),
        Feed::Partial => panic!("head incomplete: {bytes:?}"),
    }
}

fn small_limits() -> Limits {
    Limits {
        max_line: 100,
        max_head: 1000,
        max_lines: 10,
        max_interim: 10,
    }
}

fn header(name: &str, value: &[u8]) -> (String, Vec<u8>) {
    (name.to_string(), value.to_vec())
}

/// The head's fields, owned, to compare with [`header`]s.
fn fields(head: &ResponseHead) -> Vec<(String, Vec<u8>)> {
    head.headers()
        .map(|(name, value)| header(name, value))
        .collect()
}

#[test]
fn parses_a_simple_head() {
    let head = parse(HEAD).unwrap();
    assert_eq!(head.version, 1);
    assert_eq!(head.status, 200);
    assert_eq!(head.reason(), b"OK");
    assert_eq!(
        fields(&head),
        [
            header("Server", b"nginx"),
            header("Content-Type", b"text/html")
        ]
    );
    let lines: Vec<&[u8]> = head.lines().collect();
    assert_eq!(
        lines,
        [
            &b"HTTP/1.1 200 OK"[..],
            b"Server: nginx",
            b"Content-Type: text/html"
        ]
    );
    assert_eq!(head.raw(), HEAD);
    assert_eq!(head.header("content-type"), Some(&b"text/html"[..]));
    assert_eq!(head.header("x-missing"), None);
}

#[test]
fn complete_reports_the_bytes_taken_and_leaves_the_body() {
    let response = [HEAD, b"<html>"].concat();
    match HeadParser::new().feed(&response).unwrap() {
        Feed::Complete { consumed, .. } => assert_eq!(&response[consumed..], b"<html>"),
        Feed::Partial => panic!("head is complete"),
    }
}

#[test]
fn heads_split_at_every_byte_boundary_parse_the_same() {
    let response = [HEAD, b"body"].concat();
    let whole = parse(HEAD).unwrap();
    for split in 0..=response.len() {
        let (first, second) = response.split_at(split);
        let (heads, rest) = read_heads(&mut HeadParser::new(), &[first, second]).unwrap();
        assert_eq!(heads.len(), 1, "split at {split}");
        assert_eq!(heads[0], whole, "split at {split}");
        assert_eq!(rest, b"body", "split at {split}");
    }
}

#[test]
fn a_head_fed_one_byte_at_a_time_parses() {
    let mut parser = HeadParser::new();
    for (i, byte) in HEAD.iter().enumerate() {
        match parser.feed(std::slice::from_ref(byte)).unwrap() {
            Feed::Partial => assert!(i < HEAD.len() - 1),
            Feed::Complete { head, consumed } => {
                assert_eq!(i, HEAD.len() - 1);
                assert_eq!(consumed, 1);
                assert_eq!(head, parse(HEAD).unwrap());
            }
        }
    }
}

#[test]
fn lf_only_line_endings_are_accepted() {
    let head = parse(b"HTTP/1.0 404 Not Found\nServer: sloppy\n\n").unwrap();
    assert_eq!((head.version, head.status), (0, 404));
    assert_eq!(head.reason(), b"Not Found");
    assert_eq!(fields(&head), [header("Server", b"sloppy")]);
    assert_eq!(head.lines().count(), 2);
}

#[test]
fn mixed_line_endings_are_accepted() {
    for bytes in [
        &b"HTTP/1.1 200 OK\r\nA: 1\nB: 2\r\n\n"[..],
        b"HTTP/1.1 200 OK\nA: 1\r\nB: 2\n\r\n",
    ] {
        let head = parse(bytes).unwrap();
        assert_eq!(fields(&head), [header("A", b"1"), header("B", b"2")]);
        let lines: Vec<&[u8]> = head.lines().collect();
        assert_eq!(lines, [&b"HTTP/1.1 200 OK"[..], b"A: 1", b"B: 2"]);
    }
}

#[test]
fn an_interim_1xx_head_is_followed_by_the_final_one() {
    let response: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n\
HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody";
    let check = |heads: &[ResponseHead]| {
        let statuses: Vec<u16> = heads.iter().map(|h| h.status).collect();
        assert_eq!(statuses, [100, 103, 200]);
        assert_eq!(fields(&heads[1]), [header("Link", b"</s.css>")]);
        assert_eq!(fields(&heads[2]), [header("Server", b"x")]);
    };

    let (heads, rest) = read_heads(&mut HeadParser::new(), &[response]).unwrap();
    check(&heads);
    assert_eq!(rest, b"body");

    let bytes: Vec<&[u8]> = response.chunks(1).collect();
    let (heads, rest) = read_heads(&mut HeadParser::new(), &bytes).unwrap();
    check(&heads);
    assert_eq!(rest, b"body");
}

#[test]
fn informational_means_1xx_except_101() {
    let status = |code: &str| parse(format!("HTTP/1.1 {code} X\r\n\r\n").as_bytes()).unwrap();
    assert!(status("100").is_informational());
    assert!(status("199").is_informational());
    assert!(!status("101").is_informational());
    assert!(!status("200").is_informational());
}

#[test]
fn an_oversized_line_fails_promptly_without_a_newline() {
    let limits = small_limits();
    let mut parser = HeadParser::with_limits(limits);
    parser.feed(b"HTTP/1.1 200 OK\r\nX-Big: ").unwrap();
    let mut fed = 0;
    let err = loop {
        match parser.feed(&[b'a'; 7]) {
            Ok(Feed::Partial) => fed += 7,
            Ok(Feed::Complete { .. }) => panic!("no head was sent"),
            Err(err) => break err,
        }
        assert!(
            parser.buffered() <= 17 + limits.max_line,
            "buffered past the line limit"
        );
    };
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Line,
            max: 100
        }
    );
    assert!(fed + 7 + "X-Big: ".len() > 100 && fed + "X-Big: ".len() <= 100);
}

#[test]
fn a_line_at_the_limit_is_fine_and_one_byte_more_is_not() {
    let limits = small_limits();
    let line = |len: usize| {
        let mut bytes = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        bytes.resize(17 + len, b'a');
        bytes.extend_from_slice(b"\r\n\r\n");
        bytes
    };
    assert!(HeadParser::with_limits(limits).feed(&line(100)).is_ok());
    let err = HeadParser::with_limits(limits)
        .feed(&line(101))
        .unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Line,
            max: 100
        }
    );
}

#[test]
fn the_default_line_limit_is_asyncios_64_kib() {
    let mut bytes = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
    bytes.resize(bytes.len() + 70_000, b'a');
    let err = HeadParser::new().feed(&bytes).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Line,
            max: 65_536
        }
    );
    assert_eq!(err.to_string(), "response head has a line over 65536 bytes");
}

#[test]
fn too_many_lines_fail() {
    let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..1000 {
        bytes.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    let err = HeadParser::new().feed(&bytes).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Lines,
            max: 1000
        }
    );

    // 999 headers + the status line is exactly the limit.
    let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..999 {
        bytes.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
    }
    bytes.extend_from_slice(b"\r\n");
    let head = parse(&bytes).unwrap();
    assert_eq!(head.headers().len(), 999);
}

#[test]
fn a_head_over_the_total_limit_fails_before_it_is_buffered() {
    let limits = Limits {
        max_lines: 1000,
        ..small_limits()
    };
    let mut parser = HeadParser::with_limits(limits);
    parser.feed(b"HTTP/1.1 200 OK\r\n").unwrap();
    let line = [&[b'x'; 60][..], b": y\r\n"].concat();
    let err = loop {
        match parser.feed(&line) {
            Ok(_) => assert!(parser.buffered() <= limits.max_head),
            Err(err) => break err,
        }
    };
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Head,
            max: 1000
        }
    );
    assert!(parser.buffered() + line.len() > limits.max_head);
}

#[test]
fn the_default_head_limit_is_256_kib() {
    let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
    let value = "v".repeat(60_000);
    for i in 0..5 {
        bytes.extend_from_slice(format!("X-{i}: {value}\r\n").as_bytes());
    }
    let err = HeadParser::new().feed(&bytes).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Head,
            max: 262_144
        }
    );
}

#[test]
fn a_non_http_peer_fails_at_the_first_wrong_byte() {
    let mut parser = HeadParser::new();
    let err = parser.feed(b"S").unwrap_err();
    assert_eq!(
        err,
        HeadError::Protocol(ProtocolError::NotHttp {
            start: b"S".to_vec()
        })
    );

    let err = HeadParser::new()
        .feed(b"SSH-2.0-OpenSSH_9.6\r\n")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an HTTP response: starts with \"SSH-2.0-OpenSSH_\""
    );

    // A TLS alert, split after a correct-looking byte.
    let mut parser = HeadParser::new();
    assert_eq!(parser.feed(b"H").unwrap(), Feed::Partial);
    let err = parser.feed(b"\x15\x03\x01").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an HTTP response: starts with \"H\\x15\\x03\\x01\""
    );

    for garbage in [
        &b"http/1.1 200 OK\r\n\r\n"[..],
        b" HTTP/1.1 200 OK\r\n\r\n",
        b"<html>",
    ] {
        let err = HeadParser::new().feed(garbage).unwrap_err();
        assert!(
            matches!(err, HeadError::Protocol(ProtocolError::NotHttp { .. })),
            "{garbage:?}"
        );
    }
}

#[test]
fn a_malformed_head_is_a_protocol_error() {
    for bad in [
        &b"HTTP/2.0 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
    ] {
        let err = parse(bad).unwrap_err();
        assert!(
            matches!(err, HeadError::Protocol(ProtocolError::Malformed(_))),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(
        parse(b"HTTP/1.1 abc\r\n\r\n").unwrap_err().to_string(),
        "malformed response head: invalid response status"
    );
}

#[test]
fn non_utf8_header_bytes_are_kept() {
    // GBK for "正常" in the reason, Latin-1 "café" in a value.
    let head = parse(b"HTTP/1.1 200 \xd5\xfd\xb3\xa3\r\nX-Name: caf\xe9\r\n\r\n").unwrap();
    assert_eq!(head.reason(), b"\xd5\xfd\xb3\xa3");
    assert_eq!(fields(&head), [header("X-Name", b"caf\xe9")]);
    assert_eq!(head.lines().nth(1), Some(&b"X-Name: caf\xe9"[..]));
}

#[test]
fn an_invalid_header_line_is_skipped_but_kept_in_lines() {
    let head = parse(b"HTTP/1.1 200 OK\r\nA: 1\r\nX: \x1b[2J\r\nB: 2\r\n\r\n").unwrap();
    assert_eq!(fields(&head), [header("A", b"1"), header("B", b"2")]);
    assert_eq!(head.lines().nth(2), Some(&b"X: \x1b[2J"[..]));
}

#[test]
fn duplicate_headers_are_kept_in_order_with_their_case() {
    let head = parse(
        b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nServer: s\r\nset-cookie: b=2\r\nSET-COOKIE: c=3\r\n\r\n",
    )
    .unwrap();
    assert_eq!(
        fields(&head),
        [
            header("Set-Cookie", b"a=1"),
            header("Server", b"s"),
            header("set-cookie", b"b=2"),
            header("SET-COOKIE", b"c=3"),
        ]
    );
    assert_eq!(head.header("set-cookie"), Some(&b"a=1"[..]));
}

#[test]
fn an_empty_reason_phrase_is_allowed() {
    for bytes in [
        &b"HTTP/1.1 204\r\n\r\n"[..],
        b"HTTP/1.1 204 \r\n\r\n",
        b"HTTP/1.1 204\n\n",
    ] {
        let head = parse(bytes).unwrap();
        assert_eq!((head.status, head.reason()), (204, &b""[..]), "{bytes:?}");
    }
}

#[test]
fn extra_spaces_in_the_status_line_are_tolerated() {
    let head = parse(b"HTTP/1.1  301   Moved Permanently\r\n\r\n").unwrap();
    assert_eq!(
        (head.status, head.reason()),
        (301, &b"Moved Permanently"[..])
    );
}

#[test]
fn http_1_0_and_1_1_versions() {
    assert_eq!(parse(b"HTTP/1.0 200 OK\r\n\r\n").unwrap().version, 0);
    assert_eq!(parse(b"HTTP/1.1 200 OK\r\n\r\n").unwrap().version, 1);
}

#[test]
fn folded_header_lines_join_the_header_above() {
    let head = parse(b"HTTP/1.1 200 OK\r\nX: a\r\n  b\r\nY: c\r\n\r\n").unwrap();
    assert_eq!(fields(&head)[0].0, "X");
    assert!(fields(&head)[0].1.starts_with(b"a") && fields(&head)[0].1.ends_with(b"b"));
    assert_eq!(fields(&head)[1], header("Y", b"c"));
    assert_eq!(head.lines().count(), 4);
}

#[test]
fn eof_before_the_end_of_the_head_is_reported() {
    let parser = HeadParser::new();
    assert_eq!(
        parser.eof().to_string(),
        "connection closed before any response"
    );

    let mut parser = HeadParser::new();
    assert_eq!(
        parser.feed(b"HTTP/1.1 200 OK\r\nServer:").unwrap(),
        Feed::Partial
    );
    assert_eq!(parser.buffered(), 24);
    assert_eq!(
        parser.eof(),
        HeadError::Protocol(ProtocolError::Truncated { received: 24 })
    );
    assert_eq!(
        parser.eof().to_string(),
        "connection closed after 24 bytes of the response head"
    );
}

type Heads = Result<(Vec<ResponseHead>, Vec<u8>), HeadError>;

/// Reads `response` whole, split in two at every byte, and one byte at a
/// time, checks that all of them come to the same heads and rest (or the
/// same error), and returns the whole read's.
fn read_every_way(limits: Limits, response: &[u8]) -> Heads {
    // `NotHttp` quotes the bytes that had arrived, which depends on the
    // split; the error itself must not.
    let quoted_bytes_aside = |heads: Heads| match heads {
        Err(HeadError::Protocol(ProtocolError::NotHttp { .. })) => {
            Err(HeadError::Protocol(ProtocolError::NotHttp {
                start: Vec::new(),
            }))
        }
        other => other,
    };
    let whole = read_heads(&mut HeadParser::with_limits(limits), &[response]);
    let expected = quoted_bytes_aside(whole.clone());
    for split in 0..=response.len() {
        let (first, second) = response.split_at(split);
        let split_read = read_heads(&mut HeadParser::with_limits(limits), &[first, second]);
        assert_eq!(quoted_bytes_aside(split_read), expected, "split at {split}");
    }
    let bytes: Vec<&[u8]> = response.chunks(1).collect();
    let trickled = read_heads(&mut HeadParser::with_limits(limits), &bytes);
    assert_eq!(quoted_bytes_aside(trickled), expected, "one byte at a time");
    whole
}

fn statuses(heads: &[ResponseHead]) -> Vec<u16> {
    heads.iter().map(|h| h.status).collect()
}

#[test]
fn empty_lines_before_the_status_line_are_skipped() {
    for leading in [
        &b"\r\n"[..],
        b"\n",
        b"\r\n\r\n",
        b"\n\r\n\n\r\n", // four, mixed: the most that is skipped
    ] {
        let response = [leading, HEAD, b"body"].concat();
        let (heads, rest) = read_every_way(Limits::default(), &response)
            .unwrap_or_else(|e| panic!("{leading:?}: {e}"));
        assert_eq!(heads, [parse(HEAD).unwrap()], "{leading:?}");
        // The empty lines are not part of the head, but they were consumed.
        assert!(heads[0].raw().starts_with(b"HTTP/1.1 200"), "{leading:?}");
        assert_eq!(rest, b"body", "{leading:?}");
    }
    // `consumed` counts the skipped bytes too.
    let response = [b"\r\n\n", HEAD].concat();
    match HeadParser::new().feed(&response).unwrap() {
        Feed::Complete { consumed, .. } => assert_eq!(consumed, response.len()),
        Feed::Partial => panic!("head is complete"),
    }
}

#[test]
fn empty_lines_between_an_interim_head_and_the_next_are_skipped() {
    for between in [&b"\r\n"[..], b"\n", b"\r\n\n\r\n\r\n"] {
        let response = [
            b"HTTP/1.1 100 Continue\r\n\r\n",
            between,
            b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nbody",
        ]
        .concat();
        let (heads, rest) = read_every_way(Limits::default(), &response)
            .unwrap_or_else(|e| panic!("{between:?}: {e}"));
        assert_eq!(statuses(&heads), [100, 200], "{between:?}");
        assert_eq!(fields(&heads[1]), [header("Server", b"x")]);
        assert_eq!(heads[1].lines().next(), Some(&b"HTTP/1.1 200 OK"[..]));
        assert_eq!(rest, b"body");
    }
}

#[test]
fn more_than_four_empty_lines_are_a_protocol_error() {
    let five = [&b"\r\n\n\r\n\n\r\n"[..], HEAD].concat();
    let err = read_every_way(Limits::default(), &five).unwrap_err();
    assert_eq!(
        err,
        HeadError::Protocol(ProtocolError::EmptyLines { max: 4 })
    );
    assert_eq!(
        err.to_string(),
        "more than 4 empty lines before a status line"
    );

    // The same after an interim head: the count starts again for each head.
    let response = [
        &b"\r\n\r\n\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n"[..],
        b"\n\n\n\n\nHTTP/1.1 200 OK\r\n\r\n",
    ]
    .concat();
    let err = read_every_way(Limits::default(), &response).unwrap_err();
    assert_eq!(
        err,
        HeadError::Protocol(ProtocolError::EmptyLines { max: 4 })
    );

    // A peer that sends nothing else fails at the fifth, with nothing
    // buffered: it is not read until the read timeout.
    let mut parser = HeadParser::new();
    for _ in 0..4 {
        assert_eq!(parser.feed(b"\r\n").unwrap(), Feed::Partial);
        assert_eq!(parser.buffered(), 0);
    }
    assert!(parser.feed(b"\r\n").is_err());
}

#[test]
fn a_non_http_peer_is_still_found_after_empty_lines() {
    let err = HeadParser::new()
        .feed(b"\r\nSSH-2.0-OpenSSH_9.6\r\n")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an HTTP response: starts with \"SSH-2.0-OpenSSH_\""
    );
    // At the first wrong byte, whole or in pieces.
    let mut parser = HeadParser::new();
    assert_eq!(parser.feed(b"\n\r").unwrap(), Feed::Partial);
    assert_eq!(parser.feed(b"\nH").unwrap(), Feed::Partial);
    assert!(parser.feed(b"X").is_err());

    // A '\r' that does not end an empty line is not one, nor `HTTP/`.
    for bad in [&b"\rHTTP/1.1 200 OK\r\n\r\n"[..], b"\r\r\n", b"\n\r<html>"] {
        let err = read_every_way(Limits::default(), bad).unwrap_err();
        assert!(
            matches!(err, HeadError::Protocol(ProtocolError::NotHttp { .. })),
            "{bad:?}: {err}"
        );
    }
    let err = HeadParser::new().feed(b"\r\n\rX").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not an HTTP response: starts with \"\\x0dX\""
    );
}

/// The head that an endless `100 Continue` sender repeats.
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

#[test]
fn ten_interim_heads_are_taken_and_the_eleventh_is_too_large() {
    let final_head = b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n";
    let ten = [CONTINUE.repeat(10), final_head.to_vec()].concat();
    let (heads, _) = read_every_way(Limits::default(), &ten).unwrap();
    assert_eq!(heads.len(), 11);
    assert_eq!(heads[10].status, 200);

    let eleven = [CONTINUE.repeat(11), final_head.to_vec()].concat();
    let err = read_every_way(Limits::default(), &eleven).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Interim,
            max: 10
        }
    );
    assert_eq!(
        err.to_string(),
        "response has more than 10 interim (1xx) heads"
    );
}

#[test]
fn an_endless_interim_sender_fails_after_the_cap_with_bounded_memory() {
    // Feed `100 Continue` for ever, as the fetch layer would: the parser
    // fails on the 11th head, having held at most one head at a time.
    let mut parser = HeadParser::new();
    let stream = CONTINUE.repeat(1000);
    let mut rest = &stream[..];
    let mut heads = 0;
    let err = loop {
        match parser.feed(rest) {
            Ok(Feed::Complete { head, consumed }) => {
                assert!(head.is_informational());
                heads += 1;
                rest = &rest[consumed..];
            }
            Ok(Feed::Partial) => panic!("the stream has more heads"),
            Err(err) => break err,
        }
        assert!(parser.buffered() <= CONTINUE.len());
    };
    assert_eq!(heads, 10);
    assert!(matches!(
        err,
        HeadError::TooLarge {
            limit: Limit::Interim,
            ..
        }
    ));
}

#[test]
fn the_byte_limit_covers_the_interim_heads_and_the_final_head_together() {
    let limits = Limits {
        max_lines: 1000,
        max_interim: 100,
        ..small_limits()
    };
    // Each interim head is 100 bytes: 10 fit in max_head (1000), and the
    // final head then has no room left.
    let mut interim = b"HTTP/1.1 103 Early Hints\r\nLink: ".to_vec();
    interim.resize(100 - 4, b'x');
    interim.extend_from_slice(b"\r\n\r\n");
    assert_eq!(interim.len(), 100);
    let response = [interim.repeat(9), b"HTTP/1.1 200 OK\r\n\r\n".to_vec()].concat();
    let (heads, _) = read_every_way(limits, &response).unwrap();
    assert_eq!(heads.len(), 10);

    let response = [interim.repeat(10), b"HTTP/1.1 200 OK\r\n\r\n".to_vec()].concat();
    let err = read_every_way(limits, &response).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Head,
            max: 1000
        }
    );
    // 996 bytes used: the next head has no room for `HTTP/`, however the
    // bytes are split.
    let mut almost = interim.repeat(9);
    almost.extend_from_slice(b"HTTP/1.1 100 Continue\r\nX: ");
    almost.resize(996 - 4, b'x');
    almost.extend_from_slice(b"\r\n\r\nHTX");
    let err = read_every_way(limits, &almost).unwrap_err();
    assert!(
        matches!(
            err,
            HeadError::TooLarge {
                limit: Limit::Head,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn the_line_limit_covers_the_interim_heads_and_the_final_head_together() {
    // max_lines is 10: five two-line interim heads use them all.
    let interim = b"HTTP/1.1 100 Continue\r\nX: y\r\n\r\n";
    let response = [
        interim.repeat(4),
        b"HTTP/1.1 200 OK\r\nA: 1\r\n\r\n".to_vec(),
    ]
    .concat();
    let (heads, _) = read_every_way(small_limits(), &response).unwrap();
    assert_eq!(heads.len(), 5);

    let response = [interim.repeat(5), b"HTTP/1.1 200 OK\r\n\r\n".to_vec()].concat();
    let err = read_every_way(small_limits(), &response).unwrap_err();
    assert_eq!(
        err,
        HeadError::TooLarge {
            limit: Limit::Lines,
            max: 10
        }
    );
}

#[test]
fn the_limits_start_over_after_the_final_head() {
    let limits = Limits {
        max_interim: 1,
        ..Limits::default()
    };
    let response = [CONTINUE, b"HTTP/1.1 200 OK\r\n\r\n"].concat();
    let mut parser = HeadParser::with_limits(limits);
    for round in 0..3 {
        let (heads, rest) = read_heads(&mut parser, &[&response]).unwrap();
        assert_eq!(statuses(&heads), [100, 200], "response {round}");
        assert!(rest.is_empty());
    }
}

#[test]
fn eof_after_an_interim_head_counts_its_bytes() {
    let mut parser = HeadParser::new();
    assert!(matches!(
        parser.feed(CONTINUE).unwrap(),
        Feed::Complete { .. }
    ));
    assert_eq!(parser.feed(b"HTTP/1.1").unwrap(), Feed::Partial);
    assert_eq!(
        parser.eof().to_string(),
        "connection closed after 33 bytes of the response head"
    );
}

/// Found by fuzzing (`fuzz/fuzz_targets/head_parser.rs`): a read that
/// crosses both the line limit and the head limit names the line limit,
/// where smaller reads cross the head limit first. Either way the response
/// is too large, however its bytes are split; only the limit named differs.
#[test]
fn a_line_over_both_limits_is_too_large_however_it_is_split() {
    let limits = Limits {
        max_line: 76,
        max_head: 16,
        ..small_limits()
    };
    let mut response = b"HTTP/1.1 200 OK".to_vec();
    response.resize(100, b'x');
    response.extend_from_slice(b"\r\n\r\n");
    let too_large = |heads: Heads| matches!(heads, Err(HeadError::TooLarge { .. }));

    let whole = read_heads(&mut HeadParser::with_limits(limits), &[&response]);
    assert_eq!(
        whole,
        Err(HeadError::TooLarge {
            limit: Limit::Line,
            max: 76
        })
    );
    for split in 0..=response.len() {
        let (first, second) = response.split_at(split);
        let heads = read_heads(&mut HeadParser::with_limits(limits), &[first, second]);
        assert!(too_large(heads.clone()), "split at {split}: {heads:?}");
    }
    let bytes: Vec<&[u8]> = response.chunks(1).collect();
    let trickled = read_heads(&mut HeadParser::with_limits(limits), &bytes);
    assert_eq!(
        trickled,
        Err(HeadError::TooLarge {
            limit: Limit::Head,
            max: 16
        })
    );
}

/// Head buffers are used again for later heads: what a larger head left
/// in one never shows in the next.
#[test]
fn a_head_after_a_larger_one_holds_only_its_own_bytes() {
    let mut big = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..40 {
        big.extend_from_slice(format!("X-Filler-{i}: {}\r\n", "y".repeat(40)).as_bytes());
    }
    big.extend_from_slice(b"\r\n");
    for _ in 0..3 {
        let head = parse(&big).unwrap();
        assert_eq!(head.raw(), big.as_slice());
        assert_eq!(head.headers().len(), 40);
        drop(head);
        let head = parse(HEAD).unwrap();
        assert_eq!(head.raw(), HEAD);
        assert_eq!(
            fields(&head),
            [
                header("Server", b"nginx"),
                header("Content-Type", b"text/html")
            ]
        );
        assert_eq!(head.lines().count(), 3);
    }
}

/// A random response: empty lines, heads with odd status lines, odd
/// header lines and odd line endings, mostly well formed, as servers and
/// hostile peers send them.
fn random_response(rng: &mut Rng) -> Vec<u8> {
    const STATUS: &[&[u8]] = &[
        b"HTTP/1.1 200 OK",
        b"HTTP/1.0 404 Not Found",
        b"HTTP/1.1 100 Continue",
        b"HTTP/1.1 103 Early Hints",
        b"HTTP/1.1 101 Switching Protocols",
        b"HTTP/1.1   200   OK  ",
        b"HTTP/1.1 200",
        b"HTTP/1.1 200 ",
        b"HTTP/1.1 200 caf\xe9",
        b"HTTP/1.1 200 \tTab",
        b"HTTP/1.1 200 O\rK",
        b"HTTP/1.1 2000 X",
        b"HTTP/1.2 200 OK",
        b"HTTX/1.1 200 OK",
        b"http/1.1 200 OK",
    ];
    const FIELDS: &[&[u8]] = &[
        b"Server: nginx",
        b"Content-Type: text/html; charset=utf-8",
        b"X: a",
        b" folded",
        b"\tfolded",
        b"NoColon",
        b": no name",
        b"X-Ctl: a\x01b",
        b"X-Nul: a\x00b",
        b"X-Latin: caf\xe9",
        b"X-Utf8: caf\xc3\xa9",
        b"X-Space : v",
        b"X:",
        b"X:\x7f",
        b"\r",
        b"",
    ];
    const ENDINGS: &[&[u8]] = &[b"\r\n", b"\r\n", b"\r\n", b"\n", b"\r", b"\r\r\n"];
    let mut response = Vec::new();
    for _ in 0..rng.below(3) {
        response.extend_from_slice(rng.pick(&[b"\r\n", b"\n", b"\r\n", b"\n", b"\r"]));
    }
    for _ in 0..1 + rng.below(2) {
        // The first entries are well formed, and drawn most often.
        let status = if rng.below(4) > 0 {
            rng.pick(&STATUS[..7])
        } else {
            rng.pick(STATUS)
        };
        response.extend_from_slice(status);
        let ending = if rng.below(4) > 0 {
            b"\r\n"
        } else {
            rng.pick(ENDINGS)
        };
        response.extend_from_slice(ending);
        for _ in 0..rng.below(8) {
            if rng.below(4) == 0 {
                let len = rng.below(60);
                let value: Vec<u8> = (0..len).map(|_| b' ' + rng.below(95) as u8).collect();
                response.extend_from_slice(b"X-Random: ");
                response.extend_from_slice(&value);
            } else if rng.below(4) > 0 {
                response.extend_from_slice(rng.pick(&FIELDS[..5]));
            } else {
                response.extend_from_slice(rng.pick(FIELDS));
            }
            let ending = if rng.below(4) > 0 {
                b"\r\n"
            } else {
                rng.pick(ENDINGS)
            };
            response.extend_from_slice(ending);
        }
        if rng.below(10) > 0 {
            response.extend_from_slice(rng.pick(&[b"\r\n", b"\n"]));
        }
    }
    response.extend_from_slice(b"body");
    response
}

/// The reason phrase as the parser found it before httparse's was used:
/// the status line after `HTTP/1.x`, spaces, the code and spaces.
fn reason_from_the_status_line(raw: &[u8]) -> &[u8] {
    let line = raw.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let trim = |bytes: &[u8]| -> usize { bytes.iter().take_while(|&&b| b == b' ').count() };
    let rest = line.get(8..).unwrap_or_default();
    let rest = &rest[trim(rest)..];
    let rest = rest.get(3..).unwrap_or_default();
    &rest[trim(rest)..]
}

/// A head that comes whole in one read takes the fast path (httparse
/// alone); split anywhere, the parser walks it line by line. Both must
/// come to the same heads, rest and errors, for any bytes: random
/// responses, read every way, under the default limits and under limits
/// small enough to be crossed.
#[test]
fn random_responses_parse_the_same_whole_and_split() {
    // Each set of limits is crossed by some of the responses, and one at a
    // time, since a chunk that crosses two limits may name either.
    let limit_sets = [
        Limits::default(),
        Limits {
            max_line: 40,
            max_head: 1 << 20,
            max_lines: 8,
            max_interim: 1,
        },
        Limits {
            max_line: 40,
            ..Limits::default()
        },
        Limits {
            max_head: 100,
            ..Limits::default()
        },
    ];
    let mut rng = Rng(0x0bad_cafe);
    let (mut ok, mut failed) = (0, 0);
    for i in 0..2000 {
        let response = random_response(&mut rng);
        let limits = limit_sets[i % limit_sets.len()];
        match read_every_way(limits, &response) {
            Ok((heads, _)) => {
                ok += 1;
                for head in &heads {
                    assert_eq!(
                        head.reason(),
                        reason_from_the_status_line(head.raw()),
                        "{response:?}"
                    );
                }
            }
            Err(_) => failed += 1,
        }
    }
    // Both outcomes are drawn often.
    assert!(ok > 400 && failed > 400, "{ok} parsed, {failed} failed");
}
