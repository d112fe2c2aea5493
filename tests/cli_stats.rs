//! `--stats`: the loop's counters and latency percentiles at the end of a run.
mod support;

use std::process::Command;
use std::time::Duration;

const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: stats\r\n\r\n";

fn run(args: Vec<String>) -> std::process::Output {
    support::with_deadline(Duration::from_secs(60), move || {
        Command::new(env!("CARGO_BIN_EXE_fetch-headers"))
            .args(&args)
            .output()
            .expect("run fetch-headers")
    })
}

#[test]
fn stats_as_json_parse_and_add_up() {
    let addr = support::http_server(RESPONSE);
    let closed = support::closed_port();
    let mut args: Vec<String> = vec![
        "--json".into(),
        "--stats".into(),
        "-q".into(),
        "-c".into(),
        "5".into(),
    ];
    args.extend((0..20).map(|_| addr.to_string()));
    args.push(closed.to_string());
    let output = run(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stats: serde_json::Value =
        serde_json::from_str(stderr.trim()).expect("one JSON object on stderr");
    let lp = &stats["loop"];
    assert_eq!(lp["connections_open"], 0);
    assert_eq!(lp["bytes_read"], 20 * RESPONSE.len() as u64);
    assert!(lp["connections_max"].as_u64().unwrap() <= 5);
    assert!(lp["turns"].as_u64().unwrap() > 0);
    assert_eq!(stats["summary"]["hosts"], 21);
    assert_eq!(stats["summary"]["ok"], 20);
    assert_eq!(stats["summary"]["failed"]["refused"], 1);
    let total = &stats["latency_ms"]["total"];
    assert_eq!(total["count"], 21);
    let (p50, p99, max) = (
        total["p50"].as_f64().unwrap(),
        total["p99"].as_f64().unwrap(),
        total["max"].as_f64().unwrap(),
    );
    assert!(p50 <= p99 && p99 <= max, "{total}");
    assert_eq!(
        stats["latency_ms"]["first_byte"]["count"], 20,
        "the refused target never sent"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn stats_as_a_table_name_every_counter_and_phase() {
    let addr = support::http_server(RESPONSE);
    let output = run(vec!["--stats".into(), "-q".into(), addr.to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    for row in [
        "turns",
        "events",
        "tasks spawned",
        "wakes local",
        "timers set",
        "bytes read",
        "blocked in poll",
    ] {
        assert!(stderr.contains(row), "missing {row:?} in:\n{stderr}");
    }
    let latency = stderr
        .split("latency (ms)")
        .nth(1)
        .expect("a latency table");
    for phase in ["dns", "connect", "first byte", "total"] {
        let line = latency
            .lines()
            .find(|l| l.trim_start().starts_with(phase))
            .unwrap_or_else(|| panic!("no {phase} row in:\n{stderr}"));
        // count, p50, p90, p99, max
        let numbers: Vec<f64> = line[phase.len() + 2..]
            .split_whitespace()
            .map(|n| n.parse().expect("a number"))
            .collect();
        assert_eq!(numbers.len(), 5, "{line}");
        assert_eq!(numbers[0], 1.0);
    }
    assert_eq!(output.status.code(), Some(0));
}

/// A phase no target reached has no percentiles and no maximum: null, not
/// a made-up zero.
#[test]
fn a_phase_with_no_samples_has_null_statistics() {
    let closed = support::closed_port();
    let output = run(vec![
        "--json".into(),
        "--stats".into(),
        "-q".into(),
        closed.to_string(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stats: serde_json::Value =
        serde_json::from_str(stderr.trim()).expect("one JSON object on stderr");
    let first_byte = &stats["latency_ms"]["first_byte"];
    assert_eq!(first_byte["count"], 0, "{first_byte}");
    for key in ["p50", "p90", "p99", "max"] {
        assert!(first_byte[key].is_null(), "{key}: {first_byte}");
    }
}

/// Without `-q` too, `--stats --json` leaves stderr one JSON object (it
/// holds the summary): no text summary line after it.
#[test]
fn stats_as_json_are_all_of_stderr() {
    let addr = support::http_server(RESPONSE);
    let output = run(vec!["--json".into(), "--stats".into(), addr.to_string()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let mut objects = serde_json::Deserializer::from_str(&stderr).into_iter::<serde_json::Value>();
    let stats = objects
        .next()
        .expect("a JSON object")
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stderr}"));
    assert_eq!(stats["summary"]["hosts"], 1, "{stderr}");
    assert!(objects.next().is_none(), "only one JSON object: {stderr}");
    assert_eq!(output.status.code(), Some(0));
}
