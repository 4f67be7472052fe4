//! The Markdown subset of reply texts (`docs/protocol.md` §12), parsed into
//! a small tree every UI can render as text nodes: paragraphs and list
//! items made of spans that are bold, italic and/or a link. There is no
//! HTML in it, ever; a link is kept only for `http:` and `https:`, anything
//! else is plain text.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::blank::trim;

/// A paragraph or a list item.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Block {
    /// What kind of block.
    pub kind: BlockKind,
    /// A numbered item's own number.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub number: Option<u32>,
    /// Its text, in spans.
    pub spans: Vec<Span>,
}

/// What a [`Block`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum BlockKind {
    /// A paragraph (lines inside it are kept, separated by `\n`).
    Paragraph,
    /// An item of a bullet list (`- ` or `* `).
    Bullet,
    /// An item of a numbered list (`1. `).
    Numbered,
}

impl BlockKind {
    /// Every kind.
    pub const ALL: [BlockKind; 3] = [BlockKind::Paragraph, BlockKind::Bullet, BlockKind::Numbered];

    /// The spelling every runtime uses.
    pub fn as_str(self) -> &'static str {
        match self {
            BlockKind::Paragraph => "paragraph",
            BlockKind::Bullet => "bullet",
            BlockKind::Numbered => "numbered",
        }
    }
}

/// A run of text with one style.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Span {
    /// The text, as it is shown (never markup).
    pub text: String,
    /// `**bold**`.
    pub bold: bool,
    /// `*italic*`.
    pub italic: bool,
    /// The target of `[text](https://…)`: only `http:` and `https:`.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub link: Option<String>,
}

/// Parses a reply's text. Never fails: what is not markup is text.
#[allow(clippy::manual_pattern_char_comparison)] // a predicate on purpose, see the loop
pub fn parse(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    // The paragraph's lines so far, joined by '\n' (each line is non-empty).
    let mut paragraph = String::new();
    let flush = |paragraph: &mut String, blocks: &mut Vec<Block>| {
        if !paragraph.is_empty() {
            blocks.push(Block { kind: BlockKind::Paragraph, number: None, spans: inline(paragraph) });
            paragraph.clear();
        }
    };
    // Split at '\n' by a predicate, not `lines()`: the same lines once
    // trimmed (a '\r' is white space, a last empty line ends nothing), and
    // no memchr-based char searcher in the browser's module.
    for line in text.split(|c| c == '\n') {
        let trimmed = trim(line);
        if trimmed.is_empty() {
            flush(&mut paragraph, &mut blocks);
        } else if let Some((kind, number, rest)) = list_item(trimmed) {
            flush(&mut paragraph, &mut blocks);
            blocks.push(Block { kind, number, spans: inline(rest) });
        } else {
            if !paragraph.is_empty() {
                paragraph.push('\n');
            }
            paragraph.push_str(trimmed);
        }
    }
    flush(&mut paragraph, &mut blocks);
    blocks
}

/// `- item`, `* item` or `12. item`: its kind, number and text.
fn list_item(line: &str) -> Option<(BlockKind, Option<u32>, &str)> {
    if let Some(rest) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
        // `line` is trimmed already, so trimming `rest` trims its start.
        return Some((BlockKind::Bullet, None, trim(rest)));
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let rest = line[digits..].strip_prefix(". ")?;
    let number = line[..digits].parse().ok()?;
    Some((BlockKind::Numbered, Some(number), trim(rest)))
}

/// The style in force while reading inline text.
#[derive(Clone, Copy, Default)]
struct Style {
    bold: bool,
    italic: bool,
}

fn inline(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut style = Style::default();
    let mut current = String::new();
    let mut closers = [Next::new(b']'), Next::new(b')')];
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\\' {
            if let Some(escaped) = rest[1..].chars().next().filter(|e| matches!(e, '\\' | '*' | '[' | ']' | '(' | ')'))
            {
                current.push(escaped);
                rest = &rest[1 + escaped.len_utf8()..];
                continue;
            }
        }
        if let Some(after) = rest.strip_prefix("**") {
            if style.bold || closes(after, "**") {
                push(&mut spans, &mut current, style, None);
                style.bold = !style.bold;
            } else {
                current.push_str("**");
            }
            rest = after;
        } else if let Some(after) = rest.strip_prefix('*').filter(|after| style.italic || closes(after, "*")) {
            push(&mut spans, &mut current, style, None);
            style.italic = !style.italic;
            rest = after;
        } else if let Some((label, url, after)) = link(text, text.len() - rest.len(), &mut closers) {
            push(&mut spans, &mut current, style, None);
            let target = safe_url(url).map(str::to_owned);
            current.push_str(label);
            push(&mut spans, &mut current, style, target);
            rest = &text[after..];
        } else {
            current.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    push(&mut spans, &mut current, style, None);
    spans
}

/// Whether a marker opened here is closed later (else it is literal text).
fn closes(after: &str, marker: &str) -> bool {
    // Bytes, not `str::contains`: std's substring searcher is a kilobyte of
    // the browser's module, and a marker is one or two ASCII characters.
    let marker = marker.as_bytes();
    !after.chars().next().is_some_and(char::is_whitespace)
        && after.as_bytes().windows(marker.len().max(1)).any(|w| w == marker)
}

/// `[label](url)` at byte `at` of `text`: the label, the url, and the
/// offset of what follows. `closers` find the first `]` and `)` after a
/// point; `at` only grows from call to call.
fn link<'a>(text: &'a str, at: usize, closers: &mut [Next; 2]) -> Option<(&'a str, &'a str, usize)> {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let close = closers[0].find(bytes, at + 1)?;
    if bytes.get(close + 1) != Some(&b'(') {
        return None;
    }
    let end = closers[1].find(bytes, close + 2)?;
    Some((&text[at + 1..close], trim(&text[close + 2..end]), end + 1))
}

/// The first `byte` at or after a point that only moves forward, kept
/// between searches: a search starts past the last one found, so a reply of
/// many unclosed `[` is read once, not once per bracket.
struct Next {
    byte: u8,
    /// Where the last search found it (`usize::MAX`: nowhere after its start;
    /// 0 before the first, as every search starts past the `[`).
    found: usize,
}

impl Next {
    const fn new(byte: u8) -> Next {
        Next { byte, found: 0 }
    }

    fn find(&mut self, text: &[u8], at: usize) -> Option<usize> {
        if self.found < at {
            let rest = &text[at.min(text.len())..];
            self.found = rest.iter().position(|&b| b == self.byte).map_or(usize::MAX, |i| at + i);
        }
        (self.found != usize::MAX).then_some(self.found)
    }
}

/// The url, when it is `http:` or `https:` with a host.
fn safe_url(url: &str) -> Option<&str> {
    let after = |scheme: &[u8]| {
        let bytes = url.as_bytes();
        bytes.get(..scheme.len()).is_some_and(|s| s.eq_ignore_ascii_case(scheme)).then(|| &bytes[scheme.len()..])
    };
    // A host: something before the path, query or fragment (`https://`,
    // `http:///p` have none, and a browser would resolve them against the page).
    let host = after(b"https://").or_else(|| after(b"http://")).and_then(|rest| rest.first());
    let host_ok = host.is_some_and(|b| !matches!(b, b'/' | b'?' | b'#' | b'\\'));
    (host_ok && !url.chars().any(char::is_whitespace)).then_some(url)
}

fn push(spans: &mut Vec<Span>, current: &mut String, style: Style, link: Option<String>) {
    if current.is_empty() {
        return;
    }
    let text = std::mem::take(current);
    match spans.last_mut() {
        Some(last)
            if last.bold == style.bold && last.italic == style.italic && last.link.is_none() && link.is_none() =>
        {
            last.text.push_str(&text)
        }
        _ => spans.push(Span { text, bold: style.bold, italic: style.italic, link }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The link reader as it was, searching afresh at every bracket.
    fn link_by_search(text: &str) -> Option<(&str, &str, &str)> {
        let inner = text.strip_prefix('[')?;
        let close = inner.bytes().position(|b| b == b']')?;
        let (label, after) = (&inner[..close], &inner[close + 1..]);
        let target = after.strip_prefix('(')?;
        let end = target.bytes().position(|b| b == b')')?;
        Some((label, trim(&target[..end]), &target[end + 1..]))
    }

    #[test]
    fn links_are_read_as_a_fresh_search_reads_them() {
        // Every text of up to 7 of these characters, and long pseudo-random ones.
        let alphabet = ['[', ']', '(', ')', 'a', ' ', '*'];
        let mut texts: Vec<String> = vec![String::new()];
        for _ in 0..7 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.len() == texts.last().map_or(0, String::len))
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..2_000 {
            let text: String = (0..60)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    alphabet[(x % 7) as usize]
                })
                .collect();
            texts.push(text);
        }
        for text in &texts {
            let mut closers = [Next::new(b']'), Next::new(b')')];
            for at in 0..text.len() {
                let fresh = link_by_search(&text[at..]).map(|(l, u, after)| (l, u, text.len() - after.len()));
                assert_eq!(link(text, at, &mut closers), fresh, "{text:?} at {at}");
            }
        }
    }

    #[test]
    fn a_reply_of_a_million_unclosed_brackets_is_read_in_one_pass() {
        // Searched afresh at each bracket, this was 5 * 10^11 byte reads.
        for text in ["[".repeat(1_000_000), "[a](".repeat(250_000), format!("{}]", "[".repeat(1_000_000))] {
            let blocks = parse(&text);
            assert_eq!(blocks[0].spans.iter().map(|s| s.text.len()).sum::<usize>(), text.len());
        }
    }

    fn span(text: &str, bold: bool, italic: bool) -> Span {
        Span { text: text.into(), bold, italic, link: None }
    }

    #[test]
    fn bold_italic_lists_and_paragraphs() {
        let blocks = parse("Here is **Milk 2.5%** and *fresh* bread:\n\n- **Milk** 42 ₴\n* Bread\n2. Eggs\n\nEnjoy!");
        assert_eq!(
            blocks,
            [
                Block {
                    kind: BlockKind::Paragraph,
                    number: None,
                    spans: vec![
                        span("Here is ", false, false),
                        span("Milk 2.5%", true, false),
                        span(" and ", false, false),
                        span("fresh", false, true),
                        span(" bread:", false, false)
                    ]
                },
                Block {
                    kind: BlockKind::Bullet,
                    number: None,
                    spans: vec![span("Milk", true, false), span(" 42 ₴", false, false)]
                },
                Block { kind: BlockKind::Bullet, number: None, spans: vec![span("Bread", false, false)] },
                Block { kind: BlockKind::Numbered, number: Some(2), spans: vec![span("Eggs", false, false)] },
                Block { kind: BlockKind::Paragraph, number: None, spans: vec![span("Enjoy!", false, false)] },
            ]
        );
    }

    #[test]
    fn links_only_for_http_and_https() {
        let blocks = parse("[shop](https://shop.example/p?x=1) [x](javascript:alert(1)) [y](data:text/html,hi)");
        let spans = &blocks[0].spans;
        assert_eq!(
            spans[0],
            Span { text: "shop".into(), link: Some("https://shop.example/p?x=1".into()), ..Default::default() }
        );
        assert!(spans.iter().skip(1).all(|s| s.link.is_none()), "{spans:?}");
        let shown: String = spans.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(shown, "shop x) y", "the unsafe targets are not shown as links");
    }

    #[test]
    fn a_link_without_a_host_is_text() {
        for target in ["https://", "http:///p", "https://?q", "https://#f", "http://\\\\evil"] {
            let blocks = parse(&format!("[x]({target})"));
            assert!(blocks[0].spans.iter().all(|s| s.link.is_none()), "{target}: {blocks:?}");
        }
        assert!(parse("[x](http://a)")[0].spans[0].link.is_some());
    }

    #[test]
    fn schemes_ignore_case_and_crlf_lines_are_lines() {
        let blocks = parse("[a](HTTPS://x.example)\r\n\r\n- b\r\n");
        assert_eq!(blocks.len(), 2, "{blocks:?}");
        assert_eq!(blocks[0].spans[0].link.as_deref(), Some("HTTPS://x.example"));
        assert_eq!((blocks[1].kind, blocks[1].spans[0].text.as_str()), (BlockKind::Bullet, "b"));
    }

    #[test]
    fn markup_is_never_html_and_stray_markers_stay_text() {
        let blocks = parse("<b>2 * 3</b> = **6 and \\*literal\\* <script>");
        let shown: String = blocks[0].spans.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(shown, "<b>2 * 3</b> = **6 and *literal* <script>");
        assert!(blocks[0].spans.iter().all(|s| !s.bold && !s.italic));
        assert_eq!(parse(""), []);
    }
}
