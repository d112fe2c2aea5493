//! The `fetch-headers` command's own layer, private to the binary: flags,
//! input, output and reports around the library's engine.
//!
//! ```text
//!  args ──► settings ──► input (arguments, then the reader thread)
//!                           │
//!                           ▼
//!                   fetch::run on the loop ──► sink ──► writer thread ──► stdout / -o FILE
//!                           │
//!                           ▼
//!          summary, --stats, --timeline on stderr and in files
//! ```
//!
//! [`run`] wires those pieces together and turns the run into an exit
//! status: 0 when every target answered, 1 when some failed, 2 when the
//! results could not be written (a usage error is 2 as well, found before
//! the run by [`Settings::new`]).

mod args;
mod error;
mod fd_limit;
mod input;
mod report;
mod settings;
mod sink;
pub(crate) mod stderr;
mod writer;

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;
use std::thread::JoinHandle;
use std::time::Instant;

use fetch_headers::fetch::{self, Config, Summary};
use fetch_headers::runtime::{channel, Runtime, Stats};

pub(crate) use args::Args;
pub(crate) use error::CliError;

use input::CliTargets;
use report::{stats, text, timeline::Timeline};
use settings::{Report, Settings};
use sink::{CliSink, SinkHandle, UntilOutputCloses};

/// Chunks of output queued for the writer thread.
const OUTPUT_QUEUE: usize = 256;

/// Runs the command; `Err` is a usage or setup problem (exit status 2).
pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let Settings {
        mut config,
        targets,
        inputs,
        encoding,
        output,
        format,
        report,
    } = Settings::new(args)?;
    fit_concurrency_to_fd_limit(&mut config);
    let targets = CliTargets::new(targets, inputs, encoding)
        .map_err(CliError::setup("start the input thread"))?;
    let runtime = Runtime::new().map_err(CliError::setup("create the event loop"))?;

    let (tx, rx) = channel::channel(OUTPUT_QUEUE);
    let writer = writer::spawn(rx, output, report.progress);
    let timeline = report
        .timeline
        .is_some()
        .then(|| Timeline::new(Instant::now()));
    runtime.record_spans(timeline.is_some());
    let sink = CliSink::new(format, tx, timeline);
    let targets = UntilOutputCloses {
        targets,
        sink: sink.clone(),
    };
    let handle = Rc::new(SinkHandle(sink.clone()));
    let summary = runtime.block_on(fetch::run(config, targets, handle));

    sink.flush();
    let timeline = sink.take_timeline().map(|mut timeline| {
        timeline.set_loop_spans(runtime.take_spans());
        timeline
    });
    let loop_stats = runtime.stats();
    // Dropping the loop drops the pending flush task and its clone of the
    // sink; dropping the last sink closes the channel, and the writer ends.
    drop(runtime);
    drop(sink);
    let output_failed = finish_writer(writer);
    if let (Some(timeline), Some(path)) = (timeline, &report.timeline) {
        // The results are out already, so a failure here leaves the exit
        // status to them.
        if let Err(e) = write_timeline(&timeline, path) {
            stderr::line(format_args!(
                "fetch-headers: cannot write timeline '{}': {e}",
                path.display()
            ));
        }
    }
    print_reports(&report, &loop_stats, &summary);
    Ok(if output_failed {
        ExitCode::from(2)
    } else if summary.failures() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Lowers the concurrency, with a note, to what the open-file limit holds.
fn fit_concurrency_to_fd_limit(config: &mut Config) {
    let budget = fd_limit::raise_fd_limit();
    if config.concurrency > budget.max_concurrency() {
        stderr::line(format_args!(
            "fetch-headers: the open-file limit is {} (hard limit reached), so concurrency is lowered from {} to {}",
            budget.soft,
            config.concurrency,
            budget.max_concurrency()
        ));
        config.concurrency = budget.max_concurrency();
    }
}

/// Waits for the writer thread; true if results could not be written.
/// Results that were not written are a failure of the run, whatever the
/// targets did: a script must not take exit status 0 for a full disk.
fn finish_writer(writer: JoinHandle<io::Result<()>>) -> bool {
    match writer.join() {
        Ok(Ok(())) => false,
        // The reader of a pipe left (`| head`): it took what it wanted.
        Ok(Err(e)) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Ok(Err(e)) => {
            stderr::line(format_args!("fetch-headers: writing results failed: {e}"));
            true
        }
        Err(_) => {
            stderr::line("fetch-headers: the output thread crashed");
            true
        }
    }
}

/// `--stats` and the summary line, on stderr.
fn print_reports(report: &Report, loop_stats: &Stats, summary: &Summary) {
    if report.stats {
        let table = if report.json {
            stats::json(loop_stats, summary)
        } else {
            stats::table(loop_stats, summary)
        };
        stderr::write(&table);
    }
    if report.summary {
        stderr::line(text::summary(summary));
    }
}

/// Writes `timeline` to `path`: SVG when the name ends in `.svg`, else a
/// Chrome trace.
fn write_timeline(timeline: &Timeline, path: &Path) -> io::Result<()> {
    let svg = path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("svg"));
    let mut out = BufWriter::new(File::create(path)?);
    if svg {
        timeline.write_svg(&mut out)?;
    } else {
        timeline.write_chrome_trace(&mut out)?;
    }
    out.flush()
}
