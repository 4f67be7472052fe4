//! A deterministic shopping assistant: it reads simple Ukrainian and English
//! requests (search, add, change, remove, clear, show the cart) with word
//! stems instead of a language model, so replies are reproducible in tests.
//! It knows the page the shopper is on ("add this"), answers in the
//! protocol's Markdown subset, and offers one-tap suggestions it also
//! understands when they are sent back.

mod request;
mod say;
mod search;
mod text;
mod words;

use vizochok_proto::{CartItem, Language, ProductItem};
use vizochok_server::{Assistant, CartOp, CatalogProduct, Reply, Turn};

use request::{Amount, Request, Target};
use say::Found;
use search::{is_noise, rank, Query};
use text::Token;

/// Most product cards in one reply.
const MAX_CARDS: usize = 6;

/// The sandbox's assistant. Stateless: everything it needs is in the [`Turn`].
#[derive(Debug, Default, Clone, Copy)]
pub struct DemoAssistant;

impl Assistant for DemoAssistant {
    fn reply(&mut self, turn: &Turn<'_>) -> Reply {
        let parsed = request::parse(turn.text);
        let language = turn.language;
        let mut reply = match parsed.request {
            Request::Help => Reply { suggestions: say::to_start(language), ..text_reply(say::help(language)) },
            Request::ShowCart => show_cart(turn),
            Request::Clear => clear(turn),
            Request::Add { target, amount } => add(turn, &target, amount),
            Request::Set { target, amount } => set(turn, &target, amount),
            Request::Remove { target } => remove(turn, &target),
            Request::Search { words, max_price, cheapest_first } => find(turn, &words, max_price, cheapest_first),
        };
        if !reply.cart_ops.is_empty() {
            reply.suggestions = say::after_change(language);
        }
        if parsed.greeted {
            reply.text.insert_str(0, say::greeting(language));
        }
        reply.rounds = 1;
        reply
    }
}

/// What a shopper pays per unit now.
fn effective_price(product: &CatalogProduct) -> f64 {
    product.promo_price.unwrap_or(product.price)
}

fn text_reply(text: String) -> Reply {
    Reply { text, ..Reply::default() }
}

fn find(turn: &Turn<'_>, words: &[Token], max_price: Option<f64>, cheapest_first: bool) -> Reply {
    let language = turn.language;
    let query = Query::new(words);
    let affordable = |p: &&CatalogProduct| max_price.is_none_or(|cap| effective_price(p) <= cap + 1e-9);
    let mut found: Vec<&CatalogProduct> = if !query.is_empty() {
        rank(&query, turn.catalog.products().iter().filter(affordable)).products
    } else if cheapest_first {
        // "Show cheaper" after a list: the same kind of product.
        let like = like_shown(turn);
        if like.is_empty() {
            return Reply { suggestions: say::to_start(language), ..text_reply(say::cheaper_than_what(language)) };
        }
        like
    } else if max_price.is_some() {
        turn.catalog.products().iter().filter(affordable).collect()
    } else {
        return Reply { suggestions: say::to_start(language), ..text_reply(say::help(language)) };
    };
    if found.is_empty() {
        return Reply { suggestions: say::to_start(language), ..text_reply(say::not_found(language, turn.text)) };
    }
    let how = match (max_price, cheapest_first) {
        (Some(cap), _) => Found::UpTo(cap),
        (None, true) => Found::Cheapest,
        (None, false) => Found::Matches,
    };
    if how != Found::Matches && (cheapest_first || query.is_empty()) {
        // Stable: equal prices keep their order, so replies are reproducible.
        found.sort_by(|a, b| effective_price(a).total_cmp(&effective_price(b)));
    }
    let shown = &found[..found.len().min(MAX_CARDS)];
    Reply {
        text: say::found(language, shown, found.len(), how),
        products: shown.iter().map(|p| p.card(language)).collect(),
        suggestions: say::after_search(language),
        ..Reply::default()
    }
}

/// Catalog products of the same kind as the previous reply's cards: they
/// share a search keyword (or, without keywords, the category).
fn like_shown<'a>(turn: &Turn<'a>) -> Vec<&'a CatalogProduct> {
    let catalog = turn.catalog;
    let shown: Vec<&CatalogProduct> = turn.last_products.iter().filter_map(|card| catalog.get(&card.sku)).collect();
    let alike = |p: &CatalogProduct, s: &CatalogProduct| match s.keywords.is_empty() {
        false => s.keywords.iter().any(|k| p.keywords.contains(k)),
        true => !s.category.is_empty() && s.category == p.category,
    };
    catalog.products().iter().filter(|p| shown.iter().any(|s| alike(p, s))).collect()
}

/// The product the shopper means by "this": the page's product, else the
/// only card of the previous reply.
fn this_product(turn: &Turn<'_>) -> Option<Pick> {
    match turn.context.and_then(|c| c.sku.as_deref()) {
        Some(sku) => turn.catalog.get(sku).map(|p| Pick::product(p, turn.language)),
        None => match turn.last_products {
            [card] => Some(Pick::card(card)),
            _ => None,
        },
    }
}

/// A product a cart command is about.
#[derive(Debug)]
struct Pick {
    sku: String,
    name: String,
    unit: String,
    /// 0 when unknown (a cart item no longer in the catalog).
    step: f64,
}

impl Pick {
    fn product(product: &CatalogProduct, language: Language) -> Pick {
        Pick {
            sku: product.sku.clone(),
            name: product.display_name(language).to_owned(),
            unit: product.unit.clone(),
            step: product.quantity_step,
        }
    }

    fn card(card: &ProductItem) -> Pick {
        Pick { sku: card.sku.clone(), name: card.name.clone(), unit: card.unit.clone(), step: card.quantity_step }
    }

    fn cart_item(item: &CartItem, turn: &Turn<'_>) -> Pick {
        match turn.catalog.get(&item.sku) {
            Some(product) => Pick::product(product, turn.language),
            None => Pick { sku: item.sku.clone(), name: item.name.clone(), unit: String::new(), step: 0.0 },
        }
    }

    /// The quantity to send for `amount` (one step when absent), snapped to
    /// the step; `true` when snapping changed it.
    fn quantity(&self, amount: Option<Amount>) -> (f64, bool) {
        let Some(amount) = amount else {
            return (if self.step > 0.0 { self.step } else { 1.0 }, false);
        };
        let requested = match amount.unit {
            Some(unit) if unit.catalog_unit() == self.unit => unit.to_catalog(amount.value),
            _ => amount.value,
        };
        // A number of 309 digits or more reads as infinity, which no cart
        // (and no JSON snapshot) holds: a trillion is refused as too much
        // all the same, and stays a number through the snapping below.
        let requested = requested.min(1e12);
        if self.step <= 0.0 {
            return (requested, false);
        }
        let steps = (requested / self.step).round().max(1.0);
        // Rounded to grams so 3 × 0.1 is sent as 0.3.
        let quantity = (steps * self.step * 1000.0).round() / 1000.0;
        (quantity, (quantity - requested).abs() > 1e-9)
    }
}

fn add(turn: &Turn<'_>, target: &Target, amount: Option<Amount>) -> Reply {
    let language = turn.language;
    let pick = match target {
        Target::Index(n) => match nth(turn.last_products, *n) {
            Some(card) => Pick::card(card),
            None => return text_reply(say::no_card(language, *n, turn.last_products.len())),
        },
        Target::Unspecified => match turn.last_products {
            [card] => Pick::card(card),
            _ => return text_reply(say::what_to_add(language)),
        },
        Target::This => match this_product(turn) {
            Some(pick) => pick,
            None => return text_reply(say::what_is_this(language)),
        },
        Target::Words(words) => match best_product(turn, words, amount) {
            Some(product) => Pick::product(product, language),
            None => return text_reply(say::not_found(language, turn.text)),
        },
    };
    let (quantity, adjusted) = pick.quantity(amount);
    let mut text = say::added(language, &pick.name, quantity, &pick.unit, adjusted);
    if let (Target::This, Some(context)) = (target, turn.context) {
        let on_page = context.sku.as_deref() == Some(pick.sku.as_str());
        let url = context.page.as_ref().and_then(|page| page.url.as_deref()).filter(|_| on_page);
        text.extend(url.and_then(|url| say::product_page(language, url)));
    }
    Reply { text, cart_ops: vec![CartOp::Add { sku: pick.sku, quantity }], ..Reply::default() }
}

/// The best catalog match, preferring the previous reply's cards when they
/// match as well, and products sold in the unit the shopper named.
fn best_product<'a>(turn: &Turn<'a>, words: &[Token], amount: Option<Amount>) -> Option<&'a CatalogProduct> {
    let query = Query::new(words);
    let catalog = turn.catalog;
    let shown = rank(&query, turn.last_products.iter().filter_map(|card| catalog.get(&card.sku)));
    let all = rank(&query, catalog.products());
    let ranked = if shown.matched > 0 && shown.matched >= all.matched { shown } else { all };
    let unit = amount.and_then(|a| a.unit).map(|u| u.catalog_unit());
    let in_unit = ranked.products.iter().find(|p| Some(p.unit.as_str()) == unit);
    in_unit.or(ranked.products.first()).copied()
}

fn set(turn: &Turn<'_>, target: &Target, amount: Option<Amount>) -> Reply {
    let language = turn.language;
    let pick = match cart_pick(turn, target) {
        Ok(pick) => pick,
        Err(reply) => return reply,
    };
    let Some(amount) = amount else {
        return text_reply(say::how_many(language, &pick.name));
    };
    if amount.value <= 0.0 {
        return remove_pick(language, pick);
    }
    let (quantity, adjusted) = pick.quantity(Some(amount));
    Reply {
        text: say::quantity_set(language, &pick.name, quantity, &pick.unit, adjusted),
        cart_ops: vec![CartOp::SetQuantity { sku: pick.sku, quantity }],
        ..Reply::default()
    }
}

fn remove(turn: &Turn<'_>, target: &Target) -> Reply {
    match cart_pick(turn, target) {
        Ok(pick) => remove_pick(turn.language, pick),
        Err(reply) => reply,
    }
}

fn remove_pick(language: Language, pick: Pick) -> Reply {
    Reply {
        text: say::removed(language, &pick.name),
        cart_ops: vec![CartOp::Remove { sku: pick.sku }],
        ..Reply::default()
    }
}

/// The cart item a change or removal is about, or the reply explaining why
/// there is none.
fn cart_pick(turn: &Turn<'_>, target: &Target) -> Result<Pick, Reply> {
    let language = turn.language;
    if turn.cart.is_empty() {
        return Err(text_reply(say::cart_empty(language)));
    }
    let in_cart = |sku: &str| turn.cart.iter().find(|item| item.sku == sku);
    match target {
        // A number means the previous reply's card, or the cart's line when
        // there were no cards.
        Target::Index(n) if turn.last_products.is_empty() => match nth(turn.cart, *n) {
            Some(item) => Ok(Pick::cart_item(item, turn)),
            None => Err(text_reply(say::no_card(language, *n, turn.cart.len()))),
        },
        Target::Index(n) => match nth(turn.last_products, *n) {
            Some(card) if in_cart(&card.sku).is_some() => Ok(Pick::card(card)),
            Some(card) => Err(text_reply(say::not_in_cart(language, &card.name))),
            None => Err(text_reply(say::no_card(language, *n, turn.last_products.len()))),
        },
        Target::Unspecified => match turn.cart {
            [item] => Ok(Pick::cart_item(item, turn)),
            _ => Err(text_reply(say::which_item(language))),
        },
        Target::This => match this_product(turn) {
            Some(pick) if in_cart(&pick.sku).is_some() => Ok(pick),
            Some(pick) => Err(text_reply(say::not_in_cart(language, &pick.name))),
            None => Err(text_reply(say::which_item(language))),
        },
        Target::Words(words) => {
            // Items the catalog no longer has are matched by their cart name.
            let products: Vec<CatalogProduct> = turn
                .cart
                .iter()
                .map(|item| turn.catalog.get(&item.sku).cloned().unwrap_or_else(|| product_of(item)))
                .collect();
            match rank(&Query::new(words), &products).products.first() {
                Some(product) => Ok(Pick::product(product, language)),
                None => Err(text_reply(say::not_in_cart(language, &request_words(words)))),
            }
        }
    }
}

/// The n-th (1-based) of `items`.
fn nth<T>(items: &[T], n: usize) -> Option<&T> {
    n.checked_sub(1).and_then(|i| items.get(i))
}

/// A stand-in catalog entry for a cart item, for name matching only.
fn product_of(item: &CartItem) -> CatalogProduct {
    CatalogProduct {
        sku: item.sku.clone(),
        name: item.name.clone(),
        name_en: None,
        brand: item.brand.clone(),
        category: String::new(),
        unit: String::new(),
        quantity_step: 0.0,
        price: item.price,
        promo_price: item.promo_price,
        image_url: None,
        keywords: Vec::new(),
    }
}

/// The product words of a request, for echoing back.
fn request_words(words: &[Token]) -> String {
    let words: Vec<String> = words
        .iter()
        .filter_map(|t| match t {
            Token::Word(w) if is_noise(w) => None,
            Token::Word(w) => Some(w.clone()),
            Token::Number(n) => Some(say::number(*n)),
        })
        .collect();
    words.join(" ")
}

fn clear(turn: &Turn<'_>) -> Reply {
    if turn.cart.is_empty() {
        return text_reply(say::cart_empty(turn.language));
    }
    Reply { text: say::cleared(turn.language), cart_ops: vec![CartOp::Clear], ..Reply::default() }
}

fn show_cart(turn: &Turn<'_>) -> Reply {
    let language = turn.language;
    if turn.cart.is_empty() {
        return text_reply(say::cart_empty(language));
    }
    let total: f64 = turn.cart.iter().map(|i| i.promo_price.unwrap_or(i.price) * i.quantity).sum();
    // Cards let "видали 2" / "remove 2" refer to a line of this listing.
    let products = turn
        .cart
        .iter()
        .filter_map(|item| {
            let product = turn.catalog.get(&item.sku)?;
            Some(ProductItem { quantity: Some(item.quantity), ..product.card(language) })
        })
        .collect();
    Reply { text: say::cart(language, turn.cart, total), products, ..Reply::default() }
}

#[cfg(test)]
mod tests;
