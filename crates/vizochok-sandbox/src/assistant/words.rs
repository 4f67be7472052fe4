//! The assistant's vocabulary, Ukrainian and English side by side. Words
//! are compared after lower-casing and dropping apostrophes.

/// Leading greetings; the rest of the message is still answered.
pub(crate) const GREETINGS: &str = "привіт привітик вітаю добрий доброго день ранку вечора дня здрастуйте \
    hello hi hey good morning afternoon evening";

/// Politeness and lead-ins skipped before a command verb.
pub(crate) const LEAD_INS: &str = "будь ласка можеш можете можна хочу мені і й та а ну ще так добре \
    please could can would you i id im like want to and also ok okay now then lets let us";

pub(crate) const ADD_VERBS: &str =
    "додай додайте додати добав поклади покладіть візьми візьміть купи купіть add put buy";
pub(crate) const SET_VERBS: &str = "зміни змініть змінити встанови встановіть постав поставте set change update make";
pub(crate) const REMOVE_VERBS: &str =
    "видали видаліть видалити прибери приберіть забери заберіть вилучи remove delete drop";
pub(crate) const CLEAR_VERBS: &str = "очисти очистіть очистити спорожни clear empty";
/// "remove everything" means clear.
pub(crate) const EVERYTHING: &str = "все всі усе усі all everything";

/// "add this": the product on the page the shopper is looking at.
pub(crate) const THIS_WORDS: &str = "це цей цю ця оце оцей оцю цього цих таких його її this it that these those";
/// Words that may stand beside "this" or an ordinal without naming a product.
pub(crate) const FILLERS: &str = "один одну одне one товар товару продукт штуку product item thing";
/// "the first one", "другий": a card of the previous reply by its place.
pub(crate) const ORDINALS: &[(&str, usize)] = &[
    ("перший", 1),
    ("перша", 1),
    ("першу", 1),
    ("перше", 1),
    ("first", 1),
    ("другий", 2),
    ("друга", 2),
    ("другу", 2),
    ("друге", 2),
    ("second", 2),
    ("третій", 3),
    ("третя", 3),
    ("третю", 3),
    ("третє", 3),
    ("third", 3),
    ("четвертий", 4),
    ("четверту", 4),
    ("fourth", 4),
    ("пятий", 5),
    ("пяту", 5),
    ("fifth", 5),
    ("шостий", 6),
    ("шосту", 6),
    ("sixth", 6),
];
/// "show cheaper" (without a price): the same kind of product, cheapest first.
pub(crate) const CHEAPER: &str = "дешевше дешевші дешевших дешевшого дешевле cheaper cheapest";

/// Any of these in a message asks for help.
pub(crate) const HELP_WORDS: &str = "допомога допоможи допоможіть вмієш вмієте help";

/// Stems meaning the cart itself.
pub(crate) const CART_STEMS: &str = "кошик корзин cart basket trolley";

/// Words before a price cap: "дешевше 50", "до 50 грн", "cheaper than 50".
pub(crate) const PRICE_CAPS: &str = "дешевше дешевші дешевле до максимум cheaper under below less max within";
/// Words between a price cap and its number.
pub(crate) const PRICE_LINKS: &str = "ніж за чим than to of";
pub(crate) const CURRENCY: &str = "грн гривень гривні гривня uah hryvnia hryvnias";

/// Words that never name a product.
pub(crate) const STOP_WORDS: &str = "знайди знайдіть знайти покажи покажіть показати шукай пошукай шукаю є у в вас \
    мене мені мій моє мої будь ласка хочу б би треба потрібно потрібен потрібна потрібні які який яка яке що та і й \
    з із а ще щось для всі все продукти товари товар ну можна кількість на до \
    find search show look looking for me my i want need would like please do you have has got some any anything \
    something the a an of with is are there what whats which products items item and or in into to quantity amount \
    can";

/// Whether `list` (words separated by spaces) holds `word`.
pub(crate) fn has(list: &str, word: &str) -> bool {
    list.split_whitespace().any(|w| w == word)
}

/// A unit a shopper may put after a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Pieces,
    Kilograms,
    Grams,
    Litres,
    Millilitres,
}

impl Unit {
    pub(crate) fn from_word(word: &str) -> Option<Unit> {
        let unit = match word {
            "шт" | "штук" | "штуки" | "штука" | "штуку" | "пачки" | "пачок" | "пачку" | "пачка" | "pcs" | "pc"
            | "piece" | "pieces" | "pack" | "packs" => Unit::Pieces,
            "кг"
            | "кіло"
            | "кілограм"
            | "кілограми"
            | "кілограмів"
            | "kg"
            | "kilo"
            | "kilos"
            | "kilogram"
            | "kilograms" => Unit::Kilograms,
            "г" | "гр" | "грам" | "грами" | "грамів" | "g" | "gram" | "grams" => Unit::Grams,
            "л" | "літр" | "літри" | "літрів" | "l" | "litre" | "litres" | "liter" | "liters" => {
                Unit::Litres
            }
            "мл" | "ml" => Unit::Millilitres,
            _ => return None,
        };
        Some(unit)
    }

    /// The catalog unit (`pcs`, `kg`, `l`) this unit measures.
    pub(crate) fn catalog_unit(self) -> &'static str {
        match self {
            Unit::Pieces => "pcs",
            Unit::Kilograms | Unit::Grams => "kg",
            Unit::Litres | Unit::Millilitres => "l",
        }
    }

    /// `value` of this unit in catalog units (grams → kg, ml → l).
    pub(crate) fn to_catalog(self, value: f64) -> f64 {
        match self {
            Unit::Grams | Unit::Millilitres => value / 1000.0,
            Unit::Pieces | Unit::Kilograms | Unit::Litres => value,
        }
    }
}

/// Category keys with words shoppers use for them.
pub(crate) const CATEGORIES: &[(&str, &str)] = &[
    ("dairy", "молочні молочне молочних dairy"),
    ("bakery", "випічка випічку хлібобулочні bakery pastry"),
    ("meat", "мясо мясні мясного meat"),
    ("fish", "риба рибу риби морепродукти fish seafood"),
    ("vegetables", "овочі овочів vegetables veggies"),
    ("fruits", "фрукти фруктів fruits fruit"),
    ("grocery", "бакалія бакалію крупи grocery groceries"),
    ("drinks", "напої напоїв напій drinks drink beverages"),
    ("sweets", "солодощі солодке солодощів sweets desserts"),
    ("frozen", "заморожені заморожене заморожених frozen"),
    ("household", "побутова хімія господарські household cleaning"),
];
