//! `--stats`: the loop's counters and the phase latencies, as an aligned
//! table for people or one JSON object for programs.

use std::fmt::Write as _;

use fetch_headers::fetch::Summary;
use fetch_headers::runtime::Stats;

use super::json::JsonWriter;
use super::ms;
use super::Skipped;

const QUANTILES: [(&str, f64); 3] = [("p50", 0.50), ("p90", 0.90), ("p99", 0.99)];

/// The aligned table. (What the command skipped is on the summary line.)
pub(crate) fn table(stats: &Stats, summary: &Summary) -> String {
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
    if let Some(dns) = &summary.dns {
        out.push_str("resolver\n");
        for (name, value) in dns.counters() {
            let _ = writeln!(out, "  {:<18} {value:>12}", name.replace('_', " "));
        }
    }
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
        match histogram.count() {
            0 => out.push_str("         -\n"),
            _ => {
                let _ = writeln!(out, " {:>9.2}", ms(histogram.max()));
            }
        }
    }
    out
}

/// The same as one JSON object (one line), with what the command skipped.
pub(crate) fn json(stats: &Stats, summary: &Summary, skipped: Skipped) -> Vec<u8> {
    let mut out = Vec::new();
    let mut json = JsonWriter::new(&mut out);
    json.begin_object();
    json.key("loop").begin_object();
    for (name, value) in stats.counters() {
        json.key(name).u64(value);
    }
    json.key("blocked_ms").millis(Some(stats.blocked));
    json.end_object();

    json.key("dns");
    match &summary.dns {
        Some(dns) => {
            json.begin_object();
            for (name, value) in dns.counters() {
                json.key(name).u64(value);
            }
            json.end_object();
        }
        None => {
            json.null();
        }
    }

    json.key("latency_ms").begin_object();
    for (phase, histogram) in summary.latency.phases() {
        json.key(phase).begin_object();
        json.key("count").u64(histogram.count());
        for (name, q) in QUANTILES {
            json.key(name).millis(histogram.quantile(q));
        }
        // Like the percentiles, no maximum without a sample.
        let max = (histogram.count() > 0).then(|| histogram.max());
        json.key("max").millis(max);
        json.end_object();
    }
    json.end_object();

    json.key("summary").begin_object();
    json.key("hosts").u64(summary.hosts);
    json.key("ok").u64(summary.ok);
    json.key("failed").begin_object();
    for (kind, count) in summary.failed() {
        json.key(kind.as_str()).u64(count);
    }
    json.end_object();
    json.key("elapsed_ms").millis(Some(summary.elapsed));
    json.key("hosts_per_sec").fixed(summary.rate(), 1);
    json.key("skipped_done").u64(skipped.done);
    json.key("shard");
    match skipped.shard {
        Some((shard, others)) => {
            json.begin_object();
            json.key("k").u64(shard.k).key("n").u64(shard.n);
            json.key("skipped").u64(others);
            json.end_object();
        }
        None => {
            json.null();
        }
    }
    let stopped = summary.stopped.map(|reason| reason.to_string());
    json.key("stopped").opt_string(stopped.as_deref());
    json.end_object();
    json.end_object();
    out.push(b'\n');
    out
}
