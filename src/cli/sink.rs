//! The engine's [`Sink`], as the command implements it: outcomes are
//! formatted on the loop thread and handed to the writer thread in chunks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use fetch_headers::fetch::{Outcome, Sink, Stop, StopReason};
use fetch_headers::runtime::{self, channel::Sender};

use super::report::{json, text, timeline::Timeline};
use super::writer::{Buffers, Chunk};

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
    /// Where the writer thread gives the chunks' buffers back.
    buffers: Arc<Buffers>,
    pending: RefCell<Chunk>,
    flush_scheduled: Cell<bool>,
    /// Every outcome's timings, only with `--timeline`.
    timeline: RefCell<Option<Timeline>>,
    /// The run's stop, for when the output closes.
    stop: Stop,
}

impl CliSink {
    /// A sink handing its text to `tx`, in buffers taken from `buffers`,
    /// keeping a timeline if given one. Stops the run through `stop` when
    /// the output closes.
    pub(crate) fn new(
        format: Format,
        tx: Sender<Chunk>,
        buffers: Arc<Buffers>,
        timeline: Option<Timeline>,
        stop: Stop,
    ) -> Rc<Self> {
        Rc::new(CliSink {
            format,
            tx,
            buffers,
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

    /// Lets `write` append text (carrying `ok` and `failed` outcomes) to
    /// the chunk for the writer: formatted straight into it, with no
    /// buffer of its own.
    fn add(self: &Rc<Self>, ok: u64, failed: u64, write: impl FnOnce(&mut Vec<u8>)) {
        let mut pending = self.pending.borrow_mut();
        write(&mut pending.text);
        pending.ok += ok;
        pending.failed += failed;
        let full = pending.text.len() >= FLUSH_AT;
        drop(pending);
        if full {
            self.flush();
        } else if !self.flush_scheduled.replace(true) {
            let sink = self.clone();
            runtime::spawn_detached(async move { sink.flush() });
        }
    }

    /// Hands what is pending to the writer thread.
    pub(crate) fn flush(&self) {
        self.flush_scheduled.set(false);
        let mut pending = self.pending.borrow_mut();
        if pending.text.is_empty() && pending.ok + pending.failed == 0 {
            return;
        }
        // The next chunk goes into a buffer the writer has given back, or
        // one as large as this chunk ended, so it rarely grows as it fills.
        let next = Chunk {
            text: self.buffers.take(pending.text.len()),
            ..Chunk::default()
        };
        let chunk = std::mem::replace(&mut *pending, next);
        drop(pending);
        // The writer thread only goes away when it failed to write (the
        // error is reported at the end).
        if self.tx.push(chunk).is_err() {
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
            self.0.add(0, 0, |out| text::started(out, target));
        }
    }

    fn wants_lines(&self) -> bool {
        self.0.format.live
    }

    fn line(&self, target: &str, line: &[u8]) {
        self.0.add(0, 0, |out| text::line(out, target, line));
    }

    fn redirected(&self, target: &str, location: &str) {
        // Without --live the outcome prints its hops; with it, their lines
        // went out as they came, and so does the hop between them.
        if self.0.format.live {
            self.0
                .add(0, 0, |out| text::redirect(out, target, location));
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
        let ok = outcome.result.is_ok() as u64;
        self.0.add(ok, 1 - ok, |out| {
            if format.json {
                json::outcome(out, &outcome);
            } else if format.live {
                // A head's lines were printed as they came; a failure is not.
                text::failure(out, &outcome);
            } else {
                text::outcome(out, &outcome);
            }
        });
    }

    async fn ready(&self) {
        self.0.tx.room().await;
    }
}
