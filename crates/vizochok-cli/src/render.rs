//! What the chat prints: for people, replies streamed as they arrive,
//! numbered product cards, the cart after every change and the connection
//! state, all in the chosen language; with `--json`, one line per event.

use std::collections::HashSet;
use std::io::Write;

use vizochok_client::Client;
use vizochok_core::{Cart, CartItem, Event, Language, ProductItem, Reply, State, UiText};

use crate::json;

/// The terminal.
pub(crate) struct Screen {
    language: Language,
    json: bool,
    /// The cards of the last reply, as numbered on screen.
    cards: Vec<ProductItem>,
    /// Replies whose deltas were already printed.
    streaming: HashSet<String>,
    /// The connection state last shown.
    shown_state: Option<UiText>,
}

impl Screen {
    pub fn new(language: Language, json: bool) -> Screen {
        Screen { language, json, cards: Vec::new(), streaming: HashSet::new(), shown_state: None }
    }

    pub fn cards(&self) -> &[ProductItem] {
        &self.cards
    }

    fn text(&self, text: UiText) -> &'static str {
        text.text(self.language)
    }

    pub fn show(&mut self, event: &Event, client: &Client) {
        if let Event::Response(reply) = event {
            self.cards = reply.products.clone();
        }
        if self.json {
            return println!("{}", json::event(event));
        }
        let mut out = std::io::stdout().lock();
        match event {
            Event::StateChanged(state) => {
                let text = state_text(*state);
                if self.shown_state.replace(text) != Some(text) {
                    let _ = writeln!(out, "[{}]", self.text(text));
                }
            }
            Event::Delta { message_id, text, .. } => {
                if self.streaming.insert(message_id.clone()) {
                    let _ = write!(out, "{}: ", self.text(UiText::Assistant));
                }
                let _ = write!(out, "{text}");
            }
            Event::Response(Reply { message_id, text, products, .. }) => {
                if self.streaming.remove(message_id) {
                    let _ = writeln!(out);
                } else {
                    let _ = writeln!(out, "{}: {text}", self.text(UiText::Assistant));
                }
                for (n, card) in products.iter().enumerate() {
                    let _ = writeln!(out, "  {}. {}", n + 1, self.card(card));
                }
            }
            // The stdout lock is reentrant, so `cart` may take it again.
            Event::CartChanged(_) => self.cart(&client.cart()),
            Event::SessionComplete(summary) => {
                self.cart(&Cart { items: summary.selected_items.clone(), total: summary.total })
            }
            Event::Error(error) => {
                let _ = writeln!(out, "! {}", error.message);
            }
            _ => {}
        }
        let _ = out.flush();
    }

    fn card(&self, card: &ProductItem) -> String {
        let brand = card.brand.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
        let price = match card.promo_price {
            Some(promo) => {
                format!("{promo:.2} ({}; {} {:.2})", self.text(UiText::Promo), self.text(UiText::Price), card.price)
            }
            None => format!("{:.2}", card.price),
        };
        format!("{}{brand} — {price} / {}", card.name, card.unit)
    }

    /// The cart and its total.
    pub fn cart(&self, cart: &Cart) {
        if self.json {
            return println!("{}", serde_json::json!({"event": "cart", "cart": cart}));
        }
        let mut out = std::io::stdout().lock();
        if cart.items.is_empty() {
            let _ = writeln!(out, "{}: {}", self.text(UiText::Cart), self.text(UiText::CartEmpty));
            return;
        }
        let _ = writeln!(out, "{}:", self.text(UiText::Cart));
        for (n, item) in cart.items.iter().enumerate() {
            let _ = writeln!(out, "  {}. {} × {} = {:.2}", n + 1, item.name, item.quantity, line_total(item));
        }
        let _ = writeln!(out, "{}: {:.2}", self.text(UiText::Total), cart.total);
    }

    /// A note about the user's own input (usage, no such card).
    pub fn note(&self, note: &str) {
        if self.json {
            println!("{}", serde_json::json!({"event": "note", "text": note}));
        } else {
            println!("{note}");
        }
    }
}

fn line_total(item: &CartItem) -> f64 {
    item.promo_price.unwrap_or(item.price) * item.quantity
}

fn state_text(state: State) -> UiText {
    match state {
        State::Connecting | State::Authenticating => UiText::Connecting,
        State::Connected => UiText::Online,
        State::Reconnecting => UiText::Reconnecting,
        State::Idle | State::Stopped | State::Destroyed => UiText::Offline,
    }
}
