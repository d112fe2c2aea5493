//! Helpers shared by the integration tests: loopback peers on plain threads
//! (so the peer never depends on the runtime under test) and deadlines.
#![allow(dead_code)]

pub mod dns_server;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Timeouts no healthy fetch, TLS handshake included, reaches even on a
/// loaded machine, for tests whose peers answer (or fail) at once.
pub const PATIENT: [&str; 6] = [
    "--connect-timeout",
    "10s",
    "--read-timeout",
    "10s",
    "-m",
    "30s",
];

/// Runs `f` on its own thread and fails the test if it has not finished
/// within `limit`: a hang becomes a failure, never a stuck CI job.
pub fn with_deadline<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {limit:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("test thread panicked"),
    }
}

/// A loopback listener whose every connection is handed to `handler` on a
/// new thread. Returns the address.
pub fn serve(handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static) -> SocketAddr {
    serve_on(Ipv4Addr::LOCALHOST, handler)
}

/// Like [`serve`], on a loopback address of one's choosing (`127.0.0.2`:
/// a second host for tests that need two).
pub fn serve_on(
    ip: Ipv4Addr,
    handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let handler = handler.clone();
            thread::spawn(move || handler(stream));
        }
    });
    addr
}

/// Like [`serve`], but `threads` threads take turns accepting and run
/// `handler` inline: for tests that open many thousands of short
/// connections, where a thread per connection would dominate the run time.
pub fn serve_pool(
    threads: usize,
    handler: impl Fn(TcpStream) + Send + Sync + Clone + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    for _ in 0..threads {
        let listener = listener.try_clone().expect("clone listener");
        let handler = handler.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                handler(stream);
            }
        });
    }
    addr
}

/// A peer for exactly one connection: accepts it on a new thread and runs
/// `script` on it. Join the handle to get the script's result and to turn
/// a failed assertion in the peer into a failure of the test.
pub fn peer<T: Send + 'static>(
    script: impl FnOnce(TcpStream) -> T + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<T>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        script(stream)
    });
    (addr, handle)
}

/// Makes closing `stream` send a reset (RST) instead of a FIN, by setting
/// `SO_LINGER` to zero; std has no setter for it.
pub fn set_linger_zero(stream: &TcpStream) {
    socket2::SockRef::from(stream)
        .set_linger(Some(Duration::ZERO))
        .expect("setsockopt(SO_LINGER)");
}

/// Reads the request head (up to the blank line) from `stream`.
pub fn read_head(stream: &mut TcpStream) -> Vec<u8> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    head
}

/// A server that answers every request with `response` and closes.
pub fn http_server(response: impl Into<Vec<u8>>) -> SocketAddr {
    let response: Arc<[u8]> = response.into().into();
    serve(move |mut stream| {
        read_head(&mut stream);
        let _ = stream.write_all(&response);
    })
}

/// A port on 127.0.0.1 with nothing listening, which stays that way: a TCP
/// socket is bound to it but never listens, and is kept open for the rest
/// of the test process. (Binding a listener and dropping it would free the
/// port for the next `bind(0)`, and a listener started by a test running
/// in parallel could take it: then a connection meant to be refused is
/// accepted.)
pub fn closed_port() -> SocketAddr {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let any_port = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    socket.bind(&any_port.into()).expect("bind loopback");
    let addr = socket
        .local_addr()
        .expect("local addr")
        .as_socket()
        .expect("an IP address");
    std::mem::forget(socket); // keep the port taken until the process ends
    addr
}

/// An address on `ip` and `port` that drops every SYN: a listener with a
/// backlog of zero whose one-place accept queue is already taken, so the
/// kernel silently drops further connection attempts, as a black-holed
/// route does (a broken IPv6 path, a firewall). Kept for the rest of the
/// test process.
pub fn black_hole(ip: Ipv4Addr, port: u16) -> SocketAddr {
    let addr = SocketAddr::from((ip, port));
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.bind(&addr.into()).expect("bind the black hole");
    socket.listen(0).expect("listen");
    // The one connection the queue holds; the next SYN is dropped.
    let filler = TcpStream::connect(addr).expect("fill the accept queue");
    std::mem::forget((socket, filler));
    addr
}

/// A loopback port that is free at the moment, for a server in another
/// process to listen on. Unlike [`closed_port`] it does not stay reserved.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    listener.local_addr().expect("local addr").port()
}

/// Path of a built example (cargo test builds the examples beside the tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join(name)
}

/// Number of open file descriptors of this process.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// What each open file descriptor of this process is (`/proc/self/fd`'s
/// links: `socket:[1234]`, a path, ...), for a failure message that says
/// which descriptor leaked.
pub fn open_fd_targets() -> Vec<String> {
    let mut targets: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            Some(format!(
                "{} -> {}",
                entry.file_name().to_string_lossy(),
                target.display()
            ))
        })
        .collect();
    targets.sort();
    targets
}

// ---------------------------------------------------------------------------
// Peers that misbehave, each in one way, for the CLI tests.
// ---------------------------------------------------------------------------

/// A server that reads the request and then says nothing, holding the
/// connection until the client leaves (its thread ends then).
pub fn silent_server() -> SocketAddr {
    serve(|mut stream| {
        let mut sink = [0u8; 64];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    })
}

/// A server that reads the request and then resets the connection: with
/// `SO_LINGER` set to zero, `close` sends RST instead of FIN.
pub fn reset_server() -> SocketAddr {
    serve(|mut stream| {
        read_head(&mut stream);
        set_linger_zero(&stream);
        drop(stream);
    })
}

/// A server that answers with `response` one byte per TCP segment
/// (`TCP_NODELAY`, and a pause between bytes so they are not coalesced), then
/// closes. The client must assemble the head from many reads; nothing it
/// checks depends on how the bytes happen to be split.
pub fn trickle_server(response: impl Into<Vec<u8>>) -> SocketAddr {
    let response: Arc<[u8]> = response.into().into();
    serve(move |mut stream| {
        read_head(&mut stream);
        stream.set_nodelay(true).expect("TCP_NODELAY");
        for byte in response.iter() {
            if stream.write_all(&[*byte]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
    })
}

/// A server that sends `first`, waits one millisecond so it travels in its
/// own segment, then sends `second` and closes (a `100 Continue` head and
/// then the real one, for instance).
pub fn two_part_server(first: &'static [u8], second: &'static [u8]) -> SocketAddr {
    serve(move |mut stream| {
        read_head(&mut stream);
        stream.set_nodelay(true).expect("TCP_NODELAY");
        let _ = stream.write_all(first);
        thread::sleep(Duration::from_millis(1));
        let _ = stream.write_all(second);
    })
}

/// A server that answers every request with `100 Continue` heads and
/// nothing else, as fast as it can, until the client goes away.
pub fn endless_continue_server() -> SocketAddr {
    serve(|mut stream| {
        read_head(&mut stream);
        let heads = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(1000);
        while stream.write_all(&heads).is_ok() {}
    })
}

/// A server that answers with `response` and hands each request head it
/// received to the returned channel, so a test can check what was sent.
pub fn recording_server(response: &'static [u8]) -> (SocketAddr, mpsc::Receiver<Vec<u8>>) {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let addr = serve(move |mut stream| {
        let head = read_head(&mut stream);
        let _ = tx.lock().expect("request channel").send(head);
        let _ = stream.write_all(response);
    });
    (addr, rx)
}

/// What a hostile or normal peer should come to in one outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// A complete response head: the final status, and the name of its last
    /// header field (present only if the whole head arrived).
    Head {
        /// The final status code.
        status: u16,
        /// The last header field's name.
        last: &'static str,
    },
    /// An error of this kind (`read-timeout`, `reset`, ...).
    Error(&'static str),
}

/// One peer of the catalogue: a name for messages, the target to give the
/// CLI, and the outcome it must produce.
#[derive(Debug, Clone)]
pub struct Peer {
    /// What the peer does, for assertion messages.
    pub name: &'static str,
    /// The target text for the command line.
    pub target: String,
    /// The outcome the target must get.
    pub expect: Expect,
}

/// A normal response head: duplicates and mixed case on purpose.
pub const NORMAL: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: test\r\nX-Dup: 1\r\nx-dup: 2\r\nContent-Length: 5\r\n\r\nhello";

/// A head with an escape sequence, a bell and bytes that are not UTF-8.
pub const HOSTILE_BYTES: &[u8] =
    b"HTTP/1.1 200 OK\r\nX-Evil: \x1b]0;pwned\x07\x1b[2J\r\nX-Latin: caf\xe9 \xff\r\n\r\n";

/// Starts one of every kind of peer the CLI must cope with and returns
/// them with the outcome each must get. The good peers (`Head`) come
/// first.
pub fn peers() -> Vec<Peer> {
    let http = |addr: SocketAddr| format!("http://{addr}/");
    let mut huge_line = b"HTTP/1.1 200 OK\r\nX-Huge: ".to_vec();
    huge_line.resize(huge_line.len() + 70 * 1024, b'a');
    huge_line.extend_from_slice(b"\r\n\r\n");
    let mut many_lines = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..1100 {
        many_lines.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    many_lines.extend_from_slice(b"\r\n");
    let peer = |name, target, expect| Peer {
        name,
        target,
        expect,
    };
    vec![
        peer(
            "normal",
            http(http_server(NORMAL)),
            Expect::Head {
                status: 200,
                last: "Content-Length",
            },
        ),
        peer(
            "trickle",
            http(trickle_server(
                b"HTTP/1.1 200 OK\r\nServer: slow\r\nX-Last: yes\r\n\r\n".as_slice(),
            )),
            Expect::Head {
                status: 200,
                last: "X-Last",
            },
        ),
        peer(
            "lf-only",
            http(http_server(
                b"HTTP/1.1 200 OK\nServer: lf\nX-Last: yes\n\nbody".as_slice(),
            )),
            Expect::Head {
                status: 200,
                last: "X-Last",
            },
        ),
        peer(
            "100-continue",
            http(two_part_server(
                b"HTTP/1.1 100 Continue\r\n\r\n",
                b"HTTP/1.1 200 OK\r\nServer: after-continue\r\n\r\n",
            )),
            Expect::Head {
                status: 200,
                last: "Server",
            },
        ),
        peer(
            "empty-line-first",
            http(http_server(
                b"\r\nHTTP/1.1 200 OK\r\nServer: late\r\nX-Last: yes\r\n\r\n".as_slice(),
            )),
            Expect::Head {
                status: 200,
                last: "X-Last",
            },
        ),
        peer(
            "empty-line-after-continue",
            http(two_part_server(
                b"HTTP/1.1 100 Continue\r\n\r\n\n",
                b"HTTP/1.1 200 OK\r\nServer: after-continue\r\n\r\n",
            )),
            Expect::Head {
                status: 200,
                last: "Server",
            },
        ),
        peer(
            "escapes",
            http(http_server(HOSTILE_BYTES)),
            Expect::Head {
                status: 200,
                last: "X-Latin",
            },
        ),
        peer(
            "silent",
            http(silent_server()),
            Expect::Error("read-timeout"),
        ),
        peer("reset", http(reset_server()), Expect::Error("reset")),
        peer(
            "garbage",
            http(http_server(b"SSH-2.0-OpenSSH_9.6\r\n".as_slice())),
            Expect::Error("protocol"),
        ),
        peer(
            "huge-line",
            http(http_server(huge_line)),
            Expect::Error("too-large"),
        ),
        peer(
            "many-lines",
            http(http_server(many_lines)),
            Expect::Error("too-large"),
        ),
        peer(
            "endless-continue",
            http(endless_continue_server()),
            Expect::Error("too-large"),
        ),
        peer(
            "partial-head",
            http(http_server(b"HTTP/1.1 200 OK\r\nServer: x\r\n".as_slice())),
            Expect::Error("closed"),
        ),
        peer("closed-port", http(closed_port()), Expect::Error("refused")),
        peer(
            "unresolvable",
            "nosuch.invalid".into(),
            Expect::Error("nxdomain"),
        ),
        peer(
            "bad-port",
            "127.0.0.1:99999".into(),
            Expect::Error("bad-target"),
        ),
        peer(
            "empty-host",
            "http://:8080/".into(),
            Expect::Error("bad-target"),
        ),
        peer(
            "two-ports",
            "http://127.0.0.1:80:80/".into(),
            Expect::Error("bad-target"),
        ),
        peer(
            "unknown-scheme",
            "gopher://127.0.0.1/".into(),
            Expect::Error("bad-target"),
        ),
        peer(
            "plain-http-on-https",
            // As nginx does with bytes that are no request line: answer
            // 400 to the ClientHello at once.
            format!(
                "https://{}/",
                serve(|mut stream| {
                    let _ = stream.read(&mut [0; 1024]);
                    let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
                })
            ),
            Expect::Error("not-tls"),
        ),
    ]
}

// ---------------------------------------------------------------------------
// Running the binary.
// ---------------------------------------------------------------------------

/// The `fetch-headers` binary cargo built for these tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_fetch-headers");

/// Short timeouts so a test run ends quickly: `connect 2s, read 1s, total 3s`.
pub const FAST: [&str; 6] = [
    "--connect-timeout",
    "2s",
    "--read-timeout",
    "1s",
    "-m",
    "3s",
];

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code (`None` if a signal ended it).
    pub code: Option<i32>,
    /// Standard output, as bytes (servers' bytes may not be UTF-8).
    pub stdout: Vec<u8>,
    /// Standard error, decoded lossily.
    pub stderr: String,
    /// Wall time of the run.
    pub elapsed: Duration,
}

impl Run {
    /// Standard output as text; fails the test if it is not UTF-8 (the CLI
    /// escapes everything it prints, so it always should be).
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.stdout).expect("stdout is UTF-8")
    }

    /// Standard output parsed as JSON Lines.
    pub fn json(&self) -> Vec<serde_json::Value> {
        json_lines(self.text())
    }
}

/// Parses JSON Lines, failing the test on a line that is not JSON.
pub fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
        .collect()
}

/// Runs `fetch-headers` with `args` and empty stdin.
pub fn cli<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Run {
    cli_with_stdin(args, b"")
}

/// Runs `fetch-headers` with `args`, feeding `stdin` to it.
pub fn cli_with_stdin<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>, stdin: &[u8]) -> Run {
    let started = Instant::now();
    let mut child = Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fetch-headers");
    let mut input = child.stdin.take().expect("stdin pipe");
    let stdin = stdin.to_vec();
    // Feed stdin from a thread so a large input cannot deadlock against
    // the child's output filling its pipe.
    let feeder = thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("wait for fetch-headers");
    feeder.join().expect("stdin feeder");
    Run {
        code: output.status.code(),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// Makes the child of `command` start with `RLIMIT_NOFILE` at `limit`,
/// soft and hard.
#[allow(unsafe_code)] // pre_exec is unsafe by nature: the child runs it between fork and exec
pub fn limit_open_files(command: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, and the closure touches
    // nothing but its own stack between fork and exec.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

// ---------------------------------------------------------------------------
// Runs watched while they go: signals, closing pipes, deadlines.
// ---------------------------------------------------------------------------

/// A server that reads each request head, says so on the returned channel,
/// and then holds its answer until the client leaves: a fetch of it stays
/// in flight, waiting for its first byte, for as long as the test wants.
pub fn held_server() -> (SocketAddr, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let addr = serve(move |mut stream| {
        read_head(&mut stream);
        let _ = tx.lock().expect("request channel").send(());
        let mut sink = [0u8; 64];
        while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    });
    (addr, rx)
}

/// Starts `fetch-headers` with `args`: stdin empty, stdout and stderr
/// piped for the test to read while the run goes on.
pub fn spawn_cli<S: AsRef<OsStr>>(args: impl IntoIterator<Item = S>) -> Child {
    Command::new(BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fetch-headers")
}

/// Sends `signal` to `child`, as `kill -INT PID` would.
pub fn send_signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a child's pid");
    rustix::process::kill_process(pid, signal).expect("kill(2)");
}

/// Waits for `child` to exit; one still running after `limit` is killed
/// (SIGKILL) and fails the test, so a run that hangs never outlives it.
pub fn wait_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let pid = child.id();
    let (done, exited) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if exited.recv_timeout(limit) == Err(mpsc::RecvTimeoutError::Timeout) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
            return true;
        }
        false
    });
    let status = child.wait().expect("wait for fetch-headers");
    let _ = done.send(());
    let killed = watchdog.join().expect("watchdog");
    assert!(!killed, "fetch-headers was still running after {limit:?}");
    status
}

/// A new pseudo-terminal: its master and its slave (the terminal a program
/// sees). Data written to the slave is read from the master (with `\n`
/// turned into `\r\n`); once every slave descriptor is closed and the
/// data is read, reading the master fails with EIO.
pub fn pty() -> (std::fs::File, std::fs::File) {
    use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
    use std::os::unix::fs::OpenOptionsExt;
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)
        .expect("posix_openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(std::ffi::OsStr::from_bytes(name.as_bytes()))
        .expect("open the pty's slave");
    (std::fs::File::from(master), slave)
}
