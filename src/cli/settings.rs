//! From flags to what a run needs: the engine's [`Config`], the opened
//! inputs and output, and how to report (ripgrep's "high-level arguments").
//!
//! Everything a user can get wrong is checked here, before any fetch
//! starts, and reported as a [`CliError`] (exit status 2).

use std::fs::{File, OpenOptions};
use std::io::{self, IsTerminal, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use fetch_headers::fetch::{Config, Dns, SchemeChoice};
use fetch_headers::files::Encoding;
use fetch_headers::http::{Method, Version};
use fetch_headers::net::dns::{HostsTable, NsSwitch, ResolvConf, ResolverConfig};
use fetch_headers::net::{self as net, Family};
use fetch_headers::tls::{TlsConnector, TlsOptions};

use super::args::{Args, DnsArgs, RequestArgs, TimeoutArgs, TlsArgs};
use super::error::CliError;
use super::input::Input;
use super::shard::Shard;
use super::sink::Format;
use super::skip_done::DoneSet;
use super::writer::Progress;

/// The opened `-i` inputs, with their names as given.
pub(crate) type Inputs = Vec<(String, Input)>;

/// Everything a run needs, checked.
pub(crate) struct Settings {
    /// The engine's settings.
    pub(crate) config: Config,
    /// The targets given as arguments.
    pub(crate) targets: Vec<String>,
    /// The opened `-i` inputs, in order.
    pub(crate) inputs: Inputs,
    /// The targets to skip (`--skip-done`).
    pub(crate) skip_done: Option<DoneSet>,
    /// This run's share of the targets (`--shard`).
    pub(crate) shard: Option<Shard>,
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
    /// A progress line on a terminal (not with `-q`).
    pub(crate) progress: Progress,
    /// `--stats`, as JSON with `--json`.
    pub(crate) stats: bool,
    /// `--json`: stats as JSON too.
    pub(crate) json: bool,
    /// `--timeline FILE`, opened (and emptied) before the run.
    pub(crate) timeline: Option<TimelineFile>,
}

/// The `--timeline` file: opened before the run, so a path that cannot be
/// written fails before any fetch, and written after it.
#[derive(Debug)]
pub(crate) struct TimelineFile {
    /// The path as given; `.svg` asks for a waterfall.
    pub(crate) path: PathBuf,
    /// The file, empty.
    pub(crate) file: File,
}

impl Settings {
    /// Checks `args` and opens the inputs and the outputs (`-o`,
    /// `--timeline`), refusing two names for one file.
    pub(crate) fn new(args: Args) -> Result<Settings, CliError> {
        let Args {
            input,
            request,
            dns,
            tls,
            timeouts,
            output,
            visibility,
        } = args;
        if input.targets.is_empty() && input.files.is_empty() {
            return Err(CliError::NoTargets);
        }
        let encoding = Encoding::from_name(&input.input_encoding).map_err(CliError::Encoding)?;
        let tls_info = tls.tls_info;
        let mut config = config(request, tls, &timeouts)?;
        config.dns_workers = dns.dns_workers as usize;
        config.dns = resolver(&dns, config.family)?;
        config.pinned = dns.resolve;
        // Only `--stats` shows the latency histograms.
        config.latency = visibility.stats;
        // Every file of the run is opened before anything is written, so
        // two names for one file are found before either is truncated.
        let (inputs, mut files) = open_inputs(&input.files)?;
        let out_file = match &output.file {
            Some(path) => Some((path, open_unwritten(path, output.append)?)),
            None => None,
        };
        files.extend(match &out_file {
            Some((path, file)) => named(
                format!("output '{}'", path.display()),
                file.as_fd(),
                Role::Output,
            ),
            None => named("stdout".into(), io::stdout().as_fd(), Role::Output),
        });
        let timeline = match visibility.timeline {
            Some(path) => Some(TimelineFile {
                file: open_unwritten(&path, false)?,
                path,
            }),
            None => None,
        };
        if let Some(timeline) = &timeline {
            let what = format!("timeline '{}'", timeline.path.display());
            files.extend(named(what, timeline.file.as_fd(), Role::Timeline));
        }
        refuse_same_file(&files)?;
        // Read before the output is emptied: it may be the same file.
        let skip_done = match &input.skip_done {
            Some(path) => Some(load_done(
                path,
                &files,
                out_file.is_some() && !output.append,
            )?),
            None => None,
        };
        if let (Some((path, file)), false) = (&out_file, output.append) {
            truncate(file, path)?;
        }
        if let Some(timeline) = &timeline {
            truncate(&timeline.file, &timeline.path)?;
        }
        let progress = match (visibility.quiet || !io::stderr().is_terminal(), &out_file) {
            (true, _) => Progress::Off,
            (false, None) if io::stdout().is_terminal() => Progress::SharingTheTerminal,
            (false, _) => Progress::On,
        };
        let (out, output_watch): (Box<dyn Write + Send>, _) = match out_file {
            Some((_, file)) => {
                let watch = watchable(file.as_fd());
                (Box::new(file), watch)
            }
            None => (Box::new(io::stdout()), watchable(io::stdout().as_fd())),
        };
        let quiet = visibility.quiet;
        Ok(Settings {
            config,
            targets: input.targets,
            inputs,
            skip_done,
            shard: input.shard,
            encoding,
            output: out,
            output_watch,
            format: Format {
                json: output.json,
                verbose: visibility.verbose,
                live: output.live,
                tls_info,
            },
            report: Report {
                // `--stats --json` prints one JSON object, the summary in
                // it: a text line after it would make stderr unparsable.
                summary: !(quiet || visibility.stats && output.json),
                progress,
                stats: visibility.stats,
                json: output.json,
                timeline,
            },
        })
    }
}

/// The engine's settings from the request, TLS and timeout flags.
fn config(args: RequestArgs, tls: TlsArgs, timeouts: &TimeoutArgs) -> Result<Config, CliError> {
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
        scheme: match tls.scheme.as_str() {
            "https" => SchemeChoice::Https,
            "both" => SchemeChoice::Both,
            _ => SchemeChoice::Http,
        },
        follow_redirects: tls.location,
        max_redirects: tls.max_redirs,
        ..Config::default()
    };
    // The default TLS client is made by the engine when an https target
    // first needs it; other options are checked (the CA file read) now.
    let options = TlsOptions {
        cacert: tls.cacert,
        insecure: tls.insecure,
        ..TlsOptions::default()
    };
    if options != TlsOptions::default() {
        config.tls = Some(TlsConnector::new(&options).map_err(CliError::Tls)?);
    }
    if let Some(agent) = args.user_agent {
        config.user_agent = agent;
    }
    // A header, user agent or path that cannot be sent is a usage error,
    // caught before any fetch rather than once per target.
    config.check_request().map_err(CliError::Request)?;
    Ok(config)
}

/// How names are resolved: our resolver, configured from the system's
/// files or the ones given, or `getaddrinfo` (`--system-dns`).
fn resolver(args: &DnsArgs, family: Family) -> Result<Dns, CliError> {
    if args.system_dns {
        return Ok(Dns::System);
    }
    let conf = match &args.resolv_conf {
        Some(path) => ResolvConf::load(path),
        None => ResolvConf::system(),
    }
    .map_err(CliError::Dns)?;
    let config = ResolverConfig::with_system_files(&conf).map_err(CliError::Dns)?;
    Ok(Dns::Stub(Box::new(with_flags(config, args, family)?)))
}

/// The system's resolver settings, changed as the flags say.
fn with_flags(
    mut config: ResolverConfig,
    args: &DnsArgs,
    family: Family,
) -> Result<ResolverConfig, CliError> {
    if let Some(path) = &args.hosts_file {
        config.hosts = HostsTable::load(path).map_err(CliError::Dns)?;
    }
    if !args.resolver.is_empty() {
        config.nameservers = args.resolver.clone();
        // The servers named are the ones asked, for every name: an
        // nsswitch.conf that hands some names to systemd-resolved, mdns or
        // ldap (which only getaddrinfo can ask) does not apply.
        config.nsswitch = NsSwitch::default();
    }
    config.max_in_flight = args.dns_in_flight as usize;
    // As glibc's AI_ADDRCONFIG: no AAAA question when IPv6 cannot be used
    // (-4), or when no interface has an IPv6 address beyond loopback and
    // link-local, unless -6 asks for IPv6 alone.
    config.no_aaaa |= family == Family::V4 || (family == Family::Any && !net::has_global_ipv6());
    Ok(config)
}

/// Opens each `-i` input (`-` is stdin), and names the regular files among
/// them. A directory opens, but cannot be read: it is refused here, before
/// any fetch.
fn open_inputs(names: &[String]) -> Result<(Inputs, Vec<NamedFile>), CliError> {
    let mut inputs: Inputs = Vec::with_capacity(names.len());
    let mut files = Vec::new();
    for name in names {
        let what = format!("input '{name}'");
        if name == "-" {
            files.extend(named(what, io::stdin().as_fd(), Role::Input));
            inputs.push((name.clone(), Box::new(io::stdin())));
            continue;
        }
        let refused = |source| CliError::Input {
            path: name.clone(),
            source,
        };
        let file = File::open(name).map_err(refused)?;
        if file.metadata().map_err(refused)?.is_dir() {
            return Err(refused(io::ErrorKind::IsADirectory.into()));
        }
        files.extend(named(what, file.as_fd(), Role::Input));
        inputs.push((name.clone(), Box::new(file)));
    }
    Ok((inputs, files))
}

/// A regular file of the run, as messages name it (`input 'list.txt'`,
/// `stdout`), with its identity.
struct NamedFile {
    what: String,
    /// Device and inode: equal for two names of one file (`x` and `./x`,
    /// a symlink, a hard link).
    id: (u64, u64),
    /// What the run does with it.
    role: Role,
}

/// What a run does with one of its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Reads it: several inputs may be one file (it is read twice).
    Input,
    /// Writes the results to it.
    Output,
    /// Writes the timeline to it.
    Timeline,
}

/// `fd`'s file, named `what`, if it is a regular file: only a regular file
/// is destroyed by writing to another name of it (`/dev/null` may be both
/// the output and the timeline).
fn named(what: String, fd: BorrowedFd<'_>, role: Role) -> Option<NamedFile> {
    let metadata = File::from(fd.try_clone_to_owned().ok()?).metadata().ok()?;
    metadata.file_type().is_file().then(|| NamedFile {
        what,
        id: (metadata.dev(), metadata.ino()),
        role,
    })
}

/// Refuses a run in which one file would be written under one name while
/// read or written under another: `-i list.txt -o list.txt` would empty the
/// list before reading it, `-o x --timeline x` would mix the two.
fn refuse_same_file(files: &[NamedFile]) -> Result<(), CliError> {
    for (i, first) in files.iter().enumerate() {
        for second in &files[i + 1..] {
            if first.id == second.id && !(first.role == Role::Input && second.role == Role::Input) {
                return Err(CliError::SameFile {
                    first: first.what.clone(),
                    second: second.what.clone(),
                });
            }
        }
    }
    Ok(())
}

/// Opens `path` for writing (creating it, appending with `append`) without
/// truncating it: that waits until the run's files are known to differ.
fn open_unwritten(path: &Path, append: bool) -> Result<File, CliError> {
    OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .open(path)
        .map_err(|source| CliError::Output {
            path: path.to_owned(),
            source,
        })
}

/// Empties an output opened by [`open_unwritten`], if it is a regular
/// file (a device or a pipe has nothing to empty).
fn truncate(file: &File, path: &Path) -> Result<(), CliError> {
    let failed = |source| CliError::Output {
        path: path.to_owned(),
        source,
    };
    if file.metadata().map_err(failed)?.is_file() {
        file.set_len(0).map_err(failed)?;
    }
    Ok(())
}

/// A copy of `output`'s descriptor if it is a pipe or a socket, the kinds
/// of output whose reader can go away.
fn watchable(output: BorrowedFd<'_>) -> Option<OwnedFd> {
    let file = File::from(output.try_clone_to_owned().ok()?);
    let kind = file.metadata().ok()?.file_type();
    (kind.is_fifo() || kind.is_socket()).then(|| file.into())
}

/// Reads `--skip-done FILE`. It may be the output too (appended to), but
/// not an `-o` file the run is about to empty (`truncating`: no `--append`),
/// which would leave the next resume knowing of nothing done; nor the
/// timeline, which is emptied before the run.
fn load_done(path: &Path, files: &[NamedFile], truncating: bool) -> Result<DoneSet, CliError> {
    let failed = |source| CliError::SkipDone {
        path: path.to_owned(),
        source,
    };
    // A file that does not exist yet holds nothing done, so the command
    // line that resumes a run can start it too.
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(DoneSet::default()),
        Err(e) => return Err(failed(e)),
    };
    let what = format!("--skip-done '{}'", path.display());
    if let Some(done) = named(what, file.as_fd(), Role::Input) {
        for other in files.iter().filter(|other| other.id == done.id) {
            match other.role {
                Role::Input => {}
                Role::Output if !truncating => {}
                Role::Output => {
                    return Err(CliError::SkipDoneTruncated {
                        path: path.to_owned(),
                    })
                }
                Role::Timeline => {
                    return Err(CliError::SameFile {
                        first: done.what,
                        second: other.what.clone(),
                    })
                }
            }
        }
    }
    let done = DoneSet::read(file).map_err(failed)?;
    log::debug!(
        "--skip-done: {} targets done in '{}'",
        done.len(),
        path.display()
    );
    Ok(done)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::args::Args;

    /// A machine whose nsswitch.conf hands names to systemd-resolved.
    fn resolved_machine() -> ResolverConfig {
        let mut config = ResolverConfig::new(vec!["127.0.0.53:53".parse().unwrap()]);
        config.nsswitch = NsSwitch::parse("hosts: files resolve [!UNAVAIL=return] dns\n");
        config
    }

    fn flags(args: &[&str]) -> ResolverConfig {
        let args = Args::try_parse_from(args).expect("valid arguments");
        with_flags(resolved_machine(), &args.dns, Family::Any).expect("flags apply")
    }

    #[test]
    fn a_resolver_flag_sends_every_name_to_its_servers() {
        let config = flags(&["fetch-headers", "--resolver", "127.0.0.1:5353"]);
        assert_eq!(config.nameservers, ["127.0.0.1:5353".parse().unwrap()]);
        assert_eq!(config.nsswitch, NsSwitch::default());
    }

    #[test]
    fn without_a_resolver_flag_nsswitch_still_decides() {
        let config = flags(&["fetch-headers", "--dns-in-flight", "7"]);
        assert_eq!(config.nsswitch, resolved_machine().nsswitch);
        assert_eq!(config.max_in_flight, 7);
    }
}
