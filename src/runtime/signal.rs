//! Signals as readiness on the loop (checklist item 12): a signal such as
//! SIGINT becomes a byte on a socket the reactor watches, and a task reads
//! it like any other socket.
//!
//! # Why a handler may only write a byte
//!
//! A signal handler runs on whatever thread the kernel picks, in the middle
//! of whatever that thread was doing: inside `malloc`, holding a lock,
//! half-way through a `RefCell` borrow of the loop's state. Only
//! *async-signal-safe* work is allowed there: storing to an atomic,
//! `write(2)` to a descriptor, `_exit(2)`. Allocating, locking, printing or
//! touching the loop can deadlock or corrupt memory. So the handler does
//! none of the work a signal asks for. It writes one byte into a socket
//! pair (the *self-pipe trick*), and the loop, which already waits on
//! descriptors, sees the other end turn readable: one more event in
//! `epoll_wait`, and the task waiting on it runs at an ordinary point of an
//! ordinary turn, where it may do anything.
//!
//! This is what asyncio's `loop.add_signal_handler(sig, callback)` does. It
//! calls `signal.set_wakeup_fd` with one end of a socket pair, so that
//! CPython's C-level handler writes the signal's number there; the selector
//! watches the other end, and `_read_from_self` runs the callback on the
//! loop. CPython's handler cannot run Python code either: it sets a flag
//! and writes that byte.
//!
//! Here [`signal_hook`] installs the handler (it chains several actions per
//! signal and keeps them async-signal-safe). We give it, per signal, the
//! write end of a nonblocking `UnixStream` pair; it writes a fixed byte, so
//! one pair per signal tells which signal came. The read ends are
//! registered with our reactor as [`IoSource`]s, and
//! [`Signals::poll_recv`] is a leaf future like a socket read.
//!
//! # A second signal
//!
//! A program that stops gracefully on SIGINT must still stop when the
//! graceful path hangs, or when the user does not want to wait: a second
//! Ctrl-C should end it at once. That cannot be left to the loop, which
//! may be the thing that is stuck. [`Signals::once`] arms it in the
//! handler itself, with two more async-signal-safe actions per signal: the
//! first runs the signal's default action (terminate) if a flag is set,
//! the last sets the flag. The first delivery finds the flag clear and
//! sets it; the next one terminates the process, exactly as if the signal
//! had never been caught, so the parent sees "killed by SIGINT".

use std::fmt;
use std::future::poll_fn;
use std::io::{self, Read};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::task::{Context, Poll};

use mio::net::UnixStream;
use signal_hook::{flag, low_level, SigId};

use super::io_source::IoSource;
use super::reactor::Direction;

/// Signals the process catches, delivered to the loop as readiness.
///
/// ```no_run
/// use fetch_headers::runtime::{signal_name, Runtime, Signals};
///
/// let rt = Runtime::new()?;
/// rt.block_on(async {
///     let signals = Signals::new(&[libc::SIGINT, libc::SIGTERM])?; // loop.add_signal_handler
///     let signal = signals.recv().await?;                          // the byte came: on the loop now
///     println!("stopping on {}", signal_name(signal).unwrap_or("a signal"));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// Deliveries that arrive between two reads of a signal's pair are reported
/// once, as the kernel itself merges a signal that is already pending.
///
/// Dropping `Signals` removes its actions. signal-hook cannot give a signal
/// its original disposition back, so from then on the signals are caught
/// and ignored: keep the value for as long as the program should react to
/// them.
pub struct Signals {
    /// For each signal: its number and the read end of its pair, registered
    /// with the loop's reactor.
    pipes: Vec<(i32, IoSource<UnixStream>)>,
    /// Every action registered with signal-hook, for `Drop` to remove.
    actions: Vec<SigId>,
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signals: Vec<i32> = self.pipes.iter().map(|(signal, _)| *signal).collect();
        f.debug_struct("Signals")
            .field("signals", &signals)
            .finish()
    }
}

impl Signals {
    /// Catches `signals`; every delivery is reported by [`Signals::recv`].
    /// Must be called inside `Runtime::block_on`.
    ///
    /// A signal that cannot be caught (SIGKILL, SIGSTOP, and the faults
    /// SIGSEGV, SIGILL, SIGFPE, which must keep killing) is an
    /// `InvalidInput` error.
    pub fn new(signals: &[i32]) -> io::Result<Signals> {
        Signals::catch(signals, false)
    }

    /// Catches `signals` once: the first delivery of any of them is
    /// reported by [`Signals::recv`], and from then on they have their
    /// default action back, so the next one ends the process at once, even
    /// while the loop is busy. This is the usual Ctrl-C contract: the first
    /// asks for a graceful stop, the second insists. Must be called inside
    /// `Runtime::block_on`.
    pub fn once(signals: &[i32]) -> io::Result<Signals> {
        Signals::catch(signals, true)
    }

    fn catch(signals: &[i32], once: bool) -> io::Result<Signals> {
        // Should anything fail half-way, dropping `caught` removes what
        // was registered so far.
        let mut caught = Signals {
            pipes: Vec::new(),
            actions: Vec::new(),
        };
        // Shared by every signal of the set: after the first of them, the
        // next of any of them takes its default action.
        let default_back = Arc::new(AtomicBool::new(false));
        for &signal in signals {
            if signal_hook::consts::FORBIDDEN.contains(&signal) {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("signal {signal} cannot be caught"),
                ));
            }
            // A signal's actions run in the order they were registered.
            if once {
                // 1. The default action, once armed (a no-op the first time).
                let id = flag::register_conditional_default(signal, default_back.clone())?;
                caught.actions.push(id);
            }
            // 2. One byte into the pair, for the loop.
            let (reader, writer) = UnixStream::pair()?;
            caught.pipes.push((signal, IoSource::new(reader)?));
            caught
                .actions
                .push(low_level::pipe::register(signal, writer)?);
            if once {
                // 3. Arm step 1 for the next delivery.
                caught
                    .actions
                    .push(flag::register(signal, default_back.clone())?);
            }
        }
        Ok(caught)
    }

    /// Waits for one of the signals and returns its number.
    pub async fn recv(&self) -> io::Result<i32> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The leaf future behind [`Signals::recv`]: `Ready` with a signal
    /// whose pair had a byte to read, or `Pending` with the task's waker
    /// stored for every pair.
    pub fn poll_recv(&self, cx: &mut Context<'_>) -> Poll<io::Result<i32>> {
        for (signal, pipe) in &self.pipes {
            // Many deliveries may have queued many bytes: one read takes
            // them all (or the next call takes the rest; only `WouldBlock`
            // clears the readiness, as for any socket).
            let mut bytes = [0u8; 64];
            match pipe.poll_io(Direction::Read, cx, |stream| (&*stream).read(&mut bytes)) {
                Poll::Pending => continue,
                Poll::Ready(Ok(0)) => {
                    // The write end lives in the handler until `Drop`.
                    let closed = io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the signal handler's socket closed",
                    );
                    return Poll::Ready(Err(closed));
                }
                Poll::Ready(Ok(_)) => return Poll::Ready(Ok(*signal)),
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            }
        }
        Poll::Pending
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        // The pairs' write ends go with their actions.
        for id in self.actions.drain(..) {
            low_level::unregister(id);
        }
    }
}

/// The name of signal number `signal` (`SIGINT`), if it has one.
pub fn signal_name(signal: i32) -> Option<&'static str> {
    low_level::signal_name(signal)
}
