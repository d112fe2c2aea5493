//! Reports: how outcomes and runs are shown. Text (`TARGET header > LINE`)
//! and JSON Lines for outcomes, the summary line, `--stats` and
//! `--timeline`. Nothing here does I/O but the timeline writers, which are
//! handed their file.

pub(crate) mod json;
pub(crate) mod stats;
pub(crate) mod text;
pub(crate) mod timeline;

use std::time::Duration;

/// A duration in milliseconds: the unit every report uses.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
