//! [`TextFile`]: a file opened in text mode, Python's `TextIOWrapper`.
//!
//! Reading is line by line: the byte layer cuts one raw line (terminator
//! included), the codec decodes it, and universal-newline translation
//! rewrites its ending. This is exact because every supported encoding is
//! ASCII-compatible: the bytes `\n` and `\r` never occur inside a
//! character. The invariant: `line[line_pos..]` holds the decoded characters
//! of the current line not yet returned, and `line_skip` counts those that
//! were, so a position inside a line can be named by (line start, skip).

use std::io::SeekFrom;

use super::codec::{Encoding, Errors};
use super::error::{Error, ErrorKind};
use super::lines;
use super::newline::Newline;
use super::raw::RawFile;
use super::whence::Whence;

/// A text-mode position cookie packs "characters to skip into the line"
/// above this bit, as CPython packs decoder state above bit 64.
const SKIP_SHIFT: u32 = 40;

/// The kinds of line ending seen so far, in the order Python lists them.
const ENDINGS: [&str; 3] = ["\r", "\n", "\r\n"];

/// A file opened in text mode (`"r"`, `"w+"`, `"at"`, ...): `str` in and
/// out, through an [`Encoding`] and an [`Errors`] policy.
///
/// Writing bytes to a text file, which is a `TypeError` in Python, does not
/// compile here: [`TextFile::write`] takes `&str`.
///
/// Dropping the file closes it; as writes are not buffered, nothing is lost.
#[derive(Debug)]
pub struct TextFile {
    raw: RawFile,
    encoding: Encoding,
    errors: Errors,
    newline: Newline,
    line: String,
    line_pos: usize,
    line_start: u64,
    line_skip: usize,
    /// Bit i set when `ENDINGS[i]` has been read.
    seen: u8,
}

impl TextFile {
    pub(crate) fn new(
        raw: RawFile,
        encoding: Encoding,
        errors: Errors,
        newline: Newline,
    ) -> TextFile {
        TextFile {
            raw,
            encoding,
            errors,
            newline,
            line: String::new(),
            line_pos: 0,
            line_start: 0,
            line_skip: 0,
            seen: 0,
        }
    }

    /// Drops what is left of the current line, e.g. before a seek.
    fn forget_line(&mut self) {
        self.line.clear();
        self.line_pos = 0;
        self.line_skip = 0;
    }

    /// Reads and decodes the next line into `self.line`; `false` at EOF.
    fn next_line(&mut self) -> Result<bool, Error> {
        self.forget_line();
        self.line_start = self.raw.tell()?;
        let bytes = self.raw.read_line(self.newline.line_end(), None)?;
        if bytes.is_empty() {
            return Ok(false);
        }
        let mut body = &bytes[..];
        let mut base = self.line_start;
        if self.line_start == 0 && self.encoding.uses_bom() {
            if let Some(rest) = body.strip_prefix(b"\xEF\xBB\xBF") {
                body = rest;
                base += 3;
            }
        }
        self.encoding
            .decode_into(body, self.errors, base, &mut self.line)?;
        if matches!(self.newline, Newline::Universal | Newline::Untranslated) {
            let ending = if self.line.ends_with("\r\n") {
                2
            } else if self.line.ends_with('\r') {
                0
            } else if self.line.ends_with('\n') {
                1
            } else {
                return Ok(true);
            };
            self.seen |= 1 << ending;
            if self.newline == Newline::Universal {
                self.line.truncate(self.line.len() - ENDINGS[ending].len());
                self.line.push('\n');
            }
        }
        Ok(true)
    }

    /// Moves up to `max` characters of the current line onto `out`, and
    /// returns how many.
    fn take_chars(&mut self, max: usize, out: &mut String) -> usize {
        let rest = &self.line[self.line_pos..];
        let (len, count) = match rest.char_indices().nth(max) {
            Some((i, _)) => (i, max),
            None => (rest.len(), rest.chars().count()),
        };
        out.push_str(&rest[..len]);
        self.line_pos += len;
        self.line_skip += count;
        count
    }

    fn line_is_done(&self) -> bool {
        self.line_pos == self.line.len()
    }

    /// Reads up to `n` characters (not bytes), or to end of file when `n`
    /// is `None`. Empty at end of file.
    pub fn read(&mut self, n: Option<usize>) -> Result<String, Error> {
        self.raw.check_readable()?;
        let mut out = String::new();
        let mut left = n.unwrap_or(usize::MAX);
        while left > 0 {
            if self.line_is_done() && !self.next_line()? {
                break;
            }
            left -= self.take_chars(left, &mut out);
        }
        Ok(out)
    }

    /// Reads one line, keeping its `\n`; at most `limit` characters. The
    /// last line may lack the `\n`; end of file gives `""`.
    pub fn readline(&mut self, limit: Option<usize>) -> Result<String, Error> {
        self.raw.check_readable()?;
        let mut out = String::new();
        if limit == Some(0) || (self.line_is_done() && !self.next_line()?) {
            return Ok(out);
        }
        self.take_chars(limit.unwrap_or(usize::MAX), &mut out);
        Ok(out)
    }

    /// Reads the remaining lines; with a `hint`, stops once the lines read
    /// hold at least `hint` characters, as Python's `readlines(hint)`.
    pub fn readlines(&mut self, hint: Option<usize>) -> Result<Vec<String>, Error> {
        lines::readlines(hint, || self.readline(None))
    }

    /// Writes `text` and returns its length in characters, as Python does
    /// (`"héllo\n"` is 6, though 7 bytes are written).
    ///
    /// After a partial read the write lands after the current line, as
    /// Python's lands after its read-ahead chunk; seek first to choose.
    pub fn write(&mut self, text: &str) -> Result<usize, Error> {
        self.raw.check_writable()?;
        self.forget_line();
        let translated;
        let text_out = match self.newline.written_as() {
            Some(ending) if text.contains('\n') => {
                translated = text.replace('\n', ending);
                &translated
            }
            _ => text,
        };
        let mut bytes = Vec::with_capacity(text_out.len() + 3);
        if self.encoding.uses_bom() && self.raw.tell()? == 0 {
            bytes.extend_from_slice(b"\xEF\xBB\xBF");
        }
        self.encoding
            .encode_into(text_out, self.errors, &mut bytes)?;
        self.raw.write(&bytes)?;
        Ok(text.chars().count())
    }

    /// Writes each string in turn; nothing is added between them.
    pub fn writelines<I>(&mut self, lines: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for line in lines {
            self.write(line.as_ref())?;
        }
        Ok(())
    }

    /// The position, as an opaque cookie for [`TextFile::seek`], as in
    /// Python. Between lines (always, unless `read(n)` or `readline(n)`
    /// stopped inside one) it is the plain byte offset.
    pub fn tell(&mut self) -> Result<u64, Error> {
        let offset = self.raw.tell()?;
        if self.line_is_done() {
            return Ok(offset);
        }
        let skip = self.line_skip as u64;
        if self.line_start >> SKIP_SHIFT != 0 || skip >> (64 - SKIP_SHIFT) != 0 {
            return Err(Error::new(
                ErrorKind::Os,
                "can't reconstruct logical file position",
            ));
        }
        Ok(self.line_start | skip << SKIP_SHIFT)
    }

    /// Seeks to a cookie from [`TextFile::tell`] (or 0), or to the end with
    /// `(0, Whence::End)`. Like Python's text files, other relative seeks
    /// are refused.
    pub fn seek(&mut self, offset: i64, whence: Whence) -> Result<u64, Error> {
        self.raw.tell()?;
        match whence {
            Whence::Start if offset < 0 => {
                Err(Error::invalid(format!("negative seek position {offset}")))
            }
            Whence::Start => {
                let cookie = offset as u64;
                self.forget_line();
                self.raw
                    .seek(SeekFrom::Start(cookie & ((1 << SKIP_SHIFT) - 1)))?;
                let skip = (cookie >> SKIP_SHIFT) as usize;
                // Re-read the line and drop the characters already returned,
                // which is how CPython restores a mid-chunk position too.
                if skip > 0 && self.next_line()? {
                    self.take_chars(skip, &mut String::new());
                }
                Ok(cookie)
            }
            Whence::Current if offset != 0 => {
                Err(Error::unsupported("can't do nonzero cur-relative seeks"))
            }
            Whence::Current => self.tell(),
            Whence::End if offset != 0 => {
                Err(Error::unsupported("can't do nonzero end-relative seeks"))
            }
            Whence::End => {
                self.forget_line();
                self.raw.seek(SeekFrom::End(0))
            }
        }
    }

    /// The kinds of line ending read so far in universal-newline modes, in
    /// Python's order (`"\r"`, `"\n"`, `"\r\n"`): Python's `f.newlines`.
    pub fn newlines(&self) -> Vec<&'static str> {
        (0..ENDINGS.len())
            .filter(|i| self.seen & (1 << i) != 0)
            .map(|i| ENDINGS[i])
            .collect()
    }

    /// The encoding chosen at open.
    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// Pushes written data to the OS. Writes are not buffered, so this only
    /// checks the file is open; it is here so Python code ports unchanged.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.raw.flush()
    }

    /// Closes the file; any later operation fails with
    /// `I/O operation on closed file.`. Closing twice is allowed.
    pub fn close(&mut self) -> Result<(), Error> {
        self.forget_line();
        self.raw.close()
    }

    /// Whether [`TextFile::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

/// Iterating yields lines as `readline` does, so `for line in &mut file`
/// reads like Python's `for line in f`. An error is yielded as `Some(Err)`.
impl Iterator for TextFile {
    type Item = Result<String, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        lines::next(self.readline(None))
    }
}
