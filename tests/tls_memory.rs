//! What a TLS connection costs in heap memory, measured: the client
//! thread's live heap bytes (allocations minus frees made on it) with 64
//! idle sessions open, minus the same with 64 plain TCP connections.
//! Servers run on other threads, so their memory is not counted.
//!
//! Alone in its file: it installs a counting global allocator.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;
use std::time::Duration;

use fetch_headers::net::TcpStream;
use fetch_headers::runtime::Runtime;
use fetch_headers::tls::{TlsConnector, TlsStream};
use tls::{Ca, ServerSetup};

thread_local! {
    /// Bytes allocated minus bytes freed on this thread.
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

fn live() -> isize {
    LIVE.with(Cell::get)
}

struct Counting;

// SAFETY: every call is passed on to the system allocator unchanged; the
// counter is a const-initialised thread-local without a destructor, which
// allocates nothing.
#[allow(unsafe_code)] // a global allocator is unsafe to implement by nature
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is System's contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc` and `dealloc`.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const CONNECTIONS: usize = 64;

/// A server whose every connection handshakes and then waits for the
/// client to leave.
fn idle_tls_server(ca: &Ca) -> SocketAddr {
    let config = ServerSetup::new(&ca.leaf(&["localhost"])).config();
    support::serve(move |mut sock| {
        let mut conn = rustls::ServerConnection::new(config.clone()).unwrap();
        while conn.is_handshaking() {
            if conn.complete_io(&mut sock).is_err() {
                return;
            }
        }
        let _ = tls::receive(&mut conn, &mut sock, usize::MAX);
    })
}

#[test]
fn an_idle_tls_session_costs_a_bounded_few_kibibytes() {
    let ca = Ca::root("Test Root");
    let tls_addr = idle_tls_server(&ca);
    let tcp_addr = support::silent_server();
    let connector = tls::connector(&ca);

    let (tcp_each, tls_each, stream_size) =
        support::with_deadline(Duration::from_secs(60), move || {
            measure(connector, tls_addr, tcp_addr)
        });
    let tls_only = tls_each - tcp_each;
    eprintln!(
        "per connection: TCP {tcp_each} B, TLS {tls_each} B, so TLS adds {tls_only} B \
         (TlsStream itself: {stream_size} B inline)"
    );
    assert!(tcp_each >= 0);
    assert!(tls_only > 0, "a TLS session holds something");
    assert!(
        tls_only < 40 * 1024,
        "an idle TLS session should hold well under 40 KiB, holds {tls_only} B"
    );
}

fn measure(
    connector: TlsConnector,
    tls_addr: SocketAddr,
    tcp_addr: SocketAddr,
) -> (isize, isize, usize) {
    let rt = Runtime::new().unwrap();
    rt.block_on(async move {
        // Warm up once (lazy statics, the reactor's slab, ...).
        {
            let tcp = TcpStream::connect(tls_addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            stream.handshake().await.unwrap();
        }

        let before = live();
        let mut plain = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            plain.push(TcpStream::connect(tcp_addr).await.unwrap());
        }
        let tcp_each = (live() - before) / CONNECTIONS as isize;
        drop(plain);

        let mut sessions: Vec<TlsStream> = Vec::with_capacity(CONNECTIONS);
        let before = live();
        for _ in 0..CONNECTIONS {
            let tcp = TcpStream::connect(tls_addr).await.unwrap();
            let mut stream = connector.connect("localhost", tcp).unwrap();
            stream.handshake().await.unwrap();
            sessions.push(stream);
        }
        // Let each read what the server sent after the handshake (TLS 1.3
        // session tickets), as a fetch reading its response would.
        for stream in &mut sessions {
            let mut buf = [0u8; 1];
            let _ =
                fetch_headers::runtime::timeout(Duration::from_millis(20), stream.read(&mut buf))
                    .await;
        }
        let tls_each = (live() - before) / CONNECTIONS as isize;
        (tcp_each, tls_each, std::mem::size_of::<TlsStream>())
    })
}
