//! `--timeline FILE`: the built binary against loopback servers, its trace
//! read back with a JSON parser and its SVG with an XML parser.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;
use support::{closed_port, http_server, with_deadline};

const OK: &[u8] = b"HTTP/1.0 200 OK\r\nServer: timeline-test\r\n\r\n";
/// Quotes, markup, a control character and a character XML forbids: the
/// files must carry it escaped, and give it back intact.
const HOSTILE: &str = "bad\"<&>\u{1}\u{ffff} target";

/// Runs the binary with `args`; a hang fails the test.
fn fetch_headers(args: Vec<String>) -> Output {
    with_deadline(Duration::from_secs(60), move || {
        Command::new(env!("CARGO_BIN_EXE_fetch-headers"))
            .args(args)
            .output()
            .expect("run fetch-headers")
    })
}

/// Three targets that answer, then three that fail: refused, dns and
/// bad-target. Returns them with their error kind (`None`: success).
fn targets() -> Vec<(String, Option<&'static str>)> {
    let server = http_server(OK);
    let mut targets: Vec<_> = ["one", "two", "three"]
        .iter()
        .map(|path| (format!("http://{server}/{path}"), None))
        .collect();
    targets.push((closed_port().to_string(), Some("refused")));
    targets.push(("nosuch.invalid".to_owned(), Some("nxdomain")));
    targets.push((HOSTILE.to_owned(), Some("bad-target")));
    targets
}

/// Runs `targets` at concurrency 2 with `--timeline` to `file`.
fn run_with_timeline(targets: &[(String, Option<&str>)], file: &Path) -> Output {
    let mut args: Vec<String> = ["-q", "-c", "2", "--connect-timeout", "20s", "--timeline"]
        .map(String::from)
        .into();
    args.push(file.display().to_string());
    args.extend(targets.iter().map(|(target, _)| target.clone()));
    let output = fetch_headers(args);
    assert_eq!(
        output.status.code(),
        Some(1),
        "some targets fail: {output:?}"
    );
    assert!(output.stderr.is_empty(), "{output:?}");
    output
}

/// Microseconds, as the trace gives them.
fn number(event: &Value, key: &str) -> f64 {
    event[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} is not a number in {event}"))
}

#[test]
fn trace_has_each_fetch_phases_in_order_and_the_loop_spans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("run.json");
    let targets = targets();
    run_with_timeline(&targets, &file);

    let text = std::fs::read_to_string(&file).expect("trace written");
    let trace: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
    assert_eq!(trace["displayTimeUnit"], "ms");
    let events = trace["traceEvents"].as_array().expect("traceEvents");

    let mut track_names = BTreeMap::new();
    let mut loop_spans = 0;
    let mut by_target: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for event in events {
        assert_eq!(event["pid"], 1, "{event}");
        let tid = event["tid"].as_u64().expect("tid");
        match event["ph"].as_str() {
            Some("M") if event["name"] == "thread_name" => {
                track_names.insert(tid, event["args"]["name"].clone());
            }
            Some("M") => {}
            Some("X" | "i") => {
                assert!(number(event, "ts") >= 0.0, "{event}");
                if event["ph"] == "X" {
                    assert!(number(event, "dur") >= 0.0, "{event}");
                }
                if tid == 0 {
                    let args = &event["args"];
                    match event["name"].as_str() {
                        Some("run") => assert!(args["tasks"].is_u64(), "{event}"),
                        Some("poll") => assert!(args["events"].is_u64(), "{event}"),
                        _ => panic!("unexpected loop event {event}"),
                    }
                    loop_spans += 1;
                } else {
                    let target = event["args"]["target"].as_str().expect("target arg");
                    by_target.entry(target).or_default().push(event);
                }
            }
            _ => panic!("unexpected event {event}"),
        }
    }
    assert!(loop_spans > 0, "no loop spans in {text}");
    assert_eq!(track_names.get(&0), Some(&Value::from("event loop")));
    assert_eq!(by_target.len(), targets.len(), "{by_target:?}");

    let mut slots = BTreeSet::new();
    for (target, error) in &targets {
        let events = &by_target[target.as_str()];
        let names: Vec<&str> = events.iter().filter_map(|e| e["name"].as_str()).collect();
        match error {
            None => assert_eq!(names, ["dns", "connect", "wait", "read"], "{target}"),
            Some(kind) => {
                let marker = format!("error: {kind}");
                assert_eq!(names.last(), Some(&marker.as_str()), "{target}");
                assert_eq!(events.last().map(|e| &e["ph"]), Some(&"i".into()));
                assert!(events.iter().all(|e| e["args"]["error"] == *kind));
                let phases = &names[..names.len() - 1];
                assert!(["dns", "connect", "wait", "read"].starts_with(phases));
            }
        }
        // One track per fetch, and the phases follow one another on it.
        let tid = &events[0]["tid"];
        assert!(events.iter().all(|e| e["tid"] == *tid), "{target}");
        slots.insert(tid.as_u64().expect("tid"));
        for pair in events.windows(2) {
            let end = number(pair[0], "ts") + number(pair[0], "dur");
            assert!(number(pair[1], "ts") >= end - 1e-3, "{target}: {pair:?}");
        }
    }
    // At concurrency 2, the fetches pack into two slots, each named.
    assert!(slots.iter().all(|tid| (1..=2).contains(tid)), "{slots:?}");
    assert!(slots.iter().all(|tid| track_names.contains_key(tid)));
}

#[test]
fn trace_of_a_sequential_run_uses_one_slot() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("run.json");
    let server = http_server(OK);
    let mut args: Vec<String> = ["-q", "-c", "1", "--timeline"].map(String::from).into();
    args.push(file.display().to_string());
    args.extend((0..4).map(|i| format!("http://{server}/{i}")));
    let output = fetch_headers(args);
    assert_eq!(output.status.code(), Some(0), "{output:?}");

    let text = std::fs::read_to_string(&file).expect("trace written");
    let trace: Value = serde_json::from_str(&text).expect("the trace is valid JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");
    let phases: Vec<&Value> = events
        .iter()
        .filter(|e| e["ph"] == "X" && e["tid"] != 0)
        .collect();
    assert_eq!(phases.len(), 4 * 4);
    assert!(phases.iter().all(|e| e["tid"] == 1), "{text}");
}

#[test]
fn svg_is_well_formed_with_one_bar_per_target() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("run.SVG");
    let targets = targets();
    run_with_timeline(&targets, &file);

    let text = std::fs::read_to_string(&file).expect("svg written");
    let svg = roxmltree::Document::parse(&text).expect("the SVG is well-formed XML");
    let root = svg.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );

    let class = |node: &roxmltree::Node<'_, '_>, name: &str| node.attribute("class") == Some(name);
    let bars: Vec<_> = root.descendants().filter(|n| class(n, "fetch")).collect();
    assert_eq!(bars.len(), targets.len());
    let failed = bars
        .iter()
        .filter(|bar| bar.children().any(|n| class(&n, "failed")));
    assert_eq!(failed.count(), 3);
    // Every answered target's bar has all four phases.
    let complete = bars.iter().filter(|bar| {
        ["dns", "connect", "wait", "read"]
            .iter()
            .all(|phase| bar.children().any(|n| class(&n, phase)))
    });
    assert_eq!(complete.count(), 3);
    // The hostile target is a label, escaped where XML cannot carry it.
    let labels: Vec<_> = root
        .descendants()
        .filter(|n| class(n, "label"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        labels.contains(&"bad\"<&>\\x01\\u{ffff} target"),
        "{labels:?}"
    );
    let title = root.descendants().find(|n| n.has_tag_name("text"));
    let title = title.and_then(|n| n.text()).unwrap_or_default();
    assert!(title.contains("6 targets, 3 failed"), "{title}");
}

// A --timeline path that cannot be written fails before the run:
// tests/cli_paths.rs.
