//! The store developer's payload types (the callback contract), with
//! exactly its field names.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::{ErrorCode, Rating};

/// One line of the cart, as the server reports it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CartItem {
    /// Product SKU.
    pub sku: String,
    /// Product display name.
    pub name: String,
    /// Current price per unit.
    pub price: f64,
    /// Promotional price, if active (`null` on the wire otherwise).
    pub promo_price: Option<f64>,
    /// Product brand name (`null` on the wire when unknown).
    pub brand: Option<String>,
    /// Quantity in cart.
    pub quantity: f64,
}

/// A product card shown in the chat.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct ProductItem {
    /// Product SKU.
    pub sku: String,
    /// Product display name.
    pub name: String,
    /// Current price per unit.
    pub price: f64,
    /// Unit of measurement (`pcs`, `kg`, `l`, ...).
    pub unit: String,
    /// Minimum quantity increment.
    pub quantity_step: f64,
    /// Selected quantity (set when the shopper picked one).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub quantity: Option<f64>,
    /// Product brand name.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub brand: Option<String>,
    /// Product image URL.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub image_url: Option<String>,
    /// Promotional price, if active.
    #[cfg_attr(feature = "uniffi", uniffi(default))]
    pub promo_price: Option<f64>,
}

/// The selected items of a session, sent with a response or on restore.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct SessionSummary {
    /// All items currently selected in the session: the whole cart.
    pub selected_items: Vec<CartItem>,
    /// Total value of selected items.
    pub total: f64,
    /// Number of distinct items selected.
    pub item_count: u64,
}

/// What changed in the cart. `items` is always the complete cart.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct CartChangedEvent {
    /// What triggered the change.
    pub action: CartAction,
    /// SKU of the affected product (absent for `cart_cleared`).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub sku: Option<String>,
    /// Name of the affected product.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub name: Option<String>,
    /// New quantity of the affected product.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub quantity: Option<f64>,
    /// Price of the affected product.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub price: Option<f64>,
    /// Complete list of all items currently in the cart.
    pub items: Vec<CartItem>,
    /// Total cart value.
    pub total: f64,
}

impl CartChangedEvent {
    /// The event of a cart that was emptied.
    pub fn cleared() -> CartChangedEvent {
        CartChangedEvent {
            action: CartAction::CartCleared,
            sku: None,
            name: None,
            quantity: None,
            price: None,
            items: Vec::new(),
            total: 0.0,
        }
    }
}

/// The four cart actions of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum CartAction {
    /// An item was added.
    ItemSelected,
    /// An item was removed.
    ItemRemoved,
    /// An item's quantity changed.
    QuantityUpdated,
    /// The cart was emptied.
    CartCleared,
}

impl CartAction {
    /// Every action, in the contract's order.
    pub const ALL: [CartAction; 4] =
        [CartAction::ItemSelected, CartAction::ItemRemoved, CartAction::QuantityUpdated, CartAction::CartCleared];

    /// The wire and callback spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CartAction::ItemSelected => "item_selected",
            CartAction::ItemRemoved => "item_removed",
            CartAction::QuantityUpdated => "quantity_updated",
            CartAction::CartCleared => "cart_cleared",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(text: &str) -> Option<CartAction> {
        CartAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// The error every `onError` callback receives.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct WidgetError {
    /// Machine-readable error code.
    pub code: ErrorCode,
    /// Human-readable text in the configured language, from the client's catalog.
    pub message: String,
    /// Developer-facing English detail (never contains a secret).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub detail: Option<String>,
    /// The action id this error finishes, if any.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub reply_to: Option<String>,
    /// How long the server asked to wait before retrying.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub retry_after_ms: Option<u64>,
}

/// Who said a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Role {
    /// The shopper.
    User,
    /// The AI assistant.
    Assistant,
}

impl Role {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One line of the conversation, for redrawing a UI after a reload.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HistoryEntry {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
    /// Product cards shown with it.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub products: Option<Vec<ProductItem>>,
    /// An assistant's reply: its `message_id`, which `feedback` names, so a
    /// restored reply can be rated (absent from servers before it).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub message_id: Option<String>,
    /// A reply the shopper rated: the latest rating, so a restored reply
    /// shows it (absent when unrated, and from servers before it).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub rating: Option<Rating>,
}

/// The cart as the client last saw it from the server.
#[derive(Debug, Clone, Default, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Cart {
    /// Every line of the cart.
    pub items: Vec<CartItem>,
    /// Total cart value.
    pub total: f64,
}
