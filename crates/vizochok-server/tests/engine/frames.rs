//! Bad frames, ping/pong and the server heartbeat.

use std::num::NonZeroU64;

use vizochok_proto::{ClientFrame, ServerFrame};
use vizochok_server::{ConnId, ServerConfig, ServerInput};

use crate::harness::*;

#[test]
fn an_unparseable_frame_is_invalid_json_and_the_connection_stays() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    for bad in ["{nope", r#"{"type":"message","id":5}"#, r#"{"type":"select_item","id":"a","sku":"x"}"#] {
        let out = h.text(1, bad);
        assert!(closes(&out).is_empty());
        let got = frames(&out, 1);
        assert!(
            matches!(&got[..], [ServerFrame::Error { code, reply_to: None, .. }] if code == "invalid_json"),
            "{got:?}"
        );
    }
    let out = h.input(ServerInput::Binary { conn: ConnId(1), len: 10 });
    assert_eq!(errors(&frames(&out, 1))[0].0, "invalid_json");
    assert_eq!(kinds(&frames(&h.send(1, &select("a1", "bread", 1.0)), 1)), ["ack", "cart_changed"]);
}

/// Each frame that cannot be used costs an `error` and a log line, so a
/// connection that keeps sending them is closed: more than 20 within 60 s
/// (the client's own rule for the server's frames, §6). 1008 is not final:
/// a client of ours that had a bad minute reconnects.
#[test]
fn more_than_20_invalid_frames_within_60_s_close_the_connection_with_1008() {
    let mut h = Harness::new(config());
    let (session, _) = h.connect(1, None, None);
    h.connect(2, Some(&session), None);
    for _ in 0..20 {
        assert!(closes(&h.text(1, "{nope")).is_empty());
    }
    h.advance(60_000);
    for n in 0..20 {
        let out =
            if n % 2 == 0 { h.text(1, "{nope") } else { h.send(1, &select(&format!("b{n}"), "no-such-sku", 1.0)) };
        assert_eq!(errors(&frames(&out, 1))[0].0, "invalid_json", "frame {n}");
        assert!(closes(&out).is_empty(), "frame {n}");
    }
    let out = h.send(1, &select("b20", "no-such-sku", 1.0));
    assert_eq!(closes(&out), [(1, 1008, "too many invalid frames".into())]);
    assert!(frames(&out, 1).is_empty(), "the frame over the limit is not answered");
    assert!(h.text(1, "{nope").is_empty(), "the connection is gone");
    // The session's other tab is not touched.
    assert_eq!(kinds(&frames(&h.send(2, &select("a1", "bread", 1.0)), 2)), ["ack", "cart_changed"]);
}

#[test]
fn unknown_frame_types_are_ignored() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    assert!(frames(&h.text(1, r#"{"type":"from_the_future","x":1}"#), 1).is_empty());
}

#[test]
fn a_client_ping_gets_a_pong_with_its_timestamp() {
    let mut h = Harness::new(config());
    h.connect(1, None, None);
    assert_eq!(frames(&h.send(1, &ClientFrame::Ping { ts: Some(123.0) }), 1), [ServerFrame::Pong { ts: Some(123.0) }]);
}

#[test]
fn the_server_pings_after_silence_and_closes_after_twice_that() {
    let mut h = Harness::new(ServerConfig { heartbeat_ms: NonZeroU64::new(1_000), ..config() });
    h.connect(1, None, None);
    assert!(h.advance(999).is_empty());
    let ping = frames(&h.advance(1), 1);
    assert!(matches!(&ping[..], [ServerFrame::Ping { ts: Some(_) }]));
    // Any inbound frame (here the pong) counts as life.
    h.send(1, &ClientFrame::Pong { ts: None });
    assert!(closes(&h.advance(1_500)).is_empty());
    let out = h.advance(1_000);
    assert_eq!(closes(&out), [(1, 1000, "heartbeat timeout".into())]);
}
