//! A few emptied head buffers kept on each thread for the next head.
//!
//! Every fetch reads one head, and a head owns two buffers: its bytes
//! ([`ResponseHead::raw`](super::ResponseHead::raw)) and the spans of its
//! fields. Made new for each fetch and freed when its outcome has been
//! reported, they cost two `malloc`s and two `free`s per fetch. Instead, a
//! [`HeadParser`](super::HeadParser) takes its buffer from here when it
//! starts a head, the head's parse takes the spans' buffer from here, and
//! a dropped [`ResponseHead`](super::ResponseHead) (or a parser dropped
//! mid-head) gives both back, emptied, for the next fetch on the same
//! thread. A fetch's head is made and dropped on the loop thread, so in
//! the command the same few buffers carry every head of the run. (Python
//! has no such thing to point to; it is the free list an allocator keeps,
//! kept here for one size of buffer.)
//!
//! Invariant: the pool's memory is bounded whatever the peers send. At
//! most [`KEEP`] buffers of each kind are kept, and a buffer that grew past
//! [`MAX_BYTES`] or [`MAX_FIELDS`] (a huge head) is freed, not kept. A
//! thread's pool goes when the thread ends.

use std::cell::RefCell;

use super::head::Field;

/// Buffers of each kind kept at most, on each thread: enough for the heads
/// that finish in one turn of a busy loop, and at most
/// `KEEP * (MAX_BYTES + MAX_FIELDS * size_of::<Field>())`, 160 KiB, held.
const KEEP: usize = 32;

/// Largest capacity of a head's bytes that is kept: a head's buffer starts
/// at 1 KiB and doubles as it grows, so this keeps the buffers of heads up
/// to 4 KiB, which is nearly all of them.
const MAX_BYTES: usize = 4 * 1024;

/// Largest capacity of a list of spans that is kept, in fields.
const MAX_FIELDS: usize = 32;

/// The emptied buffers of one thread.
struct Pool {
    bytes: Vec<Vec<u8>>,
    fields: Vec<Vec<Field>>,
}

thread_local! {
    static POOL: RefCell<Pool> = const {
        RefCell::new(Pool {
            bytes: Vec::new(),
            fields: Vec::new(),
        })
    };
}

/// An empty buffer for a head's bytes: a kept one (with its capacity), or
/// a new one with none.
pub(super) fn take_bytes() -> Vec<u8> {
    with_pool(|pool| pool.bytes.pop())
        .flatten()
        .unwrap_or_default()
}

/// An empty list for a head's field spans: a kept one, or a new one.
pub(super) fn take_fields() -> Vec<Field> {
    with_pool(|pool| pool.fields.pop())
        .flatten()
        .unwrap_or_default()
}

/// Keeps a head's buffers, emptied, for the next head, if they are small
/// enough and there is room; frees them otherwise.
pub(super) fn give_back(mut bytes: Vec<u8>, mut fields: Vec<Field>) {
    let keep_bytes = (1..=MAX_BYTES).contains(&bytes.capacity());
    let keep_fields = (1..=MAX_FIELDS).contains(&fields.capacity());
    if !keep_bytes && !keep_fields {
        return;
    }
    bytes.clear();
    fields.clear();
    with_pool(|pool| {
        if keep_bytes && pool.bytes.len() < KEEP {
            pool.bytes.push(bytes);
        }
        if keep_fields && pool.fields.len() < KEEP {
            pool.fields.push(fields);
        }
    });
}

/// Runs `f` on this thread's pool; `None` when the pool cannot be had: the
/// thread is ending and its pool is gone already (a head dropped by another
/// thread-local's destructor), or it is in use (which cannot happen, as
/// `f` never calls back here). Then the caller does without it.
fn with_pool<T>(f: impl FnOnce(&mut Pool) -> T) -> Option<T> {
    POOL.try_with(|pool| pool.try_borrow_mut().ok().map(|mut pool| f(&mut pool)))
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    //! The pool's bounds, which no public API shows.

    use super::{give_back, take_bytes, with_pool, KEEP, MAX_BYTES, MAX_FIELDS};

    fn kept() -> (usize, usize) {
        with_pool(|pool| (pool.bytes.len(), pool.fields.len())).unwrap_or_default()
    }

    /// Runs `f` on a new thread, whose pool starts empty.
    fn on_a_new_thread(f: fn()) {
        assert!(std::thread::spawn(f).join().is_ok());
    }

    #[test]
    fn at_most_keep_buffers_are_kept_and_large_ones_are_freed() {
        on_a_new_thread(|| {
            assert_eq!(kept(), (0, 0));
            for _ in 0..3 * KEEP {
                give_back(Vec::with_capacity(1024), Vec::with_capacity(8));
            }
            assert_eq!(kept(), (KEEP, KEEP));
        });
        on_a_new_thread(|| {
            give_back(
                Vec::with_capacity(MAX_BYTES + 1),
                Vec::with_capacity(MAX_FIELDS + 1),
            );
            assert_eq!(kept(), (0, 0), "buffers over the caps are freed");
            give_back(Vec::new(), Vec::new());
            assert_eq!(kept(), (0, 0), "empty vectors are not worth keeping");
        });
    }

    #[test]
    fn a_buffer_comes_back_empty_with_its_capacity() {
        on_a_new_thread(|| {
            let mut bytes = Vec::with_capacity(1024);
            bytes.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
            give_back(bytes, Vec::new());
            let again = take_bytes();
            assert!(again.is_empty());
            assert!(again.capacity() >= 1024);
            assert_eq!(take_bytes().capacity(), 0, "only one was kept");
        });
    }

    #[test]
    fn giving_back_while_the_thread_ends_does_not_panic() {
        // A head dropped by another thread-local's destructor may find the
        // pool gone: it is freed instead.
        struct DropsAHead;
        impl Drop for DropsAHead {
            fn drop(&mut self) {
                give_back(Vec::with_capacity(64), Vec::with_capacity(4));
            }
        }
        thread_local! {
            static LATE: DropsAHead = const { DropsAHead };
        }
        let thread = std::thread::spawn(|| {
            // The pool first, then LATE: destructors may run in any order.
            give_back(Vec::with_capacity(64), Vec::new());
            LATE.with(|_| {});
        });
        assert!(thread.join().is_ok());
    }
}
