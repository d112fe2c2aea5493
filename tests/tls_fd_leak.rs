//! Checklist item 6 for TLS: a session dropped at any point (a stalled
//! handshake cut by the caller's timeout, an aborted task, a finished
//! exchange) leaves no fd, no reactor slot and no timer behind.
//!
//! Alone in its file: it counts `/proc/self/fd`, which other tests running
//! in parallel in the same binary would disturb.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::{join_all, spawn, timeout, yield_now, JoinError, Runtime};
use rustls::ServerConnection;
use tls::{Ca, ServerSetup};

/// Handshakes cut short by a timeout while the server stalls.
const STALLED: usize = 200;
/// Tasks aborted mid-handshake.
const ABORTED: usize = 100;
/// Complete handshakes with a request and an answer.
const COMPLETE: usize = 200;

#[test]
fn sessions_dropped_mid_handshake_or_after_leave_nothing_behind() {
    let ca = Ca::root("Test Root");
    let leaf = ca.leaf(&["localhost"]);
    let config = ServerSetup::new(&leaf).config();
    let (closed_tx, closed_rx) = mpsc::channel::<()>();

    // A server that reads the ClientHello and never answers, until the
    // client leaves.
    let stall = support::serve({
        let closed = closed_tx.clone();
        move |mut sock| {
            let mut sink = [0u8; 4096];
            while matches!(sock.read(&mut sink), Ok(n) if n > 0) {}
            drop(sock);
            let _ = closed.send(());
        }
    });
    // A server that completes the handshake, answers one line, and closes.
    let answer = support::serve_pool(4, move |mut sock| {
        let mut conn = ServerConnection::new(config.clone()).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut sock).is_err() {
                break;
            }
        }
        if !conn.is_handshaking() {
            let request = tls::receive(&mut conn, &mut sock, 4);
            if request == b"ping" {
                let _ = tls::send(&mut conn, &mut sock, b"pong");
            }
            // Wait for the client to leave, so our end closes second.
            let _ = tls::receive(&mut conn, &mut sock, usize::MAX);
        }
        drop(sock);
        let _ = closed_tx.send(());
    });

    let connector = tls::connector(&ca);
    let (before, after, debug, stats, took) =
        support::with_deadline(Duration::from_secs(120), move || {
            let rt = Runtime::new().unwrap();
            let before = support::open_fds();
            let started = Instant::now();
            rt.block_on(async move {
                // 1. Stalled handshakes, dropped by an expiring timeout.
                let cut = join_all((0..STALLED).map(|_| {
                    let connector = connector.clone();
                    async move {
                        let tcp = TcpStream::connect(stall).await.unwrap();
                        let mut stream = connector.connect("localhost", tcp).unwrap();
                        timeout(Duration::from_millis(50), stream.handshake())
                            .await
                            .is_err()
                    }
                }))
                .await;
                assert!(cut.into_iter().all(|c| c == Ok(true)), "all were cut");

                // 2. Tasks aborted while their handshake waits.
                let waiting = Rc::new(Cell::new(0));
                let handles: Vec<_> = (0..ABORTED)
                    .map(|_| {
                        let connector = connector.clone();
                        let waiting = waiting.clone();
                        spawn(async move {
                            let tcp = TcpStream::connect(stall).await.unwrap();
                            let mut stream = connector.connect("localhost", tcp).unwrap();
                            waiting.set(waiting.get() + 1);
                            stream.handshake().await
                        })
                    })
                    .collect();
                while waiting.get() < ABORTED {
                    yield_now().await;
                }
                for handle in &handles {
                    handle.abort();
                }
                for handle in handles {
                    assert!(matches!(handle.await, Err(JoinError::Cancelled)));
                }

                // 3. Complete exchanges, 20 at a time.
                let workers = join_all((0..20).map(|_| {
                    let connector = connector.clone();
                    async move {
                        for _ in 0..COMPLETE / 20 {
                            let tcp = TcpStream::connect(answer).await.unwrap();
                            let mut stream = connector.connect("localhost", tcp).unwrap();
                            stream.write_all(b"ping").await.unwrap();
                            let mut pong = [0u8; 4];
                            let mut got = 0;
                            while got < 4 {
                                let n = stream.read(&mut pong[got..]).await.unwrap();
                                assert!(n > 0);
                                got += n;
                            }
                            assert_eq!(&pong, b"pong");
                        }
                    }
                }))
                .await;
                for worker in workers {
                    worker.unwrap();
                }
            });
            let took = started.elapsed();
            let stats = rt.stats();
            let debug = format!("{rt:?}");
            // Wait for the servers to see every connection closed: a socket
            // we leaked would keep one of them waiting.
            let total = STALLED + ABORTED + COMPLETE;
            let patience = Instant::now() + Duration::from_secs(20);
            for seen in 0..total {
                let left = patience.saturating_duration_since(Instant::now());
                if closed_rx.recv_timeout(left).is_err() {
                    panic!("the servers saw {seen} of {total} connections closed");
                }
            }
            (before, support::open_fds(), debug, stats, took)
        });

    eprintln!("{STALLED} cut, {ABORTED} aborted, {COMPLETE} complete in {took:?}");
    assert_eq!(stats.connections_open, 0, "the runtime's count");
    assert_eq!(
        stats.timers_set,
        stats.timers_fired + stats.timers_cancelled,
        "every timer fired or was removed: {stats:?}"
    );
    assert!(debug.contains("sockets: 0"), "{debug}");
    assert!(debug.contains("timers: 0"), "{debug}");
    assert_eq!(after, before, "open fds before and after");
}
