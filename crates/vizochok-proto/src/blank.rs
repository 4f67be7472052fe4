//! White space at the ends of a text, as `str::trim` sees it (Unicode
//! `White_Space`), in one forward pass: std's `trim` is a double-ended
//! char searcher, most of a kilobyte of the browser's module.

/// `text` without white space at either end (the same slice as `str::trim`).
pub fn trim(text: &str) -> &str {
    let mut kept = None;
    for (at, c) in text.char_indices() {
        if !c.is_whitespace() {
            let start = kept.map_or(at, |(start, _)| start);
            kept = Some((start, at + c.len_utf8()));
        }
    }
    kept.and_then(|(start, end)| text.get(start..end)).unwrap_or_default()
}

/// Whether `text` is empty or only white space.
pub fn is_blank(text: &str) -> bool {
    trim(text).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_as_std_does() {
        let spaces = ["", " ", "\t", "\r\n", "\u{a0}", "\u{85}", "\u{2003}", "\u{2028}", "\u{3000}"];
        for inner in ["", "a", "молоко", "a b", "\u{200b}x\u{200b}", "a\u{a0}\u{a0}b"] {
            for left in spaces {
                for right in spaces {
                    let text = [left, right, inner, left, right].concat();
                    assert_eq!(trim(&text), text.trim(), "{text:?}");
                    assert_eq!(is_blank(&text), text.trim().is_empty(), "{text:?}");
                }
            }
        }
    }
}
