//! Ranking catalog products against the words of a request.

use vizochok_server::CatalogProduct;

use super::text::{compare, stem, tokenize, Match, Token};
use super::words::{has, Unit, CART_STEMS, CATEGORIES, CURRENCY, STOP_WORDS};

/// The searchable part of a request: word stems, and numbers that may
/// pick a variant ("2,5%", "900 г").
#[derive(Debug)]
pub(crate) struct Query {
    stems: Vec<String>,
    numbers: Vec<f64>,
}

/// The most distinct words (and numbers) a query keeps: each is compared
/// with every word of every product, so a message of 600 words would cost
/// a million comparisons on the engine's one task.
const MAX_QUERY_WORDS: usize = 32;

impl Query {
    /// Drops stop words, units, currency and cart words, and repeats.
    pub(crate) fn new(tokens: &[Token]) -> Query {
        let mut query = Query { stems: Vec::new(), numbers: Vec::new() };
        for token in tokens {
            match token {
                Token::Number(n) if query.numbers.len() < MAX_QUERY_WORDS && !query.numbers.contains(n) => {
                    query.numbers.push(*n)
                }
                Token::Word(w) if query.stems.len() < MAX_QUERY_WORDS && !is_noise(w) => {
                    let stem = stem(w);
                    if !query.stems.contains(&stem) {
                        query.stems.push(stem);
                    }
                }
                _ => {}
            }
        }
        query
    }

    /// Whether no word names a product.
    pub(crate) fn is_empty(&self) -> bool {
        self.stems.is_empty()
    }
}

/// Whether a word never names a product.
pub(crate) fn is_noise(word: &str) -> bool {
    has(STOP_WORDS, word)
        || has(CURRENCY, word)
        || Unit::from_word(word).is_some()
        || CART_STEMS.split_whitespace().any(|s| word.starts_with(s))
}

/// The products matching the most query words, best first.
#[derive(Debug)]
pub(crate) struct Ranked<'a> {
    /// How many query words the best products match (0: nothing found).
    pub(crate) matched: usize,
    pub(crate) products: Vec<&'a CatalogProduct>,
}

/// Ranks `products` by how many query words they match, then by how well
/// (names and keywords, then brand, with category words weighing most), then
/// catalog order.
pub(crate) fn rank<'a>(query: &Query, products: impl IntoIterator<Item = &'a CatalogProduct>) -> Ranked<'a> {
    let mut scored: Vec<_> =
        products.into_iter().map(|p| (score(query, p), p)).filter(|((matched, _), _)| *matched > 0).collect();
    let matched = scored.iter().map(|((m, _), _)| *m).max().unwrap_or(0);
    scored.retain(|((m, _), _)| *m == matched);
    // Stable: equal scores keep catalog order, so replies are reproducible.
    scored.sort_by(|((_, a), _), ((_, b), _)| b.cmp(a));
    Ranked { matched, products: scored.into_iter().map(|(_, p)| p).collect() }
}

/// (query words matched, points).
fn score(query: &Query, product: &CatalogProduct) -> (usize, u32) {
    let name = tokenize(&product.name);
    let names =
        [stems(&name), stems_of(product.name_en.as_deref().unwrap_or_default()), stems_of(&product.keywords.join(" "))];
    let brand = stems_of(product.brand.as_deref().unwrap_or_default());
    let category = stems_of(category_words(&product.category));
    let mut matched = 0;
    let mut points = 0;
    for q in &query.stems {
        let names_points: u32 = names.iter().map(|field| 3 * strength(q, field)).sum();
        // A brand only counts when the names do not already match, so "Vega Milk"
        // is not the best "milk"; a category word ("овочі") is a strong signal.
        let brand_points = if names_points == 0 { 2 * strength(q, &brand) } else { 0 };
        let word_points = names_points + brand_points + 5 * strength(q, &category);
        matched += usize::from(word_points > 0);
        points += word_points;
    }
    // Numbers only break ties between variants ("2,5%" vs "3,2%").
    let numbers: Vec<f64> =
        name.iter().filter_map(|t| if let Token::Number(n) = t { Some(*n) } else { None }).collect();
    points += query.numbers.iter().filter(|n| numbers.contains(n)).count() as u32;
    (matched, points)
}

/// How well a query stem matches the best of a field's stems: 3, 2 or 0.
fn strength(query: &str, field: &[String]) -> u32 {
    match field.iter().map(|s| compare(query, s)).max().unwrap_or(Match::None) {
        Match::Exact => 3,
        Match::Prefix => 2,
        Match::None => 0,
    }
}

fn category_words(category: &str) -> &'static str {
    CATEGORIES.iter().find(|(key, _)| *key == category).map_or("", |(_, words)| words)
}

fn stems(tokens: &[Token]) -> Vec<String> {
    tokens.iter().filter_map(Token::word).map(stem).collect()
}

fn stems_of(text: &str) -> Vec<String> {
    stems(&tokenize(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_keeps_each_word_once_and_at_most_its_share() {
        let query = Query::new(&tokenize(&"zq 7 ".repeat(666)));
        assert_eq!((query.stems.len(), query.numbers.len()), (1, 1));
        let words: String = (0..100)
            .map(|i| format!("word{} {i} ", char::from(b'a' + (i % 26) as u8).to_string().repeat(i / 26 + 1)))
            .collect();
        let query = Query::new(&tokenize(&words));
        assert_eq!((query.stems.len(), query.numbers.len()), (MAX_QUERY_WORDS, MAX_QUERY_WORDS));
    }
}
