//! A tiny open-file limit lowers the concurrency instead of failing fetches.
mod support;

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::Duration;

#[test]
#[allow(unsafe_code)] // pre_exec is unsafe by nature: the child runs it between fork and exec
fn tiny_fd_limit_lowers_concurrency_and_every_fetch_succeeds() {
    let addr = support::http_server(b"HTTP/1.0 200 OK\r\nServer: fd-test\r\n\r\n");
    let targets: Vec<String> = (0..300).map(|_| addr.to_string()).collect();
    let output = support::with_deadline(Duration::from_secs(60), move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_fetch-headers"));
        command
            .args(["-c", "500", "--json", "--timeout", "10s"])
            .args(&targets);
        // SAFETY: setrlimit is async-signal-safe, and the closure touches
        // nothing but its own stack between fork and exec.
        unsafe {
            command.pre_exec(|| {
                let limit = libc::rlimit {
                    rlim_cur: 40,
                    rlim_max: 40,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        command.output().expect("run fetch-headers")
    });
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
