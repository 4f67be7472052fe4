//! §9: several connections (tabs, devices) on one session.

use std::num::NonZeroU64;

use vizochok_proto::ServerFrame;
use vizochok_server::ServerConfig;

use crate::harness::*;

/// A session on connection 1 and `extra` more connections resumed onto it
/// (2, 3, …), each with nothing missed.
fn tabs(h: &mut Harness, extra: u64) -> String {
    let (sid, _) = h.connect(1, None, None);
    for conn in 2..2 + extra {
        h.connect(conn, Some(&sid), Some(0));
    }
    sid
}

fn streaming() -> ServerConfig {
    ServerConfig { delta_interval_ms: 100, delta_chars: 10, ..config() }
}

#[test]
fn a_resume_attaches_one_more_connection_and_closes_none() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    for conn in 2..=8 {
        let (same, out) = h.connect(conn, Some(&sid), Some(0));
        assert_eq!(same, sid);
        assert!(closes(&out).is_empty(), "conn {conn}: {:?}", closes(&out));
    }
    assert_eq!(h.engine.connection_count(&sid), 8);
    // Every one of them still acts on the session.
    for conn in 1..=8 {
        assert_eq!(
            acks(&frames(&h.send(conn, &select(&format!("a{conn}"), "bread", 1.0)), conn)),
            [format!("a{conn}")]
        );
    }
    assert_eq!(h.engine.session_cart(&sid).unwrap().items[0].quantity, 8.0);
}

#[test]
fn a_ninth_connection_closes_the_oldest_with_4009() {
    let mut h = Harness::new(config());
    let sid = tabs(&mut h, 7);
    let (_, out) = h.connect(9, Some(&sid), Some(0));
    assert_eq!(closes(&out), [(1, 4009, "too many connections".into())]);
    assert!(matches!(auth_ok(&out, 9), AuthOk { replay: true, .. }));
    assert_eq!(h.engine.connection_count(&sid), 8);
    // The oldest is gone, the rest (and the newest) are not.
    assert!(h.send(1, &select("x1", "bread", 1.0)).is_empty());
    let out = h.send(9, &select("a9", "bread", 1.0));
    assert_eq!((2..=9).filter(|&c| !frames(&out, c).is_empty()).count(), 8);
    // Next in line is connection 2.
    assert_eq!(closes(&h.connect(10, Some(&sid), Some(0)).1), [(2, 4009, "too many connections".into())]);
}

#[test]
fn a_ninth_takes_the_place_of_a_connection_the_heartbeat_found_silent_not_of_a_live_one() {
    let mut h = Harness::new(ServerConfig { heartbeat_ms: NonZeroU64::new(25_000), ..config() });
    let sid = tabs(&mut h, 7);
    // Connection 3's network vanished; the others ping now and then.
    h.advance(20_000);
    for conn in (1..=8).filter(|&c| c != 3) {
        h.text(conn, r#"{"type":"ping"}"#);
    }
    let pinged = h.advance(6_000);
    assert!(frames(&pinged, 3).iter().any(|f| matches!(f, ServerFrame::Ping { .. })), "only the silent one is asked");
    assert!(frames(&pinged, 1).is_empty());
    let (_, out) = h.connect(9, Some(&sid), Some(0));
    // Not live: closed as the heartbeat would have, not 4009 (final for a client).
    assert_eq!(closes(&out), [(3, 1000, "heartbeat timeout".into())]);
    assert_eq!(h.engine.connection_count(&sid), 8);
    // With every connection live again, the oldest goes, as before.
    assert_eq!(closes(&h.connect(10, Some(&sid), Some(0)).1), [(1, 4009, "too many connections".into())]);
}

#[test]
fn seq_frames_go_to_every_connection_and_ack_only_to_the_sender() {
    let mut h = Harness::new(config());
    tabs(&mut h, 2);
    let out = h.send(2, &select("a1", "milk-1", 1.0));
    assert_eq!(kinds(&frames(&out, 2)), ["ack", "cart_changed"]);
    for other in [1, 3] {
        assert_eq!(kinds(&frames(&out, other)), ["cart_changed"], "conn {other}");
    }
    // The same frame, the same seq, everywhere.
    assert_eq!(frames(&out, 1)[0], frames(&out, 2)[1]);

    let out = h.send(3, &message("m1", "milk"));
    assert_eq!(kinds(&frames(&out, 3))[0], "ack");
    let sequenced = |conn| frames(&out, conn).into_iter().filter(|f| f.seq().is_some()).collect::<Vec<_>>();
    let seen = sequenced(3);
    assert_eq!(kinds(&seen)[..3], ["user_message", "typing", "delta"]);
    assert_eq!(kinds(&seen).last(), Some(&"response"));
    assert_eq!(sequenced(1), seen);
    assert_eq!(sequenced(2), seen);
    assert!(acks(&frames(&out, 1)).is_empty() && acks(&frames(&out, 2)).is_empty());
}

#[test]
fn every_tab_sees_the_message_a_shopper_typed_in_one_of_them() {
    let mut h = Harness::new(config());
    let sid = tabs(&mut h, 1);
    let out = h.send(1, &message("m1", "milk please"));
    for conn in [1, 2] {
        let user = frames(&out, conn).into_iter().find_map(|f| match f {
            ServerFrame::UserMessage { seq, id, text } => Some((seq, id, text)),
            _ => None,
        });
        assert_eq!(user, Some((1, "m1".into(), "milk please".into())), "conn {conn}");
    }
    // It is a seq frame like the others: a tab that missed it gets it by replay.
    h.closed(2);
    let got = frames(&h.connect(3, Some(&sid), Some(0)).1, 3);
    assert!(matches!(&got[1], ServerFrame::UserMessage { seq: 1, id, .. } if id == "m1"), "{got:?}");
}

#[test]
fn each_connection_is_replayed_from_its_own_last_seq() {
    let mut h = Harness::new(config());
    let sid = tabs(&mut h, 1);
    for id in ["a1", "a2", "a3", "a4"] {
        h.send(1, &select(id, "bread", 1.0));
    }
    h.closed(1);
    h.closed(2);
    let a = frames(&h.connect(3, Some(&sid), Some(1)).1, 3);
    let b = frames(&h.connect(4, Some(&sid), Some(3)).1, 4);
    assert_eq!(a.iter().filter_map(ServerFrame::seq).collect::<Vec<_>>(), [2, 3, 4]);
    assert_eq!(b.iter().filter_map(ServerFrame::seq).collect::<Vec<_>>(), [4]);
    // A third that needs a restore does not take the others' replay away.
    let c = frames(&h.connect(5, Some(&sid), None).1, 5);
    assert!(matches!(&c[..], [ServerFrame::AuthOk(AuthOk { restored: true, .. })]));
    h.closed(3);
    let again = frames(&h.connect(6, Some(&sid), Some(2)).1, 6);
    assert_eq!(again.iter().filter_map(ServerFrame::seq).collect::<Vec<_>>(), [3, 4]);
}

#[test]
fn a_message_from_another_tab_while_a_reply_streams_waits_its_turn() {
    let mut h = Harness::new(streaming());
    let sid = tabs(&mut h, 1);
    h.send(1, &message("m1", "milk"));
    let out = frames(&h.send(2, &message("m2", "bread")), 2);
    assert_eq!(kinds(&out), ["ack", "user_message"], "queued, not refused");
    assert_eq!(h.applied(&sid, "m2"), 1);
    let all = frames(&h.advance(60_000), 1);
    let order: Vec<String> = responses(&all).into_iter().map(|r| r.reply_to).collect();
    assert_eq!(order, ["m1", "m2"]);
    // m2's reply starts only once m1's is complete.
    let response_m1 =
        all.iter().position(|f| matches!(f, ServerFrame::Response { reply, .. } if reply.reply_to == "m1"));
    let typing_m2 = all.iter().position(|f| matches!(f, ServerFrame::Typing { reply_to: Some(r), .. } if r == "m2"));
    assert!(response_m1.unwrap() < typing_m2.unwrap());
    let texts: Vec<String> = responses(&all).into_iter().map(|r| r.text).collect();
    assert!(texts[0].contains("Milk") && texts[1].contains("bread"), "{texts:?}");
}

#[test]
fn the_queue_of_messages_is_bounded_by_one_per_connection() {
    let mut h = Harness::new(streaming());
    let sid = tabs(&mut h, 7);
    // One connection may not stack a second message behind its first.
    h.send(1, &message("m1", "milk"));
    let out = frames(&h.send(1, &message("m1b", "bread")), 1);
    assert_eq!(errors(&out)[0].0, "agent_busy");
    assert!(acks(&out).is_empty());
    for conn in 2..=8 {
        assert_eq!(acks(&frames(&h.send(conn, &message(&format!("m{conn}"), "milk")), conn)), [format!("m{conn}")]);
    }
    // Eight unanswered: a ninth connection's message is refused, retryably.
    h.connect(9, Some(&sid), Some(0));
    let out = frames(&h.send(9, &message("m9", "milk")), 9);
    let refused = errors(&out);
    assert_eq!((refused[0].0.as_str(), refused[0].1.as_deref()), ("agent_busy", Some("m9")));
    assert!(refused[0].2.unwrap() >= 1_000);
    assert_eq!(h.applied(&sid, "m9"), 0);
    h.advance(600_000);
    assert_eq!(acks(&frames(&h.send(9, &message("m9", "milk")), 9)), ["m9"]);
}

#[test]
fn errors_about_an_action_go_to_every_tab_and_an_unreadable_frame_only_to_its_sender() {
    let mut h = Harness::new(config());
    tabs(&mut h, 1);
    let out = h.send(1, &select("a1", "no-such-sku", 1.0));
    for conn in [1, 2] {
        assert_eq!(errors(&frames(&out, conn)), [("invalid_json".into(), Some("a1".into()), None)], "conn {conn}");
    }
    let out = h.text(2, "{nope");
    assert_eq!(errors(&frames(&out, 2))[0].0, "invalid_json");
    assert!(frames(&out, 1).is_empty());
}

#[test]
fn a_tab_closing_leaves_the_others_connected_and_the_session_attached() {
    let mut h = Harness::new(config());
    let sid = tabs(&mut h, 1);
    h.closed(1);
    assert_eq!(h.engine.connection_count(&sid), 1);
    assert_eq!(kinds(&frames(&h.send(2, &select("a1", "bread", 1.0)), 2)), ["ack", "cart_changed"]);
    // With one connection left the replay window does not run.
    h.advance(600_000);
    let got = frames(&h.connect(3, Some(&sid), Some(0)).1, 3);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { replay: true, .. })), "{got:?}");
}
