//! `StreamReader` against a real peer: asyncio's readline, readuntil,
//! readexactly and read, limits and EOF included (docs/PYTHON-SEMANTICS.md §1).
mod support;

use std::io::Write;
use std::net::{SocketAddr, TcpStream as StdStream};
use std::num::NonZeroUsize;
use std::sync::mpsc;
use std::time::Duration;

use fetch_headers::io::{split, ReadError, StreamReader};
use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{spawn, stats, timeout, yield_now, Runtime};

const DEADLINE: Duration = Duration::from_secs(20);

/// Connects to `addr` and returns the reading half (the writing half is
/// dropped; the reader keeps the connection open).
fn reader_for(rt: &Runtime, addr: SocketAddr) -> StreamReader {
    split(rt.block_on(TcpStream::connect(addr)).unwrap()).0
}

/// A peer that sends `data` in one write and closes.
fn peer_sends_and_closes(data: &'static [u8]) -> (SocketAddr, std::thread::JoinHandle<()>) {
    support::peer(move |mut stream: StdStream| stream.write_all(data).unwrap())
}

/// A peer that sends `first` in one write, reports that it did, waits for
/// `go`, then sends `then` and closes. With the report awaited before
/// reading, `first` is all in the socket when the reader looks.
fn peer_in_two_steps(
    first: &'static [u8],
    then: &'static [u8],
) -> (SocketAddr, mpsc::Receiver<()>, mpsc::Sender<()>) {
    let (sent_tx, sent_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (addr, _) = support::peer(move |mut stream: StdStream| {
        stream.write_all(first).unwrap();
        sent_tx.send(()).unwrap();
        if go_rx.recv().is_ok() {
            stream.write_all(then).unwrap();
        }
    });
    (addr, sent_rx, go_tx)
}

fn limit(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).unwrap()
}

#[track_caller]
fn assert_overrun(result: Result<Vec<u8>, ReadError>, expected: &str) {
    match result {
        Err(e @ ReadError::LimitOverrun { .. }) => assert_eq!(e.to_string(), expected),
        other => panic!("expected LimitOverrun({expected:?}), got {other:?}"),
    }
}

/// The peer sends one byte per write and waits, before each, until the
/// reader has taken the previous one, so every line is put together from
/// many separate reads.
#[test]
fn readline_assembles_lines_from_one_byte_writes() {
    const TEXT: &[u8] = b"HTTP/1.0 200 OK\r\nServer: x\n";
    support::with_deadline(DEADLINE, || {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let (addr, peer) = support::peer(move |mut stream: StdStream| {
            stream.set_nodelay(true).unwrap();
            for byte in TEXT {
                go_rx.recv().unwrap();
                stream.write_all(&[*byte]).unwrap();
                stream.flush().unwrap();
            }
        });
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        let lines = rt.block_on(async move {
            let lines = spawn(async move {
                let mut lines = Vec::new();
                for _ in 0..3 {
                    lines.push(reader.readline().await.unwrap());
                }
                (lines, reader.at_eof())
            });
            for sent in 1..=TEXT.len() as u64 {
                go_tx.send(()).unwrap();
                while stats().bytes_read < sent {
                    yield_now().await;
                }
            }
            lines.await.unwrap()
        });
        peer.join().unwrap();
        let expected: [&[u8]; 3] = [b"HTTP/1.0 200 OK\r\n", b"Server: x\n", b""];
        assert_eq!(lines, (expected.map(<[u8]>::to_vec).to_vec(), true));
    });
}

#[test]
fn readline_ends_lines_at_lf_only_and_keeps_crlf() {
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = peer_sends_and_closes(b"a\r\nb\nc\rd\n");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        rt.block_on(async {
            assert_eq!(reader.readline().await.unwrap(), b"a\r\n");
            assert_eq!(reader.readline().await.unwrap(), b"b\n");
            assert_eq!(reader.readline().await.unwrap(), b"c\rd\n");
            assert_eq!(reader.readline().await.unwrap(), b"");
        });
        peer.join().unwrap();
    });
}

#[test]
fn overlong_line_with_its_newline_buffered_is_dropped_up_to_the_newline() {
    support::with_deadline(DEADLINE, || {
        let (addr, sent, _go) = peer_in_two_steps(b"abcdefgh\nrest\n", b"");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        reader.set_limit(limit(4));
        sent.recv().unwrap();
        rt.block_on(async {
            assert_overrun(
                reader.readline().await,
                "Separator is found, but chunk is longer than limit",
            );
            assert_eq!(reader.buffered(), b"rest\n");
            assert_eq!(reader.readline().await.unwrap(), b"rest\n");
        });
    });
}

#[test]
fn overlong_line_without_its_newline_clears_the_buffer() {
    support::with_deadline(DEADLINE, || {
        // Exactly limit + 1 bytes: the overrun cannot be seen before all of
        // them are in, however the socket splits them.
        let (addr, sent, go) = peer_in_two_steps(b"aaaaa", b"TAIL\nnext\n");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        reader.set_limit(limit(4));
        sent.recv().unwrap();
        rt.block_on(async {
            assert_overrun(
                reader.readline().await,
                "Separator is not found, and chunk exceed the limit",
            );
            assert_eq!(reader.buffered(), b"");
            go.send(()).unwrap();
            assert_eq!(reader.readline().await.unwrap(), b"TAIL\n");
            assert_eq!(reader.readline().await.unwrap(), b"next\n");
        });
    });
}

/// asyncio: the limit counts the line without its separator.
#[test]
fn limit_of_four_accepts_four_bytes_and_a_newline() {
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = peer_sends_and_closes(b"abcd\n");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        reader.set_limit(limit(4));
        assert_eq!(rt.block_on(reader.readline()).unwrap(), b"abcd\n");
        peer.join().unwrap();
    });
}

#[test]
fn limit_of_four_waits_at_four_bytes_and_fails_at_the_fifth() {
    support::with_deadline(DEADLINE, || {
        let (addr, _sent, go) = peer_in_two_steps(b"abcd", b"e");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        reader.set_limit(limit(4));
        rt.block_on(async move {
            let line = spawn(async move { reader.readline().await });
            while stats().bytes_read < 4 {
                yield_now().await;
            }
            // The poll that read the 4 bytes also judged them: still waiting.
            assert!(!line.is_finished(), "4 bytes without a newline must wait");
            go.send(()).unwrap();
            assert_overrun(
                line.await.unwrap(),
                "Separator is not found, and chunk exceed the limit",
            );
        });
    });
}

/// A `timeout` that cancels a readline mid-line loses nothing: the bytes
/// already read stay buffered for the next call (checklist 6's other half).
#[test]
fn readline_cancelled_by_a_timeout_keeps_the_partial_line() {
    support::with_deadline(DEADLINE, || {
        let (addr, sent, go) = peer_in_two_steps(b"hel", b"lo\n");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        sent.recv().unwrap();
        rt.block_on(async {
            let first = timeout(Duration::from_millis(20), reader.readline()).await;
            assert!(first.is_err(), "no newline yet: {first:?}");
            assert_eq!(reader.buffered(), b"hel");
            go.send(()).unwrap();
            assert_eq!(reader.readline().await.unwrap(), b"hello\n");
        });
    });
}

#[test]
fn eof_mid_line_gives_the_partial_line_then_empty_for_ever() {
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = peer_sends_and_closes(b"hello\nno-newline");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        rt.block_on(async {
            assert_eq!(reader.readline().await.unwrap(), b"hello\n");
            assert!(!reader.at_eof());
            assert_eq!(reader.readline().await.unwrap(), b"no-newline");
            for _ in 0..3 {
                assert_eq!(reader.readline().await.unwrap(), b"");
                assert!(reader.at_eof());
            }
        });
        peer.join().unwrap();
    });
}

#[test]
fn read_until_crlf_then_eof_is_an_incomplete_read_of_undefined_size() {
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = peer_sends_and_closes(b"a\r\nabc");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        rt.block_on(async {
            assert_eq!(reader.read_until(b"\r\n").await.unwrap(), b"a\r\n");
            let error = reader.read_until(b"\r\n").await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "3 bytes read on a total of undefined expected bytes"
            );
            match error {
                ReadError::IncompleteRead { partial, expected } => {
                    assert_eq!((partial.as_slice(), expected), (&b"abc"[..], None));
                }
                other => panic!("expected IncompleteRead, got {other:?}"),
            }
            assert!(reader.at_eof(), "the buffer was cleared");
        });
        peer.join().unwrap();
    });
}

#[test]
fn read_until_over_the_limit_consumes_nothing() {
    support::with_deadline(DEADLINE, || {
        let (addr, sent, _go) = peer_in_two_steps(b"abcdefgh\r\n", b"");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        reader.set_limit(limit(4));
        sent.recv().unwrap();
        rt.block_on(async {
            match reader.read_until(b"\r\n").await {
                Err(ReadError::LimitOverrun { message, consumed }) => {
                    assert_eq!(
                        message,
                        "Separator is found, but chunk is longer than limit"
                    );
                    assert_eq!(consumed, 8);
                }
                other => panic!("expected LimitOverrun, got {other:?}"),
            }
            assert_eq!(reader.buffered(), b"abcdefgh\r\n");
            let empty = reader.read_until(b"").await.unwrap_err();
            assert_eq!(
                empty.to_string(),
                "Separator should be at least one-byte string"
            );
            // read_exact may exceed the limit.
            assert_eq!(reader.read_exact(10).await.unwrap(), b"abcdefgh\r\n");
        });
    });
}

#[test]
fn read_exact_short_at_eof_is_an_incomplete_read() {
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = peer_sends_and_closes(b"hello");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        rt.block_on(async {
            assert_eq!(reader.read_exact(0).await.unwrap(), b"");
            assert_eq!(reader.read_exact(3).await.unwrap(), b"hel");
            let error = reader.read_exact(5).await.unwrap_err();
            assert_eq!(
                error.to_string(),
                "2 bytes read on a total of 5 expected bytes"
            );
            match error {
                ReadError::IncompleteRead { partial, expected } => {
                    assert_eq!((partial.as_slice(), expected), (&b"lo"[..], Some(5)));
                }
                other => panic!("expected IncompleteRead, got {other:?}"),
            }
            assert!(reader.at_eof());
            assert_eq!(reader.read_exact(0).await.unwrap(), b"");
        });
        peer.join().unwrap();
    });
}

#[test]
fn read_returns_one_to_n_bytes_and_read_to_end_the_rest() {
    support::with_deadline(DEADLINE, || {
        let (addr, sent, go) = peer_in_two_steps(b"abcdef", b"ghi");
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        rt.block_on(async {
            // read(0) answers at once, with nothing sent yet.
            let zero = timeout(Duration::ZERO, reader.read(0)).await;
            assert_eq!(zero.unwrap().unwrap(), b"");
            sent.recv().unwrap();
            let some = reader.read(4).await.unwrap();
            assert!((1..=4).contains(&some.len()), "{some:?}");
            go.send(()).unwrap();
            let rest = reader.read_to_end().await.unwrap();
            assert_eq!([some, rest].concat(), b"abcdefghi");
            assert_eq!(reader.read(10).await.unwrap(), b"", "EOF");
        });
    });
}

/// Checklist 1: with edge-triggered readiness, a read loop that stopped
/// before `WouldBlock` would wait for an edge that never comes, since the
/// peer sends everything at once and then neither sends nor closes.
#[test]
fn read_exact_drains_one_large_write_without_eof() {
    const SIZE: usize = 256 * 1024;
    support::with_deadline(DEADLINE, || {
        let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        let expected = data.clone();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let (addr, peer) = support::peer(move |mut stream: StdStream| {
            stream.write_all(&data).unwrap();
            let _ = done_rx.recv(); // stay open, no EOF, until the reader is done
        });
        let rt = Runtime::new().unwrap();
        let mut reader = reader_for(&rt, addr);
        let got = rt.block_on(reader.read_exact(SIZE)).unwrap();
        done_tx.send(()).unwrap();
        peer.join().unwrap();
        assert!(got == expected, "the bytes arrived intact and in order");
        assert!(!reader.at_eof());
    });
}
