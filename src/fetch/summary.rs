//! Counting outcomes for the end-of-run summary.

use std::fmt;
use std::time::Duration;

use super::histogram::Histogram;
use super::outcome::{ErrorKind, Outcome};

/// Latency of each phase, over the targets that reached it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latency {
    /// Name resolution.
    pub dns: Histogram,
    /// TCP connect.
    pub connect: Histogram,
    /// Request sent to first response byte.
    pub first_byte: Histogram,
    /// Whole fetch, successes and failures alike.
    pub total: Histogram,
}

impl Latency {
    /// The phases with their names, in order.
    pub fn phases(&self) -> [(&'static str, &Histogram); 4] {
        [
            ("dns", &self.dns),
            ("connect", &self.connect),
            ("first_byte", &self.first_byte),
            ("total", &self.total),
        ]
    }
}

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
    /// Phase latencies.
    pub latency: Latency,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        self.hosts += 1;
        let t = &outcome.timings;
        let latency = &mut self.latency;
        for (histogram, value) in [
            (&mut latency.dns, t.dns),
            (&mut latency.connect, t.connect),
            (&mut latency.first_byte, t.first_byte),
            (&mut latency.total, Some(t.total)),
        ] {
            if let Some(value) = value {
                histogram.record(value);
            }
        }
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
        let noun = if self.hosts == 1 { "host" } else { "hosts" };
        write!(
            f,
            "{} {noun}: {} ok, {} failed",
            self.hosts,
            self.ok,
            self.failures()
        )?;
        if !self.failed.is_empty() {
            let kinds: Vec<String> = self
                .failed
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect();
            write!(f, " ({})", kinds.join(", "))?;
        }
        write!(
            f,
            " in {:.2}s, {:.0} hosts/s",
            self.elapsed.as_secs_f64(),
            self.rate()
        )
    }
}
