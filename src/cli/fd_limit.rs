//! Making room in the file-descriptor table before a large run.
//!
//! Each fetch in flight holds one socket. The usual soft limit (1024) is far
//! below the hard limit, so the run raises the soft limit to the hard one
//! first; if that is still short of the concurrency asked for, the
//! concurrency is lowered rather than letting connects fail with `EMFILE`.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors kept free for everything that is not a fetch socket: stdio,
/// epoll, the waker, DNS workers' sockets, files. A quarter of the limit
/// when the limit is tiny.
pub(crate) const RESERVED_FDS: u64 = 64;

/// The descriptor budget after [`raise_fd_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FdBudget {
    /// The soft limit now in force.
    pub(crate) soft: u64,
    /// Descriptors open at the time of the check.
    pub(crate) open: u64,
}

impl FdBudget {
    /// How many sockets can be open at once.
    pub(crate) fn max_concurrency(&self) -> usize {
        let reserve = RESERVED_FDS.min(self.soft / 4);
        self.soft.saturating_sub(self.open + reserve).max(1) as usize
    }
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit and reports the budget.
pub(crate) fn raise_fd_limit() -> FdBudget {
    let limit = getrlimit(Resource::Nofile);
    let soft = limit.current.unwrap_or(u64::MAX);
    let hard = limit.maximum;
    let mut budget = FdBudget {
        soft,
        open: open_fds(),
    };
    let target = hard.unwrap_or(1 << 20);
    if target > soft {
        let raised = Rlimit {
            current: Some(target),
            maximum: hard,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => budget.soft = target,
            Err(e) => log::debug!("could not raise RLIMIT_NOFILE to {target}: {e}"),
        }
    }
    budget
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(3, |dir| dir.count() as u64)
}
