//! The DNS bench's responder: a compiled, single-threaded UDP DNS server
//! on 127.0.0.1 that answers every query after a fixed delay, in its own
//! process (the `dns-responder` child role, see `child.rs`).
//!
//! It answers as [`dns_wire::respond`] says: one A record for an A query,
//! one AAAA record for an AAAA query. Each answer is held back for
//! the delay (20 ms in the bench) without costing a thread: the delay is
//! the same for every query, so due times are made in increasing order
//! and a FIFO queue of (due time, client, reply) is a sorted timer queue.
//! One thread, one nonblocking socket, one mio loop: receive what has
//! arrived (at most [`BATCH`] datagrams at a time, so answers fall due on
//! time during a burst), send what is due, and sleep in `epoll_wait` until
//! the next datagram or the next due time (mio rounds that up to a whole
//! millisecond, so an answer may leave up to 1 ms late; the lateness is
//! measured and reported).
//!
//! Its socket asks for [`SOCKET_BUFFER`]-byte receive and send buffers
//! (`FH_BENCH_DNS_BUFFER` bytes if set; the kernel grants at most twice
//! `net.core.rmem_max` / `net.core.wmem_max`), so a burst of 4,000
//! lookups' queries queues instead of being dropped. Drops are not guessed at: the kernel counts
//! the datagrams it dropped for this socket (the `drops` column of
//! `/proc/net/udp`), and the responder reports that count.
//!
//! The bench talks to it on its stdin: each `stats` line is answered with
//! one line of `key=value` counters on stdout ([`ResponderStats`]).
//! Closing stdin stops it.

use std::collections::VecDeque;
use std::io::{self, BufRead, ErrorKind, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token};

use crate::child::{self, fail};
use crate::{dns_wire, sys};

/// Role value: run the DNS responder.
pub const ROLE_RESPONDER: &str = "dns-responder";

/// How long each answer is held back, in microseconds (responder role).
const DELAY_VAR: &str = "FH_BENCH_DNS_RESPONDER_DELAY_US";

/// The port to bind (responder role); 0 or unset: one from `bind(0)`.
const PORT_VAR: &str = "FH_BENCH_DNS_RESPONDER_PORT";

/// The receive and send buffer sizes the responder asks for.
pub const SOCKET_BUFFER: usize = 16 << 20;

/// Asks for other buffer sizes, in bytes (inherited from the bench's
/// environment): a small one shows what a burst does to a small buffer.
const BUFFER_VAR: &str = "FH_BENCH_DNS_BUFFER";

/// Datagrams received between two looks at the queue of due answers.
const BATCH: usize = 64;

/// The responder's counters, as the bench reads them.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResponderStats {
    /// Datagrams received.
    pub received: u64,
    /// Answers sent.
    pub answered: u64,
    /// Datagrams that were not a query it answers (dropped).
    pub malformed: u64,
    /// Answers the kernel refused to send (`sendto` errors other than
    /// `EAGAIN`, which is retried).
    pub send_errors: u64,
    /// Datagrams the kernel dropped for the responder's socket (receive
    /// buffer full), from `/proc/net/udp`.
    pub kernel_drops: u64,
    /// The responder process's CPU time (user + system), in microseconds.
    pub cpu_us: u64,
    /// How late answers left after their due time, summed, in
    /// microseconds.
    pub late_sum_us: u64,
    /// The latest an answer left after its due time since the previous
    /// `stats`, in microseconds.
    pub max_late_us: u64,
    /// The receive buffer the kernel granted, in bytes.
    pub rcvbuf: u64,
    /// The send buffer the kernel granted, in bytes.
    pub sndbuf: u64,
}

impl ResponderStats {
    /// What happened between `earlier` and `self` (counters subtracted;
    /// the lateness and buffer sizes are `self`'s).
    pub fn since(&self, earlier: &ResponderStats) -> ResponderStats {
        ResponderStats {
            received: self.received - earlier.received,
            answered: self.answered - earlier.answered,
            malformed: self.malformed - earlier.malformed,
            send_errors: self.send_errors - earlier.send_errors,
            kernel_drops: self.kernel_drops - earlier.kernel_drops,
            cpu_us: self.cpu_us - earlier.cpu_us,
            late_sum_us: self.late_sum_us - earlier.late_sum_us,
            ..*self
        }
    }

    /// The counters as one line of `key=value` pairs.
    pub fn to_line(self) -> String {
        format!(
            "received={} answered={} malformed={} send_errors={} kernel_drops={} \
             cpu_us={} late_sum_us={} max_late_us={} rcvbuf={} sndbuf={}",
            self.received,
            self.answered,
            self.malformed,
            self.send_errors,
            self.kernel_drops,
            self.cpu_us,
            self.late_sum_us,
            self.max_late_us,
            self.rcvbuf,
            self.sndbuf
        )
    }

    /// Reads a line made by [`ResponderStats::to_line`].
    pub fn from_line(line: &str) -> io::Result<ResponderStats> {
        let mut stats = ResponderStats::default();
        for pair in line.split_whitespace() {
            let bad = || io::Error::other(format!("DNS responder sent {line:?}"));
            let (key, value) = pair.split_once('=').ok_or_else(bad)?;
            let value: u64 = value.parse().map_err(|_| bad())?;
            let field = match key {
                "received" => &mut stats.received,
                "answered" => &mut stats.answered,
                "malformed" => &mut stats.malformed,
                "send_errors" => &mut stats.send_errors,
                "kernel_drops" => &mut stats.kernel_drops,
                "cpu_us" => &mut stats.cpu_us,
                "late_sum_us" => &mut stats.late_sum_us,
                "max_late_us" => &mut stats.max_late_us,
                "rcvbuf" => &mut stats.rcvbuf,
                "sndbuf" => &mut stats.sndbuf,
                _ => return Err(bad()),
            };
            *field = value;
        }
        Ok(stats)
    }
}

/// A running responder process; dropping it stops the responder.
#[derive(Debug)]
pub struct ResponderProcess {
    child: Child,
    /// Closing it tells the responder to exit; `None` once dropped.
    stdin: Option<ChildStdin>,
    stdout: io::BufReader<ChildStdout>,
    addr: SocketAddr,
}

impl ResponderProcess {
    /// Starts a responder on 127.0.0.1 (`port`, or any free port if 0)
    /// that holds each answer for `delay`, and waits until it is listening.
    pub fn spawn(delay: Duration, port: u16) -> io::Result<ResponderProcess> {
        let listening = child::spawn_listening(
            ROLE_RESPONDER,
            &[
                (DELAY_VAR, delay.as_micros().to_string()),
                (PORT_VAR, port.to_string()),
            ],
        )?;
        Ok(ResponderProcess {
            child: listening.child,
            stdin: Some(listening.stdin),
            stdout: listening.stdout,
            addr: SocketAddr::from(([127, 0, 0, 1], listening.port)),
        })
    }

    /// The address it answers on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its counters now.
    pub fn stats(&mut self) -> io::Result<ResponderStats> {
        let stdin = self.stdin.as_mut().expect("stdin is open until drop");
        stdin.write_all(b"stats\n")?;
        stdin.flush()?;
        let mut line = String::new();
        if self.stdout.read_line(&mut line)? == 0 {
            return Err(io::Error::other("the DNS responder exited"));
        }
        ResponderStats::from_line(line.trim_end())
    }
}

impl Drop for ResponderProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The live counters, shared by the serving thread and the stdin thread.
#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    answered: AtomicU64,
    malformed: AtomicU64,
    send_errors: AtomicU64,
    late_sum_us: AtomicU64,
    max_late_us: AtomicU64,
}

/// The responder role: bind, report the port, answer until stdin closes.
pub fn run_responder_role() -> ! {
    let delay_us: u64 = std::env::var(DELAY_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| fail("DNS responder: no delay given"));
    let delay = Duration::from_micros(delay_us);
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .unwrap_or_else(|e| fail(&format!("DNS responder: socket: {e}")));
    // Ask for big buffers; the kernel caps them, and reports what it gave.
    let buffer = std::env::var(BUFFER_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SOCKET_BUFFER);
    let _ = socket.set_recv_buffer_size(buffer);
    let _ = socket.set_send_buffer_size(buffer);
    let rcvbuf = socket.recv_buffer_size().unwrap_or(0) as u64;
    let sndbuf = socket.send_buffer_size().unwrap_or(0) as u64;
    let port: u16 = std::env::var(PORT_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let bind = SocketAddr::from(([127, 0, 0, 1], port));
    socket
        .bind(&bind.into())
        .unwrap_or_else(|e| fail(&format!("DNS responder: bind: {e}")));
    socket
        .set_nonblocking(true)
        .unwrap_or_else(|e| fail(&format!("DNS responder: nonblocking: {e}")));
    let socket: std::net::UdpSocket = socket.into();
    let port = socket.local_addr().map(|a| a.port()).unwrap_or(0);

    let counters = Arc::new(Counters::default());
    let shared = counters.clone();
    child::exit_with_parent(port, move |line| {
        if line != "stats" {
            return;
        }
        let stats = ResponderStats {
            received: shared.received.load(Ordering::Relaxed),
            answered: shared.answered.load(Ordering::Relaxed),
            malformed: shared.malformed.load(Ordering::Relaxed),
            send_errors: shared.send_errors.load(Ordering::Relaxed),
            kernel_drops: kernel_drops(port).unwrap_or(u64::MAX),
            cpu_us: sys::process_cpu_time().as_micros() as u64,
            late_sum_us: shared.late_sum_us.load(Ordering::Relaxed),
            max_late_us: shared.max_late_us.swap(0, Ordering::Relaxed),
            rcvbuf,
            sndbuf,
        };
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{}", stats.to_line());
        let _ = out.flush();
    });

    match serve(mio::net::UdpSocket::from_std(socket), delay, &counters) {
        Ok(()) => std::process::exit(0),
        Err(e) => fail(&format!("DNS responder: {e}")),
    }
}

/// The kernel's count of datagrams dropped for our socket: the last
/// column of its line in `/proc/self/net/udp` (found by local port).
fn kernel_drops(port: u16) -> Option<u64> {
    let table = std::fs::read_to_string("/proc/self/net/udp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .find(|line| line.split_whitespace().nth(1) == Some(local.as_str()))
        .and_then(|line| line.split_whitespace().last()?.parse().ok())
}

/// One answer waiting for its due time.
struct Due {
    at: Instant,
    to: SocketAddr,
    reply: Vec<u8>,
}

/// Answers queries on `socket` until the process exits.
fn serve(mut socket: mio::net::UdpSocket, delay: Duration, counters: &Counters) -> io::Result<()> {
    const SOCKET: Token = Token(0);
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut socket, SOCKET, Interest::READABLE)?;
    let mut events = Events::with_capacity(16);
    let mut queue: VecDeque<Due> = VecDeque::with_capacity(16_384);
    // Reply buffers are reused, so a steady state allocates nothing.
    let mut spare: Vec<Vec<u8>> = Vec::new();
    let mut buf = vec![0u8; 65_535];
    // Nothing left to read until the next readiness edge.
    let mut drained = true;
    // A send would block: try again in a millisecond.
    let mut send_blocked = false;
    loop {
        if drained {
            let timeout = if send_blocked {
                Some(Duration::from_millis(1))
            } else {
                queue
                    .front()
                    .map(|due| due.at.saturating_duration_since(Instant::now()))
            };
            match poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            if !events.is_empty() {
                drained = false;
            }
        }

        // Receive a batch of queries: each answer falls due `delay` from now.
        for _ in 0..BATCH {
            if drained {
                break;
            }
            match socket.recv_from(&mut buf) {
                Ok((n, from)) => {
                    counters.received.fetch_add(1, Ordering::Relaxed);
                    let mut reply = spare.pop().unwrap_or_default();
                    if dns_wire::respond(&buf[..n], &mut reply) {
                        queue.push_back(Due {
                            at: Instant::now() + delay,
                            to: from,
                            reply,
                        });
                    } else {
                        counters.malformed.fetch_add(1, Ordering::Relaxed);
                        spare.push(reply);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => drained = true,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    // An ICMP error for an earlier answer (a client gone):
                    // not ours to fix; keep reading.
                    log_once(&format!("DNS responder: recv: {e}"));
                }
            }
        }

        // Send the answers that are due, a batch at a time while queries
        // wait to be read (the rest go on the next turn: the poll's
        // timeout is then zero).
        send_blocked = false;
        let now = Instant::now();
        let mut sent = 0;
        while let Some(due) = queue.front() {
            if due.at > now || (sent == BATCH && !drained) {
                break;
            }
            sent += 1;
            match socket.send_to(&due.reply, due.to) {
                Ok(_) => {
                    counters.answered.fetch_add(1, Ordering::Relaxed);
                    let late = due.at.elapsed().as_micros() as u64;
                    counters.late_sum_us.fetch_add(late, Ordering::Relaxed);
                    counters.max_late_us.fetch_max(late, Ordering::Relaxed);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    send_blocked = true;
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    counters.send_errors.fetch_add(1, Ordering::Relaxed);
                    log_once(&format!("DNS responder: send to {}: {e}", due.to));
                }
            }
            if let Some(sent) = queue.pop_front() {
                spare.push(sent.reply);
            }
        }
    }
}

/// Prints `msg` to stderr the first time only: a steady error must not
/// flood the bench's output.
fn log_once(msg: &str) {
    static LOGGED: std::sync::Once = std::sync::Once::new();
    LOGGED.call_once(|| eprintln!("{msg} (further errors not shown)"));
}
