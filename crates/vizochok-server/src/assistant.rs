//! The hook where an assistant produces replies. The engine owns sessions,
//! carts and the protocol; an assistant only reads a turn and answers.

use serde::{Deserialize, Serialize};
use vizochok_proto::{CartItem, Language, PageContext, ProductItem};

use crate::Catalog;

/// One shopper message, with what the assistant may look at.
#[derive(Debug)]
pub struct Turn<'a> {
    /// What the shopper typed.
    pub text: &'a str,
    /// The session's language.
    pub language: Language,
    /// The store's catalog.
    pub catalog: &'a Catalog,
    /// The session's cart before this turn.
    pub cart: &'a [CartItem],
    /// The product cards of the previous reply, in order (so "add 2" can
    /// mean the second card).
    pub last_products: &'a [ProductItem],
    /// What the shopper is looking at, from the page's latest `context`
    /// (so "add this" can mean the product on the page).
    pub context: Option<&'a PageContext>,
}

/// A cart change the assistant asks for; the engine validates and applies it.
/// Serializable because queued changes are part of a session's snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CartOp {
    /// Add `quantity` of `sku` (on top of what is in the cart).
    Add {
        /// Product SKU.
        sku: String,
        /// Quantity to add.
        quantity: f64,
    },
    /// Set the quantity of `sku`.
    SetQuantity {
        /// Product SKU.
        sku: String,
        /// New quantity.
        quantity: f64,
    },
    /// Remove `sku`.
    Remove {
        /// Product SKU.
        sku: String,
    },
    /// Empty the cart.
    Clear,
}

impl CartOp {
    /// The product it changes (`None` for [`CartOp::Clear`]).
    pub fn sku(&self) -> Option<&str> {
        match self {
            CartOp::Add { sku, .. } | CartOp::SetQuantity { sku, .. } | CartOp::Remove { sku } => Some(sku),
            CartOp::Clear => None,
        }
    }

    /// Whether its quantity, if it has one, is a finite number.
    pub fn is_finite(&self) -> bool {
        match self {
            CartOp::Add { quantity, .. } | CartOp::SetQuantity { quantity, .. } => quantity.is_finite(),
            CartOp::Remove { .. } | CartOp::Clear => true,
        }
    }
}

/// The assistant's answer to one turn.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Reply {
    /// The whole reply text (the engine streams it as `delta`s).
    pub text: String,
    /// Product cards to show.
    pub products: Vec<ProductItem>,
    /// Cart changes to apply, in order.
    pub cart_ops: Vec<CartOp>,
    /// Replies the shopper can send with one tap. The engine sends at most
    /// 4, each of at most 80 characters, and drops the rest.
    pub suggestions: Vec<String>,
    /// Reasoning rounds used (the engine enforces `max_rounds_exceeded`).
    pub rounds: u32,
}

/// Produces replies. Deterministic implementations make tests replayable.
pub trait Assistant: Send {
    /// Answers one turn. Must always answer: a request it does not
    /// understand gets a helpful reply, never an empty one.
    fn reply(&mut self, turn: &Turn<'_>) -> Reply;
}
