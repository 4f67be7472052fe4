//! What the chat prints: for people, replies streamed as they arrive (a
//! line at a time, its Markdown rendered), numbered product cards, the
//! replies offered as suggestions, the cart after every change and the connection
//! state, all in the chosen language; with `--json`, one line per event.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};

use vizochok_client::Client;
use vizochok_core::{Cart, CartItem, Event, Language, ProductItem, Reply, State, UiText};

use crate::json;
use crate::markdown::{self, Style};

/// The terminal.
pub(crate) struct Screen {
    language: Language,
    json: bool,
    style: Style,
    /// The cards of the last reply, as numbered on screen.
    cards: Vec<ProductItem>,
    /// The last complete reply, for `/up` and `/down`.
    last_reply: Option<String>,
    /// Replies being streamed: what arrived, and how much of it (whole
    /// lines) is on screen.
    streaming: HashMap<String, Streamed>,
    /// The connection state last shown.
    shown_state: Option<UiText>,
}

#[derive(Default)]
struct Streamed {
    text: String,
    shown: usize,
}

impl Screen {
    pub fn new(language: Language, json: bool) -> Screen {
        let terminal = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let style = if terminal { Style::Ansi } else { Style::Plain };
        Screen {
            language,
            json,
            style,
            cards: Vec::new(),
            last_reply: None,
            streaming: HashMap::new(),
            shown_state: None,
        }
    }

    pub fn cards(&self) -> &[ProductItem] {
        &self.cards
    }

    pub fn last_reply(&self) -> Option<String> {
        self.last_reply.clone()
    }

    /// The whole lines of `text` from byte `from` on, rendered; and where
    /// the unfinished last line starts.
    fn lines(&self, text: &str, from: usize, finished: bool) -> (Vec<String>, usize) {
        let rest = text.get(from..).unwrap_or_default();
        let end = if finished { rest.len() } else { rest.rfind('\n').map_or(0, |at| at + 1) };
        let lines = rest[..end].lines().map(|line| markdown::line(line, self.style)).collect();
        (lines, from + end)
    }

    fn text(&self, text: UiText) -> &'static str {
        text.text(self.language)
    }

    pub fn show(&mut self, event: &Event, client: &Client) {
        if let Event::Response(reply) = event {
            self.cards = reply.products.clone();
            self.last_reply = Some(reply.message_id.clone());
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
            // Streamed line by line: a line is rendered once it is whole.
            Event::Delta { message_id, text, .. } => {
                let mut streamed = self.streaming.remove(message_id).unwrap_or_default();
                streamed.text.push_str(text);
                let (lines, shown) = self.lines(&streamed.text, streamed.shown, false);
                for line in lines {
                    self.say(&mut out, streamed.shown == 0, &line);
                    streamed.shown = shown;
                }
                self.streaming.insert(message_id.clone(), streamed);
            }
            Event::Response(Reply { message_id, text, products, suggestions, .. }) => {
                let streamed = self.streaming.remove(message_id).unwrap_or_default();
                // The response's text is the whole reply; what was streamed is its beginning.
                let from = if text.starts_with(&streamed.text[..streamed.shown]) { streamed.shown } else { 0 };
                let (lines, _) = self.lines(text, from, true);
                let mut first = from == 0;
                for line in lines {
                    self.say(&mut out, first, &line);
                    first = false;
                }
                for (n, card) in products.iter().enumerate() {
                    let _ = writeln!(out, "  {}. {}", n + 1, self.card(card));
                }
                if !suggestions.is_empty() {
                    let _ = writeln!(out, "  ↳ {}", markdown::inert(&suggestions.join(" · ")));
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

    /// One line of the assistant's, the first one introduced.
    fn say(&self, out: &mut impl Write, first: bool, line: &str) {
        if first {
            let _ = writeln!(out, "{}: {line}", self.text(UiText::Assistant));
        } else {
            let _ = writeln!(out, "{line}");
        }
    }

    fn card(&self, card: &ProductItem) -> String {
        let brand = card.brand.as_deref().map(|b| format!(" ({b})")).unwrap_or_default();
        let price = match card.promo_price {
            Some(promo) => {
                format!("{promo:.2} ({}; {} {:.2})", self.text(UiText::Promo), self.text(UiText::Price), card.price)
            }
            None => format!("{:.2}", card.price),
        };
        markdown::inert(&format!("{}{brand} — {price} / {}", card.name, card.unit))
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
            let name = markdown::inert(&item.name);
            let _ = writeln!(out, "  {}. {name} × {} = {:.2}", n + 1, item.quantity, line_total(item));
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
