//! The frames the page drives, against the sandbox's assistant over real
//! loopback WebSockets: "add this" with a context, a cancelled reply,
//! suggestions sent back, and feedback in the log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{Logs, Raw};
use vizochok_sandbox::RunningSandbox;

async fn sandbox(logs: &Logs, delta_interval_ms: u64) -> RunningSandbox {
    let mut options = support::options(logs);
    options.engine.delta_interval_ms = delta_interval_ms;
    options.engine.delta_chars = 4;
    vizochok_sandbox::start(options).await.unwrap()
}

fn context(id: &str, sku: &str) -> Value {
    json!({"type": "context", "id": id, "sku": sku, "currency": "UAH",
        "page": {"url": format!("https://shop.example/p/{sku}"), "title": "Молоко"}})
}

#[tokio::test]
async fn add_this_adds_the_product_of_the_page_through_the_cart() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, 1).await;
    for (language, text, link) in [("uk", "Додай це", "[відкрити]"), ("en", "add this", "[open]")] {
        let (mut raw, _) = Raw::session(&sandbox, json!({ "language": language })).await;
        raw.send(context("c1", "DAI-003")).await;
        assert_eq!(raw.until("ack", None).await["id"], "c1");
        raw.send(json!({"type": "message", "id": "m1", "text": text})).await;
        let frames = raw.until_collecting("response", Some("m1")).await;
        let changed = frames.iter().find(|f| f["type"] == "cart_changed").expect("the cart changed");
        assert_eq!((changed["action"].as_str(), changed["sku"].as_str()), (Some("item_selected"), Some("DAI-003")));
        let reply = frames.last().unwrap();
        let said = reply["text"].as_str().unwrap();
        assert!(said.contains(&format!("**{}**", changed["name"].as_str().unwrap())), "{said}");
        assert!(said.contains(&format!("{link}(https://shop.example/p/DAI-003)")), "{said}");
        assert_eq!(reply["summary"]["item_count"], 1);
    }
    sandbox.shutdown().await;
}

#[tokio::test]
async fn a_cancelled_reply_stops_streaming_and_ends_cancelled() {
    let logs = Logs::default();
    // Slow enough that the help text (hundreds of characters, 4 per delta) is mid-stream.
    let sandbox = sandbox(&logs, 100).await;
    let (mut raw, _) = Raw::session(&sandbox, json!({})).await;
    raw.send(json!({"type": "message", "id": "m1", "text": "допомога"})).await;
    let first = raw.until("delta", Some("m1")).await;
    raw.send(json!({"type": "cancel", "id": "x1", "reply_to": "m1"})).await;
    let rest = raw.until_collecting("response", Some("m1")).await;
    let reply = rest.last().unwrap();
    assert_eq!(reply["cancelled"], true, "{reply}");
    let streamed: String = std::iter::once(&first)
        .chain(rest.iter().filter(|f| f["type"] == "delta"))
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(reply["text"].as_str().unwrap(), streamed, "the response holds exactly what was streamed");
    assert!(streamed.chars().count() < 100, "stopped early: {streamed:?}");
    assert!(rest.iter().any(|f| f["type"] == "ack" && f["id"] == "x1"));
    // Nothing of m1 comes after its response; the next message is answered.
    let next = raw.chat("m2", "що в кошику").await;
    assert_eq!(next["reply_to"], "m2");
    sandbox.shutdown().await;
}

#[tokio::test]
async fn suggestions_are_offered_after_a_search_and_understood_when_sent_back() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, 1).await;
    let (mut raw, _) = Raw::session(&sandbox, json!({"language": "en"})).await;
    let found = raw.chat("m1", "find milk").await;
    let suggestions: Vec<String> = serde_json::from_value(found["suggestions"].clone()).unwrap();
    assert_eq!(suggestions, ["Show cheaper", "Add the first one"]);
    let cheaper = raw.chat("m2", &suggestions[0]).await;
    let prices: Vec<f64> = cheaper["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["promo_price"].as_f64().unwrap_or_else(|| p["price"].as_f64().unwrap()))
        .collect();
    assert!(!prices.is_empty() && prices.is_sorted(), "{prices:?}");
    raw.send(json!({"type": "message", "id": "m3", "text": suggestions[1]})).await;
    let frames = raw.until_collecting("response", Some("m3")).await;
    let changed = frames.iter().find(|f| f["type"] == "cart_changed").expect("the first card was added");
    assert_eq!(changed["sku"], cheaper["products"][0]["sku"]);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn feedback_is_acknowledged_and_written_to_the_log() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs, 1).await;
    let (mut raw, sid) = Raw::session(&sandbox, json!({})).await;
    let reply = raw.chat("m1", "молоко").await;
    let message_id = reply["message_id"].as_str().unwrap().to_owned();
    let feedback = json!({"type": "feedback", "id": "f1", "message_id": message_id, "rating": "down",
        "comment": "Немає вівсяного"});
    raw.send(feedback).await;
    assert_eq!(raw.until("ack", None).await["id"], "f1");
    let too_long = json!({"type": "feedback", "id": "f2", "message_id": message_id, "rating": "up",
        "comment": "ї".repeat(501)});
    raw.send(too_long).await;
    assert_eq!(raw.error(Some("f2")).await, "invalid_json");
    sandbox.shutdown().await;

    let lines: Vec<Value> = logs.lines().iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rated: Vec<&Value> = lines.iter().filter(|l| l["kind"] == "feedback").collect();
    assert_eq!(rated.len(), 1, "{lines:?}");
    assert_eq!(rated[0]["detail"], format!("down for {message_id}: \"Немає вівсяного\""));
    assert_eq!(rated[0]["session"], &sid[..8]);
    assert!(!lines.iter().any(|l| l.to_string().contains(&sid[2..])), "no whole session id");
}
