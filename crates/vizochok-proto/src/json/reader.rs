//! A pull reader over JSON text: one pass, no intermediate values.
//!
//! The caller asks for what it expects next (an object's keys, a string, a
//! number...) and the reader checks the text as it goes: the full JSON
//! grammar, string escapes and surrogate pairs, numbers that fit an `f64`,
//! and the nesting depth, which is refused the moment it is exceeded. Values
//! nobody asked for are skipped with the same checks. Strings without
//! escapes are borrowed from the text.

use std::borrow::Cow;

use super::numbers::{self, Decimal, FloatError};
use super::{plain_run, Details, Error, Problem};

/// The reader's position in a text.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    max_depth: usize,
}

/// An object being read: whether the next key is the first.
#[derive(Debug)]
pub(crate) struct Object {
    first: bool,
}

/// An array being read: whether the next item is the first.
#[derive(Debug)]
pub(crate) struct Array {
    first: bool,
}

/// Where a value belongs, for error texts: the field and what holds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Field {
    /// What holds the field (`delta`, `product`).
    pub of: &'static str,
    /// The field's name.
    pub name: &'static str,
    /// The value is an item of the field's list.
    pub item: bool,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `text` that refuses nesting deeper than `max_depth`.
    pub fn new(text: &'a str, max_depth: usize) -> Reader<'a> {
        Reader { text, pos: 0, depth: 0, max_depth }
    }

    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// An error at the current position.
    pub fn error(&self, problem: Problem) -> Error {
        self.error_at(self.pos, problem)
    }

    fn error_at(&self, at: usize, problem: Problem) -> Error {
        Error::new(Details { at, resume: at, depth: self.depth, problem })
    }

    /// The next byte that is not white space (0 at the end), not consumed.
    pub fn peek(&mut self) -> u8 {
        while let Some(&b) = self.bytes().get(self.pos) {
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return b;
            }
            self.pos += 1;
        }
        0
    }

    fn expect(&mut self, byte: u8, problem: Problem) -> Result<(), Error> {
        if self.peek() == byte {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.error(problem))
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.max_depth {
            return Err(self.error(Problem::TooDeep));
        }
        self.pos += 1;
        Ok(())
    }

    /// Starts an object; `field` names it in the error if something else is there.
    pub fn object(&mut self, field: Field) -> Result<Object, Error> {
        if self.peek() != b'{' {
            return Err(self.mistyped(field, "an object"));
        }
        self.enter()?;
        Ok(Object { first: true })
    }

    /// The next key of `object` (its `:` consumed), or `None` after its `}`.
    pub fn key(&mut self, object: &mut Object) -> Result<Option<Cow<'a, str>>, Error> {
        let b = self.peek();
        if b == b'}' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(None);
        }
        if !object.first {
            if b != b',' {
                return Err(self.error(Problem::Expected("',' or '}' after a value in an object")));
            }
            self.pos += 1;
            if self.peek() != b'"' {
                return Err(self.error(Problem::Expected("a key after ',' in an object")));
            }
        } else if b != b'"' {
            return Err(self.error(Problem::Expected("a key or '}' in an object")));
        }
        object.first = false;
        let key = self.string_token()?;
        self.expect(b':', Problem::Expected("':' after a key"))?;
        Ok(Some(key))
    }

    /// Starts an array; `field` names it in the error if something else is there.
    pub fn array(&mut self, field: Field) -> Result<Array, Error> {
        if self.peek() != b'[' {
            return Err(self.mistyped(field, "an array"));
        }
        self.enter()?;
        Ok(Array { first: true })
    }

    /// Whether `array` has another item (positioned at it), or ended at its `]`.
    pub fn item(&mut self, array: &mut Array) -> Result<bool, Error> {
        let b = self.peek();
        if b == b']' {
            self.pos += 1;
            self.depth -= 1;
            return Ok(false);
        }
        if !array.first {
            if b != b',' {
                return Err(self.error(Problem::Expected("',' or ']' after an item of an array")));
            }
            self.pos += 1;
            if self.peek() == b']' {
                return Err(self.error(Problem::Expected("an item after ',' in an array")));
            }
        }
        array.first = false;
        Ok(true)
    }

    /// A string value, borrowed from the text when it has no escapes.
    pub fn str(&mut self, field: Field) -> Result<Cow<'a, str>, Error> {
        if self.peek() != b'"' {
            return Err(self.mistyped(field, "a string"));
        }
        self.string_token()
    }

    /// A string value, owned.
    pub fn string(&mut self, field: Field) -> Result<String, Error> {
        self.str(field).map(Cow::into_owned)
    }

    /// `true` or `false`.
    pub fn bool(&mut self, field: Field) -> Result<bool, Error> {
        match self.peek() {
            b't' => self.literal("true").map(|()| true),
            b'f' => self.literal("false").map(|()| false),
            _ => Err(self.mistyped(field, "true or false")),
        }
    }

    /// Consumes a `null` if one is next.
    pub fn null(&mut self) -> Result<bool, Error> {
        if self.peek() == b'n' {
            self.literal("null")?;
            return Ok(true);
        }
        Ok(false)
    }

    /// An unsigned integer literal (no fraction, exponent or sign).
    pub fn u64(&mut self, field: Field) -> Result<u64, Error> {
        let start = self.pos_of_value();
        let (decimal, _) = self.number(field, "an unsigned integer")?;
        decimal.as_u64().ok_or_else(|| self.mistyped_at(start, field, "an unsigned integer"))
    }

    /// Any number, as the nearest `f64`.
    pub fn f64(&mut self, field: Field) -> Result<f64, Error> {
        let start = self.pos_of_value();
        let (decimal, token) = self.number(field, "a number")?;
        numbers::to_f64(&decimal, token).map_err(|e| self.float_error(start, e))
    }

    fn pos_of_value(&mut self) -> usize {
        self.peek();
        self.pos
    }

    /// Skips one value of any kind, checking it all the same.
    pub fn skip(&mut self) -> Result<(), Error> {
        const ANY: Field = Field { of: "", name: "", item: false };
        match self.peek() {
            b'{' => {
                let mut object = self.object(ANY)?;
                while self.key(&mut object)?.is_some() {
                    self.skip()?;
                }
            }
            b'[' => {
                let mut array = self.array(ANY)?;
                while self.item(&mut array)? {
                    self.skip()?;
                }
            }
            b'"' => {
                self.string_token()?;
            }
            b't' => self.literal("true")?,
            b'f' => self.literal("false")?,
            b'n' => self.literal("null")?,
            _ => {
                let start = self.pos;
                let (decimal, token) = self.number(ANY, "a value")?;
                if !decimal.integer || decimal.overflow {
                    numbers::to_f64(&decimal, token).map_err(|e| self.float_error(start, e))?;
                }
            }
        }
        Ok(())
    }

    /// Checks that only white space is left.
    pub fn end(&mut self) -> Result<(), Error> {
        if self.peek() != 0 || self.pos < self.text.len() {
            return Err(self.error(Problem::Expected("the end of the text after the frame")));
        }
        Ok(())
    }

    /// The position of the next value (after white space), for messages.
    pub fn position(&mut self) -> usize {
        self.pos_of_value()
    }

    /// A field's value is of the wrong kind.
    pub fn mistyped(&mut self, field: Field, expected: &'static str) -> Error {
        let at = self.pos_of_value();
        self.mistyped_at(at, field, expected)
    }

    /// A field's value that started at `at` is of the wrong kind.
    pub fn mistyped_at(&self, at: usize, field: Field, expected: &'static str) -> Error {
        if field.name.is_empty() {
            return self.error_at(at, Problem::Expected("a value"));
        }
        self.error_at(at, Problem::Mistyped { field, expected })
    }

    fn float_error(&self, at: usize, e: FloatError) -> Error {
        let problem = match e {
            FloatError::OutOfRange => Problem::OutOfRange,
            FloatError::NoFallback => Problem::NoFloatFallback,
        };
        self.error_at(at, problem)
    }

    fn literal(&mut self, word: &'static str) -> Result<(), Error> {
        let end = self.pos + word.len();
        if self.bytes().get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(())
        } else {
            Err(self.error(Problem::Expected("a value (a literal is misspelled)")))
        }
    }

    /// A number token; `expected` names it when something else is there.
    fn number(&mut self, field: Field, expected: &'static str) -> Result<(Decimal, &'a str), Error> {
        let start = self.pos_of_value();
        if !matches!(self.bytes().get(start), Some(b'-' | b'0'..=b'9')) {
            return Err(self.mistyped_at(start, field, expected));
        }
        let rest = self.bytes().get(start..).unwrap_or_default();
        let (decimal, len) =
            numbers::scan(rest).map_err(|at| self.error_at(start + at, Problem::Expected("a digit in a number")))?;
        self.pos = start + len;
        Ok((decimal, self.text.get(start..self.pos).unwrap_or_default()))
    }

    /// The string at the current position (its opening quote).
    fn string_token(&mut self) -> Result<Cow<'a, str>, Error> {
        let open = self.pos;
        let start = open + 1;
        let bytes = self.bytes();
        let mut i = plain_run(bytes, start);
        loop {
            match bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Cow::Borrowed(self.text.get(start..i).unwrap_or_default()));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(self.string_error(open, i, Problem::ControlCharacter)),
                Some(_) => i += 1,
                None => return Err(self.string_error(open, i, Problem::UnclosedString)),
            }
        }
        let mut owned = String::with_capacity(i - start + 16);
        owned.push_str(self.text.get(start..i).unwrap_or_default());
        let mut run = i;
        loop {
            match bytes.get(i) {
                Some(b'"') => {
                    owned.push_str(self.text.get(run..i).unwrap_or_default());
                    self.pos = i + 1;
                    return Ok(Cow::Owned(owned));
                }
                Some(b'\\') => {
                    owned.push_str(self.text.get(run..i).unwrap_or_default());
                    i = self.escape(open, i, &mut owned)?;
                    run = i;
                }
                Some(0..=0x1f) => return Err(self.string_error(open, i, Problem::ControlCharacter)),
                Some(_) => i += 1,
                None => return Err(self.string_error(open, i, Problem::UnclosedString)),
            }
        }
    }

    /// Decodes the escape at `i` (its backslash) into `out`; returns the position after it.
    fn escape(&self, open: usize, i: usize, out: &mut String) -> Result<usize, Error> {
        let bad = |at| self.string_error(open, at, Problem::BadEscape);
        let c = match self.bytes().get(i + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let unit = self.hex4(i + 2).ok_or_else(|| bad(i))?;
                let (c, next) = match unit {
                    0xd800..=0xdbff => {
                        let low = match self.bytes().get(i + 6..i + 8) {
                            Some(b"\\u") => self.hex4(i + 8).ok_or_else(|| bad(i + 6))?,
                            _ => return Err(self.string_error(open, i, Problem::LoneSurrogate)),
                        };
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(self.string_error(open, i, Problem::LoneSurrogate));
                        }
                        (0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00), i + 12)
                    }
                    0xdc00..=0xdfff => return Err(self.string_error(open, i, Problem::LoneSurrogate)),
                    _ => (unit, i + 6),
                };
                out.push(char::from_u32(c).ok_or_else(|| bad(i))?);
                return Ok(next);
            }
            _ => return Err(bad(i)),
        };
        out.push(c);
        Ok(i + 2)
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.bytes().get(at..at + 4)?;
        digits.iter().try_fold(0u32, |acc, &b| Some(acc * 16 + char::from(b).to_digit(16)?))
    }

    /// An error inside the string opened at `open`: the depth scan resumes
    /// at its quote, where it knows it is outside any string.
    fn string_error(&self, open: usize, at: usize, problem: Problem) -> Error {
        Error::new(Details { at, resume: open, depth: self.depth, problem })
    }
}

/// Whether `bytes` from `from` on, starting `depth` levels deep outside any
/// string, nest deeper than `max`: the same bracket count as a scan of the
/// whole text before parsing, which is the rule even for text that is not
/// JSON (so a malformed text can still be too deep).
pub(crate) fn nests_deeper(bytes: &[u8], from: usize, mut depth: usize, max: usize) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes.get(from..).unwrap_or_default() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}
