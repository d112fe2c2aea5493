//! The bytes every bench client and the bench server exchange, and the one
//! check that decides whether a fetch succeeded.
//!
//! All four fetch clients (ours, tokio `current_thread`, tokio multi-thread
//! and the raw mio floor) send [`REQUEST`] and accept a response only when
//! [`is_ok_head`] says so, so they do exactly the same work on the wire and
//! a client that silently fails cannot look fast. The server answers with
//! one fixed head, chosen by [`Answer`].

use std::fmt;

/// The request each client sends: the smallest complete HTTP/1.0 HEAD.
pub const REQUEST: &[u8] = b"HEAD / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";

/// The response head the bench server answers with by default.
pub const RESPONSE: &[u8] = b"HTTP/1.0 200 OK\r\nServer: bench\r\nContent-Length: 0\r\n\r\n";

/// The head nginx 1.22 sends for `location / { return 200 "ok\n"; }` (the
/// server of `tests/cli_nginx.rs`), as it answers a `HEAD`, with its `Date`
/// frozen: six lines, 142 bytes. The CLI bench answers with it, because
/// what the command costs per fetch grows with the lines it prints, and the
/// figures it is compared with were measured against that nginx.
pub const NGINX_RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\n\
Server: nginx/1.22.1\r\n\
Date: Tue, 01 Dec 2026 21:02:54 GMT\r\n\
Content-Type: text/plain\r\n\
Content-Length: 3\r\n\
Connection: close\r\n\
\r\n";

/// Which head the bench server answers every request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Answer {
    /// [`RESPONSE`]: three lines, the least a client can be given.
    #[default]
    Short,
    /// [`NGINX_RESPONSE`]: six lines, shaped like a real server's.
    Nginx,
}

impl Answer {
    /// The bytes sent.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Answer::Short => RESPONSE,
            Answer::Nginx => NGINX_RESPONSE,
        }
    }

    /// Stable name for passing the choice to a server process.
    pub fn key(self) -> &'static str {
        match self {
            Answer::Short => "short",
            Answer::Nginx => "nginx",
        }
    }

    /// The answer called `key`, if any.
    pub fn from_key(key: &str) -> Option<Answer> {
        [Answer::Short, Answer::Nginx]
            .into_iter()
            .find(|a| a.key() == key)
    }

    /// The head's lines without their `\r\n` and without the final empty
    /// line: what a client prints as `TARGET header > LINE`.
    #[allow(dead_code)] // only the CLI bench checks printed lines
    pub fn lines(self) -> impl Iterator<Item = &'static [u8]> {
        self.bytes()
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .take_while(|line| !line.is_empty())
    }
}

/// Largest head a client accepts before it calls the response an error.
/// It bounds every client's memory for a misbehaving server.
pub const MAX_HEAD: usize = 16 * 1024;

/// Returns the length of the head (up to and including the blank line) if
/// `buf` holds a complete one.
pub fn head_len(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// True if `head` is a complete response head with status 200.
pub fn is_ok_head(head: &[u8]) -> bool {
    let status_ok = head.starts_with(b"HTTP/1.0 200 ") || head.starts_with(b"HTTP/1.1 200 ");
    status_ok && head.ends_with(b"\r\n\r\n")
}

/// Turns a received head into a fetch outcome: `Ok` for a `200`, otherwise
/// an error message quoting what the server sent.
pub fn check_head(head: &[u8]) -> Result<(), String> {
    if is_ok_head(head) {
        Ok(())
    } else {
        Err(format!("bad head: {:?}", String::from_utf8_lossy(head)))
    }
}

/// What one client run achieved: every fetch lands in exactly one counter.
///
/// Workers each keep their own `Tally` and the driver merges them at the
/// end, so no client needs shared mutable state just for bookkeeping.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    /// Fetches that got a complete `200` head.
    pub ok: usize,
    /// Fetches that failed in any way.
    pub failed: usize,
    /// The first few failure messages, for a loud report.
    pub errors: Vec<String>,
}

impl Tally {
    /// How many failure messages a tally keeps; the count is always exact.
    const KEEP_ERRORS: usize = 5;

    /// Records one fetch outcome.
    pub fn record(&mut self, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => self.ok += 1,
            Err(msg) => {
                self.failed += 1;
                if self.errors.len() < Self::KEEP_ERRORS {
                    self.errors.push(msg);
                }
            }
        }
    }

    /// Records `count` failures that share one cause.
    pub fn record_many(&mut self, count: usize, msg: &str) {
        self.failed += count;
        if count > 0 && self.errors.len() < Self::KEEP_ERRORS {
            self.errors.push(format!("{msg} (x{count})"));
        }
    }

    /// Adds another worker's tally into this one.
    pub fn merge(&mut self, other: Tally) {
        self.ok += other.ok;
        self.failed += other.failed;
        let room = Self::KEEP_ERRORS.saturating_sub(self.errors.len());
        self.errors.extend(other.errors.into_iter().take(room));
    }

    /// Total fetches recorded.
    #[allow(dead_code)] // not every includer reports totals
    pub fn total(&self) -> usize {
        self.ok + self.failed
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ok, {} failed", self.ok, self.failed)?;
        for e in &self.errors {
            write!(f, "\n    {e}")?;
        }
        Ok(())
    }
}
