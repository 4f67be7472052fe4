//! One test (at least) for every row of the wire contract's tables
//! (`docs/protocol.md`), driven through a scripted host.

use crate::support::*;
use serde_json::{json, Value};
use vizochok_core::{ActionError, CartAction, ErrorCode, Event, Input, Language, Output, Reply, Session, State};

// ----- §2 client → server frames ------------------------------------------

#[test]
fn auth_is_the_first_frame_with_every_contract_field() {
    let mut h = Script::new();
    h.input(Input::Connect);
    assert_eq!(h.session.state(), State::Connecting);
    assert_eq!(h.opens.len(), 1);
    h.open();
    assert_eq!(h.session.state(), State::Authenticating);
    assert_eq!(h.sent.len(), 1);
    let auth = &h.sent[0];
    assert_eq!(auth["type"], "auth");
    assert_eq!(auth["v"], 1);
    assert_eq!(auth["api_key"], KEY);
    assert_eq!(auth["store_id"], "demo-store");
    assert_eq!(auth["language"], "en");
    assert_eq!(auth["sdk"]["name"], "vizochok-rust");
    assert!(auth.get("session_id").is_none() && auth.get("last_seq").is_none());
}

#[test]
fn auth_asks_to_resume_with_session_id_and_last_seq() {
    let mut config = config();
    config.user_id = Some("u1".into());
    config.user_token = Some(vizochok_core::Secret::new("tok_canary_77"));
    let mut h = Script::with(config);
    h.connect_as("s9");
    h.recv(json!({"type":"typing","seq":41}));
    h.server_close(Some(1012));
    h.advance(5_000);
    h.sent.clear();
    h.open();
    assert_eq!(h.sent[0]["session_id"], "s9");
    assert_eq!(h.sent[0]["last_seq"], 41);
    assert_eq!(h.sent[0]["user_id"], "u1");
    assert_eq!(h.sent[0]["user_token"], "tok_canary_77");
}

#[test]
fn no_debug_form_shows_a_secret() {
    let mut config = config();
    config.user_token = Some(vizochok_core::Secret::new("tok_canary_77"));
    config.session_id = Some(vizochok_core::Secret::new("sess_canary_saved"));
    let check = |what: &str, shown: String| {
        for secret in [KEY, "tok_canary_77", "sess_canary"] {
            assert!(!shown.contains(secret), "{what} shows {secret}: {shown}");
        }
    };
    check("the config", format!("{config:?}"));
    let mut session = Session::new(config).unwrap();
    session.handle_input(0, Input::Connect);
    let socket = std::iter::from_fn(|| session.poll_output())
        .find_map(|o| if let Output::Open { socket, .. } = o { Some(socket) } else { None })
        .expect("a socket opens");
    session.handle_input(1, Input::SocketOpened(socket));
    check("the session while it authenticates", format!("{session:?}"));
    let outputs: Vec<Output> = std::iter::from_fn(|| session.poll_output()).collect();
    assert!(outputs.iter().any(|o| matches!(o, Output::Send { text, .. } if text.contains(KEY))), "auth went out");
    check("the auth frame's output", format!("{outputs:?}"));
    let ok = r#"{"type":"auth_ok","session_id":"sess_canary_joined","restored":false,"replay":false}"#;
    check("the auth_ok input", format!("{:?}", Input::Text(socket, ok)));
    session.handle_input(2, Input::Text(socket, ok));
    assert_eq!(session.session_id(), Some("sess_canary_joined"));
    check("the connected session", format!("{session:?}"));
}

#[test]
fn a_client_that_applied_nothing_names_no_last_seq() {
    let mut config = config();
    config.session_id = Some(vizochok_core::Secret::new("s9"));
    let mut h = Script::with(config);
    h.input(Input::Connect);
    h.open();
    assert_eq!(h.sent[0]["session_id"], "s9");
    assert!(h.sent[0].get("last_seq").is_none(), "a reloaded page asks to be restored, not replayed");
}

#[test]
fn each_action_frame_has_its_fields_and_a_unique_id() {
    let mut h = Script::connected();
    let p = product("milk-1", 1.0);
    let ids = [
        h.session.send_message(h.now, "молоко").unwrap(),
        h.session.select_product(h.now, &p, Some(2.0)).unwrap(),
        h.session.update_quantity(h.now, "milk-1", 3.0).unwrap(),
        h.session.remove_item(h.now, "milk-1").unwrap(),
        h.session.clear_cart(h.now).unwrap(),
    ];
    h.drain();
    assert_eq!(h.sent_types(), ["message", "select_item", "update_quantity", "remove_item", "clear_cart"]);
    assert_eq!(h.sent[0], json!({"type":"message","id":ids[0],"text":"молоко"}));
    assert_eq!(h.sent[1], json!({"type":"select_item","id":ids[1],"sku":"milk-1","quantity":2.0}));
    assert_eq!(h.sent[2], json!({"type":"update_quantity","id":ids[2],"sku":"milk-1","quantity":3.0}));
    assert_eq!(h.sent[3], json!({"type":"remove_item","id":ids[3],"sku":"milk-1"}));
    assert_eq!(h.sent[4], json!({"type":"clear_cart","id":ids[4]}));
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5);
    assert!(ids.iter().all(|id| id.len() <= 64 && id.is_ascii()));
}

#[test]
fn ids_differ_between_clients_with_different_seeds() {
    let mut a = Script::connected();
    let mut config = config();
    config.seed = 43;
    let mut b = Script::with(config);
    b.connect_as("s1");
    assert_ne!(a.session.clear_cart(0).unwrap(), b.session.clear_cart(0).unwrap());
}

#[test]
fn select_product_fires_on_product_click_with_the_quantity() {
    let mut h = Script::connected();
    let id = h.session.select_product(h.now, &product("cheese", 0.5), None).unwrap();
    h.drain();
    let clicked: Vec<_> =
        h.events.iter().filter_map(|e| if let Event::ProductClick(p) = e { Some(p) } else { None }).collect();
    assert_eq!(clicked.len(), 1);
    assert_eq!(clicked[0].quantity, Some(0.5), "defaults to one quantity_step");
    assert_eq!(h.sent[0], json!({"type":"select_item","id":id,"sku":"cheese","quantity":0.5}));
}

// ----- §3 server → client frames --------------------------------------------

#[test]
fn auth_ok_connects_fires_on_connect_and_flushes_the_queue() {
    let mut h = Script::new();
    let id = h.session.send_message(0, "hello").unwrap();
    h.drain();
    assert!(h.sent.is_empty(), "nothing is sent before connecting");
    h.input(Input::Connect);
    h.open();
    assert_eq!(h.sent_types(), ["auth"], "actions wait for auth_ok");
    h.auth_ok("s1");
    assert_eq!(h.session.state(), State::Connected);
    assert_eq!(h.session.session_id(), Some("s1"));
    assert!(h.events.contains(&Event::Connect));
    assert!(h.events.contains(&Event::StateChanged(State::Connected)));
    assert_eq!(h.sent_types(), ["auth", "message"]);
    assert_eq!(h.sent[1]["id"], id.as_str());
}

#[test]
fn restored_auth_ok_fires_on_session_complete_and_replaces_history() {
    let mut config = config();
    config.session_id = Some(vizochok_core::Secret::new("s1"));
    let mut h = Script::with(config);
    h.input(Input::Connect);
    h.open();
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":true,"replay":false,
        "summary":{"selected_items":[cart_item("a", 2.0)],"total":20.0,"item_count":1},
        "history":[{"role":"user","text":"milk"},{"role":"assistant","text":"here","products":[]}]}));
    let connect = h.events.iter().position(|e| *e == Event::Connect).unwrap();
    let complete = h.events.iter().position(|e| matches!(e, Event::SessionComplete(s) if s.total == 20.0)).unwrap();
    assert!(connect < complete, "onConnect, then onSessionComplete");
    assert!(h.events.iter().any(|e| matches!(e, Event::History(hist) if hist.len() == 2)));
    assert_eq!(h.session.cart().items.len(), 1);
    assert_eq!(h.session.cart().total, 20.0);
}

#[test]
fn auth_error_reports_closes_and_never_reconnects() {
    let mut h = Script::new();
    h.input(Input::Connect);
    h.open();
    h.recv(json!({"type":"auth_error","code":"invalid_api_key","message":format!("bad key {KEY}")}));
    assert_eq!(h.error_codes(), ["auth_error"]);
    let detail = h.errors()[0].detail.clone().unwrap();
    assert!(detail.contains("invalid_api_key") && !detail.contains(KEY), "{detail}");
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.session.state(), State::Stopped);
    assert!(!h.events.contains(&Event::Connect) && !h.events.contains(&Event::Disconnect));
    h.server_close_stale(Some(4001));
    h.advance(10 * 60_000);
    assert_eq!(h.opens.len(), 1, "no reconnect loop");
    assert_eq!(h.session.poll_timeout(), None);
}

trait Stale {
    fn server_close_stale(&mut self, code: Option<u16>);
}
impl Stale for Script {
    fn server_close_stale(&mut self, code: Option<u16>) {
        let s = self.socket();
        self.input(Input::SocketEnded { socket: s, code, reason: "late" });
    }
}

#[test]
fn ack_drops_the_action_from_the_resend_set() {
    let mut h = Script::connected();
    let id = h.session.clear_cart(h.now).unwrap();
    h.drain();
    assert_eq!(h.session.pending_actions().len(), 1);
    assert!(h.session.pending_actions()[0].sent);
    h.recv(json!({"type":"ack","id":id}));
    assert!(h.session.pending_actions().is_empty());
    assert!(h.events.contains(&Event::Acknowledged { id }));
}

#[test]
fn typing_delta_and_response_reach_the_ui_in_order() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"ack","id":id}));
    h.recv(json!({"type":"typing","seq":1,"reply_to":id}));
    h.recv(json!({"type":"delta","seq":2,"message_id":"m1","reply_to":id,"text":"Here "}));
    h.recv(json!({"type":"delta","seq":3,"message_id":"m1","reply_to":id,"text":"it is"}));
    h.recv(json!({"type":"response","seq":4,"message_id":"m1","reply_to":id,"text":"Here it is",
        "products":[{"sku":"milk-1","name":"Milk","price":42.5,"unit":"pcs","quantity_step":1,"brand":"Галичина","image_url":null,"promo_price":null}]}));
    let ui: Vec<_> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Typing { .. } => Some("typing".to_string()),
            Event::Delta { text, .. } => Some(format!("delta:{text}")),
            Event::Response(Reply { text, products, .. }) => Some(format!("response:{text}:{}", products.len())),
            _ => None,
        })
        .collect();
    assert_eq!(ui, ["typing", "delta:Here ", "delta:it is", "response:Here it is:1"]);
    assert!(h.session.pending_actions().is_empty(), "the reply finishes the message");
    assert_eq!(h.session.last_seq(), 4);
}

#[test]
fn a_reply_acknowledges_a_message_whose_ack_was_lost() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"response","seq":1,"message_id":"m","reply_to":id,"text":"ok","products":[]}));
    assert_eq!(h.count(|e| *e == Event::Acknowledged { id: id.clone() }), 1);
    h.recv(json!({"type":"ack","id":id}));
    assert_eq!(h.count(|e| matches!(e, Event::Acknowledged { .. })), 1, "a late ack adds nothing");
}

#[test]
fn response_with_summary_fires_on_session_complete() {
    let mut h = Script::connected();
    h.recv(json!({"type":"response","seq":1,"message_id":"m","reply_to":"x","text":"ok","products":[],
        "summary":{"selected_items":[cart_item("a",1.0)],"total":10.0,"item_count":1}}));
    assert_eq!(h.count(|e| matches!(e, Event::SessionComplete(s) if s.item_count == 1)), 1);
    assert_eq!(h.session.cart().total, 10.0);
}

#[test]
fn cart_changed_fires_on_cart_changed_with_the_full_cart() {
    let mut h = Script::connected();
    h.recv(json!({"type":"cart_changed","seq":1,"action":"item_selected","sku":"b","name":"Product b","quantity":2.0,"price":10.0,
        "items":[cart_item("a",1.0), cart_item("b",2.0)],"total":30.0}));
    let changed: Vec<_> =
        h.events.iter().filter_map(|e| if let Event::CartChanged(c) = e { Some(c) } else { None }).collect();
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].action, CartAction::ItemSelected);
    assert_eq!(changed[0].sku.as_deref(), Some("b"));
    assert_eq!(changed[0].items.len(), 2);
    assert_eq!(changed[0].total, 30.0);
    assert_eq!(h.session.cart().items.len(), 2);
}

#[test]
fn server_error_is_localized_with_the_server_text_in_detail() {
    let mut config = config();
    config.language = Language::Uk;
    let mut h = Script::with(config);
    h.connect_as("s1");
    h.recv(json!({"type":"error","seq":1,"code":"internal_error","message":"db down"}));
    let e = &h.errors()[0];
    assert_eq!(e.code, ErrorCode::InternalError);
    assert_eq!(e.message, vizochok_core::i18n::error_message(ErrorCode::InternalError, Language::Uk));
    assert_eq!(e.detail.as_deref(), Some("db down"));
}

#[test]
fn unknown_server_error_code_becomes_internal_error() {
    let mut h = Script::connected();
    h.recv(json!({"type":"error","seq":1,"code":"brand_new_code"}));
    assert_eq!(h.error_codes(), ["internal_error"]);
    assert!(h.errors()[0].detail.as_deref().unwrap().contains("brand_new_code"));
}

#[test]
fn server_ping_is_answered_with_pong_at_once() {
    let mut h = Script::connected();
    h.recv(json!({"type":"ping","ts":123.5}));
    assert_eq!(h.sent, [json!({"type":"pong","ts":123.5})]);
}

#[test]
fn pong_answers_the_heartbeat() {
    let mut h = Script::connected();
    h.advance(25_000);
    assert_eq!(h.sent_types(), ["ping"]);
    h.recv(json!({"type":"pong","ts":h.sent[0]["ts"]}));
    h.advance(20_000);
    assert!(h.errors().is_empty(), "answered heartbeat: no connection_lost");
    assert_eq!(h.session.state(), State::Connected);
}

#[test]
fn unknown_frame_types_are_ignored_and_counted() {
    let mut h = Script::connected();
    h.recv(json!({"type":"promo_banner","text":"hi"}));
    assert!(h.events.is_empty() && h.errors().is_empty());
    assert_eq!(h.session.unknown_frames(), 1);
}

// ----- seq, resume, replay, new session -----------------------------------

#[test]
fn duplicate_or_late_seq_never_rolls_the_cart_back() {
    let mut h = Script::connected();
    let change = |seq: u64, qty: f64| json!({"type":"cart_changed","seq":seq,"action":"quantity_updated","sku":"a","quantity":qty,"items":[cart_item("a",qty)],"total":qty*10.0});
    h.recv(change(5, 2.0));
    h.recv(change(5, 2.0));
    h.recv(change(4, 1.0));
    assert_eq!(h.count(|e| matches!(e, Event::CartChanged(_))), 1);
    assert_eq!(h.session.cart().total, 20.0);
    assert_eq!(h.session.last_seq(), 5);
}

#[test]
fn reconnect_resumes_with_last_seq_and_replay_delivers_the_reply_once() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"ack","id":id}));
    h.recv(json!({"type":"delta","seq":1,"message_id":"m","reply_to":id,"text":"Mi"}));
    h.server_close(None);
    h.clear();
    h.advance(1_000);
    h.open();
    assert_eq!(h.sent[0]["session_id"], "s1");
    assert_eq!(h.sent[0]["last_seq"], 1);
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":false,"replay":true}));
    assert!(!h.sent_types().contains(&"message".to_string()), "acked message is not resent");
    h.recv(json!({"type":"delta","seq":1,"message_id":"m","reply_to":id,"text":"Mi"}));
    h.recv(json!({"type":"delta","seq":2,"message_id":"m","reply_to":id,"text":"lk"}));
    h.recv(json!({"type":"response","seq":3,"message_id":"m","reply_to":id,"text":"Milk","products":[]}));
    assert_eq!(h.count(|e| matches!(e, Event::Delta { .. })), 1, "the replayed duplicate is dropped");
    assert_eq!(h.count(|e| matches!(e, Event::Response { .. })), 1);
}

#[test]
fn a_reply_sent_again_after_a_restored_resume_ends_its_message_and_shows_nothing_new() {
    let mut h = Script::connected();
    let first = h.session.send_message(h.now, "milk").unwrap();
    let second = h.session.send_message(h.now, "bread").unwrap();
    // The socket goes before the ack: the server answered the first message
    // while this client was away, and resumes it `restored`.
    h.server_close(Some(1006));
    h.clear();
    h.advance(1_000);
    h.open();
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":true,"replay":false,
        "history":[{"role":"user","text":"milk"},{"role":"assistant","text":"Milk: 2 kinds","products":[],"message_id":"r1"}]}));
    assert_eq!(h.sent_types(), ["auth", "message"], "one message at a time: the first is resent");
    assert_eq!(h.sent[1]["id"], first.as_str());
    h.recv(json!({"type":"ack","id":first}));
    h.recv(json!({"type":"response","seq":9,"message_id":"r1","reply_to":first,"text":"Milk: 2 kinds",
        "products":[],"again":true}));
    assert_eq!(h.count(|e| matches!(e, Event::Response { .. })), 0, "the history shows that reply already");
    assert_eq!(h.count(|e| *e == Event::Acknowledged { id: first.clone() }), 1);
    assert_eq!(h.sent_types(), ["auth", "message", "message"], "the message ended: the next one goes");
    assert_eq!(h.sent[2]["id"], second.as_str());
    assert_eq!(h.session.last_seq(), 9);
    // A reply not sent again is shown as always.
    h.recv(json!({"type":"response","seq":10,"message_id":"r2","reply_to":second,"text":"Bread","products":[]}));
    assert_eq!(h.count(|e| matches!(e, Event::Response(r) if r.text == "Bread")), 1);
}

/// Restored after the socket went before the first message's ack, with `history`.
fn restored_with(history: Value) -> (Script, String) {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "milk").unwrap();
    h.server_close(Some(1006));
    h.clear();
    h.advance(1_000);
    h.open();
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":true,"replay":false,"history":history}));
    (h, id)
}

#[test]
fn a_reply_sent_again_that_the_restored_history_no_longer_holds_is_shown_once() {
    // Other tabs' messages pushed the reply out of the history the server keeps.
    let (mut h, id) =
        restored_with(json!([{"role":"user","text":"eggs"},{"role":"assistant","text":"Eggs","message_id":"r0"}]));
    h.recv(json!({"type":"response","seq":9,"message_id":"r1","reply_to":id,"text":"Milk: 2 kinds",
        "products":[],"again":true}));
    assert_eq!(h.count(|e| matches!(e, Event::Response(r) if r.message_id == "r1")), 1, "else no answer shows");
    assert_eq!(h.count(|e| *e == Event::Acknowledged { id: id.clone() }), 1);
}

#[test]
fn a_reply_sent_again_that_an_earlier_connection_s_history_held_is_not_shown_twice() {
    let (mut h, id) =
        restored_with(json!([{"role":"user","text":"milk"},{"role":"assistant","text":"Milk","message_id":"r1"}]));
    // The socket goes before the resent message is answered; the next
    // connection replays, with no history, and the reply comes again.
    h.server_close(Some(1006));
    h.advance(1_000);
    h.open();
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":false,"replay":true}));
    h.recv(json!({"type":"response","seq":9,"message_id":"r1","reply_to":id,"text":"Milk","products":[],"again":true}));
    assert_eq!(h.count(|e| matches!(e, Event::Response { .. })), 0, "the history on screen shows it");
    assert_eq!(h.count(|e| *e == Event::Acknowledged { id: id.clone() }), 1);
}

#[test]
fn a_reply_id_of_the_session_left_behind_hides_no_reply_of_the_next_one() {
    // A server that numbers replies per session: the new session's first
    // reply has the id of one the old session's history held.
    let (mut h, first) =
        restored_with(json!([{"role":"user","text":"milk"},{"role":"assistant","text":"Milk","message_id":"r1"}]));
    h.recv(json!({"type":"ack","id":first}));
    h.recv(
        json!({"type":"response","seq":9,"message_id":"r1","reply_to":first,"text":"Milk","products":[],"again":true}),
    );
    h.session.reset(h.now).unwrap();
    h.drain();
    h.open();
    h.auth_ok("s2");
    let id = h.session.send_message(h.now, "bread").unwrap();
    h.recv(json!({"type":"ack","id":id}));
    h.clear();
    h.recv(
        json!({"type":"response","seq":1,"message_id":"r1","reply_to":id,"text":"Bread","products":[],"again":true}),
    );
    assert_eq!(h.count(|e| matches!(e, Event::Response(r) if r.text == "Bread")), 1, "{:?}", h.events);
}

#[test]
fn a_text_from_outside_that_quotes_the_session_id_reaches_no_event() {
    const ID: &str = "s-canary0123456789abcdef";
    let mut h = Script::new();
    h.connect_as(ID);
    h.clear();
    h.recv(json!({"type":"error","seq":1,"code":"internal_error","message":format!("session {ID} broke")}));
    let socket = h.socket();
    h.input(Input::SocketEnded { socket, code: Some(4003), reason: &format!("{ID} is closed") });
    let shown: Vec<String> = h.errors().iter().map(|e| format!("{e:?}")).collect();
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert!(shown.iter().all(|e| !e.contains(ID) && e.contains("[redacted]")), "{shown:?}");
}

#[test]
fn a_new_session_resets_seq_and_cart_and_resends_pending_actions() {
    let mut h = Script::connected();
    h.recv(json!({"type":"cart_changed","seq":7,"action":"item_selected","sku":"a","items":[cart_item("a",1.0)],"total":10.0}));
    let id = h.session.remove_item(h.now, "a").unwrap();
    h.server_close(Some(1006));
    h.clear();
    h.advance(1_000);
    h.open();
    h.auth_ok("s2");
    assert_eq!(h.session.session_id(), Some("s2"));
    assert_eq!(h.session.last_seq(), 0);
    assert!(h.session.cart().items.is_empty());
    assert!(h
        .events
        .iter()
        .any(|e| matches!(e, Event::CartChanged(c) if c.action == CartAction::CartCleared && c.items.is_empty())));
    assert_eq!(h.sent_types(), ["auth", "remove_item"]);
    assert_eq!(h.sent[1]["id"], id.as_str());
    h.recv(json!({"type":"cart_changed","seq":1,"action":"cart_cleared","items":[],"total":0.0}));
    assert_eq!(h.session.last_seq(), 1, "seq 1 of the new session applies");
}

// ----- §4 actions, queue and delivery --------------------------------------

#[test]
fn message_length_is_counted_in_characters_not_bytes() {
    let mut h = Script::connected();
    assert!(h.session.send_message(h.now, &"ї".repeat(2_000)).is_ok());
    let err = h.session.send_message(h.now, &"ї".repeat(2_001)).unwrap_err();
    assert!(matches!(&err, ActionError::Rejected(e) if e.code == ErrorCode::MessageTooLarge));
    h.drain();
    assert_eq!(h.error_codes(), ["message_too_large"], "the rejection also reaches onError");
    assert_eq!(h.sent.len(), 1, "nothing is queued for the rejected call");
}

#[test]
fn a_server_heartbeat_is_kept_between_one_second_and_two_minutes() {
    for (asked, used) in [(10u64, 1_000u64), (3_600_000, 120_000)] {
        let mut h = Script::new();
        h.input(Input::Connect);
        h.open();
        h.recv(
            json!({"type":"auth_ok","session_id":"s1","restored":false,"replay":false,"limits":{"heartbeat_ms":asked}}),
        );
        assert_eq!(h.session.poll_timeout(), Some(h.now + used), "asked {asked}");
    }
}

#[test]
fn server_may_lower_the_message_limit() {
    let mut h = Script::new();
    h.input(Input::Connect);
    h.open();
    h.recv(json!({"type":"auth_ok","session_id":"s1","restored":false,"replay":false,"limits":{"max_message_chars":10,"heartbeat_ms":5000}}));
    assert!(h.session.send_message(h.now, "0123456789").is_ok());
    assert!(h.session.send_message(h.now, "0123456789X").is_err());
    h.clear();
    h.advance(5_000);
    assert_eq!(h.sent_types(), ["ping"], "heartbeat_ms from the server");
}

#[test]
fn bad_quantities_are_rejected_locally_with_a_clear_error() {
    let mut h = Script::connected();
    let cheese = product("cheese", 0.1);
    assert!(h.session.select_product(h.now, &cheese, Some(0.3)).is_ok(), "0.3 is 3 steps of 0.1 within 1e-9");
    for bad in [0.0, -1.0, 0.25, f64::NAN, f64::INFINITY] {
        let err = h.session.select_product(h.now, &cheese, Some(bad)).unwrap_err();
        assert!(matches!(err, ActionError::Invalid(ref m) if m.contains("quantity")), "{bad}: {err}");
    }
    assert!(h.session.update_quantity(h.now, "cheese", 0.15).is_err(), "known step applies to updates too");
    assert!(h.session.update_quantity(h.now, "cheese", 1.2).is_ok());
    assert!(matches!(h.session.send_message(h.now, "   "), Err(ActionError::Invalid(_))));
    assert!(matches!(h.session.remove_item(h.now, ""), Err(ActionError::Invalid(_))));
    h.drain();
    assert!(h.errors().is_empty(), "misuse is not an onError");
    assert_eq!(h.session.pending_actions().len(), 2);
}

#[test]
fn queue_holds_actions_offline_and_refuses_the_33rd_with_queue_full() {
    let mut h = Script::new();
    for i in 0..32 {
        assert!(h.session.update_quantity(0, &format!("sku{i}"), 1.0).is_ok());
    }
    let err = h.session.clear_cart(0).unwrap_err();
    assert!(matches!(err, ActionError::Rejected(ref e) if e.code == ErrorCode::QueueFull));
    h.drain();
    assert_eq!(h.error_codes(), ["queue_full"]);
    assert_eq!(h.session.pending_actions().len(), 32);
    h.connect_as("s1");
    assert_eq!(h.sent_types().iter().filter(|t| *t == "update_quantity").count(), 32, "all flushed in order");
    let skus: Vec<_> = h.sent.iter().skip(1).map(|f| f["sku"].as_str().unwrap().to_owned()).collect();
    assert_eq!(skus, (0..32).map(|i| format!("sku{i}")).collect::<Vec<_>>());
}

#[test]
fn only_one_message_is_in_flight_but_cart_actions_pass() {
    let mut h = Script::connected();
    let m1 = h.session.send_message(h.now, "one").unwrap();
    let m2 = h.session.send_message(h.now, "two").unwrap();
    let c = h.session.clear_cart(h.now).unwrap();
    h.drain();
    assert_eq!(h.sent_types(), ["message", "clear_cart"]);
    h.recv(json!({"type":"ack","id":m1}));
    assert_eq!(h.sent.len(), 2, "ack alone does not release the next message");
    h.recv(json!({"type":"response","seq":1,"message_id":"r","reply_to":m1,"text":"1","products":[]}));
    assert_eq!(h.sent_types(), ["message", "clear_cart", "message"]);
    assert_eq!(h.sent[2]["id"], m2.as_str());
    assert_eq!(h.sent[1]["id"], c.as_str());
}

#[test]
fn a_final_error_for_a_message_releases_the_next_one() {
    let mut h = Script::connected();
    let m1 = h.session.send_message(h.now, "one").unwrap();
    h.session.send_message(h.now, "two").unwrap();
    h.drain();
    h.recv(json!({"type":"error","seq":1,"code":"max_rounds_exceeded","reply_to":m1}));
    assert_eq!(h.errors()[0].reply_to.as_deref(), Some(m1.as_str()));
    assert_eq!(h.sent_types(), ["message", "message"]);
}

#[test]
fn unacked_actions_are_resent_in_order_with_the_same_ids_before_new_ones() {
    let mut h = Script::connected();
    let a = h.session.update_quantity(h.now, "a", 1.0).unwrap();
    let b = h.session.update_quantity(h.now, "b", 1.0).unwrap();
    h.drain();
    h.recv(json!({"type":"ack","id":a}));
    h.server_close(Some(1006));
    let c = h.session.update_quantity(h.now, "c", 1.0).unwrap();
    h.clear();
    h.advance(1_000);
    h.open();
    h.auth_ok("s1");
    let ids: Vec<_> = h.sent.iter().skip(1).map(|f| f["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, [b, c]);
}

#[test]
fn agent_busy_is_retried_after_retry_after_ms_at_most_three_times() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "hi").unwrap();
    h.drain();
    for attempt in 1..=3 {
        h.clear();
        h.recv(json!({"type":"error","seq":attempt,"code":"agent_busy","reply_to":id,"retry_after_ms":500}));
        assert!(h.errors().is_empty(), "no onError while retrying");
        h.advance(499);
        assert!(h.sent.is_empty());
        h.advance(1);
        assert_eq!(h.sent, [json!({"type":"message","id":id,"text":"hi"})], "attempt {attempt} resends the same id");
    }
    h.clear();
    h.recv(json!({"type":"error","seq":4,"code":"agent_busy","reply_to":id}));
    assert_eq!(h.error_codes(), ["agent_busy"]);
    assert_eq!(h.errors()[0].reply_to.as_deref(), Some(id.as_str()));
    assert!(h.session.pending_actions().is_empty());
}

/// A server that names a wait of years (a bug, or a unit mistake) would hold
/// the message, and every message after it, for as long as the socket
/// lives: a wait is at most 60 s.
#[test]
fn a_retry_after_of_years_waits_at_most_60_s() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "hi").unwrap();
    h.drain();
    h.clear();
    h.recv(
        json!({"type":"error","seq":1,"code":"agent_busy","reply_to":id,"retry_after_ms":1_000_000_000_000_000_u64}),
    );
    assert!(h.errors().is_empty(), "no onError while retrying");
    for _ in 0..2 {
        h.advance(20_000); // the server keeps talking, so the heartbeat stays quiet
        h.recv(json!({"type":"pong"}));
    }
    h.advance(19_999);
    assert!(h.sent.is_empty(), "{:?}", h.sent);
    h.advance(1);
    assert_eq!(h.sent, [json!({"type":"message","id":id,"text":"hi"})], "resent after 60 s");
}

#[test]
fn rate_limit_without_retry_after_waits_the_default_two_seconds() {
    let mut h = Script::connected();
    let id = h.session.clear_cart(h.now).unwrap();
    h.drain();
    h.clear();
    h.recv(json!({"type":"error","seq":1,"code":"rate_limit_exceeded","reply_to":id}));
    h.advance(1_999);
    assert!(h.sent.is_empty());
    h.advance(1);
    assert_eq!(h.sent_types(), ["clear_cart"]);
}

#[test]
fn a_busy_error_after_an_ack_finishes_the_action_instead_of_retrying() {
    let mut h = Script::connected();
    let id = h.session.send_message(h.now, "hi").unwrap();
    h.recv(json!({"type":"ack","id":id}));
    h.recv(json!({"type":"error","seq":1,"code":"agent_busy","reply_to":id,"retry_after_ms":10}));
    h.clear();
    h.advance(60_000);
    assert!(!h.sent_types().contains(&"message".to_string()), "a durable action is not resent");
    assert!(h.session.pending_actions().is_empty());
}

#[test]
fn frames_naming_an_action_never_sent_neither_end_nor_lose_it() {
    let mut h = Script::connected();
    h.session.send_message(h.now, "first").unwrap();
    let queued = h.session.send_message(h.now, "second").unwrap(); // held back by the first
    h.clear();
    h.recv(json!({"type":"ack","id":queued}));
    h.recv(json!({"type":"response","seq":1,"message_id":"m","reply_to":queued,"text":"?","products":[]}));
    h.recv(json!({"type":"error","seq":2,"code":"internal_error","reply_to":queued}));
    assert!(!h.events.contains(&Event::Acknowledged { id: queued.clone() }));
    assert_eq!(h.session.pending_actions().len(), 2, "both messages are still pending");
    assert!(h.session.pending_actions().iter().any(|a| a.id == queued && !a.sent));
}

#[test]
fn any_other_error_with_reply_to_finishes_that_action() {
    let mut h = Script::connected();
    let id = h.session.update_quantity(h.now, "x", 1.0).unwrap();
    h.recv(json!({"type":"error","seq":1,"code":"internal_error","reply_to":id}));
    assert!(h.session.pending_actions().is_empty());
    assert_eq!(h.errors()[0].reply_to.as_deref(), Some(id.as_str()));
}

// ----- §5 timers ----------------------------------------------------------

#[test]
fn socket_open_timeout_reports_ws_error_and_reconnects() {
    let mut h = Script::new();
    h.input(Input::Connect);
    h.advance(10_000);
    assert_eq!(h.error_codes(), ["ws_error"]);
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.session.state(), State::Reconnecting);
    h.advance(1_000);
    assert_eq!(h.opens.len(), 2);
}

#[test]
fn auth_timeout_closes_and_reconnects() {
    let mut h = Script::new();
    h.input(Input::Connect);
    h.open();
    h.advance(9_999);
    assert!(h.errors().is_empty());
    h.advance(1);
    assert_eq!(h.error_codes(), ["auth_timeout"]);
    assert_eq!(h.closes.len(), 1);
    h.advance(1_000);
    assert_eq!(h.opens.len(), 2);
}

#[test]
fn heartbeat_pings_after_silence_and_loses_the_connection_without_answer() {
    let mut h = Script::connected();
    h.advance(20_000);
    h.recv(json!({"type":"unknown_kind"}));
    h.advance(24_999);
    assert!(h.sent.is_empty(), "any inbound frame restarts the heartbeat");
    h.advance(1);
    assert_eq!(h.sent_types(), ["ping"]);
    h.advance(9_999);
    assert!(h.errors().is_empty());
    h.advance(1);
    assert_eq!(h.error_codes(), ["connection_lost"]);
    assert!(h.events.contains(&Event::Disconnect));
    assert_eq!(h.session.state(), State::Reconnecting);
}

#[test]
fn backoff_waits_a_jittered_time_that_doubles_up_to_thirty_seconds() {
    let mut h = Script::new();
    h.input(Input::Connect);
    for n in 0..10u32 {
        let failed_at = h.now;
        h.input(Input::SocketEnded { socket: h.socket(), code: None, reason: "refused" });
        let wait = h.session.poll_timeout().unwrap() - failed_at;
        let d = (1_000u64 << n).min(30_000);
        assert!(wait >= d / 2 && wait <= d, "attempt {n}: waited {wait}, d = {d}");
        h.advance(wait);
        assert_eq!(h.opens.len() as u32, n + 2);
    }
}

#[test]
fn ten_failed_attempts_in_a_row_give_max_reconnect_and_stop() {
    let mut h = Script::new();
    h.input(Input::Connect);
    for _ in 0..11 {
        h.input(Input::SocketEnded { socket: h.socket(), code: None, reason: "refused" });
        h.advance(60_000);
    }
    assert_eq!(h.opens.len(), 11, "the first try plus 10 reconnects");
    assert_eq!(h.error_codes().iter().filter(|c| **c == "max_reconnect").count(), 1);
    assert_eq!(h.session.state(), State::Stopped);
    h.advance(3_600_000);
    assert_eq!(h.opens.len(), 11);
    h.input(Input::NetworkOnline);
    assert_eq!(h.opens.len(), 12, "network-back hint starts a fresh series");
    assert_eq!(h.session.reconnect_attempts(), 0);
}

#[test]
fn auth_ok_resets_the_attempt_counter() {
    let mut h = Script::new();
    h.input(Input::Connect);
    for _ in 0..5 {
        h.input(Input::SocketEnded { socket: h.socket(), code: None, reason: "refused" });
        h.fire_next();
    }
    assert_eq!(h.session.reconnect_attempts(), 5);
    h.open();
    h.auth_ok("s1");
    assert_eq!(h.session.reconnect_attempts(), 0);
}

#[test]
fn server_restart_close_spreads_the_first_attempt_over_five_seconds() {
    let mut waits = Vec::new();
    for seed in 0..200 {
        let h = Script::restarted(seed);
        waits.push(h.session.poll_timeout().unwrap() - h.now);
    }
    assert!(waits.iter().all(|w| *w <= 5_000));
    assert!(waits.iter().any(|w| *w < 500), "some return sooner than a normal backoff allows");
    assert!(waits.iter().any(|w| *w > 4_000));
}

#[test]
fn network_online_skips_the_backoff_wait() {
    let mut h = Script::connected();
    h.server_close(Some(1006));
    assert_eq!(h.session.state(), State::Reconnecting);
    let opens = h.opens.len();
    h.input(Input::NetworkOnline);
    assert_eq!(h.opens.len(), opens + 1);
}

// ----- §6 bad input from the server ------------------------------------------

#[test]
fn each_kind_of_bad_frame_is_dropped_with_ws_error_and_the_connection_kept() {
    let mut h = Script::connected();
    let too_large = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(1024 * 1024));
    let too_deep = format!(r#"{{"type":"ping","x":{}{}}}"#, "[".repeat(65), "]".repeat(65));
    let bad = [
        "{not json",
        r#"{"type":"ack"}"#,
        r#"{"type":"cart_changed","seq":1,"action":"item_selected","items":"all","total":1}"#,
        r#"{"type":"cart_changed","seq":1,"action":"exploded","items":[],"total":1}"#,
        too_large.as_str(),
        too_deep.as_str(),
        "[]",
    ];
    for text in bad {
        h.recv_text(text);
    }
    let s = h.socket();
    h.input(Input::Binary(s, 12));
    // One the host did not hand over (the browser's, too large to copy).
    h.input(Input::Oversized(s, 5 << 20));
    assert_eq!(h.error_codes(), vec!["ws_error"; 9]);
    assert!(h.errors().iter().all(|e| e.detail.is_some()));
    assert!(h.errors().iter().any(|e| e.detail.as_deref().unwrap().contains("binary")));
    let oversized = h.errors().last().unwrap().detail.clone();
    assert_eq!(oversized.as_deref(), Some("frame of 5242880 bytes exceeds the 1048576-byte limit"));
    assert_eq!(h.session.state(), State::Connected);
    assert!(h.session.cart().items.is_empty(), "no partial frame applied");
    assert_eq!(h.session.last_seq(), 0);
    assert!(h.closes.is_empty());
}

#[test]
fn more_than_twenty_bad_frames_in_a_minute_recycle_the_socket() {
    let mut h = Script::connected();
    for _ in 0..20 {
        h.recv_text("garbage");
        h.advance(2_000);
    }
    assert!(h.closes.is_empty(), "twenty are tolerated");
    h.recv_text("garbage");
    assert_eq!(h.closes.len(), 1);
    assert_eq!(h.session.state(), State::Reconnecting);
    let mut slow = Script::connected();
    for _ in 0..40 {
        slow.recv_text("garbage");
        slow.advance(4_000);
        slow.recv(json!({"type":"pong"}));
    }
    assert!(slow.closes.is_empty(), "bad frames spread over more than 60 s are tolerated");
}

#[test]
fn parser_complaints_never_echo_the_api_key() {
    let mut h = Script::connected();
    h.recv_text(&format!(r#"{{"type":"ack","id":["{KEY}"]}}"#));
    h.recv(json!({"type":"error","seq":1,"code":"internal_error","message":format!("key={KEY}")}));
    for e in h.errors() {
        assert!(!format!("{e:?}").contains(KEY));
    }
    assert!(!format!("{:?}", h.session).contains(KEY));
}

// ----- §8 close codes, close and destroy ----------------------------------------

#[test]
fn normal_and_restart_close_codes_reconnect_but_40xx_never_does() {
    for code in [1000, 1001, 1011, 1012] {
        let mut h = Script::connected();
        h.server_close(Some(code));
        assert!(h.events.contains(&Event::Disconnect), "{code}");
        h.advance(6_000);
        assert_eq!(h.opens.len(), 2, "{code} reconnects");
    }
    for (code, expected) in [(4001, "auth_error"), (4002, "auth_error"), (4003, "ws_error"), (4008, "ws_error")] {
        let mut h = Script::connected();
        h.server_close(Some(code));
        assert_eq!(h.error_codes(), [expected], "{code}");
        assert!(h.events.contains(&Event::Disconnect));
        h.advance(3_600_000);
        assert_eq!(h.opens.len(), 1, "{code} is final");
        assert_eq!(h.session.state(), State::Stopped);
    }
}

#[test]
fn close_keeps_the_session_and_connect_resumes_it() {
    let mut h = Script::connected();
    let id = h.session.clear_cart(h.now).unwrap();
    h.input(Input::Disconnect);
    assert_eq!(h.closes, [(1000, "client disconnected".to_string())]);
    assert!(h.events.contains(&Event::Disconnect));
    assert_eq!(h.session.state(), State::Idle);
    h.advance(600_000);
    assert_eq!(h.opens.len(), 1, "no reconnect after the host closed");
    h.clear();
    h.input(Input::Connect);
    h.open();
    assert_eq!(h.sent[0]["session_id"], "s1");
    h.auth_ok("s1");
    assert_eq!(h.sent[1]["id"], id.as_str(), "the unacked action is resent");
}

#[test]
fn destroy_refuses_every_call_and_keeps_pending_actions_readable() {
    let mut h = Script::connected();
    h.session.clear_cart(h.now).unwrap();
    h.input(Input::Destroy);
    assert_eq!(h.session.state(), State::Destroyed);
    assert_eq!(h.session.pending_actions().len(), 1, "still queued at destroy");
    assert_eq!(h.session.send_message(h.now, "hi"), Err(ActionError::Destroyed));
    h.input(Input::Connect);
    assert_eq!(h.opens.len(), 1);
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn events_from_an_old_socket_are_ignored() {
    let mut h = Script::connected();
    let old = h.socket();
    h.server_close(Some(1006));
    h.input(Input::NetworkOnline);
    assert_ne!(h.socket(), old);
    h.input(Input::SocketEnded { socket: old, code: Some(1006), reason: "late" });
    h.input(Input::Text(old, r#"{"type":"auth_ok","session_id":"x","restored":false,"replay":false}"#));
    assert_eq!(h.session.state(), State::Connecting);
}

#[test]
fn reset_forgets_the_conversation_and_opens_a_new_session() {
    let mut h = Script::connected();
    h.recv(json!({"type":"cart_changed","seq":3,"action":"item_selected","sku":"a","items":[cart_item("a",1.0)],"total":10.0}));
    h.clear();
    h.session.reset(h.now).unwrap();
    h.drain();
    assert!(h.events.iter().any(|e| matches!(e, Event::CartChanged(c) if c.action == CartAction::CartCleared)));
    assert!(h.events.contains(&Event::History(vec![])));
    assert_eq!(h.closes.len(), 1);
    h.open();
    assert!(h.sent[0].get("session_id").is_none(), "a new session is requested");
    assert_eq!(h.session.last_seq(), 0);
}

#[test]
fn disconnect_follows_only_a_connect() {
    let mut h = Script::new();
    h.input(Input::Connect);
    h.input(Input::SocketEnded { socket: h.socket(), code: None, reason: "refused" });
    assert!(!h.events.contains(&Event::Disconnect));
    h.advance(1_000);
    h.open();
    h.auth_ok("s1");
    h.server_close(Some(1001));
    assert_eq!(h.count(|e| *e == Event::Connect), 1);
    assert_eq!(h.count(|e| *e == Event::Disconnect), 1);
}
