//! A wake from another thread unblocks a loop that waits with no timeout.
mod support;

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use fetch_headers::runtime::Runtime;

#[derive(Default)]
struct Slot {
    value: Option<u32>,
    waker: Option<Waker>,
}

#[test]
fn wake_from_another_thread_unblocks_the_loop() {
    support::with_deadline(Duration::from_secs(20), || {
        let rt = Runtime::new().unwrap();
        let slot = Arc::new(Mutex::new(Slot::default()));
        let theirs = slot.clone();
        let worker = thread::spawn(move || {
            // Wait until the loop has parked its waker, then answer.
            loop {
                let mut slot = theirs.lock().unwrap();
                if let Some(waker) = slot.waker.take() {
                    slot.value = Some(7);
                    drop(slot);
                    waker.wake();
                    return;
                }
                drop(slot);
                thread::sleep(Duration::from_millis(5));
            }
        });
        // Nothing else is pending: the loop blocks in epoll_wait with no
        // timeout until the worker's wake pokes it.
        let value = rt.block_on(poll_fn(|cx| {
            let mut slot = slot.lock().unwrap();
            match slot.value {
                Some(v) => Poll::Ready(v),
                None => {
                    slot.waker = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        }));
        worker.join().unwrap();
        assert_eq!(value, 7);
        assert!(rt.stats().polls_blocking >= 1, "the loop did block");
    });
}
