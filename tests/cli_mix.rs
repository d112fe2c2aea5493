//! Every kind of peer in one run, and the exit statuses the CLI documents.
mod support;

use std::collections::HashMap;
use std::time::Duration;

use support::{cli, http_server, peers, with_deadline, Expect, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

/// How many times each good peer appears in the mixed run (each time with
/// its own path, so every target text is distinct).
const REPEAT: usize = 20;

#[test]
fn mixed_run_gives_every_target_exactly_one_outcome() {
    with_deadline(LIMIT, || {
        let mut expected: HashMap<String, (&str, Expect)> = HashMap::new();
        for peer in peers() {
            match peer.expect {
                Expect::Head { .. } => {
                    for i in 0..REPEAT {
                        let target = format!("{}{i}", peer.target);
                        expected.insert(target, (peer.name, peer.expect));
                    }
                }
                Expect::Error(_) => {
                    expected.insert(peer.target.clone(), (peer.name, peer.expect));
                }
            }
        }
        // Interleave good and bad so failures are in flight beside successes.
        let mut targets: Vec<&String> = expected.keys().collect();
        targets.sort_by_key(|t| t.len() % 7);
        let run = cli(FAST
            .iter()
            .map(|s| s.to_string())
            .chain(["--json".into(), "-c".into(), "16".into()])
            .chain(targets.iter().map(|t| t.to_string())));

        let mut seen: HashMap<String, usize> = HashMap::new();
        for o in run.json() {
            let target = o["target"].as_str().expect("target").to_owned();
            *seen.entry(target.clone()).or_default() += 1;
            let (name, expect) = expected
                .get(&target)
                .unwrap_or_else(|| panic!("outcome for a target never given: {o}"));
            match expect {
                Expect::Head { status, last } => {
                    assert_eq!(o["status"], *status, "{name}: {o}");
                    // Complete: the last header of each good head is there.
                    let headers = o["headers"].as_array().expect("headers");
                    assert_eq!(headers.last().unwrap()[0], *last, "{name}: {o}");
                }
                Expect::Error(kind) => assert_eq!(o["error"]["kind"], *kind, "{name}: {o}"),
            }
        }
        for target in expected.keys() {
            assert_eq!(seen.get(target), Some(&1), "outcomes for {target}");
        }
        assert_eq!(seen.len(), expected.len());
        assert_eq!(run.code, Some(1), "some targets failed");
        // The silent peer takes the 1s read timeout; everything else is
        // quick. The max time is 3s; allow a loaded machine some slack.
        assert!(run.elapsed < Duration::from_secs(8), "{:?}", run.elapsed);
        let summary = format!("{} hosts: ", expected.len());
        assert!(run.stderr.starts_with(&summary), "{}", run.stderr);
        assert!(
            run.stderr.contains("read-timeout 1, reset 1"),
            "{}",
            run.stderr
        );
    });
}

#[test]
fn run_of_only_good_targets_exits_zero() {
    with_deadline(LIMIT, || {
        let good: Vec<String> = peers()
            .into_iter()
            .filter(|p| matches!(p.expect, Expect::Head { .. }))
            .map(|p| p.target)
            .collect();
        let run = cli(FAST.iter().map(|s| s.to_string()).chain(good.clone()));
        assert_eq!(run.code, Some(0), "{}\n{}", run.text(), run.stderr);
        let summary = format!("{0} hosts: {0} ok, 0 failed in ", good.len());
        assert!(run.stderr.starts_with(&summary), "{}", run.stderr);
    });
}

#[test]
fn one_failure_among_good_targets_exits_one() {
    with_deadline(LIMIT, || {
        let good = http_server(NORMAL).to_string();
        let run = cli(FAST
            .iter()
            .copied()
            .chain([good.as_str(), "nosuch.invalid"]));
        assert_eq!(run.code, Some(1));
        assert!(run
            .text()
            .contains(&format!("{good} header > HTTP/1.1 200 OK")));
        assert!(run.text().contains("nosuch.invalid error > nxdomain: "));
    });
}

/// Usage errors exit with 2, print to stderr what is wrong, and fetch
/// nothing (nothing on stdout).
#[test]
fn usage_errors_exit_two_with_a_message() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.txt");
        let missing = missing.to_str().unwrap();
        let cases: &[(&[&str], &str)] = &[
            (&[], "no targets"),
            (&["--timeout", "0", "h"], "must be above zero"),
            (&["--timeout", "999999999999s", "h"], "too long"),
            (&["--read-timeout", "5 parsecs", "h"], "unit"),
            (&["-c", "0", "h"], "--concurrency"),
            (&["-i", missing, "h"], "missing.txt"),
            (&["--bogus", "h"], "--bogus"),
            (&["--input-encoding", "klingon", "h"], "klingon"),
            (&["-H", "no colon", "h"], "Name: value"),
            (&["--append", "h"], "--output"),
            (&["--json", "--live", "h"], "--live"),
            (&["-o", "/nonexistent-dir/out.txt", "h"], "/nonexistent-dir"),
            // Request options that cannot be sent are the same mistake for
            // every target: a usage error, found before any fetch.
            (&["-H", "X: a\r\nInjected: 1", "h"], "control characters"),
            (&["-H", "Bad Name: x", "h"], "header name"),
            (&["-A", "two\nlines", "h"], "User-Agent"),
            (&["--path", "/a b", "h"], "/a b"),
            (&["--path", "relative", "h"], "'/'"),
        ];
        for (args, needle) in cases {
            let run = cli(args.iter().copied());
            assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
            assert!(run.stdout.is_empty(), "{args:?}");
            assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
        }
    });
}

#[test]
fn help_and_version_exit_zero() {
    with_deadline(LIMIT, || {
        let run = cli(["--help"]);
        assert_eq!(run.code, Some(0));
        for needle in ["--concurrency", "--json", "Exit status", "bad-target"] {
            assert!(run.text().contains(needle), "--help lacks {needle}");
        }
        let run = cli(["--version"]);
        assert_eq!(run.code, Some(0));
        assert_eq!(
            run.text(),
            format!("fetch-headers {}\n", env!("CARGO_PKG_VERSION"))
        );
    });
}

/// A bad request option fails before any connection is made (the server
/// never sees a request) and before the output file is truncated.
#[test]
fn bad_request_option_fails_before_connecting() {
    with_deadline(LIMIT, || {
        let (addr, requests) = support::recording_server(NORMAL);
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        std::fs::write(&out, "earlier results\n").unwrap();
        let run = cli(FAST.iter().copied().chain([
            "-o",
            out.to_str().unwrap(),
            "-H",
            "X: a\r\nInjected: 1",
            &addr.to_string(),
        ]));
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "earlier results\n",
            "a usage error leaves the output file alone"
        );
        // The CLI has exited, so a connection it made would be accepted
        // by now; the server's thread records a request only after it.
        assert!(requests.recv_timeout(Duration::from_millis(300)).is_err());
    });
}
