//! The thread-local "current loop".
//!
//! While `block_on` runs, its [`Core`] is installed in a thread-local, so
//! `spawn`, `sleep` and `TcpStream::connect` can find the running loop without
//! being handed it: Python's `asyncio.get_running_loop()`.

use std::cell::RefCell;
use std::rc::Rc;

use super::core::Core;

thread_local! {
    static CURRENT: RefCell<Option<Rc<Core>>> = const { RefCell::new(None) };
}

/// Runs `f` with the loop running on this thread, if there is one.
pub(crate) fn with_current<R>(f: impl FnOnce(&Rc<Core>) -> R) -> Option<R> {
    CURRENT.with(|current| current.borrow().as_ref().map(f))
}

/// The loop running on this thread.
///
/// # Panics
/// When called outside `Runtime::block_on`: that is a bug in the calling
/// program, like calling `asyncio.get_running_loop()` with no loop running.
pub(crate) fn current() -> Rc<Core> {
    with_current(Rc::clone).unwrap_or_else(|| {
        panic!("no fetch-headers runtime is running on this thread: call this inside Runtime::block_on")
    })
}

/// Marks `core` as this thread's running loop until the guard is dropped.
///
/// # Panics
/// If a loop is already running on this thread (asyncio: "This event loop is
/// already running"): a nested `block_on` would starve the outer loop.
pub(crate) fn enter(core: Rc<Core>) -> EnterGuard {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "a fetch-headers runtime is already running on this thread: block_on cannot be nested"
        );
        *current = Some(core);
    });
    EnterGuard(())
}

/// Uninstalls the current loop on drop, even when a task panics.
#[derive(Debug)]
pub(crate) struct EnterGuard(());

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Take the Rc out first, so it is dropped after the borrow ends.
        let core = CURRENT.with(|current| current.borrow_mut().take());
        drop(core);
    }
}
