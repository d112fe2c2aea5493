//! The storage and cursor shared by [`StringIO`](super::StringIO) (over
//! `char`s) and [`BytesIO`](super::BytesIO) (over `u8`s).
//!
//! The invariant, from CPython: `pos` may be anywhere, even past the end of
//! `data`; nothing changes until a write there pads the gap with zeros
//! (NULs). Only the seek rules differ between the two types, so they live
//! with the types and everything else lives here.

use crate::files::Error;

/// A growable sequence with a free-roaming cursor and a closed flag.
#[derive(Debug, Clone)]
pub(crate) struct Buffer<T> {
    data: Vec<T>,
    pos: usize,
    closed: bool,
    /// CPython's message differs by one full stop between the two types.
    closed_message: &'static str,
}

impl<T: Copy + Default + PartialEq> Buffer<T> {
    /// Starts at position 0, so a first write overwrites `initial`.
    pub(crate) fn new(initial: Vec<T>, closed_message: &'static str) -> Buffer<T> {
        Buffer {
            data: initial,
            pos: 0,
            closed: false,
            closed_message,
        }
    }

    pub(crate) fn check_open(&self) -> Result<(), Error> {
        if self.closed {
            Err(Error::closed(self.closed_message))
        } else {
            Ok(())
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }

    pub(crate) fn tell(&self) -> Result<usize, Error> {
        self.check_open()?;
        Ok(self.pos)
    }

    /// Moves the cursor; the caller has applied its type's seek rules.
    pub(crate) fn set_position(&mut self, pos: usize) {
        self.pos = pos;
    }

    pub(crate) fn value(&self) -> Result<&[T], Error> {
        self.check_open()?;
        Ok(&self.data)
    }

    /// Overwrites from the cursor, extending as needed; a cursor past the
    /// end first pads the gap with `T::default()`.
    pub(crate) fn write(&mut self, items: &[T]) -> Result<usize, Error> {
        self.check_open()?;
        if self.pos > self.data.len() {
            self.data.resize(self.pos, T::default());
        }
        let overlap = items.len().min(self.data.len() - self.pos);
        self.data[self.pos..self.pos + overlap].copy_from_slice(&items[..overlap]);
        self.data.extend_from_slice(&items[overlap..]);
        self.pos += items.len();
        Ok(items.len())
    }

    /// The items between the cursor and the end, without moving the cursor.
    pub(crate) fn remaining(&self) -> &[T] {
        &self.data[self.pos.min(self.data.len())..]
    }

    /// Moves the cursor forward over `n` items already handed out.
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos += n;
    }

    /// Up to `n` items (all remaining when `None`).
    pub(crate) fn read(&mut self, n: Option<usize>) -> Result<Vec<T>, Error> {
        self.check_open()?;
        let rest = self.remaining();
        let out = rest[..n.unwrap_or(rest.len()).min(rest.len())].to_vec();
        self.advance(out.len());
        Ok(out)
    }

    /// Up to and including the next `newline`, at most `limit` items.
    pub(crate) fn readline(&mut self, limit: Option<usize>, newline: T) -> Result<Vec<T>, Error> {
        self.check_open()?;
        let rest = self.remaining();
        let rest = &rest[..limit.unwrap_or(rest.len()).min(rest.len())];
        let end = rest
            .iter()
            .position(|&item| item == newline)
            .map_or(rest.len(), |i| i + 1);
        let out = rest[..end].to_vec();
        self.advance(out.len());
        Ok(out)
    }

    /// Cuts the data at `size` (the cursor when `None`) and returns `size`.
    /// Never extends, and never moves the cursor.
    pub(crate) fn truncate(&mut self, size: Option<usize>) -> Result<usize, Error> {
        self.check_open()?;
        let size = size.unwrap_or(self.pos);
        self.data.truncate(size);
        Ok(size)
    }

    /// Frees the data; every later call fails. Closing twice is allowed.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.data = Vec::new();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }
}
