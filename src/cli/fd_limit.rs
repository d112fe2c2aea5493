//! Making room in the file-descriptor table before a large run.
//!
//! Each fetch in flight holds one socket. The usual soft limit (1024) is far
//! below the hard limit, so the run raises the soft limit to the hard one
//! first. Then, once everything the run keeps open is open (stdio, the
//! input and output files, the loop's epoll and eventfd), it counts what
//! is left; if that is short of the concurrency asked for, the concurrency
//! is lowered rather than letting connects fail with `EMFILE`.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept free for what opens them while the run goes on: the
/// DNS workers' sockets and files, a timeline file. A quarter of the
/// limit when the limit is tiny.
pub(crate) const RESERVED_FDS: u64 = 64;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and returns the soft
/// limit now in force.
pub(crate) fn raise_fd_limit() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum;
    let target = hard.unwrap_or(1 << 20);
    if target <= soft {
        return soft;
    }
    let raised = Rlimit {
        current: Some(target),
        maximum: hard,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => target,
        Err(e) => {
            log::debug!("could not raise RLIMIT_NOFILE to {target}: {e}");
            soft
        }
    }
}

/// How many sockets can be open at once under the soft limit `soft`, with
/// what is open now staying open: at least one.
pub(crate) fn max_concurrency(soft: u64) -> usize {
    let reserve = RESERVED_FDS.min(soft / 4);
    let left = soft.saturating_sub(open_fds() + reserve);
    usize::try_from(left).unwrap_or(usize::MAX).max(1)
}

/// Descriptors open now, not counting the one that lists them.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(3, |dir| dir.count().saturating_sub(1) as u64)
}
