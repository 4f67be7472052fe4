//! Stores with `webhook: true`: changes apply only once the store confirms.

use vizochok_proto::{CartAction, ServerFrame};
use vizochok_server::{ServerConfig, ServerInput};

use crate::harness::*;

fn webhook_config() -> ServerConfig {
    let mut config = config();
    config.stores[0].webhook = true;
    config
}

fn answer(h: &mut Harness, request: u64, accepted: bool) -> Vec<ServerFrame> {
    frames(&h.input(ServerInput::WebhookResult { request, accepted, detail: Some("out of stock".into()) }), 1)
}

#[test]
fn an_accepted_webhook_applies_the_change() {
    let mut h = Harness::new(webhook_config());
    let (sid, _) = h.connect(1, None, None);
    let out = h.send(1, &select("a1", "banana", 1.5));
    assert_eq!(kinds(&frames(&out, 1)), ["ack"]);
    let hooks = webhooks(&out);
    let (request, body) = &hooks[0];
    assert_eq!(body["session_id"], sid.as_str());
    assert_eq!(
        (body["action"].as_str(), body["sku"].as_str(), body["quantity"].as_f64()),
        (Some("item_selected"), Some("banana"), Some(1.5))
    );
    assert_eq!(body["cart"]["total"], 90.0);
    let key = body["idempotency_key"].as_str().unwrap();
    assert!(key.ends_with("/a1") && !key.contains(&sid[2..]), "names the action, not the session: {key}");
    // Another session's action of the same id has another key (the store dedups by key).
    h.connect(2, None, None);
    let other = webhooks(&h.send(2, &select("a1", "banana", 1.5)));
    assert_ne!(other[0].1["idempotency_key"].as_str(), Some(key));
    assert!(h.engine.session_cart(&sid).unwrap().items.is_empty(), "not before the store confirms");

    let got = answer(&mut h, *request, true);
    assert!(
        matches!(&got[..], [ServerFrame::CartChanged { change: CartChangedEvent { action: CartAction::ItemSelected, total, .. }, .. }] if *total == 90.0)
    );
    assert_eq!(h.engine.session_cart(&sid).unwrap().total, 90.0);
}

#[test]
fn a_refused_webhook_leaves_the_cart_and_reports_internal_error() {
    let mut h = Harness::new(webhook_config());
    let (sid, _) = h.connect(1, None, None);
    let out = h.send(1, &select("a1", "bread", 1.0));
    // A second change waits for the first to be decided.
    let out2 = h.send(1, &select("a2", "milk-1", 1.0));
    assert!(webhooks(&out2).is_empty());
    let got = answer(&mut h, webhooks(&out)[0].0, false);
    assert_eq!(errors(&got), [("internal_error".into(), Some("a1".into()), None)]);
    assert!(h.engine.session_cart(&sid).unwrap().items.is_empty());
    let next = h.drain();
    assert!(next.is_empty());
    let pending = h.all.iter().rev().find_map(|o| match o {
        vizochok_server::ServerOutput::Webhook { request, body, .. } if body.contains("milk-1") => Some(*request),
        _ => None,
    });
    let got = answer(&mut h, pending.unwrap(), true);
    assert!(matches!(&got[..], [ServerFrame::CartChanged { change: CartChangedEvent { .. }, .. }]));
    assert_eq!(h.applied(&sid, "a1"), 1);
}

#[test]
fn an_unanswered_webhook_times_out_as_refused() {
    let mut h = Harness::new(webhook_config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 30_000));
    let got = frames(&h.advance(30_000), 1);
    assert_eq!(errors(&got)[0].0, "internal_error");
    assert!(h.engine.session_cart(&sid).unwrap().items.is_empty());
}

#[test]
fn a_reply_waits_for_its_webhooks_before_responding() {
    let mut h = Harness::new(webhook_config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "bread"));
    let out = h.send(1, &message("m2", "add 1"));
    assert_eq!(kinds(&frames(&out, 1)), ["ack", "user_message", "typing", "delta"]);
    let (request, body) = webhooks(&out).remove(0);
    let key = body["idempotency_key"].as_str().unwrap();
    assert!(key.ends_with("-m2/0") && !key.contains(&sid[2..]), "names the reply, not the session: {key}");
    let got = answer(&mut h, request, true);
    assert_eq!(kinds(&got), ["cart_changed", "response"]);
    assert!(
        matches!(&got[1], ServerFrame::Response { reply: Reply { summary: Some(s), .. }, .. } if s.item_count == 1)
    );
}

#[test]
fn a_refused_reply_change_does_not_finish_the_message() {
    let mut h = Harness::new(webhook_config());
    h.connect(1, None, None);
    h.send(1, &message("m1", "bread"));
    let out = h.send(1, &message("m2", "add 1"));
    let got = answer(&mut h, webhooks(&out)[0].0, false);
    assert_eq!(kinds(&got), ["error", "response"]);
    assert_eq!(errors(&got), [("internal_error".into(), None, None)]);
    assert!(matches!(&got[1], ServerFrame::Response { reply: Reply { summary: None, .. }, .. }));
}

#[test]
fn a_restored_engine_sends_pending_webhooks_again() {
    let mut h = Harness::new(webhook_config());
    let (sid, _) = h.connect(1, None, None);
    let (request, body) = webhooks(&h.send(1, &select("a1", "bread", 1.0))).remove(0);
    let snapshot = h.engine.snapshot();

    let mut fresh = Harness::new(webhook_config());
    fresh.engine.restore(&snapshot).unwrap();
    let hooks = webhooks(&fresh.drain());
    assert_eq!(hooks.len(), 1);
    assert_eq!((hooks[0].0, &hooks[0].1["idempotency_key"]), (request, &body["idempotency_key"]));
    fresh.input(ServerInput::WebhookResult { request, accepted: true, detail: None });
    assert_eq!(fresh.engine.session_cart(&sid).unwrap().items.len(), 1);
}

#[test]
fn deadlines_set_while_firing_that_are_due_at_once_fire_in_the_same_timeout() {
    // Found by the engine fuzzer: with a zero webhook timeout, the second
    // change's webhook was left due at the very moment it was sent.
    let mut h = Harness::new(ServerConfig { webhook_timeout_ms: 0, ..webhook_config() });
    h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.send(1, &select("a2", "bread", 1.0));
    h.engine.handle(h.now, ServerInput::Timeout);
    let got = frames(&h.drain(), 1);
    assert_eq!(
        errors(&got).iter().map(|(_, id, _)| id.clone()).collect::<Vec<_>>(),
        [Some("a1".into()), Some("a2".into())]
    );
    assert!(h.engine.poll_timeout().is_none_or(|t| t > h.now), "nothing stays due after the timeout");
}

#[test]
fn a_webhook_names_only_a_verified_user() {
    const SECRET: &str = "idsec_canary_51c2";
    let mut config = webhook_config();
    config.stores[0].identity_secret = Some(vizochok_proto::Secret::new(SECRET));
    let mut h = Harness::new(config);
    // A user id alone proves nothing (§10): the store must not be told it is that shopper's cart.
    h.connect_with(1, auth_as("alice", None, None, None));
    let claimed = webhooks(&h.send(1, &select("a1", "banana", 1.5)));
    assert_eq!(claimed[0].1["user_id"], serde_json::Value::Null, "{}", claimed[0].1);
    let token = vizochok_server::user_token(SECRET, "bob");
    h.connect_with(2, auth_as("bob", Some(&token), None, None));
    let verified = webhooks(&h.send(2, &select("b1", "banana", 1.5)));
    assert_eq!(verified[0].1["user_id"], "bob");
}
