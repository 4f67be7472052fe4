//! `--json`: every event as one JSON object, for scripts.

use serde_json::{json, Value};
use vizochok_core::Event;

/// The event as `{"event": NAME, ...its fields}`.
pub(crate) fn event(event: &Event) -> Value {
    match event {
        Event::Connect => json!({"event": "connect"}),
        Event::Disconnect => json!({"event": "disconnect"}),
        Event::CartChanged(cart) => json!({"event": "cart_changed", "cart": cart}),
        Event::ProductClick(product) => json!({"event": "product_click", "product": product}),
        Event::SessionComplete(summary) => json!({"event": "session_complete", "summary": summary}),
        Event::Error(error) => json!({"event": "error", "error": error}),
        Event::StateChanged(state) => json!({"event": "state", "state": state.as_str()}),
        Event::Typing { reply_to } => json!({"event": "typing", "reply_to": reply_to}),
        Event::Delta { message_id, reply_to, text } => {
            json!({"event": "delta", "message_id": message_id, "reply_to": reply_to, "text": text})
        }
        Event::Response(reply) => json!({"event": "response", "message_id": reply.message_id,
            "reply_to": reply.reply_to, "text": reply.text, "products": reply.products,
            "suggestions": reply.suggestions, "cancelled": reply.cancelled}),
        Event::UserMessage { id, text } => json!({"event": "user_message", "id": id, "text": text}),
        Event::History(entries) => json!({"event": "history", "entries": entries}),
        Event::Acknowledged { id } => json!({"event": "ack", "id": id}),
    }
}
