//! Texts built without `core::fmt`: the browser build stays small when
//! nothing pulls in the formatting machinery (float formatting above all).

/// Appends the decimal digits of `n`.
pub(crate) fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// Appends `n` as lower-case hex, zero-padded to `width` digits.
pub(crate) fn push_hex(out: &mut String, n: u64, width: u32) {
    for shift in (0..width).rev() {
        let nibble = (n >> (shift * 4)) & 0xf;
        out.push(char::from(b"0123456789abcdef"[nibble as usize]));
    }
}

/// Concatenates text pieces and decimal numbers: `cat(&[T("waited "), N(5), T(" ms")])`.
pub(crate) fn cat(parts: &[Part<'_>]) -> String {
    let mut out = String::new();
    for part in parts {
        match part {
            Part::T(text) => out.push_str(text),
            Part::N(n) => push_u64(&mut out, *n),
        }
    }
    out
}

/// A piece of a [`cat`] text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Part<'a> {
    /// Text as it is.
    T(&'a str),
    /// A whole number in decimal.
    N(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_text() {
        assert_eq!(cat(&[Part::T("a"), Part::N(0), Part::T("b"), Part::N(u64::MAX)]), "a0b18446744073709551615");
        let mut hex = String::new();
        push_hex(&mut hex, 0xab, 4);
        assert_eq!(hex, "00ab");
    }
}
