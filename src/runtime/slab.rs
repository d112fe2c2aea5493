//! A slab with generations: the storage behind tasks and I/O registrations.
//!
//! Both the executor and the reactor hand out small integer keys (a task id, a
//! mio `Token`) and later get them back from somewhere they do not control: a
//! waker that outlived its task, an event for a socket that was just closed. A
//! plain index would then name whatever *new* value reused the slot. Each slot
//! therefore carries a generation that is bumped when the slot is freed, and a
//! [`Key`] only matches the slot while the generations agree, as the
//! generation bits of tokio's `ScheduledIo` token do. async-io solves the
//! same problem differently: it deregisters every source from epoll
//! (`epoll_ctl(DEL)`) before freeing its slot, so no event can name it
//! later. The generation is what lets us skip that syscall (see
//! `io_source.rs`). (async-io's own "tick" guards something else: an event
//! that predates the waker it would wake.)

/// A slot index plus the generation it was handed out in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

// `Key::to_usize` packs two `u32`s into one `usize`.
const _: () = assert!(usize::BITS == 64, "keys are packed into 64-bit tokens");

impl Key {
    /// Packs the key into a `usize`, as mio's `Token` wants.
    pub(crate) fn to_usize(self) -> usize {
        ((self.generation as usize) << 32) | self.index as usize
    }

    /// The inverse of [`Key::to_usize`].
    pub(crate) fn from_usize(raw: usize) -> Key {
        Key {
            index: raw as u32,
            generation: (raw >> 32) as u32,
        }
    }
}

#[derive(Debug)]
struct Entry<T> {
    generation: u32,
    value: Option<T>,
}

/// A vector of slots with a free list; freed slots are reused, stale keys are
/// recognised and refused.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Number of occupied slots.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The key the next [`Slab::insert`] will return, so a value can be built
    /// knowing its own key (a task's waker names its task).
    pub(crate) fn next_key(&self) -> Key {
        match self.free.last() {
            Some(&index) => Key {
                index,
                generation: self.entries[index as usize].generation,
            },
            None => Key {
                index: self.entries.len() as u32,
                generation: 0,
            },
        }
    }

    /// Stores `value` and returns the key that names it.
    pub(crate) fn insert(&mut self, value: T) -> Key {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let entry = &mut self.entries[index as usize];
            entry.value = Some(value);
            return Key {
                index,
                generation: entry.generation,
            };
        }
        let index = u32::try_from(self.entries.len()).expect("slab holds at most 2^32 entries");
        self.entries.push(Entry {
            generation: 0,
            value: Some(value),
        });
        Key {
            index,
            generation: 0,
        }
    }

    /// The value under `key`, unless the slot was freed (and perhaps reused)
    /// since the key was handed out.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.entries.get_mut(key.index as usize) {
            Some(entry) if entry.generation == key.generation => entry.value.as_mut(),
            _ => None,
        }
    }

    /// Frees the slot under `key` and returns its value. The generation is
    /// bumped so every outstanding copy of `key` goes stale.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        let entry = self.entries.get_mut(key.index as usize)?;
        if entry.generation != key.generation {
            return None;
        }
        let value = entry.value.take()?;
        entry.generation = entry.generation.wrapping_add(1);
        self.free.push(key.index);
        self.len -= 1;
        Some(value)
    }

    /// Takes every value out, freeing every slot (used at shutdown). The
    /// generations move on as in [`Slab::remove`].
    pub(crate) fn drain(&mut self) -> Vec<T> {
        let mut values = Vec::with_capacity(self.len);
        for (index, entry) in self.entries.iter_mut().enumerate() {
            if let Some(value) = entry.value.take() {
                entry.generation = entry.generation.wrapping_add(1);
                self.free.push(index as u32);
                values.push(value);
            }
        }
        self.len = 0;
        values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_key_never_reaches_a_reused_slot() {
        let mut slab = Slab::new();
        let old = slab.insert("old socket");
        assert_eq!(slab.remove(old), Some("old socket"));
        let new = slab.insert("new socket");
        assert_eq!(new.index, old.index, "the slot is reused");
        assert_ne!(new.generation, old.generation);
        assert_eq!(slab.get_mut(old), None, "the old key is refused");
        assert_eq!(slab.remove(old), None);
        assert_eq!(slab.get_mut(new).copied(), Some("new socket"));
        assert_eq!(Key::from_usize(new.to_usize()), new);
    }
}
