//! Python's `open()` mode strings (`"r"`, `"w+"`, `"ab"`, `"x"`, ...).
//!
//! A [`Mode`] is only ever built by [`Mode::parse`], which applies CPython
//! 3.11's checks in CPython's order, so a mode string is accepted or rejected
//! exactly as Python would, with the same message. The invariant: a `Mode`
//! always has exactly one of create/read/write/append.

use std::fs;
use std::str::FromStr;

use super::error::{repr, Error};

/// The one base action a mode string names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// `r`: the file must exist; reading starts at 0.
    Read,
    /// `w`: create or truncate.
    Write,
    /// `a`: create if needed; every write goes to the end.
    Append,
    /// `x`: create, failing if the file exists.
    Create,
}

/// A validated mode: one [`Access`], an optional `+` and text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    access: Access,
    plus: bool,
    binary: bool,
}

impl Mode {
    /// Parses a Python mode string with no text-only arguments given.
    pub fn parse(mode: &str) -> Result<Mode, Error> {
        Mode::parse_with(mode, None)
    }

    /// Parses `mode`; `text_argument` names the first of `encoding`, `errors`
    /// or `newline` the caller passed, because CPython rejects those for
    /// binary modes *between* its own mode checks and wording depends on it.
    pub(crate) fn parse_with(mode: &str, text_argument: Option<&str>) -> Result<Mode, Error> {
        let invalid = || Error::invalid(format!("invalid mode: {}", repr(mode)));
        let (mut read, mut write, mut append, mut create) = (false, false, false, false);
        let (mut plus, mut text, mut binary) = (false, false, false);
        for (i, c) in mode.char_indices() {
            let flag = match c {
                'r' => &mut read,
                'w' => &mut write,
                'a' => &mut append,
                'x' => &mut create,
                '+' => &mut plus,
                't' => &mut text,
                'b' => &mut binary,
                // `U` was removed in 3.11; like any other letter it is invalid.
                _ => return Err(invalid()),
            };
            if mode[i + 1..].contains(c) {
                return Err(invalid());
            }
            *flag = true;
        }
        if text && binary {
            return Err(Error::invalid("can't have text and binary mode at once"));
        }
        let actions = [read, write, append, create].iter().filter(|&&f| f).count();
        if actions > 1 {
            return Err(Error::invalid(
                "must have exactly one of create/read/write/append mode",
            ));
        }
        if let (true, Some(argument)) = (binary, text_argument) {
            let article = if argument == "newline" { "a" } else { "an" };
            return Err(Error::invalid(format!(
                "binary mode doesn't take {article} {argument} argument"
            )));
        }
        // CPython's FileIO performs this last check, after open() has done
        // the ones above, which is why '' and 'b' get this longer message.
        let access =
            match (read, write, append, create) {
                (true, ..) => Access::Read,
                (_, true, ..) => Access::Write,
                (_, _, true, _) => Access::Append,
                (.., true) => Access::Create,
                _ => return Err(Error::invalid(
                    "Must have exactly one of create/read/write/append mode and at most one plus",
                )),
            };
        Ok(Mode {
            access,
            plus,
            binary,
        })
    }

    /// The base action (`r`, `w`, `a` or `x`).
    pub fn access(&self) -> Access {
        self.access
    }

    /// Whether reads are allowed: `r` or any mode with `+`.
    pub fn readable(&self) -> bool {
        self.access == Access::Read || self.plus
    }

    /// Whether writes are allowed: anything but plain `r`.
    pub fn writable(&self) -> bool {
        self.access != Access::Read || self.plus
    }

    /// Whether `b` was given: bytes in and out, no codec.
    pub fn is_binary(&self) -> bool {
        self.binary
    }

    /// The `std::fs` options that give this mode's semantics. Append uses
    /// `O_APPEND`, so the OS (not this crate) keeps writes at the end even
    /// after a seek.
    pub(crate) fn fs_options(&self) -> fs::OpenOptions {
        let mut options = fs::OpenOptions::new();
        options.read(self.readable());
        match self.access {
            Access::Read => options.write(self.plus),
            Access::Write => options.write(true).create(true).truncate(true),
            Access::Append => options.append(true).create(true),
            Access::Create => options.write(true).create_new(true),
        };
        options
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(mode: &str) -> Result<Mode, Error> {
        Mode::parse(mode)
    }
}
