//! What the CLI's DNS tests share: the tests' own DNS server with resolver
//! files written for it, a runner that keeps the machine's resolver
//! settings out of the binary, HTTP servers on both loopback families, and
//! the JSON outcomes by target. Included with `#[path]` by the `cli_dns*`
//! tests (`support/mod.rs` stays as every test sees it).
//!
//! The binary is always given `--resolver` (the tests' server),
//! `--hosts-file` and `--resolv-conf` (files written here), and the
//! environment's `LOCALDOMAIN` and `RES_OPTIONS` are removed, so nothing
//! of the machine's own resolver configuration is read. (nsswitch.conf has
//! no flag, but with `--resolver` the binary sends every name to the hosts
//! file and the servers named, never to `getaddrinfo`.)
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::support::dns_server::DnsServer;
use super::support::{read_head, with_deadline, Run, BIN};

/// The resolv.conf of most tests: one try of one second per question, so
/// a name the server drops fails in a second; no search list. (Its
/// nameserver is replaced by `--resolver`: resolv.conf cannot name a port.)
pub const RESOLV_CONF: &str = "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n";

/// The tests' DNS server, with a hosts file and a resolv.conf of the
/// test's own in a temporary directory.
pub struct Dns {
    /// The server the binary asks.
    pub server: DnsServer,
    /// `--hosts-file`.
    pub hosts: PathBuf,
    /// `--resolv-conf`.
    pub resolv_conf: PathBuf,
    _dir: tempfile::TempDir,
}

impl Dns {
    /// A server on 127.0.0.1, an empty hosts file and [`RESOLV_CONF`].
    pub fn new() -> Dns {
        Dns::with_files("", RESOLV_CONF)
    }

    /// A server on 127.0.0.1 and these files.
    pub fn with_files(hosts: &str, resolv_conf: &str) -> Dns {
        Dns::on(DnsServer::start(), hosts, resolv_conf)
    }

    /// `server` and these files.
    pub fn on(server: DnsServer, hosts: &str, resolv_conf: &str) -> Dns {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write a resolver file");
            path
        };
        Dns {
            server,
            hosts: write("hosts", hosts),
            resolv_conf: write("resolv.conf", resolv_conf),
            _dir: dir,
        }
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr()
    }

    /// `--resolver ADDR --hosts-file FILE --resolv-conf FILE`.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--resolver".into(),
            resolver_arg(self.addr()),
            "--hosts-file".into(),
            self.hosts.display().to_string(),
            "--resolv-conf".into(),
            self.resolv_conf.display().to_string(),
        ]
    }
}

/// How `--resolver` spells `addr`: `127.0.0.1:5353`, `[::1]:5353`.
pub fn resolver_arg(addr: SocketAddr) -> String {
    addr.to_string()
}

/// `http://NAME:PORT/`.
pub fn url(name: &str, port: u16) -> String {
    format!("http://{name}:{port}/")
}

/// `dns.args()` followed by `more`.
pub fn args(dns: &Dns, more: &[&str]) -> Vec<String> {
    let mut args = dns.args();
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

/// Runs the binary with `args`, stdin empty, without `RUST_LOG`,
/// `LOCALDOMAIN` and `RES_OPTIONS`; fails the test after 60 s.
pub fn run<S: Into<String>>(args: impl IntoIterator<Item = S>) -> Run {
    run_with_env(args, &[])
}

/// [`run`] with `env` set for the child.
pub fn run_with_env<S: Into<String>>(
    args: impl IntoIterator<Item = S>,
    env: &[(&str, &str)],
) -> Run {
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    with_deadline(Duration::from_secs(60), move || {
        let started = Instant::now();
        let output = Command::new(BIN)
            .args(&args)
            .env_remove("RUST_LOG")
            .env_remove("LOCALDOMAIN")
            .env_remove("RES_OPTIONS")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("run fetch-headers");
        Run {
            code: output.status.code(),
            stdout: output.stdout,
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            elapsed: started.elapsed(),
        }
    })
}

/// The JSON outcomes of `run` by target, failing the test if a target has
/// two.
pub fn by_target(run: &Run) -> HashMap<String, Value> {
    let mut outcomes = HashMap::new();
    for outcome in run.json() {
        let target = outcome["target"].as_str().expect("a target").to_owned();
        assert!(
            outcomes.insert(target.clone(), outcome).is_none(),
            "two outcomes for {target}"
        );
    }
    outcomes
}

/// An outcome's error kind, `None` for a success.
pub fn kind(outcome: &Value) -> Option<&str> {
    outcome["error"]["kind"].as_str()
}

/// An outcome's error message (empty for a success).
pub fn message(outcome: &Value) -> &str {
    outcome["error"]["message"].as_str().unwrap_or("")
}

/// The address an outcome connected to (or last tried).
pub fn address(outcome: &Value) -> Option<&str> {
    outcome["address"].as_str()
}

/// The value of the `Server` header of a successful outcome.
pub fn server_header(outcome: &Value) -> Option<&str> {
    outcome["headers"]
        .as_array()?
        .iter()
        .find(|pair| pair[0].as_str() == Some("Server"))
        .and_then(|pair| pair[1].as_str())
}

/// The response of every HTTP server here: `Server:` names the side.
fn response(side: &str) -> Vec<u8> {
    format!("HTTP/1.0 200 OK\r\nServer: {side}\r\n\r\n").into_bytes()
}

/// A TCP socket bound to `addr` (IPv6 sockets are IPv6-only), listening
/// with a deep backlog if `listen`, else bound and never listening, so a
/// connection to it is refused and no one else can take the port. `None`
/// if the address is taken.
fn bind(addr: SocketAddr, listen: bool) -> Option<socket2::Socket> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None).ok()?;
    if addr.is_ipv6() {
        socket.set_only_v6(true).ok()?;
    }
    socket.bind(&addr.into()).ok()?;
    if listen {
        // Deep enough for a few hundred connects at once.
        socket.listen(1024).ok()?;
    }
    Some(socket)
}

/// Answers every connection to `socket` with a head whose `Server` is
/// `side`, on a few threads; or, for a socket that does not listen, keeps
/// it for the rest of the test process.
fn keep(socket: socket2::Socket, listening: bool, side: &'static str) {
    if !listening {
        std::mem::forget(socket);
        return;
    }
    let listener: TcpListener = socket.into();
    let body = response(side);
    for _ in 0..4 {
        let listener = listener.try_clone().expect("clone listener");
        let body = body.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                read_head(&mut stream);
                let _ = stream.write_all(&body);
            }
        });
    }
}

/// One port on both 127.0.0.1 and ::1, with an HTTP server on each side
/// that `v4` / `v6` ask for (its `Server` header says `v4` or `v6`) and a
/// refusing socket on the other. Returns the port.
pub fn dual_port(v4: bool, v6: bool) -> u16 {
    for _ in 0..64 {
        let Some(four) = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), v4) else {
            continue;
        };
        let port = four
            .local_addr()
            .ok()
            .and_then(|a| a.as_socket())
            .expect("a bound address")
            .port();
        let Some(six) = bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port)), v6) else {
            continue;
        };
        keep(four, v4, "v4");
        keep(six, v6, "v6");
        return port;
    }
    panic!("no port free on both 127.0.0.1 and ::1");
}

/// An HTTP server on `ip` (loopback) and `port`, answering `Server: side`;
/// `None` if the address is taken.
pub fn serve_at(ip: IpAddr, port: u16, side: &'static str) -> Option<SocketAddr> {
    assert!(ip.is_loopback());
    let addr = SocketAddr::new(ip, port);
    let socket = bind(addr, true)?;
    let addr = socket.local_addr().ok()?.as_socket()?;
    keep(socket, true, side);
    Some(addr)
}

/// An HTTP server on 127.0.0.1 (a free port), answering `Server: side`.
pub fn http(side: &'static str) -> SocketAddr {
    serve_at(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, side).expect("bind 127.0.0.1")
}

/// A UDP port on 127.0.0.1 with nothing bound to it at the moment: a DNS
/// server there answers nothing; the kernel answers "port unreachable".
pub fn closed_udp_port() -> SocketAddr {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind UDP");
    socket.local_addr().expect("local addr")
}

/// The JSON object `--json --stats` printed on stderr.
pub fn stats(run: &Run) -> Value {
    serde_json::from_str(run.stderr.trim())
        .unwrap_or_else(|e| panic!("stderr is not one JSON object ({e}): {}", run.stderr))
}
