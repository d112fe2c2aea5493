//! `IoSource`: a mio socket registered with the running loop.
//!
//! This is the one seam between the runtime and the `net` layer (tokio calls
//! it `PollEvented`). It owns the socket and its registration, and runs every
//! syscall through [`IoSource::poll_io`], the pattern each leaf future
//! follows:
//!
//! 1. Store the task's waker, then check the readiness the reactor recorded.
//!    Not ready: return `Pending`; the next epoll edge wakes the task.
//! 2. Ready: make the syscall. Success or a real error ends the operation.
//! 3. `WouldBlock`: readiness was stale (edge-triggered epoll reports edges,
//!    so a socket stays "ready" until we drain it). Clear the bit and go back
//!    to step 1, which stores the waker and returns `Pending`.
//!
//! Reads and writes of a byte stream add one rule, in
//! [`IoSource::poll_transfer`], as tokio's `PollEvented` does: a transfer
//! that moves fewer bytes than asked for (a short read or write) also
//! clears the bit. On a TCP socket a short read means the receive queue is
//! empty right now and a short write that the send buffer is full, so the
//! next call would only hear `WouldBlock`; clearing at once saves that
//! syscall, and the next edge sets the bit again. A close the reactor has
//! already seen is not cleared (see `reactor::Drained`), so the EOF after a
//! short read is still read at once. Datagram sockets must not use this
//! rule: every datagram read is "short", and more may be queued.
//!
//! Dropping an `IoSource` frees its reactor slot, so the key goes stale and
//! no later event can reach whoever reuses the slot. The kernel side needs
//! no `epoll_ctl(DEL)`: closing the socket, which follows at once, removes
//! it from the epoll set (we never duplicate the descriptor), and that saves
//! one syscall per connection.

use std::fmt;
use std::io;
use std::rc::Rc;
use std::task::{Context, Poll};

use mio::event::Source;

use super::context;
use super::core::Core;
use super::reactor::{Direction, Drained};
use super::slab::Key;

/// A socket registered with the loop's reactor.
pub(crate) struct IoSource<S: Source> {
    io: S,
    key: Key,
    core: Rc<Core>,
}

impl<S: Source + fmt::Debug> fmt::Debug for IoSource<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoSource")
            .field("io", &self.io)
            .field("token", &self.key.to_usize())
            .finish()
    }
}

impl<S: Source> IoSource<S> {
    /// Registers `io` with the loop running on this thread.
    pub(crate) fn new(mut io: S) -> io::Result<IoSource<S>> {
        let core = context::current();
        let key = core.reactor.register(&mut io)?;
        Ok(IoSource { io, key, core })
    }

    /// The socket, for calls that need no readiness (addresses, options).
    pub(crate) fn get_ref(&self) -> &S {
        &self.io
    }

    /// The loop this socket is registered with.
    pub(crate) fn core(&self) -> &Rc<Core> {
        &self.core
    }

    /// Runs `op` once the socket is ready in `direction`, retrying on
    /// `WouldBlock` after the next readiness edge. See the module docs.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        if !self.core.take_budget(cx) {
            return Poll::Pending;
        }
        loop {
            if self
                .core
                .reactor
                .poll_ready(self.key, direction, cx)
                .is_pending()
            {
                return Poll::Pending;
            }
            match op(&self.io) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.core.counters.would_block.incr();
                    self.clear_readiness(direction, Drained::WouldBlock);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// [`IoSource::poll_io`] for a read or write of up to `len` bytes on a
    /// byte stream, with the short-transfer rule of the module docs.
    pub(crate) fn poll_transfer(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        let result = self.poll_io(direction, cx, op);
        // Zero bytes is EOF (for a read), which is no reason to wait.
        if let Poll::Ready(Ok(n)) = result {
            if n > 0 && n < len {
                self.clear_readiness(direction, Drained::Short);
            }
        }
        result
    }

    /// Forgets readiness in `direction`: for a caller that found out by other
    /// means (a connect still in progress, a `WouldBlock` of its own) that
    /// the socket is not ready.
    pub(crate) fn clear_readiness(&self, direction: Direction, drained: Drained) {
        self.core
            .reactor
            .clear_readiness(self.key, direction, drained);
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        // `self.io` is dropped (closed) right after this.
        self.core.reactor.release(self.key);
    }
}
