//! The loopback HTTPS server of the TLS fetch bench, in its own process:
//! the `tls-server` child role (see `child.rs`) and the handle that starts,
//! commands and stops it.
//!
//! It is tokio's multi-thread runtime with [`THREADS`] workers and
//! tokio-rustls, on the same rustls and `ring` provider as the clients. Each
//! connection: the TLS handshake (TLS 1.3 or 1.2, ALPN `http/1.1`, the chain
//! of `tls_certs.rs`, and rustls's default of two TLS 1.3 session tickets,
//! as OpenSSL servers send; neither client resumes), then the request read
//! up to its blank line, then [`wire::RESPONSE`] (`HTTP/1.0 200 OK`), a
//! `close_notify` and the TCP close. `TCP_NODELAY` is set on every accepted
//! socket, so the server's small writes are never held back by Nagle's
//! algorithm waiting for a client's delayed ACK.
//!
//! # Commands
//!
//! The parent sends lines on the server's stdin; the server answers each on
//! its stdout, after the first line, which is its port:
//!
//! - `cpu` → `cpu USER_US SYS_US`: the server's own CPU time so far (every
//!   thread), so the bench can show the server was not the bottleneck.
//! - `hold N` → `holding N`: from now on, hold every answer once its request
//!   has arrived. When the `N`th request of the batch is held the server
//!   says `held N`, unasked: at that moment `N` sessions are established
//!   and waiting for their head, which is when the memory bench reads the
//!   client's RSS.
//! - `release` → `released`: answer every held request, and stop holding.
//!
//! [`wire::RESPONSE`]: crate::wire::RESPONSE

use std::io::{self, BufRead};
use std::net::SocketAddr;
use std::process::{Child, ChildStdin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::child::{self, fail};
use crate::tls_certs::Certs;
use crate::wire::{head_len, MAX_HEAD, RESPONSE};
use crate::{server, sys};

/// Role value: run the TLS server.
pub const ROLE_TLS_SERVER: &str = "tls-server";

/// The PEM file of the chain the server sends (server role).
const CHAIN_VAR: &str = "FH_BENCH_TLS_CHAIN";
/// The PEM file of the leaf's private key (server role).
const KEY_VAR: &str = "FH_BENCH_TLS_KEY";

/// The server's worker threads: both cores, so one client thread is never
/// waiting on a server that has only one.
pub const THREADS: usize = 2;

/// How long the parent waits for any one answer from the server.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running TLS server process; dropping it stops the server.
#[derive(Debug)]
pub struct TlsServerProcess {
    child: Child,
    /// Commands go here; closing it tells the server to exit. An `Option`
    /// so `drop` can close it before waiting.
    stdin: Option<ChildStdin>,
    /// The server's stdout lines, read on a thread so a wait can time out.
    replies: mpsc::Receiver<String>,
    addr: SocketAddr,
}

impl TlsServerProcess {
    /// Starts a server presenting the chain and key of `certs`, and waits
    /// until it is listening.
    pub fn spawn(certs: &Certs) -> io::Result<TlsServerProcess> {
        let listening = child::spawn_listening(
            ROLE_TLS_SERVER,
            &[
                (CHAIN_VAR, certs.chain.display().to_string()),
                (KEY_VAR, certs.key.display().to_string()),
            ],
        )?;
        let (tx, replies) = mpsc::channel();
        let mut stdout = listening.stdout;
        std::thread::spawn(move || {
            let mut line = String::new();
            while matches!(stdout.read_line(&mut line), Ok(1..)) {
                if tx.send(line.trim_end().to_owned()).is_err() {
                    return;
                }
                line.clear();
            }
        });
        Ok(TlsServerProcess {
            child: listening.child,
            stdin: Some(listening.stdin),
            replies,
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

    /// The server's CPU time so far, user plus system, all threads.
    pub fn cpu_time(&mut self) -> io::Result<Duration> {
        self.send("cpu")?;
        let reply = self.reply(|| true)?;
        let micros: Vec<u64> = reply
            .strip_prefix("cpu ")
            .map(|rest| rest.split(' ').filter_map(|n| n.parse().ok()).collect())
            .unwrap_or_default();
        match micros.as_slice() {
            [user, sys] => Ok(Duration::from_micros(user + sys)),
            _ => Err(io::Error::other(format!(
                "tls server said {reply:?} to cpu"
            ))),
        }
    }

    /// Holds every answer from now on, until [`release`](Self::release).
    pub fn hold(&mut self, n: usize) -> io::Result<()> {
        self.send(&format!("hold {n}"))?;
        self.expect(&format!("holding {n}"), || true)
    }

    /// Waits until `n` requests are held, giving up if `alive` says the
    /// client has gone.
    pub fn wait_held(&mut self, n: usize, alive: impl FnMut() -> bool) -> io::Result<()> {
        self.expect(&format!("held {n}"), alive)
    }

    /// Answers every held request and stops holding.
    pub fn release(&mut self) -> io::Result<()> {
        self.send("release")?;
        self.expect("released", || true)
    }

    fn send(&mut self, command: &str) -> io::Result<()> {
        use std::io::Write;
        let stdin = self.stdin.as_mut().expect("stdin is open until drop");
        writeln!(stdin, "{command}")?;
        stdin.flush()
    }

    fn expect(&mut self, want: &str, alive: impl FnMut() -> bool) -> io::Result<()> {
        match self.reply(alive)? {
            line if line == want => Ok(()),
            line => Err(io::Error::other(format!(
                "tls server said {line:?}, want {want:?}"
            ))),
        }
    }

    /// The server's next line, waiting at most [`REPLY_TIMEOUT`], and only
    /// while `alive()` holds (checked every 50 ms).
    fn reply(&mut self, mut alive: impl FnMut() -> bool) -> io::Result<String> {
        let deadline = Instant::now() + REPLY_TIMEOUT;
        loop {
            match self.replies.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => return Ok(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(io::Error::other("tls server exited"))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if !alive() {
                return Err(io::Error::other(
                    "the client exited while the server waited for its requests",
                ));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "tls server: no answer in {REPLY_TIMEOUT:?}"
                )));
            }
        }
    }
}

impl Drop for TlsServerProcess {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// The holding state, shared by the connections and the command thread.
struct Hold {
    /// Requests to hold in this batch; 0 when not holding.
    target: AtomicUsize,
    /// Requests held so far in this batch.
    held: AtomicUsize,
    /// Bumped by `release`: every held connection waits for a change.
    release: watch::Sender<u64>,
}

impl Hold {
    /// Waits here if holding, until the next `release`.
    async fn wait(&self) {
        // Subscribe before reading `target`: `release` clears `target`
        // before it bumps the channel, so a connection that still saw a
        // target has subscribed in time to see the bump.
        let mut released = self.release.subscribe();
        let target = self.target.load(Ordering::SeqCst);
        if target == 0 {
            return;
        }
        if self.held.fetch_add(1, Ordering::SeqCst) + 1 == target {
            println!("held {target}");
        }
        let _ = released.changed().await;
    }

    /// Runs one command line from the parent.
    fn command(&self, line: &str) {
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["cpu"] => {
                let (user, sys) = sys::process_cpu_times();
                println!("cpu {} {}", user.as_micros(), sys.as_micros());
            }
            ["hold", n] => match n.parse::<usize>() {
                Ok(n) => {
                    self.held.store(0, Ordering::SeqCst);
                    self.target.store(n, Ordering::SeqCst);
                    println!("holding {n}");
                }
                Err(_) => println!("bad command {line:?}"),
            },
            ["release"] => {
                self.target.store(0, Ordering::SeqCst);
                self.held.store(0, Ordering::SeqCst);
                self.release.send_modify(|generation| *generation += 1);
                println!("released");
            }
            _ => println!("bad command {line:?}"),
        }
    }
}

/// The server role: load the chain, bind, report the port, serve until
/// stdin closes.
pub fn run_server_role() -> ! {
    if let Err(e) = sys::raise_fd_limit() {
        eprintln!("tls server: cannot raise the fd limit: {e}");
    }
    let config = server_config().unwrap_or_else(|e| fail(&format!("tls server: {e}")));
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = server::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap_or_else(|e| fail(&format!("tls server: bind: {e}")));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS)
        .enable_all()
        .build()
        .unwrap_or_else(|e| fail(&format!("tls server: runtime: {e}")));
    let hold = Arc::new(Hold {
        target: AtomicUsize::new(0),
        held: AtomicUsize::new(0),
        release: watch::Sender::new(0),
    });
    let commands = hold.clone();
    // Exit with the parent: its end of our stdin closes however it ends.
    child::exit_with_parent(port, move |line| commands.command(line));

    runtime.block_on(async move {
        if let Err(e) = listener.set_nonblocking(true) {
            fail(&format!("tls server: {e}"));
        }
        let listener = tokio::net::TcpListener::from_std(listener)
            .unwrap_or_else(|e| fail(&format!("tls server: {e}")));
        loop {
            match listener.accept().await {
                Ok((tcp, _)) => {
                    tokio::spawn(serve_one(acceptor.clone(), tcp, hold.clone()));
                }
                Err(e) => {
                    // Out of fds, most likely: the client sees its fetch
                    // fail and reports it. Back off instead of spinning.
                    eprintln!("tls server: accept: {e}");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    })
}

/// The server's rustls configuration, from the files the parent named.
fn server_config() -> Result<rustls::ServerConfig, String> {
    let path = |var: &str| std::env::var(var).map_err(|_| format!("{var} is not set"));
    let (chain_path, key_path) = (path(CHAIN_VAR)?, path(KEY_VAR)?);
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&chain_path)
        .map_err(|e| format!("{chain_path}: {e}"))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{chain_path}: {e}"))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).map_err(|e| format!("{key_path}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::DEFAULT_VERSIONS)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// One connection: handshake, read the request head, maybe hold, answer,
/// close. Any failure just drops the connection: the client reports it.
async fn serve_one(acceptor: TlsAcceptor, tcp: tokio::net::TcpStream, hold: Arc<Hold>) {
    let _ = tcp.set_nodelay(true);
    let Ok(mut tls) = acceptor.accept(tcp).await else {
        return;
    };
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tls.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
        if head_len(&request).is_some() {
            break;
        }
        if request.len() > MAX_HEAD {
            return;
        }
    }
    hold.wait().await;
    if tls.write_all(RESPONSE).await.is_ok() {
        // close_notify, then the TCP FIN.
        let _ = tls.shutdown().await;
    }
}
