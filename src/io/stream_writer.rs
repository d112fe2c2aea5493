//! `StreamWriter`: buffered, never-blocking writes with `drain` back-pressure.

use std::cell::RefCell;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use crate::net::TcpStream;
use crate::runtime;

/// Above this many buffered bytes `drain` waits (asyncio's default high-water
/// mark, 64 KiB).
pub const DEFAULT_HIGH_WATER: usize = 64 * 1024;
/// `drain` resumes once the buffer is back to this many bytes (high / 4).
pub const DEFAULT_LOW_WATER: usize = DEFAULT_HIGH_WATER / 4;

/// What the writer and its flusher task share.
#[derive(Default)]
struct State {
    /// Bytes accepted by `write` but not yet taken by the socket.
    pending: Vec<u8>,
    high: usize,
    low: usize,
    /// A flusher task is sending `pending`.
    flushing: bool,
    /// `close` was called: no more writes; shut down once flushed.
    closing: bool,
    /// The socket was shut down.
    closed: bool,
    /// Why the connection was lost, if it was. Shared, because every later
    /// `drain` and `wait_closed` reports it again.
    lost: Option<Arc<io::Error>>,
    /// Tasks in `drain` or `wait_closed`.
    waiters: Vec<Waker>,
}

impl State {
    fn wake_all(&mut self) {
        for waker in self.waiters.drain(..) {
            waker.wake();
        }
    }

    /// The loss error, again: same kind and message, and the original as
    /// its source.
    fn lost_error(&self) -> Option<io::Error> {
        self.lost
            .as_ref()
            .map(|lost| io::Error::new(lost.kind(), Arc::clone(lost)))
    }

    fn lose(&mut self, error: io::Error) {
        if self.lost.is_none() {
            self.lost = Some(Arc::new(error));
        }
        self.pending = Vec::new();
        self.wake_all();
    }
}

/// The writing half of a connection: asyncio's `StreamWriter` plus the
/// buffering of its transport.
///
/// `write` sends what the socket takes now and buffers the rest without
/// bound; a flusher task (spawned only while something is buffered) sends
/// it as the socket drains. `drain` waits while the buffer is above the
/// high-water mark, until it is back to the low-water mark.
///
/// Differences from asyncio, on purpose: writes after `close` or after the
/// connection was lost are dropped silently, with a debug log instead of
/// asyncio's warning after five of them.
pub struct StreamWriter {
    stream: Rc<TcpStream>,
    state: Rc<RefCell<State>>,
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("StreamWriter")
            .field("buffered", &state.pending.len())
            .field("closing", &state.closing)
            .field("lost", &state.lost)
            .finish()
    }
}

impl StreamWriter {
    /// A writer over `stream` with the default water marks.
    pub fn new(stream: Rc<TcpStream>) -> StreamWriter {
        let state = State {
            high: DEFAULT_HIGH_WATER,
            low: DEFAULT_LOW_WATER,
            ..State::default()
        };
        StreamWriter {
            stream,
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Sets the water marks: asyncio's `set_write_buffer_limits(high, low)`.
    /// `low` defaults to `high / 4`; a `low` above `high` is clamped to it.
    pub fn set_write_buffer_limits(&mut self, high: usize, low: Option<usize>) {
        let mut state = self.state.borrow_mut();
        state.high = high;
        state.low = low.unwrap_or(high / 4).min(high);
    }

    /// Bytes buffered and not yet sent: `transport.get_write_buffer_size()`.
    pub fn buffer_size(&self) -> usize {
        self.state.borrow().pending.len()
    }

    /// True once `close` was called or the connection was lost.
    pub fn is_closing(&self) -> bool {
        let state = self.state.borrow();
        state.closing || state.lost.is_some()
    }

    /// Queues `data` for sending; never waits: `writer.write(data)`.
    pub fn write(&self, data: &[u8]) {
        let mut state = self.state.borrow_mut();
        if state.closing || state.lost.is_some() {
            log::debug!("write of {} bytes after close or loss dropped", data.len());
            return;
        }
        let mut rest = data;
        if state.pending.is_empty() {
            // Nothing queued ahead of us: try the socket at once.
            match self.stream.try_write(data) {
                Ok(n) => rest = &data[n..],
                Err(e) => return state.lose(e),
            }
        }
        if !rest.is_empty() {
            state.pending.extend_from_slice(rest);
            self.start_flusher(&mut state);
        }
    }

    /// Spawns the task that sends `pending` as the socket drains.
    fn start_flusher(&self, state: &mut State) {
        if state.flushing {
            return;
        }
        state.flushing = true;
        let stream = self.stream.clone();
        let shared = self.state.clone();
        runtime::spawn_detached(async move { flush(&stream, &shared).await });
    }

    /// Waits until the buffer is small enough to write more: `await
    /// writer.drain()`. Returns at once, without yielding, when the buffer
    /// is at or below the high-water mark. Fails with `ConnectionReset`
    /// ("Connection lost") if the connection was lost.
    pub async fn drain(&self) -> io::Result<()> {
        let mut waiting = false;
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.lost.is_some() {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "Connection lost",
                )));
            }
            let limit = if waiting { state.low } else { state.high };
            if state.pending.len() <= limit {
                return Poll::Ready(Ok(()));
            }
            waiting = true;
            state.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }

    /// Closes the connection once everything buffered is sent:
    /// `writer.close()`. Synchronous and idempotent.
    pub fn close(&self) {
        let mut state = self.state.borrow_mut();
        if state.closing {
            return;
        }
        state.closing = true;
        if state.pending.is_empty() && !state.flushing {
            shut_down(&self.stream, &mut state);
        }
    }

    /// Waits until `close` has flushed and closed the socket:
    /// `await writer.wait_closed()`. Re-raises the error that lost the
    /// connection, if one did.
    pub async fn wait_closed(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if let Some(error) = state.lost_error() {
                return Poll::Ready(Err(error));
            }
            if state.closed {
                return Poll::Ready(Ok(()));
            }
            state.waiters.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

fn shut_down(stream: &TcpStream, state: &mut State) {
    if let Err(e) = stream.shutdown(Shutdown::Both) {
        state.lose(e);
    }
    state.closed = true;
    state.wake_all();
}

/// The flusher task: sends `pending` until it is empty, waking `drain`ers
/// as the buffer passes the low-water mark, and closes if asked to.
async fn flush(stream: &TcpStream, shared: &RefCell<State>) {
    poll_fn(|cx| loop {
        let mut state = shared.borrow_mut();
        if state.lost.is_some() {
            state.flushing = false;
            return Poll::Ready(());
        }
        if state.pending.is_empty() {
            state.flushing = false;
            if state.closing {
                shut_down(stream, &mut state);
            }
            return Poll::Ready(());
        }
        match stream.poll_write(cx, &state.pending) {
            Poll::Ready(Ok(n)) => {
                state.pending.drain(..n);
                if state.pending.len() <= state.low {
                    state.wake_all();
                }
            }
            Poll::Ready(Err(e)) => state.lose(e),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}
