//! Reading the resolver's configuration files, with a size bound.
//!
//! [`super::ResolvConf`], [`super::HostsTable`] and [`super::NsSwitch`] each
//! parse from a string (so tests and tools can feed them text) and load
//! from a path through [`read`] here, which reads at most [`MAX_FILE_LEN`]
//! bytes: `--hosts-file /dev/zero` is an error, not an endless read.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest configuration file read: 16 MiB, far past any real
/// `/etc/hosts`.
pub const MAX_FILE_LEN: u64 = 16 << 20;

/// A configuration file that could not be read.
#[derive(Debug)]
pub enum ConfError {
    /// Opening or reading failed.
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The file is longer than [`MAX_FILE_LEN`].
    TooLarge {
        /// The file.
        path: PathBuf,
    },
}

impl ConfError {
    /// True when the file does not exist: for a system file that means
    /// "use the defaults", as glibc does.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ConfError::Read { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            ConfError::TooLarge { path } => write!(
                f,
                "{} is larger than {} MiB; is it the right file?",
                path.display(),
                MAX_FILE_LEN >> 20
            ),
        }
    }
}

impl std::error::Error for ConfError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfError::Read { source, .. } => Some(source),
            ConfError::TooLarge { .. } => None,
        }
    }
}

/// Reads `path` as text (invalid UTF-8 replaced), at most [`MAX_FILE_LEN`]
/// bytes.
pub(crate) fn read(path: &Path) -> Result<String, ConfError> {
    let error = |source| ConfError::Read {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(error)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(error)?;
    if bytes.len() as u64 > MAX_FILE_LEN {
        return Err(ConfError::TooLarge {
            path: path.to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
