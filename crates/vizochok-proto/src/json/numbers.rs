//! Numbers between JSON text and `u64` / `f64`.
//!
//! The numbers frames really carry (integers, prices and quantities with a
//! few decimals) are converted here exactly, with one IEEE operation on
//! exact operands (Clinger's fast path) and no tables beyond 23 powers of
//! ten. Every other number goes through one seam, [`FloatFallback`]: std's
//! conversions by default (feature `std-floats`), or whatever the host
//! installs with [`install_float_fallback`] (a browser binding can hand them
//! to JavaScript's `Number.parseFloat` / `String(x)` and leave std's
//! decimal tables out of the WebAssembly module).

use std::sync::OnceLock;

/// Exact powers of ten as `f64` (10^22 is the largest one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];
/// Every integer up to 2^53 is exact in an `f64`.
const EXACT_INT: f64 = 9_007_199_254_740_992.0;
/// 2^64: every integral `f64` below it is a `u64`.
const U64_RANGE: f64 = 18_446_744_073_709_551_616.0;

/// How the codec converts the numbers outside its exact fast path.
///
/// Both functions are plain `fn`s so that a host can supply them without
/// any state. They must be exact: `parse` gets a token that already matches
/// the JSON number grammar and returns the nearest `f64` (correctly
/// rounded, as `str::parse::<f64>` and JavaScript's `Number.parseFloat` do;
/// a result that is not finite makes the frame malformed), and `write`
/// appends, for a finite positive `x` (the codec writes the sign), a JSON
/// number that reads back as exactly `x`, shortest preferred (JavaScript's
/// `String(x)` qualifies).
#[derive(Debug, Clone, Copy)]
pub struct FloatFallback {
    /// Reads a JSON number token as the nearest `f64`.
    pub parse: fn(&str) -> Option<f64>,
    /// Appends a JSON number that reads back as exactly the given finite `f64`.
    pub write: fn(f64, &mut String),
}

static INSTALLED: OnceLock<FloatFallback> = OnceLock::new();

/// Installs the host's conversions for the numbers outside the fast path,
/// for the whole process. Returns `false` (and changes nothing) if a
/// fallback was installed before.
///
/// Without the `std-floats` feature, a host must install one before the
/// first frame; until then such numbers make a frame malformed when read and
/// are written as `null`.
pub fn install_float_fallback(fallback: FloatFallback) -> bool {
    INSTALLED.set(fallback).is_ok()
}

/// The installed fallback, else std's (with `std-floats`), else none.
pub(crate) fn fallback() -> Option<&'static FloatFallback> {
    INSTALLED.get().or(STD)
}

#[cfg(feature = "std-floats")]
const STD: Option<&FloatFallback> = Some(&FloatFallback { parse: std_parse, write: std_write });
#[cfg(not(feature = "std-floats"))]
const STD: Option<&FloatFallback> = None;

#[cfg(feature = "std-floats")]
fn std_parse(token: &str) -> Option<f64> {
    token.parse().ok()
}

#[cfg(feature = "std-floats")]
fn std_write(x: f64, out: &mut String) {
    use std::fmt::Write;
    // `Debug` is the shortest text that reads back exactly, switching to an
    // exponent far from 1 (`1e300`, `5e-324`): valid JSON either way.
    let _ = write!(out, "{x:?}");
}

/// A JSON number token, scanned: its value is `mantissa × 10^exponent`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decimal {
    pub negative: bool,
    /// The significant digits, trailing zeros moved into `exponent`.
    pub mantissa: u64,
    pub exponent: i64,
    /// Digits in `mantissa` (leading and trailing zeros not counted).
    pub digits: u32,
    /// More significant digits than a `u64` holds.
    pub overflow: bool,
    /// No fraction and no exponent in the text.
    pub integer: bool,
}

/// Why a token is not a JSON number, with the offset of the offending byte.
pub(crate) type Invalid = usize;

/// Scans the JSON number at the start of `bytes`; returns it and its length.
pub(crate) fn scan(bytes: &[u8]) -> Result<(Decimal, usize), Invalid> {
    let mut d = Decimal { negative: false, mantissa: 0, exponent: 0, digits: 0, overflow: false, integer: true };
    let mut i = 0;
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    if at(i) == b'-' {
        d.negative = true;
        i += 1;
    }
    // Zeros seen after the last nonzero digit, not yet multiplied in.
    let mut zeros: u32 = 0;
    let mut digit = |d: &mut Decimal, b: u8| {
        if b == b'0' {
            if d.digits > 0 {
                zeros += 1;
            }
            return;
        }
        for _ in 0..zeros {
            push_digit(d, 0);
        }
        zeros = 0;
        push_digit(d, b - b'0');
    };
    match at(i) {
        b'0' => i += 1,
        b'1'..=b'9' => {
            while at(i).is_ascii_digit() {
                digit(&mut d, at(i));
                i += 1;
            }
        }
        _ => return Err(i),
    }
    let mut fraction: i64 = 0;
    if at(i) == b'.' {
        d.integer = false;
        i += 1;
        if !at(i).is_ascii_digit() {
            return Err(i);
        }
        while at(i).is_ascii_digit() {
            digit(&mut d, at(i));
            fraction += 1;
            i += 1;
        }
    }
    let mut exponent: i64 = 0;
    if matches!(at(i), b'e' | b'E') {
        d.integer = false;
        i += 1;
        let negative = match at(i) {
            b'-' => {
                i += 1;
                true
            }
            b'+' => {
                i += 1;
                false
            }
            _ => false,
        };
        if !at(i).is_ascii_digit() {
            return Err(i);
        }
        while at(i).is_ascii_digit() {
            // Saturates far beyond any finite f64; the fallback sees the text.
            exponent = (exponent * 10 + i64::from(at(i) - b'0')).min(1 << 40);
            i += 1;
        }
        if negative {
            exponent = -exponent;
        }
    }
    d.exponent = i64::from(zeros) - fraction + exponent;
    if d.digits == 0 {
        d.exponent = 0;
    }
    Ok((d, i))
}

fn push_digit(d: &mut Decimal, digit: u8) {
    /// Up to here, ×10 plus a digit cannot overflow, so no checked
    /// multiplication (a 128-bit one in WebAssembly) for the usual numbers.
    const UNCHECKED: u64 = (u64::MAX - 9) / 10;
    d.digits += 1;
    if d.overflow {
        return;
    }
    if d.mantissa <= UNCHECKED {
        d.mantissa = d.mantissa * 10 + u64::from(digit);
        return;
    }
    match d.mantissa.checked_mul(10).and_then(|m| m.checked_add(u64::from(digit))) {
        Some(m) => d.mantissa = m,
        None => d.overflow = true,
    }
}

impl Decimal {
    /// The value as a `u64`, if the text is a non-negative integer literal
    /// that fits (`1.0`, `1e2` and `-0` are floats, as in serde_json).
    pub fn as_u64(&self) -> Option<u64> {
        if !self.integer || self.negative || self.overflow {
            return None;
        }
        self.as_u64_magnitude()
    }

    /// The value as an `f64`, if the exact fast path covers it.
    pub fn fast_f64(&self) -> Option<f64> {
        let magnitude = if self.mantissa == 0 && !self.overflow {
            Some(0.0)
        } else if self.overflow {
            None
        } else if self.mantissa <= 1 << 53 {
            let m = self.mantissa as f64;
            match self.exponent {
                e @ 0..=22 => Some(m * pow10(e)),
                e @ -22..=-1 => Some(m / pow10(-e)),
                // 10^(e-22) × mantissa still exact: then one multiplication by 10^22.
                e @ 23..=37 => {
                    let m = self.mantissa.checked_mul(10u64.pow((e - 22) as u32)).filter(|m| *m <= 1 << 53);
                    m.map(|m| m as f64 * 1e22)
                }
                _ => None,
            }
        } else {
            // A large integer: `as` rounds to nearest, ties to even.
            self.as_u64_magnitude().map(|m| m as f64)
        };
        magnitude.map(|m| if self.negative { -m } else { m })
    }

    /// The power of ten of the leading digit (`1e3` and `1234` are 3).
    fn magnitude(&self) -> i64 {
        i64::from(self.digits) - 1 + self.exponent
    }

    fn as_u64_magnitude(&self) -> Option<u64> {
        if self.exponent == 0 {
            return Some(self.mantissa);
        }
        let scale = u32::try_from(self.exponent).ok()?;
        self.mantissa.checked_mul(10u64.checked_pow(scale)?)
    }
}

fn pow10(e: i64) -> f64 {
    POW10.get(e as usize).copied().unwrap_or(f64::INFINITY)
}

/// Why a number could not become a finite `f64`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FloatError {
    /// Its magnitude is beyond the largest `f64`.
    OutOfRange,
    /// It needs the fallback and none is installed.
    NoFallback,
}

/// The `f64` of a scanned token (`token` is its text).
pub(crate) fn to_f64(decimal: &Decimal, token: &str) -> Result<f64, FloatError> {
    let value = match decimal.fast_f64() {
        Some(x) => x,
        // Far out of range either way: no conversion needed to tell.
        None if decimal.magnitude() > 308 => return Err(FloatError::OutOfRange),
        None if decimal.magnitude() < -324 => {
            if decimal.negative {
                -0.0
            } else {
                0.0
            }
        }
        None => (fallback().ok_or(FloatError::NoFallback)?.parse)(token).ok_or(FloatError::OutOfRange)?,
    };
    if value.is_finite() {
        Ok(value)
    } else {
        Err(FloatError::OutOfRange)
    }
}

/// The decimal digits of `n` (ASCII), written into `buffer`.
fn digits(mut n: u64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut start = buffer.len();
    loop {
        start -= 1;
        buffer[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buffer[start..]
}

/// Appends ASCII bytes (char by char: no UTF-8 check, whose code the
/// browser's module would carry for this alone).
fn push_ascii(out: &mut String, ascii: &[u8]) {
    for &b in ascii {
        out.push(char::from(b));
    }
}

/// Appends the decimal digits of `n`.
pub(crate) fn write_u64(n: u64, out: &mut String) {
    push_ascii(out, digits(n, &mut [0; 20]));
}

/// Appends `x` as a JSON number that reads back as exactly `x`; `null` when
/// it is not finite (as serde_json writes it).
pub(crate) fn write_f64(x: f64, out: &mut String) {
    if !x.is_finite() {
        out.push_str("null");
        return;
    }
    if x.is_sign_negative() {
        out.push('-');
    }
    let magnitude = x.abs();
    // Integers of a u64's range as digits, which the fast path reads back.
    if magnitude < U64_RANGE && magnitude.trunc() == magnitude {
        write_u64(magnitude as u64, out);
        out.push_str(".0");
        return;
    }
    // The fewest decimals d for which the integer r = x·10^d reads back as x:
    // r / 10^d is then the correctly rounded value of that decimal text.
    for (places, &scale) in POW10.iter().enumerate().skip(1).take(16) {
        let scaled = magnitude * scale;
        if scaled >= EXACT_INT {
            break;
        }
        let digits = scaled.round_ties_even();
        if digits / scale == magnitude {
            write_fixed(digits as u64, places, out);
            return;
        }
    }
    match fallback() {
        Some(f) => (f.write)(magnitude, out),
        None => {
            if x.is_sign_negative() {
                out.pop();
            }
            out.push_str("null");
        }
    }
}

/// Appends `scaled / 10^places` in plain decimal notation.
fn write_fixed(scaled: u64, places: usize, out: &mut String) {
    let mut buffer = [0; 20];
    let text = digits(scaled, &mut buffer);
    if text.len() <= places {
        out.push_str("0.");
        for _ in text.len()..places {
            out.push('0');
        }
        push_ascii(out, text);
    } else {
        let (whole, fraction) = text.split_at(text.len() - places);
        push_ascii(out, whole);
        out.push('.');
        push_ascii(out, fraction);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "std-floats")]
    fn parse(text: &str) -> Option<f64> {
        let (d, len) = scan(text.as_bytes()).ok()?;
        assert_eq!(len, text.len(), "{text}");
        to_f64(&d, text).ok()
    }

    fn written(x: f64) -> String {
        let mut out = String::new();
        write_f64(x, &mut out);
        out
    }

    /// A small deterministic generator (xorshift), so the sweep is repeatable.
    #[cfg(feature = "std-floats")]
    struct Bits(u64);
    #[cfg(feature = "std-floats")]
    impl Bits {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[test]
    fn the_grammar_is_json_s() {
        for good in ["0", "-0", "7", "-12", "1.5", "0.25", "1e5", "1E+5", "2.5e-3", "10", "100.000"] {
            assert!(scan(good.as_bytes()).is_ok_and(|(_, len)| len == good.len()), "{good}");
        }
        for (bad, at) in [("", 0), ("-", 1), ("+1", 0), (".5", 0), ("1.", 2), ("1e", 2), ("1e+", 3), ("-x", 1)] {
            assert_eq!(scan(bad.as_bytes()).map(|(_, len)| len), Err(at), "{bad}");
        }
        // A leading zero ends the token: the reader then finds `1` where a separator belongs.
        assert_eq!(scan(b"01").map(|(_, len)| len), Ok(1));
    }

    #[test]
    fn integers_are_exact_and_floats_are_not_integers() {
        let int = |t: &str| scan(t.as_bytes()).ok().and_then(|(d, _)| d.as_u64());
        assert_eq!(int("0"), Some(0));
        assert_eq!(int("18446744073709551615"), Some(u64::MAX));
        assert_eq!(int("18446744073709551616"), None);
        assert_eq!(int("100000000000000000000"), None);
        assert_eq!(int("1000"), Some(1000));
        for float in ["1.0", "1e2", "-0", "-1", "0.0"] {
            assert_eq!(int(float), None, "{float}");
        }
    }

    #[cfg(feature = "std-floats")]
    #[test]
    fn parsing_agrees_with_std_bit_for_bit() {
        let mut fixed = vec![
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1e-400",
            "-1e-400",
            "0e999999999999",
            "44.9",
            "37.90",
            "0.1",
            "0.30000000000000004",
            "9007199254740993",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1.7976931348623157e308",
            "2.2250738585072014e-308",
            "5e-324",
            "4.9406564584124654e-324",
            "1e22",
            "1e23",
            "9e37",
            "1.5e30",
            "123456789012345e-22",
            "0.000000000000000000000000001",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        let mut bits = Bits(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let r = bits.next();
            let digits = r % 10u64.pow((r >> 60) as u32 % 19 + 1);
            let places = (r >> 40) % 20;
            let mut text = digits.to_string();
            if places > 0 && (places as usize) < text.len() {
                text.insert(text.len() - places as usize, '.');
            }
            if r & 1 == 1 {
                text.insert(0, '-');
            }
            if r & 2 == 2 {
                text.push_str(&format!("e{}", ((r >> 20) % 80) as i64 - 40));
            }
            fixed.push(text);
            fixed.push(f64::from_bits(bits.next()).abs().to_string());
        }
        for text in &fixed {
            let Ok(expected) = text.parse::<f64>() else { continue };
            if !expected.is_finite() {
                assert_eq!(parse(text), None, "{text}");
                continue;
            }
            assert_eq!(parse(text).map(f64::to_bits), Some(expected.to_bits()), "{text}");
        }
        assert_eq!(parse("1e400"), None);
        assert_eq!(parse("-1e309"), None);
    }

    #[test]
    fn the_fast_path_covers_prices_quantities_and_integers() {
        for text in ["44.9", "37.90", "0.5", "2", "673.5", "0.001", "12345.678901234", "1e22", "-3.25", "4294967296"] {
            let (d, _) = scan(text.as_bytes()).unwrap();
            assert!(d.fast_f64().is_some(), "{text}");
        }
        for text in ["0.30000000000000004", "1e300", "5e-324", "1.2345678901234567"] {
            let (d, _) = scan(text.as_bytes()).unwrap();
            assert_eq!(d.fast_f64(), None, "{text}");
        }
    }

    #[cfg(feature = "std-floats")]
    #[test]
    fn writing_reads_back_exactly() {
        let mut bits = Bits(0x2545_f491_4f6c_dd1d);
        let mut values =
            vec![0.0, -0.0, 1.0, 2.0, -2.0, 44.9, 37.9, 0.1, 0.3, 0.1 + 0.2, 1e15, 1e16, 1e21, 1e300, 5e-324];
        values.extend([f64::MAX, f64::MIN_POSITIVE, 9007199254740991.0, 9007199254740993.0, 123.456, 1e-7, 0.000123]);
        for _ in 0..20_000 {
            let r = bits.next();
            values.push(f64::from_bits(r));
            values.push((r % 100_000_000) as f64 / 10f64.powi((r >> 59) as i32 % 9));
        }
        for x in values.into_iter().filter(|x| x.is_finite()) {
            let text = written(x);
            assert_eq!(text.parse::<f64>().map(f64::to_bits), Ok(x.to_bits()), "{x:?} written as {text}");
            assert_eq!(parse(&text).map(f64::to_bits), Some(x.to_bits()), "{text}");
        }
    }

    #[test]
    fn writing_matches_serde_json_for_everyday_numbers() {
        for (x, text) in
            [(2.0, "2.0"), (44.9, "44.9"), (-0.0, "-0.0"), (0.5, "0.5"), (673.5, "673.5"), (0.001, "0.001")]
        {
            assert_eq!(written(x), text);
        }
        // Integers beyond 2^53 keep their digits (serde_json would write `1e16`).
        for (x, text) in [(1e16, "10000000000000000.0"), (18446744073709549568.0, "18446744073709549568.0")] {
            assert_eq!(written(x), text);
        }
        assert_eq!(written(f64::NAN), "null");
        assert_eq!(written(f64::NEG_INFINITY), "null");
    }

    #[test]
    fn far_out_of_range_needs_no_conversion() {
        for (text, value) in [("1e-400", Ok(0.0)), ("-1e-400", Ok(-0.0)), ("1e309", Err(FloatError::OutOfRange))] {
            let (d, _) = scan(text.as_bytes()).unwrap();
            assert_eq!(d.fast_f64(), None);
            assert_eq!(to_f64(&d, text).map(f64::to_bits), value.map(f64::to_bits), "{text}");
        }
    }

    #[test]
    fn integers_write_as_digits() {
        for n in [0, 7, 10, 1234567890, u64::MAX] {
            let mut out = String::new();
            write_u64(n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }
}
