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

/// The localized, shopper-facing text for an error code.
pub fn error_message(code: ErrorCode, lang: Language) -> &'static str {
    use ErrorCode::*;
    match lang {
        Language::En => match code {
            RateLimitExceeded => "Too many requests. Please wait a moment.",
            UserMessageLimit => "You have reached the message limit.",
            UserConversationLimit => "You have reached the conversation limit.",
            TenantDailyTokenLimit => "The assistant is unavailable for the rest of the day.",
            TenantMonthlyTokenLimit => "The assistant is unavailable for the rest of the month.",
            AgentBusy => "The assistant is busy. Retrying shortly.",
            MessageTooLarge => "The message is too long.",
            InvalidJson => "The request could not be understood.",
            InternalError => "Something went wrong. Please try again.",
            MaxRoundsExceeded => "The assistant could not finish this request.",
            SessionTokenLimit => "This conversation is too long. Please start a new one.",
            NoCatalogData => "The store catalog is not available.",
            AuthError => "The chat is unavailable. Please refresh the page.",
            AuthTimeout => "The server did not respond in time.",
            WsError => "Connection problem.",
            QueueFull => "Too many pending actions. Please wait.",
            MaxReconnect => "Could not reconnect to the assistant.",
            ConnectionLost => "Connection lost. Reconnecting…",
        },
        Language::Uk => match code {
            RateLimitExceeded => "Забагато запитів. Зачекайте трохи.",
            UserMessageLimit => "Ви досягли ліміту повідомлень.",
            UserConversationLimit => "Ви досягли ліміту розмов.",
            TenantDailyTokenLimit => "Асистент недоступний до кінця дня.",
            TenantMonthlyTokenLimit => "Асистент недоступний до кінця місяця.",
            AgentBusy => "Асистент зайнятий. Повторюємо за мить.",
            MessageTooLarge => "Повідомлення задовге.",
            InvalidJson => "Запит не вдалося розібрати.",
            InternalError => "Щось пішло не так. Спробуйте ще раз.",
            MaxRoundsExceeded => "Асистент не зміг завершити цей запит.",
            SessionTokenLimit => "Розмова задовга. Почніть нову.",
            NoCatalogData => "Каталог магазину недоступний.",
            AuthError => "Чат недоступний. Оновіть сторінку.",
            AuthTimeout => "Сервер не відповів вчасно.",
            WsError => "Проблема зі з'єднанням.",
            QueueFull => "Забагато дій в черзі. Зачекайте.",
            MaxReconnect => "Не вдалося знову підключитися до асистента.",
            ConnectionLost => "З'єднання втрачено. Підключаємося знову…",
        },
    }
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
