//! Running parts of a bench in other processes, by re-executing the bench
//! binary itself with a role in an environment variable.
//!
//! The server must not share a process with the clients it serves: its CPU
//! time would be counted as theirs, and its memory would blur theirs. So the
//! bench binary starts a copy of itself with `FH_BENCH_ROLE=server`; its
//! `main` checks [`ROLE_VAR`] before anything else and runs that role
//! instead of the bench.
//!
//! A child must never outlive the bench, even one that panics or is killed:
//! the server reads its stdin and exits when it closes, which the kernel
//! does for us when the parent dies.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use crate::wire::Answer;
use crate::{server, sys};

/// The environment variable that tells a re-executed bench binary its role.
pub const ROLE_VAR: &str = "FH_BENCH_ROLE";

/// Role value: run the loopback server.
pub const ROLE_SERVER: &str = "server";

/// How long a served answer is held back, in milliseconds (server role).
const DELAY_VAR: &str = "FH_BENCH_DELAY_MS";

/// Which head the server answers with, an [`Answer::key`] (server role).
const ANSWER_VAR: &str = "FH_BENCH_SERVER_ANSWER";

/// A running server child process; dropping it stops the server.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Held open for the child's lifetime: closing it tells the server to
    /// exit. An `Option` so `drop` can close it before waiting.
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

impl ServerProcess {
    /// Starts a server process that serves as `options` say, and waits
    /// until it is listening.
    pub fn spawn(options: server::Options) -> io::Result<ServerProcess> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(ROLE_VAR, ROLE_SERVER)
            .env(DELAY_VAR, options.delay.as_millis().to_string())
            .env(ANSWER_VAR, options.answer.key())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        // The server's first (and only) line on stdout is its port.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout was piped");
        BufReader::new(stdout).read_line(&mut line)?;
        let port: u16 = line
            .trim()
            .parse()
            .map_err(|_| io::Error::other(format!("bench server said {line:?}, not a port")))?;
        Ok(ServerProcess {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The server role: bind, report the port, serve until stdin closes.
pub fn run_server_role() -> ! {
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("bench server: cannot raise the fd limit: {e}");
    }
    let delay_ms: u64 = std::env::var(DELAY_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let answer = std::env::var(ANSWER_VAR)
        .ok()
        .and_then(|key| Answer::from_key(&key))
        .unwrap_or_default();
    let options = server::Options {
        delay: Duration::from_millis(delay_ms),
        answer,
    };
    let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap_or_else(|e| fail(&format!("bench server: bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    println!("{port}");
    let _ = io::stdout().flush();

    // Exit with the parent: its end of our stdin closes however it ends.
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        let mut stdin = io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        std::process::exit(0);
    });

    match server::serve(listener, options) {
        Ok(()) => std::process::exit(0),
        Err(e) => fail(&format!("bench server: {e}")),
    }
}

/// Runs this binary again with `role` and extra environment variables,
/// waits for it, and returns its stdout. A child that fails is an error
/// that carries its exit status.
#[allow(dead_code)] // the CLI bench runs its children with `wait4`, to time them
pub fn run_child(role: &str, vars: &[(&str, String)]) -> io::Result<String> {
    let mut command = Command::new(std::env::current_exe()?);
    command.env(ROLE_VAR, role).stdin(Stdio::null());
    for (key, value) in vars {
        command.env(key, value);
    }
    let output = command.stderr(Stdio::inherit()).output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "child role {role} exited with {}",
            output.status
        )));
    }
    String::from_utf8(output.stdout).map_err(io::Error::other)
}

fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1)
}
