//! The CLI's output formats and request options, end to end: the built
//! binary against servers on loopback.
mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use support::{cli, http_server, recording_server, serve, with_deadline, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

#[test]
fn text_prefixes_every_head_line_with_its_target() {
    with_deadline(LIMIT, || {
        let target = http_server(NORMAL).to_string();
        let run = cli(FAST.iter().copied().chain([target.as_str()]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let expected = [
            "HTTP/1.1 200 OK",
            "Server: test",
            "X-Dup: 1",
            "x-dup: 2",
            "Content-Length: 5",
        ]
        .map(|line| format!("{target} header > {line}\n"))
        .concat();
        assert_eq!(run.text(), expected, "the body is never printed");
        assert!(
            run.stderr.starts_with("1 host: 1 ok, 0 failed in "),
            "summary: {}",
            run.stderr
        );
    });
}

#[test]
fn text_error_line_names_target_and_kind() {
    with_deadline(LIMIT, || {
        let target = support::closed_port().to_string();
        let run = cli(FAST.iter().copied().chain(["-q", target.as_str()]));
        assert_eq!(run.code, Some(1));
        let prefix = format!("{target} error > refused: connect to {target}: ");
        assert!(run.text().starts_with(&prefix), "{}", run.text());
        assert_eq!(run.text().lines().count(), 1);
        assert_eq!(run.stderr, "", "-q prints no summary");
    });
}

#[test]
fn verbose_announces_each_target_before_its_lines() {
    with_deadline(LIMIT, || {
        let a = http_server(NORMAL).to_string();
        let b = http_server(NORMAL).to_string();
        let run = cli(FAST.iter().copied().chain(["-v", &a, &b]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let lines: Vec<&str> = run.text().lines().collect();
        assert_eq!(lines.len(), 2 + 2 * 5, "{lines:#?}");
        for target in [&a, &b] {
            let announce = lines
                .iter()
                .position(|l| *l == format!("wget {target}..."))
                .unwrap_or_else(|| panic!("no wget line for {target}: {lines:#?}"));
            let first_header = lines
                .iter()
                .position(|l| l.starts_with(&format!("{target} header > ")))
                .expect("header lines");
            assert!(announce < first_header, "{lines:#?}");
        }
    });
}

/// With `--live` a line is printed as soon as it arrives: the server sends
/// the status line and then waits until the test has seen it on the CLI's
/// stdout before sending the rest. Without `--live` this would never
/// happen (the head is printed only when complete).
#[test]
fn live_prints_each_line_before_the_head_is_complete() {
    with_deadline(LIMIT, || {
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let go_rx = std::sync::Arc::new(std::sync::Mutex::new(go_rx));
        let addr = serve(move |mut stream| {
            support::read_head(&mut stream);
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\n");
            // Wait for the test to see the first line (or give up with it).
            let _ = go_rx.lock().unwrap().recv_timeout(Duration::from_secs(20));
            let _ = stream.write_all(b"Server: live\r\n\r\n");
        });
        let target = addr.to_string();
        let mut child = Command::new(support::BIN)
            .args(["--live", "-q", "--read-timeout", "30s", &target])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert_eq!(first, format!("{target} header > HTTP/1.1 200 OK\n"));
        go_tx.send(()).unwrap();
        let mut rest = String::new();
        while stdout.read_line(&mut rest).unwrap() > 0 {}
        assert_eq!(rest, format!("{target} header > Server: live\n"));
        assert_eq!(child.wait().unwrap().code(), Some(0));
    });
}

#[test]
fn live_still_reports_errors() {
    with_deadline(LIMIT, || {
        let target = http_server(b"HTTP/1.1 200 OK\r\nServer: x\r\n".as_slice()).to_string();
        let run = cli(FAST.iter().copied().chain(["--live", "-q", &target]));
        assert_eq!(run.code, Some(1));
        let lines: Vec<&str> = run.text().lines().collect();
        assert_eq!(
            lines[..2],
            [
                format!("{target} header > HTTP/1.1 200 OK"),
                format!("{target} header > Server: x"),
            ]
        );
        assert!(
            lines[2].starts_with(&format!("{target} error > closed: ")),
            "{lines:#?}"
        );
        assert_eq!(lines.len(), 3);
    });
}

#[test]
fn json_keeps_header_order_case_and_duplicates() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let target = format!("http://{addr}/x?y=1");
        let run = cli(FAST.iter().copied().chain(["--json", &target]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let objects = run.json();
        assert_eq!(objects.len(), 1);
        let o = &objects[0];
        assert_eq!(o["target"], target.as_str());
        assert_eq!(o["url"], target.as_str());
        assert_eq!(o["address"], addr.to_string());
        assert_eq!(o["status"], 200);
        assert_eq!(o["version"], "HTTP/1.1");
        assert_eq!(o["reason"], "OK");
        assert_eq!(
            o["headers"],
            json!([
                ["Server", "test"],
                ["X-Dup", "1"],
                ["x-dup", "2"],
                ["Content-Length", "5"]
            ])
        );
        assert!(o["error"].is_null());
        assert_eq!(o["interim"], serde_json::json!([]), "no 1xx head here");
        let t = &o["timings"];
        for phase in ["dns_ms", "connect_ms", "first_byte_ms", "total_ms"] {
            let ms = t[phase].as_f64().unwrap_or_else(|| panic!("{phase}: {t}"));
            assert!((0.0..3000.0).contains(&ms), "{phase} = {ms}");
        }
        assert!(t["total_ms"].as_f64() >= t["first_byte_ms"].as_f64());
    });
}

#[test]
fn json_error_is_an_object_with_kind_and_message() {
    with_deadline(LIMIT, || {
        let refused = support::closed_port().to_string();
        let run = cli(FAST.iter().copied().chain(["--json", &refused, "h:0"]));
        assert_eq!(run.code, Some(1));
        let objects = run.json();
        assert_eq!(objects.len(), 2);
        let by_target = |t: &str| {
            objects
                .iter()
                .find(|o| o["target"] == t)
                .unwrap_or_else(|| panic!("no outcome for {t}: {objects:?}"))
        };
        let o = by_target(&refused);
        assert_eq!(o["error"]["kind"], "refused");
        let message = o["error"]["message"].as_str().unwrap();
        assert!(message.contains(&refused), "{message}");
        assert_eq!(o["address"], refused.as_str());
        assert!(o["status"].is_null() && o["headers"].is_null());
        assert!(o["timings"]["total_ms"].is_number());
        assert!(o["timings"]["first_byte_ms"].is_null());

        let o = by_target("h:0");
        assert_eq!(o["error"]["kind"], "bad-target");
        assert!(o["error"]["message"].as_str().unwrap().contains("bad port"));
        assert!(o["url"].is_null() && o["address"].is_null());
    });
}

#[test]
fn output_file_is_truncated_or_appended() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("out.txt");
        let file = file.to_str().unwrap();
        std::fs::write(file, "old contents\n").unwrap();
        let a = http_server(NORMAL).to_string();
        let b = http_server(NORMAL).to_string();
        let fetch = |target: &str, more: &[&str]| {
            let run = cli(FAST
                .iter()
                .copied()
                .chain(["-q", "-o", file, target])
                .chain(more.iter().copied()));
            assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
            assert!(run.stdout.is_empty(), "results go to the file only");
            std::fs::read_to_string(file).unwrap()
        };
        let head = |target: &str| format!("{target} header > HTTP/1.1 200 OK\n");

        let first = fetch(&a, &[]);
        assert!(first.starts_with(&head(&a)), "{first}");
        assert!(
            !first.contains("old contents"),
            "without --append it truncates"
        );
        assert_eq!(first.lines().count(), 5);

        let second = fetch(&b, &["--append"]);
        assert!(second.starts_with(&first), "--append keeps what was there");
        assert!(second[first.len()..].starts_with(&head(&b)));
        assert_eq!(second.lines().count(), 10);
    });
}

#[test]
fn default_request_is_get_http_1_0_with_host_and_user_agent() {
    with_deadline(LIMIT, || {
        let (addr, requests) = recording_server(NORMAL);
        let target = format!("http://{addr}/a/b?q=1");
        let run = cli(FAST.iter().copied().chain(["-q", &target]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let request = String::from_utf8(requests.recv().unwrap()).unwrap();
        assert_eq!(
            request,
            format!(
                "GET /a/b?q=1 HTTP/1.0\r\nHost: {addr}\r\nUser-Agent: fetch-headers/{}\r\n\r\n",
                env!("CARGO_PKG_VERSION")
            )
        );
    });
}

#[test]
fn request_options_reach_the_server() {
    with_deadline(LIMIT, || {
        let (addr, requests) = recording_server(NORMAL);
        let target = format!("http://{addr}/ignored");
        let run = cli(FAST.iter().copied().chain([
            "-q",
            "--head",
            "-H",
            "X-A: 1",
            "-H",
            "X-B:two words ",
            "-A",
            "probe/2",
            "--path",
            "/p",
            "--http1.1",
            &target,
        ]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let request = String::from_utf8(requests.recv().unwrap()).unwrap();
        let lines: Vec<&str> = request.split("\r\n").collect();
        assert_eq!(lines[0], "HEAD /p HTTP/1.1", "{request}");
        for expected in [
            format!("Host: {addr}"),
            "User-Agent: probe/2".into(),
            "X-A: 1".into(),
            "X-B: two words".into(),
            "Connection: close".into(),
        ] {
            assert!(lines.contains(&expected.as_str()), "{expected}: {request}");
        }
        assert!(request.ends_with("\r\n\r\n"));
    });
}

/// `-H` replaces a built-in field of the same name (in its place, any
/// case) and an empty value removes it, as curl does: one Host, never two.
#[test]
fn a_header_option_replaces_or_removes_a_built_in_field() {
    with_deadline(LIMIT, || {
        let (addr, requests) = recording_server(NORMAL);
        let run = cli(FAST.iter().copied().chain([
            "-q",
            "--http1.1",
            "-H",
            "host: virtual.example",
            "-H",
            "User-Agent:",
            "-H",
            "Connection: keep-alive",
            "-H",
            "X-Last: 1",
            &addr.to_string(),
        ]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let request = String::from_utf8(requests.recv().unwrap()).unwrap();
        let lines: Vec<&str> = request.split("\r\n").collect();
        assert_eq!(
            lines,
            [
                "GET / HTTP/1.1",
                "host: virtual.example",
                "Connection: keep-alive",
                "X-Last: 1",
                "",
                ""
            ],
            "{request}"
        );
    });
}

/// A URL's fragment names a part of the page for a browser: it is never
/// sent to the server.
#[test]
fn a_fragment_is_not_sent() {
    with_deadline(LIMIT, || {
        let (addr, requests) = recording_server(NORMAL);
        let target = format!("http://{addr}/a/b?q=1#section");
        let run = cli(FAST.iter().copied().chain(["-q", target.as_str()]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let request = String::from_utf8(requests.recv().unwrap()).unwrap();
        assert!(
            request.starts_with("GET /a/b?q=1 HTTP/1.0\r\n"),
            "{request}"
        );
    });
}

/// An address literal of a family the run excludes is the target's fault:
/// `bad-target`, not a DNS error.
#[test]
fn an_address_of_an_excluded_family_is_a_bad_target() {
    with_deadline(LIMIT, || {
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["-q", "--json", "-4", "[::1]:8080"]));
        let outcome = &run.json()[0];
        assert_eq!(outcome["error"]["kind"], "bad-target", "{outcome}");
        let message = outcome["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("IPv6") && message.contains("IPv4"),
            "{message}"
        );
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["-q", "--json", "-6", "127.0.0.1"]));
        assert_eq!(run.json()[0]["error"]["kind"], "bad-target");
    });
}

/// Every JSON object has the same keys in the same order, a success and a
/// failure alike, with null for what an outcome does not have, so a
/// reader never has to ask whether a key exists.
#[test]
fn every_json_object_has_the_same_keys() {
    with_deadline(LIMIT, || {
        let ok = http_server(NORMAL).to_string();
        let refused = support::closed_port().to_string();
        let run = cli(FAST.iter().copied().chain(["-q", "--json", &ok, &refused]));
        let objects = run.json();
        assert_eq!(objects.len(), 2);
        let expected = [
            "target",
            "url",
            "final_url",
            "address",
            "status",
            "version",
            "reason",
            "headers",
            "interim",
            "redirects",
            "tls",
            "error",
            "timings",
        ];
        for object in &objects {
            let mut keys: Vec<&str> = object
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            keys.sort_unstable();
            let mut sorted = expected;
            sorted.sort_unstable();
            assert_eq!(keys, sorted, "{object}");
        }
        // And in that order on every line (serde_json sorts keys, so read
        // the order off the text).
        for line in run.text().lines() {
            let at: Vec<usize> = expected
                .iter()
                .map(|key| line.find(&format!("\"{key}\":")).unwrap())
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
        }
        let success = objects.iter().find(|o| o["target"] == ok.as_str()).unwrap();
        assert_eq!(success["interim"], serde_json::json!([]), "no 1xx head: []");
        assert!(success["error"].is_null());
        let failure = objects
            .iter()
            .find(|o| o["target"] == refused.as_str())
            .unwrap();
        for key in ["status", "version", "reason", "headers", "interim"] {
            assert!(failure[key].is_null(), "{key}: {failure}");
        }
        assert_eq!(failure["error"]["kind"], "refused");
    });
}

#[test]
fn empty_user_agent_sends_none() {
    with_deadline(LIMIT, || {
        let (addr, requests) = recording_server(NORMAL);
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["-q", "-A", "", &addr.to_string()]));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let request = String::from_utf8(requests.recv().unwrap()).unwrap();
        assert!(
            !request.to_ascii_lowercase().contains("user-agent"),
            "{request}"
        );
    });
}

/// An internationalised name goes to DNS as punycode while the outcome
/// names it as written. The name is under the reserved `.invalid` domain
/// so it fails the same way on every machine, network or not.
#[test]
fn idn_target_resolves_as_punycode_and_reports_as_written() {
    with_deadline(LIMIT, || {
        let run = cli([
            "--json",
            "-4",
            "--connect-timeout",
            "1s",
            "-m",
            "3s",
            "中文.invalid",
        ]);
        assert_eq!(run.code, Some(1));
        let objects = run.json();
        assert_eq!(objects.len(), 1);
        let o = &objects[0];
        assert_eq!(o["target"], "中文.invalid");
        assert_eq!(o["url"], "http://xn--fiq228c.invalid/");
        assert_eq!(o["error"]["kind"], "nxdomain");
        let message = o["error"]["message"].as_str().unwrap();
        assert!(message.contains("xn--fiq228c.invalid"), "{message}");
        // And the text form keeps the name as written too.
        let run = cli(["-q", "--connect-timeout", "1s", "中文.invalid"]);
        assert!(
            run.text().starts_with("中文.invalid error > nxdomain: "),
            "{}",
            run.text()
        );
    });
}

#[test]
fn json_lines_parse_for_many_targets_at_once() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let targets: Vec<String> = (0..50).map(|i| format!("http://{addr}/{i}")).collect();
        let run = cli(FAST
            .iter()
            .map(|s| s.to_string())
            .chain(["--json".into(), "-c".into(), "7".into()])
            .chain(targets.iter().cloned()));
        assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
        let objects = run.json();
        let mut seen: Vec<&str> = objects
            .iter()
            .map(|o| o["target"].as_str().unwrap())
            .collect();
        seen.sort_unstable();
        let mut wanted: Vec<&str> = targets.iter().map(String::as_str).collect();
        wanted.sort_unstable();
        assert_eq!(seen, wanted, "one object per target");
        assert!(objects.iter().all(|o| o["status"] == json!(200)));
    });
}

/// Results that cannot be written are not a success: with every target
/// answering, a full disk still makes the exit status 2, with a message.
#[test]
fn failed_output_write_is_an_error_exit() {
    with_deadline(LIMIT, || {
        let target = http_server(NORMAL).to_string();
        let run = cli(FAST.iter().copied().chain(["-o", "/dev/full", &target]));
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr.contains("writing results failed"),
            "{}",
            run.stderr
        );
    });
}

/// When the reader of stdout goes away (`fetch-headers ... | head -1`),
/// the run stops taking new targets instead of fetching the whole list
/// for nobody. Here 1,000 silent targets at `-c 10` with a 1s read timeout
/// would take 100 s; after the pipe closes, the fetches in flight are
/// cancelled (`tests/cli_stop.rs` holds them longer).
#[test]
fn closed_stdout_stops_the_run() {
    with_deadline(LIMIT, || {
        let good = http_server(NORMAL);
        let silent = support::silent_server();
        let mut list = format!("http://{good}/\n");
        for i in 0..1000 {
            list.push_str(&format!("http://{silent}/{i}\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("targets.txt");
        std::fs::write(&path, list).unwrap();
        let started = std::time::Instant::now();
        let mut child = Command::new(support::BIN)
            .args(["-q", "-c", "10", "--read-timeout", "1s", "-i"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(first.contains("header > HTTP/1.1 200 OK"), "{first}");
        drop(stdout); // like `head -1` exiting
        let status = child.wait().unwrap();
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(20),
            "kept fetching for {elapsed:?} after stdout closed"
        );
        assert_eq!(
            status.code(),
            Some(0),
            "the one outcome written was an answer; the cancelled ones were never written"
        );
    });
}
