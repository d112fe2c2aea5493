//! The byte-level core shared by text and binary files: an OS file, a read
//! buffer, and the mode's permissions.
//!
//! This plays the part of CPython's `BufferedRandom` over `FileIO`. The
//! invariant: `offset` is always the logical position, the byte the next
//! read returns and the next write replaces, even though the OS file
//! position is ahead of it by the unread part of `buf`. Writes go straight
//! to the OS (there is no write buffer), so `flush` has nothing to lose.

use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};

use super::error::Error;
use super::mode::Mode;

const CHUNK: usize = 8192;

/// Where a line ends, at the byte level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineEnd {
    /// At `\n` (binary files, `newline='\n'`).
    Lf,
    /// At `\r`.
    Cr,
    /// At `\r\n`.
    CrLf,
    /// At `\n`, `\r\n` or a lone `\r` (universal newlines).
    Any,
}

impl LineEnd {
    /// The length of the first line in `data`, terminator included, or
    /// `None` if more bytes are needed to know. A `\r` as the last byte is
    /// undecided unless at end of file, as it may start a `\r\n`.
    fn find(self, data: &[u8], at_eof: bool) -> Option<usize> {
        let cr_then = |i: usize| match data.get(i + 1) {
            Some(b'\n') => Some(i + 2),
            Some(_) => Some(i + 1),
            None if at_eof => Some(i + 1),
            None => None,
        };
        match self {
            LineEnd::Lf => data.iter().position(|&b| b == b'\n').map(|i| i + 1),
            LineEnd::Cr => data.iter().position(|&b| b == b'\r').map(|i| i + 1),
            LineEnd::CrLf => data.windows(2).position(|w| w == b"\r\n").map(|i| i + 2),
            LineEnd::Any => {
                let i = data.iter().position(|&b| b == b'\n' || b == b'\r')?;
                if data[i] == b'\n' {
                    Some(i + 1)
                } else {
                    cr_then(i)
                }
            }
        }
    }
}

/// The shared byte-level file: see the module docs.
#[derive(Debug)]
pub(crate) struct RawFile {
    /// `None` once closed.
    file: Option<fs::File>,
    buf: Vec<u8>,
    /// Index of the next unread byte in `buf`.
    pos: usize,
    /// The logical position: the file offset of `buf[pos]`.
    offset: u64,
    eof: bool,
    mode: Mode,
}

impl RawFile {
    pub(crate) fn new(mut file: fs::File, mode: Mode, append: bool) -> io::Result<RawFile> {
        // Python starts an append-mode file's position at its end.
        let offset = if append {
            file.seek(SeekFrom::End(0))?
        } else {
            0
        };
        Ok(RawFile {
            file: Some(file),
            buf: Vec::new(),
            pos: 0,
            offset,
            eof: false,
            mode,
        })
    }

    fn file(&mut self) -> Result<&mut fs::File, Error> {
        self.file
            .as_mut()
            .ok_or_else(|| Error::closed("I/O operation on closed file."))
    }

    /// Fails unless open and readable, as every read must first.
    pub(crate) fn check_readable(&mut self) -> Result<(), Error> {
        self.file()?;
        if self.mode.readable() {
            // A new read call looks past an earlier end of file, as another
            // writer may have appended since.
            self.eof = false;
            Ok(())
        } else {
            Err(Error::unsupported("not readable"))
        }
    }

    fn unread(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads one more chunk onto the end of the buffer; at end of file sets
    /// `eof` instead.
    fn fill(&mut self) -> Result<(), Error> {
        self.buf.drain(..self.pos);
        self.pos = 0;
        let len = self.buf.len();
        self.buf.resize(len + CHUNK, 0);
        let result = loop {
            let Some(file) = self.file.as_mut() else {
                break Ok(0);
            };
            match file.read(&mut self.buf[len..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let n = match result {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(len);
                return Err(Error::os(e, None));
            }
        };
        self.buf.truncate(len + n);
        self.eof = n == 0;
        Ok(())
    }

    /// Hands out the next `n` unread bytes.
    fn take(&mut self, n: usize) -> Vec<u8> {
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        self.offset += n as u64;
        out
    }

    /// Up to `n` bytes, or everything to end of file when `n` is `None`.
    pub(crate) fn read(&mut self, n: Option<usize>) -> Result<Vec<u8>, Error> {
        self.check_readable()?;
        let want = n.unwrap_or(usize::MAX);
        while self.unread().len() < want && !self.eof {
            self.fill()?;
        }
        let n = self.unread().len().min(want);
        Ok(self.take(n))
    }

    /// One line, its terminator included; at most `limit` bytes. Empty at
    /// end of file.
    pub(crate) fn read_line(
        &mut self,
        end: LineEnd,
        limit: Option<usize>,
    ) -> Result<Vec<u8>, Error> {
        self.check_readable()?;
        let limit = limit.unwrap_or(usize::MAX);
        loop {
            let window = &self.unread()[..self.unread().len().min(limit)];
            let capped = window.len() == limit;
            if let Some(n) = end.find(window, self.eof || capped) {
                return Ok(self.take(n));
            }
            if capped || self.eof {
                let n = window.len();
                return Ok(self.take(n));
            }
            self.fill()?;
        }
    }

    /// Puts the OS file position back at the logical position and drops the
    /// read-ahead, so that a write or seek acts where the caller thinks.
    fn sync(&mut self) -> Result<&mut fs::File, Error> {
        let unread = self.unread().len() as i64;
        self.buf.clear();
        self.pos = 0;
        self.eof = false;
        let file = self.file()?;
        if unread > 0 {
            file.seek(SeekFrom::Current(-unread))
                .map_err(|e| Error::os(e, None))?;
        }
        Ok(file)
    }

    /// Fails unless open and writable, as every write must first.
    pub(crate) fn check_writable(&mut self) -> Result<(), Error> {
        self.file()?;
        if self.mode.writable() {
            Ok(())
        } else {
            Err(Error::unsupported("not writable"))
        }
    }

    pub(crate) fn write(&mut self, data: &[u8]) -> Result<usize, Error> {
        self.check_writable()?;
        let file = self.sync()?;
        file.write_all(data).map_err(|e| Error::os(e, None))?;
        // In append mode the OS wrote at the end, wherever we had sought.
        self.offset = file.stream_position().map_err(|e| Error::os(e, None))?;
        Ok(data.len())
    }

    pub(crate) fn seek(&mut self, to: SeekFrom) -> Result<u64, Error> {
        let offset = self.offset;
        let file = self.sync()?;
        let target = match to {
            // The OS file position is at `offset` after the sync.
            SeekFrom::Current(delta) => SeekFrom::Start(
                offset
                    .checked_add_signed(delta)
                    // Where the OS would say EINVAL, say it the same way.
                    .ok_or_else(|| Error::os(io::Error::from_raw_os_error(libc::EINVAL), None))?,
            ),
            other => other,
        };
        self.offset = file.seek(target).map_err(|e| Error::os(e, None))?;
        Ok(self.offset)
    }

    pub(crate) fn tell(&mut self) -> Result<u64, Error> {
        self.file()?;
        Ok(self.offset)
    }

    pub(crate) fn flush(&mut self) -> Result<(), Error> {
        self.file()?.flush().map_err(|e| Error::os(e, None))
    }

    /// Closes the OS file; later operations fail as on a closed file.
    /// Closing twice is allowed, as in Python.
    pub(crate) fn close(&mut self) -> Result<(), Error> {
        match self.file.take() {
            Some(mut file) => file.flush().map_err(|e| Error::os(e, None)),
            None => Ok(()),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.file.is_none()
    }
}
