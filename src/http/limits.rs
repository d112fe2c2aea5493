//! How much of a response head we are willing to hold.

/// Bounds on a response head, so a hostile or broken server cannot make us
/// buffer without end. Exceeding one gives [`HeadError::TooLarge`].
///
/// [`HeadError::TooLarge`]: super::HeadError::TooLarge
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, in bytes, not counting its line ending. The default,
    /// 64 KiB, is asyncio's default stream `limit` (`2**16`), which bounds
    /// the seed's `readline()` the same way.
    pub max_line: usize,
    /// Largest head, in bytes, line endings and the final empty line
    /// included. Default 256 KiB. The parser's buffer never grows past it.
    pub max_head: usize,
    /// Most lines, the status line included and the final empty line not.
    /// Default 1,000.
    pub max_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_head: 256 * 1024,
            max_lines: 1000,
        }
    }
}
