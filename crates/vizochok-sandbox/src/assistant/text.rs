//! Splitting shopper text and product names into comparable tokens, with
//! stems so inflected words meet: "молока" and "молочка" → "молок",
//! "сиру" → "сир", "tomatoes" → "tomato".

/// A word (lower-cased, apostrophes dropped) or a number.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    Word(String),
    Number(f64),
}

impl Token {
    pub(crate) fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            Token::Number(_) => None,
        }
    }
}

/// Ukrainian case and number endings, longest first so "ами" wins over "и".
const UK_ENDINGS: [&str; 34] = [
    "ами", "ями", "ові", "еві", "ого", "ому", "ему", "ими", "іми", "ий", "ій", "ої", "ою", "ею", "ів", "їв", "ах",
    "ях", "ам", "ям", "ом", "ем", "их", "іх", "а", "я", "о", "е", "у", "ю", "і", "ї", "и", "ь",
];
/// A stem keeps at least this many letters, so short roots ("сир", "рис") survive.
const MIN_STEM: usize = 3;

/// Splits text into words and numbers. "1,5" and "1.5" are one number;
/// letters glued to digits ("2шт") are a separate word.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_alphabetic() {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_alphabetic() {
                    word.extend(c.to_lowercase());
                } else if !is_apostrophe(c) {
                    break;
                }
                chars.next();
            }
            tokens.push(Token::Word(word));
        } else if c.is_ascii_digit() {
            let mut number = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_ascii_digit() {
                    number.push(c);
                } else if (c == '.' || c == ',') && !number.contains('.') {
                    // A separator only counts when a digit follows ("2, 3" is two numbers).
                    let mut ahead = chars.clone();
                    ahead.next();
                    if !ahead.peek().is_some_and(char::is_ascii_digit) {
                        break;
                    }
                    number.push('.');
                } else {
                    break;
                }
                chars.next();
            }
            if let Ok(value) = number.parse() {
                tokens.push(Token::Number(value));
            }
        } else {
            chars.next();
        }
    }
    tokens
}

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '’' | 'ʼ' | '`')
}

/// The stem of a lower-cased word: Ukrainian case endings or English
/// plural endings removed.
pub(crate) fn stem(word: &str) -> String {
    if word.chars().any(|c| matches!(c, 'а'..='я' | 'є' | 'і' | 'ї' | 'ґ')) {
        stem_uk(word)
    } else {
        stem_en(word)
    }
}

fn stem_uk(word: &str) -> String {
    let letters = word.chars().count();
    let mut stem = UK_ENDINGS
        .iter()
        .find(|ending| word.ends_with(*ending) && letters - ending.chars().count() >= MIN_STEM)
        .and_then(|ending| word.strip_suffix(*ending))
        .unwrap_or(word)
        .to_owned();
    // Diminutives: "молочк(а)" is "молок(о)".
    for (diminutive, plain) in [("очк", "ок"), ("ечк", "ек")] {
        if let Some(root) = stem.strip_suffix(diminutive) {
            stem = format!("{root}{plain}");
        }
    }
    stem
}

fn stem_en(word: &str) -> String {
    const PLURALS: [(&str, &str); 6] =
        [("ies", "y"), ("oes", "o"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("sses", "ss")];
    if word.len() > 4 {
        for (plural, singular) in PLURALS {
            if let Some(root) = word.strip_suffix(plural) {
                return format!("{root}{singular}");
            }
        }
    }
    match word.strip_suffix('s') {
        Some(root) if word.len() > 3 && !root.ends_with('s') => root.to_owned(),
        _ => word.to_owned(),
    }
}

/// How well two stems match: exact, or one a prefix of the other (covering
/// adjectives and diminutives like "шоколадк(а)"), or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Match {
    None,
    Prefix,
    Exact,
}

pub(crate) fn compare(query: &str, candidate: &str) -> Match {
    if query == candidate {
        return Match::Exact;
    }
    let (q, c) = (query.chars().count(), candidate.chars().count());
    let (short, long) = if q <= c { (query, candidate) } else { (candidate, query) };
    // Short stems would prefix-match too much ("сир" → "сироп").
    if q.min(c) >= 4 && q.abs_diff(c) <= 3 && long.starts_with(short) {
        Match::Prefix
    } else {
        Match::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        tokenize(text).iter().filter_map(Token::word).map(stem).collect()
    }

    #[test]
    fn tokenizes_words_numbers_and_glued_units() {
        let tokens = tokenize("Додай 1,5кг м’яса, 2 шт. і 3.");
        assert_eq!(
            tokens,
            [
                Token::Word("додай".into()),
                Token::Number(1.5),
                Token::Word("кг".into()),
                Token::Word("мяса".into()),
                Token::Number(2.0),
                Token::Word("шт".into()),
                Token::Word("і".into()),
                Token::Number(3.0),
            ]
        );
        assert_eq!(tokenize("/add 2"), [Token::Word("add".into()), Token::Number(2.0)]);
    }

    #[test]
    fn inflections_share_a_stem() {
        for group in [
            "молоко молока молоку молочка",
            "хліб хліба хлібом",
            "сир сиру сиром",
            "ковбаса ковбаси ковбасу",
            "картопля картоплі картоплю",
            "помідори помідорів",
            "milk milks",
            "tomato tomatoes",
            "cherry cherries",
        ] {
            let stems = stems(group);
            assert!(stems.iter().all(|s| *s == stems[0]), "{group}: {stems:?}");
        }
    }

    #[test]
    fn short_roots_do_not_prefix_match() {
        assert_eq!(compare("сир", "сироп"), Match::None);
        assert_eq!(compare("шоколадк", "шоколад"), Match::Prefix);
        assert_eq!(compare(&stem("молока"), &stem("молоко")), Match::Exact);
    }
}
