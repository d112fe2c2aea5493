//! A picture of a run, for `--timeline`: every target's phases on one time
//! axis, as a Chrome trace or as an SVG waterfall.
//!
//! Reading the loop's code says what it *can* do; a picture of a real run
//! shows what it *did*: how many fetches overlapped, whether time went to
//! the DNS queue, to connecting or to the server, and what the loop itself
//! was doing meanwhile. Two formats:
//!
//! - [`Timeline::write_chrome_trace`]: the Trace Event Format that Perfetto
//!   and `chrome://tracing` open, with one track per connection slot and
//!   one for the loop's own run and poll spans ([`LoopSpan`]).
//! - [`Timeline::write_svg`]: a self-contained waterfall, one bar per
//!   target, that any browser shows without another tool.
//!
//! Each target's [`Timings`] become up to six phases, all measured from the
//! start of the run:
//!
//! | phase      | from                   | to                         |
//! |------------|------------------------|----------------------------|
//! | `redirect` | the fetch started      | the last hop started (`-L`; the earlier hops together) |
//! | `dns`      | the (last hop's) start | the name resolved          |
//! | `connect`  | the name resolved      | the TCP connection is up   |
//! | `tls`      | the connection is up   | the TLS handshake is done (`https` only) |
//! | `wait`     | the connection (or TLS session) is up | the first response byte (includes sending the request) |
//! | `read`     | the first response byte| the head is complete       |
//!
//! A failed fetch shows the phases it finished plus the one it was in, cut
//! at the moment it failed, and is marked with its [`ErrorKind`].
//!
//! Invariant: the phases of one target are in this order, never overlap,
//! and lie within `[start, start + total]`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use fetch_headers::fetch::{ErrorKind, Outcome, Scheme, Timings};
use fetch_headers::http::escape_line;
use fetch_headers::runtime::{LoopSpan, SpanKind};

use super::json::JsonWriter;
use super::ms;

/// The outcomes of one run, kept for drawing (headers are not kept).
#[derive(Debug)]
pub(crate) struct Timeline {
    run_start: Instant,
    entries: Vec<Entry>,
    loop_spans: Vec<LoopSpan>,
}

/// What is kept of one outcome.
#[derive(Debug)]
struct Entry {
    target: String,
    /// When the fetch started, from the start of the run.
    start: Duration,
    timings: Timings,
    error: Option<ErrorKind>,
    /// False for a target that did not parse: it never reached DNS.
    started: bool,
    /// Whether the last hop was `https`: then it has a `tls` phase.
    tls: bool,
}

/// What part of a fetch a segment of its bar shows, in the order they
/// happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SegmentKind {
    Redirect,
    Dns,
    Connect,
    Tls,
    Wait,
    Read,
}

impl SegmentKind {
    const ALL: [SegmentKind; 6] = [
        SegmentKind::Redirect,
        SegmentKind::Dns,
        SegmentKind::Connect,
        SegmentKind::Tls,
        SegmentKind::Wait,
        SegmentKind::Read,
    ];

    fn name(self) -> &'static str {
        match self {
            SegmentKind::Redirect => "redirect",
            SegmentKind::Dns => "dns",
            SegmentKind::Connect => "connect",
            SegmentKind::Tls => "tls",
            SegmentKind::Wait => "wait",
            SegmentKind::Read => "read",
        }
    }
}

/// One phase of one target, from the start of the run.
#[derive(Debug, Clone, Copy)]
struct Segment {
    kind: SegmentKind,
    start: Duration,
    end: Duration,
}

impl Entry {
    fn end(&self) -> Duration {
        self.start + self.timings.total
    }

    /// The phases that happened; for a failure, the last one is the phase
    /// the fetch was in when it failed.
    fn segments(&self) -> Vec<Segment> {
        let t = &self.timings;
        if !self.started {
            return Vec::new();
        }
        // Where each phase ends, from the fetch's own start (see
        // `Timings`); `None` for a phase this fetch does not have.
        let hop = t.redirected.unwrap_or_default();
        let dns = t.dns.map(|dns| hop + dns);
        let connect = dns.zip(t.connect).map(|(dns, connect)| dns + connect);
        let ends = [
            t.redirected.map(Some),
            Some(dns),
            Some(connect),
            self.tls
                .then(|| connect.zip(t.tls).map(|(connect, tls)| connect + tls)),
            Some(t.sent.zip(t.first_byte).map(|(sent, first)| sent + first)),
            Some(Some(t.total)),
        ];
        let mut segments = Vec::with_capacity(SegmentKind::ALL.len());
        let mut from = Duration::ZERO;
        let phases = SegmentKind::ALL.into_iter().zip(ends);
        for (kind, end) in phases.filter_map(|(kind, end)| Some((kind, end?))) {
            // Clamped, so rounding in the timings can never make phases
            // overlap or outlast the outcome.
            let to = end.unwrap_or(t.total).clamp(from, t.total);
            segments.push(Segment {
                kind,
                start: self.start + from,
                end: self.start + to,
            });
            if end.is_none() {
                break; // the phase it failed in
            }
            from = to;
        }
        segments
    }
}

impl Timeline {
    /// An empty timeline whose times count from `run_start`.
    pub(crate) fn new(run_start: Instant) -> Self {
        Timeline {
            run_start,
            entries: Vec::new(),
            loop_spans: Vec::new(),
        }
    }

    /// Keeps the target, timings and error kind of `outcome`.
    pub(crate) fn add(&mut self, outcome: &Outcome) {
        self.entries.push(Entry {
            target: outcome.input.clone(),
            start: self.since_start(outcome.timings.start),
            timings: outcome.timings,
            error: outcome.result.as_ref().err().map(|e| e.kind()),
            started: outcome.started(),
            tls: outcome
                .target
                .as_ref()
                .is_some_and(|target| target.scheme == Scheme::Https),
        });
    }

    /// The loop's own spans (from `Runtime::take_spans`), for the trace.
    pub(crate) fn set_loop_spans(&mut self, spans: Vec<LoopSpan>) {
        self.loop_spans = spans;
    }

    fn since_start(&self, at: Instant) -> Duration {
        at.saturating_duration_since(self.run_start)
    }

    /// The entries by start time (outcomes arrive in completion order).
    fn by_start(&self) -> Vec<&Entry> {
        let mut entries: Vec<&Entry> = self.entries.iter().collect();
        entries.sort_by_key(|e| (e.start, e.end()));
        entries
    }

    /// Writes the Chrome Trace Event Format: complete events (`"X"`) in
    /// microseconds from the run start, track (`tid`) 0 for the loop and
    /// one track per connection slot from 1 on.
    pub(crate) fn write_chrome_trace(&self, out: &mut impl Write) -> io::Result<()> {
        let entries = self.by_start();
        let tracks = pack_tracks(&entries);
        out.write_all(b"{\"traceEvents\":[\n")?;
        out.write_all(
            br#"{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":"fetch-headers"}}"#,
        )?;
        // Each event is built in `event`, then written on a line of its own.
        let mut event = Vec::new();
        let mut emit = |build: &mut dyn FnMut(&mut JsonWriter<'_>)| {
            event.clear();
            build(&mut JsonWriter::new(&mut event));
            out.write_all(b",\n")?;
            out.write_all(&event)
        };

        let slots = tracks.iter().max().copied().unwrap_or(0);
        for tid in 0..=slots {
            let name = match tid {
                0 => "event loop".to_owned(),
                n => format!("slot {n}"),
            };
            emit(&mut |json| {
                json.begin_object();
                json.key("ph").string("M").key("pid").u64(1);
                json.key("tid").u64(tid as u64);
                json.key("name").string("thread_name");
                json.key("args").begin_object().key("name").string(&name);
                json.end_object().end_object();
            })?;
        }

        for span in &self.loop_spans {
            let start = self.since_start(span.start);
            let dur = self.since_start(span.end).max(start) - start;
            let name = match span.kind {
                SpanKind::Run { .. } => "run",
                SpanKind::Poll { .. } => "poll",
            };
            emit(&mut |json| {
                trace_event(json, name, "X", 0, start, Some(dur));
                json.key("args").begin_object();
                match span.kind {
                    SpanKind::Run { tasks } => {
                        json.key("tasks").u64(tasks as u64);
                    }
                    SpanKind::Poll { timeout, events } => {
                        json.key("events").u64(events as u64);
                        json.key("timeout_ms").millis(timeout);
                    }
                }
                json.end_object().end_object();
            })?;
        }

        for (entry, &tid) in entries.iter().zip(&tracks) {
            let tid = tid as u64;
            let args = |json: &mut JsonWriter<'_>| {
                json.key("args").begin_object();
                json.key("target").string(&entry.target);
                if let Some(kind) = entry.error {
                    json.key("error").string(kind.as_str());
                }
                json.end_object().end_object();
            };
            for segment in entry.segments() {
                let dur = segment.end - segment.start;
                emit(&mut |json| {
                    let name = segment.kind.name();
                    trace_event(json, name, "X", tid, segment.start, Some(dur));
                    args(json);
                })?;
            }
            if let Some(kind) = entry.error {
                let name = format!("error: {kind}");
                emit(&mut |json| {
                    trace_event(json, &name, "i", tid, entry.end(), None);
                    args(json);
                })?;
            }
        }
        out.write_all(b"\n],\"displayTimeUnit\":\"ms\"}\n")
    }

    /// Writes a self-contained SVG waterfall: one row per target (the
    /// first [`SVG_MAX_ROWS`] by start time), each bar split into its
    /// coloured phases, failures outlined in red with their error kind.
    pub(crate) fn write_svg(&self, out: &mut impl Write) -> io::Result<()> {
        let entries = self.by_start();
        let rows = &entries[..entries.len().min(SVG_MAX_ROWS)];
        // The axis covers the rows drawn.
        let span = rows.iter().map(|e| e.end()).max().unwrap_or_default();
        let axis = Axis::new(span);
        let height = ROWS_TOP + rows.len() as f64 * ROW_HEIGHT + 16.0;

        let mut svg = String::new();
        svg_header(&mut svg, &entries, rows.len(), height);
        svg_axis(&mut svg, &axis, height);
        out.write_all(svg.as_bytes())?;
        for (i, entry) in rows.iter().enumerate() {
            svg.clear();
            svg_row(&mut svg, entry, &axis, ROWS_TOP + i as f64 * ROW_HEIGHT);
            out.write_all(svg.as_bytes())?;
        }
        out.write_all(b"</svg>\n")
    }
}

/// The time axis of the SVG: milliseconds to x.
struct Axis {
    /// What the axis covers, in ms; never zero wide.
    span_ms: f64,
}

impl Axis {
    fn new(span: Duration) -> Self {
        Axis {
            span_ms: ms(span).max(0.001),
        }
    }

    fn x_ms(&self, at_ms: f64) -> f64 {
        BAR_LEFT + at_ms / self.span_ms * (BAR_RIGHT - BAR_LEFT)
    }

    fn x(&self, at: Duration) -> f64 {
        self.x_ms(ms(at))
    }
}

/// The SVG's opening, styles, title line and legend.
fn svg_header(svg: &mut String, entries: &[&Entry], rows: usize, height: f64) {
    let failed = entries.iter().filter(|e| e.error.is_some()).count();
    let total = entries.iter().map(|e| e.end()).max().unwrap_or_default();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" viewBox="0 0 {SVG_WIDTH} {height}" font-family="sans-serif" font-size="11">
<style>
.redirect{{fill:#999999}} .dns{{fill:#8e6bbf}} .connect{{fill:#e69f00}} .tls{{fill:#cc79a7}} .wait{{fill:#56b4e9}} .read{{fill:#009e73}}
.failed{{fill:none;stroke:#d00;stroke-width:1.5}} .error{{fill:#d00}}
.grid{{stroke:#ddd}} .label{{fill:#333}} .tick{{fill:#555}}
</style>
<rect width="100%" height="100%" fill="white"/>
"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="8" y="22" font-size="15" font-weight="bold">fetch-headers: {} targets, {failed} failed, {:.1} ms</text>"#,
        entries.len(),
        ms(total)
    );
    if rows < entries.len() {
        let _ = writeln!(
            svg,
            r#"<text x="8" y="40" class="error">showing the first {rows} of {} targets by start time</text>"#,
            entries.len()
        );
    }
    // The legend, right-aligned in the header.
    let legend = SegmentKind::ALL.map(SegmentKind::name);
    for (i, class) in legend.into_iter().chain(["failed"]).enumerate() {
        let lx = BAR_RIGHT - (legend.len() as f64 + 1.0) * 70.0 + 75.0 + i as f64 * 70.0;
        let _ = writeln!(
            svg,
            r#"<rect class="{class}" x="{lx}" y="12" width="14" height="11"/><text x="{}" y="22">{class}</text>"#,
            lx + 18.0
        );
    }
}

/// Round ticks along the top, with grid lines down through the rows.
fn svg_axis(svg: &mut String, axis: &Axis, height: f64) {
    let step = nice_step(axis.span_ms / 10.0);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let bottom = height - 12.0;
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="end" class="tick">time since start (ms)</text>"#,
        BAR_LEFT - 10.0,
        ROWS_TOP - 10.0
    );
    let ticks = (axis.span_ms / step).floor() as usize;
    for i in 0..=ticks {
        let at_ms = i as f64 * step;
        let tx = axis.x_ms(at_ms);
        let _ = writeln!(
            svg,
            r#"<line class="grid" x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{bottom}"/><text x="{tx:.1}" y="{}" text-anchor="middle" class="tick">{at_ms:.decimals$}</text>"#,
            ROWS_TOP - 6.0,
            ROWS_TOP - 10.0
        );
    }
}

/// One target's row at height `y`: its label, its phases, and for a failure
/// a red outline and the error kind.
fn svg_row(svg: &mut String, entry: &Entry, axis: &Axis, y: f64) {
    let (bar_y, text_y) = (y + 2.0, y + 11.5);
    let status = entry.error.map_or("ok", ErrorKind::as_str);
    svg.push_str("<g class=\"fetch\"><title>");
    xml_text(svg, &entry.target);
    let _ = write!(
        svg,
        ": {status}, {:.3} ms from {:.3} ms</title>",
        ms(entry.timings.total),
        ms(entry.start)
    );
    let _ = write!(
        svg,
        r#"<text x="{}" y="{text_y}" text-anchor="end" class="label">"#,
        BAR_LEFT - 10.0
    );
    xml_text(svg, &shorten(&entry.target, LABEL_CHARS));
    svg.push_str("</text>");
    for segment in entry.segments() {
        let (x0, x1) = (axis.x(segment.start), axis.x(segment.end));
        let _ = write!(
            svg,
            r#"<rect class="{}" x="{x0:.2}" y="{bar_y}" width="{:.2}" height="{BAR_HEIGHT}"/>"#,
            segment.kind.name(),
            x1 - x0
        );
    }
    if let Some(kind) = entry.error {
        let (x0, x1) = (axis.x(entry.start), axis.x(entry.end()));
        let _ = write!(
            svg,
            r#"<rect class="failed" x="{:.2}" y="{bar_y}" width="{:.2}" height="{BAR_HEIGHT}"/><text x="{:.2}" y="{text_y}" class="error">{kind}</text>"#,
            x0 - 1.0,
            x1 - x0 + 2.0,
            x1 + 5.0
        );
    }
    svg.push_str("</g>\n");
}

/// At most this many rows are drawn in the SVG (the earliest targets);
/// beyond that a waterfall is too tall to read.
pub(crate) const SVG_MAX_ROWS: usize = 2_000;

const SVG_WIDTH: f64 = 1200.0;
/// The bars' area; the labels go left of it, error kinds right of it.
const BAR_LEFT: f64 = 300.0;
const BAR_RIGHT: f64 = 1100.0;
const ROWS_TOP: f64 = 64.0;
const ROW_HEIGHT: f64 = 16.0;
const BAR_HEIGHT: f64 = 12.0;
/// Longer labels are cut (the full target is in the bar's tooltip).
const LABEL_CHARS: usize = 44;

/// Assigns each entry (sorted by start) a track from 1 on: the lowest
/// track whose last fetch had ended when this one started. With a run's
/// concurrency at N, that uses at most N tracks: one per connection slot.
fn pack_tracks(entries: &[&Entry]) -> Vec<usize> {
    let mut busy = BinaryHeap::new(); // (end, track), earliest end first
    let mut free = BinaryHeap::new(); // lowest track first
    let mut tracks = Vec::with_capacity(entries.len());
    for entry in entries {
        while let Some(&Reverse((end, track))) = busy.peek() {
            if end > entry.start {
                break;
            }
            busy.pop();
            free.push(Reverse(track));
        }
        let track = match free.pop() {
            Some(Reverse(track)) => track,
            None => busy.len() + 1,
        };
        busy.push(Reverse((entry.end(), track)));
        tracks.push(track);
    }
    tracks
}

/// Writes the fields every trace event has: `name`, `ph` (`X` complete,
/// `i` instant), `pid`, `tid`, `ts` and `dur` (or, for an instant, its
/// scope `s`); the caller adds `args` and closes the object.
fn trace_event(
    json: &mut JsonWriter<'_>,
    name: &str,
    phase: &str,
    tid: u64,
    ts: Duration,
    dur: Option<Duration>,
) {
    json.begin_object();
    json.key("name").string(name).key("ph").string(phase);
    json.key("pid").u64(1).key("tid").u64(tid);
    json.key("ts").raw(&micros(ts));
    match dur {
        Some(dur) => json.key("dur").raw(&micros(dur)),
        // An instant event, drawn on its own track.
        None => json.key("s").string("t"),
    };
}

/// Microseconds with nanosecond digits, exactly (no float rounding).
fn micros(d: Duration) -> String {
    format!("{}.{:03}", d.as_micros(), d.subsec_nanos() % 1000)
}

/// The smallest 1, 2 or 5 times a power of ten that is at least `rough`.
fn nice_step(rough: f64) -> f64 {
    let magnitude = 10f64.powf(rough.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= rough)
        .unwrap_or(10.0 * magnitude)
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(max - 1).collect();
    short.push('…');
    short
}

/// Appends `text` as XML character data: control characters shown escaped
/// (`\x1b`, as in the text output), markup characters as entities, and the
/// two characters XML forbids outside those as `\u{fffe}`, `\u{ffff}`.
fn xml_text(out: &mut String, text: &str) {
    for c in escape_line(text.as_bytes()).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\u{fffe}' | '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
}
