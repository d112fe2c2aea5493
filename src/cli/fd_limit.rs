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
    usize::try_from(room_for_sockets(soft))
        .unwrap_or(usize::MAX)
        .max(1)
}

/// Descriptors left for sockets under `soft`, after what is open now and
/// the reserve.
pub(crate) fn room_for_sockets(soft: u64) -> u64 {
    let reserve = RESERVED_FDS.min(soft / 4);
    free_fds(soft).saturating_sub(reserve)
}

/// Descriptor numbers below `soft` that are free now. The limit bounds the
/// number a new descriptor gets, so one inherited above it (a parent's
/// fd 251, say) takes no room; and when even listing them fails for want
/// of a descriptor, none is free.
fn free_fds(soft: u64) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    let below = dir
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u64>().ok())
        .filter(|&fd| fd < soft)
        .count() as u64;
    // The listing's own descriptor is one of them, and is closed again.
    soft.saturating_sub(below.saturating_sub(1))
}
