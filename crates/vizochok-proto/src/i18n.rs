//! The client's own text catalog: every error code and the short strings a
//! chat UI needs, in English and Ukrainian. Every binding shows these words,
//! so all runtimes speak alike. Unknown languages fall back to English.

use crate::ErrorCode;

/// A language of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    /// English (`en`), the fallback.
    #[default]
    En,
    /// Ukrainian (`uk`).
    Uk,
}

impl Language {
    /// Picks the catalog for a language tag (`uk`, `uk-UA`, `en-GB`...);
    /// anything unknown is English.
    pub fn from_tag(tag: &str) -> Language {
        // Bytes, no lowercase copy: the browser's module stays smaller.
        let primary = tag.as_bytes().split(|&b| b == b'-' || b == b'_').next().unwrap_or_default();
        if primary.eq_ignore_ascii_case(b"uk") || primary.eq_ignore_ascii_case(b"ua") {
            Language::Uk
        } else {
            Language::En
        }
    }

    /// The tag sent in the `auth` frame.
    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Uk => "uk",
        }
    }
}

macro_rules! error_texts {
    ($($code:ident => $en:literal, $uk:literal;)*) => {
        /// The codes in the order of the texts below (a test holds it to `ErrorCode::ALL`).
        #[cfg(test)]
        const ORDER: &[ErrorCode] = &[$(ErrorCode::$code,)*];
        /// Each language's texts as one string, a line per code in the order
        /// of `ErrorCode`: no table of 36 string pointers and lengths in the
        /// browser's module.
        const EN: &str = concat!($($en, "\n",)*);
        const UK: &str = concat!($($uk, "\n",)*);
    };
}

error_texts! {
    RateLimitExceeded => "Too many requests. Please wait a moment.",
        "Забагато запитів. Зачекайте трохи.";
    UserMessageLimit => "You have reached the message limit.",
        "Ви досягли ліміту повідомлень.";
    UserConversationLimit => "You have reached the conversation limit.",
        "Ви досягли ліміту розмов.";
    TenantDailyTokenLimit => "The assistant is unavailable for the rest of the day.",
        "Асистент недоступний до кінця дня.";
    TenantMonthlyTokenLimit => "The assistant is unavailable for the rest of the month.",
        "Асистент недоступний до кінця місяця.";
    AgentBusy => "The assistant is busy. Please try again in a moment.",
        "Асистент зайнятий. Спробуйте ще раз за мить.";
    MessageTooLarge => "The message is too long.",
        "Повідомлення задовге.";
    InvalidJson => "The request could not be understood.",
        "Запит не вдалося розібрати.";
    InternalError => "Something went wrong. Please try again.",
        "Щось пішло не так. Спробуйте ще раз.";
    MaxRoundsExceeded => "The assistant could not finish this request.",
        "Асистент не зміг завершити цей запит.";
    SessionTokenLimit => "This conversation is too long. Please start a new one.",
        "Розмова задовга. Почніть нову.";
    NoCatalogData => "The store catalog is not available.",
        "Каталог магазину недоступний.";
    AuthError => "The chat is unavailable. Please refresh the page.",
        "Чат недоступний. Оновіть сторінку.";
    AuthTimeout => "The server did not respond in time.",
        "Сервер не відповів вчасно.";
    WsError => "Connection problem.",
        "Проблема зі з'єднанням.";
    QueueFull => "Too many pending actions. Please wait.",
        "Забагато дій в черзі. Зачекайте.";
    MaxReconnect => "Could not reconnect to the assistant.",
        "Не вдалося знову підключитися до асистента.";
    ConnectionLost => "Connection lost. Reconnecting…",
        "З'єднання втрачено. Підключаємося знову…";
}

/// The localized, shopper-facing text for an error code.
pub fn error_message(code: ErrorCode, lang: Language) -> &'static str {
    let texts = match lang {
        Language::En => EN,
        Language::Uk => UK,
    };
    line(texts, code as usize)
}

/// Line `index` of `text` (counting from 0; empty past the last).
pub(crate) fn line(text: &'static str, mut index: usize) -> &'static str {
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        if byte == b'\n' {
            if index == 0 {
                return text.get(start..at).unwrap_or_default();
            }
            index -= 1;
            start = at + 1;
        }
    }
    ""
}

macro_rules! ui_texts {
    ($($variant:ident, $key:literal, $en:literal, $uk:literal;)*) => {
        /// A short string of the chat UI.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum UiText {
            $(
                #[doc = concat!("`", $key, "`: ", $en)]
                $variant,
            )*
        }

        impl UiText {
            /// Every UI string.
            pub const ALL: &'static [UiText] = &[$(UiText::$variant,)*];

            /// The stable key bindings use (`send`, `add`, ...).
            pub fn key(self) -> &'static str {
                match self { $(UiText::$variant => $key,)* }
            }

            /// Looks a string up by its key.
            pub fn from_key(key: &str) -> Option<UiText> {
                match key { $($key => Some(UiText::$variant),)* _ => None }
            }

            /// The text in a language.
            pub fn text(self, lang: Language) -> &'static str {
                match (self, lang) {
                    $(
                        (UiText::$variant, Language::En) => $en,
                        (UiText::$variant, Language::Uk) => $uk,
                    )*
                }
            }
        }
    };
}

ui_texts! {
    Title, "title", "Shopping assistant", "Помічник з покупок";
    CloseChat, "close", "Close", "Закрити";
    Placeholder, "placeholder", "Ask about products…", "Запитайте про товари…";
    Send, "send", "Send", "Надіслати";
    Add, "add", "Add", "Додати";
    Added, "added", "Added", "Додано";
    Increase, "increase", "Increase quantity", "Збільшити кількість";
    Decrease, "decrease", "Decrease quantity", "Зменшити кількість";
    Quantity, "quantity", "Quantity", "Кількість";
    Typing, "typing", "Assistant is typing…", "Асистент друкує…";
    Connecting, "connecting", "Connecting…", "Підключення…";
    Online, "online", "Online", "Онлайн";
    Reconnecting, "reconnecting", "Reconnecting…", "Перепідключення…";
    Offline, "offline", "Offline", "Офлайн";
    Cart, "cart", "Cart", "Кошик";
    CartEmpty, "cart_empty", "Your cart is empty", "Кошик порожній";
    Total, "total", "Total", "Разом";
    Price, "price", "Price", "Ціна";
    Promo, "promo", "Promo", "Акція";
    NewChat, "new_chat", "New conversation", "Нова розмова";
    You, "you", "You", "Ви";
    Assistant, "assistant", "Assistant", "Асистент";
    Stop, "stop", "Stop", "Зупинити";
    Helpful, "helpful", "Helpful", "Корисно";
    NotHelpful, "not_helpful", "Not helpful", "Некорисно";
    Thanks, "thanks", "Thanks for the feedback", "Дякуємо за відгук";
    Suggestions, "suggestions", "Suggested replies", "Запропоновані відповіді";
    Starters, "starters", "Try asking", "Спробуйте запитати";
    Unread, "unread", "new replies", "нові відповіді";
    UnitPcs, "unit_pcs", "pcs", "шт";
    UnitKg, "unit_kg", "kg", "кг";
    UnitL, "unit_l", "l", "л";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_distinct_english_and_ukrainian_text() {
        for code in ErrorCode::ALL {
            let en = error_message(*code, Language::En);
            let uk = error_message(*code, Language::Uk);
            assert!(!en.is_empty() && !uk.is_empty(), "{code}");
            assert_ne!(en, uk, "{code} is not translated");
        }
    }

    #[test]
    fn error_texts_are_in_the_order_of_the_codes() {
        assert_eq!(ORDER, ErrorCode::ALL);
        assert_eq!(
            error_message(ErrorCode::RateLimitExceeded, Language::En),
            "Too many requests. Please wait a moment."
        );
        assert_eq!(error_message(ErrorCode::ConnectionLost, Language::Uk), "З'єднання втрачено. Підключаємося знову…");
        assert_eq!(EN.lines().count(), ErrorCode::ALL.len());
        assert_eq!(UK.lines().count(), ErrorCode::ALL.len());
    }

    #[test]
    fn unknown_language_falls_back_to_english() {
        assert_eq!(Language::from_tag("de"), Language::En);
        assert_eq!(Language::from_tag(""), Language::En);
        assert_eq!(Language::from_tag("uk-UA"), Language::Uk);
        assert_eq!(Language::from_tag("UK"), Language::Uk);
    }

    #[test]
    fn ui_keys_round_trip_and_are_translated() {
        for t in UiText::ALL {
            assert_eq!(UiText::from_key(t.key()), Some(*t));
            assert_ne!(t.text(Language::En), t.text(Language::Uk), "{}", t.key());
        }
    }
}
