//! `cargo bench --bench runtime`: the executor, timers and reactor of our
//! runtime against tokio's `current_thread` runtime, workload by workload.
//!
//! Each criterion group holds the same workload twice, `ours` and
//! `tokio_current_thread`, so the report shows them side by side. Both sides
//! build their runtime once per benchmark (outside the timed loop) and time
//! one `block_on` of the whole workload per iteration; the workloads are
//! written twice only because the two APIs differ, and are kept line for
//! line alike:
//!
//! | group            | what one iteration does                                        |
//! |------------------|----------------------------------------------------------------|
//! | `spawn_many`     | spawn 1,000 trivial tasks, then await every `JoinHandle`       |
//! | `chained_spawn`  | a chain of 1,000 tasks, each spawning the next and awaiting it |
//! | `yield_many`     | 200 tasks that each `yield_now` 1,000 times                    |
//! | `ping_pong`      | 1,000 round trips between two tasks through a one-slot channel |
//! | `sleep_many`     | 10,000 tasks that each sleep 1 ms                              |
//! | `timeout_cancel` | 10,000 `timeout(1 s, ..)` that finish long before the deadline |
//! | `tcp_echo`       | 1,000 round trips of 64 bytes over one loopback connection     |
//! | `connect_accept` | 1,000 loopback connects, each accepted by a listener task      |
//!
//! Notes on fairness:
//!
//! * `ping_pong` uses the same hand-written channel (`support/oneslot.rs`)
//!   on both sides. It is `!Send`, so tokio runs it in a `LocalSet` with
//!   `spawn_local`, tokio's way to run `!Send` tasks on `current_thread`.
//! * `timeout_cancel` wraps `yield_now()`, not a ready future: tokio polls the
//!   inner future first and never arms its timer if that is ready, which
//!   would measure nothing. Pending once, the timer is armed, then
//!   cancelled when the inner future completes.
//! * The other workloads use `tokio::spawn` (the normal scheduler path).
//!
//! Quick run: `cargo bench --bench runtime -- --quick`, or one group:
//! `cargo bench --bench runtime -- ping_pong`.
// criterion_group! and criterion_main! generate public functions without docs.
#![allow(missing_docs)]

#[path = "support/oneslot.rs"]
mod oneslot;

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

const SPAWN_MANY: usize = 1_000;
const CHAIN_DEPTH: usize = 1_000;
const YIELD_TASKS: usize = 200;
const YIELDS_PER_TASK: usize = 1_000;
const PING_PONGS: usize = 1_000;
const SLEEPERS: usize = 10_000;
const SLEEP: Duration = Duration::from_millis(1);
const TIMEOUTS: usize = 10_000;
const TIMEOUT: Duration = Duration::from_secs(1);
const ECHO_ROUND_TRIPS: usize = 1_000;
const ECHO_MESSAGE: usize = 64;
const CONNECTS: usize = 1_000;

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

/// Registers one criterion group with the workload on both runtimes.
fn compare<O, OF, T, TF>(c: &mut Criterion, name: &str, ours: O, tokio: T)
where
    O: Fn() -> OF,
    OF: Future<Output = ()>,
    T: Fn() -> TF,
    TF: Future<Output = ()>,
{
    let mut group = c.benchmark_group(name);
    group.bench_function("ours", |b| {
        let rt = fetch_headers::runtime::Runtime::new().expect("build our runtime");
        b.iter(|| rt.block_on(ours()));
    });
    group.bench_function("tokio_current_thread", |b| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("build tokio runtime");
        b.iter(|| rt.block_on(tokio()));
    });
    group.finish();
}

fn runtime_benches(c: &mut Criterion) {
    compare(c, "spawn_many", ours::spawn_many, on_tokio::spawn_many);
    compare(
        c,
        "chained_spawn",
        ours::chained_spawn,
        on_tokio::chained_spawn,
    );
    compare(c, "yield_many", ours::yield_many, on_tokio::yield_many);
    compare(c, "ping_pong", ours::ping_pong, on_tokio::ping_pong);
    compare(c, "sleep_many", ours::sleep_many, on_tokio::sleep_many);
    compare(
        c,
        "timeout_cancel",
        ours::timeout_cancel,
        on_tokio::timeout_cancel,
    );
    compare(c, "tcp_echo", ours::tcp_echo, on_tokio::tcp_echo);
    compare(
        c,
        "connect_accept",
        ours::connect_accept,
        on_tokio::connect_accept,
    );
}

/// The workloads on our runtime.
mod ours {
    use std::future::Future;
    use std::pin::Pin;

    use fetch_headers::net::{TcpListener, TcpStream};
    use fetch_headers::runtime::{sleep, spawn, timeout, yield_now};

    use super::*;
    use crate::oneslot;

    pub async fn spawn_many() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("task");
        }
        assert_eq!(sum, SPAWN_MANY * (SPAWN_MANY - 1) / 2);
    }

    pub async fn chained_spawn() {
        // A boxed future so the chain can name itself.
        fn link(depth: usize) -> Pin<Box<dyn Future<Output = usize>>> {
            Box::pin(async move {
                if depth == 0 {
                    0
                } else {
                    spawn(link(depth - 1)).await.expect("task") + 1
                }
            })
        }
        assert_eq!(link(CHAIN_DEPTH).await, CHAIN_DEPTH);
    }

    pub async fn yield_many() {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
    }

    pub async fn ping_pong() {
        let (ping_tx, ping_rx) = oneslot::channel::<usize>();
        let (pong_tx, pong_rx) = oneslot::channel::<usize>();
        let echo = spawn(async move {
            while let Some(n) = ping_rx.recv().await {
                pong_tx.send(n);
            }
        });
        for i in 0..PING_PONGS {
            ping_tx.send(i);
            assert_eq!(pong_rx.recv().await, Some(i));
        }
        drop(ping_tx);
        echo.await.expect("echo task");
    }

    pub async fn sleep_many() {
        let handles: Vec<_> = (0..SLEEPERS).map(|_| spawn(sleep(SLEEP))).collect();
        for handle in handles {
            handle.await.expect("task");
        }
    }

    pub async fn timeout_cancel() {
        for _ in 0..TIMEOUTS {
            timeout(TIMEOUT, yield_now()).await.expect("no timeout");
        }
    }

    pub async fn tcp_echo() {
        let listener = TcpListener::bind(loopback()).expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = spawn(async move {
            let (stream, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; ECHO_MESSAGE];
            loop {
                let n = stream.read(&mut buf).await.expect("server read");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.expect("server write");
            }
        });
        let client = TcpStream::connect(addr).await.expect("connect");
        let message = [7u8; ECHO_MESSAGE];
        let mut reply = [0u8; ECHO_MESSAGE];
        for _ in 0..ECHO_ROUND_TRIPS {
            client.write_all(&message).await.expect("client write");
            // No read_exact in the runtime API: read until the echo is whole.
            let mut filled = 0;
            while filled < reply.len() {
                let n = client.read(&mut reply[filled..]).await.expect("read");
                assert!(n > 0, "echo server closed early");
                filled += n;
            }
            assert_eq!(reply, message);
        }
        drop(client);
        server.await.expect("server task");
    }

    pub async fn connect_accept() {
        let listener = TcpListener::bind(loopback()).expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let acceptor = spawn(async move {
            for _ in 0..CONNECTS {
                listener.accept().await.expect("accept");
            }
        });
        for _ in 0..CONNECTS {
            TcpStream::connect(addr).await.expect("connect");
        }
        acceptor.await.expect("acceptor task");
    }
}

/// The same workloads on tokio's `current_thread` runtime.
mod on_tokio {
    use std::future::Future;
    use std::pin::Pin;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::{spawn, yield_now, LocalSet};
    use tokio::time::{sleep, timeout};

    use super::*;
    use crate::oneslot;

    pub async fn spawn_many() {
        let handles: Vec<_> = (0..SPAWN_MANY).map(|i| spawn(async move { i })).collect();
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("task");
        }
        assert_eq!(sum, SPAWN_MANY * (SPAWN_MANY - 1) / 2);
    }

    pub async fn chained_spawn() {
        // tokio::spawn needs Send futures; otherwise as ours.
        fn link(depth: usize) -> Pin<Box<dyn Future<Output = usize> + Send>> {
            Box::pin(async move {
                if depth == 0 {
                    0
                } else {
                    spawn(link(depth - 1)).await.expect("task") + 1
                }
            })
        }
        assert_eq!(link(CHAIN_DEPTH).await, CHAIN_DEPTH);
    }

    pub async fn yield_many() {
        let handles: Vec<_> = (0..YIELD_TASKS)
            .map(|_| {
                spawn(async {
                    for _ in 0..YIELDS_PER_TASK {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("task");
        }
    }

    pub async fn ping_pong() {
        // The channel is !Send: run both tasks on a LocalSet.
        LocalSet::new()
            .run_until(async {
                let (ping_tx, ping_rx) = oneslot::channel::<usize>();
                let (pong_tx, pong_rx) = oneslot::channel::<usize>();
                let echo = tokio::task::spawn_local(async move {
                    while let Some(n) = ping_rx.recv().await {
                        pong_tx.send(n);
                    }
                });
                for i in 0..PING_PONGS {
                    ping_tx.send(i);
                    assert_eq!(pong_rx.recv().await, Some(i));
                }
                drop(ping_tx);
                echo.await.expect("echo task");
            })
            .await;
    }

    pub async fn sleep_many() {
        let handles: Vec<_> = (0..SLEEPERS).map(|_| spawn(sleep(SLEEP))).collect();
        for handle in handles {
            handle.await.expect("task");
        }
    }

    pub async fn timeout_cancel() {
        for _ in 0..TIMEOUTS {
            timeout(TIMEOUT, yield_now()).await.expect("no timeout");
        }
    }

    pub async fn tcp_echo() {
        let listener = TcpListener::bind(loopback()).await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let server = spawn(async move {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; ECHO_MESSAGE];
            loop {
                let n = stream.read(&mut buf).await.expect("server read");
                if n == 0 {
                    break;
                }
                stream.write_all(&buf[..n]).await.expect("server write");
            }
        });
        let mut client = TcpStream::connect(addr).await.expect("connect");
        let message = [7u8; ECHO_MESSAGE];
        let mut reply = [0u8; ECHO_MESSAGE];
        for _ in 0..ECHO_ROUND_TRIPS {
            client.write_all(&message).await.expect("client write");
            // read_exact is the same loop as ours, written by tokio.
            client.read_exact(&mut reply).await.expect("read");
            assert_eq!(reply, message);
        }
        drop(client);
        server.await.expect("server task");
    }

    pub async fn connect_accept() {
        let listener = TcpListener::bind(loopback()).await.expect("bind");
        let addr = listener.local_addr().expect("local_addr");
        let acceptor = spawn(async move {
            for _ in 0..CONNECTS {
                listener.accept().await.expect("accept");
            }
        });
        for _ in 0..CONNECTS {
            TcpStream::connect(addr).await.expect("connect");
        }
        acceptor.await.expect("acceptor task");
    }
}

criterion_group! {
    name = benches;
    // Short, few samples: 16 benchmarks on a shared two-core machine. The
    // ratios between the two sides are what matter, not tight intervals.
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = runtime_benches
}
criterion_main!(benches);
