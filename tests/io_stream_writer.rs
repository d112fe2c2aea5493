//! `StreamWriter` against a real peer: never-blocking writes, `drain` and
//! its water marks, `close` and `wait_closed`, a peer that resets
//! (docs/PYTHON-SEMANTICS.md §1), and `open_connection`.
mod support;

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use fetch_headers::io::{
    open_connection, split, StreamWriter, DEFAULT_HIGH_WATER, DEFAULT_LOW_WATER,
};
use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{timeout, Runtime};

const DEADLINE: Duration = Duration::from_secs(30);
const MIB: usize = 1024 * 1024;

/// A peer that reads nothing until `go` is sent (or dropped), then reads
/// everything until EOF and returns what it got.
fn peer_reading_after_go() -> (SocketAddr, mpsc::Sender<()>, JoinHandle<Vec<u8>>) {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (addr, peer) = support::peer(move |mut stream: StdStream| {
        let _ = go_rx.recv();
        let mut received = Vec::new();
        stream.read_to_end(&mut received).unwrap();
        received
    });
    (addr, go_tx, peer)
}

/// Connects to `addr` and returns the writing half (the reading half is
/// dropped; the writer keeps the connection open).
fn writer_for(rt: &Runtime, addr: SocketAddr) -> StreamWriter {
    split(rt.block_on(TcpStream::connect(addr)).unwrap()).1
}

#[test]
fn drain_below_the_high_water_mark_is_ready_at_once() {
    support::with_deadline(DEADLINE, || {
        let (addr, go, peer) = peer_reading_after_go();
        let rt = Runtime::new().unwrap();
        let writer = writer_for(&rt, addr);
        rt.block_on(async {
            writer.write(&[7u8; 1024]);
            // A zero timeout polls drain once: it must be ready on that poll.
            let drained = timeout(Duration::ZERO, writer.drain()).await;
            assert!(matches!(drained, Ok(Ok(()))), "{drained:?}");
            writer.close();
            writer.wait_closed().await.unwrap();
        });
        drop(go);
        assert_eq!(peer.join().unwrap(), [7u8; 1024]);
    });
}

#[test]
fn drain_waits_while_the_peer_does_not_read_and_resumes_when_it_does() {
    const SIZE: usize = 8 * MIB;
    support::with_deadline(DEADLINE, || {
        let (addr, go, peer) = peer_reading_after_go();
        let rt = Runtime::new().unwrap();
        let writer = writer_for(&rt, addr);
        rt.block_on(async {
            writer.write(&vec![1u8; SIZE]); // returns at once, whatever is left over
            assert!(writer.buffer_size() > DEFAULT_HIGH_WATER);
            let waited = timeout(Duration::from_millis(300), writer.drain()).await;
            assert!(waited.is_err(), "drain must wait: {waited:?}");
            assert!(writer.buffer_size() > DEFAULT_HIGH_WATER);

            go.send(()).unwrap();
            writer.drain().await.unwrap();
            let left = writer.buffer_size();
            assert!(left <= DEFAULT_LOW_WATER, "{left} bytes still buffered");
            writer.close();
            writer.wait_closed().await.unwrap();
        });
        assert_eq!(peer.join().unwrap().len(), SIZE);
    });
}

#[test]
fn close_flushes_everything_before_the_socket_closes() {
    // Loopback socket buffers take up to ~4 MB that nobody reads (3.9 MB
    // here), so send more than that: bytes must still wait in our buffer
    // when `close` is called.
    const SIZE: usize = 16 * MIB + 1;
    support::with_deadline(DEADLINE, || {
        let (addr, go, peer) = peer_reading_after_go();
        let rt = Runtime::new().unwrap();
        let writer = writer_for(&rt, addr);
        let data: Vec<u8> = (0..SIZE).map(|i| (i % 251) as u8).collect();
        rt.block_on(async {
            writer.write(&data);
            assert!(writer.buffer_size() > 0, "some bytes wait in our buffer");
            writer.close();
            assert!(writer.is_closing(), "closing at once");
            writer.close(); // idempotent
            let early = timeout(Duration::from_millis(50), writer.wait_closed()).await;
            assert!(early.is_err(), "not closed while bytes are unsent");

            go.send(()).unwrap();
            writer.wait_closed().await.unwrap();
            assert_eq!(writer.buffer_size(), 0);
        });
        // read_to_end in the peer returned, so it saw EOF after every byte.
        assert!(
            peer.join().unwrap() == data,
            "all bytes, in order, then EOF"
        );
    });
}

#[test]
fn writes_after_close_are_dropped() {
    support::with_deadline(DEADLINE, || {
        let (addr, go, peer) = peer_reading_after_go();
        let rt = Runtime::new().unwrap();
        let writer = writer_for(&rt, addr);
        rt.block_on(async {
            writer.write(b"before");
            writer.close();
            writer.write(b"after");
            assert_eq!(writer.buffer_size(), 0);
            writer.wait_closed().await.unwrap();
        });
        drop(go);
        assert_eq!(peer.join().unwrap(), b"before");
    });
}

#[test]
fn drain_fails_after_the_peer_resets_the_connection() {
    support::with_deadline(DEADLINE, || {
        let (connected_tx, connected_rx) = mpsc::channel();
        let (reset_tx, reset_rx) = mpsc::channel();
        let (addr, _peer) = support::peer(move |stream: StdStream| {
            // Reset only once our side has seen the connect succeed.
            connected_rx.recv().unwrap();
            support::set_linger_zero(&stream);
            drop(stream); // sends RST
            reset_tx.send(()).unwrap();
        });
        let rt = Runtime::new().unwrap();
        let writer = writer_for(&rt, addr);
        connected_tx.send(()).unwrap();
        reset_rx.recv().unwrap();
        let is_reset = |e: &io::Error| {
            matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
            )
        };
        rt.block_on(async {
            let error = loop {
                writer.write(&[0u8; 64 * 1024]);
                if let Err(e) = writer.drain().await {
                    break e;
                }
            };
            assert!(is_reset(&error), "{error:?}");
            assert!(writer.is_closing(), "a lost connection is closing");
            writer.write(b"dropped");
            assert_eq!(writer.buffer_size(), 0);
            writer.close();
            let closed = writer.wait_closed().await.unwrap_err();
            assert!(
                is_reset(&closed),
                "wait_closed re-raises the loss: {closed:?}"
            );
        });
    });
}

#[test]
fn open_connection_halves_do_a_request_and_response() {
    const REQUEST: &[u8] = b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    support::with_deadline(DEADLINE, || {
        let (addr, peer) = support::peer(|mut stream: StdStream| {
            let head = support::read_head(&mut stream);
            stream
                .write_all(b"HTTP/1.0 200 OK\r\nServer: test\r\n\r\nbody")
                .unwrap();
            head
        });
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let (mut reader, writer) = open_connection("127.0.0.1", addr.port()).await.unwrap();
            writer.write(REQUEST);
            writer.drain().await.unwrap();
            assert_eq!(reader.readline().await.unwrap(), b"HTTP/1.0 200 OK\r\n");
            assert_eq!(reader.readline().await.unwrap(), b"Server: test\r\n");
            assert_eq!(reader.readline().await.unwrap(), b"\r\n");
            assert_eq!(reader.read_to_end().await.unwrap(), b"body");
            writer.close();
            writer.wait_closed().await.unwrap();
        });
        assert_eq!(peer.join().unwrap(), REQUEST);
        assert_eq!(rt.stats().connections_open, 0);
    });
}
