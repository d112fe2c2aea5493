//! Python's `newline=` argument: how text files split and translate lines.

use super::error::{repr, Error};
use super::raw::LineEnd;

/// How a text file treats line endings (Python's `newline=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Newline {
    /// `newline=None`, the default: reading splits at `\n`, `\r\n` and `\r`
    /// and turns each into `\n` ("universal newlines"); writing leaves `\n`
    /// alone, as CPython does on Linux.
    #[default]
    Universal,
    /// `newline=''`: reading splits like [`Newline::Universal`] but returns
    /// the endings untranslated; writing leaves `\n` alone.
    Untranslated,
    /// `newline='\n'`: lines end only at `\n`; nothing is translated.
    Lf,
    /// `newline='\r'`: lines end only at `\r`; writing turns `\n` into `\r`.
    Cr,
    /// `newline='\r\n'`: lines end only at `\r\n`; writing turns `\n` into
    /// `\r\n`.
    CrLf,
}

impl Newline {
    /// Reads a Python `newline=` value: `None`, `""`, `"\n"`, `"\r"` or
    /// `"\r\n"`.
    pub fn from_python(value: Option<&str>) -> Result<Newline, Error> {
        match value {
            None => Ok(Newline::Universal),
            Some("") => Ok(Newline::Untranslated),
            Some("\n") => Ok(Newline::Lf),
            Some("\r") => Ok(Newline::Cr),
            Some("\r\n") => Ok(Newline::CrLf),
            Some(other) => Err(Error::invalid(format!(
                "illegal newline value: {}",
                // CPython formats the value with %s, so only the quotes of a
                // repr are left out.
                repr(other).trim_matches(['\'', '"'])
            ))),
        }
    }

    /// Where the byte-level reader should cut lines.
    pub(crate) fn line_end(self) -> LineEnd {
        match self {
            Newline::Universal | Newline::Untranslated => LineEnd::Any,
            Newline::Lf => LineEnd::Lf,
            Newline::Cr => LineEnd::Cr,
            Newline::CrLf => LineEnd::CrLf,
        }
    }

    /// What `\n` becomes on write, if anything.
    pub(crate) fn written_as(self) -> Option<&'static str> {
        match self {
            Newline::Cr => Some("\r"),
            Newline::CrLf => Some("\r\n"),
            _ => None,
        }
    }
}
