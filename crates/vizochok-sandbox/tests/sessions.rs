//! Sessions over real loopback WebSockets: a shopper who knows their own
//! session id reaches no one else's, and several tabs share one session.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{json, Value};
use support::{Logs, Raw};
use vizochok_sandbox::{RunningSandbox, StoreIdentity};
use vizochok_server::user_token;

const SECRET: &str = "idsec_sandbox_canary_93f1";

async fn sandbox(logs: &Logs) -> RunningSandbox {
    let mut options = support::options(logs);
    let identity = StoreIdentity { identity_secret: Some(SECRET.into()), require_identity: false };
    options.identities.insert("demo-store".into(), identity);
    vizochok_sandbox::start(options).await.unwrap()
}

/// The 128 bits of a session id.
fn bits(id: &str) -> u128 {
    assert!(id.len() == 34 && id.starts_with("s-"), "{id}");
    u128::from_str_radix(&id[2..], 16).unwrap()
}

/// What a guesser would try first: ids sharing structure with their
/// neighbours. For 128 random bits each of these fails by chance with a
/// probability below one in a million per pair.
fn unrelated(a: &str, b: &str) {
    let (x, y) = (bits(a), bits(b));
    let common_prefix = a[2..].chars().zip(b[2..].chars()).take_while(|(p, q)| p == q).count();
    let common_suffix = a.chars().rev().zip(b.chars().rev()).take_while(|(p, q)| p == q).count();
    assert!(common_prefix < 6 && common_suffix < 6, "{a} / {b} share a prefix or suffix");
    assert!(x.abs_diff(y) > 1 << 100, "{a} / {b} are close as numbers");
    assert!((32..=96).contains(&(x ^ y).count_ones()), "{a} / {b} differ in too few or too many bits");
    assert!((32..=96).contains(&(x ^ y.rotate_left(1)).count_ones()), "{a} / {b} are shifts of each other");
}

fn restored_with_history(answer: &Value) -> bool {
    answer["restored"] == true && answer.get("history").is_some()
}

#[tokio::test]
async fn a_shopper_who_knows_their_own_session_id_reaches_no_one_elses() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs).await;
    let alice_token = user_token(SECRET, "alice");
    let alice_auth = json!({"user_id": "alice", "user_token": alice_token});

    // Sessions opened just before and just after mallory's own.
    let (mut alice, before) = Raw::session(&sandbox, alice_auth.clone()).await;
    alice.send(json!({"type": "select_item", "id": "a1", "sku": "DAI-001", "quantity": 1})).await;
    alice.until("cart_changed", None).await;
    alice.chat("m1", "молоко").await;
    let (_mallory, own) = Raw::session(&sandbox, json!({})).await;
    let (_bob, after) = Raw::session(&sandbox, json!({})).await;
    let mut ids = vec![before.clone(), own.clone(), after.clone()];
    for _ in 0..13 {
        ids.push(Raw::session(&sandbox, json!({})).await.1);
    }
    for (i, a) in ids.iter().enumerate() {
        for b in &ids[i + 1..] {
            unrelated(a, b);
        }
    }

    // Even holding alice's id, mallory gets a fresh, empty session of her own
    // whether she names another user or none; a forged token is refused.
    for claim in [json!({"user_id": "mallory"}), json!({}), json!({"user_id": "alice"})] {
        let mut attempt = claim.clone();
        attempt.as_object_mut().unwrap().extend([("session_id".into(), json!(before)), ("last_seq".into(), json!(0))]);
        let (_raw, answer) = Raw::connect(&sandbox, attempt).await;
        assert_eq!(answer["type"], "auth_ok", "{claim}: {answer}");
        assert_ne!(answer["session_id"], json!(before), "{claim} reached alice's session");
        assert!(answer["replay"] == false && !restored_with_history(&answer), "{claim}: {answer}");
        ids.push(answer["session_id"].as_str().unwrap().to_owned());
    }
    let forged = json!({"user_id": "alice", "user_token": user_token("guessed-secret", "alice"), "session_id": before});
    let (mut raw, answer) = Raw::connect(&sandbox, forged).await;
    assert_eq!((answer["type"].as_str(), answer["code"].as_str()), (Some("auth_error"), Some("invalid_user_token")));
    assert_eq!(raw.closed().await.0, 4001);
    let mallory_token = user_token(SECRET, "mallory");
    let borrowed = json!({"user_id": "alice", "user_token": mallory_token, "session_id": before});
    assert_eq!(Raw::connect(&sandbox, borrowed).await.1["code"], "invalid_user_token");

    // Alice's conversation and cart are untouched, her socket still hers.
    assert!(alice.alive().await);
    let (_phone, answer) = Raw::connect(&sandbox, alice_auth).await;
    assert_eq!(answer["session_id"], json!(before), "alice's own new device joins it");
    assert_eq!(answer["summary"]["item_count"], 1);
    assert_eq!(answer["history"].as_array().unwrap().len(), 2);

    sandbox.shutdown().await;
    // The log correlates by prefix and never holds an id or a secret.
    let lines = logs.lines();
    assert!(lines.len() > 20, "{lines:?}");
    for line in &lines {
        for id in &ids {
            assert!(!line.contains(&id[2..]), "{line}");
        }
        assert!(!line.contains(SECRET) && !line.contains(&alice_token) && !line.contains(&mallory_token), "{line}");
        let event: Value = serde_json::from_str(line).unwrap();
        if let Some(prefix) = event["session"].as_str() {
            assert!(prefix.chars().count() <= 8 && ids.iter().any(|id| id.starts_with(prefix)), "{line}");
        }
    }
    assert!(lines.iter().any(|l| l.contains(&format!(r#""session":"{}""#, &before[..8]))));
}

#[tokio::test]
async fn two_tabs_share_one_session_and_neither_pushes_the_other_out() {
    let logs = Logs::default();
    let sandbox = sandbox(&logs).await;
    let (mut first, sid) = Raw::session(&sandbox, json!({})).await;
    let (mut second, answer) = Raw::connect(&sandbox, json!({"session_id": sid, "last_seq": 0})).await;
    assert_eq!((answer["session_id"].as_str(), answer["replay"].as_bool()), (Some(sid.as_str()), Some(true)));

    // A message typed in the first tab: both tabs show it and its reply.
    first.send(json!({"type": "message", "id": "m1", "text": "молоко"})).await;
    let seen_first = first.until_collecting("response", Some("m1")).await;
    let seen_second = second.until_collecting("response", Some("m1")).await;
    let shown = |frames: &[Value]| frames.iter().find(|f| f["type"] == "user_message").cloned();
    assert_eq!(shown(&seen_second).unwrap()["text"], "молоко");
    assert_eq!(shown(&seen_first), shown(&seen_second));
    assert!(seen_first.iter().any(|f| f["type"] == "ack" && f["id"] == "m1"));
    assert!(!seen_second.iter().any(|f| f["type"] == "ack"), "acks go to the sender only");
    assert_eq!(seen_first.last(), seen_second.last(), "the same response, same seq");
    let card = &seen_second.last().unwrap()["products"][0];

    // A card added from the second tab: both carts change.
    second.send(json!({"type": "select_item", "id": "a1", "sku": card["sku"], "quantity": 1})).await;
    let changed_second = second.until("cart_changed", None).await;
    let changed_first = first.until("cart_changed", None).await;
    assert_eq!(changed_first, changed_second);
    assert_eq!(changed_first["items"][0]["sku"], card["sku"]);

    // A message from each tab at once: both are answered, in order.
    first.send(json!({"type": "message", "id": "m2", "text": "хліб"})).await;
    // Once m2 is accepted, m3 arrives after it (two sockets keep no order between them).
    let accepted = first.until("ack", None).await;
    assert_eq!(accepted["id"], "m2");
    second.send(json!({"type": "message", "id": "m3", "text": "сир"})).await;
    let later = first.until_collecting("response", Some("m3")).await;
    let answered: Vec<&Value> = later.iter().filter(|f| f["type"] == "response").map(|f| &f["reply_to"]).collect();
    assert_eq!(answered, [&json!("m2"), &json!("m3")]);
    assert!(!later.iter().any(|f| f["type"] == "error"), "{later:?}");

    assert!(first.alive().await && second.alive().await, "neither was closed");
    sandbox.shutdown().await;
    assert!(!logs.lines().iter().any(|l| l.contains("replaced")));
}
