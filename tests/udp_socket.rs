//! UDP on the loop: round trips with a plain-thread peer, the connected
//! socket's source filter, draining a burst, and buffer sizes.
mod support;

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::thread;
use std::time::Duration;

use fetch_headers::net::UdpSocket;
use fetch_headers::runtime::{timeout, Runtime};

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A std peer that echoes `n` datagrams back to their senders.
fn echo_peer(n: usize) -> (SocketAddr, thread::JoinHandle<()>) {
    let socket = StdUdpSocket::bind(loopback()).unwrap();
    let addr = socket.local_addr().unwrap();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 2048];
        for _ in 0..n {
            let (len, from) = socket.recv_from(&mut buf).unwrap();
            socket.send_to(&buf[..len], from).unwrap();
        }
    });
    (addr, handle)
}

#[test]
fn a_connected_socket_round_trips_with_a_std_peer() {
    let (peer, handle) = echo_peer(1);
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let socket = UdpSocket::bind(loopback()).unwrap();
            socket.connect(peer).unwrap();
            assert_eq!(socket.peer_addr().unwrap(), peer);
            assert_ne!(socket.local_addr().unwrap().port(), 0, "a port was chosen");
            assert_eq!(socket.send(b"ping").await.unwrap(), 4);
            let mut buf = [0u8; 16];
            let n = socket.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"ping");
        });
        assert_eq!(rt.stats().bytes_written, 4);
        assert_eq!(rt.stats().bytes_read, 4);
    });
    handle.join().unwrap();
}

/// `connected` binds as it connects; `try_send` sends with no readiness
/// event, as the resolver does for every query.
#[test]
fn a_socket_connected_at_creation_sends_at_once() {
    let (peer, handle) = echo_peer(1);
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let socket = UdpSocket::connected(peer).unwrap();
            assert_eq!(socket.peer_addr().unwrap(), peer);
            assert_ne!(socket.local_addr().unwrap().port(), 0, "bound by connect");
            assert_eq!(socket.try_send(b"now").unwrap(), 3);
            let mut buf = [0u8; 16];
            let n = socket.recv(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"now");
        });
        assert_eq!(rt.stats().bytes_written, 3);
    });
    handle.join().unwrap();
}

/// The kernel drops a datagram to a connected socket from any other
/// address: the resolver's first line against forged answers.
#[test]
fn a_connected_socket_never_sees_datagrams_from_another_port() {
    let peer = StdUdpSocket::bind(loopback()).unwrap();
    let peer_addr = peer.local_addr().unwrap();
    let intruder = StdUdpSocket::bind(loopback()).unwrap();
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let socket = UdpSocket::bind(loopback()).unwrap();
            socket.connect(peer_addr).unwrap();
            let ours = socket.local_addr().unwrap();
            // The intruder sends first, then the real peer.
            intruder.send_to(b"forged", ours).unwrap();
            peer.send_to(b"real", ours).unwrap();
            let mut buf = [0u8; 16];
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"real");
            assert_eq!(from, peer_addr);
            // Nothing else is queued: the forged datagram was dropped.
            let more = timeout(Duration::from_millis(50), socket.recv(&mut buf)).await;
            assert!(more.is_err(), "a second datagram arrived: {more:?}");
        });
    });
}

/// Edge-triggered readiness: datagrams that arrived together are all read,
/// though only one edge announced them.
#[test]
fn a_burst_of_datagrams_is_drained_from_one_edge() {
    let sender = StdUdpSocket::bind(loopback()).unwrap();
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let socket = UdpSocket::bind(loopback()).unwrap();
            let addr = socket.local_addr().unwrap();
            for i in 0..100u8 {
                sender.send_to(&[i], addr).unwrap();
            }
            let mut buf = [0u8; 4];
            for i in 0..100u8 {
                let (n, _) = socket.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &[i]);
            }
        });
    });
}

#[test]
fn send_to_reaches_an_unconnected_peer() {
    let (peer, handle) = echo_peer(1);
    support::with_deadline(Duration::from_secs(20), move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async move {
            let socket = UdpSocket::bind(loopback()).unwrap();
            socket.send_to(b"hi", peer).await.unwrap();
            let mut buf = [0u8; 8];
            let (n, from) = socket.recv_from(&mut buf).await.unwrap();
            assert_eq!((&buf[..n], from), (&b"hi"[..], peer));
        });
    });
    handle.join().unwrap();
}

#[test]
fn buffer_sizes_can_be_raised_for_bursts() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let socket = UdpSocket::bind(loopback()).unwrap();
            // Linux doubles what it is asked for, up to net.core.rmem_max
            // (and wmem_max), which is at least 128 KiB on any default
            // kernel: 64 KiB always fits.
            socket.set_recv_buffer_size(64 * 1024).unwrap();
            socket.set_send_buffer_size(64 * 1024).unwrap();
            assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
            assert!(socket.send_buffer_size().unwrap() >= 64 * 1024);
        });
    });
}
