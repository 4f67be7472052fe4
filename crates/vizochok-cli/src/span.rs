//! Durations on the command line: a whole number with its unit, `500ms`,
//! `30s`, `15m`, `24h`.

use std::fmt;
use std::str::FromStr;

/// A duration in milliseconds, read and shown with a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span(pub u64);

const UNITS: [(&str, u64); 4] = [("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

impl FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Span, String> {
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let wrong =
            || format!("{text:?} is not a duration: write a whole number and a unit, e.g. 500ms, 30s, 15m, 24h");
        let number: u64 = number.parse().map_err(|_| wrong())?;
        let (_, scale) = UNITS.iter().find(|(name, _)| *name == unit).ok_or_else(wrong)?;
        number.checked_mul(*scale).map(Span).ok_or_else(|| format!("{text:?} is too long a duration"))
    }
}

impl fmt::Display for Span {
    /// In the largest unit that shows it exactly.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, scale) = UNITS.iter().find(|(_, scale)| self.0 % scale == 0 && self.0 > 0).unwrap_or(&("ms", 1));
        write!(f, "{}{unit}", self.0 / scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_unit_and_shows_the_largest_exact_one() {
        for (text, ms) in [("500ms", 500), ("30s", 30_000), ("15m", 900_000), ("24h", 86_400_000), ("0s", 0)] {
            assert_eq!(text.parse::<Span>(), Ok(Span(ms)), "{text}");
        }
        assert_eq!(Span(86_400_000).to_string(), "24h");
        assert_eq!(Span(1_500).to_string(), "1500ms");
        assert_eq!(Span(0).to_string(), "0ms");
        for bad in ["30", "s", "1.5s", "10 s", "-1s", "3d", "99999999999999999h"] {
            assert!(bad.parse::<Span>().is_err(), "{bad}");
        }
    }
}
