//! Text encodings and error handlers: the `encoding=` and `errors=`
//! arguments of Python's `open()`, and `bytes.decode` / `str.encode`.
//!
//! [`Encoding::from_name`] takes Python-style names (`"utf-8"`, `"gbk"`,
//! `"latin-1"`, `"utf-8-sig"`, `"shift_jis"`, ...). Each encoding is served
//! by an engine that decodes or encodes up to the first failure and says
//! where it is; one driver then applies the [`Errors`] policy the same way
//! for every engine, so `strict`, `ignore`, `replace` and `backslashreplace`
//! behave identically across encodings.
//!
//! See [`Encoding`] for how closely each encoding follows CPython.

mod gbk;

use std::fmt::Write as _;
use std::str::FromStr;

use super::error::{repr, Error, ErrorKind};

/// What to do with bytes that do not decode, or characters that do not
/// encode: Python's `errors=` argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Errors {
    /// Fail with a [`ErrorKind::Decode`] or [`ErrorKind::Encode`] error
    /// naming the offending byte or character and its position.
    #[default]
    Strict,
    /// Drop the offending bytes or characters.
    Ignore,
    /// Decode to `U+FFFD` once per error; encode to `?` once per character.
    Replace,
    /// Decode each bad byte to `\xNN`; encode each bad character to `\xNN`,
    /// `\uNNNN` or `\UNNNNNNNN`.
    BackslashReplace,
}

impl Errors {
    /// Looks up a Python error-handler name. Unlike CPython, which only
    /// notices an unknown name at the first error, this fails at once.
    pub fn from_name(name: &str) -> Result<Errors, Error> {
        match name {
            "strict" => Ok(Errors::Strict),
            "ignore" => Ok(Errors::Ignore),
            "replace" => Ok(Errors::Replace),
            "backslashreplace" => Ok(Errors::BackslashReplace),
            _ => Err(Error::new(
                ErrorKind::UnknownName,
                format!("unknown error handler name {}", repr(name)),
            )),
        }
    }
}

impl FromStr for Errors {
    type Err = Error;

    fn from_str(name: &str) -> Result<Errors, Error> {
        Errors::from_name(name)
    }
}

/// A text encoding chosen by its Python name.
///
/// # How close to Python
///
/// - `utf-8`, `utf-8-sig`, `latin-1`, `ascii` and `gbk` (with `cp936` and
///   `gb2312`) match CPython 3.11, including which bytes form one error and
///   the wording of the messages. For `gbk` this means CPython's table, not
///   WHATWG's: 0x80, GB18030 four-byte sequences, the GB18030 two-byte
///   additions (`A2E3` = `€`, ...) and the user-defined areas are errors, and
///   `tests/files_python_diff.rs` checks every two-byte code against
///   CPython. Use `gb18030` to accept them.
/// - Every other name is looked up among the WHATWG labels of `encoding_rs`
///   (`gb18030`, `big5`, `shift_jis`, `euc-jp`, `euc-kr`, `windows-1252`,
///   `koi8-r`, ...), and uses the WHATWG tables, which differ from Python's
///   codecs in places: `big5` includes HKSCS, `euc-kr` is UHC (`cp949`),
///   `gb18030` reads 0x80 as `€`, `windows-1252` maps 0x81. Errors in these
///   multi-byte codecs are reported on the lead byte only, as CPython's CJK
///   codecs do.
/// - Encodings that are not ASCII-compatible (`utf-16`, `iso-2022-jp`) are
///   refused: the line-oriented text layer relies on `\n` and `\r` being
///   single bytes that never occur inside a character.
/// - Error positions count from the start of the bytes or text given to one
///   decode/encode call; for files that is the start of the file (CPython
///   counts from the start of its 8 KiB read chunk, which is the same for
///   small files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Encoding {
    name: &'static str,
    engine: Engine,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Engine {
    Utf8,
    /// Bytes below the limit are the code points of the same value:
    /// `ascii` (0x80) and `latin-1` (0x100).
    Identity {
        limit: u32,
    },
    Gbk,
    Whatwg(&'static encoding_rs::Encoding),
}

/// UTF-8 (`"utf-8"`): the default, as `locale.getpreferredencoding(False)`
/// gives on the systems this crate targets.
pub const UTF_8: Encoding = Encoding {
    name: "utf-8",
    engine: Engine::Utf8,
};

const UTF_8_SIG: Encoding = Encoding {
    name: "utf-8-sig",
    engine: Engine::Utf8,
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where decoding stopped: `len` bad bytes at `start`, and why.
#[derive(Debug)]
struct Malformed {
    start: usize,
    len: usize,
    reason: &'static str,
}

impl Malformed {
    fn new(start: usize, len: usize, reason: &'static str) -> Malformed {
        Malformed { start, len, reason }
    }
}

/// Where encoding stopped: the bad characters are `input[start..end]`.
#[derive(Debug)]
struct Unencodable {
    start: usize,
    end: usize,
    reason: &'static str,
}

impl Encoding {
    /// Looks up a Python-style encoding name, ignoring case and treating
    /// `_`, `-` and spaces alike (`"UTF_8"`, `"utf8"`, `"Latin-1"`).
    pub fn from_name(name: &str) -> Result<Encoding, Error> {
        let key = name.trim().to_ascii_lowercase().replace(['_', ' '], "-");
        let identity = |name, limit| Encoding {
            name,
            engine: Engine::Identity { limit },
        };
        let gbk = Encoding {
            name: "gbk",
            engine: Engine::Gbk,
        };
        Ok(match key.as_str() {
            "utf-8" | "utf8" | "u8" | "utf" | "cp65001" => UTF_8,
            "utf-8-sig" | "utf8-sig" => UTF_8_SIG,
            // WHATWG maps these labels to windows-1252; Python means the
            // real ISO-8859-1 and 7-bit ASCII.
            "latin-1" | "latin1" | "latin" | "l1" | "iso-8859-1" | "iso8859-1" | "8859"
            | "cp819" => identity("latin-1", 0x100),
            "ascii" | "us-ascii" | "646" => identity("ascii", 0x80),
            "gbk" | "cp936" | "ms936" | "936" | "gb2312" => gbk,
            _ => {
                let found = encoding_rs::Encoding::for_label_no_replacement(key.as_bytes())
                    .or_else(|| {
                        encoding_rs::Encoding::for_label_no_replacement(
                            key.replace('-', "_").as_bytes(),
                        )
                    });
                match found {
                    Some(enc) if enc == encoding_rs::GBK => gbk,
                    Some(enc) if enc.is_ascii_compatible() && enc != encoding_rs::UTF_8 => {
                        Encoding {
                            name: python_name(enc),
                            engine: Engine::Whatwg(enc),
                        }
                    }
                    Some(enc) if enc == encoding_rs::UTF_8 => UTF_8,
                    _ => {
                        return Err(Error::new(
                            ErrorKind::UnknownName,
                            format!("unknown encoding: {name}"),
                        ))
                    }
                }
            }
        })
    }

    /// The canonical name (`"utf-8"`, `"gbk"`, `"latin-1"`, `"shift_jis"`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Whether a byte-order mark is written at the start of a stream and
    /// stripped when reading one (`utf-8-sig`). Plain `utf-8` keeps a BOM
    /// as the character `U+FEFF`, as Python does.
    pub fn uses_bom(&self) -> bool {
        *self == UTF_8_SIG
    }

    /// Decodes a whole byte string, like Python's `bytes.decode`. A leading
    /// BOM is dropped for `utf-8-sig`.
    pub fn decode(&self, bytes: &[u8], errors: Errors) -> Result<String, Error> {
        let mut out = String::with_capacity(bytes.len());
        let bytes = match bytes.strip_prefix(BOM) {
            Some(rest) if self.uses_bom() => rest,
            _ => bytes,
        };
        self.decode_into(bytes, errors, 0, &mut out)?;
        Ok(out)
    }

    /// Encodes a whole string, like Python's `str.encode`. `utf-8-sig`
    /// writes a BOM first.
    pub fn encode(&self, text: &str, errors: Errors) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(text.len());
        if self.uses_bom() {
            out.extend_from_slice(BOM);
        }
        self.encode_into(text, errors, &mut out)?;
        Ok(out)
    }

    /// The name CPython puts in codec error messages.
    fn codec_name(&self) -> &'static str {
        match self.engine {
            Engine::Whatwg(enc) if enc.is_single_byte() => "charmap",
            _ => self.name,
        }
    }

    /// Decodes `input` onto `out`, applying `errors` at each failure. This is
    /// the one driver every engine shares. `base` is the stream offset of
    /// `input[0]`, so that messages give positions in the whole stream.
    pub(crate) fn decode_into(
        &self,
        input: &[u8],
        errors: Errors,
        base: u64,
        out: &mut String,
    ) -> Result<(), Error> {
        let mut pos = 0;
        while let Some(bad) = self.decode_run(&input[pos..], out) {
            let (start, end) = (pos + bad.start, pos + bad.start + bad.len);
            match errors {
                Errors::Strict => {
                    let at = base + start as u64;
                    let what = match &input[start..end] {
                        [byte] => format!("byte 0x{byte:02x} in position {at}"),
                        _ => format!("bytes in position {at}-{}", at + bad.len as u64 - 1),
                    };
                    return Err(Error::new(
                        ErrorKind::Decode,
                        format!(
                            "'{}' codec can't decode {what}: {}",
                            self.codec_name(),
                            bad.reason
                        ),
                    ));
                }
                Errors::Ignore => {}
                Errors::Replace => out.push(char::REPLACEMENT_CHARACTER),
                Errors::BackslashReplace => {
                    for byte in &input[start..end] {
                        let _ = write!(out, "\\x{byte:02x}");
                    }
                }
            }
            pos = end;
        }
        Ok(())
    }

    /// Encodes `input` onto `out`, applying `errors` at each failure.
    /// Positions in messages count characters, as Python's do.
    pub(crate) fn encode_into(
        &self,
        input: &str,
        errors: Errors,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        let mut pos = 0;
        // Character index of byte offset `pos`, kept incrementally so that
        // many errors do not make this quadratic.
        let mut chars_before = 0;
        while let Some(bad) = self.encode_run(&input[pos..], out) {
            let (start, end) = (pos + bad.start, pos + bad.end);
            chars_before += input[pos..start].chars().count();
            let bad_chars = &input[start..end];
            match errors {
                Errors::Strict => {
                    let count = bad_chars.chars().count();
                    let what = match bad_chars.chars().next() {
                        Some(c) if count == 1 => {
                            format!("character '{}' in position {chars_before}", escape(c))
                        }
                        _ => format!(
                            "characters in position {chars_before}-{}",
                            chars_before + count - 1
                        ),
                    };
                    return Err(Error::new(
                        ErrorKind::Encode,
                        format!(
                            "'{}' codec can't encode {what}: {}",
                            self.codec_name(),
                            bad.reason
                        ),
                    ));
                }
                Errors::Ignore => {}
                Errors::Replace => out.extend(bad_chars.chars().map(|_| b'?')),
                // Every supported encoding is ASCII-compatible, so the ASCII
                // escape can be appended as raw bytes.
                Errors::BackslashReplace => {
                    for c in bad_chars.chars() {
                        out.extend_from_slice(escape(c).as_bytes());
                    }
                }
            }
            chars_before += bad_chars.chars().count();
            pos = end;
        }
        Ok(())
    }

    fn decode_run(&self, input: &[u8], out: &mut String) -> Option<Malformed> {
        match self.engine {
            Engine::Utf8 => decode_utf8(input, out),
            Engine::Identity { limit } => {
                let bad = input.iter().position(|&b| u32::from(b) >= limit);
                let good = &input[..bad.unwrap_or(input.len())];
                out.extend(good.iter().map(|&b| char::from(b)));
                bad.map(|i| Malformed::new(i, 1, ordinal_reason(limit)))
            }
            Engine::Gbk => gbk::decode_run(input, out),
            Engine::Whatwg(enc) => decode_whatwg(enc, input, out),
        }
    }

    fn encode_run(&self, input: &str, out: &mut Vec<u8>) -> Option<Unencodable> {
        match self.engine {
            Engine::Utf8 => {
                // A Rust `str` holds no lone surrogates, the only thing
                // Python's UTF-8 encoder rejects.
                out.extend_from_slice(input.as_bytes());
                None
            }
            Engine::Identity { limit } => {
                let fits = |c: char| (c as u32) < limit;
                let start = input.find(|c| !fits(c));
                for c in input[..start.unwrap_or(input.len())].chars() {
                    out.push(c as u8);
                }
                // Python reports a run of unencodable characters as one error.
                start.map(|start| Unencodable {
                    start,
                    end: input[start..].find(fits).map_or(input.len(), |n| start + n),
                    reason: ordinal_reason(limit),
                })
            }
            Engine::Gbk => {
                for (i, c) in input.char_indices() {
                    match gbk::encode_char(c) {
                        Some(bytes) => out.extend_from_slice(&bytes),
                        None => {
                            return Some(Unencodable {
                                start: i,
                                end: i + c.len_utf8(),
                                reason: "illegal multibyte sequence",
                            })
                        }
                    }
                }
                None
            }
            Engine::Whatwg(enc) => encode_whatwg(enc, input, out),
        }
    }
}

fn ordinal_reason(limit: u32) -> &'static str {
    if limit == 0x80 {
        "ordinal not in range(128)"
    } else {
        "ordinal not in range(256)"
    }
}

/// Python spells a character in an encode error as `\xNN`, `\uNNNN` or
/// `\UNNNNNNNN`; `backslashreplace` uses the same spelling.
fn escape(c: char) -> String {
    match c as u32 {
        n @ 0..=0xFF => format!("\\x{n:02x}"),
        n @ 0x100..=0xFFFF => format!("\\u{n:04x}"),
        n => format!("\\U{n:08x}"),
    }
}

fn decode_utf8(input: &[u8], out: &mut String) -> Option<Malformed> {
    let err = match std::str::from_utf8(input) {
        Ok(text) => {
            out.push_str(text);
            return None;
        }
        Err(err) => err,
    };
    let good = err.valid_up_to();
    // The prefix is valid by construction, so this borrows without change.
    out.push_str(&String::from_utf8_lossy(&input[..good]));
    // std and CPython both report the "maximal subpart" of a bad sequence,
    // so the spans agree; only the reason has to be worked out.
    Some(match err.error_len() {
        None => Malformed::new(good, input.len() - good, "unexpected end of data"),
        Some(len) => {
            let reason = match input[good] {
                0x80..=0xC1 | 0xF5..=0xFF => "invalid start byte",
                _ => "invalid continuation byte",
            };
            Malformed::new(good, len, reason)
        }
    })
}

fn decode_whatwg(
    enc: &'static encoding_rs::Encoding,
    input: &[u8],
    out: &mut String,
) -> Option<Malformed> {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut read = 0;
    loop {
        let room = decoder
            .max_utf8_buffer_length_without_replacement(input.len() - read)
            .unwrap_or(input.len() - read);
        out.reserve(room);
        let (result, n) = decoder.decode_to_string_without_replacement(&input[read..], out, true);
        read += n;
        match result {
            encoding_rs::DecoderResult::InputEmpty => return None,
            encoding_rs::DecoderResult::OutputFull => continue,
            encoding_rs::DecoderResult::Malformed(bad, after) => {
                let start = read - usize::from(bad) - usize::from(after);
                if enc.is_single_byte() {
                    return Some(Malformed::new(start, 1, "character maps to <undefined>"));
                }
                // CPython's CJK codecs report the lead byte alone and resume
                // at the next byte; the driver restarts a fresh decoder there.
                let reason = if start + 1 == input.len() {
                    "incomplete multibyte sequence"
                } else {
                    "illegal multibyte sequence"
                };
                return Some(Malformed::new(start, 1, reason));
            }
        }
    }
}

fn encode_whatwg(
    enc: &'static encoding_rs::Encoding,
    input: &str,
    out: &mut Vec<u8>,
) -> Option<Unencodable> {
    let mut encoder = enc.new_encoder();
    let mut read = 0;
    loop {
        let rest = input.len() - read;
        let room = encoder
            .max_buffer_length_from_utf8_without_replacement(rest)
            .unwrap_or(rest);
        out.reserve(room);
        let (result, n) =
            encoder.encode_from_utf8_to_vec_without_replacement(&input[read..], out, true);
        read += n;
        match result {
            encoding_rs::EncoderResult::InputEmpty => return None,
            encoding_rs::EncoderResult::OutputFull => continue,
            encoding_rs::EncoderResult::Unmappable(c) => {
                let start = read - c.len_utf8();
                if !enc.is_single_byte() {
                    return Some(Unencodable {
                        start,
                        end: read,
                        reason: "illegal multibyte sequence",
                    });
                }
                // Python's charmap codecs report a run of bad characters.
                let mappable = |c: char| !enc.encode(c.encode_utf8(&mut [0; 4])).2;
                let end = input[read..]
                    .find(mappable)
                    .map_or(input.len(), |i| read + i);
                return Some(Unencodable {
                    start,
                    end,
                    reason: "character maps to <undefined>",
                });
            }
        }
    }
}

/// CPython's codec names for the WHATWG encodings, used in messages.
fn python_name(enc: &'static encoding_rs::Encoding) -> &'static str {
    match enc.name() {
        "gb18030" => "gb18030",
        "Big5" => "big5",
        "Shift_JIS" => "shift_jis",
        "EUC-JP" => "euc_jp",
        "EUC-KR" => "euc_kr",
        other => other,
    }
}
