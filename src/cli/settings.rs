//! From flags to what a run needs: the engine's [`Config`], the opened
//! inputs and output, and how to report (ripgrep's "high-level arguments").
//!
//! Everything a user can get wrong is checked here, before any fetch
//! starts, and reported as a [`CliError`] (exit status 2).

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::FileTypeExt;
use std::path::PathBuf;

use fetch_headers::fetch::Config;
use fetch_headers::files::Encoding;
use fetch_headers::http::{Method, Version};
use fetch_headers::net::Family;

use super::args::{Args, RequestArgs, TimeoutArgs};
use super::error::CliError;
use super::input::Input;
use super::sink::Format;

/// Everything a run needs, checked.
pub(crate) struct Settings {
    /// The engine's settings.
    pub(crate) config: Config,
    /// The targets given as arguments.
    pub(crate) targets: Vec<String>,
    /// The opened `-i` inputs, in order, with their names as given.
    pub(crate) inputs: Vec<(String, Input)>,
    /// How the inputs are encoded.
    pub(crate) encoding: Encoding,
    /// Where results go.
    pub(crate) output: Box<dyn Write + Send>,
    /// The output again, if it is a pipe or a socket: its reader can leave,
    /// and the run watches for that.
    pub(crate) output_watch: Option<OwnedFd>,
    /// How outcomes are shown.
    pub(crate) format: Format,
    /// What is reported besides the outcomes.
    pub(crate) report: Report,
}

/// What the run reports on stderr and in files, besides the outcomes.
#[derive(Debug)]
pub(crate) struct Report {
    /// The summary line (not with `-q`, nor with `--stats --json`).
    pub(crate) summary: bool,
    /// A progress line on a terminal.
    pub(crate) progress: bool,
    /// `--stats`, as JSON with `--json`.
    pub(crate) stats: bool,
    /// `--json`: stats as JSON too.
    pub(crate) json: bool,
    /// `--timeline FILE`.
    pub(crate) timeline: Option<PathBuf>,
}

impl Settings {
    /// Checks `args` and opens the inputs and the output.
    pub(crate) fn new(args: Args) -> Result<Settings, CliError> {
        let Args {
            input,
            request,
            timeouts,
            output,
            visibility,
        } = args;
        if input.targets.is_empty() && input.files.is_empty() {
            return Err(CliError::NoTargets);
        }
        let encoding = Encoding::from_name(&input.input_encoding).map_err(CliError::Encoding)?;
        let config = config(request, &timeouts)?;
        let inputs = open_inputs(&input.files)?;
        let (out, output_watch) = open_output(output.file.as_ref(), output.append)?;
        let quiet = visibility.quiet;
        Ok(Settings {
            config,
            targets: input.targets,
            inputs,
            encoding,
            output: out,
            output_watch,
            format: Format {
                json: output.json,
                verbose: visibility.verbose,
                live: output.live,
            },
            report: Report {
                // `--stats --json` prints one JSON object, the summary in
                // it: a text line after it would make stderr unparsable.
                summary: !(quiet || visibility.stats && output.json),
                progress: !quiet && io::stderr().is_terminal(),
                stats: visibility.stats,
                json: output.json,
                timeline: visibility.timeline,
            },
        })
    }
}

/// The engine's settings from the request and timeout flags.
fn config(args: RequestArgs, timeouts: &TimeoutArgs) -> Result<Config, CliError> {
    let mut config = Config {
        concurrency: args.concurrency as usize,
        connect_timeout: timeouts.timeout.unwrap_or(timeouts.connect_timeout),
        read_timeout: timeouts.timeout.unwrap_or(timeouts.read_timeout),
        max_time: timeouts.timeout.unwrap_or(timeouts.max_time),
        method: if args.head { Method::Head } else { Method::Get },
        path: args.path,
        headers: args.headers,
        version: if args.http11 {
            Version::Http11
        } else {
            Version::Http10
        },
        family: match (args.ipv4, args.ipv6) {
            (true, _) => Family::V4,
            (_, true) => Family::V6,
            _ => Family::Any,
        },
        dns_workers: args.dns_workers as usize,
        ..Config::default()
    };
    if let Some(agent) = args.user_agent {
        config.user_agent = agent;
    }
    // A header, user agent or path that cannot be sent is a usage error,
    // caught before any fetch rather than once per target.
    config.check_request().map_err(CliError::Request)?;
    Ok(config)
}

/// Opens each `-i` input (`-` is stdin). A directory opens, but cannot be
/// read: it is refused here, before any fetch.
fn open_inputs(names: &[String]) -> Result<Vec<(String, Input)>, CliError> {
    names
        .iter()
        .map(|name| -> Result<(String, Input), CliError> {
            if name == "-" {
                return Ok((name.clone(), Box::new(io::stdin())));
            }
            let refused = |source| CliError::Input {
                path: name.clone(),
                source,
            };
            let file = File::open(name).map_err(refused)?;
            if file.metadata().map_err(refused)?.is_dir() {
                return Err(refused(io::ErrorKind::IsADirectory.into()));
            }
            Ok((name.clone(), Box::new(file)))
        })
        .collect()
}

/// Opens `-o FILE` (truncated, or appended to with `--append`), or stdout;
/// with it, a copy of its descriptor to watch if it is a pipe or a socket.
fn open_output(
    path: Option<&PathBuf>,
    append: bool,
) -> Result<(Box<dyn Write + Send>, Option<OwnedFd>), CliError> {
    let Some(path) = path else {
        return Ok((Box::new(io::stdout()), watchable(io::stdout().as_fd())));
    };
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(|source| CliError::Output {
            path: path.clone(),
            source,
        })?;
    let watch = watchable(file.as_fd());
    Ok((Box::new(file), watch))
}

/// A copy of `output`'s descriptor if it is a pipe or a socket, the kinds
/// of output whose reader can go away.
fn watchable(output: BorrowedFd<'_>) -> Option<OwnedFd> {
    let file = File::from(output.try_clone_to_owned().ok()?);
    let kind = file.metadata().ok()?.file_type();
    (kind.is_fifo() || kind.is_socket()).then(|| file.into())
}
