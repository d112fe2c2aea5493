//! Locking that survives a panicked holder.
//!
//! The loop shares a few small structures with other threads (the remote
//! wake queue, the channels to the input and output threads, the DNS
//! workers' cache). If a thread panics while holding one of their locks,
//! `Mutex::lock` reports the lock as poisoned from then on. Every structure
//! behind these locks is a plain queue or map that a panic cannot leave
//! half-written (each update is one push, pop or insert), so the right
//! response is to carry on with the data, not to spread the panic to the
//! loop.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning (see the module docs for why that is
/// safe here).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
