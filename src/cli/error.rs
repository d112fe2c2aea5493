//! Why the command could not run: usage and setup errors (exit status 2).

use std::fmt;
use std::io;
use std::path::PathBuf;

use fetch_headers::files;
use fetch_headers::http::RequestError;
use fetch_headers::net::dns::ConfError;
use fetch_headers::tls::TlsConfigError;

/// A usage or setup problem, found before or around the run; the message
/// says what to fix.
#[derive(Debug)]
pub(crate) enum CliError {
    /// Neither arguments nor `-i` gave a target.
    NoTargets,
    /// `--input-encoding` names no known encoding.
    Encoding(files::Error),
    /// The request options (`-H`, `-A`, `--path`) cannot be sent.
    Request(RequestError),
    /// A resolver file cannot be read (`--resolv-conf`, `--hosts-file`, or
    /// the system's).
    Dns(ConfError),
    /// The TLS client cannot be set up (`--cacert`).
    Tls(TlsConfigError),
    /// An input file cannot be opened.
    Input {
        /// The path as given.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The output file cannot be opened.
    Output {
        /// The path as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The `--skip-done` file cannot be read.
    SkipDone {
        /// The path as given.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// `--skip-done` names the `-o` file, which would be truncated.
    SkipDoneTruncated {
        /// The path as given.
        path: PathBuf,
    },
    /// Two of the run's files are one file under two names, and one of
    /// them would be written.
    SameFile {
        /// How the first is named (`input 'list.txt'`).
        first: String,
        /// How the second is named (`output './list.txt'`, `stdout`).
        second: String,
    },
    /// The loop or one of its threads could not be started.
    Setup {
        /// What could not be done, as a verb phrase.
        what: &'static str,
        /// Why.
        source: io::Error,
    },
}

impl CliError {
    /// A setup failure: "cannot {what}".
    pub(crate) fn setup(what: &'static str) -> impl FnOnce(io::Error) -> CliError {
        move |source| CliError::Setup { what, source }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::NoTargets => f.write_str(
                "no targets: give hosts as arguments or a file with -i FILE (see --help)",
            ),
            CliError::Encoding(e) => write!(f, "--input-encoding: {e}"),
            CliError::Request(e) => write!(f, "{e}; fix --header, --user-agent or --path"),
            CliError::Tls(e) => write!(f, "--cacert: {e}"),
            CliError::Dns(e) => write!(f, "{e} (the resolver's settings; --system-dns avoids them)"),
            CliError::Input { path, source } => {
                write!(f, "cannot read targets from '{path}': {source}")
            }
            CliError::Output { path, source } => {
                write!(f, "cannot write to '{}': {source}", path.display())
            }
            CliError::SkipDone { path, source } => {
                write!(f, "cannot read --skip-done '{}': {source}", path.display())
            }
            CliError::SkipDoneTruncated { path } => write!(
                f,
                "--skip-done '{}' is also the output, which -o would empty; add --append",
                path.display()
            ),
            CliError::SameFile { first, second } => write!(
                f,
                "{first} and {second} are the same file, which writing one would destroy: give them different paths"
            ),
            CliError::Setup { what, source } => write!(f, "cannot {what}: {source}"),
        }
    }
}

impl std::error::Error for CliError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CliError::NoTargets
            | CliError::SkipDoneTruncated { .. }
            | CliError::SameFile { .. } => None,
            CliError::Encoding(e) => Some(e),
            CliError::Request(e) => Some(e),
            CliError::Tls(e) => Some(e),
            CliError::Dns(e) => Some(e),
            CliError::Input { source, .. }
            | CliError::Output { source, .. }
            | CliError::SkipDone { source, .. }
            | CliError::Setup { source, .. } => Some(source),
        }
    }
}
