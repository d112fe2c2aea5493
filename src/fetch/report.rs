//! `--stats`: the loop's counters and the phase latencies, as an aligned
//! table for people or one JSON object for programs.

use std::fmt::Write as _;
use std::time::Duration;

use super::output::json_string;
use super::summary::Summary;
use crate::runtime::Stats;

const QUANTILES: [(&str, f64); 3] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The aligned table.
pub fn table(stats: &Stats, summary: &Summary) -> String {
    let mut out = String::from("event loop\n");
    for (name, value) in stats.counters() {
        let _ = writeln!(out, "  {:<18} {value:>12}", name.replace('_', " "));
    }
    let _ = writeln!(
        out,
        "  {:<18} {:>12.1} ms",
        "blocked in poll",
        ms(stats.blocked)
    );
    let _ = writeln!(
        out,
        "latency (ms)          {:>9} {:>9} {:>9} {:>9} {:>9}",
        "count", "p50", "p90", "p99", "max"
    );
    for (phase, histogram) in summary.latency.phases() {
        let _ = write!(
            out,
            "  {:<18} {:>9}",
            phase.replace('_', " "),
            histogram.count()
        );
        for (_, q) in QUANTILES {
            match histogram.quantile(q) {
                Some(d) => {
                    let _ = write!(out, " {:>9.2}", ms(d));
                }
                None => out.push_str("         -"),
            }
        }
        let _ = writeln!(out, " {:>9.2}", ms(histogram.max()));
    }
    out
}

/// The same as one JSON object (one line).
pub fn json(stats: &Stats, summary: &Summary) -> String {
    let mut out = String::from("{\"loop\":{");
    for (name, value) in stats.counters() {
        let _ = write!(out, "\"{name}\":{value},");
    }
    let _ = write!(
        out,
        "\"blocked_ms\":{:.3}}},\"latency_ms\":{{",
        ms(stats.blocked)
    );
    for (i, (phase, histogram)) in summary.latency.phases().into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{phase}\":{{\"count\":{}", histogram.count());
        for (name, q) in QUANTILES {
            match histogram.quantile(q) {
                Some(d) => {
                    let _ = write!(out, ",\"{name}\":{:.3}", ms(d));
                }
                None => {
                    let _ = write!(out, ",\"{name}\":null");
                }
            }
        }
        let _ = write!(out, ",\"max\":{:.3}}}", ms(histogram.max()));
    }
    let _ = write!(
        out,
        "}},\"summary\":{{\"hosts\":{},\"ok\":{},\"failed\":{{",
        summary.hosts, summary.ok
    );
    for (i, (kind, count)) in summary.failed.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_string(&mut out, kind.as_str());
        let _ = write!(out, ":{count}");
    }
    let _ = writeln!(
        out,
        "}},\"elapsed_ms\":{:.3},\"hosts_per_sec\":{:.1}}}}}",
        ms(summary.elapsed),
        summary.rate()
    );
    out
}
