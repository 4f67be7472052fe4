//! The JSON text of frames, read and written by hand.
//!
//! A pull [`reader`] and a [`writer`] small enough for a WebAssembly
//! module, and [`numbers`] converted exactly with a seam for the rare ones
//! ([`FloatFallback`]). The frame codec (`frame::codec`) builds on these;
//! nothing here depends on serde.

mod numbers;
pub(crate) mod reader;
mod writer;

pub use numbers::{install_float_fallback, FloatFallback};
pub use writer::Writer;

use reader::Field;

/// Why a text was refused, and where.
#[derive(Debug, Clone)]
pub(crate) struct Error {
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

impl Error {
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
