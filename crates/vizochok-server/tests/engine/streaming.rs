//! Messages: typing, deltas over virtual time, cart changes, response.

use vizochok_proto::{CartAction, Role, ServerFrame};
use vizochok_server::ServerConfig;

use crate::harness::*;

fn streaming() -> ServerConfig {
    ServerConfig { delta_interval_ms: 100, delta_chars: 10, ..config() }
}

fn text_of(frames: &[ServerFrame]) -> String {
    frames
        .iter()
        .filter_map(|f| if let ServerFrame::Delta { text, .. } = f { Some(text.as_str()) } else { None })
        .collect()
}

#[test]
fn a_reply_streams_one_delta_per_interval_then_responds() {
    let mut h = Harness::new(streaming());
    h.connect(1, None, None);
    let out = frames(&h.send(1, &message("m1", "any milk?")), 1);
    assert_eq!(kinds(&out), ["ack", "user_message", "typing"]);
    assert!(matches!(&out[2], ServerFrame::Typing { reply_to: Some(r), .. } if r == "m1"));
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 100));
    assert!(frames(&h.advance(99), 1).is_empty());
    let first = frames(&h.advance(1), 1);
    assert_eq!(kinds(&first), ["delta"]);

    let rest = frames(&h.advance(10_000), 1);
    let ServerFrame::Response { reply: Reply { reply_to, text, products, summary, message_id, .. }, .. } =
        rest.last().unwrap()
    else {
        panic!("{rest:?}")
    };
    assert_eq!(reply_to, "m1");
    assert!(message_id.ends_with("-m1"));
    assert_eq!(products.iter().map(|p| p.sku.as_str()).collect::<Vec<_>>(), ["milk-1", "milk-2"]);
    assert_eq!(summary, &None, "the cart did not change");
    let streamed = text_of(&first) + &text_of(&rest);
    assert_eq!(&streamed, text);
    assert_eq!(1 + rest.len() - 1, text.chars().count().div_ceil(10), "one delta per 10 characters");
}

#[test]
fn with_interval_zero_the_whole_reply_comes_at_once() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    let out = frames(&h.send(1, &message("m1", "milk")), 1);
    assert_eq!(kinds(&out)[..3], ["ack", "user_message", "typing"]);
    assert_eq!(kinds(&out).last(), Some(&"response"));
    assert!(h.only_ttl_left(), "nothing left streaming");
}

#[test]
fn the_reply_cart_changes_come_before_the_response_with_a_summary() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    let out = frames(&h.send(1, &message("m2", "add 2")), 1);
    assert_eq!(kinds(&out), ["ack", "user_message", "typing", "delta", "cart_changed", "response"]);
    let ServerFrame::CartChanged { change: CartChangedEvent { action, sku, .. }, .. } = &out[4] else { panic!() };
    assert_eq!((*action, sku.as_deref()), (CartAction::ItemSelected, Some("milk-2")));
    let ServerFrame::Response { reply: Reply { summary: Some(summary), .. }, .. } = &out[5] else { panic!("{out:?}") };
    assert_eq!((summary.item_count, summary.total), (1, 80.0));
    assert_eq!(h.engine.session_cart(&sid).unwrap().total, 80.0);
}

#[test]
fn a_message_while_the_assistant_streams_is_busy_and_can_be_retried() {
    let mut h = Harness::new(streaming());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    let out = frames(&h.send(1, &message("m2", "bread")), 1);
    assert!(acks(&out).is_empty());
    let errors = errors(&out);
    assert_eq!((errors[0].0.as_str(), errors[0].1.as_deref()), ("agent_busy", Some("m2")));
    assert!(errors[0].2.unwrap() >= 1_000);
    // Cart actions are not held back by a reply in progress.
    assert_eq!(kinds(&frames(&h.send(1, &select("a1", "bread", 1.0)), 1)), ["ack", "cart_changed"]);
    h.advance(10_000);
    assert_eq!(h.applied(&sid, "m2"), 0);
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "bread")), 1))[..3], ["ack", "user_message", "typing"]);
}

#[test]
fn a_reply_keeps_streaming_while_disconnected_and_arrives_whole_by_replay() {
    let mut h = Harness::new(streaming());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    let before = frames(&h.advance(100), 1);
    let last_seq = before.last().and_then(ServerFrame::seq).unwrap();
    h.closed(1);
    assert!(h.advance(10_000).iter().all(|o| !matches!(o, vizochok_server::ServerOutput::Send { .. })));

    let (same, out) = h.connect(2, Some(&sid), Some(last_seq));
    assert_eq!(same, sid);
    let replayed = frames(&out, 2);
    assert!(matches!(replayed[0], ServerFrame::AuthOk(AuthOk { replay: true, restored: false, .. })));
    let seqs: Vec<u64> = replayed.iter().filter_map(ServerFrame::seq).collect();
    assert_eq!(seqs[0], last_seq + 1);
    let ServerFrame::Response { reply: Reply { text, .. }, .. } = replayed.last().unwrap() else {
        panic!("{replayed:?}")
    };
    assert_eq!(text_of(&before) + &text_of(&replayed), *text);
}

#[test]
fn history_keeps_both_sides_of_the_conversation_and_each_reply_s_id_for_rating_it() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let live = h.send(1, &message("m1", "milk"));
    let Some(ServerFrame::Response { reply, .. }) = frames(&live, 1).pop() else { panic!("{live:?}") };
    h.closed(1);
    h.engine.restart(h.now, false);
    let (_, out) = h.connect(2, Some(&sid), Some(0));
    let ServerFrame::AuthOk(AuthOk { history: Some(history), .. }) = &frames(&out, 2)[0] else { panic!() };
    assert_eq!(history.iter().map(|e| e.role).collect::<Vec<_>>(), [Role::User, Role::Assistant]);
    assert_eq!(history[1].products.as_ref().map(Vec::len), Some(2));
    let ids: Vec<Option<&str>> = history.iter().map(|e| e.message_id.as_deref()).collect();
    assert_eq!(ids, [None, Some(reply.message_id.as_str())]);
}
