//! The command line: every flag, grouped as a manual groups them, with a
//! short `-h` and a long `--help`.
//!
//! Parsing only checks each value's form (a duration, a header, a path);
//! `settings.rs` turns the flags into what the run needs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use std::net::{IpAddr, SocketAddr};

use clap::{CommandFactory, FromArgMatches, Parser};
use fetch_headers::fetch::{parse_target, ErrorKind, Pinned};

use super::shard::Shard;

/// Shown after `-h`.
const SHORT_AFTER: &str = "\
Examples:
  fetch-headers www.sina.com.cn www.sohu.com
  fetch-headers -i hosts.txt -c 1000 --json > out.jsonl
  cat hosts.txt | fetch-headers -i - --head --timeout 5s

See --help for the target forms, the error kinds and the exit status.";

/// Fetch the HTTP response heads of many hosts at once.
///
/// Every target gets one outcome: its response head, printed as
/// `TARGET header > LINE` lines, or one `TARGET error > KIND: MESSAGE` line.
/// Targets are fetched concurrently on one event loop; the input is
/// streamed, so lists of any length work in bounded memory.
#[derive(Parser, Debug)]
#[command(name = "fetch-headers", version, after_help = SHORT_AFTER)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) input: InputArgs,
    #[command(flatten)]
    pub(crate) request: RequestArgs,
    #[command(flatten)]
    pub(crate) dns: DnsArgs,
    #[command(flatten)]
    pub(crate) tls: TlsArgs,
    #[command(flatten)]
    pub(crate) timeouts: TimeoutArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    #[command(flatten)]
    pub(crate) visibility: VisibilityArgs,
}

/// Where the targets come from.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Input")]
pub(crate) struct InputArgs {
    /// Targets to fetch (also read from --input).
    pub(crate) targets: Vec<String>,

    /// Read targets from FILE, one per line (`-` for stdin).
    ///
    /// Blank lines and `#` comments are skipped. The file is streamed, so
    /// any size works. Repeatable; files are read in order, after the
    /// targets given as arguments.
    #[arg(short = 'i', long = "input", value_name = "FILE")]
    pub(crate) files: Vec<String>,

    /// Skip the targets that already have an outcome in FILE.
    ///
    /// FILE is an earlier run's output (JSON Lines or text); a target cut
    /// short there by a signal (`interrupted`) is fetched again. With
    /// `-o FILE --append --skip-done FILE` a long run resumes where it
    /// stopped. Only an 8-byte hash of each done target is kept.
    #[arg(long, value_name = "FILE")]
    pub(crate) skip_done: Option<PathBuf>,

    /// Fetch only shard K of N (1 <= K <= N).
    ///
    /// A target is shard K's when the 64-bit FNV-1a hash of its host (lower
    /// case, ASCII form, no trailing dot) modulo N is K-1. N runs with the
    /// same list, K = 1..N, fetch every target exactly once, and every
    /// target of one host in the same run.
    #[arg(long, value_name = "K/N")]
    pub(crate) shard: Option<Shard>,

    /// Encoding of the --input files.
    ///
    /// utf-8, gbk, gb18030, big5, shift_jis, euc-kr, latin-1, or any other
    /// WHATWG encoding name. A UTF-8 byte-order mark is honoured.
    #[arg(long, value_name = "ENC", default_value = "utf-8")]
    pub(crate) input_encoding: String,
}

/// What is sent, how, and how many at once.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Request")]
pub(crate) struct RequestArgs {
    /// Send HEAD instead of GET.
    #[arg(short = 'I', long)]
    pub(crate) head: bool,

    /// Extra request header, `Name: value` (repeatable).
    ///
    /// As in curl, a header named like one sent by default (Host,
    /// User-Agent, Connection) is sent instead of it, and `Name:` with no
    /// value sends no header of that name.
    #[arg(short = 'H', long = "header", value_name = "HEADER", value_parser = parse_header)]
    pub(crate) headers: Vec<(String, String)>,

    /// The User-Agent to send (empty: none).
    #[arg(short = 'A', long, value_name = "UA")]
    pub(crate) user_agent: Option<String>,

    /// Request PATH on every target instead of its own path (the first
    /// request only: a redirect goes where its Location says).
    #[arg(long, value_name = "PATH", value_parser = parse_path)]
    pub(crate) path: Option<String>,

    /// Send HTTP/1.1 (with `Connection: close`) instead of HTTP/1.0.
    #[arg(long = "http1.1")]
    pub(crate) http11: bool,

    /// Use IPv4 addresses only.
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub(crate) ipv4: bool,

    /// Use IPv6 addresses only.
    #[arg(short = '6')]
    pub(crate) ipv6: bool,

    /// Fetches in flight at once.
    ///
    /// Lowered, with a note, if the open-file limit cannot hold that many
    /// sockets.
    #[arg(short, long, value_name = "N", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) concurrency: u32,
}

/// How names are resolved.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Names")]
pub(crate) struct DnsArgs {
    /// Ask this DNS server (ADDR, ADDR:PORT, [V6ADDR]:PORT; repeatable),
    /// instead of resolv.conf's nameservers.
    ///
    /// Every name then goes to the hosts file and these servers (nsswitch's
    /// `files dns`), never to getaddrinfo for the sources nsswitch.conf
    /// may name (resolve, mdns, ldap, ...).
    #[arg(long, value_name = "ADDR", value_parser = parse_resolver)]
    pub(crate) resolver: Vec<SocketAddr>,

    /// Read the resolver's settings from FILE instead of /etc/resolv.conf.
    ///
    /// Its nameservers (up to 3), search/domain, and the options ndots,
    /// timeout, attempts, rotate, edns0 and no-aaaa; LOCALDOMAIN and
    /// RES_OPTIONS apply on top, as in glibc.
    #[arg(long, value_name = "FILE")]
    pub(crate) resolv_conf: Option<PathBuf>,

    /// Read fixed names from FILE instead of /etc/hosts.
    #[arg(long, value_name = "FILE")]
    pub(crate) hosts_file: Option<PathBuf>,

    /// Names resolved on the network at once; more wait their turn.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) dns_in_flight: u32,

    /// Resolve with the system's getaddrinfo on threads instead of our
    /// resolver (for comparison, or an unusual nsswitch.conf).
    #[arg(long, conflicts_with_all = ["resolver", "resolv_conf", "hosts_file"])]
    pub(crate) system_dns: bool,

    /// getaddrinfo threads, with --system-dns (and for names nsswitch.conf
    /// gives to a source our resolver cannot serve: mdns, ldap, ...).
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub(crate) dns_workers: u32,

    /// Use ADDR for HOST on PORT without a lookup, as curl does
    /// (HOST:PORT:ADDR[,ADDR...]; an IPv6 ADDR in [ ]; repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR", value_parser = parse_pin)]
    pub(crate) resolve: Vec<Pinned>,
}

/// HTTPS and redirects.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "HTTPS and redirects")]
pub(crate) struct TlsArgs {
    /// The scheme of targets written without one.
    ///
    /// `both` fetches such a target twice, over http and https, one after
    /// the other, and gives an outcome for each, naming its URL.
    #[arg(long, value_name = "SCHEME", default_value = "http", value_parser = ["http", "https", "both"])]
    pub(crate) scheme: String,

    /// Fetch over TLS even when the certificate fails verification.
    ///
    /// What was wrong is still recorded: in JSON's `tls.verdict`, and on
    /// the --tls-info line.
    #[arg(short = 'k', long)]
    pub(crate) insecure: bool,

    /// Also trust the CA certificates in FILE (PEM), beside Mozilla's roots.
    #[arg(long, value_name = "FILE")]
    pub(crate) cacert: Option<PathBuf>,

    /// Print one `TARGET tls > ...` line per TLS session: version, cipher
    /// suite, ALPN, the certificate's subject, issuer and expiry.
    #[arg(long, conflicts_with_all = ["json", "live"])]
    pub(crate) tls_info: bool,

    /// Follow redirects (Location), as curl -L does.
    ///
    /// Each hop's head is printed, then `TARGET redirect > URL`. A
    /// redirect back to a URL already fetched is a loop (too-many-redirects);
    /// one from a public address to a loopback, private or link-local
    /// address is refused (bad-redirect) unless the target itself was in
    /// such a range.
    #[arg(short = 'L', long)]
    pub(crate) location: bool,

    /// The most redirects one target may follow, with -L.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) max_redirs: u32,
}

/// How long to wait.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Timeouts")]
pub(crate) struct TimeoutArgs {
    /// Limit on DNS + TCP connect (+ TLS handshake) per target (e.g. 500ms, 2s, 1m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) connect_timeout: Duration,

    /// Limit on each wait for data from the server.
    ///
    /// It starts again after every read, so a slow but steady server is
    /// not cut off.
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub(crate) read_timeout: Duration,

    /// Limit on the whole fetch of one target.
    #[arg(short = 'm', long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub(crate) max_time: Duration,

    /// Set all three timeouts at once (connect, read and max time).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub(crate) timeout: Option<Duration>,
}

/// Where results go, and in what form.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Output")]
pub(crate) struct OutputArgs {
    /// Write JSON Lines: one object per target.
    #[arg(long)]
    pub(crate) json: bool,

    /// Print each head line as it arrives.
    ///
    /// Lines of different hosts interleave, as in the seed program.
    #[arg(long, conflicts_with = "json")]
    pub(crate) live: bool,

    /// Write results to FILE instead of stdout.
    ///
    /// FILE must not be an input or the --timeline file (under any name:
    /// a symlink, `./x`); that is refused before anything is written.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,

    /// With --output, append to FILE instead of truncating it.
    #[arg(long, requires = "file")]
    pub(crate) append: bool,
}

/// What else the run shows about itself.
#[derive(clap::Args, Debug)]
#[command(next_help_heading = "Visibility")]
pub(crate) struct VisibilityArgs {
    /// Also print `wget TARGET...` as each fetch starts.
    #[arg(short, long)]
    pub(crate) verbose: bool,

    /// No summary or progress on stderr.
    #[arg(short, long)]
    pub(crate) quiet: bool,

    /// Print the loop's counters and per-phase latencies at the end.
    ///
    /// To stderr: an aligned table, or with --json one JSON object, which
    /// holds the summary and is then all that stderr gets.
    #[arg(long)]
    pub(crate) stats: bool,

    /// Write a picture of the run to FILE (.svg: a waterfall).
    ///
    /// A Chrome trace (JSON, with each connection slot's dns, connect, wait
    /// and read phases and the event loop's own spans; open it in Perfetto
    /// or chrome://tracing), or an SVG waterfall, one bar per target, when
    /// FILE ends in `.svg`. Every target's timings are kept in memory until
    /// the end (about 200 bytes each). FILE is opened before the run, so a
    /// path that cannot be written fails before any fetch; it must not be
    /// an input or the --output file.
    #[arg(long, value_name = "FILE")]
    pub(crate) timeline: Option<PathBuf>,
}

impl Args {
    /// Parses the process's arguments, with the long help built from the
    /// error kinds the engine defines.
    pub(crate) fn parse_or_exit_code() -> Result<Args, clap::Error> {
        let command = Args::command().after_long_help(long_after_help());
        Args::from_arg_matches(&command.try_get_matches()?)
    }
}

/// Shown after `--help`: the manual's reference sections.
fn long_after_help() -> String {
    let mut text = String::from(
        "\
Examples:
  fetch-headers www.sina.com.cn www.sohu.com
  fetch-headers -i hosts.txt -c 1000 --json > out.jsonl
  cat hosts.txt | fetch-headers -i - --head --timeout 5s
  fetch-headers -H 'Accept: text/html' --http1.1 http://example.com:8080/status
  fetch-headers -L --tls-info www.sina.com.cn      # follow to https, show the cert
  fetch-headers -i hosts.txt --timeline run.json   # a trace for Perfetto
  fetch-headers -i hosts.txt --timeline run.svg    # a waterfall for a browser

Targets:
  host, host:port, 1.2.3.4, ::1, [::1]:8080, http://host[:port][/path],
  https://host[:port][/path] (port 443). --scheme sets the scheme of
  targets written without one.
  An IPv6 address with a port goes in brackets: ::1:8080 is the address
  ::1:8080 on port 80. A URL's #fragment is not sent. Internationalised
  names (中文.com) are sent to DNS and in Host as punycode. In -i files,
  blank lines and # comments (also after a target) are skipped.

Output:
  One line per head line, `TARGET header > LINE`, or one line per failure,
  `TARGET error > KIND: MESSAGE`. With -L, `TARGET redirect > URL` between
  the heads of the hops; with --tls-info, `TARGET tls > ...` before a head
  that came over TLS. Control characters and invalid UTF-8 from
  servers are shown escaped (\\x1b, \\xff). With --json, one object per target.

Error kinds:
",
    );
    for kind in ErrorKind::ALL {
        let _ = writeln!(text, "  {:<16} {}", kind.as_str(), kind.meaning());
    }
    text.push_str(
        "
Exit status:
  0 every target answered, 1 some failed, 2 usage error, the targets could not
  be read (the results before the error are written) or the results could
  not be written, 130 or 143 when SIGINT or SIGTERM stopped the run.

Stopping early:
  On SIGINT (Ctrl-C) or SIGTERM no new target starts, the fetches in flight
  get 1s to finish, and those still going are reported as `interrupted`;
  then the summary, and the exit status above. A second signal quits at
  once. When the output's reader leaves (| head -1), the fetches in flight
  are cancelled at once, and the exit status counts the outcomes written.

Logging:
  RUST_LOG=fetch_headers=debug shows each connection's phases; =trace every
  turn of the event loop.",
    );
    text
}

/// The longest duration accepted, in seconds (below what `Instant` can add).
const MAX_DURATION_SECS: f64 = 1e9;

/// `500ms`, `2s`, `1.5s`, `1m`, or plain seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a duration (try 500ms, 2s, 1m)"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => {
            return Err(format!(
                "unknown unit '{unit}' in '{text}' (use ms, s or m)"
            ))
        }
    };
    // The number holds only digits and dots, so it is never NaN.
    if seconds <= 0.0 {
        return Err(format!("'{text}' must be above zero"));
    }
    if seconds >= MAX_DURATION_SECS {
        return Err(format!(
            "'{text}' is too long (the most is {MAX_DURATION_SECS:.0}s, about 31 years)"
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// `Name: value`.
fn parse_header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| format!("'{text}' is not a header; write it as 'Name: value'"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("'{text}' has an empty header name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// `ADDR`, `ADDR:PORT` or `[V6]:PORT`: a DNS server (port 53 unless given).
fn parse_resolver(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, 53));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        if let Ok(ip) = inner.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, 53));
        }
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!(
            "'{text}' is not a DNS server address (try 127.0.0.1, 127.0.0.1:5353 or [::1]:5353)"
        )
    })
}

/// `HOST:PORT:ADDR[,ADDR...]`, curl's `--resolve`.
fn parse_pin(text: &str) -> Result<Pinned, String> {
    let shape = || format!("'{text}' is not HOST:PORT:ADDR (e.g. example.com:443:127.0.0.1)");
    let (host, rest) = text.split_once(':').ok_or_else(shape)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(shape)?;
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|&port| port > 0)
        .ok_or_else(|| format!("'{text}': '{port}' is not a port"))?;
    let mut list = Vec::new();
    for addr in addrs.split(',') {
        let bare = addr
            .strip_prefix('[')
            .and_then(|a| a.strip_suffix(']'))
            .unwrap_or(addr);
        list.push(
            bare.parse::<IpAddr>()
                .map_err(|_| format!("'{text}': '{addr}' is not an IP address"))?,
        );
    }
    if host.is_empty() || host.contains(['/', '?', '#']) {
        return Err(shape());
    }
    // The host as a target's is spelled (lower case, an internationalised
    // name in punycode), or the pin would never match.
    let host = parse_target(host)
        .map_err(|e| format!("'{text}': {e}"))?
        .host;
    Ok(Pinned {
        host,
        port,
        addrs: list,
    })
}

/// An origin-form request path: `/` and the rest.
fn parse_path(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return Err(format!("'{text}' must start with '/'"));
    }
    Ok(text.to_owned())
}
