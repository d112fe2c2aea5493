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

    /// There is nowhere to push the data to, so, as in Python, this only
    /// checks the buffer is open.
    pub(crate) fn flush(&self) -> Result<(), Error> {
        self.check_open()
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

/// Writes the public methods that are [`Buffer`]'s own, unchanged, into the
/// `impl` of [`StringIO`](super::StringIO) or [`BytesIO`](super::BytesIO), so
/// that the two types' signatures and docs cannot drift apart.
///
/// A macro rather than a trait, because they must stay inherent methods
/// (callers import no trait to call `close`), and no trait can add those.
/// `unit` is what a position counts, `holds` what the stream holds, and
/// `closed` the message CPython's type gives once closed.
macro_rules! buffer_methods {
    ($stream:ident, unit: $unit:literal, holds: $what:literal, closed: $closed:literal) => {
        #[doc = concat!("The position in ", $unit, ".")]
        pub fn tell(&self) -> Result<usize, $crate::files::Error> {
            self.buf.tell()
        }

        #[doc = concat!("Cuts the ", $what, " to `size` ", $unit, " (the position when `None`) and")]
        #[doc = concat!("returns `size`. It never extends the ", $what, " and never moves the")]
        #[doc = "position, so reuse a stream with `seek(0, Start)` then `truncate(None)`."]
        pub fn truncate(&mut self, size: Option<usize>) -> Result<usize, $crate::files::Error> {
            self.buf.truncate(size)
        }

        #[doc = concat!("Frees the ", $what, "; every later call fails with")]
        #[doc = concat!("`", $closed, "`.")]
        pub fn close(&mut self) {
            self.buf.close();
        }

        #[doc = concat!("Whether [`", stringify!($stream), "::close`] has been called.")]
        pub fn is_closed(&self) -> bool {
            self.buf.is_closed()
        }
    };
}

pub(super) use buffer_methods;
