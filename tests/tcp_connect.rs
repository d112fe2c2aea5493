//! Connecting and accepting: round trips, refusals, names and many at once.
mod support;

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use fetch_headers::net::{
    connect, ConnectError, Connecting, Family, Resolver, TcpListener, TcpStream,
};
use fetch_headers::runtime::{join_all, spawn, timeout, Runtime};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Fills `buf` from `stream`; an early EOF is `UnexpectedEof`.
async fn read_full(stream: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

/// A std peer that echoes everything back until EOF.
fn echo_server() -> SocketAddr {
    support::serve(|mut stream| {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = stream.read(&mut buf) {
            if stream.write_all(&buf[..n]).is_err() {
                return;
            }
        }
    })
}

#[test]
fn listener_and_stream_in_one_runtime_round_trip() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                let (stream, peer) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4];
                read_full(&stream, &mut buf).await.unwrap();
                stream.write_all(b"pong").await.unwrap();
                (peer, buf)
            });
            let client = TcpStream::connect(addr).await.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            client.write_all(b"ping").await.unwrap();
            let mut reply = [0u8; 4];
            read_full(&client, &mut reply).await.unwrap();
            assert_eq!(&reply, b"pong");
            let (peer, request) = server.await.unwrap();
            assert_eq!(&request, b"ping");
            assert_eq!(peer, client.local_addr().unwrap());
        });
    });
}

/// Checklist 4: the refusal arrives as an error on the socket, which
/// `take_error()` finds once the socket reports writable.
#[test]
fn connect_to_a_closed_port_is_refused_promptly() {
    let addr = support::closed_port();
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        let started = Instant::now();
        let error = rt.block_on(TcpStream::connect(addr)).unwrap_err();
        let took = started.elapsed();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
        assert!(took < Duration::from_millis(500), "refusal took {took:?}");
        // connect(2) said EINPROGRESS; the error came with a readiness event.
        assert!(rt.stats().events >= 1, "the refusal came from an event");
        assert_eq!(rt.stats().connections_open, 0);
    });
}

#[test]
fn connect_by_name_resolves_localhost_on_the_workers() {
    let addr = echo_server();
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        let resolver = Resolver::new(2);
        rt.block_on(async {
            let stream = connect(&resolver, "localhost", addr.port(), Family::Any)
                .await
                .unwrap();
            let peer = stream.peer_addr().unwrap();
            assert!(peer.ip().is_loopback(), "{peer}");
            assert_eq!(peer.port(), addr.port());
            stream.write_all(b"hi").await.unwrap();
            let mut buf = [0u8; 2];
            read_full(&stream, &mut buf).await.unwrap();
            assert_eq!(&buf, b"hi");
        });
        assert_eq!(resolver.lookups(), 1);
    });
}

/// getaddrinfo's error, whole. The name has a 64-byte label, which glibc
/// refuses before asking any server (checked with strace: no socket but
/// nscd's), so the test depends on no resolver of the machine.
#[test]
fn connect_to_a_name_getaddrinfo_refuses_is_a_dns_error() {
    support::with_deadline(Duration::from_secs(30), || {
        let rt = Runtime::new().unwrap();
        let resolver = Resolver::new(2);
        let name = format!("{}.invalid", "a".repeat(64));
        let result = rt.block_on(connect(&resolver, &name, 80, Family::Any));
        match result {
            Err(ConnectError::Dns(e)) => {
                assert_eq!(e.host, name);
                assert!(!e.message.is_empty());
                assert!(e.to_string().starts_with(&format!("'{name}': ")), "{e}");
            }
            other => panic!("expected a DNS error, got {other:?}"),
        }
    });
}

#[test]
fn concurrent_lookups_of_one_name_share_one_getaddrinfo() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        let resolver = Resolver::new(2);
        let answers = rt.block_on(join_all((0..10).map(|_| {
            let resolver = resolver.clone();
            async move { resolver.lookup("localhost").await }
        })));
        let first = answers[0].as_ref().unwrap().as_ref().unwrap().clone();
        for answer in &answers {
            assert_eq!(answer.as_ref().unwrap().as_ref().unwrap(), &first);
        }
        assert_eq!(resolver.lookups(), 1, "ten concurrent asks, one lookup");
        // A later ask is answered from the cache, an IP literal by parsing.
        rt.block_on(async {
            resolver.lookup("localhost").await.unwrap();
            resolver.lookup("127.0.0.1").await.unwrap();
        });
        assert_eq!(resolver.lookups(), 1);
    });
}

/// A listener's accept queue holds a burst of connects that nobody accepts
/// yet. With std's and mio's backlog of 128 the kernel dropped the SYNs past
/// it, and those connects stalled until an accept made room.
#[test]
fn listener_queues_a_thousand_connects_before_any_accept() {
    const N: usize = 1000;
    support::with_deadline(Duration::from_secs(30), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr().unwrap();
            let clients = join_all((0..N).map(|_| TcpStream::connect(addr))).await;
            assert!(clients.iter().all(|c| matches!(c, Ok(Ok(_)))));
            for _ in 0..N {
                listener.accept().await.unwrap();
            }
        });
    });
}

#[test]
fn a_thousand_simultaneous_loopback_connections_complete() {
    const N: usize = 1000;
    let started = Instant::now();
    let stats = support::with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind(loopback()).unwrap();
            let addr = listener.local_addr().unwrap();
            let server = spawn(async move {
                // Hold every connection until all N are in, so that all of
                // them are open at once; then echo 8 bytes on each.
                let mut accepted = Vec::with_capacity(N);
                while accepted.len() < N {
                    accepted.push(listener.accept().await.unwrap().0);
                }
                join_all(accepted.into_iter().map(|stream| async move {
                    let mut buf = [0u8; 8];
                    read_full(&stream, &mut buf).await.unwrap();
                    stream.write_all(&buf).await.unwrap();
                }))
                .await
            });
            let echoed = join_all((0..N as u64).map(|i| async move {
                let stream = TcpStream::connect(addr).await?;
                stream.write_all(&i.to_be_bytes()).await?;
                let mut buf = [0u8; 8];
                read_full(&stream, &mut buf).await?;
                io::Result::Ok(u64::from_be_bytes(buf))
            }))
            .await;
            for (i, echo) in echoed.into_iter().enumerate() {
                assert_eq!(echo.unwrap().unwrap(), i as u64);
            }
            assert!(server.await.unwrap().iter().all(Result::is_ok));
        });
        rt.stats()
    });
    eprintln!("{N} simultaneous connections took {:?}", started.elapsed());
    assert_eq!(
        stats.connections_max,
        2 * N as u64,
        "both ends open at once"
    );
    assert_eq!(stats.connections_open, 0);
}

/// Happy Eyeballs' connection attempt delay: a first address that drops
/// SYNs does not hold up the next one, which is tried 250 ms later beside
/// it. Without the race the connect would wait on the black hole until the
/// kernel gave up (about two minutes), far past the 5 s given here.
#[test]
fn a_black_holed_first_address_costs_the_attempt_delay_not_the_budget() {
    let server = echo_server();
    let hole = support::black_hole(std::net::Ipv4Addr::new(127, 0, 0, 2), server.port());
    let (connected, started) = support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let addrs = [hole.ip(), server.ip()].into();
            let connecting = Connecting::start("two-addresses", addrs, server.port(), Family::Any)
                .expect("the black hole's connect starts");
            let started = connecting.addr();
            let connected = timeout(Duration::from_secs(5), connecting).await;
            (
                connected.map(|result| result.map(|(_, addr)| addr).unwrap()),
                started,
            )
        })
    });
    assert_eq!(started, Some(hole), "the first address is tried first");
    assert_eq!(connected, Ok(server), "the second address won the race");
}

/// Every address failing gives the last failure, after trying each once.
#[test]
fn every_address_refused_gives_the_last_error_with_the_count() {
    let first = support::closed_port();
    let error = support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            // One port on two loopback addresses: on 127.0.0.1 it is
            // closed, and on 127.0.0.3 nothing is bound at all.
            let addrs = [first.ip(), std::net::Ipv4Addr::new(127, 0, 0, 3).into()].into();
            Connecting::start("closed", addrs, first.port(), Family::Any)
                .unwrap()
                .await
                .map(drop)
                .unwrap_err()
        })
    });
    match error {
        ConnectError::Connect {
            addr,
            source,
            attempts,
        } => {
            assert_eq!(addr.ip(), std::net::Ipv4Addr::new(127, 0, 0, 3));
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
            assert_eq!(attempts, 2);
        }
        other => panic!("expected a connect error, got {other:?}"),
    }
}
