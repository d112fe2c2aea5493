//! The loopback HTTP server in its own process: the `server` child role
//! (see `child.rs`) and the handle that starts and stops it.
//!
//! The server must not share a process with the clients it serves: its CPU
//! time would be counted as theirs, and its memory would blur theirs. So
//! the bench binary starts a copy of itself with `FH_BENCH_ROLE=server`.
//! It exits when its stdin closes, so it never outlives the bench.

use std::io;
use std::net::SocketAddr;
use std::process::{Child, ChildStdin};
use std::time::Duration;

use crate::child::{self, fail};
use crate::wire::Answer;
use crate::{server, sys};

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
        let listening = child::spawn_listening(
            ROLE_SERVER,
            &[
                (DELAY_VAR, options.delay.as_millis().to_string()),
                (ANSWER_VAR, options.answer.key().to_string()),
            ],
        )?;
        Ok(ServerProcess {
            child: listening.child,
            stdin: Some(listening.stdin),
            addr: SocketAddr::from(([127, 0, 0, 1], listening.port)),
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
    // Exit with the parent: its end of our stdin closes however it ends.
    child::exit_with_parent(port, |_| {});

    match server::serve(listener, options) {
        Ok(()) => std::process::exit(0),
        Err(e) => fail(&format!("bench server: {e}")),
    }
}
