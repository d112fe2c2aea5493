//! Recording the loop's own work as time spans, for `--timeline`.
//!
//! Off by default: then each loop turn pays one branch. When on, each turn
//! adds two spans: the task-running part and the poll part.

use std::time::{Duration, Instant};

/// At most this many spans are kept (a long idle run turns the loop often).
pub const MAX_SPANS: usize = 1_000_000;

/// What the loop was doing during a span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    /// Running tasks.
    Run {
        /// Task polls in this span.
        tasks: usize,
    },
    /// Inside `epoll_wait`.
    Poll {
        /// The timeout the loop chose (`None`: wait for ever).
        timeout: Option<Duration>,
        /// Readiness events it returned.
        events: usize,
    },
}

/// One span of the loop's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopSpan {
    /// When it began.
    pub start: Instant,
    /// When it ended.
    pub end: Instant,
    /// What the loop did.
    pub kind: SpanKind,
}
