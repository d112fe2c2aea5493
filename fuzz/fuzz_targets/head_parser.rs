//! Fuzzes the response-head parser, fed as a socket would feed it: the
//! same bytes whole, in pieces of random sizes, and one byte at a time.
//!
//! The first eight bytes of the input choose the limits and the seed of
//! the piece sizes; the rest is the response. What must hold:
//!
//! - never a panic;
//! - the same outcome whatever the split: the same heads and the same
//!   bytes after the final head, or the same error. Two details of an
//!   error may differ: `NotHttp` quotes the bytes that had arrived, and a
//!   read that crosses both `max_line` and `max_head` names the one the
//!   parser checks first (it is `too-large` either way);
//! - the bytes held, the response's earlier heads included, never exceed
//!   `max_head`, and there are at most `max_interim` interim heads;
//! - a complete head is the bytes that were fed for it, from its status
//!   line on (only empty lines before it are skipped), and its lines are
//!   those bytes' lines.
#![no_main]

use fetch_headers::http::{
    Feed, HeadError, HeadParser, Limit, Limits, ProtocolError, ResponseHead,
};
use libfuzzer_sys::fuzz_target;

/// The final head (and any interim heads before it) and the bytes after
/// it, or the error.
type Outcome = Result<(Vec<ResponseHead>, Vec<u8>), HeadError>;

fuzz_target!(|data: &[u8]| {
    let Some((config, response)) = data.split_first_chunk::<8>() else {
        return;
    };
    let limits = limits(config);
    let seed = u32::from_le_bytes([config[4], config[5], config[6], config[7]]);

    let whole = read(limits, response, &mut |_| response.len());
    let mut rng = seed | 1;
    let random = read(limits, response, &mut |_| {
        // xorshift32: pieces of 1 to 64 bytes.
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        1 + (rng % 64) as usize
    });
    let trickled = read(limits, response, &mut |_| 1);
    let expected = split_details_aside(whole);
    assert_eq!(split_details_aside(random), expected, "random pieces");
    assert_eq!(
        split_details_aside(trickled),
        expected,
        "one byte at a time"
    );
});

/// Limits from the first bytes: the defaults, or small ones that the
/// fuzzer can reach with short inputs.
fn limits(config: &[u8; 8]) -> Limits {
    if config[0] & 1 == 0 {
        return Limits::default();
    }
    Limits {
        // A status line needs 12 bytes (`HTTP/1.1 200`); smaller limits
        // only make every response fail.
        max_line: 12 + usize::from(config[1] % 128),
        max_head: 16 + usize::from(u16::from_le_bytes([config[2], config[3]]) % 2048),
        max_lines: 1 + usize::from(config[0] >> 1),
        max_interim: usize::from(config[1] >> 7) + usize::from(config[3] % 12),
    }
}

/// Feeds `response` to a new parser in pieces of `piece(offset)` bytes
/// until the final head, checking what must hold after every feed.
fn read(limits: Limits, response: &[u8], piece: &mut dyn FnMut(usize) -> usize) -> Outcome {
    let mut parser = HeadParser::with_limits(limits);
    let mut heads: Vec<ResponseHead> = Vec::new();
    // The bytes fed for the head being parsed.
    let mut fed = Vec::new();
    let mut at = 0;
    while at < response.len() {
        let end = (at + piece(at)).min(response.len());
        let mut chunk = &response[at..end];
        at = end;
        while !chunk.is_empty() {
            match parser.feed(chunk)? {
                Feed::Partial => {
                    fed.extend_from_slice(chunk);
                    chunk = &[];
                }
                Feed::Complete { head, consumed } => {
                    assert!(consumed <= chunk.len());
                    fed.extend_from_slice(&chunk[..consumed]);
                    chunk = &chunk[consumed..];
                    check_head(&head, &fed);
                    fed.clear();
                    let last = !head.is_informational();
                    heads.push(head);
                    if last {
                        let mut rest = chunk.to_vec();
                        rest.extend_from_slice(&response[at..]);
                        return Ok((heads, rest));
                    }
                    assert!(heads.len() <= limits.max_interim, "too many interim heads");
                }
            }
            let held: usize = heads.iter().map(|h| h.raw.len()).sum::<usize>() + parser.buffered();
            assert!(held <= limits.max_head, "{held} bytes held");
        }
    }
    Err(parser.eof())
}

/// A complete head is what was fed for it, less empty lines before it.
fn check_head(head: &ResponseHead, fed: &[u8]) {
    let skipped = fed.len() - head.raw.len();
    assert_eq!(&fed[skipped..], head.raw.as_slice());
    assert!(fed[..skipped].iter().all(|&b| b == b'\r' || b == b'\n'));
    assert!(head.raw.starts_with(b"HTTP/"));
    assert!(head.raw.ends_with(b"\n"));
    let lines: Vec<&[u8]> = head.lines().collect();
    assert!(!lines.is_empty());
    // The lines, each with its ending, and the final empty line are the
    // whole head.
    let line_bytes: usize = head
        .raw
        .split_inclusive(|&b| b == b'\n')
        .take(lines.len())
        .map(<[u8]>::len)
        .sum();
    let end = &head.raw[line_bytes..];
    assert!(
        end == b"\r\n" || end == b"\n",
        "the head ends in one empty line"
    );
    assert!(lines.iter().all(|line| !line.contains(&b'\n')));
}

/// The outcome without the details of an error that may depend on the split.
fn split_details_aside(outcome: Outcome) -> Outcome {
    match outcome {
        Err(HeadError::Protocol(ProtocolError::NotHttp { .. })) => {
            Err(ProtocolError::NotHttp { start: Vec::new() }.into())
        }
        Err(HeadError::TooLarge {
            limit: Limit::Line | Limit::Head,
            ..
        }) => Err(HeadError::TooLarge {
            limit: Limit::Head,
            max: 0,
        }),
        other => other,
    }
}
