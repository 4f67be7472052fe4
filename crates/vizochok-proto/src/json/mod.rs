//! The JSON text of frames, read and written by hand.
//!
//! A pull reader and a writer small enough for a WebAssembly module, and
//! numbers converted exactly, with a seam for the rare ones
//! ([`FloatFallback`]). The frame codec (`frame::codec`) builds on these;
//! nothing here depends on serde.

mod numbers;
pub(crate) mod reader;
mod writer;

pub(crate) use numbers::write_u64;
pub use numbers::{install_float_fallback, FloatFallback};
pub use writer::Writer;

use reader::Field;

/// The end of the run of string bytes (read or written) from `from` on that need no attention
/// (no quote, backslash or control character), eight bytes at a time. In
/// each test the lowest flagged byte is exact (a borrow only flags bytes
/// above a true match), so the first special byte is found directly.
pub(crate) fn plain_run(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let v = u64::from_le_bytes(word);
        let special =
            v.wrapping_sub(ONES * 0x20) & !v & HIGH | zero_byte(v ^ (ONES * 0x22)) | zero_byte(v ^ (ONES * 0x5c));
        if special != 0 {
            return i + (special.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i
}

/// Why a text was refused, and where. Boxed: every read returns a
/// `Result` with this error, and a pointer-sized one keeps all of them small
/// (a refused frame is rare, its allocation is nothing).
#[derive(Debug, Clone)]
pub(crate) struct Error(Box<Details>);

impl Error {
    pub(crate) fn new(details: Details) -> Error {
        Error(Box::new(details))
    }
}

impl std::ops::Deref for Error {
    type Target = Details;

    fn deref(&self) -> &Details {
        &self.0
    }
}

/// What an [`Error`] says.
#[derive(Debug, Clone)]
pub(crate) struct Details {
    /// Byte offset of what is wrong.
    pub at: usize,
    /// Where a bracket count over the rest of the text can start: a byte
    /// outside any string, `depth` levels deep.
    pub resume: usize,
    pub depth: usize,
    pub problem: Problem,
}

/// What was wrong.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Problem {
    /// Nested deeper than the limit.
    TooDeep,
    /// Something else was there (`what` names the thing that belongs).
    Expected(&'static str),
    ControlCharacter,
    UnclosedString,
    BadEscape,
    LoneSurrogate,
    /// A number beyond the largest `f64`.
    OutOfRange,
    /// A number needs the float fallback and none is installed.
    NoFloatFallback,
    /// A field holds the wrong kind of value.
    Mistyped {
        field: Field,
        expected: &'static str,
    },
    Missing(Field),
    Duplicate(Field),
    NotAnObject,
    NoType,
    TypeNotAString,
}

impl Details {
    /// The developer-facing text: what was wrong, and the byte offset where.
    pub fn describe(&self) -> String {
        let mut text = String::with_capacity(80);
        let field = |text: &mut String, f: &Field| {
            if f.item {
                text.push_str("an item of ");
            }
            text.push_str("field `");
            text.push_str(f.name);
            text.push_str("` of `");
            text.push_str(f.of);
            text.push('`');
        };
        match &self.problem {
            Problem::TooDeep => text.push_str("nesting too deep"),
            Problem::Expected(what) => {
                text.push_str("expected ");
                text.push_str(what);
            }
            Problem::ControlCharacter => text.push_str("control character (U+0000 to U+001F) in a string"),
            Problem::UnclosedString => text.push_str("string not closed before the end of the text"),
            Problem::BadEscape => text.push_str("invalid escape in a string"),
            Problem::LoneSurrogate => text.push_str("\\u escape of a lone UTF-16 surrogate in a string"),
            Problem::OutOfRange => text.push_str("number beyond the range of a 64-bit float"),
            Problem::NoFloatFallback => {
                text.push_str("number outside the exact fast path, and no float conversion is installed")
            }
            Problem::Mistyped { field: f, expected } => {
                field(&mut text, f);
                text.push_str(" must be ");
                text.push_str(expected);
            }
            Problem::Missing(f) => {
                text.push_str("missing ");
                field(&mut text, f);
            }
            Problem::Duplicate(f) => {
                text.push_str("duplicate ");
                field(&mut text, f);
            }
            Problem::NotAnObject => text.push_str("a frame must be a JSON object"),
            Problem::NoType => text.push_str("missing field `type`"),
            Problem::TypeNotAString => text.push_str("field `type` must be a string"),
        }
        text.push_str(", at byte ");
        numbers::write_u64(self.at as u64, &mut text);
        text
    }
}
