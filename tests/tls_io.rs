//! Plaintext through a session: both ends of the stream (close_notify and
//! bare EOF), a large response through a small buffer, a large request, and
//! checklist item 10: records left queued by a write must go out while the
//! task only reads, or the server never answers.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::future::poll_fn;
use std::sync::mpsc;
use std::task::Poll;
use std::time::Duration;

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::Runtime;
use fetch_headers::tls::{PeerClose, TlsConnector, TlsStream, OUTGOING_LIMIT};
use tls::{Ca, ServerSetup};

/// The byte at `offset` of the test streams: a pattern that shows any
/// byte lost, doubled or reordered.
fn pattern(offset: usize) -> u8 {
    (offset % 251) as u8
}

fn patterned(len: usize) -> Vec<u8> {
    (0..len).map(pattern).collect()
}

/// Runs `client` on a fresh runtime with a stream handshaken to `addr`.
fn with_client<T: Send + 'static>(
    connector: TlsConnector,
    addr: std::net::SocketAddr,
    client: impl AsyncFnOnce(&mut TlsStream) -> T + Send + 'static,
) -> T {
    support::with_deadline(Duration::from_secs(60), move || {
        Runtime::new().unwrap().block_on(async move {
            let tcp = TcpStream::connect(addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            stream.handshake().await.expect("handshake");
            client(&mut stream).await
        })
    })
}

/// Reads until `Ok(0)`, with a buffer of `size` bytes.
async fn read_to_end(stream: &mut TlsStream, size: usize) -> Vec<u8> {
    let mut buf = vec![0u8; size];
    let mut got = Vec::new();
    loop {
        match stream.read(&mut buf).await.expect("read") {
            0 => return got,
            n => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[test]
fn eof_without_close_notify_after_data_is_told_apart_from_close_notify() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    for clean in [false, true] {
        let (addr, _server) =
            tls::tls_server(ServerSetup::new(&leaf).config(), move |conn, sock| {
                tls::send(conn, sock, b"HTTP/1.1 200 OK\r\n\r\n").unwrap();
                if clean {
                    conn.send_close_notify();
                    while conn.wants_write() {
                        conn.write_tls(sock).unwrap();
                    }
                }
                Vec::new() // the socket closes: a bare FIN
            });
        let (got, closed) = with_client(tls::connector(&ca), addr, async |stream| {
            let got = read_to_end(stream, 64).await;
            let again = stream
                .read(&mut [0u8; 8])
                .await
                .expect("read after the end");
            assert_eq!(again, 0, "the end stays the end");
            (got, stream.peer_closed())
        });
        assert_eq!(got, b"HTTP/1.1 200 OK\r\n\r\n");
        let expected = if clean {
            PeerClose::CloseNotify
        } else {
            PeerClose::Eof
        };
        assert_eq!(closed, Some(expected));
    }
}

/// The server writes 1 MiB in one go; the client reads it through a
/// 997-byte buffer, so reads end mid-record and rustls holds decrypted
/// plaintext between polls. A lost wakeup would hang here.
#[test]
fn a_one_mebibyte_response_arrives_whole_through_a_small_buffer() {
    const SIZE: usize = 1 << 20;
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (addr, _server) = tls::tls_server(ServerSetup::new(&leaf).config(), |conn, sock| {
        conn.set_buffer_limit(None); // take the whole MiB at once
        tls::send(conn, sock, &patterned(SIZE)).unwrap();
        Vec::new()
    });
    let got = with_client(tls::connector(&ca), addr, async |stream| {
        read_to_end(stream, 997).await
    });
    assert_eq!(got.len(), SIZE);
    assert!(got == patterned(SIZE), "the bytes arrived in order");
}

#[test]
fn a_large_request_is_written_whole() {
    const SIZE: usize = 8 << 20;
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (addr, server) = tls::tls_server(ServerSetup::new(&leaf).config(), |conn, sock| {
        let got = tls::receive(conn, sock, SIZE);
        tls::send(conn, sock, b"done").unwrap();
        got
    });
    let answer = with_client(tls::connector(&ca), addr, async |stream| {
        stream.write_all(&patterned(SIZE)).await.expect("write_all");
        // Wait for the answer before closing: closing a socket with unread
        // bytes (the server's session tickets) sends a reset, which would
        // discard what is still in flight.
        read_to_end(stream, 64).await
    });
    assert_eq!(answer, b"done");
    let received = server.join().unwrap().received;
    assert_eq!(received.len(), SIZE);
    assert!(received == patterned(SIZE));
}

/// Checklist item 10. The client writes until `poll_write` says `Pending`:
/// rustls's queue is then full ([`OUTGOING_LIMIT`]) and the socket took
/// nothing more, because the server is not reading. Then the client only
/// reads. The server reads exactly what rustls took and only then answers,
/// so the answer comes only if `poll_read` sends the queued records once the
/// socket drains, which needs the writer waker stored while the task waits
/// to read.
#[test]
fn records_queued_by_a_write_go_out_while_the_task_only_reads() {
    const CHUNK: usize = 64 * 1024;
    const CAP: usize = 512 << 20;
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let (taken_tx, taken_rx) = mpsc::channel::<usize>();
    let (addr, server) = tls::tls_server(ServerSetup::new(&leaf).config(), move |conn, sock| {
        let taken = taken_rx.recv().expect("the client's count");
        let got = tls::receive(conn, sock, taken);
        let intact = got.len() == taken && got.iter().enumerate().all(|(i, b)| *b == pattern(i));
        tls::send(conn, sock, if intact { b"all here" } else { b"damaged!" }).unwrap();
        got.len().to_string().into_bytes()
    });
    // A window on the pattern that can start at any offset.
    let window = patterned(CHUNK + 251);
    let (taken, answer) = with_client(tls::connector(&ca), addr, async move |stream| {
        let mut taken = 0;
        poll_fn(|cx| loop {
            let chunk = &window[taken % 251..][..CHUNK];
            match stream.poll_write(cx, chunk) {
                Poll::Ready(Ok(n)) => taken += n,
                Poll::Ready(Err(e)) => panic!("write: {e}"),
                Poll::Pending => return Poll::Ready(()),
            }
            assert!(taken < CAP, "the socket never filled");
        })
        .await;
        assert!(taken > OUTGOING_LIMIT);
        taken_tx.send(taken).unwrap();
        let mut answer = [0u8; 8];
        let mut got = 0;
        while got < answer.len() {
            let n = stream.read(&mut answer[got..]).await.expect("read");
            assert!(n > 0, "EOF before the answer");
            got += n;
        }
        (taken, answer)
    });
    assert_eq!(&answer, b"all here");
    let seen = server.join().unwrap();
    assert_eq!(seen.received, taken.to_string().into_bytes());
}
