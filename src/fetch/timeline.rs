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
//! Each target's [`Timings`] become up to four phases, all measured from the
//! start of the run:
//!
//! | phase     | from                   | to                         |
//! |-----------|------------------------|----------------------------|
//! | `dns`     | the fetch started      | the name resolved          |
//! | `connect` | the name resolved      | the TCP connection is up   |
//! | `wait`    | the connection is up   | the first response byte (includes sending the request) |
//! | `read`    | the first response byte| the head is complete       |
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

use super::outcome::{ErrorKind, Outcome, Timings};
use super::output;
use crate::http::escape_line;
use crate::runtime::{LoopSpan, SpanKind};

/// The outcomes of one run, kept for drawing (headers are not kept).
#[derive(Debug)]
pub struct Timeline {
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
}

/// The phases of a fetch, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Dns,
    Connect,
    Wait,
    Read,
}

impl Phase {
    const ALL: [Phase; 4] = [Phase::Dns, Phase::Connect, Phase::Wait, Phase::Read];

    fn name(self) -> &'static str {
        match self {
            Phase::Dns => "dns",
            Phase::Connect => "connect",
            Phase::Wait => "wait",
            Phase::Read => "read",
        }
    }
}

/// One phase of one target, from the start of the run.
#[derive(Debug, Clone, Copy)]
struct Segment {
    phase: Phase,
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
        // Where each phase ends, from the fetch's own start (see `Timings`).
        let ends = [
            t.dns,
            t.dns.zip(t.connect).map(|(dns, connect)| dns + connect),
            t.sent.zip(t.first_byte).map(|(sent, first)| sent + first),
            Some(t.total),
        ];
        let mut segments = Vec::with_capacity(Phase::ALL.len());
        let mut from = Duration::ZERO;
        for (phase, end) in Phase::ALL.into_iter().zip(ends) {
            // Clamped, so rounding in the timings can never make phases
            // overlap or outlast the outcome.
            let to = end.unwrap_or(t.total).clamp(from, t.total);
            segments.push(Segment {
                phase,
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
    pub fn new(run_start: Instant) -> Self {
        Timeline {
            run_start,
            entries: Vec::new(),
            loop_spans: Vec::new(),
        }
    }

    /// Keeps the target, timings and error kind of `outcome`.
    pub fn add(&mut self, outcome: &Outcome) {
        self.entries.push(Entry {
            target: outcome.target.clone(),
            start: self.since_start(outcome.timings.start),
            timings: outcome.timings,
            error: outcome.result.as_ref().err().map(|e| e.kind),
            started: outcome.url.is_some(),
        });
    }

    /// The loop's own spans (from `Runtime::take_spans`), for the trace.
    pub fn set_loop_spans(&mut self, spans: Vec<LoopSpan>) {
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
    pub fn write_chrome_trace(&self, out: &mut impl Write) -> io::Result<()> {
        let entries = self.by_start();
        let tracks = pack_tracks(&entries);
        let mut event = String::new();
        out.write_all(b"{\"traceEvents\":[\n")?;
        out.write_all(
            br#"{"ph":"M","pid":1,"tid":0,"name":"process_name","args":{"name":"fetch-headers"}}"#,
        )?;
        let mut emit = |event: &mut String| {
            let result = write!(out, ",\n{event}");
            event.clear();
            result
        };

        let slots = tracks.iter().max().copied().unwrap_or(0);
        for tid in 0..=slots {
            let name = match tid {
                0 => "event loop".to_owned(),
                n => format!("slot {n}"),
            };
            let _ = write!(
                event,
                r#"{{"ph":"M","pid":1,"tid":{tid},"name":"thread_name","args":{{"name":"{name}"}}}}"#
            );
            emit(&mut event)?;
        }

        for span in &self.loop_spans {
            let start = self.since_start(span.start);
            let end = self.since_start(span.end).max(start);
            let (name, args) = match span.kind {
                SpanKind::Run { tasks } => ("run", format!(r#""tasks":{tasks}"#)),
                SpanKind::Poll { timeout, events } => {
                    let timeout = timeout.map_or("null".to_owned(), millis);
                    (
                        "poll",
                        format!(r#""events":{events},"timeout_ms":{timeout}"#),
                    )
                }
            };
            trace_event(&mut event, name, 'X', 0, start, Some(end - start), &args);
            emit(&mut event)?;
        }

        let mut args = String::new();
        for (entry, &tid) in entries.iter().zip(&tracks) {
            args.clear();
            args.push_str(r#""target":"#);
            output::json_string(&mut args, &entry.target);
            if let Some(kind) = entry.error {
                let _ = write!(args, r#","error":"{kind}""#);
            }
            for segment in entry.segments() {
                let dur = segment.end - segment.start;
                let name = segment.phase.name();
                trace_event(&mut event, name, 'X', tid, segment.start, Some(dur), &args);
                emit(&mut event)?;
            }
            if let Some(kind) = entry.error {
                let name = format!("error: {kind}");
                trace_event(&mut event, &name, 'i', tid, entry.end(), None, &args);
                emit(&mut event)?;
            }
        }
        out.write_all(b"\n],\"displayTimeUnit\":\"ms\"}\n")
    }

    /// Writes a self-contained SVG waterfall: one row per target (the
    /// first [`SVG_MAX_ROWS`] by start time), each bar split into its
    /// coloured phases, failures outlined in red with their error kind.
    pub fn write_svg(&self, out: &mut impl Write) -> io::Result<()> {
        let entries = self.by_start();
        let rows = &entries[..entries.len().min(SVG_MAX_ROWS)];
        let failed = entries.iter().filter(|e| e.error.is_some()).count();
        let total = entries.iter().map(|e| e.end()).max().unwrap_or_default();
        // The axis covers the rows drawn; never zero wide.
        let span = rows.iter().map(|e| e.end()).max().unwrap_or_default();
        let span_ms = (span.as_secs_f64() * 1e3).max(0.001);
        let x_ms = |ms: f64| BAR_LEFT + ms / span_ms * (BAR_RIGHT - BAR_LEFT);
        let x = |d: Duration| x_ms(d.as_secs_f64() * 1e3);
        let height = ROWS_TOP + rows.len() as f64 * ROW_HEIGHT + 16.0;

        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{SVG_WIDTH}" height="{height}" viewBox="0 0 {SVG_WIDTH} {height}" font-family="sans-serif" font-size="11">
<style>
.dns{{fill:#8e6bbf}} .connect{{fill:#e69f00}} .wait{{fill:#56b4e9}} .read{{fill:#009e73}}
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
            total.as_secs_f64() * 1e3
        );
        if rows.len() < entries.len() {
            let _ = writeln!(
                svg,
                r#"<text x="8" y="40" class="error">showing the first {} of {} targets by start time</text>"#,
                rows.len(),
                entries.len()
            );
        }

        // The legend, right-aligned in the header.
        let legend = Phase::ALL.map(Phase::name);
        for (i, class) in legend.into_iter().chain(["failed"]).enumerate() {
            let lx = BAR_RIGHT - 360.0 + i as f64 * 75.0;
            let _ = writeln!(
                svg,
                r#"<rect class="{class}" x="{lx}" y="12" width="14" height="11"/><text x="{}" y="22">{class}</text>"#,
                lx + 18.0
            );
        }

        // The time axis: round ticks, with grid lines down through the rows.
        let step = nice_step(span_ms / 10.0);
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        let bottom = height - 12.0;
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" class="tick">time since start (ms)</text>"#,
            BAR_LEFT - 10.0,
            ROWS_TOP - 10.0
        );
        let ticks = (span_ms / step).floor() as usize;
        for i in 0..=ticks {
            let ms = i as f64 * step;
            let tx = x_ms(ms);
            let _ = writeln!(
                svg,
                r#"<line class="grid" x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{bottom}"/><text x="{tx:.1}" y="{}" text-anchor="middle" class="tick">{ms:.decimals$}</text>"#,
                ROWS_TOP - 6.0,
                ROWS_TOP - 10.0
            );
        }
        out.write_all(svg.as_bytes())?;

        for (i, entry) in rows.iter().enumerate() {
            svg.clear();
            let y = ROWS_TOP + i as f64 * ROW_HEIGHT;
            let (bar_y, text_y) = (y + 2.0, y + 11.5);
            let status = entry.error.map_or("ok", ErrorKind::as_str);
            svg.push_str("<g class=\"fetch\"><title>");
            xml_text(&mut svg, &entry.target);
            let _ = write!(
                svg,
                ": {status}, {} ms from {} ms</title>",
                millis(entry.timings.total),
                millis(entry.start)
            );
            let _ = write!(
                svg,
                r#"<text x="{}" y="{text_y}" text-anchor="end" class="label">"#,
                BAR_LEFT - 10.0
            );
            xml_text(&mut svg, &shorten(&entry.target, LABEL_CHARS));
            svg.push_str("</text>");
            for segment in entry.segments() {
                let (x0, x1) = (x(segment.start), x(segment.end));
                let _ = write!(
                    svg,
                    r#"<rect class="{}" x="{x0:.2}" y="{bar_y}" width="{:.2}" height="{BAR_HEIGHT}"/>"#,
                    segment.phase.name(),
                    x1 - x0
                );
            }
            if let Some(kind) = entry.error {
                let (x0, x1) = (x(entry.start), x(entry.end()));
                let _ = write!(
                    svg,
                    r#"<rect class="failed" x="{:.2}" y="{bar_y}" width="{:.2}" height="{BAR_HEIGHT}"/><text x="{:.2}" y="{text_y}" class="error">{kind}</text>"#,
                    x0 - 1.0,
                    x1 - x0 + 2.0,
                    x1 + 5.0
                );
            }
            svg.push_str("</g>\n");
            out.write_all(svg.as_bytes())?;
        }
        out.write_all(b"</svg>\n")
    }
}

/// At most this many rows are drawn in the SVG (the earliest targets);
/// beyond that a waterfall is too tall to read.
pub const SVG_MAX_ROWS: usize = 2_000;

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

/// Appends one trace event; `args` is the inside of its args object.
fn trace_event(
    out: &mut String,
    name: &str,
    phase: char,
    tid: usize,
    ts: Duration,
    dur: Option<Duration>,
    args: &str,
) {
    let _ = write!(
        out,
        r#"{{"name":"{name}","ph":"{phase}","pid":1,"tid":{tid},"ts":{}"#,
        micros(ts)
    );
    match dur {
        Some(dur) => {
            let _ = write!(out, r#","dur":{}"#, micros(dur));
        }
        // An instant event, drawn on its own track.
        None => out.push_str(r#","s":"t""#),
    }
    let _ = write!(out, r#","args":{{{args}}}}}"#);
}

/// Microseconds with nanosecond digits, exactly (no float rounding).
fn micros(d: Duration) -> String {
    format!("{}.{:03}", d.as_micros(), d.subsec_nanos() % 1000)
}

fn millis(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
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
