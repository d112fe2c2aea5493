//! The engine's [`Sink`], as the command implements it: outcomes are
//! formatted on the loop thread and handed to the writer thread in chunks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use fetch_headers::fetch::{Outcome, Sink, Stop, StopReason};
use fetch_headers::runtime::{self, channel::Sender};

use super::report::{json, text, timeline::Timeline};
use super::writer::Chunk;

/// Hand-over size that does not wait for the end of the turn.
const FLUSH_AT: usize = 64 * 1024;

/// How outcomes are shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Format {
    /// JSON Lines instead of text.
    pub(crate) json: bool,
    /// The seed's `wget TARGET...` line as each fetch starts (`-v`).
    pub(crate) verbose: bool,
    /// Head lines as they arrive (`--live`).
    pub(crate) live: bool,
    /// A `TARGET tls > ...` line per TLS session (`--tls-info`).
    pub(crate) tls_info: bool,
}

/// Formats events on the loop thread and hands them to the writer thread.
///
/// Text is gathered for one loop turn and handed over in one piece, by a
/// task spawned for that (it runs at the start of the next turn): one
/// cross-thread hand-over per turn, not one per line, yet a lone result is
/// still printed at once.
pub(crate) struct CliSink {
    format: Format,
    tx: Sender<Chunk>,
    pending: RefCell<Chunk>,
    flush_scheduled: Cell<bool>,
    /// Every outcome's timings, only with `--timeline`.
    timeline: RefCell<Option<Timeline>>,
    /// The run's stop, for when the output closes.
    stop: Stop,
}

impl CliSink {
    /// A sink handing its text to `tx`, keeping a timeline if given one.
    /// Stops the run through `stop` when the output closes.
    pub(crate) fn new(
        format: Format,
        tx: Sender<Chunk>,
        timeline: Option<Timeline>,
        stop: Stop,
    ) -> Rc<Self> {
        Rc::new(CliSink {
            format,
            tx,
            pending: RefCell::default(),
            flush_scheduled: Cell::new(false),
            timeline: RefCell::new(timeline),
            stop,
        })
    }

    /// The output has closed: its reader left (`| head -1`), or a write
    /// failed. Nobody will see the outcomes of the fetches in flight, so
    /// they are cancelled at once, with no grace, and no target is started.
    pub(crate) fn output_closed(&self) {
        self.stop.request(StopReason::OutputClosed, Duration::ZERO);
    }

    /// Queues `text` (carrying `ok` and `failed` outcomes) for the writer.
    fn add(self: &Rc<Self>, text: &str, ok: u64, failed: u64) {
        let mut pending = self.pending.borrow_mut();
        pending.text.push_str(text);
        pending.ok += ok;
        pending.failed += failed;
        let full = pending.text.len() >= FLUSH_AT;
        drop(pending);
        if full {
            self.flush();
        } else if !self.flush_scheduled.replace(true) {
            let sink = self.clone();
            drop(runtime::spawn(async move { sink.flush() }));
        }
    }

    /// Hands what is pending to the writer thread.
    pub(crate) fn flush(&self) {
        self.flush_scheduled.set(false);
        let chunk = self.pending.take();
        // The writer thread only goes away when it failed to write (the
        // error is reported at the end).
        if (!chunk.text.is_empty() || chunk.ok + chunk.failed > 0) && self.tx.push(chunk).is_err() {
            self.output_closed();
        }
    }

    /// The timeline, once the run is over.
    pub(crate) fn take_timeline(&self) -> Option<Timeline> {
        self.timeline.take()
    }
}

/// The engine's view of the sink.
pub(crate) struct SinkHandle(pub(crate) Rc<CliSink>);

impl Sink for SinkHandle {
    fn started(&self, target: &str) {
        let format = self.0.format;
        if format.verbose && !format.json {
            let mut line = String::new();
            text::started(&mut line, target);
            self.0.add(&line, 0, 0);
        }
    }

    fn wants_lines(&self) -> bool {
        self.0.format.live
    }

    fn line(&self, target: &str, line: &[u8]) {
        let mut out = String::new();
        text::line(&mut out, target, line);
        self.0.add(&out, 0, 0);
    }

    fn redirected(&self, target: &str, location: &str) {
        // Without --live the outcome prints its hops; with it, their lines
        // went out as they came, and so does the hop between them.
        if self.0.format.live {
            let mut out = String::new();
            text::redirect(&mut out, target, location);
            self.0.add(&out, 0, 0);
        }
    }

    fn wants_tls_info(&self) -> bool {
        self.0.format.json || self.0.format.tls_info
    }

    fn finished(&self, outcome: Outcome) {
        if let Some(timeline) = self.0.timeline.borrow_mut().as_mut() {
            timeline.add(&outcome);
        }
        let format = self.0.format;
        let mut out = String::new();
        if format.json {
            json::outcome(&mut out, &outcome);
        } else if format.live {
            // A head's lines were printed as they came; a failure is not.
            text::failure(&mut out, &outcome);
        } else {
            text::outcome(&mut out, &outcome);
        }
        let ok = outcome.result.is_ok() as u64;
        self.0.add(&out, ok, 1 - ok);
    }

    async fn ready(&self) {
        self.0.tx.room().await;
    }
}
