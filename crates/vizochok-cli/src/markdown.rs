//! A reply's Markdown subset (`**bold**`, `*italic*`, lists, links) for a
//! terminal, from the protocol's own parser: styled with ANSI escapes on a
//! terminal, plain text in a pipe. Links show their target, since a
//! terminal cannot hide one behind its text.

use vizochok_core::proto::markdown::{self, BlockKind, Span};

/// How text is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    /// ANSI bold, italic and underline.
    Ansi,
    /// Markup dropped, links as `text (url)`.
    Plain,
}

/// One line of a reply, rendered; a blank line stays blank.
pub(crate) fn line(text: &str, style: Style) -> String {
    markdown::parse(text)
        .iter()
        .map(|block| {
            let marker = match (block.kind, block.number) {
                (BlockKind::Bullet, _) => "• ".to_owned(),
                (BlockKind::Numbered, Some(n)) => format!("{n}. "),
                _ => String::new(),
            };
            let spans: String = block.spans.iter().map(|span| self::span(span, style)).collect();
            marker + &spans
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` with every control character (C0, DEL, C1) shown as U+FFFD: a
/// reply, a card or a cart line comes from the server and the store's
/// catalog, and an escape sequence in one would drive the terminal (set its
/// title, write the clipboard, redraw the screen).
pub(crate) fn inert(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { '\u{fffd}' } else { c }).collect()
}

fn span(span: &Span, style: Style) -> String {
    let mut text = inert(&span.text);
    if style == Style::Ansi {
        if span.link.is_some() {
            text = format!("\x1b[4m{text}\x1b[24m");
        }
        if span.italic {
            text = format!("\x1b[3m{text}\x1b[23m");
        }
        if span.bold {
            text = format!("\x1b[1m{text}\x1b[22m");
        }
    }
    match &span.link {
        Some(url) if *url != span.text => format!("{text} ({})", inert(url)),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_gets_the_text_without_markup_and_links_with_their_target() {
        assert_eq!(line("1. **Молоко** — 42.50 грн", Style::Plain), "1. Молоко — 42.50 грн");
        assert_eq!(line("- *ще* одне", Style::Plain), "• ще одне");
        assert_eq!(
            line("Сторінка: [відкрити](https://shop.example/m1).", Style::Plain),
            "Сторінка: відкрити (https://shop.example/m1)."
        );
        // Only http(s) links keep a target (the parser shows the rest as text).
        assert_eq!(line("[x](ftp://a.example)", Style::Plain), "x");
        assert_eq!(line("", Style::Plain), "");
    }

    #[test]
    fn an_escape_sequence_from_the_server_reaches_the_terminal_inert() {
        let hostile = "\x1b]52;c;aGk=\x07**Milk**\x1b[2J [x](https://a.example/\x1b[0m)";
        for style in [Style::Plain, Style::Ansi] {
            let shown = line(hostile, style);
            let ours =
                ["\x1b[1m", "\x1b[22m", "\x1b[4m", "\x1b[24m"].iter().fold(shown.clone(), |s, e| s.replace(e, ""));
            assert!(!ours.chars().any(char::is_control), "{style:?}: {shown:?}");
            assert!(ours.contains("]52;c;aGk=") && ours.contains("Milk"), "the text itself stays: {ours:?}");
        }
    }

    #[test]
    fn a_terminal_gets_bold_italic_and_underlined_links() {
        assert_eq!(line("**Milk** and *tea*", Style::Ansi), "\x1b[1mMilk\x1b[22m and \x1b[3mtea\x1b[23m");
        assert_eq!(line("[open](https://a.example)", Style::Ansi), "\x1b[4mopen\x1b[24m (https://a.example)");
    }
}
