//! Resuming a session: replay, restored, restarts, snapshots.

use vizochok_proto::{Role, ServerFrame};
use vizochok_server::{Engine, KeywordAssistant, RestoreError, SeededRandom, ServerConfig, MAX_SEQ};

use crate::harness::*;

/// A session with three confirmed cart changes (seq 1..=3), socket dropped.
fn three_changes(h: &mut Harness) -> String {
    let (sid, _) = h.connect(1, None, None);
    for (id, sku) in [("a1", "bread"), ("a2", "milk-1"), ("a3", "banana")] {
        h.send(1, &select(id, sku, 1.0));
    }
    h.closed(1);
    sid
}

#[test]
fn a_resume_replays_exactly_the_frames_after_last_seq() {
    let mut h = Harness::new(config());
    let sid = three_changes(&mut h);
    let (same, out) = h.connect(2, Some(&sid), Some(1));
    assert_eq!(same, sid);
    let got = frames(&out, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { replay: true, restored: false, summary: None, .. })));
    assert_eq!(got[1..].iter().filter_map(ServerFrame::seq).collect::<Vec<_>>(), [2, 3]);
    // Nothing missed: a replay with no frames.
    let (_, out) = h.connect(3, Some(&sid), Some(3));
    assert_eq!(kinds(&frames(&out, 3)), ["auth_ok"]);
}

#[test]
fn after_a_snapshot_restore_the_session_comes_back_restored() {
    let mut h = Harness::new(config());
    let sid = three_changes(&mut h);
    let snapshot = h.engine.snapshot();

    let mut fresh = Harness::new(config());
    fresh.engine.restore(&snapshot).unwrap();
    let (same, out) = fresh.connect(1, Some(&sid), Some(1));
    assert_eq!(same, sid);
    let got = frames(&out, 1);
    let ServerFrame::AuthOk(AuthOk { restored: true, replay: false, summary: Some(summary), history: Some(_), .. }) =
        &got[0]
    else {
        panic!("{got:?}")
    };
    assert_eq!(summary.item_count, 3);
    assert_eq!(fresh.engine.session_cart(&sid).unwrap().items.len(), 3);
    // Applied ids and the seq counter are durable too.
    assert_eq!(frames(&fresh.send(1, &select("a1", "bread", 1.0)), 1), [ServerFrame::Ack { id: "a1".into() }]);
    let next = frames(&fresh.send(1, &select("a4", "bread", 1.0)), 1);
    assert_eq!(next[1].seq(), Some(4));
    // New sessions do not reuse ids.
    assert_ne!(fresh.connect(2, None, None).0, sid);
}

#[test]
fn restore_refuses_garbage_and_other_versions() {
    let mut engine = Engine::new(config(), Box::new(KeywordAssistant), Box::new(SeededRandom::new(SEED)));
    assert!(matches!(engine.restore("nope"), Err(RestoreError::Malformed(_))));
    let mut h = Harness::new(config());
    let snapshot = h.engine.snapshot().replace("\"version\":3", "\"version\":9");
    assert_eq!(h.engine.restore(&snapshot), Err(RestoreError::UnsupportedVersion(9)));
    // Version 1 held ids derived from a seed and a counter: they are not taken back.
    let old = r#"{"version":1,"sessions_created":3,"requests":0,"usage":{},"sessions":[]}"#;
    assert_eq!(h.engine.restore(old), Err(RestoreError::UnsupportedVersion(1)));
}

#[test]
fn restore_refuses_a_snapshot_holding_one_session_twice_and_keeps_serving() {
    // Taken, the first copy's idle entry stayed behind with no session, and
    // the engine's timer loop spun on it at full CPU for good.
    let mut h = Harness::new(config());
    let sid = three_changes(&mut h);
    let mut snapshot: serde_json::Value = serde_json::from_str(&h.engine.snapshot()).unwrap();
    let sessions = snapshot["sessions"].as_array_mut().unwrap();
    let mut older = sessions[0].clone();
    older["used_at"] = 1.into();
    sessions.insert(0, older);
    let refused = h.engine.restore(&snapshot.to_string());
    assert!(matches!(&refused, Err(RestoreError::Malformed(why)) if !why.contains(&sid)), "{refused:?}");
    let (same, out) = h.connect(2, Some(&sid), Some(3));
    assert_eq!((same, kinds(&frames(&out, 2))), (sid, vec!["auth_ok"]));
}

#[test]
fn a_connection_the_heartbeat_closes_starts_the_replay_window_as_any_other() {
    // A timeout closed the connection without filing its session again, so
    // the replay window was never scheduled: the buffer stayed (up to the
    // TTL), and the session sat among the idle under its use before.
    let mut h = Harness::new(ServerConfig { heartbeat_ms: std::num::NonZeroU64::new(1_000), ..config() });
    let (sid, _) = h.connect(1, None, None);
    for (id, sku) in [("a1", "bread"), ("a2", "milk-1")] {
        h.send(1, &select(id, sku, 1.0));
    }
    // The client's network is gone: nothing more is heard from it.
    assert_eq!(closes(&h.advance(2_000)), [(1, 1000, "heartbeat timeout".into())]);
    h.advance(120_000);
    let expired = h.logs().into_iter().filter(|e| e.kind == vizochok_server::LogKind::ReplayExpired).count();
    assert_eq!(expired, 1);
    let got = frames(&h.connect(2, Some(&sid), Some(1)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { restored: true, replay: false, .. })), "{got:?}");
}

#[test]
fn past_the_replay_window_a_resume_is_restored() {
    let mut h = Harness::new(config());
    let sid = three_changes(&mut h);
    h.advance(119_999);
    assert!(matches!(
        frames(&h.connect(2, Some(&sid), Some(1)).1, 2)[0],
        ServerFrame::AuthOk(AuthOk { replay: true, .. })
    ));
    h.closed(2);
    h.advance(120_000);
    let got = frames(&h.connect(3, Some(&sid), Some(1)).1, 3);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { restored: true, replay: false, summary: Some(_), .. })));
    assert_eq!(got.len(), 1, "nothing replayed");
}

#[test]
fn a_full_replay_buffer_forgets_old_frames() {
    let mut h = Harness::new(ServerConfig { replay_max_frames: 2, ..config() });
    let sid = three_changes(&mut h);
    assert!(matches!(
        frames(&h.connect(2, Some(&sid), Some(0)).1, 2)[0],
        ServerFrame::AuthOk(AuthOk { restored: true, .. })
    ));
    h.send(2, &select("a4", "bread", 1.0));
    h.send(2, &select("a5", "bread", 1.0));
    h.closed(2);
    let got = frames(&h.connect(3, Some(&sid), Some(3)).1, 3);
    assert!(matches!(got[0], ServerFrame::AuthOk(AuthOk { replay: true, .. })));
    assert_eq!(got.len(), 3);
}

#[test]
fn an_unknown_session_gets_a_new_one() {
    let mut h = Harness::new(config());
    let (sid, out) = h.connect(1, Some("s-forgotten"), Some(17));
    assert_ne!(sid, "s-forgotten");
    assert!(matches!(frames(&out, 1)[0], ServerFrame::AuthOk(AuthOk { restored: false, replay: false, .. })));
}

#[test]
fn a_session_is_only_resumed_by_its_own_store_and_user() {
    let mut config = config();
    let mut other = config.stores[0].clone();
    other.store_id = "other".into();
    config.stores.push(other);
    let mut h = Harness::new(config);
    h.open(1, None);
    let out = h.send(1, &auth_with(1, STORE, KEY, Some("alice"), None, None));
    let Some(ServerFrame::AuthOk(AuthOk { session_id: sid, .. })) = frames(&out, 1).first().cloned() else { panic!() };
    for (store, user) in [("other", Some("alice")), (STORE, Some("bob")), (STORE, None)] {
        h.open(2, None);
        let out = h.send(2, &auth_with(1, store, KEY, user, Some(&sid), Some(0)));
        let ServerFrame::AuthOk(AuthOk { session_id, .. }) = &frames(&out, 2)[0] else { panic!() };
        assert_ne!(session_id, &sid, "{store} {user:?}");
    }
}

#[test]
fn a_restart_closes_everyone_with_1012_and_may_lose_replay() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.engine.restart(h.now, true);
    assert_eq!(closes(&h.drain()), [(1, 1012, "restarting".into())]);
    assert!(matches!(
        frames(&h.connect(2, Some(&sid), Some(0)).1, 2)[..],
        [ServerFrame::AuthOk(AuthOk { replay: true, .. }), _]
    ));

    h.engine.restart(h.now, false);
    assert_eq!(closes(&h.drain()), [(2, 1012, "restarting".into())]);
    let got = frames(&h.connect(3, Some(&sid), Some(0)).1, 3);
    assert!(matches!(&got[..], [ServerFrame::AuthOk(AuthOk { restored: true, .. })]));
    assert_eq!(h.applied(&sid, "a1"), 1);
}

#[test]
fn a_client_ahead_of_an_older_snapshot_gets_seqs_above_its_own() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    let old_snapshot = h.engine.snapshot();
    for id in ["a1", "a2", "a3"] {
        h.send(1, &select(id, "bread", 1.0));
    }
    let mut fresh = Harness::new(config());
    fresh.engine.restore(&old_snapshot).unwrap();
    let got = frames(&fresh.connect(1, Some(&sid), Some(3)).1, 1);
    assert!(matches!(&got[..], [ServerFrame::AuthOk(AuthOk { restored: true, .. })]));
    assert_eq!(frames(&fresh.send(1, &select("a4", "bread", 1.0)), 1)[1].seq(), Some(4));
}

#[test]
fn a_message_resent_to_a_restored_session_gets_its_outcome_again_marked_so_without_the_old_summary() {
    let mut h = Harness::new(ServerConfig { delta_interval_ms: 0, ..config() });
    let (sid, _) = h.connect(1, None, None);
    let mut out = h.send(1, &message("m1", "milk"));
    out.extend(h.advance(1_000));
    out.extend(h.send(1, &message("m2", "add 1")));
    out.extend(h.advance(1_000));
    let original = frames(&out, 1);
    let Some(ServerFrame::Response { reply: Reply { text, summary: Some(_), .. }, again: false, .. }) =
        original.iter().rev().find(|f| matches!(f, ServerFrame::Response { reply: Reply { .. }, .. }))
    else {
        panic!("{original:?}")
    };
    let text = text.clone();
    h.closed(1);
    h.advance(120_000);
    // The client lost everything of m2 and resumes: the buffer is gone, so `restored`.
    let got = frames(&h.connect(2, Some(&sid), Some(1)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { restored: true, .. })));
    let again = frames(&h.send(2, &message("m2", "add 1")), 2);
    assert_eq!(acks(&again), ["m2"], "acknowledged, not applied again");
    // Marked `again`: the client's history from `auth_ok` has this reply.
    let Some(ServerFrame::Response { seq, reply: Reply { reply_to, text: same, summary: None, .. }, again: true }) =
        again.get(1)
    else {
        panic!("{again:?}")
    };
    assert_eq!((reply_to.as_str(), same), ("m2", &text));
    assert!(*seq > original.iter().filter_map(ServerFrame::seq).max().unwrap());
    assert_eq!(h.applied(&sid, "m2"), 1);
    assert_eq!(h.engine.session_cart(&sid).unwrap().items.len(), 1);
}

/// A session whose message m1 was answered, its connection 1 gone.
fn answered_then_left() -> (Harness, String) {
    let mut h = Harness::new(ServerConfig { delta_interval_ms: 0, ..config() });
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    h.advance(1_000);
    h.closed(1);
    (h, sid)
}

#[test]
fn a_message_whose_outcome_a_restored_resume_skipped_gets_it_again_after_a_later_replay() {
    let (mut h, sid) = answered_then_left();
    h.advance(120_000);
    // `restored`: the client takes the history and later seqs, and its socket
    // dies before it resends m1 (the reply's seq is now behind its last_seq).
    let got = frames(&h.connect(2, Some(&sid), Some(0)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { restored: true, .. })));
    let after_restore = frames(&h.send(2, &select("a1", "bread", 1.0)), 2);
    let last_seq = after_restore.iter().filter_map(ServerFrame::seq).max().unwrap();
    h.closed(2);
    // A replay from that seq carries nothing of m1, so its outcome comes again.
    let got = frames(&h.connect(3, Some(&sid), Some(last_seq)).1, 3);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { replay: true, .. })));
    let again = frames(&h.send(3, &message("m1", "milk")), 3);
    assert_eq!(acks(&again), ["m1"]);
    assert!(
        matches!(again.get(1), Some(ServerFrame::Response { reply: Reply { reply_to, .. }, again: true, .. }) if reply_to == "m1"),
        "{again:?}"
    );
    assert_eq!(h.applied(&sid, "m1"), 1);
}

/// Another tab joins the session, has `count` messages answered (about
/// bread, so their replies differ from m1's about milk), and leaves for
/// longer than the replay window.
fn answer_others(h: &mut Harness, sid: &str, count: usize) {
    h.connect(9, Some(sid), None);
    for i in 0..count {
        h.send(9, &message(&format!("other-{i}"), "bread"));
        h.advance(1_000);
    }
    h.closed(9);
    h.advance(120_000);
}

#[test]
fn a_reply_the_restored_history_still_shows_comes_again_after_many_other_messages() {
    let (mut h, sid) = answered_then_left();
    // 40 more messages: 80 more history lines, so m1's reply is still in the last 100.
    answer_others(&mut h, &sid, 40);
    let got = frames(&h.connect(2, Some(&sid), Some(0)).1, 2);
    let Some(ServerFrame::AuthOk(AuthOk { restored: true, history: Some(history), .. })) = got.first() else {
        panic!("{got:?}")
    };
    let again = frames(&h.send(2, &message("m1", "milk")), 2);
    let Some(ServerFrame::Response { reply, again: true, .. }) = again.get(1) else { panic!("{again:?}") };
    assert_eq!(reply.reply_to, "m1");
    let shown = history.iter().filter(|entry| entry.role == Role::Assistant && entry.text == reply.text).count();
    assert_eq!(shown, 1, "the shopper sees this reply once, in the history: {history:?}");
    assert!(errors(&again).is_empty(), "no \"no longer available\" for a reply on screen: {again:?}");
}

#[test]
fn an_outcome_sent_again_that_its_socket_lost_comes_with_the_next_replay() {
    let (mut h, sid) = answered_then_left();
    // Another tab's 110 messages are answered: m1's outcome is no longer kept.
    answer_others(&mut h, &sid, 110);
    let got = frames(&h.connect(2, Some(&sid), Some(0)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { restored: true, .. })));
    let after_restore = frames(&h.send(2, &select("a1", "bread", 1.0)), 2);
    let last_seq = after_restore.iter().filter_map(ServerFrame::seq).max().unwrap();
    // Resent, m1 gets an error in place of the reply; the socket dies before it arrives.
    let again = frames(&h.send(2, &message("m1", "milk")), 2);
    assert_eq!(errors(&again).iter().map(|(_, reply_to, _)| reply_to.as_deref()).collect::<Vec<_>>(), [Some("m1")]);
    h.closed(2);
    // The next connection's replay brings it, and m1 resent there is only acknowledged.
    let got = frames(&h.connect(3, Some(&sid), Some(last_seq)).1, 3);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { replay: true, .. })));
    assert_eq!(errors(&got).iter().map(|(_, reply_to, _)| reply_to.as_deref()).collect::<Vec<_>>(), [Some("m1")]);
    assert_eq!(frames(&h.send(3, &message("m1", "milk")), 3), [ServerFrame::Ack { id: "m1".into() }]);
    assert_eq!(h.applied(&sid, "m1"), 1);
}

#[test]
fn a_message_resent_after_a_replay_is_only_acknowledged() {
    let (mut h, sid) = answered_then_left();
    let got = frames(&h.connect(2, Some(&sid), Some(0)).1, 2);
    assert!(matches!(&got[0], ServerFrame::AuthOk(AuthOk { replay: true, .. })));
    assert!(
        got.iter().any(|f| matches!(f, ServerFrame::Response { reply: Reply { .. }, .. })),
        "the replay carries the reply"
    );
    assert_eq!(frames(&h.send(2, &message("m1", "milk")), 2), [ServerFrame::Ack { id: "m1".into() }]);
}

#[test]
fn a_resume_without_last_seq_is_restored_even_when_replay_is_possible() {
    let mut h = Harness::new(config());
    let sid = three_changes(&mut h);
    let got = frames(&h.connect(2, Some(&sid), None).1, 2);
    let ServerFrame::AuthOk(AuthOk { restored: true, replay: false, summary: Some(summary), history: Some(_), .. }) =
        &got[0]
    else {
        panic!("{got:?}")
    };
    assert_eq!(summary.item_count, 3);
    assert_eq!(got.len(), 1, "a page that holds nothing gets the truth, not old deltas");
}

#[test]
fn a_snapshot_taken_for_later_is_the_state_of_its_moment() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    let pending = h.engine.snapshot_later();
    // The engine carries on; the pending snapshot must not see it.
    h.send(1, &select("a2", "milk-1", 1.0));
    let then = pending.to_json();
    let mut fresh = Harness::new(config());
    fresh.engine.restore(&then).unwrap();
    assert_eq!(fresh.engine.session_cart(&sid).unwrap().items.len(), 1);
    fresh.engine.restore(&h.engine.snapshot()).unwrap();
    assert_eq!(fresh.engine.session_cart(&sid).unwrap().items.len(), 2);
}

#[test]
fn a_last_seq_past_any_real_seq_does_not_overflow_the_session() {
    // `u64::MAX` from a hostile client: a debug engine panicked on the next
    // frame and a release one wrapped to 0, so every tab dropped all later frames.
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.connect(2, Some(&sid), Some(u64::MAX));
    let seq = |h: &mut Harness, id: &str| frames(&h.send(1, &select(id, "bread", 1.0)), 1)[1].seq().unwrap();
    let (a, b) = (seq(&mut h, "a2"), seq(&mut h, "a3"));
    assert!(a > 1 && b == a + 1 && a <= MAX_SEQ + 1, "seqs {a}, {b}");
}

/// Asks for an infinite quantity of bread (a buggy assistant, or a
/// shopper's 320-digit number read as a float), with a long reply.
struct AddsInfinity;

impl vizochok_server::Assistant for AddsInfinity {
    fn reply(&mut self, _turn: &vizochok_server::Turn<'_>) -> vizochok_server::Reply {
        vizochok_server::Reply {
            text: "Adding that much rye bread to your cart, as you asked.".into(),
            cart_ops: vec![
                vizochok_server::CartOp::Add { sku: "bread".into(), quantity: f64::INFINITY },
                vizochok_server::CartOp::SetQuantity { sku: "milk-1".into(), quantity: f64::NAN },
                vizochok_server::CartOp::Add { sku: "banana".into(), quantity: 1.0 },
            ],
            rounds: 1,
            ..vizochok_server::Reply::default()
        }
    }
}

#[test]
fn a_change_of_no_finite_quantity_is_refused_at_once_and_a_snapshot_mid_reply_restores() {
    let config = || ServerConfig { delta_interval_ms: 50, ..config() };
    let mut h = Harness::with_assistant(config(), Box::new(AddsInfinity));
    let (sid, _) = h.connect(1, None, None);
    let got = frames(&h.send(1, &message("m1", "bread")), 1);
    let refused: Vec<_> = got
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error { code, message, .. } => Some((code.as_str(), message.as_deref().unwrap_or(""))),
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("internal_error", "cart change not applied: a quantity of \"bread\" that is not a finite number"),
            ("internal_error", "cart change not applied: a quantity of \"milk-1\" that is not a finite number"),
        ],
        "{got:?}"
    );
    // Mid-stream, the reply's changes wait in the session: the snapshot must hold them.
    let snapshot = h.engine.snapshot();
    let mut fresh = Harness::with_assistant(config(), Box::new(AddsInfinity));
    fresh.engine.restore(&snapshot).unwrap();
    // The finite change is still made, in both.
    for h in [&mut h, &mut fresh] {
        h.advance(10_000);
        let items = h.engine.session_cart(&sid).unwrap().items;
        assert_eq!(items.iter().map(|i| (i.sku.as_str(), i.quantity)).collect::<Vec<_>>(), [("banana", 1.0)]);
    }
}
