//! Python's `gbk` codec, built on the WHATWG GBK table of `encoding_rs`.
//!
//! WHATWG GBK is really GB18030: it reads the single byte 0x80 as `€`,
//! accepts four-byte sequences, and maps every two-byte code, including the
//! user-defined areas (to the Private Use Area) and the GB18030 additions.
//! CPython's `gbk` (alias `cp936`) rejects all of those. This module keeps
//! CPython's behaviour: the table lookups come from `encoding_rs`, and
//! [`python_has_pair`] removes what CPython does not have. The differential
//! test `tests/files_python_diff.rs` checks the result against CPython over
//! the whole two-byte space.
//!
//! CPython's error spans are kept too: every byte at or above 0x80 starts a
//! pair; if the pair is not in the table only the lead byte is reported and
//! decoding restarts at the trail byte.

use super::Malformed;

const ILLEGAL: &str = "illegal multibyte sequence";
const INCOMPLETE: &str = "incomplete multibyte sequence";

/// Two-byte codes WHATWG maps to ordinary characters that CPython's GBK
/// table lacks: the GB18030 additions (`€` at A2E3, vertical forms, ...).
const GB18030_ONLY: &[(u16, u16)] = &[
    (0xA2E3, 0xA2E3),
    (0xA3A0, 0xA3A0),
    (0xA6D9, 0xA6DF),
    (0xA6EC, 0xA6ED),
    (0xA6F3, 0xA6F3),
    (0xA8BC, 0xA8BC),
    (0xA8BF, 0xA8BF),
    (0xA989, 0xA995),
    (0xFE50, 0xFEA0),
];

/// Whether CPython's `gbk` maps the pair `code` to `c`, given that WHATWG
/// maps it to `c`.
fn python_has_pair(code: u16, c: char) -> bool {
    let private_use = ('\u{E000}'..='\u{F8FF}').contains(&c);
    !private_use
        && !GB18030_ONLY
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&code))
}

/// Decodes one pair, or `None` where CPython's `gbk` has no character.
fn decode_pair(lead: u8, trail: u8) -> Option<char> {
    let valid_trail = matches!(trail, 0x40..=0x7E | 0x80..=0xFE);
    if !(0x81..=0xFE).contains(&lead) || !valid_trail {
        return None;
    }
    let pair = [lead, trail];
    let text = encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(&pair)?;
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if python_has_pair(u16::from_be_bytes(pair), c) => Some(c),
        _ => None,
    }
}

/// Decodes `input` into `out` up to the first byte CPython would reject.
pub(super) fn decode_run(input: &[u8], out: &mut String) -> Option<Malformed> {
    let mut i = 0;
    while i < input.len() {
        let lead = input[i];
        if lead < 0x80 {
            out.push(char::from(lead));
            i += 1;
            continue;
        }
        let Some(&trail) = input.get(i + 1) else {
            return Some(Malformed::new(i, 1, INCOMPLETE));
        };
        match decode_pair(lead, trail) {
            Some(c) => out.push(c),
            None => return Some(Malformed::new(i, 1, ILLEGAL)),
        }
        i += 2;
    }
    None
}

/// Encodes one character, or `None` where CPython's `gbk` cannot.
pub(super) fn encode_char(c: char) -> Option<Vec<u8>> {
    if c.is_ascii() {
        return Some(vec![c as u8]);
    }
    let mut buf = [0; 4];
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(c.encode_utf8(&mut buf));
    // WHATWG's GBK encoder writes `€` as the single byte 0x80 and private-use
    // characters into the user-defined areas; only real pairs survive here.
    match *bytes {
        [lead, trail] if !unmappable && decode_pair(lead, trail) == Some(c) => {
            Some(bytes.into_owned())
        }
        _ => None,
    }
}
