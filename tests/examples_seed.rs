//! The seed's asyncio programs, run as the built example binaries.
mod support;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn hello_prints_two_lines_and_takes_a_second() {
    let started = Instant::now();
    let output = support::with_deadline(Duration::from_secs(20), || {
        Command::new(support::example("hello"))
            .output()
            .expect("run the hello example (cargo test builds it)")
    });
    let took = started.elapsed();
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "Hello world!\nHello again!\n"
    );
    assert!(took >= Duration::from_secs(1), "took only {took:?}");
}

#[test]
fn wget_prints_the_headers_of_each_server_and_an_error_for_a_closed_port() {
    let one = support::http_server(b"HTTP/1.0 200 OK\r\nServer: one\r\nContent-Length: 0\r\n\r\n");
    let two = support::http_server(
        b"HTTP/1.1 404 Not Found\r\nServer: two\r\nX-Dup: a\r\nX-Dup: b\r\n\r\nbody",
    );
    let closed = support::closed_port();
    let targets = [one, two, closed].map(|addr| addr.to_string());
    let args = targets.clone();
    let output = support::with_deadline(Duration::from_secs(20), move || {
        Command::new(support::example("wget"))
            .args(&args)
            .output()
            .expect("run the wget example (cargo test builds it)")
    });
    assert!(output.status.success(), "{:?}", output.status);
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();

    // Tasks interleave, so check each target's lines in their own order.
    let of = |target: &str| -> Vec<&str> {
        lines
            .iter()
            .copied()
            .filter(|line| line.starts_with(&format!("{target} ")))
            .collect()
    };
    for target in &targets {
        assert!(
            lines.contains(&format!("wget {target}...").as_str()),
            "{stdout}"
        );
    }
    let [one, two, closed] = &targets;
    assert_eq!(
        of(one),
        [
            format!("{one} header > HTTP/1.0 200 OK"),
            format!("{one} header > Server: one"),
            format!("{one} header > Content-Length: 0"),
        ]
    );
    assert_eq!(
        of(two),
        [
            format!("{two} header > HTTP/1.1 404 Not Found"),
            format!("{two} header > Server: two"),
            format!("{two} header > X-Dup: a"),
            format!("{two} header > X-Dup: b"),
        ]
    );
    assert_eq!(
        of(closed),
        [format!(
            "{closed} error > connect to {closed} failed: Connection refused (os error 111)"
        )]
    );
    assert_eq!(lines.len(), 3 + 3 + 4 + 1, "no other lines:\n{stdout}");
}
