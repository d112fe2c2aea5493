//! The short-transfer rule of `IoSource::poll_transfer`: a read or write
//! that moves fewer bytes than asked clears the socket's readiness, so the
//! next call waits for epoll's next edge instead of making a syscall that
//! can only say `WouldBlock`; and a close already seen survives that
//! clearing, so the EOF after a short read is read at once.
//!
//! Each test counts the syscalls that said `WouldBlock` (`Stats::would_block`)
//! on a real loopback socket, with the peer on a plain thread.
mod support;

use std::cell::Cell;
use std::io::{Read, Write};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{self, spawn, timeout, yield_now, Runtime};

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn a_short_read_makes_the_next_read_wait_without_a_syscall() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (addr, peer) = support::peer(move |mut stream| {
        support::read_head(&mut stream);
        stream.write_all(b"hello").unwrap();
        go_rx.recv().unwrap();
        stream.write_all(b"world").unwrap();
    });
    let (first, second, eof, would_block) = support::with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let stream = Rc::new(TcpStream::connect(addr).await.unwrap());
            stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
            let mut buf = vec![0u8; 4096];
            let first = stream.read(&mut buf).await.unwrap();
            // "hello" was short of 4096 bytes: readiness is clear now. The
            // next read is polled once while nothing more has been sent.
            let polled = Rc::new(Cell::new(false));
            let reader = spawn({
                let (stream, polled) = (stream.clone(), polled.clone());
                async move {
                    let mut buf = vec![0u8; 4096];
                    polled.set(true);
                    let second = stream.read(&mut buf).await.unwrap();
                    let eof = stream.read(&mut buf).await.unwrap();
                    (second, eof)
                }
            });
            while !polled.get() {
                yield_now().await;
            }
            go_tx.send(()).unwrap();
            let (second, eof) = reader.await.unwrap();
            (first, second, eof, runtime::stats().would_block)
        })
    });
    peer.join().unwrap();
    assert_eq!((first, second, eof), (5, 5, 0));
    assert_eq!(
        would_block, 0,
        "a read after a short read made a syscall that said WouldBlock"
    );
}

#[test]
fn the_eof_after_a_short_read_is_read_at_once() {
    let (closed_tx, closed_rx) = mpsc::channel::<()>();
    let (addr, peer) = support::peer(move |mut stream| {
        stream.write_all(b"hello").unwrap();
        drop(stream);
        closed_tx.send(()).unwrap();
    });
    let (first, then) = support::with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let stream = TcpStream::connect(addr).await.unwrap();
            // Let the data and the FIN both arrive before the first read,
            // so one epoll event reports them together.
            closed_rx.recv().unwrap();
            let mut buf = vec![0u8; 4096];
            let first = stream.read(&mut buf).await.unwrap();
            // Were the close forgotten with the short read, no new edge
            // would ever come, and this would wait out the timeout.
            let then = timeout(Duration::from_secs(5), stream.read(&mut buf)).await;
            (first, then.map(Result::unwrap))
        })
    });
    peer.join().unwrap();
    assert_eq!(first, 5);
    assert_eq!(then, Ok(0), "EOF right after the short read");
}

#[test]
fn a_short_write_waits_for_room_without_a_syscall() {
    const SIZE: usize = 8 * 1024 * 1024;
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let (addr, peer) = support::peer(move |mut stream| {
        // Read nothing until the client has filled the socket buffers.
        go_rx.recv().unwrap();
        let mut received = 0;
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            received += n;
        }
        received
    });
    let (written, would_block) = support::with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let stream = Rc::new(TcpStream::connect(addr).await.unwrap());
            let writer = spawn({
                let stream = stream.clone();
                async move {
                    let data = vec![b'x'; SIZE];
                    stream.write_all(&data).await.unwrap();
                }
            });
            // The first write came up short (the buffers hold far less than
            // 8 MiB) and the writer now waits; only then may the peer read.
            while runtime::stats().bytes_written == 0 {
                yield_now().await;
            }
            go_tx.send(()).unwrap();
            writer.await.unwrap();
            let stats = runtime::stats();
            drop(stream);
            (stats.bytes_written, stats.would_block)
        })
    });
    assert_eq!(peer.join().unwrap(), SIZE);
    assert_eq!(written, SIZE as u64);
    assert_eq!(
        would_block, 0,
        "a write after a short write made a syscall that said WouldBlock"
    );
}
