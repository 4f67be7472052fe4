//! What a shopper asks for, read from the message's leading verb.

use super::search::{is_noise, Query};
use super::text::{stem, tokenize, Token};
use super::words::{
    has, Unit, ADD_VERBS, CART_STEMS, CHEAPER, CLEAR_VERBS, CURRENCY, EVERYTHING, FILLERS, GREETINGS, HELP_WORDS,
    LEAD_INS, ORDINALS, PRICE_CAPS, PRICE_LINKS, REMOVE_VERBS, SET_VERBS, THIS_WORDS,
};

/// A quantity as the shopper said it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Amount {
    pub(crate) value: f64,
    pub(crate) unit: Option<Unit>,
}

/// Which product a command is about.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// Nothing said: the only candidate, if there is one.
    Unspecified,
    /// The n-th card (1-based) of the previous reply.
    Index(usize),
    /// "this": the product of the page the shopper is on.
    This,
    /// Words naming the product.
    Words(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Request {
    Help,
    ShowCart,
    Clear,
    Add {
        target: Target,
        amount: Option<Amount>,
    },
    Set {
        target: Target,
        amount: Option<Amount>,
    },
    Remove {
        target: Target,
    },
    /// Products matching `words` (none: like the previous reply's cards),
    /// under `max_price`, the cheapest first when `cheapest_first`.
    Search {
        words: Vec<Token>,
        max_price: Option<f64>,
        cheapest_first: bool,
    },
}

/// A parsed message; `greeted` when it opened with a greeting.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub(crate) greeted: bool,
    pub(crate) request: Request,
}

pub(crate) fn parse(text: &str) -> Parsed {
    let tokens = tokenize(text);
    let mut greeted = false;
    let start = tokens
        .iter()
        .position(|t| match t.word() {
            Some(w) if has(GREETINGS, w) => {
                greeted = true;
                false
            }
            Some(w) => !has(LEAD_INS, w),
            None => true,
        })
        .unwrap_or(tokens.len());
    let rest = tokens.get(start..).unwrap_or_default();
    Parsed { greeted, request: request(rest) }
}

fn request(tokens: &[Token]) -> Request {
    let words: Vec<&str> = tokens.iter().filter_map(Token::word).collect();
    let Some(first) = tokens.first() else {
        return Request::Help;
    };
    // A leading number matches no verb: "2 молока" is a search.
    let first = first.word().unwrap_or_default();
    let args = tokens.get(1..).unwrap_or_default();
    if has(CLEAR_VERBS, first) {
        Request::Clear
    } else if has(ADD_VERBS, first) {
        add(args)
    } else if has(SET_VERBS, first) {
        set(args)
    } else if has(REMOVE_VERBS, first) {
        if words.iter().any(|w| has(EVERYTHING, w)) {
            Request::Clear
        } else {
            Request::Remove { target: target(args) }
        }
    } else if words.iter().any(|w| has(HELP_WORDS, w)) || (words.contains(&"can") && words.contains(&"do")) {
        Request::Help
    } else if words.iter().any(|w| CART_STEMS.split_whitespace().any(|s| stem(w).starts_with(s))) {
        Request::ShowCart
    } else {
        search(tokens)
    }
}

/// "2 молока", "1.5 кг сиру", "300 г сиру", "2" (the second card).
fn add(args: &[Token]) -> Request {
    let (amount, rest) = leading_amount(args);
    match (amount, target(rest)) {
        // A bare number picks a card; with a unit it is a quantity.
        (Some(Amount { value, unit: None }), Target::Unspecified) if is_index(value) => {
            Request::Add { target: Target::Index(value as usize), amount: None }
        }
        (amount, target) => Request::Add { target, amount },
    }
}

/// "кількість молока на 3", "milk to 3": the last number is the new quantity.
fn set(args: &[Token]) -> Request {
    let Some(at) = args.iter().rposition(|t| matches!(t, Token::Number(_))) else {
        return Request::Set { target: target(args), amount: None };
    };
    let (amount, after) = leading_amount(args.get(at..).unwrap_or_default());
    let words: Vec<Token> = args.get(..at).unwrap_or_default().iter().chain(after).cloned().collect();
    Request::Set { target: target(&words), amount }
}

/// A number and its optional unit at the start of `tokens`, and what follows.
fn leading_amount(tokens: &[Token]) -> (Option<Amount>, &[Token]) {
    let Some(Token::Number(value)) = tokens.first() else {
        return (None, tokens);
    };
    match tokens.get(1).and_then(Token::word).and_then(Unit::from_word) {
        Some(unit) => (Some(Amount { value: *value, unit: Some(unit) }), tokens.get(2..).unwrap_or_default()),
        None => (Some(Amount { value: *value, unit: None }), tokens.get(1..).unwrap_or_default()),
    }
}

/// "this", or an ordinal ("the first one"), else product words, else a
/// lone number as a card index, else nothing.
fn target(tokens: &[Token]) -> Target {
    let numbers = tokens.iter().any(|t| matches!(t, Token::Number(_)));
    let meaningful: Vec<&str> =
        tokens.iter().filter_map(Token::word).filter(|w| !is_noise(w) && !has(FILLERS, w)).collect();
    if !numbers && !meaningful.is_empty() && meaningful.iter().all(|w| has(THIS_WORDS, w)) {
        return Target::This;
    }
    if let [word] = meaningful[..] {
        if let Some(&(_, n)) = ORDINALS.iter().find(|(ordinal, _)| *ordinal == word) {
            return Target::Index(n);
        }
    }
    if !Query::new(tokens).is_empty() {
        return Target::Words(tokens.to_vec());
    }
    match tokens.iter().find_map(|t| if let Token::Number(n) = t { Some(*n) } else { None }) {
        Some(n) if is_index(n) => Target::Index(n as usize),
        _ => Target::Unspecified,
    }
}

fn is_index(value: f64) -> bool {
    (1.0..=99.0).contains(&value) && value.fract() == 0.0
}

/// Search words, with a price cap taken out ("сир дешевше 300 грн"), or a
/// "cheaper" without a price ("покажи дешевші") asking for the cheapest first.
fn search(tokens: &[Token]) -> Request {
    let mut words = tokens.to_vec();
    let mut max_price = None;
    let cheaper = words.iter().position(|t| t.word().is_some_and(|w| has(CHEAPER, w)));
    let priced = cheaper.is_some_and(|at| {
        words
            .get(at + 1..)
            .unwrap_or_default()
            .iter()
            .find(|t| t.word().is_none_or(|w| !has(PRICE_LINKS, w)))
            .is_some_and(|t| matches!(t, Token::Number(_)))
    });
    if let (Some(at), false) = (cheaper, priced) {
        words.remove(at);
        return Request::Search { words, max_price: None, cheapest_first: true };
    }
    if let Some(cap) = words.iter().position(|t| t.word().is_some_and(|w| has(PRICE_CAPS, w))) {
        let mut end = cap + 1;
        while words.get(end).and_then(Token::word).is_some_and(|w| has(PRICE_LINKS, w)) {
            end += 1;
        }
        if let Some(Token::Number(price)) = words.get(end) {
            max_price = Some(*price);
            end += 1;
            if words.get(end).and_then(Token::word).is_some_and(|w| has(CURRENCY, w)) {
                end += 1;
            }
            words.drain(cap..end);
        }
    }
    Request::Search { words, max_price, cheapest_first: false }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Token> {
        tokenize(text)
    }

    fn search(text: &str, max_price: Option<f64>, cheapest_first: bool) -> Request {
        Request::Search { words: words(text), max_price, cheapest_first }
    }

    #[test]
    fn reads_commands_in_both_languages() {
        let cases = [
            ("Привіт!", Request::Help),
            ("що ти вмієш?", Request::Help),
            ("what can you do", Request::Help),
            ("Що в кошику?", Request::ShowCart),
            ("show my cart", Request::ShowCart),
            ("очисти кошик", Request::Clear),
            ("remove everything", Request::Clear),
            ("додай 2", Request::Add { target: Target::Index(2), amount: None }),
            ("/add 1", Request::Add { target: Target::Index(1), amount: None }),
            (
                "додай 2 молока",
                Request::Add {
                    target: Target::Words(words("молока")),
                    amount: Some(Amount { value: 2.0, unit: None }),
                },
            ),
            (
                "будь ласка, додай 1,5 кг сиру",
                Request::Add {
                    target: Target::Words(words("сиру")),
                    amount: Some(Amount { value: 1.5, unit: Some(Unit::Kilograms) }),
                },
            ),
            (
                "зміни кількість молока на 3",
                Request::Set {
                    target: Target::Words(words("кількість молока на")),
                    amount: Some(Amount { value: 3.0, unit: None }),
                },
            ),
            (
                "set milk to 3",
                Request::Set {
                    target: Target::Words(words("milk to")),
                    amount: Some(Amount { value: 3.0, unit: None }),
                },
            ),
            ("видали молоко", Request::Remove { target: Target::Words(words("молоко")) }),
            ("remove 2", Request::Remove { target: Target::Index(2) }),
            ("сир дешевше 300 грн", search("сир", Some(300.0), false)),
            ("cheese cheaper than 300", search("cheese", Some(300.0), false)),
            ("хліб до 30", search("хліб", Some(30.0), false)),
            ("Покажи дешевші", search("покажи", None, true)),
            ("Show cheaper", search("show", None, true)),
            ("cheaper milk", search("milk", None, true)),
            ("додай це", Request::Add { target: Target::This, amount: None }),
            ("Додай цей товар", Request::Add { target: Target::This, amount: None }),
            ("add this to my cart", Request::Add { target: Target::This, amount: None }),
            ("add it", Request::Add { target: Target::This, amount: None }),
            ("add 2 of these", Request::Add { target: Target::This, amount: Some(Amount { value: 2.0, unit: None }) }),
            ("buy this one", Request::Add { target: Target::This, amount: None }),
            ("видали це", Request::Remove { target: Target::This }),
            ("Додай перший", Request::Add { target: Target::Index(1), amount: None }),
            ("Add the first one", Request::Add { target: Target::Index(1), amount: None }),
            ("додай третій товар", Request::Add { target: Target::Index(3), amount: None }),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(text).request, expected, "{text}");
        }
    }

    #[test]
    fn greeting_before_a_request_is_noted() {
        let parsed = parse("Hi! Please show milk");
        assert!(parsed.greeted);
        assert_eq!(parsed.request, search("show milk", None, false));
    }
}
