//! A tiny deterministic assistant for the sandbox simulator and tests.

use vizochok_proto::Language;

use crate::{Assistant, CartOp, Reply, Turn};

/// Most product cards in one reply.
const MAX_CARDS: usize = 5;

/// Answers by keywords: "clear" empties the cart, "add N" adds one step of
/// the N-th card of the previous reply, any other message shows up to five
/// products whose name (or keywords) contains one of its words.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeywordAssistant;

impl Assistant for KeywordAssistant {
    fn reply(&mut self, turn: &Turn<'_>) -> Reply {
        let lower = turn.text.to_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
        let uk = turn.language == Language::Uk;
        let say = |en: &str, ukr: &str| if uk { ukr.to_owned() } else { en.to_owned() };
        let mut reply = Reply { rounds: 1, ..Reply::default() };
        if words.iter().any(|w| matches!(*w, "clear" | "очисти" | "очистити")) {
            reply.text = say("I have cleared your cart.", "Я очистив ваш кошик.");
            reply.cart_ops.push(CartOp::Clear);
        } else if let (Some(&("add" | "додай")), Some(n)) = (words.first(), words.get(1)) {
            match n.parse::<usize>().ok().and_then(|n| turn.last_products.get(n.checked_sub(1)?)) {
                Some(card) => {
                    reply.text = format!("{} {}.", say("Added", "Додав"), card.name);
                    reply.cart_ops.push(CartOp::Add { sku: card.sku.clone(), quantity: card.quantity_step });
                }
                None => {
                    reply.text =
                        say("There is no such card in my last answer.", "У моїй останній відповіді немає такої картки.")
                }
            }
        } else {
            reply.products = turn
                .catalog
                .products()
                .iter()
                .filter(|p| {
                    let names = [Some(&p.name), p.name_en.as_ref()].into_iter().flatten().chain(&p.keywords);
                    let haystack: Vec<String> = names.map(|n| n.to_lowercase()).collect();
                    words.iter().filter(|w| w.chars().count() >= 3).any(|w| haystack.iter().any(|h| h.contains(w)))
                })
                .take(MAX_CARDS)
                .map(|p| p.card(turn.language))
                .collect();
            reply.text = if reply.products.is_empty() {
                say(
                    "Tell me a product name (for example \"milk\"), then \"add 1\" to add the first card, or \"clear\".",
                    "Назвіть товар (наприклад, «молоко»), потім «додай 1», щоб додати першу картку, або «очисти».",
                )
            } else {
                let names: Vec<&str> = reply.products.iter().map(|p| p.name.as_str()).collect();
                format!("{} {}.", say("Here is what I found:", "Ось що я знайшов:"), names.join(", "))
            };
        }
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Catalog, CatalogProduct};

    fn product(sku: &str, name: &str) -> CatalogProduct {
        CatalogProduct {
            sku: sku.into(),
            name: name.into(),
            name_en: None,
            brand: None,
            category: String::new(),
            unit: "pcs".into(),
            quantity_step: 1.0,
            price: 1.0,
            promo_price: None,
            image_url: None,
            keywords: vec![],
        }
    }

    fn ask(catalog: &Catalog, text: &str, last: &[vizochok_proto::ProductItem]) -> Reply {
        let turn = Turn { text, language: Language::En, catalog, cart: &[], last_products: last, context: None };
        KeywordAssistant.reply(&turn)
    }

    #[test]
    fn searches_adds_by_card_number_and_clears() {
        let catalog = Catalog::new(vec![product("m1", "Milk 2.5%"), product("m2", "Oat milk"), product("b", "Bread")]);
        let found = ask(&catalog, "Do you have milk?", &[]);
        assert_eq!(found.products.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(), ["m1", "m2"]);
        let added = ask(&catalog, "add 2", &found.products);
        assert_eq!(added.cart_ops, [CartOp::Add { sku: "m2".into(), quantity: 1.0 }]);
        assert!(ask(&catalog, "add 9", &found.products).cart_ops.is_empty());
        assert_eq!(ask(&catalog, "clear please", &[]).cart_ops, [CartOp::Clear]);
        let hint = ask(&catalog, "hi", &[]);
        assert!(hint.products.is_empty() && !hint.text.is_empty());
    }
}
