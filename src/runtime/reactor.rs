//! The reactor: turns mio readiness events into task wakeups.
//!
//! Every nonblocking socket is registered with one `mio::Poll` (epoll on
//! Linux) under a [`Token`] that packs a slot key: index and generation (see
//! [`super::slab`]). The slot remembers what the OS last said about the socket
//! (its *readiness*: readable, writable, closed, error) and the wakers of the
//! task waiting to read and the task waiting to write.
//!
//! Registration is **edge-triggered**: epoll reports a socket when it *becomes*
//! readable, not while it *is* readable. So a leaf future that is told
//! "readable" must read until the OS says `WouldBlock`, and only then clear the
//! readiness bit and wait for the next edge. Readiness is only a hint: a
//! spurious event just makes a read return `WouldBlock` once more.
//!
//! Python's selector event loop keeps the same table (`_selector` maps each fd
//! to its reader and writer callbacks); here the "callback" is a waker.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mio::event::Source;
use mio::{Events, Interest, Token};

use super::slab::{Key, Slab};
use super::waker::store_waker;

/// The token of the `mio::Waker` that other threads use to wake the loop.
pub(crate) const WAKE_TOKEN: Token = Token(usize::MAX);

/// Which half of a socket a leaf future waits on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Waiting to read (or accept).
    Read,
    /// Waiting to write (or for a connect to finish).
    Write,
}

impl Direction {
    /// The bits that make a socket ready in this direction: data (or room),
    /// or the peer's close, which the next syscall will report.
    fn ready_mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }
}

/// How a leaf future learnt that a socket has nothing more for it right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drained {
    /// The syscall said `WouldBlock`: forget all readiness in the direction.
    WouldBlock,
    /// A read or write moved fewer bytes than asked: the receive queue is
    /// empty (or the send buffer full) at this moment. A close that was
    /// already reported stays, because a close is final: the next read
    /// returns EOF at once, and no new edge would come to say so.
    Short,
}

const READABLE: u8 = 0b0001;
const WRITABLE: u8 = 0b0010;
const READ_CLOSED: u8 = 0b0100;
const WRITE_CLOSED: u8 = 0b1000;

/// What the reactor knows about one registered socket.
#[derive(Default)]
struct ScheduledIo {
    readiness: u8,
    reader: Option<Waker>,
    writer: Option<Waker>,
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("readiness", &self.readiness)
            .field("reader", &self.reader.is_some())
            .field("writer", &self.writer.is_some())
            .finish()
    }
}

/// The OS poller and the registered sockets.
pub(crate) struct Reactor {
    /// Borrowed mutably only inside `epoll_wait` ([`Reactor::poll`]); a
    /// registration borrows it shared through its registry, which never
    /// overlaps, since no task runs during a poll. (A cloned registry would
    /// cost a second descriptor, a `dup` of the epoll fd.)
    poll: RefCell<mio::Poll>,
    events: RefCell<Events>,
    sources: RefCell<Slab<ScheduledIo>>,
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.sources.borrow().len())
            .finish()
    }
}

/// What one call to [`Reactor::poll`] saw.
#[derive(Debug, Default)]
pub(crate) struct PollOutcome {
    /// Socket events dispatched to wakers.
    pub(crate) events: usize,
    /// Events whose token named a slot that was since freed.
    pub(crate) stale: usize,
    /// True if another thread woke the loop.
    pub(crate) remote_wake: bool,
}

impl Reactor {
    /// Creates the poller; `events_capacity` bounds how many events one
    /// `epoll_wait` returns.
    pub(crate) fn new(events_capacity: usize) -> io::Result<Reactor> {
        let poll = mio::Poll::new()?;
        Ok(Reactor {
            poll: RefCell::new(poll),
            events: RefCell::new(Events::with_capacity(events_capacity)),
            sources: RefCell::new(Slab::new()),
        })
    }

    /// Creates the `mio::Waker` other threads use to wake the loop.
    pub(crate) fn waker(&self, token: Token) -> io::Result<mio::Waker> {
        mio::Waker::new(self.poll.borrow().registry(), token)
    }

    /// Number of registered sockets.
    pub(crate) fn len(&self) -> usize {
        self.sources.borrow().len()
    }

    /// Registers `source` for both directions, edge-triggered, and returns
    /// the key its events will carry.
    pub(crate) fn register(&self, source: &mut impl Source) -> io::Result<Key> {
        let key = self.sources.borrow_mut().insert(ScheduledIo::default());
        let token = Token(key.to_usize());
        if let Err(e) = self.poll.borrow().registry().register(
            source,
            token,
            Interest::READABLE | Interest::WRITABLE,
        ) {
            self.sources.borrow_mut().remove(key);
            return Err(e);
        }
        Ok(key)
    }

    /// Frees the slot of a source that is about to be closed (closing
    /// removes it from epoll). Its key goes stale, so a late event can never
    /// wake whoever reuses the slot.
    pub(crate) fn release(&self, key: Key) {
        let removed = self.sources.borrow_mut().remove(key);
        drop(removed); // wakers dropped with the borrow released
    }

    /// Stores the waker for `direction`, then reports whether the socket is
    /// ready in that direction. Storing first and checking second means an
    /// event can never fall between the check and the store.
    pub(crate) fn poll_ready(
        &self,
        key: Key,
        direction: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut sources = self.sources.borrow_mut();
        let Some(io) = sources.get_mut(key) else {
            // Deregistered under us: report ready so the syscall returns the error.
            return Poll::Ready(());
        };
        let slot = match direction {
            Direction::Read => &mut io.reader,
            Direction::Write => &mut io.writer,
        };
        store_waker(slot, cx);
        if io.readiness & direction.ready_mask() != 0 {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }

    /// Forgets readiness once the socket is known to be drained in
    /// `direction` (see [`Drained`]): the next edge from epoll sets it again.
    ///
    /// tokio tags readiness with a tick and refuses to clear it if an event
    /// arrived since the syscall (`ScheduledIo::clear_readiness`), because
    /// its events are dispatched on another thread while a task runs. Here
    /// events are dispatched only inside [`Reactor::poll`], on the loop
    /// thread, never while a task is between its syscall and this call, so
    /// clearing unconditionally cannot lose an event: one that arrives after
    /// the syscall sets the bit again at the next poll.
    pub(crate) fn clear_readiness(&self, key: Key, direction: Direction, drained: Drained) {
        let mask = match drained {
            Drained::WouldBlock => direction.ready_mask(),
            Drained::Short => direction.ready_mask() & (READABLE | WRITABLE),
        };
        if let Some(io) = self.sources.borrow_mut().get_mut(key) {
            io.readiness &= !mask;
        }
    }

    /// Waits up to `timeout` (`None`: for ever) for events and wakes the tasks
    /// they concern.
    pub(crate) fn poll(&self, timeout: Option<Duration>) -> io::Result<PollOutcome> {
        let mut events = self.events.borrow_mut();
        match self.poll.borrow_mut().poll(&mut events, timeout) {
            Ok(()) => {}
            // A signal interrupted epoll_wait: a turn with no events.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(PollOutcome::default()),
            Err(e) => return Err(e),
        }
        let mut outcome = PollOutcome::default();
        for event in events.iter() {
            if event.token() == WAKE_TOKEN {
                outcome.remote_wake = true;
                continue;
            }
            log::trace!(
                "event token={:#x} readable={} writable={} closed={} error={}",
                event.token().0,
                event.is_readable(),
                event.is_writable(),
                event.is_read_closed() || event.is_write_closed(),
                event.is_error()
            );
            let mut bits = 0;
            if event.is_readable() {
                bits |= READABLE;
            }
            if event.is_writable() {
                bits |= WRITABLE;
            }
            if event.is_read_closed() {
                bits |= READ_CLOSED;
            }
            if event.is_write_closed() {
                bits |= WRITE_CLOSED;
            }
            // An error is final too, and the next syscall either way reports it.
            if event.is_error() {
                bits |= READ_CLOSED | WRITE_CLOSED;
            }
            if self.dispatch(Key::from_usize(event.token().0), bits) {
                outcome.events += 1;
            } else {
                outcome.stale += 1;
                log::trace!("  stale: that socket is gone");
            }
        }
        Ok(outcome)
    }

    /// Records readiness `bits` for `key` and wakes the waiting tasks.
    /// Returns `false` for a stale key: that event belonged to a socket that
    /// has been dropped, and whoever now holds the slot must not hear of it.
    fn dispatch(&self, key: Key, bits: u8) -> bool {
        let mut sources = self.sources.borrow_mut();
        let Some(io) = sources.get_mut(key) else {
            return false;
        };
        io.readiness |= bits;
        // Waking only queues the task; no task code runs inside dispatch.
        if bits & Direction::Read.ready_mask() != 0 {
            if let Some(waker) = &io.reader {
                waker.wake_by_ref();
            }
        }
        if bits & Direction::Write.ready_mask() != 0 {
            if let Some(waker) = &io.writer {
                waker.wake_by_ref();
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);
    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Checklist item 3: an event for a dropped socket must not wake the
    /// socket that reused its slot.
    #[test]
    fn stale_token_never_wakes_a_new_socket() {
        let reactor = Reactor::new(16).unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut old = mio::net::TcpStream::connect(addr).unwrap();
        let old_key = reactor.register(&mut old).unwrap();
        reactor.release(old_key);
        drop(old);

        let mut new = mio::net::TcpStream::connect(addr).unwrap();
        let new_key = reactor.register(&mut new).unwrap();
        assert_eq!(new_key.index, old_key.index, "the slot is reused");

        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        let waker = Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        reactor.clear_readiness(new_key, Direction::Read, Drained::WouldBlock);
        assert!(reactor
            .poll_ready(new_key, Direction::Read, &mut cx)
            .is_pending());

        assert!(!reactor.dispatch(old_key, READABLE), "stale event refused");
        assert_eq!(counter.0.load(Ordering::SeqCst), 0);
        assert!(reactor
            .poll_ready(new_key, Direction::Read, &mut cx)
            .is_pending());

        assert!(reactor.dispatch(new_key, READABLE));
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(reactor
            .poll_ready(new_key, Direction::Read, &mut cx)
            .is_ready());
    }
}
