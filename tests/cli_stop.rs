//! Stopping a run early: SIGINT and SIGTERM, sent to the built binary while
//! fetches are in flight, and an output whose reader goes away. Every
//! target still gets exactly one outcome, and every line is whole.
mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::ExitStatusExt;
use std::process::Child;
use std::time::Duration;

use rustix::process::Signal;
use serde_json::Value;
use support::{
    held_server, http_server, send_signal, spawn_cli, wait_within, with_deadline, NORMAL,
};

const LIMIT: Duration = Duration::from_secs(60);

/// How long a stopped run may take to exit before the test kills it:
/// well under [`LIMIT`], so the kill, not the test's deadline, ends a hang.
const EXIT_WITHIN: Duration = Duration::from_secs(30);

/// Timeouts far beyond [`LIMIT`]: a held fetch can only end early because
/// the run was stopped, never because a limit ran out.
const PATIENT: [&str; 6] = [
    "--connect-timeout",
    "120s",
    "--read-timeout",
    "120s",
    "-m",
    "120s",
];

/// Reads one line of `reader`, failing the test at the end of the stream.
fn line_of(reader: &mut impl BufRead, what: &str) -> String {
    let mut line = String::new();
    let n = reader.read_line(&mut line).expect("read a line");
    assert!(n > 0, "the stream ended before {what}");
    line
}

/// Reads the rest of `child`'s stderr.
fn rest_of_stderr(child: &mut Child) -> String {
    let mut text = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut text).expect("read stderr");
    }
    text
}

/// Three targets that answer at once and three held by their server: once
/// the three answers are on stdout and the three held requests have
/// reached their server, `signal` is sent. The answers stay answers, the
/// held fetches end `interrupted` (after the grace, with the timings they
/// got to), the summary says why, and the exit status is `code`.
fn stop_by_signal(signal: Signal, name: &'static str, code: i32) {
    with_deadline(LIMIT, move || {
        let fast = http_server(NORMAL);
        let (held, requests) = held_server();
        let fast_targets: Vec<String> = (0..3).map(|i| format!("http://{fast}/{i}")).collect();
        let held_targets: Vec<String> = (0..3).map(|i| format!("http://{held}/h{i}")).collect();
        let mut args: Vec<String> = ["--json", "-c", "10"].map(String::from).into();
        args.extend(PATIENT.map(String::from));
        args.extend(fast_targets.iter().chain(&held_targets).cloned());
        let mut child = spawn_cli(&args);
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut lines: Vec<String> = (0..3).map(|_| line_of(&mut stdout, "3 answers")).collect();
        for _ in &held_targets {
            requests.recv().expect("a held request");
        }

        send_signal(&child, signal);
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).expect("read stdout");
        let stderr = rest_of_stderr(&mut child);
        let status = wait_within(&mut child, EXIT_WITHIN);
        assert_eq!(status.code(), Some(code), "{status:?}: {stderr}");

        lines.extend(rest.lines().map(|line| format!("{line}\n")));
        assert!(lines.iter().all(|l| l.ends_with('\n')), "whole lines");
        let outcomes: BTreeMap<String, Value> = lines
            .iter()
            .map(|line| {
                let o: Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                (o["target"].as_str().expect("target").to_owned(), o)
            })
            .collect();
        assert_eq!(lines.len(), 6, "one outcome per target: {lines:#?}");
        assert_eq!(outcomes.len(), 6, "no target twice: {lines:#?}");
        for target in &fast_targets {
            assert_eq!(outcomes[target]["status"], 200, "{}", outcomes[target]);
        }
        for target in &held_targets {
            let o = &outcomes[target];
            assert_eq!(o["error"]["kind"], "interrupted", "{o}");
            assert_eq!(
                o["error"]["message"],
                format!("interrupted by {name}"),
                "{o}"
            );
            assert!(
                o["timings"]["connect_ms"].is_number(),
                "it got connected: {o}"
            );
            assert!(o["timings"]["first_byte_ms"].is_null(), "no byte came: {o}");
        }
        let summary = stderr.lines().last().unwrap_or_default();
        assert!(
            summary.starts_with("6 hosts: 3 ok, 3 failed (interrupted 3) in "),
            "{stderr}"
        );
        assert!(
            summary.ends_with(&format!("interrupted by {name}")),
            "{stderr}"
        );
    });
}

#[test]
fn sigint_gives_every_target_one_outcome_and_exits_130() {
    stop_by_signal(Signal::INT, "SIGINT", 130);
}

#[test]
fn sigterm_gives_every_target_one_outcome_and_exits_143() {
    stop_by_signal(Signal::TERM, "SIGTERM", 143);
}

/// A second SIGINT does not wait for the grace: the process ends at once,
/// killed by the signal itself (the first one would have ended the run
/// with exit status 130 after the grace).
#[test]
fn second_sigint_ends_the_process_at_once() {
    with_deadline(LIMIT, || {
        let (held, requests) = held_server();
        let mut args: Vec<String> = PATIENT.map(String::from).into();
        args.extend((0..3).map(|i| format!("http://{held}/h{i}")));
        let mut child = spawn_cli(&args);
        for _ in 0..3 {
            requests.recv().expect("a held request");
        }
        send_signal(&child, Signal::INT);
        // The loop says it has taken the first signal: the second now
        // finds the default action armed.
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
        let note = line_of(&mut stderr, "the note about the first signal");
        assert!(note.contains("interrupted by SIGINT"), "{note}");
        send_signal(&child, Signal::INT);
        let status = wait_within(&mut child, EXIT_WITHIN);
        assert_eq!(
            status.signal(),
            Some(libc::SIGINT),
            "killed by the second SIGINT, not ended after the grace: {status:?}"
        );
    });
}

/// A reader that takes one line and leaves (`| head -1`) while fetches are
/// held in flight: the run cancels them and exits at once, not after their
/// timeouts (120 s here, past the test's deadline). The one outcome that
/// was written succeeded, so the exit status is 0: a reader leaving is not
/// a failure.
#[test]
fn closed_output_cancels_the_fetches_in_flight() {
    with_deadline(LIMIT, || {
        let good = http_server(NORMAL);
        let (held, requests) = held_server();
        let mut args: Vec<String> = ["-c", "10"].map(String::from).into();
        args.extend(PATIENT.map(String::from));
        args.push(format!("http://{good}/"));
        args.extend((0..5).map(|i| format!("http://{held}/h{i}")));
        let mut child = spawn_cli(&args);
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let first = line_of(&mut stdout, "the good answer");
        assert!(first.contains("header > HTTP/1.1 200 OK"), "{first}");
        for _ in 0..5 {
            requests.recv().expect("a held request");
        }
        drop(stdout); // like `head -1` exiting
        let stderr = rest_of_stderr(&mut child);
        let status = wait_within(&mut child, EXIT_WITHIN);
        assert_eq!(status.code(), Some(0), "{status:?}: {stderr}");
        assert!(
            stderr.contains("(interrupted 5)") && stderr.contains("cancelled: the output closed"),
            "{stderr}"
        );
    });
}
