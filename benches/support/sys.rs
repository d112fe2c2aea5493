//! The few OS facts the benches need that std does not expose: CPU time,
//! peak resident memory (of this process, or of a child as it exits) and
//! the open-file limit.
//!
//! These are thin `libc` calls, each with its own `SAFETY` note; the crate
//! itself stays free of `unsafe`.
#![allow(unsafe_code)]

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::time::Duration;

/// User plus system CPU time consumed so far by this whole process (every
/// thread, including ones that have exited, such as a dropped tokio
/// multi-thread runtime's workers).
#[allow(dead_code)] // only the fetch bench measures itself; the CLI bench, children
pub fn process_cpu_time() -> Duration {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the whole call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(
        rc, 0,
        "getrusage(RUSAGE_SELF) cannot fail with valid arguments"
    );
    duration(usage.ru_utime) + duration(usage.ru_stime)
}

fn duration(tv: libc::timeval) -> Duration {
    Duration::from_micros(tv.tv_sec as u64 * 1_000_000 + tv.tv_usec as u64)
}

/// What a child process used over its whole life, all threads together.
#[derive(Debug, Clone, Copy)]
#[allow(dead_code)] // only the CLI bench measures child processes
pub struct ChildUsage {
    /// User-space CPU time.
    pub user: Duration,
    /// Kernel CPU time.
    pub sys: Duration,
    /// Peak resident set size (`ru_maxrss`), in KiB.
    pub max_rss_kib: u64,
}

/// Waits for the child `pid` to end, reaping it, and returns how it ended
/// and what it used (`wait4(2)`, which reports the child's own rusage: the
/// one way to read a finished process's peak RSS from outside).
///
/// The caller must not wait for `pid` any other way afterwards: it is gone.
#[allow(dead_code)] // only the CLI bench measures child processes
pub fn wait_with_usage(pid: u32) -> io::Result<(ExitStatus, ChildUsage)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid and writable for the whole
        // call; wait4 only writes them.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let error = io::Error::last_os_error();
        if error.kind() != io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
    let usage = ChildUsage {
        user: duration(usage.ru_utime),
        sys: duration(usage.ru_stime),
        // Linux reports ru_maxrss in kilobytes.
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
    };
    Ok((ExitStatus::from_raw(status), usage))
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
#[allow(dead_code)] // only the fetch bench measures itself; the CLI bench, children
pub fn peak_rss_kib() -> io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| io::Error::other("no VmHWM line in /proc/self/status"))
}

/// Raises the soft open-file limit to the hard limit, so one process can
/// hold thousands of sockets. Returns the new soft limit.
pub fn raise_fd_limit() -> io::Result<libc::rlim_t> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable `rlimit` for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    limit.rlim_cur = limit.rlim_max;
    // SAFETY: `limit` is a valid `rlimit`; setrlimit only reads it.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(limit.rlim_cur)
}
