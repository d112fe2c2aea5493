//! The loopback HTTP server the fetch benches measure against.
//!
//! It answers every request with the same head (short, [`wire::RESPONSE`],
//! or nginx-shaped, [`wire::NGINX_RESPONSE`]; see [`wire::Answer`]) and
//! closes, as fast as one thread can: an edge-triggered mio loop, one slab
//! entry per connection, a listen backlog of [`BACKLOG`] so bursts of
//! thousands of connects are queued by the kernel instead of refused.
//!
//! Each connection goes through three phases:
//!
//! 1. `Reading`: read until the blank line that ends the request head.
//! 2. `Waiting`: only with a [`Options::delay`]: the answer is held back for
//!    that long, so a client has to keep many connections open at once (the
//!    memory bench). The delay is the same for every connection, so deadlines
//!    are created in increasing order and a FIFO queue is a correct timer.
//! 3. `Writing`: write the response, then drop the socket, which closes it.
//!
//! The benches run this loop in a separate process (see `process.rs`) so its
//! CPU time is not counted as the client's; the `raw_mio` example runs it on
//! a thread.
//!
//! [`wire::RESPONSE`]: crate::wire::RESPONSE
//! [`wire::NGINX_RESPONSE`]: crate::wire::NGINX_RESPONSE
//! [`wire::Answer`]: crate::wire::Answer

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use crate::slab::Slab;
use crate::wire::{head_len, Answer, MAX_HEAD};

/// Listen backlog: large enough that 5,000 simultaneous connects (the memory
/// bench) wait in the kernel's accept queue rather than being dropped. The
/// kernel caps it at `net.core.somaxconn`.
pub const BACKLOG: i32 = 4096;

/// The listener's token; connections use their slab index.
const LISTENER: Token = Token(usize::MAX);

/// How the server behaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// How long to hold each answer after the request arrived.
    pub delay: Duration,
    /// The head every request is answered with.
    pub answer: Answer,
}

/// Binds a listener on `addr` with a [`BACKLOG`]-deep accept queue.
pub fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    // std listens with a small fixed backlog. Calling listen(2) again on a
    // listening socket is allowed on Linux and just resizes the queue.
    // SAFETY: the fd is a valid, open socket owned by `listener` for the
    // whole call; listen(2) does not touch memory.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::listen(listener.as_raw_fd(), BACKLOG) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(listener)
}

/// Where one connection is in its exchange.
enum Phase {
    Reading,
    Waiting,
    Writing { sent: usize },
}

struct Conn {
    stream: TcpStream,
    /// Request bytes received so far (only needed to find the blank line).
    request: Vec<u8>,
    phase: Phase,
    /// Unique for the life of the server: a timer entry names its connection
    /// by slot *and* serial, so a slot reused by a newer connection is never
    /// answered early by the older connection's timer.
    serial: u64,
}

/// What a step of a connection's state machine decided.
enum Step {
    /// Wait for the next readiness event or timer.
    Park,
    /// The request head is in and the answer must be held back.
    StartDelay,
    /// Finished or failed: close the connection.
    Close,
}

/// Serves connections on `listener` until the process exits.
pub fn serve(listener: std::net::TcpListener, options: Options) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    let poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut server = Server {
        poll,
        options,
        conns: Slab::with_capacity(1024),
        timers: VecDeque::new(),
        next_serial: 0,
    };
    let mut events = Events::with_capacity(1024);

    loop {
        // Sleep until the next event, or until the oldest delayed answer is due.
        let timeout = server
            .timers
            .front()
            .map(|&(deadline, _, _)| deadline.saturating_duration_since(Instant::now()));
        if let Err(e) = server.poll.poll(&mut events, timeout) {
            if e.kind() == ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            if event.token() == LISTENER {
                server.accept_all(&listener);
            } else {
                // A spurious event, or one for a connection closed earlier in
                // this batch whose slot a new connection took, only makes us
                // try a syscall that returns WouldBlock: readiness is a hint.
                server.drive(event.token().0);
            }
        }
        server.fire_timers();
    }
}

/// The server's state between loop turns.
struct Server {
    poll: Poll,
    options: Options,
    conns: Slab<Conn>,
    /// Delayed answers, oldest first: (deadline, slot, serial).
    timers: VecDeque<(Instant, usize, u64)>,
    next_serial: u64,
}

impl Server {
    /// Accepts until the queue is empty: with edge-triggered readiness the
    /// listener reports "readable" once per burst, not once per connection.
    fn accept_all(&mut self, listener: &TcpListener) {
        loop {
            let mut stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Out of fds, most likely. The client sees the failure
                    // and reports it; the server must keep going.
                    eprintln!("bench server: accept: {e}");
                    return;
                }
            };
            // Register under the token of the slot the insert below will use.
            let index = self.conns.next_index();
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut stream, Token(index), interest)
            {
                eprintln!("bench server: register: {e}");
                continue;
            }
            self.next_serial += 1;
            let inserted = self.conns.insert(Conn {
                stream,
                request: Vec::new(),
                phase: Phase::Reading,
                serial: self.next_serial,
            });
            debug_assert_eq!(inserted, index);
            // The request may already be waiting: don't wait for an edge
            // that happened before the registration.
            self.drive(index);
        }
    }

    /// Runs connection `index` as far as it goes and acts on the outcome.
    fn drive(&mut self, index: usize) {
        let Options { delay, answer } = self.options;
        let Some(conn) = self.conns.get_mut(index) else {
            return;
        };
        match advance(conn, delay, answer.bytes()) {
            Step::Park => {}
            Step::StartDelay => {
                let deadline = Instant::now() + delay;
                self.timers.push_back((deadline, index, conn.serial));
            }
            Step::Close => {
                self.conns.remove(index);
            }
        }
    }

    /// Moves every connection whose delay is over to writing.
    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(&(deadline, index, serial)) = self.timers.front() {
            if deadline > now {
                break;
            }
            self.timers.pop_front();
            match self.conns.get_mut(index) {
                Some(conn) if conn.serial == serial => {
                    conn.phase = Phase::Writing { sent: 0 };
                    self.drive(index);
                }
                // That connection is gone (the client gave up).
                _ => {}
            }
        }
    }
}

/// Runs one connection's state machine as far as it can go without blocking.
fn advance(conn: &mut Conn, delay: Duration, response: &[u8]) -> Step {
    loop {
        match conn.phase {
            Phase::Reading => {
                let mut buf = [0u8; 1024];
                match conn.stream.read(&mut buf) {
                    Ok(0) => return Step::Close,
                    Ok(n) => {
                        conn.request.extend_from_slice(&buf[..n]);
                        if head_len(&conn.request).is_some() {
                            conn.request = Vec::new();
                            if delay.is_zero() {
                                conn.phase = Phase::Writing { sent: 0 };
                            } else {
                                conn.phase = Phase::Waiting;
                                return Step::StartDelay;
                            }
                        } else if conn.request.len() > MAX_HEAD {
                            return Step::Close;
                        }
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Park,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return Step::Close,
                }
            }
            // Only the timer moves a waiting connection on.
            Phase::Waiting => return Step::Park,
            Phase::Writing { sent } => match conn.stream.write(&response[sent..]) {
                Ok(n) if sent + n == response.len() => return Step::Close,
                Ok(n) => conn.phase = Phase::Writing { sent: sent + n },
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Park,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Step::Close,
            },
        }
    }
}
