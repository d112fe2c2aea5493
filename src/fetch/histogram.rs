//! A latency histogram with bounded memory: percentiles for `--stats`.
//!
//! Values are microseconds. Below 64 µs each value has its own bucket; above,
//! each power of two is split into 32 buckets, so a percentile is within
//! about 3% of the true value however many samples there are, in at most
//! 64 + 58 × 32 buckets.

use std::time::Duration;

const LINEAR: u64 = 64;
const SUB_BITS: u32 = 5;
const SUB: u64 = 1 << SUB_BITS;

/// Counts of durations in logarithmic buckets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    max: u64,
}

fn bucket(micros: u64) -> usize {
    if micros < LINEAR {
        return micros as usize;
    }
    let exponent = 63 - micros.leading_zeros(); // >= 6
    let mantissa = (micros >> (exponent - SUB_BITS)) & (SUB - 1);
    (LINEAR + u64::from(exponent - 6) * SUB + mantissa) as usize
}

/// The smallest value that falls in `index`.
fn lower_bound(index: usize) -> u64 {
    let index = index as u64;
    if index < LINEAR {
        return index;
    }
    let exponent = (index - LINEAR) / SUB + 6;
    let mantissa = (index - LINEAR) % SUB;
    (SUB + mantissa) << (exponent - u64::from(SUB_BITS))
}

impl Histogram {
    /// Counts one duration.
    pub fn record(&mut self, value: Duration) {
        let micros = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        let index = bucket(micros);
        if self.counts.len() <= index {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += 1;
        self.total += 1;
        self.max = self.max.max(micros);
    }

    /// Number of durations counted.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The largest duration counted.
    pub fn max(&self) -> Duration {
        Duration::from_micros(self.max)
    }

    /// The duration below which a fraction `q` (0..=1) of the values fall,
    /// or `None` when nothing was counted.
    pub fn quantile(&self, q: f64) -> Option<Duration> {
        if self.total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                // The bucket's midpoint, but never above the real maximum.
                let low = lower_bound(index);
                let high = lower_bound(index + 1);
                return Some(Duration::from_micros(((low + high) / 2).min(self.max)));
            }
        }
        Some(self.max())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        for v in (0..5000u64).chain([1 << 20, (1 << 20) + 12345, u64::MAX / 2]) {
            let i = bucket(v);
            assert!(
                lower_bound(i) <= v && v < lower_bound(i + 1),
                "{v} in bucket {i}"
            );
            let width = lower_bound(i + 1) - lower_bound(i);
            assert!(
                width as f64 <= (v as f64 / 32.0).max(1.0),
                "bucket of {v} too wide"
            );
        }
    }

    #[test]
    fn quantiles_of_a_uniform_spread() {
        let mut h = Histogram::default();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        let p50 = h.quantile(0.5).unwrap().as_secs_f64() * 1000.0;
        let p99 = h.quantile(0.99).unwrap().as_secs_f64() * 1000.0;
        assert!((p50 - 500.0).abs() < 20.0, "p50 {p50}");
        assert!((p99 - 990.0).abs() < 35.0, "p99 {p99}");
        assert_eq!(h.max(), Duration::from_millis(1000));
        assert_eq!(Histogram::default().quantile(0.5), None);
    }
}
