//! The bodies of the fuzz targets, as plain functions so that a stable
//! `cargo test` in this workspace can replay the committed corpus too.

pub mod diff;
pub mod engine;
pub mod gen;
pub mod parse;
pub mod roundtrip;
pub mod session;

/// Asserts that a frame survived a round trip exactly: equal, and equal in
/// `Debug`, which prints every float exactly and tells `-0.0` from `0.0`.
pub fn assert_same<T: PartialEq + std::fmt::Debug>(before: &T, after: &T, text: &str) {
    assert!(
        before == after && format!("{before:?}") == format!("{after:?}"),
        "frame changed in a round trip\n{text}\n{before:?}\n{after:?}"
    );
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
