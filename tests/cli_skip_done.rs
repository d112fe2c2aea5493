//! `--skip-done FILE`: a run resumed from an earlier run's output fetches
//! only what that output has no outcome for.
mod support;

use std::time::Duration;

use support::{cli, http_server, with_deadline, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

fn targets_in(path: &std::path::Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut targets: Vec<String> = support::json_lines(&text)
        .iter()
        .map(|o| o["target"].as_str().unwrap().to_owned())
        .collect();
    targets.sort();
    targets
}

/// The same command line starts the run and resumes it: the second run
/// fetches only the target added since, and says how many it skipped.
#[test]
fn the_same_command_line_starts_and_resumes_a_run() {
    with_deadline(LIMIT, || {
        let (a, b) = (http_server(NORMAL), http_server(NORMAL));
        let refused = support::closed_port().to_string();
        let dir = tempfile::tempdir().unwrap();
        let (list, out) = (dir.path().join("list.txt"), dir.path().join("out.jsonl"));
        let out_arg = out.to_str().unwrap().to_owned();
        let run = |lines: &[String]| {
            std::fs::write(&list, lines.join("\n")).unwrap();
            cli(FAST.iter().copied().chain([
                "--json",
                "-i",
                list.to_str().unwrap(),
                "-o",
                &out_arg,
                "--append",
                "--skip-done",
                &out_arg,
            ]))
        };
        let first = run(&[a.to_string(), refused.clone()]);
        assert_eq!(first.code, Some(1), "{}", first.stderr);
        let second = run(&[a.to_string(), refused.clone(), b.to_string()]);
        assert_eq!(
            second.code,
            Some(0),
            "only b ran, and it answered: {}",
            second.stderr
        );
        assert!(
            second.stderr.contains("1 host: 1 ok") && second.stderr.contains("2 skipped as done"),
            "{}",
            second.stderr
        );
        let mut expected = vec![a.to_string(), b.to_string(), refused];
        expected.sort();
        assert_eq!(targets_in(&out), expected, "one outcome each, none twice");
    });
}

/// Text output counts too; an `interrupted` outcome, in either form, and
/// a last line cut off mid-write do not: those targets are fetched again.
#[test]
fn interrupted_and_torn_outcomes_are_not_done() {
    with_deadline(LIMIT, || {
        let servers: Vec<String> = (0..5).map(|_| http_server(NORMAL).to_string()).collect();
        let dir = tempfile::tempdir().unwrap();
        let done = dir.path().join("done.txt");
        let [text_done, json_done, text_cut, json_cut, torn] = &servers[..] else {
            unreachable!()
        };
        std::fs::write(
            &done,
            format!(
                "{text_done} header > HTTP/1.1 200 OK\n\
                 {{\"target\":\"{json_done}\",\"url\":null,\"error\":null}}\n\
                 {text_cut} error > interrupted: interrupted by SIGINT\n\
                 {{\"target\":\"{json_cut}\",\"url\":null,\"error\":{{\"kind\":\"interrupted\",\"message\":\"x\"}}}}\n\
                 {{\"target\":\"{torn}\",\"url\""
            ),
        )
        .unwrap();
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["--json", "-q", "--skip-done", done.to_str().unwrap()])
            .chain(servers.iter().map(String::as_str)));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        let mut fetched: Vec<String> = run
            .json()
            .iter()
            .map(|o| o["target"].as_str().unwrap().to_owned())
            .collect();
        fetched.sort();
        let mut expected = vec![text_cut.clone(), json_cut.clone(), torn.clone()];
        expected.sort();
        assert_eq!(fetched, expected);
    });
}

/// `--skip-done X -o X` without `--append` would empty X: refused before
/// anything is written, and X is left as it was.
#[test]
fn skip_done_on_the_output_needs_append() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.jsonl");
        let before = "{\"target\":\"kept.invalid\"}\n";
        std::fs::write(&out, before).unwrap();
        let out = out.to_str().unwrap();
        let run = cli(["--json", "-o", out, "--skip-done", out, "h.invalid"]);
        assert_eq!(run.code, Some(2));
        assert!(run.stderr.contains("--append"), "{}", run.stderr);
        assert_eq!(std::fs::read_to_string(out).unwrap(), before);
    });
}
