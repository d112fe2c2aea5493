//! Servers that misbehave, one at a time: each must give its target exactly
//! one outcome of the expected kind, promptly, and never crash the CLI or
//! reach the user's terminal raw.
mod support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};
use support::{
    cli, http_server, peers, silent_server, with_deadline, Expect, Peer, BIN, FAST, HOSTILE_BYTES,
};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the CLI on one target with `--json` and returns its one outcome.
fn outcome_of(target: &str) -> (Value, support::Run) {
    let run = cli(FAST.iter().copied().chain(["--json", "-q", target]));
    let mut objects = run.json();
    assert_eq!(objects.len(), 1, "one outcome for {target}: {}", run.text());
    assert_eq!(objects[0]["target"], target);
    (objects.remove(0), run)
}

fn peer(name: &str) -> Peer {
    peers()
        .into_iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no peer named {name}"))
}

/// Every peer of the catalogue, alone, gets exactly its expected outcome
/// and the matching exit status.
#[test]
fn each_peer_gets_its_expected_outcome() {
    with_deadline(LIMIT, || {
        for peer in peers() {
            let (o, run) = outcome_of(&peer.target);
            match peer.expect {
                Expect::Head { status, last } => {
                    assert_eq!(o["status"], status, "{}: {o}", peer.name);
                    let headers = o["headers"].as_array().expect("headers");
                    assert_eq!(headers.last().unwrap()[0], last, "{}: {o}", peer.name);
                    assert!(o["error"].is_null(), "{}: {o}", peer.name);
                    assert_eq!(run.code, Some(0), "{}", peer.name);
                }
                Expect::Error(kind) => {
                    assert_eq!(o["error"]["kind"], kind, "{}: {o}", peer.name);
                    assert!(
                        !o["error"]["message"].as_str().unwrap().is_empty(),
                        "{}",
                        peer.name
                    );
                    assert_eq!(run.code, Some(1), "{}", peer.name);
                }
            }
            assert!(run.stderr.is_empty(), "{}: {}", peer.name, run.stderr);
        }
    });
}

#[test]
fn silent_server_gives_read_timeout_after_the_read_timeout() {
    with_deadline(LIMIT, || {
        let (o, run) = outcome_of(&peer("silent").target);
        assert_eq!(o["error"]["kind"], "read-timeout", "{o}");
        assert_eq!(
            o["error"]["message"], "no data from the server for 1s",
            "{o}"
        );
        // --read-timeout is 1s: not before it, and not long after.
        let total = o["timings"]["total_ms"].as_f64().unwrap();
        assert!((1000.0..2500.0).contains(&total), "total {total} ms");
        assert!(run.elapsed < Duration::from_secs(5), "{:?}", run.elapsed);
    });
}

/// `--max-time` bounds the whole fetch even when every single read
/// arrives within the read timeout.
#[test]
fn trickle_slower_than_max_time_gives_timeout() {
    with_deadline(LIMIT, || {
        let target = support::trickle_server(
            b"HTTP/1.1 200 OK\r\nX-Padding: 0123456789012345678901234567890123456789\r\n\r\n"
                .as_slice(),
        )
        .to_string();
        // About 70 bytes at one a millisecond or slower: over 50ms.
        let run = cli([
            "--json",
            "-q",
            "--read-timeout",
            "1s",
            "-m",
            "50ms",
            &target,
        ]);
        let o = &run.json()[0];
        assert_eq!(o["error"]["kind"], "timeout", "{o}");
        assert_eq!(run.code, Some(1));
    });
}

#[test]
fn trickled_head_is_complete() {
    with_deadline(LIMIT, || {
        let (o, _) = outcome_of(&peer("trickle").target);
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["headers"], json!([["Server", "slow"], ["X-Last", "yes"]]));
    });
}

#[test]
fn lf_only_head_is_accepted() {
    with_deadline(LIMIT, || {
        let target = peer("lf-only").target;
        let (o, _) = outcome_of(&target);
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["headers"], json!([["Server", "lf"], ["X-Last", "yes"]]));
        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(
            run.text(),
            format!(
                "{target} header > HTTP/1.1 200 OK\n{target} header > Server: lf\n\
                 {target} header > X-Last: yes\n"
            )
        );
    });
}

#[test]
fn continue_head_is_shown_and_the_final_head_follows() {
    with_deadline(LIMIT, || {
        let target = peer("100-continue").target;
        let (o, _) = outcome_of(&target);
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["headers"], json!([["Server", "after-continue"]]));
        assert_eq!(o["interim"][0]["status"], 100, "{o}");
        assert_eq!(o["interim"][0]["headers"], json!([]));
        assert_eq!(o["interim"].as_array().unwrap().len(), 1);

        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(run.code, Some(0));
        assert_eq!(
            run.text(),
            format!(
                "{target} header > HTTP/1.1 100 Continue\n{target} header > HTTP/1.1 200 OK\n\
                 {target} header > Server: after-continue\n"
            )
        );
    });
}

#[test]
fn empty_lines_before_a_status_line_are_skipped() {
    with_deadline(LIMIT, || {
        let target = peer("empty-line-first").target;
        let (o, _) = outcome_of(&target);
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["headers"], json!([["Server", "late"], ["X-Last", "yes"]]));
        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(run.code, Some(0));
        assert_eq!(
            run.text(),
            format!(
                "{target} header > HTTP/1.1 200 OK\n{target} header > Server: late\n\
                 {target} header > X-Last: yes\n"
            )
        );

        // After a `100 Continue`, in the next segment.
        let target = peer("empty-line-after-continue").target;
        let (o, _) = outcome_of(&target);
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["interim"].as_array().map(Vec::len), Some(1), "{o}");
        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(
            run.text(),
            format!(
                "{target} header > HTTP/1.1 100 Continue\n{target} header > HTTP/1.1 200 OK\n\
                 {target} header > Server: after-continue\n"
            )
        );
    });
}

/// A server that sends `100 Continue` for ever gets `too-large` after ten,
/// and the process's peak RSS stays small: it used to grow by about
/// 400 MB/s until `--max-time`.
#[test]
fn endless_interim_heads_are_too_large_and_memory_stays_bounded() {
    with_deadline(LIMIT, || {
        let endless = peer("endless-continue").target;
        // The silent target keeps the process alive after the endless one
        // is done, so that its peak RSS can be read.
        let silent = format!("http://{}/", silent_server());
        let mut child = Command::new(BIN)
            .args(["--json", "-q", "--read-timeout", "30s", "-m", "40s"])
            .args([&endless, &silent])
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fetch-headers");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let line = lines.next().expect("an outcome").expect("read stdout");
        let peak = peak_rss_kib(child.id());
        child.kill().expect("stop fetch-headers");
        let _ = child.wait();

        let o: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(
            o["target"],
            endless.as_str(),
            "the silent one is still waiting: {o}"
        );
        assert_eq!(o["error"]["kind"], "too-large", "{o}");
        assert_eq!(
            o["error"]["message"], "response has more than 10 interim (1xx) heads",
            "{o}"
        );
        eprintln!("peak RSS beside an endless 1xx sender: {peak} KiB");
        assert!(peak < 64 * 1024, "peak RSS {peak} KiB");
    });
}

/// The peak resident set size of process `pid` (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[test]
fn oversized_line_and_too_many_lines_are_too_large() {
    with_deadline(LIMIT, || {
        let (o, _) = outcome_of(&peer("huge-line").target);
        assert_eq!(o["error"]["kind"], "too-large", "{o}");
        let message = o["error"]["message"].as_str().unwrap();
        assert!(message.contains("line"), "{message}");
        assert!(message.contains("65536"), "{message}");

        let (o, _) = outcome_of(&peer("many-lines").target);
        assert_eq!(o["error"]["kind"], "too-large", "{o}");
        let message = o["error"]["message"].as_str().unwrap();
        assert!(message.contains("1000"), "{message}");
    });
}

#[test]
fn head_at_the_line_limit_is_accepted() {
    with_deadline(LIMIT, || {
        // 1,000 lines, the status line included: exactly at the limit.
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..999 {
            head.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        let (o, _) = outcome_of(&http_server(head).to_string());
        assert_eq!(o["status"], 200, "{o}");
        assert_eq!(o["headers"].as_array().unwrap().len(), 999);
    });
}

#[test]
fn garbage_is_a_protocol_error_quoting_the_bytes() {
    with_deadline(LIMIT, || {
        let (o, _) = outcome_of(&peer("garbage").target);
        assert_eq!(o["error"]["kind"], "protocol", "{o}");
        let message = o["error"]["message"].as_str().unwrap();
        assert!(message.contains("SSH-2.0"), "{message}");
    });
}

#[test]
fn reset_and_partial_head_are_told_apart() {
    with_deadline(LIMIT, || {
        let (o, _) = outcome_of(&peer("reset").target);
        assert_eq!(o["error"]["kind"], "reset", "{o}");
        let (o, _) = outcome_of(&peer("partial-head").target);
        assert_eq!(o["error"]["kind"], "closed", "{o}");
    });
}

/// Control characters and bytes that are not UTF-8 never reach the
/// terminal raw: text output escapes them (`\x1b`, `\xff`).
#[test]
fn text_output_escapes_control_characters_and_invalid_utf8() {
    with_deadline(LIMIT, || {
        let target = http_server(HOSTILE_BYTES).to_string();
        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(run.code, Some(0));
        assert!(
            !run.stdout.iter().any(|&b| b < 0x20 && b != b'\n'),
            "a raw control byte reached stdout: {:?}",
            String::from_utf8_lossy(&run.stdout)
        );
        assert_eq!(
            run.text(),
            format!(
                "{target} header > HTTP/1.1 200 OK\n\
                 {target} header > X-Evil: \\x1b]0;pwned\\x07\\x1b[2J\n\
                 {target} header > X-Latin: caf\\xe9 \\xff\n"
            )
        );
    });
}

/// JSON keeps every header line, as documented in `src/fetch/output.rs`: a
/// value that is not UTF-8 is given with `\xNN` escapes, and control
/// characters in UTF-8 text are JSON-escaped (`\u001b`), so no raw control
/// character is in the output.
#[test]
fn json_output_escapes_invalid_utf8_and_stays_valid() {
    with_deadline(LIMIT, || {
        let target = http_server(HOSTILE_BYTES).to_string();
        let (o, run) = outcome_of(&target);
        assert!(!run.stdout.iter().any(|&b| b < 0x20 && b != b'\n'));
        assert_eq!(o["status"], 200);
        assert_eq!(
            o["headers"],
            json!([
                ["X-Evil", "\u{1b}]0;pwned\u{7}\u{1b}[2J"],
                ["X-Latin", "caf\\xe9 \\xff"]
            ]),
            "{o}"
        );
    });
}
