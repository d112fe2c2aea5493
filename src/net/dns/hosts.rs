//! `/etc/hosts`: names with fixed addresses, read as glibc's `files` source
//! reads it.
//!
//! A line is an address and one or more names for it; `#` starts a comment
//! anywhere on a line:
//!
//! ```text
//! 127.0.0.1   localhost
//! 192.0.2.10  build.corp.example build   # canonical name, then aliases
//! ::1         localhost ip6-localhost
//! ```
//!
//! Names are matched without regard to ASCII case or a trailing dot. A name
//! on several lines has all their addresses, in file order, each once.
//! Lines whose address does not parse are skipped, as glibc skips them; so
//! are IPv6 addresses with a `%scope`, which an address alone cannot carry.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

use super::conf::{self, ConfError};

/// The hosts table: name to addresses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostsTable {
    names: HashMap<String, Vec<IpAddr>>,
}

/// The form names are kept and looked up in: lower case, no trailing dot.
fn key(name: &str) -> String {
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

impl HostsTable {
    /// An empty table: no name is in it.
    pub fn new() -> HostsTable {
        HostsTable::default()
    }

    /// Parses hosts-file text; never fails (bad lines are skipped).
    pub fn parse(text: &str) -> HostsTable {
        let mut table = HostsTable::new();
        for line in text.lines() {
            let line = line.split_once('#').map_or(line, |(data, _)| data);
            let mut words = line.split_whitespace();
            let Some(Ok(ip)) = words.next().map(str::parse::<IpAddr>) else {
                continue;
            };
            for name in words {
                table.insert(name, ip);
            }
        }
        table
    }

    /// Adds `ip` to `name`'s addresses (once).
    pub fn insert(&mut self, name: &str, ip: IpAddr) {
        let addresses = self.names.entry(key(name)).or_default();
        if !addresses.contains(&ip) {
            addresses.push(ip);
        }
    }

    /// Reads and parses a hosts file.
    pub fn load(path: &Path) -> Result<HostsTable, ConfError> {
        Ok(HostsTable::parse(&conf::read(path)?))
    }

    /// `/etc/hosts`, or an empty table if it does not exist.
    pub fn system() -> Result<HostsTable, ConfError> {
        match HostsTable::load(Path::new("/etc/hosts")) {
            Err(e) if e.is_not_found() => Ok(HostsTable::new()),
            result => result,
        }
    }

    /// The addresses of `name`, if the table has it.
    pub fn get(&self, name: &str) -> Option<&[IpAddr]> {
        self.names.get(&key(name)).map(Vec::as_slice)
    }

    /// How many names the table holds.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when the table holds no name.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}
