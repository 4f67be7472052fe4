//! Rules of contract revision 1.1 on the client: several connections to one
//! conversation (`docs/protocol.md` §9), frames the page drives (§12), and
//! how a socket's end is reported (§5, §6).

use serde_json::json;
use vizochok_core::{ActionError, Event, Input, PageContext, Rating, Reply};

use crate::support::*;

#[test]
fn another_tab_s_message_is_shown_and_our_own_echo_is_not() {
    let mut h = Script::connected();
    let own = h.session.send_message(h.now, "молоко").unwrap();
    h.recv(json!({"type":"user_message","seq":1,"id":own,"text":"молоко"}));
    h.recv(json!({"type":"user_message","seq":2,"id":"0123456789ab-0","text":"хліб"}));
    let shown: Vec<_> = h.events.iter().filter(|e| matches!(e, Event::UserMessage { .. })).collect();
    assert_eq!(shown, [&Event::UserMessage { id: "0123456789ab-0".into(), text: "хліб".into() }]);
}

#[test]
fn a_reply_to_another_tab_s_message_is_part_of_the_conversation() {
    let mut h = Script::connected();
    h.recv(json!({"type":"delta","seq":1,"message_id":"r1","reply_to":"other-0","text":"Ось"}));
    h.recv(json!({"type":"response","seq":2,"message_id":"r1","reply_to":"other-0","text":"Ось хліб","products":[]}));
    assert!(h.events.iter().any(|e| matches!(e, Event::Response(Reply { reply_to, .. }) if reply_to == "other-0")));
}

#[test]
fn another_tab_s_refusal_is_not_ours_to_report_but_our_unknown_action_is() {
    let mut h = Script::connected();
    let own = h.session.clear_cart(h.now).unwrap();
    let unknown_own = [own.split('-').next().unwrap(), "-99"].concat();
    h.clear();
    h.recv(json!({"type":"error","seq":1,"code":"agent_busy","reply_to":"0a0b0c0d0e0f-3","retry_after_ms":500}));
    assert!(h.errors().is_empty(), "another tab's agent_busy: {:?}", h.events);
    h.recv(json!({"type":"error","seq":2,"code":"internal_error","reply_to":unknown_own}));
    assert_eq!(h.error_codes(), ["internal_error"]);
    assert_eq!(h.session.pending_actions().len(), 1, "it changed nothing");
}

#[test]
fn stop_cancels_the_streaming_reply_and_drops_its_late_deltas() {
    let mut h = Script::connected();
    assert_eq!(h.session.stop_reply(h.now), Ok(None), "nothing to stop yet");
    let m = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"ack","id":m}));
    h.recv(json!({"type":"delta","seq":1,"message_id":"r1","reply_to":m,"text":"Here "}));
    let cancel = h.session.stop_reply(h.now).unwrap().expect("a reply streams");
    h.drain();
    let frame = h.sent.last().unwrap();
    assert_eq!(frame, &json!({"type":"cancel","id":cancel,"reply_to":m}));
    h.clear();
    h.recv(json!({"type":"delta","seq":2,"message_id":"r1","reply_to":m,"text":"is milk"}));
    assert!(h.events.is_empty(), "a late delta of a stopped reply is dropped: {:?}", h.events);
    h.recv(
        json!({"type":"response","seq":3,"message_id":"r1","reply_to":m,"text":"Here ","products":[],"cancelled":true}),
    );
    assert!(matches!(&h.events[0], Event::Response(Reply { cancelled: true, text, .. }) if text == "Here "));
    h.recv(json!({"type":"ack","id":cancel}));
    assert!(h.session.pending_actions().is_empty());
}

#[test]
fn feedback_is_an_acknowledged_action_with_a_bounded_comment() {
    let mut h = Script::connected();
    let id = h.session.feedback(h.now, "r1", Rating::Down, Some("too pricey")).unwrap();
    h.drain();
    assert_eq!(
        h.sent.last().unwrap(),
        &json!({"type":"feedback","id":id,"message_id":"r1","rating":"down","comment":"too pricey"})
    );
    let long = "x".repeat(501);
    assert!(matches!(h.session.feedback(h.now, "r1", Rating::Up, Some(&long)), Err(ActionError::Invalid(_))));
    assert!(matches!(h.session.feedback(h.now, "", Rating::Up, None), Err(ActionError::Invalid(_))));
}

#[test]
fn a_context_waiting_to_be_sent_is_updated_in_place() {
    let mut h = Script::new();
    let first = h.session.set_context(0, PageContext { sku: Some("milk-1".into()), ..Default::default() }).unwrap();
    let second = h.session.set_context(0, PageContext { sku: Some("bread-2".into()), ..Default::default() }).unwrap();
    assert_eq!(first, second, "one context action, with the newest context");
    h.connect_as("s1");
    let contexts: Vec<_> = h.sent.iter().filter(|f| f["type"] == "context").collect();
    assert_eq!(contexts, [&json!({"type":"context","id":first,"sku":"bread-2"})]);
}

#[test]
fn an_end_without_a_close_frame_is_a_ws_error_and_a_clean_close_is_not() {
    for code in [None, Some(0), Some(1005), Some(1006)] {
        let mut h = Script::connected();
        h.server_close(code);
        assert_eq!(h.error_codes(), ["ws_error"], "code {code:?}");
        assert_eq!(h.session.state(), vizochok_core::State::Reconnecting);
    }
    for code in [1000, 1001, 1011, 1012, 4100] {
        let mut h = Script::connected();
        h.server_close(Some(code));
        assert!(h.error_codes().is_empty(), "code {code}");
        assert_eq!(h.session.state(), vizochok_core::State::Reconnecting);
    }
    let mut h = Script::connected();
    let socket = h.socket();
    h.input(Input::SocketEnded { socket, code: None, reason: "connection reset by peer" });
    assert!(h.errors()[0].detail.as_deref().is_some_and(|d| d.contains("connection reset by peer")));
}

/// After a server restart, the share of 10,000 clients that arrive in any
/// 100 ms, when every attempt during the first second meets a closed port.
fn worst_window_share(gap_ms: u64) -> f64 {
    const CLIENTS: u64 = 10_000;
    let mut arrivals = Vec::new();
    for seed in 0..CLIENTS {
        let mut h = Script::restarted(seed);
        let restart = h.now;
        loop {
            let at = h.session.poll_timeout().expect("a reconnect is scheduled");
            h.advance(at - h.now);
            if h.now - restart >= gap_ms {
                arrivals.push(h.now - restart);
                break;
            }
            // The server is still down: the attempt is refused.
            let socket = h.socket();
            h.input(Input::SocketEnded { socket, code: None, reason: "connection refused" });
        }
    }
    arrivals.sort_unstable();
    let mut worst = 0;
    let mut start = 0;
    for end in 0..arrivals.len() {
        while arrivals[end] - arrivals[start] >= 100 {
            start += 1;
        }
        worst = worst.max(end - start + 1);
    }
    worst as f64 / CLIENTS as f64
}

#[test]
fn a_restart_storm_stays_flat_even_through_a_restart_gap() {
    for gap in [0, 500, 1_000] {
        let share = worst_window_share(gap);
        assert!(share <= 0.03, "with a {gap} ms gap, {:.1} % arrived in the worst 100 ms", share * 100.0);
    }
}

#[test]
fn a_restart_close_met_again_within_its_series_widens_the_spread() {
    // A rolling restart: every attempt reaches an instance that restarts in
    // turn, closing with 1012 before any `auth_ok`. Attempt k's window is
    // min(30 s, 5 s·2ᵏ), so the 10 attempts take about two minutes; each
    // close starting the series over kept every window at 5 s.
    let (mut waits, mut total) = (vec![0; 10], 0);
    for seed in 0..100 {
        let mut h = Script::restarted(seed);
        let start = h.now;
        for wait in waits.iter_mut() {
            let at = h.session.poll_timeout().expect("a reconnect is planned");
            *wait = (*wait).max(at - h.now);
            h.advance(at - h.now);
            h.open();
            h.server_close(Some(1012));
        }
        assert!(h.error_codes().contains(&"max_reconnect"), "{:?}", h.error_codes());
        total += h.now - start;
    }
    for (k, &longest) in waits.iter().enumerate() {
        let window = (5_000u64 << k).min(30_000);
        assert!(longest <= window && longest > window * 9 / 10, "attempt {k}: longest wait {longest} ms");
    }
    assert!(total / 100 > 90_000, "{} ms on average until max_reconnect", total / 100);
}

#[test]
fn after_a_storm_series_gave_up_the_app_s_connect_starts_a_new_one() {
    for seed in 0..100 {
        let mut h = Script::restarted(seed);
        while !h.error_codes().contains(&"max_reconnect") {
            h.fire_next();
            h.open();
            h.server_close(Some(1012));
        }
        // The app connects again; its first attempt meets another restart.
        h.input(Input::Connect);
        h.open();
        h.server_close(Some(1012));
        let wait = h.session.poll_timeout().expect("a reconnect is planned") - h.now;
        assert!(wait <= 5_000, "seed {seed}: the new series' first wait is {wait} ms, past the first window");
    }
}

#[test]
fn a_context_field_past_its_bound_is_refused_at_the_call_naming_it_and_nothing_is_sent() {
    // The server refuses it with invalid_json: the page would hear of it
    // only as an onError, and lose the context.
    let mut h = Script::connected();
    let url = |chars: usize| PageContext {
        page: Some(vizochok_core::PageInfo {
            url: Some(format!("https://s/?{}", "a".repeat(chars - 11))),
            title: None,
        }),
        ..Default::default()
    };
    match h.session.set_context(h.now, url(2_049)) {
        Err(ActionError::Invalid(why)) => assert_eq!(why, "page.url of 2049 characters exceeds 2048"),
        other => panic!("{other:?}"),
    }
    let currency = PageContext { currency: Some("UAHX".into()), ..Default::default() };
    assert!(
        matches!(h.session.set_context(h.now, currency), Err(ActionError::Invalid(why)) if why.starts_with("currency"))
    );
    h.drain();
    assert!(h.sent.is_empty() && h.errors().is_empty(), "{:?}", h.sent);
    h.session.set_context(h.now, url(2_048)).expect("at the bound it goes");
    h.drain();
    assert_eq!(h.sent_types(), ["context"]);
}

#[test]
fn a_context_that_grows_past_the_frame_limit_while_it_waits_is_refused_and_the_waiting_one_stays() {
    let mut h = Script::new();
    let small = PageContext { sku: Some("milk-1".into()), ..Default::default() };
    let first = h.session.set_context(0, small).unwrap();
    // Every field within its bound, but escaped (`\u0001` is 6 bytes each) past 16 KiB.
    let text = |chars: usize| Some("\u{1}".repeat(chars));
    let big = PageContext {
        page: Some(vizochok_core::PageInfo { url: text(2_048), title: text(500) }),
        category: text(500),
        query: text(500),
        ..Default::default()
    };
    assert!(matches!(h.session.set_context(0, big), Err(ActionError::Rejected(_))));
    h.drain();
    assert_eq!(h.error_codes(), ["message_too_large"]);
    h.connect_as("s1");
    let contexts: Vec<_> = h.sent.iter().filter(|f| f["type"] == "context").collect();
    assert_eq!(contexts, [&json!({"type":"context","id":first,"sku":"milk-1"})]);
}

#[test]
fn a_stop_refused_for_a_full_queue_changes_nothing() {
    let mut config = config();
    config.limits.queue_capacity = 2;
    let mut h = Script::with(config);
    h.connect_as("s1");
    let m = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"ack","id":m}));
    h.recv(json!({"type":"delta","seq":1,"message_id":"r1","reply_to":m,"text":"Here "}));
    h.session.clear_cart(h.now).unwrap();
    h.session.clear_cart(h.now).unwrap();
    assert!(matches!(h.session.stop_reply(h.now), Err(ActionError::Rejected(_))));
    h.clear();
    h.recv(json!({"type":"delta","seq":2,"message_id":"r1","reply_to":m,"text":"is milk"}));
    assert!(
        matches!(&h.events[..], [Event::Delta { text, .. }] if text == "is milk"),
        "the reply goes on: {:?}",
        h.events
    );
}

#[test]
fn a_message_waiting_for_its_retry_has_no_reply_to_stop() {
    let mut h = Script::connected();
    let m = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"error","seq":1,"code":"agent_busy","reply_to":m,"retry_after_ms":500}));
    h.clear();
    assert_eq!(h.session.stop_reply(h.now), Ok(None), "the server has not taken it: nothing runs");
    h.drain();
    assert!(h.sent.is_empty(), "no cancel for it: {:?}", h.sent);
    h.advance(500);
    assert_eq!(h.sent_types(), ["message"], "it is retried");
    h.recv(json!({"type":"ack","id":m}));
    h.recv(json!({"type":"delta","seq":2,"message_id":"r1","reply_to":m,"text":"Here"}));
    assert!(h.events.iter().any(|e| matches!(e, Event::Delta { .. })), "and its reply shows: {:?}", h.events);
}

#[test]
fn a_reply_ended_by_an_error_no_longer_streams() {
    let mut h = Script::connected();
    let m = h.session.send_message(h.now, "milk").unwrap();
    h.recv(json!({"type":"ack","id":m}));
    h.recv(json!({"type":"typing","seq":1,"reply_to":m}));
    h.recv(json!({"type":"error","seq":2,"code":"internal_error","reply_to":m}));
    assert_eq!(h.session.stop_reply(h.now), Ok(None), "nothing streams after the error");
    let next = h.session.send_message(h.now, "bread").unwrap();
    h.clear();
    h.session.stop_reply(h.now).unwrap().expect("the new message is in flight");
    h.drain();
    assert_eq!(h.sent.last().unwrap()["reply_to"], json!(next), "the stop names the new message");
}

#[test]
fn a_binary_frame_answers_the_heartbeat_too() {
    let mut h = Script::connected();
    let heartbeat = config().timers.heartbeat_ms;
    h.advance(heartbeat - 1);
    let s = h.socket();
    h.input(Input::Binary(s, 3));
    h.clear();
    h.advance(2);
    assert!(!h.sent_types().contains(&"ping".to_owned()), "no ping right after a frame: {:?}", h.sent);
}

#[test]
fn the_largest_timers_plan_a_reconnect_within_them() {
    let mut config = config();
    config.timers.backoff_max_ms = vizochok_core::MAX_TIMER_MS;
    config.timers.storm_spread_ms = vizochok_core::MAX_TIMER_MS;
    let mut h = Script::with(config);
    h.connect_as("s1");
    h.server_close(Some(1012));
    let at = h.session.poll_timeout().expect("a reconnect is planned");
    assert!(at <= h.now + vizochok_core::MAX_TIMER_MS, "planned at {at}");
}
