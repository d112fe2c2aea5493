//! Counting outcomes for the end-of-run summary.

use std::time::Duration;

use super::histogram::Histogram;
use super::outcome::{ErrorKind, Outcome};
use super::stop::StopReason;
use crate::net::dns::DnsStats;

/// Latency of each phase, over the targets that reached it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Latency {
    /// Name resolution.
    pub dns: Histogram,
    /// TCP connect.
    pub connect: Histogram,
    /// TLS handshake (`https` only).
    pub tls: Histogram,
    /// Request sent to first response byte.
    pub first_byte: Histogram,
    /// Whole fetch, successes and failures alike.
    pub total: Histogram,
}

impl Latency {
    /// The phases with their names, in order.
    pub fn phases(&self) -> [(&'static str, &Histogram); 5] {
        [
            ("dns", &self.dns),
            ("connect", &self.connect),
            ("tls", &self.tls),
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
    /// Failures, indexed by `ErrorKind as usize` (the [`ErrorKind::ALL`]
    /// order).
    failed: [u64; ErrorKind::ALL.len()],
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Phase latencies; empty unless [`Config::latency`] asked for them.
    ///
    /// [`Config::latency`]: super::Config::latency
    pub latency: Latency,
    /// Why the run was stopped before the end of its targets, if it was.
    pub stopped: Option<StopReason>,
    /// What our resolver did (`None` with `getaddrinfo`).
    pub dns: Option<DnsStats>,
}

impl Summary {
    /// Counts one outcome.
    pub fn add(&mut self, outcome: &Outcome) {
        self.hosts += 1;
        match &outcome.result {
            Ok(_) => self.ok += 1,
            Err(e) => self.failed[e.kind() as usize] += 1,
        }
    }

    /// Counts the phase latencies of one outcome into [`Summary::latency`].
    pub fn add_latency(&mut self, outcome: &Outcome) {
        let t = &outcome.timings;
        let latency = &mut self.latency;
        for (histogram, value) in [
            (&mut latency.dns, t.dns),
            (&mut latency.connect, t.connect),
            (&mut latency.tls, t.tls),
            (&mut latency.first_byte, t.first_byte),
            (&mut latency.total, Some(t.total)),
        ] {
            if let Some(value) = value {
                histogram.record(value);
            }
        }
    }

    /// The kinds that failed, with their counts, in [`ErrorKind::ALL`]
    /// order.
    pub fn failed(&self) -> impl Iterator<Item = (ErrorKind, u64)> + '_ {
        ErrorKind::ALL
            .into_iter()
            .map(|kind| (kind, self.failed[kind as usize]))
            .filter(|&(_, count)| count > 0)
    }

    /// Targets that failed, all kinds together.
    pub fn failures(&self) -> u64 {
        self.failed.iter().sum()
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
