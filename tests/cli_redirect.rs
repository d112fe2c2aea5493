//! `-L`: redirects followed by the built binary, between plain and TLS
//! servers on loopback that answer by path and record every request they
//! get (method and path), so each hop can be checked from the server's side.
//!
//! Every server here is on loopback, so every redirect starts from an
//! internal origin and may go to another internal address. The other half
//! of the rule (a public target redirected to a loopback, private or
//! link-local address is refused) cannot be driven end to end without a
//! public address; it is unit-tested on `redirect_refused` in
//! src/fetch/target.rs.
mod support;
#[path = "support/tls.rs"]
mod tls;

use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use support::{cli, serve_on, with_deadline, Run};
use tls::{ServerSetup, DAY};

/// The last hop's answer.
const FINAL: &str = "HTTP/1.1 200 OK\r\nX-Hop: final\r\n\r\n";

/// A redirect to `location`.
fn moved(status: u16, location: &str) -> String {
    let reason = match status {
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        _ => "Redirect",
    };
    format!("HTTP/1.1 {status} {reason}\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n")
}

/// What each path answers; a path not listed gets a 404.
type Routes = Vec<(&'static str, String)>;

/// The answer of `routes` to the request `head`, and its method and path.
fn route(routes: &HashMap<String, Vec<u8>>, head: &[u8]) -> (Vec<u8>, (String, String)) {
    let text = String::from_utf8_lossy(head);
    let mut words = text.split(' ');
    let method = words.next().unwrap_or_default().to_owned();
    let path = words.next().unwrap_or_default().to_owned();
    let answer = routes
        .get(&path)
        .cloned()
        .unwrap_or_else(|| b"HTTP/1.1 404 Not Found\r\n\r\n".to_vec());
    (answer, (method, path))
}

/// Requests a site received: `(method, path)`, in order.
struct Log(mpsc::Receiver<(String, String)>);

impl Log {
    /// Every request so far. Each is recorded before it is answered, so
    /// once the binary has exited, every hop it got an answer for is here.
    fn taken(&self) -> Vec<(String, String)> {
        self.0.try_iter().collect()
    }

    /// The paths requested so far.
    fn paths(&self) -> Vec<String> {
        self.taken().into_iter().map(|(_, path)| path).collect()
    }
}

/// A plain HTTP site on `ip` answering by path.
fn site_on(ip: Ipv4Addr, routes: Routes) -> (SocketAddr, Log) {
    let routes: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        routes
            .into_iter()
            .map(|(path, answer)| (path.to_owned(), answer.into_bytes()))
            .collect(),
    );
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let addr = serve_on(ip, move |mut sock| {
        let head = support::read_head(&mut sock);
        let (answer, seen) = route(&routes, &head);
        let _ = tx.lock().map(|tx| tx.send(seen));
        let _ = sock.write_all(&answer);
    });
    (addr, Log(rx))
}

/// A plain HTTP site on 127.0.0.1.
fn site(routes: Routes) -> (SocketAddr, Log) {
    site_on(Ipv4Addr::LOCALHOST, routes)
}

/// The test's CA (trusted with `--cacert`) and a TLS site on 127.0.0.1
/// with a certificate for that address.
struct Secure {
    _ca: tls::Ca,
    cacert: tempfile::NamedTempFile,
    addr: SocketAddr,
    log: Log,
}

fn secure_site(routes: Routes) -> Secure {
    let ca = tls::root_now("Redirect Test Root");
    let leaf = tls::leaf_from_now(&ca, &["127.0.0.1"], -DAY, 30 * DAY);
    let routes: Arc<HashMap<String, Vec<u8>>> = Arc::new(
        routes
            .into_iter()
            .map(|(path, answer)| (path.to_owned(), answer.into_bytes()))
            .collect(),
    );
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let (addr, _requests) = tls::https_server(ServerSetup::new(&leaf).config(), move |head| {
        let (answer, seen) = route(&routes, head);
        let _ = tx.lock().map(|tx| tx.send(seen));
        answer
    });
    Secure {
        cacert: tls::pem_file(&ca.pem),
        _ca: ca,
        addr,
        log: Log(rx),
    }
}

impl Secure {
    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn cacert(&self) -> String {
        self.cacert.path().display().to_string()
    }
}

/// Runs the binary with [`PATIENT`](support::PATIENT) timeouts and `args`.
fn fetch(args: &[&str]) -> Run {
    let mut all: Vec<String> = support::PATIENT.iter().map(|s| s.to_string()).collect();
    all.extend(args.iter().map(|s| s.to_string()));
    with_deadline(Duration::from_secs(90), move || cli(all))
}

/// The one JSON object of a run of one target.
fn one(run: &Run) -> Value {
    let mut objects = run.json();
    assert_eq!(objects.len(), 1, "{}\n{}", run.text(), run.stderr);
    objects.remove(0)
}

fn gets(paths: &[&str]) -> Vec<(String, String)> {
    paths
        .iter()
        .map(|path| ("GET".to_owned(), path.to_string()))
        .collect()
}

#[test]
fn an_http_redirect_to_https_is_followed_and_every_hop_shown() {
    let secure = secure_site(vec![
        ("/secure", moved(302, "/final")),
        ("/final", FINAL.into()),
    ]);
    let next = secure.url("/secure");
    let (plain, plain_log) = site(vec![("/", moved(301, &next))]);
    let target = format!("http://{plain}/");
    let last = secure.url("/final");
    let cacert = secure.cacert();

    // Text: each hop's head, then where it led.
    let run = fetch(&["--cacert", &cacert, "-L", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let expected = format!(
        "{target} header > HTTP/1.1 301 Moved Permanently\n\
         {target} header > Location: {next}\n\
         {target} header > Content-Length: 0\n\
         {target} redirect > {next}\n\
         {target} header > HTTP/1.1 302 Found\n\
         {target} header > Location: /final\n\
         {target} header > Content-Length: 0\n\
         {target} redirect > {last}\n\
         {target} header > HTTP/1.1 200 OK\n\
         {target} header > X-Hop: final\n"
    );
    assert_eq!(run.text(), expected);
    assert_eq!(plain_log.taken(), gets(&["/"]));
    assert_eq!(secure.log.taken(), gets(&["/secure", "/final"]));

    // --live prints the same lines as they come.
    let live = run_live(&cacert, &target);
    assert_eq!(live, expected);
    assert_eq!(plain_log.taken(), gets(&["/"]));
    assert_eq!(secure.log.taken(), gets(&["/secure", "/final"]));

    // --tls-info: a tls line before each head that came over TLS.
    let run = fetch(&["--cacert", &cacert, "-L", "--tls-info", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let kinds: Vec<&str> = run
        .text()
        .lines()
        .map(|line| {
            let rest = line.strip_prefix(&format!("{target} ")).unwrap_or(line);
            rest.split(' ').next().unwrap_or_default()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "header", "header", "header", "redirect", "tls", "header", "header", "header",
            "redirect", "tls", "header", "header"
        ],
        "{}",
        run.text()
    );

    // JSON: every hop, and where it ended.
    let run = fetch(&["--cacert", &cacert, "-L", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["url"], target.as_str(), "{o}");
    assert_eq!(o["final_url"], last.as_str(), "{o}");
    assert_eq!(o["address"], secure.addr.to_string().as_str(), "{o}");
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["tls"]["verdict"], "ok", "{o}");
    let hops = o["redirects"].as_array().expect("redirects");
    assert_eq!(hops.len(), 2, "{o}");
    assert_eq!(
        hops[0],
        serde_json::json!({
            "url": target,
            "address": plain.to_string(),
            "status": 301,
            "location": next,
            "tls": null,
        })
    );
    assert_eq!(hops[1]["url"], next.as_str());
    assert_eq!(hops[1]["address"], secure.addr.to_string().as_str());
    assert_eq!(hops[1]["status"], 302);
    assert_eq!(hops[1]["location"], last.as_str());
    assert_eq!(hops[1]["tls"]["verdict"], "ok", "{}", hops[1]);
    assert!(hops[1]["tls"]["sni"].is_null(), "{}", hops[1]);
    let timings = &o["timings"];
    assert!(
        timings["tls_ms"].as_f64().expect("tls_ms") > 0.0,
        "{timings}"
    );
    assert!(
        timings["redirect_ms"].as_f64().expect("redirect_ms") > 0.0,
        "{timings}"
    );
}

/// `--live -L` with `cacert`, as text.
fn run_live(cacert: &str, target: &str) -> String {
    let run = fetch(&["--cacert", cacert, "-L", "--live", target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    run.text().to_owned()
}

#[test]
fn relative_locations_are_resolved_against_the_url_they_came_from() {
    let (addr, log) = site(vec![
        ("/one/two/start", moved(301, "next")),
        ("/one/two/next", moved(302, "../x")),
        ("/one/x", moved(307, "/a/b")),
        ("/a/b", moved(308, "?q=1")),
        ("/a/b?q=1", FINAL.into()),
    ]);
    let target = format!("http://{addr}/one/two/start");
    let run = fetch(&["-L", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    let url = |path: &str| format!("http://{addr}{path}");
    assert_eq!(o["final_url"], url("/a/b?q=1").as_str(), "{o}");
    let locations: Vec<&str> = o["redirects"]
        .as_array()
        .expect("redirects")
        .iter()
        .map(|hop| hop["location"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        locations,
        [
            url("/one/two/next"),
            url("/one/x"),
            url("/a/b"),
            url("/a/b?q=1")
        ]
    );
    assert_eq!(
        log.paths(),
        [
            "/one/two/start",
            "/one/two/next",
            "/one/x",
            "/a/b",
            "/a/b?q=1"
        ]
    );
}

#[test]
fn without_follow_the_redirect_is_the_outcome() {
    let (addr, log) = site(vec![
        ("/start", moved(301, "/next")),
        ("/next", FINAL.into()),
    ]);
    let target = format!("http://{addr}/start");
    let run = fetch(&["--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 301, "{o}");
    assert_eq!(o["redirects"], serde_json::json!([]), "{o}");
    assert_eq!(o["final_url"], o["url"], "{o}");
    assert_eq!(o["headers"][0], serde_json::json!(["Location", "/next"]));
    assert_eq!(log.paths(), ["/start"]);

    let run = support::cli(["--read-timeout", "10s", &target]);
    assert!(!run.text().contains(" redirect > "), "{}", run.text());
    assert_eq!(log.paths(), ["/start"]);
}

#[test]
fn max_redirs_is_the_most_redirects_one_target_follows() {
    let (addr, log) = site(vec![
        ("/r1", moved(302, "/r2")),
        ("/r2", moved(302, "/r3")),
        ("/r3", moved(302, "/r4")),
        ("/r4", FINAL.into()),
    ]);
    let target = format!("http://{addr}/r1");

    // Three redirects, two allowed: the third is not followed.
    let run = fetch(&["-L", "--max-redirs", "2", "--json", &target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["error"]["kind"], "too-many-redirects", "{o}");
    assert_eq!(
        o["error"]["message"],
        format!("more than 2 redirects (--max-redirs); the next was to http://{addr}/r4")
    );
    assert_eq!(o["redirects"].as_array().map(Vec::len), Some(2), "{o}");
    assert_eq!(log.paths(), ["/r1", "/r2", "/r3"]);

    // Three allowed: it ends at /r4.
    let run = fetch(&["-L", "--max-redirs", "3", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["redirects"].as_array().map(Vec::len), Some(3), "{o}");
    assert_eq!(log.paths(), ["/r1", "/r2", "/r3", "/r4"]);

    // None allowed: -L --max-redirs 0 follows nothing.
    let run = fetch(&["-L", "--max-redirs", "0", &target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(
        run.text().ends_with(&format!(
            "{target} error > too-many-redirects: more than 0 redirects (--max-redirs); \
             the next was to http://{addr}/r2\n"
        )),
        "{}",
        run.text()
    );
    assert_eq!(log.paths(), ["/r1"]);
}

#[test]
fn a_loop_is_too_many_redirects_and_says_it_is_a_loop() {
    let (addr, log) = site(vec![
        ("/a", moved(302, "/b")),
        ("/b", moved(302, "/a")),
        ("/self", moved(301, "/self")),
    ]);
    // Found at the first repeat, long before the limit.
    let target = format!("http://{addr}/a");
    let run = fetch(&["-L", "--max-redirs", "50", "--json", &target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["error"]["kind"], "too-many-redirects", "{o}");
    let message = o["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("loop"), "{message}");
    assert_eq!(
        message,
        format!("redirect loop: http://{addr}/a was already fetched")
    );
    assert_eq!(log.paths(), ["/a", "/b"]);

    let target = format!("http://{addr}/self");
    let run = fetch(&["-L", "--json", &target]);
    let o = one(&run);
    assert_eq!(o["error"]["kind"], "too-many-redirects", "{o}");
    assert_eq!(
        o["error"]["message"],
        format!("redirect loop: http://{addr}/self was already fetched")
    );
    assert_eq!(log.paths(), ["/self"]);
}

#[test]
fn a_redirect_with_no_usable_location_is_bad_redirect() {
    let (addr, log) = site(vec![
        (
            "/missing",
            "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n".into(),
        ),
        ("/ftp", moved(301, "ftp://127.0.0.1/file")),
        ("/no-host", moved(302, "http://:8080/")),
    ]);
    let cases = [
        ("/missing", "302 redirect: the redirect has no Location"),
        (
            "/ftp",
            "301 redirect: the Location's scheme 'ftp' is not http or https",
        ),
        ("/no-host", "redirect to 'http://:8080/': empty host"),
    ];
    for (path, message) in cases {
        let target = format!("http://{addr}{path}");
        let run = fetch(&["-L", "--json", &target]);
        assert_eq!(run.code, Some(1), "{}", run.stderr);
        let o = one(&run);
        assert_eq!(o["error"]["kind"], "bad-redirect", "{path}: {o}");
        let said = o["error"]["message"].as_str().unwrap_or_default();
        assert!(said.starts_with(message), "{path}: {said}");
        assert_eq!(log.paths(), [path], "nothing fetched after it");
    }
}

#[test]
fn head_stays_head_on_every_hop_and_get_stays_get_after_303() {
    let (addr, log) = site(vec![
        ("/h1", moved(301, "/h2")),
        ("/h2", moved(302, "/h3")),
        ("/h3", moved(303, "/h4")),
        ("/h4", moved(307, "/h5")),
        ("/h5", moved(308, "/h6")),
        ("/h6", FINAL.into()),
    ]);
    let target = format!("http://{addr}/h1");
    let paths = ["/h1", "/h2", "/h3", "/h4", "/h5", "/h6"];

    let run = fetch(&["-L", "-I", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(one(&run)["status"], 200);
    let heads: Vec<(String, String)> = paths
        .iter()
        .map(|path| ("HEAD".to_owned(), path.to_string()))
        .collect();
    assert_eq!(log.taken(), heads);

    let run = fetch(&["-L", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(one(&run)["status"], 200);
    assert_eq!(log.taken(), gets(&paths));
}

#[test]
fn path_applies_to_the_first_hop_only() {
    let (addr, log) = site(vec![("/x", moved(302, "/y")), ("/y", FINAL.into())]);
    let target = format!("http://{addr}/ignored");
    let run = fetch(&["-L", "--path", "/x", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["final_url"], format!("http://{addr}/y").as_str(), "{o}");
    assert_eq!(log.paths(), ["/x", "/y"]);
}

/// The server answered a request for `/dir/x`; its relative `Location: y`
/// means `/dir/y` (RFC 9110 §10.2.2: relative to the target URI of the
/// request).
#[test]
fn with_path_a_relative_location_is_resolved_against_the_path_requested() {
    let (addr, log) = site(vec![("/dir/x", moved(302, "y")), ("/dir/y", FINAL.into())]);
    let target = format!("http://{addr}/");
    let run = fetch(&["-L", "--path", "/dir/x", "--json", &target]);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(log.paths(), ["/dir/x", "/dir/y"]);
}

/// `/login` redirects to `/`, which was never fetched: no loop.
#[test]
fn with_path_a_redirect_to_the_targets_own_url_is_no_loop() {
    let (addr, log) = site(vec![("/login", moved(302, "/")), ("/", FINAL.into())]);
    let target = format!("http://{addr}/");
    let run = fetch(&["-L", "--path", "/login", "--json", &target]);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(log.paths(), ["/login", "/"]);
}

#[test]
fn redirects_between_loopback_addresses_are_followed() {
    // Another loopback address, and the name `localhost` (from /etc/hosts).
    let (third, third_log) = site(vec![("/c", FINAL.into())]);
    let (second, second_log) = site_on(
        Ipv4Addr::new(127, 0, 0, 2),
        vec![(
            "/b",
            moved(302, &format!("http://localhost:{}/c", third.port())),
        )],
    );
    let (first, first_log) = site(vec![("/a", moved(301, &format!("http://{second}/b")))]);
    let target = format!("http://{first}/a");
    let run = fetch(&["-L", "--json", &target]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["status"], 200, "{o}");
    assert_eq!(o["redirects"][1]["address"], second.to_string().as_str());
    assert_eq!(o["address"], third.to_string().as_str(), "{o}");
    assert_eq!(first_log.paths(), ["/a"]);
    assert_eq!(second_log.paths(), ["/b"]);
    assert_eq!(third_log.paths(), ["/c"]);
}

#[test]
fn a_redirect_to_a_bad_certificate_fails_with_its_kind_after_the_hop() {
    // The TLS site's CA is not given: its certificate is untrusted.
    let secure = secure_site(vec![("/final", FINAL.into())]);
    let next = secure.url("/final");
    let (plain, _) = site(vec![("/", moved(301, &next))]);
    let target = format!("http://{plain}/");
    let run = fetch(&["-L", "--json", &target]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let o = one(&run);
    assert_eq!(o["error"]["kind"], "cert-untrusted", "{o}");
    assert_eq!(o["final_url"], next.as_str(), "{o}");
    assert_eq!(o["redirects"][0]["location"], next.as_str(), "{o}");
    assert_eq!(o["tls"]["verdict"], "cert-untrusted", "{o}");
    assert!(
        secure.log.paths().is_empty(),
        "no request over a bad session"
    );
}

#[test]
fn timeline_and_stats_of_a_redirected_https_fetch_have_its_tls_phase() {
    let secure = secure_site(vec![("/final", FINAL.into())]);
    let next = secure.url("/final");
    let (plain, _) = site(vec![("/", moved(301, &next))]);
    let target = format!("http://{plain}/");
    let cacert = secure.cacert();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("run.json");
    let trace_arg = trace.display().to_string();

    let run = fetch(&[
        "--cacert",
        &cacert,
        "-L",
        "-q",
        "--timeline",
        &trace_arg,
        &target,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let text = std::fs::read_to_string(&trace).expect("trace written");
    let trace: Value = serde_json::from_str(&text).expect("the trace is JSON");
    let phases: Vec<&str> = trace["traceEvents"]
        .as_array()
        .expect("traceEvents")
        .iter()
        .filter(|e| e["ph"] == "X" && e["args"]["target"] == target.as_str())
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert_eq!(
        phases,
        ["redirect", "dns", "connect", "tls", "wait", "read"],
        "{text}"
    );

    let run = fetch(&[
        "--cacert", &cacert, "-L", "--stats", "--json", "-q", &target,
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let stats: Value = serde_json::from_str(run.stderr.trim()).expect("stats are JSON");
    assert_eq!(stats["latency_ms"]["tls"]["count"], 1, "{stats}");
    assert!(stats["latency_ms"]["tls"]["max"].as_f64().unwrap() > 0.0);
    assert_eq!(stats["summary"]["ok"], 1, "{stats}");
}
