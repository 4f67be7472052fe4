//! Events and pending actions as the JSON the generated Python types read
//! (`event_from_dict`, `PendingAction.from_dict`): a `type` named as in the
//! scenario suite, and each payload in its serde form.

use serde_json::{json, Value};
use vizochok_core::{Event, PendingAction};

/// `{"type": "cart_changed", "cart": {…}}` and so on.
pub fn to_json(event: &Event) -> String {
    let value: Value = match event {
        Event::Connect => json!({ "type": "connect" }),
        Event::Disconnect => json!({ "type": "disconnect" }),
        Event::CartChanged(cart) => json!({ "type": "cart_changed", "cart": cart }),
        Event::ProductClick(product) => json!({ "type": "product_click", "product": product }),
        Event::SessionComplete(summary) => json!({ "type": "session_complete", "summary": summary }),
        Event::Error(error) => json!({ "type": "error", "error": error }),
        Event::StateChanged(state) => json!({ "type": "state", "state": state.as_str() }),
        Event::Typing { reply_to } => json!({ "type": "typing", "reply_to": reply_to }),
        Event::Delta { message_id, reply_to, text } => {
            json!({ "type": "delta", "message_id": message_id, "reply_to": reply_to, "text": text })
        }
        Event::Response(reply) => json!({ "type": "response", "reply": reply, "blocks": reply.blocks() }),
        Event::UserMessage { id, text } => json!({ "type": "user_message", "id": id, "text": text }),
        Event::History(entries) => json!({ "type": "history", "entries": entries }),
        Event::Acknowledged { id } => json!({ "type": "ack", "id": id }),
    };
    value.to_string()
}

/// `[{"id": …, "kind": "message", "sent": true}, …]`.
pub fn pending_json(actions: &[PendingAction]) -> String {
    let list: Vec<Value> =
        actions.iter().map(|a| json!({ "id": a.id, "kind": a.kind.as_str(), "sent": a.sent })).collect();
    Value::Array(list).to_string()
}
