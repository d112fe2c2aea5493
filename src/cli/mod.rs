//! The `fetch-headers` command's own layer, private to the binary: flags,
//! input, output and reports around the library's engine.
//!
//! ```text
//!  args ──► settings ──► input (arguments, then the reader thread)
//!                           │
//!                           ▼
//!   SIGINT, SIGTERM ──► fetch::run_until on the loop ──► sink ──► writer thread ──► stdout / -o FILE
//!   (as readiness)          │        ▲                                    │
//!                           │        └── Stop ◄── the reader left ◄──────┘
//!                           ▼
//!          summary, --stats, --timeline on stderr and in files
//! ```
//!
//! [`run`] wires those pieces together and turns the run into an exit
//! status: 0 when every outcome written was an answer, 1 when some failed,
//! 2 when the results could not be written or reading the targets failed
//! part-way (a usage error is 2 as well, found before the run by
//! [`Settings::new`]), and 128 + the signal's number when SIGINT (130) or
//! SIGTERM (143) stopped the run.
//!
//! A run stops early two ways, both through the engine's [`Stop`]: a
//! signal gives the fetches in flight [`GRACE`] to finish and reports the
//! rest as `interrupted`; an output whose reader left (`| head -1`) cancels
//! them at once, since nobody will read their outcomes.

mod args;
mod error;
mod fd_limit;
mod fnv;
mod input;
mod report;
mod settings;
mod shard;
mod sink;
mod skip_done;
pub(crate) mod stderr;
mod writer;

use std::cell::Cell;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fetch_headers::fetch::{self, Config, Dns, Stop, StopReason, Summary};
use fetch_headers::runtime::{self, channel, Runtime, Signals, Stats};

pub(crate) use args::Args;
pub(crate) use error::CliError;

use input::CliTargets;
use report::{stats, text, timeline::Timeline, Skipped};
use settings::{Report, Settings, TimelineFile};
use shard::{Shard, ShardTargets};
use sink::{CliSink, SinkHandle};
use skip_done::SkipDone;

/// Chunks of output queued for the writer thread.
const OUTPUT_QUEUE: usize = 256;

/// SIGINT and SIGTERM as readiness on the loop (see `stop_on_signal`).
/// Catching them takes descriptors, and a fetch needs one too and comes
/// first: without the room (a tiny open-file limit), a signal ends the run
/// at once, as it would any program, and stderr says so.
fn catch_signals(fd_limit: u64) -> Option<Rc<Signals>> {
    match Signals::once(&[libc::SIGINT, libc::SIGTERM]) {
        Ok(signals) if fd_limit::room_for_sockets(fd_limit) > 0 => Some(Rc::new(signals)),
        Ok(_) => {
            stderr::line(
                "fetch-headers: the open-file limit leaves no descriptor to catch SIGINT and SIGTERM: a signal will end the run at once",
            );
            None
        }
        Err(e) => {
            stderr::line(format_args!(
                "fetch-headers: cannot catch SIGINT and SIGTERM ({e}): a signal will end the run at once"
            ));
            None
        }
    }
}

/// Runs the command; `Err` is a usage or setup problem (exit status 2).
pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let Settings {
        mut config,
        targets,
        inputs,
        skip_done,
        shard,
        encoding,
        output,
        output_watch,
        format,
        report,
    } = Settings::new(args)?;
    let fd_limit = fd_limit::raise_fd_limit();
    let runtime = Runtime::new().map_err(CliError::setup("create the event loop"))?;
    let mut targets = CliTargets::new(targets, inputs, encoding)
        .map_err(CliError::setup("start the input thread"))?;

    let (tx, rx) = channel::channel(OUTPUT_QUEUE);
    let buffers = Arc::new(writer::Buffers::default());
    let writer = writer::spawn(rx, output, report.progress, buffers.clone());
    // A pipe's reader can leave (`| head -1`) while the writer has nothing
    // to write, so nothing would fail to tell us: a thread watches for it.
    let reader_left = match output_watch {
        Some(fd) => Some(writer::watch_reader(fd).map_err(CliError::setup("watch the output"))?),
        None => None,
    };
    let timeline = report
        .timeline
        .is_some()
        .then(|| Timeline::new(Instant::now()));
    runtime.record_spans(timeline.is_some());
    let stop = Stop::new();
    let sink = CliSink::new(format, tx, buffers, timeline, stop.clone());
    let handle = Rc::new(SinkHandle(sink.clone()));
    let (other_shards, done) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
    // A shard's targets first, so only its own count as done or not.
    let mut shard_targets = ShardTargets {
        targets: &mut targets,
        shard: shard.unwrap_or(Shard { k: 1, n: 1 }),
        skipped: other_shards.clone(),
    };
    let mut targets_to_fetch = SkipDone {
        targets: &mut shard_targets,
        done: skip_done.unwrap_or_default(),
        skipped: done.clone(),
    };
    let (summary, signals) = runtime.block_on(async {
        let signals = catch_signals(fd_limit);
        if let Some(signals) = &signals {
            let note = report
                .summary
                .then_some(report.progress != writer::Progress::Off);
            runtime::spawn_detached(stop_on_signal(signals.clone(), stop.clone(), note));
        }
        // Everything the run keeps open is open now: what is left is for
        // sockets.
        fit_concurrency_to_fd_limit(&mut config, fd_limit);
        if let Some(reader_left) = reader_left {
            let sink = sink.clone();
            runtime::spawn_detached(async move {
                if reader_left.recv().await.is_some() {
                    sink.output_closed();
                }
            });
        }
        let summary = fetch::run_until(config, &mut targets_to_fetch, handle, stop).await;
        Ok::<_, CliError>((summary, signals))
    })?;

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
    let written = finish_writer(writer);
    if let (Some(timeline), Some(file)) = (timeline, &report.timeline) {
        // The results are out already, so a failure here leaves the exit
        // status to them.
        if let Err(e) = write_timeline(&timeline, file) {
            stderr::line(format_args!(
                "fetch-headers: cannot write timeline '{}': {e}",
                file.path.display()
            ));
        }
    }
    // Reading the targets failed part-way: the results so far are out,
    // and the run is a failure of the command, not of the targets.
    let input_error = targets.take_error();
    if let Some(e) = &input_error {
        stderr::line(format_args!("fetch-headers: {e}"));
    }
    let skipped = Skipped {
        done: done.get(),
        shard: shard.map(|shard| (shard, other_shards.get())),
    };
    print_reports(&report, &loop_stats, &summary, skipped);
    // Until the process exits, a second signal still ends it at once.
    drop(signals);
    Ok(exit_status(&summary, &written, input_error.is_some()))
}

/// How long the fetches in flight may go on after SIGINT or SIGTERM.
const GRACE: Duration = Duration::from_secs(1);

/// Waits on the loop for SIGINT or SIGTERM, then stops the run: no more
/// targets, [`GRACE`] for the fetches in flight. `Signals::once` has then
/// given the signals their default action back, so a second one ends the
/// process at once. With `note` (not `-q`), says so on stderr, erasing the
/// progress line first if `note` is `Some(true)`.
async fn stop_on_signal(signals: Rc<Signals>, stop: Stop, note: Option<bool>) {
    let signal = match signals.recv().await {
        Ok(signal) => signal,
        Err(e) => {
            log::warn!("cannot wait for signals: {e}");
            return;
        }
    };
    let reason = StopReason::Signal(signal);
    if let Some(progress) = note {
        let erase = if progress { "\r\x1b[K" } else { "" };
        stderr::line(format_args!(
            "{erase}fetch-headers: {reason}: the fetches in flight have {}s to finish; a second signal ends it at once",
            GRACE.as_secs()
        ));
    }
    stop.request(reason, GRACE);
}

/// The exit status: 128 + the signal's number after a signal (130 for
/// SIGINT, 143 for SIGTERM), as shells report a process the signal ended;
/// 2 when results could not be written or the targets could not be read;
/// else 0 when every outcome written was an answer, 1 when some failed.
/// Outcomes the output never took (its reader left) do not count: a reader
/// leaving is not a failure.
fn exit_status(summary: &Summary, written: &Written, input_failed: bool) -> ExitCode {
    if let Some(StopReason::Signal(signal)) = summary.stopped {
        return ExitCode::from(128u8.saturating_add(u8::try_from(signal).unwrap_or(0)));
    }
    if written.failed_to_write || input_failed {
        ExitCode::from(2)
    } else if written.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// Lowers the concurrency, with a note, to what the open-file limit holds.
/// A fetch holds one socket; a name our resolver is asking holds two more
/// (its A and AAAA questions), for at most `dns_in_flight` names, and no
/// more names than fetches. The DNS bound gives way first: fetches of IP
/// literals need none.
fn fit_concurrency_to_fd_limit(config: &mut Config, soft_limit: u64) {
    let room = fd_limit::max_concurrency(soft_limit);
    let asked = config.concurrency;
    let dns = match &mut config.dns {
        Dns::Stub(stub) => Some(&mut stub.max_in_flight),
        Dns::System => None,
    };
    let Some(dns_in_flight) = dns else {
        if asked > room {
            stderr::line(format_args!(
                "fetch-headers: the open-file limit is {soft_limit} (hard limit reached), so concurrency is lowered from {asked} to {room}"
            ));
            config.concurrency = room;
        }
        return;
    };
    let names = (*dns_in_flight).min(asked);
    if asked + 2 * names <= room {
        return;
    }
    if room >= asked + 2 {
        *dns_in_flight = (room - asked) / 2;
        log::debug!(
            "open-file limit {soft_limit}: {} names resolved at once",
            *dns_in_flight
        );
        return;
    }
    let most = (room / 3).max(1);
    *dns_in_flight = most;
    config.concurrency = most;
    stderr::line(format_args!(
        "fetch-headers: the open-file limit is {soft_limit} (hard limit reached), so concurrency is lowered from {asked} to {most} (each fetch may hold a socket and two DNS sockets)"
    ));
}

/// What the writer thread got out.
struct Written {
    /// Failed outcomes written whole.
    failed: u64,
    /// Results could not be written (not counting a reader who left).
    failed_to_write: bool,
}

/// Waits for the writer thread. Results that were not written are a
/// failure of the run, whatever the targets did: a script must not take
/// exit status 0 for a full disk.
fn finish_writer(writer: JoinHandle<writer::Report>) -> Written {
    let Ok(report) = writer.join() else {
        stderr::line("fetch-headers: the output thread crashed");
        return Written {
            failed: 0,
            failed_to_write: true,
        };
    };
    let failed_to_write = match &report.result {
        Ok(()) => false,
        // The reader of a pipe left (`| head`): it took what it wanted.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => false,
        Err(e) => {
            stderr::line(format_args!("fetch-headers: writing results failed: {e}"));
            true
        }
    };
    Written {
        failed: report.failed,
        failed_to_write,
    }
}

/// `--stats` and the summary line, on stderr.
fn print_reports(report: &Report, loop_stats: &Stats, summary: &Summary, skipped: Skipped) {
    if report.stats {
        let table = if report.json {
            stats::json(loop_stats, summary, skipped)
        } else {
            stats::table(loop_stats, summary).into_bytes()
        };
        stderr::write(&table);
    }
    if report.summary {
        stderr::line(text::summary(summary, skipped));
    }
}

/// Writes `timeline` to its file, opened before the run: SVG when the
/// name ends in `.svg`, else a Chrome trace.
fn write_timeline(timeline: &Timeline, file: &TimelineFile) -> io::Result<()> {
    let svg = file
        .path
        .extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("svg"));
    let mut out = BufWriter::new(&file.file);
    if svg {
        timeline.write_svg(&mut out)?;
    } else {
        timeline.write_chrome_trace(&mut out)?;
    }
    out.flush()
}
