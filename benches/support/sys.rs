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
    let (user, system) = process_cpu_times();
    user + system
}

/// [`process_cpu_time`] as its two parts: user and system CPU time.
pub fn process_cpu_times() -> (Duration, Duration) {
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage` for the whole call.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(
        rc, 0,
        "getrusage(RUSAGE_SELF) cannot fail with valid arguments"
    );
    (duration(usage.ru_utime), duration(usage.ru_stime))
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
    /// `ru_maxrss`, in KiB. Not the child's own peak: Linux folds into it
    /// the peak RSS of the process image its `exec` replaced, which for a
    /// child of a bench is the bench's own peak (after fork and vfork
    /// alike). Use [`peak_rss_kib`](Self::peak_rss_kib).
    pub max_rss_kib: u64,
    /// The child's own peak RSS in KiB (`VmHWM`, read as it stopped at its
    /// exit), if it was started with [`stop_at_exit`].
    pub peak_rss_kib: Option<u64>,
}

/// Makes the child that `command` starts stop at its exit, with its memory
/// still mapped, so that [`wait_with_usage`] can read its own peak RSS.
///
/// The child asks to be traced by this process (`PTRACE_TRACEME`) before
/// it `exec`s; only its main thread is traced, and only two stops are
/// asked for: the one after `exec` (where the tracing options are set) and
/// the one at exit. Signals for it are passed on, so it runs as it would
/// untraced.
#[allow(dead_code)] // only the CLI bench measures child processes
pub fn stop_at_exit(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec, where only
    // async-signal-safe calls are allowed; ptrace is a plain syscall.
    unsafe {
        command.pre_exec(|| {
            let null = std::ptr::null_mut::<libc::c_void>();
            if libc::ptrace(libc::PTRACE_TRACEME, 0, null, null) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Waits for the child `pid` to end, reaping it, and returns how it ended
/// and what it used (`wait4(2)`, which gives a child's rusage). A child
/// started with [`stop_at_exit`] is let through its stops, and its `VmHWM`
/// is read at the exit stop.
///
/// The caller must not wait for `pid` any other way afterwards: it is gone.
#[allow(dead_code)] // only the CLI bench measures child processes
pub fn wait_with_usage(pid: u32) -> io::Result<(ExitStatus, ChildUsage)> {
    let pid = libc::pid_t::try_from(pid).map_err(io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let mut execed = false;
    let mut peak_rss_kib = None;
    loop {
        // SAFETY: `status` and `usage` are valid and writable for the whole
        // call; wait4 only writes them.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc != pid {
            let error = io::Error::last_os_error();
            if error.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(error);
        }
        if !libc::WIFSTOPPED(status) {
            break; // exited or killed: the rusage is final
        }
        // A traced child stopped. Work out why, then let it go on.
        let signal = libc::WSTOPSIG(status);
        let event = status >> 16;
        let mut deliver = 0;
        if signal == libc::SIGTRAP && event == 0 && !execed {
            // The stop after exec: ask for the exit stop, and for the child
            // to be killed if this bench dies while tracing it.
            execed = true;
            let options = libc::PTRACE_O_TRACEEXIT | libc::PTRACE_O_EXITKILL;
            ptrace(libc::PTRACE_SETOPTIONS, pid, options as usize)?;
        } else if signal == libc::SIGTRAP && event == libc::PTRACE_EVENT_EXIT {
            // Exiting, with its memory still mapped: the peak is final.
            peak_rss_kib = peak_rss_kib_of(pid as u32);
        } else {
            deliver = signal as usize; // a signal for the child: pass it on
        }
        ptrace(libc::PTRACE_CONT, pid, deliver)?;
    }
    let usage = ChildUsage {
        user: duration(usage.ru_utime),
        sys: duration(usage.ru_stime),
        // Linux reports ru_maxrss in kilobytes.
        max_rss_kib: usage.ru_maxrss.max(0) as u64,
        peak_rss_kib,
    };
    Ok((ExitStatus::from_raw(status), usage))
}

/// `ptrace(request, pid, NULL, data)`, for the requests that take a number
/// as their data.
fn ptrace(request: libc::c_uint, pid: libc::pid_t, data: usize) -> io::Result<()> {
    // SAFETY: these requests (SETOPTIONS, CONT) read no memory through
    // their pointer arguments: addr is unused and data is a plain number.
    let rc = unsafe {
        libc::ptrace(
            request,
            pid,
            std::ptr::null_mut::<libc::c_void>(),
            data as *mut libc::c_void,
        )
    };
    if rc == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Peak resident set size of this process so far (`VmHWM`), in KiB.
#[allow(dead_code)] // only the fetch bench measures itself; the CLI bench, children
pub fn peak_rss_kib() -> io::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    vm_hwm_kib(&status).ok_or_else(|| io::Error::other("no VmHWM line in /proc/self/status"))
}

/// Peak resident set size so far of the running process `pid`, in KiB:
/// its `VmHWM`, or `None` once it has exited (a zombie has no memory left
/// to report) or if it is not there.
#[allow(dead_code)] // only the CLI bench measures child processes
fn peak_rss_kib_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    vm_hwm_kib(&status)
}

/// The `VmHWM:` figure of a `/proc/PID/status` text.
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
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
