//! The progress line on a real terminal: a pseudo-terminal is the child's
//! stdout and stderr, as when a person runs the command, and the test reads
//! what the screen would show.
mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

use support::{read_head, serve, with_deadline, BIN};

/// How long the server waits before each answer: longer than the progress
/// line's redraw interval (250 ms), so a progress line is drawn between
/// two results.
const PAUSE: Duration = Duration::from_millis(300);

/// What a terminal shows for one line of output: the text after the last
/// carriage return, with the erase-line sequence that follows it removed.
fn shown(line: &str) -> &str {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let last = line.rsplit('\r').next().unwrap_or(line);
    last.strip_prefix("\x1b[K").unwrap_or(last)
}

/// With stdout and stderr on one terminal, every result line starts on a
/// line of its own: the progress line is erased before results are
/// written after it, never glued in front of them.
#[test]
fn results_never_start_after_the_progress_line() {
    with_deadline(Duration::from_secs(60), || {
        let addr = serve(|mut stream: TcpStream| {
            read_head(&mut stream);
            thread::sleep(PAUSE);
            let _ = stream.write_all(b"HTTP/1.0 200 OK\r\nServer: slow\r\n\r\n");
        });
        let (mut master, slave) = support::pty();
        let targets: Vec<String> = (0..4).map(|i| format!("http://{addr}/{i}")).collect();
        let mut child = Command::new(BIN)
            .args(["-c", "1"])
            .args(&targets)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave))
            .spawn()
            .unwrap();
        // The child holds the only slave descriptors now: reading the
        // master ends (EIO) once it has exited.
        let mut screen = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            match master.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => screen.extend_from_slice(&chunk[..n]),
                Err(e) if e.raw_os_error() == Some(libc::EIO) => break,
                Err(e) => panic!("reading the terminal: {e}"),
            }
        }
        let status = child.wait().unwrap();
        let screen = String::from_utf8(screen).unwrap();
        assert_eq!(status.code(), Some(0), "{screen:?}");
        assert!(
            screen.contains(" done: "),
            "a progress line was drawn: {screen:?}"
        );
        let results: Vec<&str> = screen
            .split('\n')
            .filter(|line| line.contains(" header > "))
            .collect();
        assert_eq!(results.len(), 4 * 2, "{screen:?}");
        for line in results {
            let shown = shown(line);
            assert!(
                targets
                    .iter()
                    .any(|t| shown.starts_with(&format!("{t} header > "))),
                "a result glued to other text: {shown:?} in {screen:?}"
            );
        }
    });
}
