//! How much of a response head we are willing to hold.

/// Bounds on one response, so a hostile or broken server cannot make us
/// buffer without end. Exceeding one gives [`HeadError::TooLarge`].
///
/// A response is its interim `1xx` heads and its final head, and the byte
/// and line limits cover all of them together: a server cannot renew them
/// by sending one more `100 Continue`. Only [`max_line`](Self::max_line)
/// is about a single line.
///
/// [`HeadError::TooLarge`]: super::HeadError::TooLarge
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line, in bytes, not counting its line ending. The default,
    /// 64 KiB, is asyncio's default stream `limit` (`2**16`), which bounds
    /// the seed's `readline()` the same way.
    pub max_line: usize,
    /// Largest response, in bytes: every head's lines, line endings and
    /// final empty line included. Default 256 KiB. The parser never
    /// buffers more, and never grows its buffer past it (though a buffer
    /// it takes from the thread's pool of emptied head buffers may already
    /// be larger, up to 4 KiB).
    pub max_head: usize,
    /// Most lines in the response, each head's status line included and the
    /// empty lines that end heads not. Default 1,000.
    pub max_lines: usize,
    /// Most interim `1xx` heads before the final head. Default 10: a real
    /// server sends one `100 Continue`, perhaps a `103 Early Hints` or two,
    /// or a `102 Processing` every few seconds of a long operation, which
    /// makes a handful before the fetch's `max_time` (30 s by default)
    /// ends it anyway. One more is `too-large`: heads as short as
    /// `HTTP/1.1 100 Continue` would take ten thousand to reach the byte
    /// limit.
    pub max_interim: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_head: 256 * 1024,
            max_lines: 1000,
            max_interim: 10,
        }
    }
}
