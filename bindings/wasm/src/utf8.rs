//! UTF-8 checking of the text `core.js` writes into the module's memory.
//!
//! std's `str::from_utf8` is about 0.6 KB of WebAssembly (a word-at-a-time
//! path and tables) and the boundary was its only user; this check is a
//! loop of a few dozen instructions with the same answer on every input
//! (the tests compare it with std's on every sequence of up to three bytes
//! and on every four-byte lead). `TextEncoder` only ever writes UTF-8, so
//! the check guards against a broken caller, not against the page's text.

/// The bytes as a `str`, or `None` when they are not UTF-8 (RFC 3629:
/// shortest forms only, no surrogates, nothing above U+10FFFF).
pub(crate) fn str_of(bytes: &[u8]) -> Option<&str> {
    // SAFETY: `is_utf8` accepts exactly the sequences `str::from_utf8` accepts.
    is_utf8(bytes).then(|| unsafe { std::str::from_utf8_unchecked(bytes) })
}

// One copy for every caller (each `Texts::split` would inline its own).
#[inline(never)]
fn is_utf8(bytes: &[u8]) -> bool {
    let mut at = 0;
    while let Some(&lead) = bytes.get(at) {
        // Frames are mostly ASCII: eight such bytes at a time.
        if let Some(word) = bytes.get(at..at + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
            if u64::from_le_bytes(word) & 0x8080_8080_8080_8080 == 0 {
                at += 8;
                continue;
            }
        }
        at += 1;
        // How many continuation bytes follow, and the smallest code point
        // that needs that many (anything below is an overlong form).
        let (more, least) = match lead {
            0x00..=0x7F => continue,
            0xC0..=0xDF => (1, 0x80),
            0xE0..=0xEF => (2, 0x800),
            0xF0..=0xF7 => (3, 0x1_0000),
            _ => return false,
        };
        let mut point = u32::from(lead) & (0x3F >> more);
        for _ in 0..more {
            match bytes.get(at) {
                Some(&b) if b & 0xC0 == 0x80 => point = point << 6 | u32::from(b & 0x3F),
                _ => return false,
            }
            at += 1;
        }
        if point < least || point > 0x10_FFFF || (0xD800..=0xDFFF).contains(&point) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agrees(bytes: &[u8]) {
        assert_eq!(str_of(bytes), std::str::from_utf8(bytes).ok(), "{bytes:02x?}");
    }

    #[test]
    fn every_sequence_of_up_to_three_bytes_agrees_with_std() {
        agrees(&[]);
        for a in 0..=255u8 {
            agrees(&[a]);
            for b in 0..=255u8 {
                agrees(&[a, b]);
                for c in 0..=255u8 {
                    agrees(&[a, b, c]);
                }
            }
        }
    }

    #[test]
    fn every_four_byte_lead_agrees_with_std() {
        // Each lead with every second byte, and the third and fourth at the
        // edges of the continuation range and just outside it.
        let edges = [0x00, 0x7F, 0x80, 0x8F, 0x90, 0xBF, 0xC0, 0xFF];
        for a in 0xE0..=0xFFu8 {
            for b in 0..=255u8 {
                for c in edges {
                    for d in edges {
                        agrees(&[a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn long_ascii_runs_agree_with_std() {
        for len in 0..40 {
            for at in 0..len {
                for bad in [0x80, 0xC3, 0xE2, 0xF0, 0xFF] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = bad;
                    agrees(&bytes);
                    if at + 1 < len {
                        bytes[at + 1] = 0xA9;
                        agrees(&bytes);
                    }
                }
            }
        }
    }

    #[test]
    fn texts_agree_with_std() {
        for text in ["", "plain", "Галичина молоко 2,5%", "€ and 𝄞 and \u{10FFFF}", "{\"type\":\"delta\"}"]
        {
            assert_eq!(str_of(text.as_bytes()), Some(text));
            let cut = text.len().saturating_sub(1);
            agrees(&text.as_bytes()[..cut]);
            agrees(&[text.as_bytes(), &[0xED, 0xA0, 0x80]].concat());
        }
    }
}
