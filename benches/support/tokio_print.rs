//! The printing tokio client: the peer of the `fetch-headers` command in
//! the CLI bench.
//!
//! It is the program someone would write in an afternoon with tokio's
//! `current_thread` runtime: read the target list, keep `concurrency`
//! fetches in flight ([`run_workers`]), and for each head print every line
//! as `TARGET header > LINE` (or one `TARGET error > MESSAGE` line) to
//! stdout. The fetch itself is the tokio bench client's ([`fetch_head`]:
//! tokio's default 8 KiB `BufReader`, lines read up to the blank line).
//!
//! Output goes through one `BufWriter` on stdout, behind a mutex that is
//! taken once per fetch: the printing is done on the loop thread, as a
//! plain program does it, and costs the loop what it costs. Nothing is
//! escaped: the bench server's head is plain ASCII, so these lines are
//! byte for byte the command's (the CLI bench checks that).
//!
//! [`run_workers`]: crate::tokio_fetch::run_workers
//! [`fetch_head`]: crate::tokio_fetch::fetch_head

use std::io::{self, BufWriter, Stdout, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::tokio_fetch::{fetch_head, run_workers};
use crate::wire::Tally;

/// What one run did: the fetches' outcomes and the lines it printed.
#[derive(Debug)]
pub struct Printed {
    /// One entry per target.
    pub tally: Tally,
    /// `header` lines written (error lines not counted).
    pub header_lines: usize,
}

/// The shared output: stdout, buffered, and a count of header lines.
struct Output {
    out: BufWriter<Stdout>,
    header_lines: usize,
    /// The first write error; once set, nothing more is written.
    error: Option<io::Error>,
}

/// Fetches every target listed in `targets_file` (one `IP:PORT` a line;
/// blank lines skipped) with `concurrency` in flight, printing each head.
pub fn run(targets_file: &Path, concurrency: usize) -> io::Result<Printed> {
    let text = std::fs::read_to_string(targets_file)?;
    let targets: Arc<Vec<String>> = Arc::new(
        text.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_owned)
            .collect(),
    );
    let output = Arc::new(Mutex::new(Output {
        out: BufWriter::new(io::stdout()),
        header_lines: 0,
        error: None,
    }));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let tally = {
        let (targets, output) = (Arc::clone(&targets), Arc::clone(&output));
        runtime.block_on(run_workers(targets.len(), concurrency, move |i| {
            let (targets, output) = (Arc::clone(&targets), Arc::clone(&output));
            async move { fetch_and_print(&targets[i], &output).await }
        }))
    };
    drop(runtime);
    let mut output = output
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(error) = output.error.take() {
        return Err(error);
    }
    output.out.flush()?;
    Ok(Printed {
        tally,
        header_lines: output.header_lines,
    })
}

/// Fetches `target` and prints what came of it.
async fn fetch_and_print(target: &str, output: &Mutex<Output>) -> Result<(), String> {
    let result = match target.parse::<SocketAddr>() {
        Ok(addr) => fetch_head(addr).await,
        Err(e) => Err(format!("not an IP:PORT target: {e}")),
    };
    let mut output = output
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if output.error.is_none() {
        let written = match &result {
            Ok(head) => print_head(&mut output, target, head),
            Err(e) => writeln!(output.out, "{target} error > {e}"),
        };
        if let Err(e) = written {
            output.error = Some(e);
        }
    }
    result.map(drop)
}

/// Writes `TARGET header > LINE` for each line of `head`.
fn print_head(output: &mut Output, target: &str, head: &[u8]) -> io::Result<()> {
    let lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .take_while(|line| !line.is_empty());
    for line in lines {
        output.out.write_all(target.as_bytes())?;
        output.out.write_all(b" header > ")?;
        output.out.write_all(line)?;
        output.out.write_all(b"\n")?;
        output.header_lines += 1;
    }
    Ok(())
}
