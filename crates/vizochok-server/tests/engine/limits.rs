//! Limits and quotas, each with its seed error code.

use vizochok_proto::{ClientFrame, ServerFrame};
use vizochok_server::{user_token, Assistant, Catalog, LimitsConfig, Reply, ServerConfig, Turn};

use crate::harness::*;

fn with_limits(limits: LimitsConfig) -> ServerConfig {
    ServerConfig { limits, ..config() }
}

/// The single error code of a refused action, checking it got no ack.
fn refused_code(out: &[ServerFrame], id: &str) -> String {
    assert!(acks(out).is_empty(), "{out:?}");
    match &errors(out)[..] {
        [(code, reply_to, _)] if reply_to.as_deref() == Some(id) => code.clone(),
        other => panic!("expected one error for {id}, got {other:?}"),
    }
}

#[test]
fn the_action_rate_limit_says_when_to_retry() {
    let mut h = Harness::new(with_limits(LimitsConfig {
        rate_limit_actions: 2,
        rate_limit_window_ms: 1_000,
        ..LimitsConfig::default()
    }));
    h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.now += 400;
    h.send(1, &select("a2", "bread", 1.0));
    let out = frames(&h.send(1, &select("a3", "bread", 1.0)), 1);
    assert_eq!(refused_code(&out, "a3"), "rate_limit_exceeded");
    assert_eq!(errors(&out)[0].2, Some(600));
    h.now += 600;
    assert_eq!(kinds(&frames(&h.send(1, &select("a3", "bread", 1.0)), 1)), ["ack", "cart_changed"]);
}

/// Every refusal at receipt costs an `error` and a log line, whatever its
/// code, so a connection that keeps sending what is refused is closed too:
/// more than 200 within 60 s. Our client sends an action at most 4 times
/// (3 retries, each after `retry_after_ms`) and holds at most 32.
#[test]
fn more_than_200_refused_frames_within_60_s_close_the_connection_with_1008() {
    let mut h = Harness::new(with_limits(LimitsConfig { rate_limit_actions: 1, ..LimitsConfig::default() }));
    let (session, _) = h.connect(1, None, None);
    h.connect(2, Some(&session), None);
    assert_eq!(kinds(&frames(&h.send(1, &select("a0", "bread", 1.0)), 1)), ["ack", "cart_changed"]);
    for n in 1..=200 {
        let id = format!("a{n}");
        let out = h.send(1, &select(&id, "bread", 1.0));
        assert_eq!(refused_code(&frames(&out, 1), &id), "rate_limit_exceeded");
        assert!(closes(&out).is_empty(), "refusal {n}");
    }
    let out = h.send(1, &select("a201", "bread", 1.0));
    assert_eq!(closes(&out), [(1, 1008, "too many refused frames".into())]);
    assert!(frames(&out, 1).is_empty(), "the frame over the limit is not answered");
    // The session's other tab is not touched: it is refused as before, not closed.
    let out = h.send(2, &select("b1", "bread", 1.0));
    assert_eq!(refused_code(&frames(&out, 2), "b1"), "rate_limit_exceeded");
    assert!(closes(&out).is_empty());
}

#[test]
fn a_too_long_message_is_refused() {
    let mut h = Harness::new(with_limits(LimitsConfig { max_message_chars: 5, ..LimitsConfig::default() }));
    h.connect(1, None, None);
    assert_eq!(refused_code(&frames(&h.send(1, &message("m1", "ґґґґґґ")), 1), "m1"), "message_too_large");
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "ґґґґґ")), 1))[0], "ack");
}

#[test]
fn messages_per_user_per_day_are_limited() {
    let mut h = Harness::new(with_limits(LimitsConfig { user_messages_max: 1, ..LimitsConfig::default() }));
    h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    assert_eq!(refused_code(&frames(&h.send(1, &message("m2", "milk")), 1), "m2"), "user_message_limit");
    h.now += 86_400_000;
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "milk")), 1))[0], "ack");
}

const SECRET: &str = "idsec_limits";

/// A store that verifies identity, with `limits`.
fn verifying(limits: LimitsConfig) -> ServerConfig {
    let mut config = with_limits(limits);
    config.stores[0].identity_secret = Some(vizochok_proto::Secret::new(SECRET));
    config
}

/// An `auth` of `user`, verified or only claimed, on a new connection.
fn login(h: &mut Harness, conn: u64, user: &str, verified: bool) {
    h.open(conn, None);
    let token = verified.then(|| user_token(SECRET, user));
    let ClientFrame::Auth(mut auth) = auth_as(user, token.as_deref(), None, None) else { unreachable!() };
    // A session of its own: a verified `auth` would join her latest (§10).
    auth.new_session = true;
    h.send(conn, &ClientFrame::Auth(auth));
}

#[test]
fn conversations_per_user_are_limited() {
    let mut h = Harness::new(verifying(LimitsConfig { user_conversations_max: 1, ..LimitsConfig::default() }));
    login(&mut h, 1, "alice", true);
    login(&mut h, 2, "alice", true);
    h.send(1, &message("m1", "milk"));
    assert_eq!(refused_code(&frames(&h.send(2, &message("m1", "milk")), 2), "m1"), "user_conversation_limit");
    // The conversation already started goes on; cart actions are no conversation.
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "milk")), 1))[0], "ack");
    assert_eq!(kinds(&frames(&h.send(2, &select("a1", "bread", 1.0)), 2))[0], "ack");
}

#[test]
fn a_claimed_user_id_uses_up_no_verified_shopper_s_quota() {
    // Anyone may send `user_id: "alice"` without her token: counted by
    // that id, such claims used up the real alice's quotas for the day.
    let limits = LimitsConfig { user_conversations_max: 1, user_messages_max: 1, ..LimitsConfig::default() };
    let mut h = Harness::new(verifying(limits));
    for conn in 1..=3 {
        login(&mut h, conn, "alice", false);
        assert_eq!(kinds(&frames(&h.send(conn, &message("m1", "milk")), conn))[0], "ack");
    }
    login(&mut h, 9, "alice", true);
    assert_eq!(kinds(&frames(&h.send(9, &message("m1", "milk")), 9))[0], "ack");
    // Her own quota still holds her.
    assert_eq!(refused_code(&frames(&h.send(9, &message("m2", "milk")), 9), "m2"), "user_message_limit");
}

#[test]
fn tenant_token_quotas_per_day_and_month() {
    let mut h = Harness::new(with_limits(LimitsConfig { tenant_daily_tokens: 10, ..LimitsConfig::default() }));
    h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    assert_eq!(refused_code(&frames(&h.send(1, &message("m2", "milk")), 1), "m2"), "tenant_daily_token_limit");
    h.now += 86_400_000;
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "milk")), 1))[0], "ack");

    let mut h = Harness::new(with_limits(LimitsConfig { tenant_monthly_tokens: 10, ..LimitsConfig::default() }));
    h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    h.now += 86_400_000;
    assert_eq!(refused_code(&frames(&h.send(1, &message("m2", "milk")), 1), "m2"), "tenant_monthly_token_limit");
}

#[test]
fn session_tokens_are_limited() {
    let mut h = Harness::new(with_limits(LimitsConfig { session_tokens: 12, ..LimitsConfig::default() }));
    h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    assert_eq!(refused_code(&frames(&h.send(1, &message("m2", "milk")), 1), "m2"), "session_token_limit");
    // Another session of the same store is not affected.
    h.connect(2, None, None);
    assert_eq!(kinds(&frames(&h.send(2, &message("m2", "milk")), 2))[0], "ack");
}

#[test]
fn an_empty_catalog_has_no_data() {
    let mut config = config();
    config.stores[0].catalog = Catalog::default();
    let mut h = Harness::new(config);
    h.connect(1, None, None);
    assert_eq!(refused_code(&frames(&h.send(1, &message("m1", "milk")), 1), "m1"), "no_catalog_data");
}

/// Answers with a fixed reply.
struct Fixed(Reply);

impl Assistant for Fixed {
    fn reply(&mut self, _turn: &Turn<'_>) -> Reply {
        self.0.clone()
    }
}

#[test]
fn too_many_rounds_finish_the_message_with_an_error_after_its_ack() {
    let reply = Reply { text: "thinking hard".into(), rounds: 4, ..Reply::default() };
    let limits = LimitsConfig { max_rounds: 3, ..LimitsConfig::default() };
    let mut h = Harness::with_assistant(with_limits(limits), Box::new(Fixed(reply)));
    let (sid, _) = h.connect(1, None, None);
    let out = frames(&h.send(1, &message("m1", "milk")), 1);
    assert_eq!(kinds(&out), ["ack", "user_message", "error"]);
    assert_eq!(errors(&out), [("max_rounds_exceeded".into(), Some("m1".into()), None)]);
    assert_eq!(h.applied(&sid, "m1"), 1);
    assert!(h.only_ttl_left(), "nothing left streaming");
}

#[test]
fn an_empty_reply_is_an_internal_error() {
    let mut h = Harness::with_assistant(config(), Box::new(Fixed(Reply::default())));
    h.connect(1, None, None);
    let out = frames(&h.send(1, &message("m1", "milk")), 1);
    assert_eq!(errors(&out), [("internal_error".into(), Some("m1".into()), None)]);
    // The session is free for the next message.
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "milk")), 1))[0], "ack");
}

/// A session whose `count` messages were each answered with a reply of 250
/// cards (about 60 KB encoded), its socket then closed.
fn long_cart_session(count: usize) -> (Harness, String) {
    let card = |i: usize| vizochok_proto::ProductItem {
        sku: format!("SKU-{i:04}"),
        name: format!("Молоко ультрапастеризоване 2,5% 870 г, упаковка {i}"),
        price: 44.9,
        unit: "pcs".into(),
        quantity_step: 1.0,
        quantity: None,
        brand: Some("Галичина".into()),
        image_url: Some(format!("/images/SKU-{i:04}.svg")),
        promo_price: None,
    };
    let reply = Reply {
        text: "Here is your whole cart.".into(),
        products: (0..250).map(card).collect(),
        rounds: 1,
        ..Reply::default()
    };
    let limits = LimitsConfig { rate_limit_actions: 1_000, user_messages_max: 1_000, ..LimitsConfig::default() };
    let mut h = Harness::with_assistant(with_limits(limits), Box::new(Fixed(reply)));
    let (sid, _) = h.connect(1, None, None);
    for i in 0..count {
        h.send(1, &message(&format!("m{i}"), "show my cart"));
        h.advance(1_000);
    }
    h.closed(1);
    (h, sid)
}

#[test]
fn a_session_keeps_the_outcomes_of_its_newest_messages_within_a_byte_bound() {
    let (mut h, sid) = long_cart_session(60);
    h.advance(120_000);
    let got = frames(&h.connect(2, Some(&sid), Some(0)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(vizochok_proto::AuthOk { restored: true, .. })), "{got:?}");
    // The newest message's reply comes again when it is resent.
    let newest = frames(&h.send(2, &message("m59", "show my cart")), 2);
    assert!(
        matches!(newest.get(1), Some(ServerFrame::Response { reply, again: true, .. }) if reply.reply_to == "m59"),
        "{newest:?}"
    );
    // m40 is still known as applied (the newest 32 ids are), but its reply
    // would take what the session keeps past 512 KiB (20 replies of 60 KB
    // came after it): no longer available, and not answered twice.
    let older = frames(&h.send(2, &message("m40", "show my cart")), 2);
    assert_eq!(kinds(&older), ["ack", "error"], "{older:?}");
    assert_eq!(errors(&older), [("internal_error".into(), Some("m40".into()), None)]);
}

#[test]
fn a_long_history_of_many_cards_still_restores_in_one_frame_a_client_takes() {
    let (mut h, sid) = long_cart_session(60);
    // A client that saved only the session id (docs/hosts.md) is restored.
    let out = h.connect(2, Some(&sid), None).1;
    let text = out
        .iter()
        .find_map(|o| match o {
            vizochok_server::ServerOutput::Send { conn, text } if conn.0 == 2 => Some(text.clone()),
            _ => None,
        })
        .unwrap();
    assert!(text.len() < 1 << 20, "auth_ok of {} bytes: past a client's frame limit", text.len());
    let ok = auth_ok(&out, 2);
    let history = ok.history.unwrap();
    assert!(history.len() >= 2, "the newest entries are kept");
    assert_eq!(history.last().unwrap().text, "Here is your whole cart.");
}
