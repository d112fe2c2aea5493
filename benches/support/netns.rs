//! A private network and mount namespace for one bench process, so that
//! glibc's real `getaddrinfo` can be pointed at the bench's responder.
//!
//! glibc asks the servers of `/etc/resolv.conf`, on port 53, and nothing
//! in the environment changes either. Inside a new network namespace the
//! process has a loopback of its own, where port 53 is free; inside a new
//! mount namespace, a file can be bind-mounted over `/etc/resolv.conf`
//! for this process and its children only. Nothing outside changes: the
//! mounts of the new namespace are made private first, so the bind mount
//! propagates nowhere, and both namespaces end with the last process in
//! them. It needs `CAP_SYS_ADMIN` (root); without it the caller is told
//! why, and the bench skips the rows that need it.
//!
//! These are thin `libc` calls, each with its own `SAFETY` note.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// Moves this process into a new network namespace with its loopback up,
/// and a new mount namespace where `resolv_conf` is bind-mounted over
/// `/etc/resolv.conf`. Call it before the process starts any thread
/// (the kernel refuses a new mount namespace to a threaded process) and
/// before anything reads the resolver configuration.
pub fn enter_private_resolver(resolv_conf: &Path) -> io::Result<()> {
    let context =
        |what: &'static str| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
    // SAFETY: unshare(2) takes flags only and touches no memory of ours.
    if unsafe { libc::unshare(libc::CLONE_NEWNET | libc::CLONE_NEWNS) } != 0 {
        return Err(context("unshare(CLONE_NEWNET | CLONE_NEWNS)")(
            io::Error::last_os_error(),
        ));
    }
    // Before any mount: make every mount of the new namespace private, so
    // that nothing mounted here is propagated to the namespace we left.
    mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE).map_err(context("making / private"))?;
    loopback_up().map_err(context("bringing up lo"))?;
    let source = CString::new(resolv_conf.as_os_str().as_bytes()).map_err(io::Error::other)?;
    mount(Some(&source), c"/etc/resolv.conf", libc::MS_BIND)
        .map_err(context("bind-mounting over /etc/resolv.conf"))
}

/// `mount(source, target, NULL, flags, NULL)`.
fn mount(
    source: Option<&CString>,
    target: &std::ffi::CStr,
    flags: libc::c_ulong,
) -> io::Result<()> {
    let source = source.map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: `source` is null or a NUL-terminated string that outlives the
    // call, `target` is NUL-terminated; no file system type or data is
    // passed (both null), which these flags (a propagation change, a bind
    // mount) allow.
    let rc = unsafe {
        libc::mount(
            source,
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sets `IFF_UP` on `lo` (a new network namespace starts with it down):
/// `SIOCGIFFLAGS`, then `SIOCSIFFLAGS`, on a throwaway socket.
fn loopback_up() -> io::Result<()> {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0");
    // Binding works on a down loopback too: 0.0.0.0 needs no interface.
    let socket = socket?;
    use std::os::fd::AsRawFd;
    let fd = socket.as_raw_fd();
    // SAFETY: an all-zero `ifreq` is a valid value of this plain C struct
    // (a union of integers and arrays).
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
        *slot = *byte as libc::c_char;
    }
    // SAFETY: `fd` is an open socket for the whole call and `request` a
    // valid, writable `ifreq` naming "lo"; SIOCGIFFLAGS writes its flags.
    if unsafe { libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: SIOCGIFFLAGS just filled the union's `ifru_flags` member.
    let flags = unsafe { request.ifr_ifru.ifru_flags };
    request.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: as above; SIOCSIFFLAGS reads the name and the flags.
    if unsafe { libc::ioctl(fd, libc::SIOCSIFFLAGS, &request) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
