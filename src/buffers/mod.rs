//! In-memory streams: Python's `io.StringIO` and `io.BytesIO`.
//!
//! Both keep CPython's cursor rules, which surprise people coming from
//! `std::io::Cursor`:
//!
//! - A stream built with an initial value starts at position 0, so the
//!   first write overwrites it (`StringIO("initial")` then `write("XY")`
//!   gives `"XYitial"`).
//! - Seeking past the end is allowed and changes nothing; a write there pads
//!   the gap with NULs.
//! - `truncate` never extends the data and never moves the position.
//! - After `close`, every call fails with `I/O operation on closed file`
//!   ([`ErrorKind::Closed`](crate::files::ErrorKind::Closed)).
//!
//! Both types are thin skins over one generic buffer; they differ only in
//! the item type (`char` or `u8`), in the seeks they accept, and in the
//! traits they implement. Errors are [`files::Error`](crate::files::Error),
//! the type of the whole Python-`io` stand-in.

mod bytes_io;
mod core;
mod string_io;

pub use bytes_io::BytesIO;
pub use string_io::StringIO;
