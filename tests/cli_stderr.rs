//! A stderr that cannot be written (`2>/dev/full`, `2>&1 | head -1`) must
//! never crash the command: the results and the exit status are those of
//! the run, as if stderr had been read.
mod support;

use std::fs::OpenOptions;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::{closed_port, http_server, with_deadline, BIN, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary with `args` and `stderr` as its standard error; returns
/// the exit code (`None` if a signal, SIGABRT from a panic in the panic
/// hook, ended it) and stdout.
fn run_with_stderr(args: Vec<String>, stderr: Stdio, log: Option<&str>) -> (Option<i32>, String) {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    match log {
        Some(filter) => command.env("RUST_LOG", filter),
        None => command.env_remove("RUST_LOG"),
    };
    let output = command.output().expect("run fetch-headers");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    (output.status.code(), stdout)
}

fn dev_full() -> Stdio {
    Stdio::from(
        OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("open /dev/full"),
    )
}

/// The write end of a pipe whose reader has gone: every write fails with
/// EPIPE, as for `2>&1 | head -1` once head has left.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

/// Arguments for one good target and, if `fail`, one refused one.
fn args(fail: bool) -> Vec<String> {
    let mut args: Vec<String> = FAST.map(String::from).into();
    args.push(http_server(NORMAL).to_string());
    if fail {
        args.push(closed_port().to_string());
    }
    args
}

#[test]
fn stderr_to_dev_full_keeps_the_exit_status() {
    with_deadline(LIMIT, || {
        let (code, stdout) = run_with_stderr(args(false), dev_full(), None);
        assert_eq!(code, Some(0), "{stdout}");
        assert!(stdout.contains("header > HTTP/1.1 200 OK"), "{stdout}");
        let (code, stdout) = run_with_stderr(args(true), dev_full(), None);
        assert_eq!(code, Some(1), "{stdout}");
        assert!(stdout.contains("error > refused"), "{stdout}");
    });
}

#[test]
fn stderr_to_a_closed_pipe_keeps_the_exit_status() {
    with_deadline(LIMIT, || {
        let (code, stdout) = run_with_stderr(args(false), closed_pipe(), None);
        assert_eq!(code, Some(0), "{stdout}");
        let (code, _) = run_with_stderr(args(true), closed_pipe(), None);
        assert_eq!(code, Some(1));
    });
}

/// The log lines (`RUST_LOG=debug`) and the `--stats` table go to a full
/// stderr as well.
#[test]
fn logging_and_stats_to_a_full_stderr_keep_the_exit_status() {
    with_deadline(LIMIT, || {
        let mut with_stats = args(true);
        with_stats.push("--stats".into());
        let (code, _) = run_with_stderr(with_stats, dev_full(), Some("debug"));
        assert_eq!(code, Some(1));
        let (code, _) = run_with_stderr(args(false), closed_pipe(), Some("trace"));
        assert_eq!(code, Some(0));
    });
}

/// A usage error still says 2, with nowhere to say why.
#[test]
fn usage_errors_with_a_full_stderr_exit_2() {
    with_deadline(LIMIT, || {
        for args in [
            vec![],
            vec!["--bogus".to_owned()],
            vec!["-H".into(), "x".into(), "h".into()],
        ] {
            let (code, _) = run_with_stderr(args.clone(), dev_full(), None);
            assert_eq!(code, Some(2), "{args:?}");
            let (code, _) = run_with_stderr(args.clone(), closed_pipe(), None);
            assert_eq!(code, Some(2), "{args:?}");
        }
        let missing = tempfile::tempdir().expect("temp dir");
        let list = missing.path().join("no-such-list.txt");
        let args = vec!["-i".into(), list.display().to_string()];
        let (code, _) = run_with_stderr(args, dev_full(), None);
        assert_eq!(code, Some(2));
    });
}
