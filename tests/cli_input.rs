//! Target lists: files, stdin, legacy encodings, and inputs far larger than
//! memory should ever hold.
mod support;

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{cli, cli_with_stdin, closed_port, http_server, with_deadline, FAST, NORMAL};

const LIMIT: Duration = Duration::from_secs(60);

/// The targets of a run's JSON outcomes, sorted.
fn targets_of(run: &support::Run) -> Vec<String> {
    let mut targets: Vec<String> = run
        .json()
        .iter()
        .map(|o| o["target"].as_str().expect("target").to_owned())
        .collect();
    targets.sort();
    targets
}

#[test]
fn input_file_skips_blank_lines_and_comments() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("hosts.txt");
        std::fs::write(
            &list,
            format!(
                "# a comment\n\n   \nhttp://{addr}/a\n  http://{addr}/b  \r\n\t# indented comment\n\
                 http://{addr}/c"
            ),
        )
        .unwrap();
        let run = cli(FAST.iter().copied().chain([
            "--json",
            "-i",
            list.to_str().unwrap(),
            "arg.invalid",
        ]));
        assert_eq!(
            targets_of(&run),
            [
                "arg.invalid".into(),
                format!("http://{addr}/a"),
                format!("http://{addr}/b"),
                format!("http://{addr}/c"),
            ],
            "arguments and file lines both count; the last line needs no newline"
        );
        assert_eq!(run.code, Some(1), "arg.invalid fails");
    });
}

/// A `#` after a blank starts a comment, also after a target; a `#` inside
/// a target (a URL's fragment) does not.
#[test]
fn a_comment_after_a_target_is_cut_off() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("hosts.txt");
        std::fs::write(
            &list,
            format!("{addr} # the test server\nhttp://{addr}/a#top\t# and its page\n"),
        )
        .unwrap();
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["--json", "-i", list.to_str().unwrap()]));
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(
            targets_of(&run),
            [addr.to_string(), format!("http://{addr}/a#top")]
        );
    });
}

#[test]
fn input_dash_reads_stdin() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let stdin = format!("http://{addr}/1\n# skip\nhttp://{addr}/2\n");
        let run = cli_with_stdin(
            FAST.iter().copied().chain(["--json", "-i", "-"]),
            stdin.as_bytes(),
        );
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(
            targets_of(&run),
            [format!("http://{addr}/1"), format!("http://{addr}/2")]
        );
        assert!(run.json().iter().all(|o| o["status"] == 200));
    });
}

/// A GBK-encoded list: the Chinese name is decoded and reported as
/// written (and fails DNS under `.invalid` as punycode), while the ASCII
/// targets on the same list are fetched as usual.
#[test]
fn gbk_encoded_list_is_decoded() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        // "中文.invalid" in GBK: 中 = D6 D0, 文 = CE C4.
        let mut list = b"\xd6\xd0\xce\xc4.invalid\n".to_vec();
        list.extend_from_slice(format!("http://{addr}/1\nhttp://{addr}/2\n").as_bytes());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gbk.txt");
        std::fs::write(&path, &list).unwrap();
        let path = path.to_str().unwrap();

        let run =
            cli(FAST
                .iter()
                .copied()
                .chain(["--json", "--input-encoding", "gbk", "-i", path]));
        let objects = run.json();
        assert_eq!(objects.len(), 3, "{}", run.text());
        for o in &objects {
            if o["target"] == "中文.invalid" {
                assert_eq!(o["error"]["kind"], "nxdomain", "{o}");
                assert_eq!(o["url"], "http://xn--fiq228c.invalid/");
            } else {
                assert_eq!(o["status"], 200, "{o}");
            }
        }
        assert!(objects.iter().any(|o| o["target"] == "中文.invalid"));

        // Read as UTF-8 (the default), the same bytes are not a name: the
        // outcome says which bytes, escaped, and the run goes on.
        let run = cli(FAST.iter().copied().chain(["--json", "-i", path]));
        let objects = run.json();
        assert_eq!(objects.len(), 3);
        let bad = objects
            .iter()
            .find(|o| o["error"]["kind"] == "bad-target")
            .expect("a bad-target outcome");
        assert_eq!(bad["target"], "\\xd6\\xd0\\xce\\xc4.invalid", "{bad}");
        assert_eq!(objects.iter().filter(|o| o["status"] == 200).count(), 2);
    });
}

#[test]
fn utf8_bom_is_honoured() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bom.txt");
        std::fs::write(&path, format!("\u{feff}http://{addr}/\n")).unwrap();
        let run = cli(FAST
            .iter()
            .copied()
            .chain(["--json", "-i", path.to_str().unwrap()]));
        assert_eq!(run.code, Some(0), "{}", run.text());
        assert_eq!(targets_of(&run), [format!("http://{addr}/")]);
    });
}

/// Lines in the big-input test. A million lines took about 60 s in a
/// release build on the 2-core reference machine (refused connects at
/// about 16,000/s); 200,000 keep the test around 12 s and still dwarf any
/// in-memory buffer.
const BIG_INPUT_LINES: usize = 200_000;

/// Peak RSS allowed for the big run. The CLI needs about 5 MiB; loading
/// 200,000 targets (with their outcomes) would need far more.
const MAX_RSS_KIB: i64 = 64 * 1024;

/// The input is streamed: a very long target list runs in memory bounded
/// by the concurrency, and every line gets its outcome.
#[test]
fn huge_input_runs_in_bounded_memory() {
    with_deadline(Duration::from_secs(300), || {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        let line = format!("{}\n", closed_port());
        std::fs::write(&path, line.repeat(BIG_INPUT_LINES)).unwrap();

        let started = Instant::now();
        // Reaped by `wait4` below, which std's `wait` cannot stand in for:
        // it does not return the child's resource usage.
        #[allow(clippy::zombie_processes)]
        let mut child = Command::new(support::BIN)
            .args(["-c", "200", "--json", "-o", "/dev/null", "-i"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (status, rusage) = wait4(child.id());
        let elapsed = started.elapsed();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();

        assert!(libc::WIFEXITED(status), "status {status:#x}");
        assert_eq!(libc::WEXITSTATUS(status), 1, "{stderr}");
        let summary = format!("{BIG_INPUT_LINES} hosts: 0 ok, {BIG_INPUT_LINES} failed (refused {BIG_INPUT_LINES}) in ");
        assert!(stderr.starts_with(&summary), "{stderr}");
        let peak_kib = rusage.ru_maxrss; // kilobytes on Linux
        eprintln!("{BIG_INPUT_LINES} lines in {elapsed:?}, peak RSS {peak_kib} KiB");
        assert!(
            peak_kib < MAX_RSS_KIB,
            "peak RSS {peak_kib} KiB for {BIG_INPUT_LINES} lines: is the input loaded whole?"
        );
    });
}

/// Waits for the child `pid` and returns its wait status and its own
/// resource usage (peak RSS of that one child, unlike
/// `getrusage(RUSAGE_CHILDREN)`, which mixes in the other tests' children).
#[allow(unsafe_code)] // wait4 with rusage has no safe wrapper in std
fn wait4(pid: u32) -> (libc::c_int, libc::rusage) {
    let mut status = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `rusage` are valid for writes for the whole
        // call; `pid` is our own unwaited child (std's `Child` is never
        // waited on afterwards, so the pid cannot be reaped twice).
        let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut rusage) };
        if rc == pid as libc::pid_t {
            return (status, rusage);
        }
        let error = std::io::Error::last_os_error();
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::Interrupted,
            "wait4: {error}"
        );
    }
}

/// `-i DIR` is a usage error, found before any fetch: exit status 2 and a
/// message naming the directory.
#[test]
fn input_directory_is_refused() {
    with_deadline(LIMIT, || {
        let dir = tempfile::tempdir().unwrap();
        let name = dir.path().display().to_string();
        let run = cli(["-i", &name]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("cannot read targets from '{name}'")),
            "{}",
            run.stderr
        );
        assert!(run.stdout.is_empty());
    });
}

/// A read error in the middle of a list ends the run with exit status 2
/// and a message naming the input, after the results of the targets read
/// before it. The input is a pseudo-terminal's master whose slave wrote
/// two targets and closed: reading it gives those lines, then EIO.
#[test]
fn read_error_in_the_middle_of_a_list_exits_2_after_the_results() {
    with_deadline(LIMIT, || {
        let addr = http_server(NORMAL);
        let (master, mut slave) = support::pty();
        write!(slave, "http://{addr}/1\nhttp://{addr}/2\n").unwrap();
        drop(slave);
        let output = Command::new(support::BIN)
            .args(FAST)
            .args(["--json", "-i", "-"])
            .stdin(Stdio::from(master))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains("cannot read targets from '-'") && stderr.contains("os error 5"),
            "{stderr}"
        );
        let objects = support::json_lines(std::str::from_utf8(&output.stdout).unwrap());
        let mut targets: Vec<&str> = objects
            .iter()
            .map(|o| o["target"].as_str().unwrap())
            .collect();
        targets.sort_unstable();
        assert_eq!(
            targets,
            [format!("http://{addr}/1"), format!("http://{addr}/2")]
        );
        assert!(objects.iter().all(|o| o["status"] == 200), "{objects:?}");
    });
}
