//! A minimal slab: a `Vec` of slots plus a free list of vacant indices.
//!
//! The raw mio client and the bench server keep one entry per connection
//! here and use the slot index as the connection's `mio::Token`, so an event
//! finds its connection with one array index and a closed connection's slot
//! is reused by the next one without allocating.

/// Slots holding `T`, addressed by index.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<usize>,
    len: usize,
}

impl<T> Slab<T> {
    /// An empty slab with room for `capacity` entries before it grows.
    pub fn with_capacity(capacity: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Stores `value` and returns its index: a vacant slot if there is one,
    /// a new slot at the end otherwise.
    pub fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(value);
                index
            }
            None => {
                self.slots.push(Some(value));
                self.slots.len() - 1
            }
        }
    }

    /// The entry at `index`, if that slot is occupied.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut T> {
        self.slots.get_mut(index).and_then(Option::as_mut)
    }

    /// The index the next [`insert`](Self::insert) will return, so a caller
    /// can register a socket under its token before storing it.
    pub fn next_index(&self) -> usize {
        self.free.last().copied().unwrap_or(self.slots.len())
    }

    /// Takes the entry out of slot `index` and marks the slot vacant.
    pub fn remove(&mut self, index: usize) -> Option<T> {
        let value = self.slots.get_mut(index)?.take()?;
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// Drops every entry and returns how many there were.
    pub fn clear(&mut self) -> usize {
        let count = self.len;
        self.slots.clear();
        self.free.clear();
        self.len = 0;
        count
    }

    /// Number of occupied slots.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if no slot is occupied.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}
