//! §12: frames the page drives — `context`, `cancel`, `feedback` — and the
//! reply's `suggestions`.

use std::sync::{Arc, Mutex};

use vizochok_proto::{ClientFrame, PageContext, PageInfo, Rating, ServerFrame};
use vizochok_server::{Assistant, CartOp, KeywordAssistant, LogKind, Reply as AssistantReply, ServerConfig, Turn};

use crate::harness::*;

fn context(id: &str, sku: &str) -> ClientFrame {
    let page = PageInfo { url: Some(format!("https://shop.example/p/{sku}")), title: Some("A product".into()) };
    ClientFrame::Context {
        id: id.into(),
        context: PageContext { page: Some(page), sku: Some(sku.into()), ..PageContext::default() },
    }
}

fn cancel(id: &str, reply_to: &str) -> ClientFrame {
    ClientFrame::Cancel { id: id.into(), reply_to: reply_to.into() }
}

fn feedback(id: &str, message_id: &str, rating: Rating, comment: Option<&str>) -> ClientFrame {
    ClientFrame::Feedback { id: id.into(), message_id: message_id.into(), rating, comment: comment.map(Into::into) }
}

/// Remembers the context of every turn and answers like the keyword assistant.
#[derive(Clone, Default)]
struct Watching(Arc<Mutex<Vec<Option<PageContext>>>>);

impl Assistant for Watching {
    fn reply(&mut self, turn: &Turn<'_>) -> AssistantReply {
        self.0.lock().unwrap().push(turn.context.cloned());
        KeywordAssistant.reply(turn)
    }
}

fn streaming() -> ServerConfig {
    ServerConfig { delta_interval_ms: 100, delta_chars: 5, ..config() }
}

#[test]
fn context_is_acknowledged_replaces_the_previous_and_the_assistant_sees_it() {
    let seen = Watching::default();
    let mut h = Harness::with_assistant(config(), Box::new(seen.clone()));
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m0", "hi"));
    assert_eq!(frames(&h.send(1, &context("c1", "milk-1")), 1), [ServerFrame::Ack { id: "c1".into() }]);
    assert_eq!(frames(&h.send(1, &context("c2", "bread")), 1), [ServerFrame::Ack { id: "c2".into() }]);
    // A resent c1 is acknowledged and applied no second time.
    assert_eq!(frames(&h.send(1, &context("c1", "milk-1")), 1), [ServerFrame::Ack { id: "c1".into() }]);
    assert_eq!(h.applied(&sid, "c1"), 1);
    h.send(1, &message("m1", "hi"));
    let seen = seen.0.lock().unwrap();
    assert_eq!(seen[0], None);
    let latest = seen[1].as_ref().unwrap();
    assert_eq!(latest.sku.as_deref(), Some("bread"), "the latest context, whole");
    assert_eq!(latest.page.as_ref().and_then(|p| p.url.as_deref()), Some("https://shop.example/p/bread"));
}

#[test]
fn over_long_context_and_feedback_fields_are_refused_without_ack() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let long_url = ClientFrame::Context {
        id: "c1".into(),
        context: PageContext {
            page: Some(PageInfo { url: Some("x".repeat(2_049)), title: None }),
            ..PageContext::default()
        },
    };
    let long_comment = feedback("f1", "m1", Rating::Down, Some(&"ї".repeat(501)));
    for (frame, id) in [(long_url, "c1"), (long_comment, "f1")] {
        let out = frames(&h.send(1, &frame), 1);
        assert!(acks(&out).is_empty());
        assert_eq!(errors(&out), [("invalid_json".into(), Some(id.into()), None)]);
        assert_eq!(h.applied(&sid, id), 0);
    }
    assert!(h.engine.feedback(&sid).is_empty());
    assert_eq!(acks(&frames(&h.send(1, &feedback("f1", "m1", Rating::Down, Some(&"ї".repeat(500)))), 1)), ["f1"]);
}

#[test]
fn a_cancel_stops_the_stream_and_ends_the_reply_with_what_was_said() {
    let mut h = Harness::new(streaming());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    let mut said = String::new();
    for f in frames(&h.advance(250), 1) {
        if let ServerFrame::Delta { text, .. } = f {
            said.push_str(&text);
        }
    }
    assert_eq!(said.chars().count(), 10, "two deltas so far");
    let out = frames(&h.send(1, &cancel("x1", "m1")), 1);
    assert_eq!(kinds(&out), ["ack", "response"]);
    let ServerFrame::Response { reply, .. } = &out[1] else { panic!() };
    assert!(reply.cancelled);
    assert_eq!((reply.reply_to.as_str(), reply.text.as_str()), ("m1", said.as_str()));
    assert!(reply.products.is_empty() && reply.suggestions.is_empty());
    // No delta after it, and the session is free for the next message.
    assert!(frames(&h.advance(10_000), 1).is_empty());
    assert!(h.only_ttl_left(), "nothing left streaming");
    assert_eq!(kinds(&frames(&h.send(1, &message("m2", "bread")), 1))[0], "ack");
    assert_eq!(h.applied(&sid, "x1"), 1);
}

/// Always adds bread, with a long reply, so a cancel can land mid-stream.
struct AddsBread;

impl Assistant for AddsBread {
    fn reply(&mut self, _turn: &Turn<'_>) -> AssistantReply {
        AssistantReply {
            text: "Adding rye bread to your cart, as you asked.".into(),
            cart_ops: vec![CartOp::Add { sku: "bread".into(), quantity: 1.0 }],
            rounds: 1,
            ..AssistantReply::default()
        }
    }
}

#[test]
fn a_cancelled_reply_makes_none_of_its_cart_changes() {
    let mut h = Harness::with_assistant(streaming(), Box::new(AddsBread));
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "bread"));
    h.advance(100);
    h.send(1, &cancel("x1", "m1"));
    h.advance(10_000);
    assert!(h.engine.session_cart(&sid).unwrap().items.is_empty());
}

#[test]
fn cancelling_what_is_not_streaming_is_acknowledged_and_changes_nothing() {
    let mut h = Harness::new(streaming());
    h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    let whole = responses(&frames(&h.advance(10_000), 1)).remove(0);
    for (id, reply_to) in [("x1", "m1"), ("x2", "never-sent")] {
        assert_eq!(frames(&h.send(1, &cancel(id, reply_to)), 1), [ServerFrame::Ack { id: id.into() }]);
    }
    // The reply stays whole, in the history too.
    assert!(h.engine.snapshot().contains(&serde_json::to_string(&whole.text).unwrap()));
}

#[test]
fn a_cancel_is_applied_at_most_once() {
    let mut h = Harness::new(streaming());
    let (sid, _) = h.connect(1, None, None);
    // A cancel for a message the server has not seen yet changes nothing...
    assert_eq!(frames(&h.send(1, &cancel("x1", "m1")), 1), [ServerFrame::Ack { id: "x1".into() }]);
    h.send(1, &message("m1", "milk"));
    h.advance(100);
    // ...and the same cancel resent (its ack was lost) is not applied again,
    // though this time it would stop a stream.
    assert_eq!(frames(&h.send(1, &cancel("x1", "m1")), 1), [ServerFrame::Ack { id: "x1".into() }]);
    let rest = responses(&frames(&h.advance(10_000), 1));
    assert_eq!((rest[0].reply_to.as_str(), rest[0].cancelled), ("m1", false));
    assert_eq!(h.applied(&sid, "x1"), 1);
}

#[test]
fn cancelling_a_message_still_waiting_ends_it_before_it_starts() {
    let mut h = Harness::new(streaming());
    let (sid, _) = h.connect(1, None, None);
    h.connect(2, Some(&sid), Some(0));
    h.send(1, &message("m1", "milk"));
    h.send(2, &message("m2", "bread"));
    let out = frames(&h.send(2, &cancel("x2", "m2")), 2);
    assert_eq!(kinds(&out), ["ack", "response"]);
    let ServerFrame::Response { reply, .. } = &out[1] else { panic!() };
    assert!(reply.cancelled && reply.text.is_empty() && reply.reply_to == "m2");
    let later = frames(&h.advance(10_000), 1);
    assert_eq!(responses(&later).iter().map(|r| r.reply_to.as_str()).collect::<Vec<_>>(), ["m1"]);
    assert!(!later.iter().any(|f| matches!(f, ServerFrame::Typing { reply_to: Some(r), .. } if r == "m2")));
}

#[test]
fn feedback_is_recorded_once_and_logged() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let out = h.send(1, &message("m1", "milk"));
    let message_id = responses(&frames(&out, 1)).remove(0).message_id;
    let rate = feedback("f1", &message_id, Rating::Down, Some("no oat milk \"barista\""));
    assert_eq!(frames(&h.send(1, &rate), 1), [ServerFrame::Ack { id: "f1".into() }]);
    assert_eq!(frames(&h.send(1, &rate), 1), [ServerFrame::Ack { id: "f1".into() }]);
    h.send(1, &feedback("f2", &message_id, Rating::Up, None));
    let recorded = h.engine.feedback(&sid);
    assert_eq!(
        recorded.iter().map(|f| (f.rating, f.comment.as_deref())).collect::<Vec<_>>(),
        [(Rating::Down, Some("no oat milk \"barista\"")), (Rating::Up, None)]
    );
    assert!(recorded.iter().all(|f| f.message_id == message_id));
    let lines: Vec<_> = h.logs().into_iter().filter(|e| e.kind == LogKind::Feedback).collect();
    assert_eq!(lines.len(), 2, "once per feedback id");
    assert_eq!(lines[0].detail, format!("down for {message_id}: \"no oat milk \\\"barista\\\"\""));
    assert_eq!(lines[0].session.as_deref(), Some(&sid[..8]));
    // Ratings are durable.
    assert!(h.engine.snapshot().contains("barista"));
}

#[test]
fn a_restored_history_shows_each_reply_s_latest_rating_after_a_restart() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let first = responses(&frames(&h.send(1, &message("m1", "milk")), 1)).remove(0).message_id;
    let second = responses(&frames(&h.send(1, &message("m2", "bread")), 1)).remove(0).message_id;
    h.send(1, &feedback("f1", &first, Rating::Down, None));
    h.send(1, &feedback("f2", &first, Rating::Up, Some("found it after all")));
    h.send(1, &feedback("f3", "not-a-reply", Rating::Down, None));
    h.closed(1);
    h.engine.restart(h.now, false);
    let (_, out) = h.connect(2, Some(&sid), Some(0));
    let ServerFrame::AuthOk(AuthOk { history: Some(history), .. }) = &frames(&out, 2)[0] else { panic!("{out:?}") };
    let rated: Vec<_> = history.iter().map(|e| (e.message_id.as_deref(), e.rating)).collect();
    assert_eq!(rated, [(None, None), (Some(&first[..]), Some(Rating::Up)), (None, None), (Some(&second[..]), None)]);
}

/// Suggests more, and longer, replies than the contract allows.
struct Chatty;

impl Assistant for Chatty {
    fn reply(&mut self, _turn: &Turn<'_>) -> AssistantReply {
        let mut suggestions: Vec<String> = ["Show cheaper", "", "Add the first one"].map(str::to_owned).to_vec();
        suggestions.push("x".repeat(81));
        suggestions.extend(["Show my cart", "Clear", "Help"].map(str::to_owned));
        AssistantReply { text: "Here.".into(), suggestions, rounds: 1, ..AssistantReply::default() }
    }
}

#[test]
fn a_response_carries_at_most_four_suggestions_of_at_most_80_characters() {
    let mut h = Harness::with_assistant(config(), Box::new(Chatty));
    h.connect(1, None, None);
    let reply = responses(&frames(&h.send(1, &message("m1", "milk")), 1)).remove(0);
    assert_eq!(reply.suggestions, ["Show cheaper", "Add the first one", "Show my cart", "Clear"]);
}
