//! A tiny open-file limit lowers the concurrency instead of failing fetches.
mod support;

use std::process::{Command, Output};
use std::time::Duration;

/// Runs the command with `RLIMIT_NOFILE` at `limit`, soft and hard.
fn run_with_fd_limit(limit: u64, args: Vec<String>) -> Output {
    support::with_deadline(Duration::from_secs(60), move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fetch-headers"));
        command.args(&args);
        support::limit_open_files(&mut command, limit);
        command.output().expect("run fetch-headers")
    })
}

#[test]
fn tiny_fd_limit_lowers_concurrency_and_every_fetch_succeeds() {
    let addr = support::http_server(b"HTTP/1.0 200 OK\r\nServer: fd-test\r\n\r\n");
    let mut args: Vec<String> = ["-c", "500", "--json", "--timeout", "10s"]
        .map(String::from)
        .to_vec();
    args.extend((0..300).map(|_| addr.to_string()));
    let output = run_with_fd_limit(40, args);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("concurrency is lowered from 500"),
        "stderr: {stderr}"
    );
    assert_eq!(stdout.lines().count(), 300, "one outcome per target");
    assert!(
        stdout.lines().all(|line| line.contains("\"status\":200")),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
}

/// At eight descriptors, the run's own (stdio, an input file still being
/// read, the output file, the loop's epoll and eventfd) leave one for a
/// socket: the budget must count them all, or connects fail with EMFILE.
#[test]
fn eight_descriptors_leave_room_for_one_socket_and_every_fetch_succeeds() {
    let addr = support::http_server(b"HTTP/1.0 200 OK\r\nServer: fd-test\r\n\r\n");
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("targets.txt");
    let out = dir.path().join("out.jsonl");
    // Long enough that the reader thread keeps the file open while the
    // first fetches run (it reads ahead only a few thousand lines).
    std::fs::write(&list, format!("{addr}\n").repeat(5_000)).unwrap();
    let args = ["--json", "-q", "-i", list.to_str().unwrap()]
        .into_iter()
        .chain(["-o", out.to_str().unwrap()])
        .map(String::from)
        .collect();
    let output = run_with_fd_limit(8, args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.lines().count(), 5_000, "one outcome per target");
    let failed: Vec<&str> = written
        .lines()
        .filter(|line| !line.contains("\"status\":200"))
        .take(3)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
}
