//! A real server: nginx on loopback, started by the test with its own
//! configuration in a temporary directory, over plain HTTP and over TLS
//! (with certificates the test makes). `.ci/run` installs nginx; where it
//! cannot be found each test says so on stderr and passes.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::KeyPair;
use support::{cli, free_port, with_deadline};

/// Targets fetched from nginx in one run, and the concurrency.
const TARGETS: usize = 2_000;
const CONCURRENCY: &str = "200";

/// An nginx child process, killed when dropped (even when the test fails).
struct Nginx {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of nginx, or `None` after saying on stderr that `test` is
/// skipped.
fn nginx_for(test: &str) -> Option<PathBuf> {
    let found = find_nginx();
    if found.is_none() {
        // Written to the real stderr (not the captured one) so the reason
        // shows in CI logs.
        let _ = writeln!(
            std::io::stderr(),
            "skipping {test}: nginx not installed (not on PATH, not in /usr/sbin)"
        );
    }
    found
}

fn find_nginx() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|path| path.is_file())
}

/// Starts nginx in the foreground (`daemon off`, one process) with every
/// path it writes inside a fresh temporary directory, and waits until it
/// accepts connections. `server` gives the `server { ... }` block for a
/// free loopback port, and may write files it names into the directory.
fn start_nginx(binary: &Path, server: impl FnOnce(u16, &Path) -> String) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = server(port, dir.path());
    let root = dir.path().display();
    let config = format!(
        "daemon off;
master_process off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    {server}
}}
"
    );
    let config_path = dir.path().join("nginx.conf");
    std::fs::write(&config_path, config).unwrap();
    let child = Command::new(binary)
        .arg("-p")
        .arg(dir.path())
        .arg("-c")
        .arg(&config_path)
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nginx");
    let mut nginx = Nginx {
        child,
        port,
        _dir: dir,
    };
    // Wait until it listens (or has exited, with its log as the reason).
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = nginx.child.try_wait() {
            let log = std::fs::read_to_string(nginx._dir.path().join("error.log"));
            panic!("nginx exited with {status}: {log:?}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "nginx is not listening after 10s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    nginx
}

#[test]
fn thousands_of_fetches_from_nginx_all_succeed() {
    let Some(binary) = nginx_for("cli_nginx") else {
        return;
    };
    with_deadline(Duration::from_secs(120), move || {
        let nginx = start_nginx(&binary, |port, _| {
            format!(
                "server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ return 200 \"ok\\n\"; }}
    }}"
            )
        });
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("targets.txt");
        let targets: String = (0..TARGETS)
            .map(|i| format!("http://127.0.0.1:{}/{i}\n", nginx.port))
            .collect();
        std::fs::write(&list, targets).unwrap();

        let run = cli([
            "--json",
            "-c",
            CONCURRENCY,
            "--connect-timeout",
            "5s",
            "--read-timeout",
            "5s",
            "-m",
            "10s",
            "-i",
            list.to_str().unwrap(),
        ]);
        let objects = run.json();
        let _ = writeln!(
            std::io::stderr(),
            "cli_nginx: {TARGETS} targets at -c {CONCURRENCY} in {:?}",
            run.elapsed
        );
        assert_eq!(objects.len(), TARGETS, "{}", run.stderr);
        let mut seen = std::collections::HashSet::new();
        for o in &objects {
            assert!(seen.insert(o["target"].as_str().unwrap().to_owned()), "{o}");
            assert_eq!(o["status"], 200, "{o}");
            assert_eq!(o["reason"], "OK", "{o}");
            assert_served_by_nginx(o);
        }
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        drop(nginx);
    });
}

/// nginx over TLS, with a CA and a leaf for `localhost` made here: trusted
/// through `--cacert`, and `http/1.1` chosen by ALPN (nginx picks it from
/// the client's offer when HTTP/2 is off).
#[test]
fn nginx_over_tls_is_trusted_through_cacert_and_chooses_http11() {
    let Some(binary) = nginx_for("cli_nginx TLS") else {
        return;
    };
    with_deadline(Duration::from_secs(60), move || {
        let ca = tls::root_now("Nginx Test Root");
        let key = KeyPair::generate().unwrap();
        let key_pem = key.serialize_pem();
        let leaf = ca.leaf_with(&["localhost"], key, |params| {
            tls::valid_from_now(params, -tls::DAY, 30 * tls::DAY)
        });
        let nginx = start_nginx(&binary, |port, dir| {
            std::fs::write(dir.join("cert.pem"), &leaf.pem).unwrap();
            std::fs::write(dir.join("key.pem"), &key_pem).unwrap();
            let dir = dir.display();
            // nginx 1.22 leaves TLS 1.3 out by default.
            format!(
                "server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {dir}/cert.pem;
        ssl_certificate_key {dir}/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {{ return 200 \"ok\\n\"; }}
    }}"
            )
        });
        let cacert = tls::pem_file(&ca.pem);
        let target = format!("https://localhost:{}/", nginx.port);
        let run = cli([
            "--json",
            "--cacert",
            cacert.path().to_str().unwrap(),
            "--connect-timeout",
            "10s",
            "--read-timeout",
            "10s",
            "-m",
            "20s",
            &target,
        ]);
        assert_eq!(run.code, Some(0), "{}\n{}", run.text(), run.stderr);
        let objects = run.json();
        assert_eq!(objects.len(), 1, "{}", run.text());
        let o = &objects[0];
        assert_eq!(o["status"], 200, "{o}");
        assert_served_by_nginx(o);
        let t = &o["tls"];
        assert_eq!(t["verdict"], "ok", "{t}");
        assert_eq!(t["alpn"], "http/1.1", "{t}");
        assert_eq!(t["version"], "TLSv1.3", "{t}");
        assert_eq!(t["sni"], "localhost", "{t}");
        assert_eq!(t["chain"][0]["subject"], "CN=localhost", "{t}");
        assert_eq!(t["chain"][0]["issuer"], "CN=Nginx Test Root", "{t}");
        assert!(o["timings"]["tls_ms"].as_f64().unwrap() > 0.0, "{o}");
        drop(nginx);
    });
}

/// The JSON outcome `o` has a `Server` header naming nginx.
fn assert_served_by_nginx(o: &serde_json::Value) {
    let server = o["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "Server")
        .unwrap_or_else(|| panic!("no Server header: {o}"));
    assert!(server[1].as_str().unwrap().starts_with("nginx"), "{o}");
}
