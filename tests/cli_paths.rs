//! The files of a run: the target list, the output and the timeline must be
//! different files, and every output path is checked before any fetch, so
//! no mistake costs a truncated list or a run's work.
mod support;

use std::fs::{self, OpenOptions};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use support::{http_server, spawn_cli, wait_within, with_deadline, BIN, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

/// Runs the binary in `dir` with `args`; stdout goes to `stdout` if given.
fn run_in(dir: &Path, args: &[&str], stdout: Option<fs::File>) -> Output {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .args(FAST)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    match stdout {
        Some(file) => command.stdout(Stdio::from(file)),
        None => command.stdout(Stdio::piped()),
    };
    let mut child = command.spawn().expect("start fetch-headers");
    // A run that is not refused reads its own output as targets for ever:
    // kill it rather than let it grow the file.
    let status = wait_within(&mut child, Duration::from_secs(30));
    let mut stderr = Vec::new();
    std::io::Read::read_to_end(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    Output {
        status,
        stdout: Vec::new(),
        stderr,
    }
}

/// A target list in a fresh directory, and its contents.
fn list_in(dir: &Path) -> String {
    let contents = format!("http://{}/\n", http_server(NORMAL));
    fs::write(dir.join("list.txt"), &contents).unwrap();
    contents
}

fn assert_refused(output: &Output, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the same file"), "{stderr}");
    for word in words {
        assert!(stderr.contains(word), "{word:?} in {stderr}");
    }
}

/// `-i list.txt -o list.txt` once truncated the list before reading it.
/// Now it is refused, also through another spelling of the same path and
/// through a symlink, and the list is left as it was.
#[test]
fn output_over_the_input_is_refused_before_truncating() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let contents = list_in(dir.path());
        std::os::unix::fs::symlink("list.txt", dir.path().join("link.txt")).unwrap();
        for (input, output) in [
            ("list.txt", "list.txt"),
            ("list.txt", "./list.txt"),
            ("./list.txt", "link.txt"),
        ] {
            let run = run_in(dir.path(), &["-i", input, "-o", output], None);
            assert_refused(&run, &[input, output]);
            assert_eq!(
                fs::read_to_string(dir.path().join("list.txt")).unwrap(),
                contents
            );
            let run = run_in(dir.path(), &["-i", input, "-o", output, "--append"], None);
            assert_refused(&run, &[input, output]);
            assert_eq!(
                fs::read_to_string(dir.path().join("list.txt")).unwrap(),
                contents
            );
        }
    });
}

/// stdout appended to the list it reads (`-i list.txt >> list.txt`) would
/// feed the run its own output for ever.
#[test]
fn stdout_onto_the_input_is_refused() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let contents = list_in(dir.path());
        let appending = OpenOptions::new()
            .append(true)
            .open(dir.path().join("list.txt"))
            .unwrap();
        let run = run_in(dir.path(), &["-i", "list.txt"], Some(appending));
        assert_refused(&run, &["list.txt", "stdout"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("list.txt")).unwrap(),
            contents
        );
    });
}

/// `-o X --timeline X` mixed the two files; a timeline over the input list
/// destroyed the list after the run.
#[test]
fn timeline_over_the_output_or_the_input_is_refused() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let contents = list_in(dir.path());
        fs::write(dir.path().join("out.txt"), "old\n").unwrap();
        let run = run_in(
            dir.path(),
            &["-i", "list.txt", "-o", "out.txt", "--timeline", "./out.txt"],
            None,
        );
        assert_refused(&run, &["out.txt", "timeline"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("out.txt")).unwrap(),
            "old\n"
        );

        let run = run_in(
            dir.path(),
            &["-i", "list.txt", "--timeline", "list.txt"],
            None,
        );
        assert_refused(&run, &["list.txt", "timeline"]);
        assert_eq!(
            fs::read_to_string(dir.path().join("list.txt")).unwrap(),
            contents
        );

        // Two names for a new file are the same file too.
        let run = run_in(
            dir.path(),
            &["-i", "list.txt", "-o", "new.txt", "--timeline", "./new.txt"],
            None,
        );
        assert_refused(&run, &["new.txt", "timeline"]);
    });
}

/// Outputs that are not regular files may be shared: `/dev/null` twice is
/// fine.
#[test]
fn dev_null_twice_is_allowed() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        list_in(dir.path());
        let run = run_in(
            dir.path(),
            &[
                "-q",
                "-i",
                "list.txt",
                "-o",
                "/dev/null",
                "--timeline",
                "/dev/null",
            ],
            None,
        );
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
    });
}

/// A `--timeline` path that cannot be written is a usage error found
/// before the run: exit status 2, the path named, and no fetch made.
#[test]
fn bad_timeline_path_fails_before_any_fetch() {
    with_deadline(LIMIT, || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let target = listener.local_addr().unwrap().to_string();
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("no-such-dir").join("run.json");
        let bad = bad.to_str().unwrap();
        let mut child = spawn_cli(["--timeline", bad, &target]);
        let status = wait_within(&mut child, Duration::from_secs(30));
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert_eq!(status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(bad), "{stderr}");
        // The process is gone: a connection it made would be queued now.
        listener.set_nonblocking(true).unwrap();
        let accepted = listener.accept();
        assert!(
            matches!(&accepted, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "a fetch was made: {accepted:?}"
        );
    });
}
