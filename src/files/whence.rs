//! The reference point of a seek: Python's `whence` argument.

/// Where a seek offset counts from (`os.SEEK_SET`, `SEEK_CUR`, `SEEK_END`).
///
/// Seeks take an `i64` offset plus a `Whence` rather than
/// [`std::io::SeekFrom`] so that Python's negative absolute offsets, and the
/// errors they raise, can be expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Whence {
    /// From the start (`whence=0`, the default).
    #[default]
    Start,
    /// From the current position (`whence=1`).
    Current,
    /// From the end (`whence=2`).
    End,
}
