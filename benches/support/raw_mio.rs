//! The floor: HTTP head fetches on bare mio, with no futures and no executor.
//!
//! This is what every async runtime in the benches is compared against. Each
//! connection is an explicit state machine stored in a slab, and the event
//! loop below *is* the whole program:
//!
//! ```text
//!   connect() ──> Connecting ──writable──> Writing ──request sent──> Reading ──blank line──> done
//!                 (take_error,             (write until              (read until
//!                  peer_addr)               WouldBlock)               WouldBlock)
//! ```
//!
//! Three rules make it correct with edge-triggered readiness, and they are
//! the same rules a runtime's leaf futures follow:
//!
//! * **Try the syscall, then wait.** An event says "something changed", not
//!   "this call will succeed". Every step calls read/write until it returns
//!   `WouldBlock`; only then does the connection wait for the next event.
//!   Stopping earlier would strand data: an edge is reported once.
//! * **A nonblocking connect finishes when the socket turns writable**, and
//!   `take_error()` then says whether it failed. `peer_addr()` returning
//!   `NotConnected` means the event was spurious and the connect is still in
//!   progress.
//! * **Readiness is a hint.** Spurious events are allowed and harmless
//!   because of the first rule.
//!
//! Sockets are registered once, for both directions, so no `reregister` call
//! is ever needed. A finished connection is simply dropped: closing the fd
//! removes it from the epoll set, and new connections are only started
//! between event batches, so an event still queued in the current batch can
//! never reach a newer connection that reused the same slot.
//!
//! Compared with the future-based clients, what is missing is exactly the
//! runtime's work: no task allocation, no wakers, no run queue, no timers.
//! Whatever ours costs above this is the price of `async`.

use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use crate::slab::Slab;
use crate::wire::{check_head, head_len, Tally, MAX_HEAD, REQUEST};

/// How long the loop waits without any event before it declares the
/// remaining connections dead. Keeps every run bounded.
const STALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where one connection is in its exchange. A finished connection leaves
/// the slab, so there is no `Done` state to store.
#[derive(Debug, Clone, Copy)]
enum State {
    /// `connect(2)` returned `EINPROGRESS`; waiting for writable.
    Connecting,
    /// Sending the request; `sent` bytes are already out.
    Writing { sent: usize },
    /// Collecting the response head.
    Reading,
}

/// One in-flight fetch.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    state: State,
    /// Response bytes received so far.
    head: Vec<u8>,
}

/// What [`advance`] decided for a connection.
enum Step {
    /// Blocked: wait for the next event on this socket.
    Park,
    /// Finished, with the fetch's outcome.
    Done(Result<(), String>),
}

/// A reusable floor client: one `Poll` and its event buffer.
#[derive(Debug)]
pub struct Client {
    poll: Poll,
    events: Events,
}

impl Client {
    /// Creates the epoll instance the client runs on.
    pub fn new() -> io::Result<Self> {
        Ok(Client {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
        })
    }

    /// Fetches `total` heads from `addr`, keeping up to `concurrency`
    /// connections in flight, and returns what happened to each.
    pub fn run(&mut self, addr: SocketAddr, total: usize, concurrency: usize) -> Tally {
        let concurrency = concurrency.max(1);
        let mut conns: Slab<Conn> = Slab::with_capacity(concurrency.min(total));
        let mut tally = Tally::default();
        let mut started = 0;

        loop {
            // Top up to `concurrency` in flight. Doing this only between
            // batches is what keeps a stale event from reaching a new
            // connection in a reused slot (see the module docs).
            while conns.len() < concurrency && started < total {
                started += 1;
                if let Err(e) = self.start(addr, &mut conns) {
                    tally.record(Err(format!("connect: {e}")));
                }
            }
            if conns.is_empty() {
                return tally;
            }

            if let Err(e) = self.poll.poll(&mut self.events, Some(STALL_TIMEOUT)) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                panic!("raw_mio: epoll_wait failed: {e}");
            }
            if self.events.is_empty() {
                // Nothing moved for STALL_TIMEOUT: fail what is left, loudly.
                let stranded = conns.clear() + (total - started);
                let msg = format!("stalled: no event for {STALL_TIMEOUT:?}");
                tally.record_many(stranded, &msg);
                return tally;
            }

            for event in self.events.iter() {
                let index = event.token().0;
                let Some(conn) = conns.get_mut(index) else {
                    continue;
                };
                if let Step::Done(outcome) = advance(conn) {
                    tally.record(outcome);
                    // Dropping the stream closes it, which also takes it out
                    // of the epoll set.
                    conns.remove(index);
                }
            }
        }
    }

    /// Starts one nonblocking connect and registers the socket.
    fn start(&self, addr: SocketAddr, conns: &mut Slab<Conn>) -> io::Result<()> {
        let mut stream = TcpStream::connect(addr)?;
        let index = conns.next_index();
        // Both directions, once: writable announces the connect result and
        // readable the response, so the registration never changes.
        let interest = Interest::READABLE | Interest::WRITABLE;
        self.poll
            .registry()
            .register(&mut stream, Token(index), interest)?;
        conns.insert(Conn {
            stream,
            state: State::Connecting,
            head: Vec::new(),
        });
        Ok(())
    }
}

/// Runs one connection's state machine until it blocks or finishes.
fn advance(conn: &mut Conn) -> Step {
    loop {
        match conn.state {
            State::Connecting => {
                // The connect has ended, in success or failure, or this
                // event was spurious. take_error() reads SO_ERROR.
                match conn.stream.take_error() {
                    Ok(None) => {}
                    Ok(Some(e)) | Err(e) => return Step::Done(Err(format!("connect: {e}"))),
                }
                match conn.stream.peer_addr() {
                    Ok(_) => conn.state = State::Writing { sent: 0 },
                    Err(e) if e.kind() == ErrorKind::NotConnected => return Step::Park,
                    Err(e) => return Step::Done(Err(format!("connect: {e}"))),
                }
            }
            State::Writing { sent } => match conn.stream.write(&REQUEST[sent..]) {
                Ok(n) if sent + n == REQUEST.len() => conn.state = State::Reading,
                Ok(n) => conn.state = State::Writing { sent: sent + n },
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Park,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Step::Done(Err(format!("write: {e}"))),
            },
            State::Reading => {
                let mut buf = [0u8; 1024];
                match conn.stream.read(&mut buf) {
                    Ok(0) => {
                        let msg = format!("closed after {} bytes of head", conn.head.len());
                        return Step::Done(Err(msg));
                    }
                    Ok(n) => {
                        conn.head.extend_from_slice(&buf[..n]);
                        if let Some(len) = head_len(&conn.head) {
                            return Step::Done(check_head(&conn.head[..len]));
                        }
                        if conn.head.len() > MAX_HEAD {
                            return Step::Done(Err("head too large".into()));
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Park,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Step::Done(Err(format!("read: {e}"))),
                }
            }
        }
    }
}
