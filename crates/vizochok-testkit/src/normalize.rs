//! Events and results in the normalized form of `docs/scenarios.md`, and
//! the matcher.

use serde_json::{json, Map, Value};
use vizochok_core::{ActionError, Event, PendingAction, Reply, WidgetError};

fn data<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// `onError`'s normalized data: the code and the action it names.
pub fn error_data(error: &WidgetError) -> Value {
    let mut d = Map::new();
    d.insert("code".into(), json!(error.code.as_str()));
    if let Some(r) = &error.reply_to {
        d.insert("reply_to".into(), json!(r));
    }
    Value::Object(d)
}

/// One event as the app sees it.
pub fn event(event: &Event) -> Value {
    match event {
        Event::Connect => json!({ "on": "connect" }),
        Event::Disconnect => json!({ "on": "disconnect" }),
        Event::CartChanged(e) => json!({ "on": "cart_changed", "data": data(e) }),
        Event::ProductClick(p) => json!({ "on": "product_click", "data": data(p) }),
        Event::SessionComplete(s) => json!({ "on": "session_complete", "data": data(s) }),
        Event::Error(e) => json!({ "on": "error", "data": error_data(e) }),
        Event::StateChanged(state) => json!({ "state": state.as_str() }),
        Event::Typing { reply_to } => {
            let d = reply_to.as_ref().map_or_else(|| json!({}), |r| json!({ "reply_to": r }));
            json!({ "ui": "typing", "data": d })
        }
        Event::Delta { message_id, reply_to, text } => {
            json!({ "ui": "delta", "data": { "message_id": message_id, "reply_to": reply_to, "text": text } })
        }
        Event::Response(reply) => json!({ "ui": "response", "data": response(reply) }),
        Event::UserMessage { id, text } => json!({ "ui": "user_message", "data": { "id": id, "text": text } }),
        Event::History(entries) => json!({ "ui": "history", "data": data(entries) }),
        Event::Acknowledged { id } => json!({ "ui": "ack", "data": { "id": id } }),
    }
}

fn response(reply: &Reply) -> Value {
    let mut d = json!({ "message_id": reply.message_id, "reply_to": reply.reply_to, "text": reply.text,
        "products": data(&reply.products) });
    if reply.cancelled {
        d["cancelled"] = json!(true);
    }
    if !reply.suggestions.is_empty() {
        d["suggestions"] = json!(reply.suggestions);
    }
    d["blocks"] = data(&reply.blocks());
    d
}

/// A refused or wrong action's normalized result.
pub fn outcome(error: &ActionError) -> Value {
    match error {
        ActionError::Rejected(e) => json!({ "rejected": e.code.as_str() }),
        ActionError::Invalid(_) => json!({ "invalid": true }),
        ActionError::Destroyed => json!({ "destroyed": true }),
    }
}

/// `pending_actions` as a read shows it.
pub fn pending(actions: &[PendingAction]) -> Value {
    Value::Array(actions.iter().map(|a| json!({ "id": a.id, "kind": a.kind.as_str(), "sent": a.sent })).collect())
}

/// `expected` matches `actual`: `"*"` matches anything, numbers compare as numbers.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::String(s), _) if s == "*" => true,
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(x, y)| matches(x, y)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(k, x)| b.get(k).is_some_and(|y| matches(x, y)))
        }
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_matcher_is_strict_where_it_must_be() {
        assert!(matches(&json!([{"a": 2}]), &json!([{"a": 2.0}])));
        assert!(matches(&json!({"a": "*"}), &json!({"a": {"deep": [1]}})));
        assert!(!matches(&json!([{"a": 1}]), &json!([{"a": 1}, {"b": 2}])), "extra outputs fail");
        assert!(!matches(&json!({"a": 1}), &json!({"a": 1, "b": null})), "extra fields fail");
        assert!(!matches(&json!({"a": null}), &json!({})), "null is not absent");
        assert!(!matches(&json!("x"), &json!("*")), "a star in the actual output matches nothing special");
    }
}
