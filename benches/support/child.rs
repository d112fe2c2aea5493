//! Child roles: running parts of a bench in other processes, by
//! re-executing the bench binary itself with a role in an environment
//! variable.
//!
//! A server must not share a process with the clients it serves: its CPU
//! time would be counted as theirs, and its memory would blur theirs. So
//! the bench binary starts a copy of itself with `FH_BENCH_ROLE=ROLE`; its
//! `main` checks [`ROLE_VAR`] before anything else and runs that role
//! instead of the bench.
//!
//! Two shapes of child:
//!
//! - a **listening** child ([`spawn_listening`]): a server that binds a
//!   port, prints it as its first line, and serves until its stdin closes
//!   ([`exit_with_parent`]), which the kernel does for us when the parent
//!   dies, so a server never outlives its bench, even one that panics or
//!   is killed;
//! - a **run-to-completion** child ([`run_child`]): one measured client,
//!   which prints its report on stdout and exits.

use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

/// The environment variable that tells a re-executed bench binary its role.
pub const ROLE_VAR: &str = "FH_BENCH_ROLE";

/// A started listening child: its process, the pipe to its stdin (closing
/// it tells the child to exit), the rest of its stdout, and its port.
#[derive(Debug)]
pub struct Listening {
    /// The child process.
    pub child: Child,
    /// Its stdin: held open for the child's lifetime.
    pub stdin: ChildStdin,
    /// Its stdout, after the line with the port.
    #[allow(dead_code)] // only the DNS responder says more than its port
    pub stdout: BufReader<ChildStdout>,
    /// The port it said it listens on.
    pub port: u16,
}

/// Starts this binary with `role` and `vars`, and waits for the port the
/// child prints as its first line of stdout.
pub fn spawn_listening(role: &str, vars: &[(&str, String)]) -> io::Result<Listening> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .env(ROLE_VAR, role)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    for (key, value) in vars {
        command.env(key, value);
    }
    let mut child = command.spawn()?;
    let stdin = child.stdin.take().expect("stdin was piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout was piped"));
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let port: u16 = line
        .trim()
        .parse()
        .map_err(|_| io::Error::other(format!("bench {role} said {line:?}, not a port")))?;
    Ok(Listening {
        child,
        stdin,
        stdout,
        port,
    })
}

/// In a listening child: prints `port` as the first line of stdout, then
/// starts a thread that hands each line of stdin to `on_line` and exits
/// the process when stdin closes (the parent closed it, or died).
pub fn exit_with_parent(port: u16, mut on_line: impl FnMut(&str) + Send + 'static) {
    println!("{port}");
    let _ = io::stdout().flush();
    std::thread::spawn(move || {
        let mut stdin = io::stdin().lock();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => std::process::exit(0),
                Ok(_) => on_line(line.trim_end()),
            }
        }
    });
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

/// Prints `msg` and exits with status 1: a child role that cannot start.
pub fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(1)
}
