//! Reports: how outcomes and runs are shown. Text (`TARGET header > LINE`)
//! and JSON Lines for outcomes, the summary line, `--stats` and
//! `--timeline`. Nothing here does I/O but the timeline writers, which are
//! handed their file.

pub(crate) mod json;
pub(crate) mod stats;
pub(crate) mod text;
pub(crate) mod timeline;

use std::time::Duration;

use super::shard::Shard;

/// What the command left out of the run before the engine saw it, for
/// the summary and `--stats`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Skipped {
    /// Targets `--skip-done` found done.
    pub(crate) done: u64,
    /// This run's `--shard`, and how many targets were other shards'.
    pub(crate) shard: Option<(Shard, u64)>,
}

/// A duration in milliseconds: the unit every report uses.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
