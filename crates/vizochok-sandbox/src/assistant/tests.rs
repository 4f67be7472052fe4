use vizochok_proto::{CartItem, Language, PageContext, PageInfo, ProductItem};
use vizochok_server::{Assistant, CartOp, Catalog, Reply, Turn};

use super::DemoAssistant;
use crate::demo_catalog;

struct Session {
    catalog: Catalog,
    cart: Vec<CartItem>,
    last_products: Vec<ProductItem>,
    language: Language,
    context: Option<PageContext>,
}

impl Session {
    fn new(language: Language) -> Session {
        Session { catalog: demo_catalog(), cart: Vec::new(), last_products: Vec::new(), language, context: None }
    }

    /// The shopper opens the page of `sku` at `url`.
    fn on_page(&mut self, sku: &str, url: &str) {
        let page = PageInfo { url: Some(url.into()), title: Some("Product".into()) };
        self.context = Some(PageContext { page: Some(page), sku: Some(sku.into()), ..PageContext::default() });
    }

    /// One turn; the cards become the next turn's `last_products` and the
    /// cart ops are applied the way the engine would.
    fn say(&mut self, text: &str) -> Reply {
        let turn = Turn {
            text,
            language: self.language,
            catalog: &self.catalog,
            cart: &self.cart,
            last_products: &self.last_products,
            context: self.context.as_ref(),
        };
        let reply = DemoAssistant.reply(&turn);
        assert!(!reply.text.trim().is_empty(), "empty reply to {text:?}");
        assert_eq!(reply.rounds, 1);
        for op in &reply.cart_ops {
            self.apply(op);
        }
        self.last_products = reply.products.clone();
        reply
    }

    fn apply(&mut self, op: &CartOp) {
        match op {
            CartOp::Add { sku, quantity } => {
                let product = self.catalog.get(sku).unwrap();
                assert!(product.accepts_quantity(*quantity), "{sku}: {quantity}");
                match self.cart.iter_mut().find(|i| &i.sku == sku) {
                    Some(item) => item.quantity += quantity,
                    None => self.cart.push(CartItem {
                        sku: sku.clone(),
                        name: product.display_name(self.language).to_owned(),
                        price: product.price,
                        promo_price: product.promo_price,
                        brand: product.brand.clone(),
                        quantity: *quantity,
                    }),
                }
            }
            CartOp::SetQuantity { sku, quantity } => {
                assert!(self.catalog.get(sku).unwrap().accepts_quantity(*quantity));
                self.cart.iter_mut().find(|i| &i.sku == sku).unwrap().quantity = *quantity;
            }
            CartOp::Remove { sku } => self.cart.retain(|i| &i.sku != sku),
            CartOp::Clear => self.cart.clear(),
        }
    }

    fn category(&self, sku: &str) -> &str {
        &self.catalog.get(sku).unwrap().category
    }

    fn keywords(&self, sku: &str) -> &[String] {
        &self.catalog.get(sku).unwrap().keywords
    }
}

fn only_op(reply: &Reply) -> &CartOp {
    assert_eq!(reply.cart_ops.len(), 1, "{reply:?}");
    &reply.cart_ops[0]
}

#[test]
fn milk_search_finds_milk_in_both_languages() {
    for (language, text) in [(Language::Uk, "знайди молоко"), (Language::En, "find milk"), (Language::Uk, "Молока")]
    {
        let mut session = Session::new(language);
        let reply = session.say(text);
        assert!(reply.products.len() >= 3, "{text}: {reply:?}");
        assert!(reply.products.len() <= 6);
        for card in &reply.products {
            assert!(session.keywords(&card.sku).iter().any(|k| k == "milk"), "{text}: {}", card.name);
            assert!(reply.text.contains(&card.name), "{}", reply.text);
        }
        assert!(reply.cart_ops.is_empty());
    }
    let mut session = Session::new(Language::En);
    let reply = session.say("find milk");
    assert!(reply.text.starts_with("Here is what I found:"), "{}", reply.text);
    assert!(reply.products[0].name.to_lowercase().contains("milk"));
}

#[test]
fn finds_by_brand_and_category() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("покажи Рошен");
    assert!(!reply.products.is_empty());
    assert!(reply.products.iter().all(|c| c.brand.as_deref() == Some("Рошен")), "{reply:?}");

    let reply = session.say("які у вас фрукти?");
    assert_eq!(reply.products.len(), 6);
    assert!(reply.products.iter().all(|c| session.category(&c.sku) == "fruits"));

    let reply = session.say("молоко Яготинське");
    assert_eq!(reply.products.len(), 1, "{reply:?}");
    assert_eq!(reply.products[0].brand.as_deref(), Some("Яготинське"));
}

#[test]
fn every_product_is_findable_by_its_name() {
    let catalog = demo_catalog();
    for product in catalog.products() {
        for language in [Language::Uk, Language::En] {
            let name = product.display_name(language);
            let mut session = Session::new(language);
            let reply = session.say(name);
            assert!(reply.products.iter().any(|c| c.sku == product.sku), "{name:?} not found: {}", reply.text);
        }
    }
}

#[test]
fn price_filter_caps_effective_prices() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("сир дешевше 100 грн");
    assert!(!reply.products.is_empty());
    for card in &reply.products {
        assert!(card.promo_price.unwrap_or(card.price) <= 100.0, "{card:?}");
        assert!(session.keywords(&card.sku).iter().any(|k| k == "сир"), "{card:?}");
    }
    assert!(reply.text.contains("до 100.00 грн"), "{}", reply.text);

    let mut session = Session::new(Language::En);
    let reply = session.say("anything under 15 uah");
    assert!(!reply.products.is_empty(), "{}", reply.text);
    let prices: Vec<f64> = reply.products.iter().map(|c| c.promo_price.unwrap_or(c.price)).collect();
    assert!(prices.iter().all(|p| *p <= 15.0) && prices.is_sorted(), "{prices:?}");

    let reply = session.say("bread cheaper than 1");
    assert!(reply.products.is_empty() && reply.text.starts_with("Sorry"), "{}", reply.text);
}

#[test]
fn adds_by_name_with_a_quantity() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("додай 2 молока");
    let CartOp::Add { sku, quantity } = only_op(&reply) else { panic!("{reply:?}") };
    assert!(session.keywords(sku).iter().any(|k| k == "milk"));
    assert_eq!(*quantity, 2.0);
    assert!(reply.text.starts_with("Додаю в кошик:") && reply.text.contains("2 шт"), "{}", reply.text);

    let mut session = Session::new(Language::En);
    let reply = session.say("add bread");
    let CartOp::Add { sku, quantity } = only_op(&reply) else { panic!("{reply:?}") };
    assert!(session.keywords(sku).iter().any(|k| k == "bread"), "{sku}");
    assert_eq!(*quantity, 1.0, "default is one step");
}

#[test]
fn adds_the_nth_card_of_the_previous_reply() {
    let mut session = Session::new(Language::Uk);
    let listed = session.say("знайди молоко").products;
    for text in ["додай 2", "/add 2"] {
        let reply = session.say(text);
        assert_eq!(only_op(&reply), &CartOp::Add { sku: listed[1].sku.clone(), quantity: 1.0 }, "{text}");
        session.last_products = listed.clone();
    }

    // Out of range, or with no list at all: an explanation, no op.
    let reply = session.say("додай 9");
    assert!(reply.cart_ops.is_empty() && reply.text.contains("№9"), "{}", reply.text);
    let reply = session.say("add 1");
    assert!(reply.cart_ops.is_empty(), "no list any more: {reply:?}");
}

#[test]
fn words_prefer_the_cards_just_shown() {
    let mut session = Session::new(Language::Uk);
    session.say("молоко Простоквашино");
    let shown = session.last_products[0].sku.clone();
    let reply = session.say("додай молоко");
    assert_eq!(only_op(&reply), &CartOp::Add { sku: shown, quantity: 1.0 });
}

#[test]
fn weighed_goods_respect_the_quantity_step() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("додай 1.5 кг сиру");
    let CartOp::Add { sku, quantity } = only_op(&reply) else { panic!("{reply:?}") };
    assert_eq!(session.catalog.get(sku).unwrap().unit, "kg");
    assert_eq!(*quantity, 1.5);
    assert!(reply.text.contains("1.5 кг"), "{}", reply.text);

    let reply = session.say("додай 300 г сиру");
    let CartOp::Add { quantity, .. } = only_op(&reply) else { panic!("{reply:?}") };
    assert_eq!(*quantity, 0.3);

    // Potatoes are sold in 0.5 kg steps: 1.2 kg is rounded, and the reply says so.
    let reply = session.say("додай 1,2 кг картоплі");
    let CartOp::Add { sku, quantity } = only_op(&reply) else { panic!("{reply:?}") };
    assert_eq!(session.catalog.get(sku).unwrap().quantity_step, 0.5);
    assert_eq!(*quantity, 1.0);
    assert!(reply.text.contains("округлено"), "{}", reply.text);

    // No quantity: one step.
    let reply = session.say("add carrots");
    assert!(matches!(only_op(&reply), CartOp::Add { quantity, .. } if *quantity == 0.1));
}

#[test]
fn changes_a_quantity() {
    let mut session = Session::new(Language::Uk);
    session.say("додай хліб");
    session.say("додай 2 молока");
    let milk = session.cart[1].sku.clone();
    let reply = session.say("зміни кількість молока на 3");
    assert_eq!(only_op(&reply), &CartOp::SetQuantity { sku: milk.clone(), quantity: 3.0 });
    assert_eq!(session.cart[1].quantity, 3.0);

    let mut english = Session::new(Language::En);
    english.cart = session.cart.clone();
    let reply = english.say("set milk to 5");
    assert_eq!(only_op(&reply), &CartOp::SetQuantity { sku: milk.clone(), quantity: 5.0 });
    assert!(reply.text.starts_with("Setting "), "{}", reply.text);

    // Zero removes; no number asks; an item not in the cart is explained.
    let reply = english.say("set milk to 0");
    assert_eq!(only_op(&reply), &CartOp::Remove { sku: milk });
    let reply = english.say("change bread");
    assert!(reply.cart_ops.is_empty() && reply.text.contains("quantity"), "{}", reply.text);
    let reply = english.say("set bananas to 2");
    assert!(reply.cart_ops.is_empty() && reply.text.contains("not in your cart"), "{}", reply.text);
}

#[test]
fn removes_an_item() {
    let mut session = Session::new(Language::Uk);
    session.say("додай молоко");
    session.say("додай сир");
    let milk = session.cart[0].sku.clone();
    let reply = session.say("видали молоко");
    assert_eq!(only_op(&reply), &CartOp::Remove { sku: milk });
    assert!(reply.text.starts_with("Видаляю з кошика:"), "{}", reply.text);

    let cheese = session.cart[0].sku.clone();
    let mut english = Session::new(Language::En);
    english.cart = session.cart.clone();
    let reply = english.say("remove cheese");
    assert_eq!(only_op(&reply), &CartOp::Remove { sku: cheese });
    let reply = english.say("remove milk");
    assert!(reply.cart_ops.is_empty() && !reply.text.is_empty());
}

#[test]
fn removes_by_line_of_the_cart_listing() {
    let mut session = Session::new(Language::En);
    session.say("add milk");
    session.say("add bread");
    let bread = session.cart[1].sku.clone();
    let listing = session.say("what's in my cart?");
    assert_eq!(listing.products.len(), 2);
    assert_eq!(listing.products[1].quantity, Some(1.0));
    let reply = session.say("remove 2");
    assert_eq!(only_op(&reply), &CartOp::Remove { sku: bread });
}

#[test]
fn clears_the_cart() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("очисти кошик");
    assert!(reply.cart_ops.is_empty(), "already empty: {reply:?}");
    session.say("додай молоко");
    let reply = session.say("очисти кошик");
    assert_eq!(only_op(&reply), &CartOp::Clear);

    let mut english = Session::new(Language::En);
    english.say("add milk");
    assert_eq!(only_op(&english.say("Please clear the cart")), &CartOp::Clear);
}

#[test]
fn lists_the_cart_with_its_total() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("що в кошику?");
    assert!(reply.text.contains("порожній"), "{}", reply.text);

    session.say("додай 2 молока");
    session.say("додай 1.5 кг сиру");
    let reply = session.say("що в кошику?");
    let total: f64 = session.cart.iter().map(|i| i.promo_price.unwrap_or(i.price) * i.quantity).sum();
    for item in &session.cart {
        assert!(reply.text.contains(&item.name), "{}", reply.text);
    }
    assert!(reply.text.contains(&format!("Разом: {total:.2} грн")), "{}", reply.text);
    assert!(reply.cart_ops.is_empty());

    let mut english = Session::new(Language::En);
    english.cart = session.cart.clone();
    let reply = english.say("show my cart");
    assert!(reply.text.starts_with("Your cart:") && reply.text.contains(&format!("Total: {total:.2} UAH")));
}

#[test]
fn greetings_and_unknown_requests_get_help() {
    for (language, text, expected) in [
        (Language::Uk, "Привіт!", "Привіт! Я демо-помічник"),
        (Language::En, "hello", "Hi! I'm the VIZOCHOK demo assistant"),
        (Language::Uk, "що ти вмієш?", "Я демо-помічник"),
        (Language::En, "", "I'm the VIZOCHOK demo assistant"),
        (Language::Uk, "квантовий двигун", "На жаль, я не знайшов товарів за запитом «квантовий двигун»"),
        (Language::En, "quantum engine", "Sorry, I found nothing for \"quantum engine\""),
        (Language::En, "???", "I'm the VIZOCHOK demo assistant"),
    ] {
        let reply = Session::new(language).say(text);
        assert!(reply.text.starts_with(expected), "{text:?}: {}", reply.text);
        assert!(reply.products.is_empty() && reply.cart_ops.is_empty());
    }
    // The help lists what the assistant can do.
    let reply = Session::new(Language::En).say("help");
    for example in ["find milk", "add 2 milk", "set milk to 3", "remove milk", "clear the cart", "show my cart"] {
        assert!(reply.text.contains(example), "{example}");
    }
}

#[test]
fn greeting_then_request_answers_the_request() {
    let reply = Session::new(Language::Uk).say("Привіт, покажи хліб");
    assert!(reply.text.starts_with("Привіт! Ось що я знайшов"), "{}", reply.text);
    assert!(!reply.products.is_empty());
}

#[test]
fn replies_are_deterministic() {
    let run = || {
        let mut session = Session::new(Language::Uk);
        ["знайди молоко", "додай 2", "додай 1.5 кг сиру", "що в кошику"].map(|t| session.say(t))
    };
    assert_eq!(run(), run());
}

#[test]
fn add_this_adds_the_product_of_the_page_and_links_back_to_it() {
    for (language, text, linked) in [
        (Language::Uk, "додай це", "Сторінка товару: [відкрити](https://shop.example/p/DAI-003)."),
        (Language::Uk, "Додай цей товар, будь ласка", "[відкрити](https://shop.example/p/DAI-003)"),
        (Language::En, "add this", "Product page: [open](https://shop.example/p/DAI-003)."),
        (Language::En, "please add it to my cart", "[open](https://shop.example/p/DAI-003)"),
    ] {
        let mut session = Session::new(language);
        session.say("find bread");
        session.on_page("DAI-003", "https://shop.example/p/DAI-003");
        let reply = session.say(text);
        assert_eq!(only_op(&reply), &CartOp::Add { sku: "DAI-003".into(), quantity: 1.0 }, "{text}");
        let name = session.catalog.get("DAI-003").unwrap().display_name(language).to_owned();
        assert!(reply.text.contains(&format!("**{name}**")), "{text}: {}", reply.text);
        assert!(reply.text.contains(linked), "{text}: {}", reply.text);
    }
    // "add 2 of these" takes the amount too.
    let mut session = Session::new(Language::En);
    session.on_page("DAI-003", "https://shop.example/p/DAI-003");
    assert_eq!(only_op(&session.say("add 2 of these")), &CartOp::Add { sku: "DAI-003".into(), quantity: 2.0 });
}

#[test]
fn a_page_address_that_is_not_http_is_never_a_link() {
    let mut session = Session::new(Language::En);
    session.on_page("DAI-003", "javascript:alert(1)");
    let reply = session.say("add this");
    assert_eq!(reply.cart_ops.len(), 1);
    assert!(!reply.text.contains("](") && !reply.text.contains("javascript"), "{}", reply.text);
}

#[test]
fn add_this_without_a_page_takes_the_only_card_or_asks() {
    let mut session = Session::new(Language::Uk);
    let reply = session.say("додай це");
    assert!(reply.cart_ops.is_empty() && reply.text.contains("Який саме товар?"), "{}", reply.text);
    session.say("молоко Яготинське");
    assert_eq!(session.last_products.len(), 1);
    let only = session.last_products[0].sku.clone();
    assert_eq!(only_op(&session.say("додай це")), &CartOp::Add { sku: only, quantity: 1.0 });
    // A page whose product the store does not sell: ask rather than guess.
    session.on_page("NO-SUCH-SKU", "https://shop.example/p/x");
    assert!(session.say("add this").cart_ops.is_empty());
}

#[test]
fn remove_this_removes_the_page_product_when_it_is_in_the_cart() {
    let mut session = Session::new(Language::En);
    session.say("add milk");
    let milk = session.cart[0].sku.clone();
    session.on_page(&milk, "https://shop.example/p/milk");
    assert_eq!(only_op(&session.say("remove this")), &CartOp::Remove { sku: milk });
}

#[test]
fn a_search_offers_suggestions_the_assistant_understands_back() {
    for (language, search, cheaper, first) in [
        (Language::Uk, "знайди молоко", "Покажи дешевші", "Додай перший"),
        (Language::En, "find milk", "Show cheaper", "Add the first one"),
    ] {
        let mut session = Session::new(language);
        let found = session.say(search);
        assert_eq!(found.suggestions, [cheaper, first]);
        assert!(found.suggestions.iter().all(|s| s.chars().count() <= 80));

        let cheapest = session.say(cheaper);
        let prices: Vec<f64> = cheapest.products.iter().map(|c| c.promo_price.unwrap_or(c.price)).collect();
        assert!(!prices.is_empty() && prices.is_sorted(), "{cheaper}: {prices:?}");
        assert!(cheapest.products.iter().all(|c| session.keywords(&c.sku).iter().any(|k| k == "milk")), "{cheaper}");
        assert!(prices[0] <= found.products.iter().map(|c| c.promo_price.unwrap_or(c.price)).fold(f64::MAX, f64::min));

        let first_card = cheapest.products[0].sku.clone();
        let added = session.say(first);
        assert_eq!(only_op(&added), &CartOp::Add { sku: first_card, quantity: 1.0 }, "{first}");
        assert_eq!(added.suggestions, [if language == Language::Uk { "Що в кошику?" } else { "Show my cart" }]);
        // And that one reads as a cart listing.
        let cart = session.say(&added.suggestions[0]);
        assert!(cart.text.starts_with(if language == Language::Uk {
            "У вашому кошику:"
        } else {
            "Your cart:"
        }));
    }
}

#[test]
fn show_cheaper_with_nothing_shown_asks_what_to_compare() {
    let reply = Session::new(Language::En).say("show cheaper");
    assert!(reply.products.is_empty() && reply.text.starts_with("Cheaper than what?"), "{}", reply.text);
    assert_eq!(reply.suggestions, ["Find milk"]);
    let reply = Session::new(Language::En).say("cheaper cheese");
    let prices: Vec<f64> = reply.products.iter().map(|c| c.promo_price.unwrap_or(c.price)).collect();
    assert!(!prices.is_empty() && prices.is_sorted(), "{prices:?}");
    assert!(reply.text.starts_with("Cheapest first:"), "{}", reply.text);
}

#[test]
fn replies_use_the_markdown_subset() {
    let mut session = Session::new(Language::Uk);
    let found = session.say("знайди молоко");
    // A numbered list, one bold product name per line.
    for (n, card) in found.products.iter().enumerate() {
        assert!(found.text.contains(&format!("\n{}. **{}** — ", n + 1, card.name)), "{}", found.text);
    }
    session.say("додай 1");
    let help = session.say("допомога");
    assert!(help.text.lines().filter(|l| l.starts_with("- ")).count() >= 5, "{}", help.text);
    let cart = session.say("що в кошику?");
    assert!(cart.text.contains(&format!("1. **{}** — ", session.cart[0].name)), "{}", cart.text);
    // A name that holds an asterisk is not wrapped (the bold would break).
    assert_eq!(super::say::bold("Сир *особливий*"), "Сир *особливий*");
}

#[test]
fn a_number_too_large_for_a_float_asks_for_a_finite_quantity() {
    let catalog = demo_catalog();
    let huge = "9".repeat(320);
    for text in [format!("add {huge} bread"), format!("add {huge} kg of carrots"), format!("set bread to {huge}")] {
        let turn = Turn {
            text: &text,
            language: Language::En,
            catalog: &catalog,
            cart: &[],
            last_products: &[],
            context: None,
        };
        let reply = DemoAssistant.reply(&turn);
        assert!(reply.cart_ops.iter().all(CartOp::is_finite), "{text}: {:?}", reply.cart_ops);
    }
}
