//! Counting outcomes for the end-of-run summary.

use std::fmt;
use std::time::Duration;

use super::outcome::{ErrorKind, Outcome};

/// What a run came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Targets with an outcome.
    pub hosts: u64,
    /// Targets that gave a response head.
    pub ok: u64,
    /// Failures per kind, in [`ErrorKind::ALL`] order.
    pub failed: Vec<(ErrorKind, u64)>,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        self.hosts += 1;
        match &outcome.result {
            Ok(_) => self.ok += 1,
            Err(e) => match self.failed.iter_mut().find(|(kind, _)| *kind == e.kind) {
                Some((_, count)) => *count += 1,
                None => {
                    self.failed.push((e.kind, 1));
                    self.failed.sort();
                }
            },
        }
    }

    /// Targets that failed, all kinds together.
    pub fn failures(&self) -> u64 {
        self.failed.iter().map(|(_, n)| n).sum()
    }

    /// Outcomes per second over the run.
    pub fn rate(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.hosts as f64 / secs
        } else {
            0.0
        }
    }
}

impl fmt::Display for Summary {
    /// `3 hosts: 2 ok, 1 failed (dns 1) in 0.52s, 5.8 hosts/s`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} hosts: {} ok, {} failed", self.hosts, self.ok, self.failures())?;
        if !self.failed.is_empty() {
            let kinds: Vec<String> = self.failed.iter().map(|(k, n)| format!("{k} {n}")).collect();
            write!(f, " ({})", kinds.join(", "))?;
        }
        write!(f, " in {:.2}s, {:.0} hosts/s", self.elapsed.as_secs_f64(), self.rate())
    }
}
