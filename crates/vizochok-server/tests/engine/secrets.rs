//! Api keys never leave the engine: not in snapshots, not in logs.

use std::num::NonZeroU64;

use vizochok_proto::Secret;
use vizochok_server::{
    Assistant, CartOp, LogKind, Reply as AssistantReply, ServerConfig, ServerInput, ServerOutput, Turn,
};

use crate::harness::*;

/// Runs many kinds of events, some with the key in odd places.
fn busy_engine() -> Harness {
    let mut config = ServerConfig { heartbeat_ms: NonZeroU64::new(1_000), ..config() };
    config.stores[0].webhook = true;
    let mut h = Harness::new(config);
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.send(1, &message("m1", &format!("my key is {KEY}")));
    h.text(1, &format!(r#"{{"type":"message","id":"{KEY}","text":5}}"#));
    h.text(1, &format!(r#"{{"type":"ping","ts":"{KEY}"}}"#));
    h.open(2, Some(KEY));
    h.send(2, &auth_with(1, KEY, KEY, None, None, None));
    h.open(3, None);
    h.send(3, &auth_with(1, STORE, "pk_unknown_key", None, None, None));
    h.open(4, None);
    h.text(4, &format!(r#"{{"type":"auth","v":"{KEY}"}}"#));
    h.open(5, None);
    h.send(5, &auth_with(1, STORE, KEY, None, Some(&sid), Some(0)));
    h.input(ServerInput::WebhookResult { request: 1, accepted: false, detail: Some(format!("bad {KEY}")) });
    h.closed(5);
    h.advance(5_000);
    h.engine.restart(h.now, false);
    h.drain();
    h
}

#[test]
fn a_snapshot_never_contains_an_api_key() {
    let h = busy_engine();
    let snapshot = h.engine.snapshot();
    // The shopper typed the key into the chat: that text is theirs, not ours.
    let without_chat = snapshot.replace(&format!("my key is {KEY}"), "");
    assert!(!without_chat.contains(KEY), "{snapshot}");
    assert!(!without_chat.contains("api_key"));
}

#[test]
fn logs_never_contain_an_api_key() {
    let h = busy_engine();
    let logs = h.logs();
    assert!(logs.len() >= 10);
    for event in &logs {
        let json = serde_json::to_string(event).unwrap();
        assert!(!json.contains(KEY) && !json.contains("pk_unknown_key"), "{json}");
    }
    assert!(!format!("{:?}", h.engine).contains(KEY));
}

#[test]
fn no_debug_form_of_what_goes_in_or_out_shows_a_secret() {
    let mut config = config();
    config.stores[0].webhook = true;
    let mut h = Harness::new(config);
    let auth = vizochok_proto::frame::encode(&auth_with(1, STORE, KEY, None, None, None));
    assert!(auth.contains(KEY));
    let shown_in = format!("{:?}", ServerInput::Text { conn: vizochok_server::ConnId(1), text: &auth });
    assert!(!shown_in.contains(KEY), "{shown_in}");
    let (sid, opened) = h.connect(1, None, None);
    let selected = h.send(1, &select("a1", "bread", 1.0));
    assert!(selected.iter().any(|o| matches!(o, ServerOutput::Webhook { body, .. } if body.contains(&sid))));
    for (what, shown) in [
        ("auth_ok", format!("{opened:?}")),
        ("the webhook", format!("{selected:?}")),
        ("a snapshot in progress", format!("{:?}", h.engine.snapshot_later())),
    ] {
        assert!(!shown.contains(&sid) && !shown.contains(KEY), "{what}: {shown}");
    }
}

#[test]
fn every_connection_event_is_logged() {
    let h = busy_engine();
    let kinds: Vec<LogKind> = h.logs().iter().map(|e| e.kind).collect();
    for kind in [
        LogKind::Opened,
        LogKind::AuthOk,
        LogKind::AuthFailed,
        LogKind::Closed,
        LogKind::Disconnected,
        LogKind::BadFrame,
        LogKind::CartRefused,
        LogKind::Restarted,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} missing from {kinds:?}");
    }
    let limit = {
        let mut h = Harness::new(config());
        h.connect(1, None, None);
        h.send(1, &message("m1", &"x".repeat(3_000)));
        h.logs()
    };
    assert!(limit.iter().any(|e| e.kind == LogKind::LimitHit && e.detail.contains("message_too_large")));
    assert!(h.all.iter().all(|o| !matches!(o, ServerOutput::Send { text, .. } if text.contains("pk_unknown_key"))));
}

/// Proposes one change to a SKU the catalog lacks, as a confused model might.
struct ProposesSku(String);

impl Assistant for ProposesSku {
    fn reply(&mut self, _turn: &Turn<'_>) -> AssistantReply {
        AssistantReply {
            text: "Adding it.".into(),
            cart_ops: vec![CartOp::Add { sku: self.0.clone(), quantity: 1.0 }],
            rounds: 1,
            ..AssistantReply::default()
        }
    }
}

#[test]
fn a_secret_across_the_cut_of_an_unknown_sku_is_shown_not_even_in_part() {
    // A refusal shows the first 64 bytes of an unknown SKU. Cut before the
    // secrets were scrubbed, a secret the cut split was no longer whole, so
    // its first bytes reached the log and the `error` frame.
    const IDENTITY: &str = "sk_identity_4e1d0b";
    let across = |secret: &str| format!("{}{secret}{}", "s".repeat(56), "s".repeat(1_000));
    let mut config = config();
    config.stores[0].identity_secret = Some(Secret::new(IDENTITY));
    for secret in [KEY, IDENTITY] {
        // Refused at receipt (a shopper's action) and after the ack (the
        // assistant's change, applied once its reply is done).
        let mut h = Harness::with_assistant(config.clone(), Box::new(ProposesSku(across(secret))));
        h.connect(1, None, None);
        let at_receipt = h.send(1, &select("a1", &across(secret), 1.0));
        let after_ack = h.send(1, &message("m1", "add it"));
        for (path, outputs) in [("at receipt", at_receipt), ("after the ack", after_ack)] {
            assert_eq!(errors(&frames(&outputs, 1)).len(), 1, "{path}: {outputs:?}");
        }
        let shown: Vec<String> = h
            .all
            .iter()
            .filter_map(|o| match o {
                ServerOutput::Send { text, .. } => Some(text.clone()),
                ServerOutput::Log(event) => Some(serde_json::to_string(event).unwrap()),
                _ => None,
            })
            .collect();
        assert_eq!(h.logs().iter().filter(|e| e.kind == LogKind::CartRefused).count(), 1);
        assert!(shown.iter().all(|text| !text.contains(&secret[..8])), "{shown:#?}");
    }
}
