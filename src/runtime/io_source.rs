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
use super::reactor::Direction;
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
                    self.core.reactor.clear_readiness(self.key, direction);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Forgets readiness in `direction`: for a caller that found out by other
    /// means (a connect still in progress) that the socket is not ready.
    pub(crate) fn clear_readiness(&self, direction: Direction) {
        self.core.reactor.clear_readiness(self.key, direction);
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        // `self.io` is dropped (closed) right after this.
        self.core.reactor.release(self.key);
    }
}
