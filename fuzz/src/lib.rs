//! The bodies of the fuzz targets, as plain functions so that a stable
//! `cargo test` in this workspace can replay the committed corpus too.

pub mod engine;
pub mod gen;
pub mod parse;
pub mod roundtrip;
pub mod session;

/// Whether two JSON values are equal, where a float may come back a few
/// ulps off (relative error at most 1e-15, or 4 ulps for subnormals): serde_json without its
/// `float_roundtrip` feature (the core's choice, for size) parses floats
/// with 16-17 significant digits, or far from 1 (`9.9999999e113`), inexactly.
/// A float of at most 15 significant digits between 1e-7 and 1e15, which
/// covers every price and quantity, must come back exactly.
pub fn same_within_ulp(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            _ if x == y => true,
            (Some(x), Some(y)) if x.is_finite() && y.is_finite() => {
                let money = significant_digits(x) <= 15 && (1e-7..=1e15).contains(&x.abs());
                let ulps = if x.signum() == y.signum() { x.to_bits().abs_diff(y.to_bits()) } else { u64::MAX };
                !money && ((x - y).abs() <= 1e-15 * x.abs().max(y.abs()) || ulps <= 4)
            }
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_within_ulp(x, y)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same_within_ulp(v, w)))
        }
        _ => a == b,
    }
}

/// Significant digits of the shortest decimal that reads back as `x`.
fn significant_digits(x: f64) -> usize {
    let text = format!("{x:e}");
    let mantissa = text.split('e').next().unwrap_or("");
    mantissa.chars().filter(char::is_ascii_digit).count()
}

/// Asserts that a frame survived a round trip (floats within one ulp).
pub fn assert_same<T: serde::Serialize + std::fmt::Debug>(before: &T, after: &T, text: &str) {
    let (a, b) = (serde_json::to_value(before), serde_json::to_value(after));
    match (a, b) {
        (Ok(a), Ok(b)) => assert!(
            same_within_ulp(&a, &b),
            "frame changed in a round trip
{text}
{a}
{b}"
        ),
        _ => panic!("a frame does not serialize: {before:?}"),
    }
}

/// Reads decisions from the fuzzer's bytes; past the end every read is zero,
/// so any input is a complete program.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { data }
    }

    /// Whether every byte was used.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | (u64::from(self.u32()) << 32)
    }

    /// A coin.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// One of `items` (which must not be empty).
    pub fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[usize::from(self.u8()) % items.len()].clone()
    }

    /// Up to `max` raw bytes.
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let len = (usize::from(self.u8()) % (max + 1)).min(self.data.len());
        let (taken, rest) = self.data.split_at(len);
        self.data = rest;
        taken
    }

    /// A string of up to `max` bytes, any Unicode.
    pub fn string(&mut self, max: usize) -> String {
        String::from_utf8_lossy(self.bytes(max)).into_owned()
    }

    /// Any finite f64, often a plain amount.
    pub fn f64(&mut self) -> f64 {
        match self.u8() % 4 {
            0 => f64::from(self.u16()) / 100.0,
            1 => f64::from(self.u8()),
            _ => {
                let x = f64::from_bits(self.u64());
                if x.is_finite() {
                    x
                } else {
                    0.5
                }
            }
        }
    }
}
