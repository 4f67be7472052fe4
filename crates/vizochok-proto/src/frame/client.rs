//! Frames the client sends (`docs/protocol.md`, "Client frames").

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::Secret;

/// The `sdk` object of the `auth` frame.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct SdkInfo {
    /// Which SDK (`vizochok-wasm`, `vizochok-python`, ...).
    pub name: String,
    /// Its version.
    pub version: String,
}

/// The first frame after the socket opens; the only one that carries secrets.
/// Its `Debug` shows no secret: the key and the token are [`Secret`]s, and
/// the session id only says whether there is one.
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct AuthFrame {
    /// Protocol version (1).
    pub v: u32,
    /// The store's public api key.
    pub api_key: Secret,
    /// The store.
    pub store_id: String,
    /// The shopper, if the store knows them.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub user_id: Option<String>,
    /// Proof of `user_id` from the store's backend (verified identity).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub user_token: Option<Secret>,
    /// A session to resume.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub session_id: Option<String>,
    /// The last server `seq` the client applied.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub last_seq: Option<u64>,
    /// The widget's language tag.
    pub language: String,
    /// Which SDK is talking.
    pub sdk: SdkInfo,
    /// The shopper started a new conversation: open a new session, even
    /// where a verified identity would join their latest one.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "std::ops::Not::not"))]
    pub new_session: bool,
}

impl std::fmt::Debug for AuthFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured so that a field added later cannot be left out.
        let Self { v, api_key, store_id, user_id, user_token, session_id, last_seq, language, sdk, new_session } = self;
        f.debug_struct("AuthFrame")
            .field("v", v)
            .field("api_key", api_key)
            .field("store_id", store_id)
            .field("user_id", user_id)
            .field("user_token", user_token)
            .field("session_id", &session_id.as_ref().map(|_| crate::secret::Redacted))
            .field("last_seq", last_seq)
            .field("language", language)
            .field("sdk", sdk)
            .field("new_session", new_session)
            .finish()
    }
}

/// The page the shopper is on, in a `context` frame.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PageInfo {
    /// The page's address.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub url: Option<String>,
    /// The page's title.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub title: Option<String>,
}

/// What the shopper is looking at (a `context` frame); it replaces the
/// previous context, and "add this" means its `sku`.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct PageContext {
    /// The page.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub page: Option<PageInfo>,
    /// The product on the page ("add this" means it).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub sku: Option<String>,
    /// The category on the page.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub category: Option<String>,
    /// The store search the shopper ran.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub query: Option<String>,
    /// The page's locale.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub locale: Option<String>,
    /// The page's currency (ISO 4217).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub currency: Option<String>,
}

/// A field of a [`PageContext`] past its bound: the server refuses such a
/// context, so a client checks before it sends one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlong {
    /// The field, as the frame names it (`page.url`).
    pub field: &'static str,
    /// Its length, in Unicode scalar values.
    pub chars: usize,
    /// Its bound.
    pub max: usize,
}

impl PageContext {
    /// The first field longer than its bound (`docs/protocol.md`, §12), if any.
    pub fn overlong(&self) -> Option<Overlong> {
        use super::{
            MAX_CONTEXT_CURRENCY_CHARS, MAX_CONTEXT_LOCALE_CHARS, MAX_CONTEXT_SKU_CHARS, MAX_CONTEXT_TEXT_CHARS,
            MAX_CONTEXT_URL_CHARS,
        };
        // One call per field, not a table of them: smaller in the browser's module.
        #[inline(never)]
        fn over(field: &'static str, value: &Option<String>, max: usize) -> Option<Overlong> {
            let chars = value.as_ref()?.chars().count();
            (chars > max).then_some(Overlong { field, chars, max })
        }
        const NONE: &Option<String> = &None;
        let (url, title) = self.page.as_ref().map_or((NONE, NONE), |p| (&p.url, &p.title));
        over("page.url", url, MAX_CONTEXT_URL_CHARS)
            .or_else(|| over("page.title", title, MAX_CONTEXT_TEXT_CHARS))
            .or_else(|| over("sku", &self.sku, MAX_CONTEXT_SKU_CHARS))
            .or_else(|| over("category", &self.category, MAX_CONTEXT_TEXT_CHARS))
            .or_else(|| over("query", &self.query, MAX_CONTEXT_TEXT_CHARS))
            .or_else(|| over("locale", &self.locale, MAX_CONTEXT_LOCALE_CHARS))
            .or_else(|| over("currency", &self.currency, MAX_CONTEXT_CURRENCY_CHARS))
    }
}

/// A shopper's rating of one reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Rating {
    /// Thumbs up.
    Up,
    /// Thumbs down.
    Down,
}

impl Rating {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Up => "up",
            Rating::Down => "down",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(text: &str) -> Option<Rating> {
        match text {
            "up" => Some(Rating::Up),
            "down" => Some(Rating::Down),
            _ => None,
        }
    }
}

/// A frame the client sends.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(tag = "type", rename_all = "snake_case"))]
pub enum ClientFrame {
    /// Authentication; the only frame that carries secrets.
    Auth(AuthFrame),
    /// A chat message typed by the shopper.
    Message {
        /// Idempotency key.
        id: String,
        /// The text.
        text: String,
    },
    /// The shopper pressed "Add" on a product card.
    SelectItem {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
        /// Quantity to add.
        quantity: f64,
    },
    /// The shopper changed a quantity.
    UpdateQuantity {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
        /// New quantity.
        quantity: f64,
    },
    /// The shopper removed an item.
    RemoveItem {
        /// Idempotency key.
        id: String,
        /// Product SKU.
        sku: String,
    },
    /// The shopper cleared the cart.
    ClearCart {
        /// Idempotency key.
        id: String,
    },
    /// What the shopper is looking at.
    Context {
        /// Idempotency key.
        id: String,
        /// The page, product, category, search, locale and currency.
        #[cfg_attr(feature = "serde", serde(flatten))]
        context: PageContext,
    },
    /// Stop the reply to a message.
    Cancel {
        /// Idempotency key.
        id: String,
        /// The message whose reply should stop.
        reply_to: String,
    },
    /// The shopper's rating of one reply.
    Feedback {
        /// Idempotency key.
        id: String,
        /// The reply rated.
        message_id: String,
        /// Up or down.
        rating: Rating,
        /// The shopper's words, at most 500 characters.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        comment: Option<String>,
    },
    /// Heartbeat.
    Ping {
        /// Sender's timestamp, echoed back.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        ts: Option<f64>,
    },
    /// Answer to a server `ping`.
    Pong {
        /// The ping's timestamp.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        ts: Option<f64>,
    },
    /// A `type` this version does not know; ignored by receivers.
    #[cfg_attr(feature = "serde", serde(other))]
    Unknown,
}

impl ClientFrame {
    /// The action id, for the frames that are actions (acknowledged, applied once).
    pub fn action_id(&self) -> Option<&str> {
        match self {
            ClientFrame::Message { id, .. }
            | ClientFrame::SelectItem { id, .. }
            | ClientFrame::UpdateQuantity { id, .. }
            | ClientFrame::RemoveItem { id, .. }
            | ClientFrame::ClearCart { id }
            | ClientFrame::Context { id, .. }
            | ClientFrame::Cancel { id, .. }
            | ClientFrame::Feedback { id, .. } => Some(id),
            ClientFrame::Auth(_) | ClientFrame::Ping { .. } | ClientFrame::Pong { .. } | ClientFrame::Unknown => None,
        }
    }
}
