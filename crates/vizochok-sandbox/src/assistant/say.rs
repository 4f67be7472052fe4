//! Reply texts, in the session's language, in the protocol's small Markdown
//! subset: product names in `**bold**`, numbered and bullet lists, and a
//! `[link](https://…)` to the shopper's page where one is known.

use std::fmt::Write as _;

use vizochok_proto::{CartItem, Language};
use vizochok_server::CatalogProduct;

use super::effective_price;

const HELP_UK: &str = "Я демо-помічник VIZOCHOK. Я вмію:\n\
- шукати товари: «знайди молоко», «сир дешевше 300 грн», «покажи дешевші»;\n\
- додавати в кошик: «додай 2 молока», «додай 1.5 кг сиру», «додай 2» — другий товар зі списку, \
або «додай це» — товар зі сторінки, яку ви переглядаєте;\n\
- змінювати кількість: «зміни кількість молока на 3»;\n\
- видаляти товар: «видали молоко»; очищати кошик: «очисти кошик»;\n\
- показувати кошик: «що в кошику».";

const HELP_EN: &str = "I'm the VIZOCHOK demo assistant. I can:\n\
- find products: \"find milk\", \"cheese cheaper than 300\", \"show cheaper\";\n\
- add to your cart: \"add 2 milk\", \"add 1.5 kg cheese\", \"add 2\" for the second product listed, \
or \"add this\" for the product on the page you are viewing;\n\
- change a quantity: \"set milk to 3\";\n\
- remove a product: \"remove milk\"; empty the cart: \"clear the cart\";\n\
- show your cart: \"show my cart\".";

fn pick(language: Language, uk: &'static str, en: &'static str) -> &'static str {
    match language {
        Language::Uk => uk,
        Language::En => en,
    }
}

pub(crate) fn help(language: Language) -> String {
    pick(language, HELP_UK, HELP_EN).to_owned()
}

pub(crate) fn greeting(language: Language) -> &'static str {
    pick(language, "Привіт! ", "Hi! ")
}

pub(crate) fn not_found(language: Language, request: &str) -> String {
    let request = shorten(request.trim());
    match language {
        Language::Uk => format!("На жаль, я не знайшов товарів за запитом «{request}».\n\n{HELP_UK}"),
        Language::En => format!("Sorry, I found nothing for \"{request}\".\n\n{HELP_EN}"),
    }
}

/// How a list of found products is introduced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Found {
    /// Best matches first.
    Matches,
    /// Up to a price.
    UpTo(f64),
    /// Cheapest first.
    Cheapest,
}

/// A numbered list of found products.
pub(crate) fn found(language: Language, shown: &[&CatalogProduct], total: usize, how: Found) -> String {
    let mut text = match (language, how) {
        (Language::Uk, Found::UpTo(cap)) => format!("Ось що я знайшов до {}:", money(language, cap)),
        (Language::En, Found::UpTo(cap)) => format!("Here is what I found up to {}:", money(language, cap)),
        (_, Found::Cheapest) => pick(language, "Від найдешевшого:", "Cheapest first:").to_owned(),
        (_, Found::Matches) => pick(language, "Ось що я знайшов:", "Here is what I found:").to_owned(),
    };
    for (i, p) in shown.iter().enumerate() {
        let _ = write!(text, "\n{}. {} — {}", i + 1, bold(p.display_name(language)), price(language, p));
    }
    if total > shown.len() {
        let more = total - shown.len();
        let _ = match language {
            Language::Uk => write!(text, "\n…і ще {more}. Уточніть запит, щоб побачити інші."),
            Language::En => write!(text, "\n…and {more} more. Narrow the request to see them."),
        };
    }
    text.push_str(pick(
        language,
        "\nЩоб додати товар, напишіть, наприклад, «додай 1».",
        "\nTo add one, say e.g. \"add 1\".",
    ));
    text
}

pub(crate) fn added(language: Language, name: &str, quantity: f64, unit: &str, adjusted: bool) -> String {
    let (name, amount) = (bold(name), amount(language, quantity, unit));
    let text = match language {
        Language::Uk => format!("Додаю в кошик: {name} — {amount}."),
        Language::En => format!("Adding to your cart: {name} — {amount}."),
    };
    with_rounding_note(language, text, adjusted)
}

/// A link back to the product's page, when the page gave a usable address.
pub(crate) fn product_page(language: Language, url: &str) -> Option<String> {
    let safe = (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control() || "()[]<>".contains(c));
    safe.then(|| match language {
        Language::Uk => format!(" Сторінка товару: [відкрити]({url})."),
        Language::En => format!(" Product page: [open]({url})."),
    })
}

pub(crate) fn quantity_set(language: Language, name: &str, quantity: f64, unit: &str, adjusted: bool) -> String {
    let (name, amount) = (bold(name), amount(language, quantity, unit));
    let text = match language {
        Language::Uk => format!("Змінюю кількість: {name} — {amount}."),
        Language::En => format!("Setting {name} to {amount}."),
    };
    with_rounding_note(language, text, adjusted)
}

fn with_rounding_note(language: Language, text: String, adjusted: bool) -> String {
    if adjusted {
        text + pick(language, " (кількість округлено до кроку продажу)", " (rounded to the product's quantity step)")
    } else {
        text
    }
}

pub(crate) fn removed(language: Language, name: &str) -> String {
    let name = bold(name);
    match language {
        Language::Uk => format!("Видаляю з кошика: {name}."),
        Language::En => format!("Removing {name} from your cart."),
    }
}

pub(crate) fn cleared(language: Language) -> String {
    pick(language, "Очищаю кошик.", "Clearing your cart.").to_owned()
}

pub(crate) fn cart_empty(language: Language) -> String {
    pick(
        language,
        "Ваш кошик порожній. Спробуйте, наприклад, «знайди молоко».",
        "Your cart is empty. Try \"find milk\".",
    )
    .to_owned()
}

/// The cart, one numbered line per item, with the total.
pub(crate) fn cart(language: Language, items: &[CartItem], total: f64) -> String {
    let mut text = pick(language, "У вашому кошику:", "Your cart:").to_owned();
    for (i, item) in items.iter().enumerate() {
        let unit_price = item.promo_price.unwrap_or(item.price);
        let _ = write!(
            text,
            "\n{}. {} — {} × {} = {}",
            i + 1,
            bold(&item.name),
            number(item.quantity),
            money(language, unit_price),
            money(language, unit_price * item.quantity)
        );
    }
    let _ = write!(text, "\n{} {}", pick(language, "Разом:", "Total:"), money(language, total));
    text
}

pub(crate) fn what_to_add(language: Language) -> String {
    pick(
        language,
        "Що саме додати? Напишіть назву товару («додай молоко») або номер зі списку («додай 2»).",
        "What should I add? Name a product (\"add milk\") or a number from the list (\"add 2\").",
    )
    .to_owned()
}

pub(crate) fn what_is_this(language: Language) -> String {
    pick(
        language,
        "Який саме товар? Відкрийте його сторінку або назвіть його, наприклад «додай молоко».",
        "Which product do you mean? Open its page, or name it, e.g. \"add milk\".",
    )
    .to_owned()
}

pub(crate) fn cheaper_than_what(language: Language) -> String {
    pick(
        language,
        "Дешевші за що? Спершу знайдіть товар, наприклад «знайди молоко».",
        "Cheaper than what? First find a product, e.g. \"find milk\".",
    )
    .to_owned()
}

/// One-tap replies after a list of products; the assistant reads them back.
pub(crate) fn after_search(language: Language) -> Vec<String> {
    match language {
        Language::Uk => vec!["Покажи дешевші".into(), "Додай перший".into()],
        Language::En => vec!["Show cheaper".into(), "Add the first one".into()],
    }
}

/// One-tap reply after a cart change.
pub(crate) fn after_change(language: Language) -> Vec<String> {
    vec![pick(language, "Що в кошику?", "Show my cart").to_owned()]
}

/// One-tap reply when the shopper needs a start.
pub(crate) fn to_start(language: Language) -> Vec<String> {
    vec![pick(language, "Знайди молоко", "Find milk").to_owned()]
}

pub(crate) fn which_item(language: Language) -> String {
    pick(
        language,
        "Про який товар у кошику йдеться? Назвіть його, наприклад «видали молоко».",
        "Which item in your cart do you mean? Name it, e.g. \"remove milk\".",
    )
    .to_owned()
}

pub(crate) fn how_many(language: Language, name: &str) -> String {
    match language {
        Language::Uk => format!("Яку кількість поставити для «{name}»? Наприклад: «зміни кількість на 3»."),
        Language::En => format!("What quantity should {name} have? For example: \"set it to 3\"."),
    }
}

pub(crate) fn no_card(language: Language, index: usize, listed: usize) -> String {
    match (language, listed) {
        (Language::Uk, 0) => "Спершу знайдіть товар, наприклад «знайди молоко», а потім напишіть «додай 1».".into(),
        (Language::En, 0) => "First find a product, e.g. \"find milk\", then say \"add 1\".".into(),
        (Language::Uk, _) => format!("У попередньому списку немає товару №{index}: там лише {listed}."),
        (Language::En, _) => format!("There is no item {index} in the last list: it has only {listed}."),
    }
}

pub(crate) fn not_in_cart(language: Language, what: &str) -> String {
    let what = shorten(what.trim());
    match language {
        Language::Uk => format!("У кошику немає «{what}». Напишіть «що в кошику», щоб побачити вміст."),
        Language::En => format!("\"{what}\" is not in your cart. Say \"show my cart\" to see what is."),
    }
}

/// "44.90 грн/кг", or the promo price with the old one.
fn price(language: Language, product: &CatalogProduct) -> String {
    let per = match product.unit.as_str() {
        "pcs" => String::new(),
        unit => format!("/{}", unit_label(language, unit)),
    };
    let now = money(language, effective_price(product));
    match product.promo_price {
        Some(_) => match language {
            Language::Uk => format!("{now}{per} (акція, було {:.2})", product.price),
            Language::En => format!("{now}{per} (sale, was {:.2})", product.price),
        },
        None => format!("{now}{per}"),
    }
}

pub(crate) fn money(language: Language, value: f64) -> String {
    match language {
        Language::Uk => format!("{value:.2} грн"),
        Language::En => format!("{value:.2} UAH"),
    }
}

fn amount(language: Language, quantity: f64, unit: &str) -> String {
    match unit_label(language, unit) {
        "" => number(quantity),
        label => format!("{} {label}", number(quantity)),
    }
}

fn unit_label(language: Language, unit: &str) -> &str {
    match (language, unit) {
        (Language::Uk, "pcs") => "шт",
        (Language::Uk, "kg") => "кг",
        (Language::Uk, "l") => "л",
        _ => unit,
    }
}

/// A quantity without float noise: 2, 1.5, 0.3.
pub(crate) fn number(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A product name in bold; a name that itself holds `*` stays plain so
/// the Markdown cannot come out wrong.
pub(crate) fn bold(name: &str) -> String {
    if name.contains('*') || name.trim().is_empty() {
        name.to_owned()
    } else {
        format!("**{name}**")
    }
}

/// Echoes of shopper text stay short.
fn shorten(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        text.chars().take(MAX - 1).chain(['…']).collect()
    }
}
