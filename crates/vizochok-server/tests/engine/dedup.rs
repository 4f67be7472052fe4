//! Applied at most once, in bounded memory: what a session remembers of
//! the ids it applied (`docs/protocol.md`).

use vizochok_server::{ServerConfig, ServerOutput};

use crate::harness::*;

/// The client queue's capacity, and so the ids remembered per connection.
const QUEUE: usize = 32;

fn cart_actions(h: &mut Harness, conn: u64, ids: impl IntoIterator<Item = String>) {
    for id in ids {
        h.send(conn, &select(&id, "bread", 1.0));
    }
}

fn ids(prefix: &str, n: std::ops::Range<usize>) -> Vec<String> {
    n.map(|i| format!("{prefix}{i}")).collect()
}

#[test]
fn a_connection_s_last_queue_of_ids_is_recognised_and_older_ones_are_forgotten() {
    let mut h = Harness::new(lenient());
    let (sid, _) = h.connect(1, None, None);
    cart_actions(&mut h, 1, ids("a", 0..40));
    // A client with a queue of 32 cannot have sent the 40th without the
    // answers to the first 8: only the last 32 may still come back.
    assert!(ids("a", 0..8).iter().all(|id| !h.engine.remembers(&sid, id)));
    assert!(ids("a", 8..40).iter().all(|id| h.engine.remembers(&sid, id)));
    h.closed(1);
    h.connect(2, Some(&sid), Some(0));
    for id in ids("a", 8..40) {
        assert_eq!(acks(&frames(&h.send(2, &select(&id, "bread", 1.0)), 2)), std::slice::from_ref(&id));
        assert_eq!(h.applied(&sid, &id), 1, "{id}");
    }
    let stats = h.engine.stats();
    assert_eq!((stats.max_dedup_line, stats.forgotten_ids), (QUEUE, 8));
}

fn lenient() -> ServerConfig {
    let mut config = config();
    config.limits.rate_limit_actions = 100_000;
    config
}

#[test]
fn a_closed_connection_s_ids_wait_for_its_client_while_other_tabs_work() {
    let mut h = Harness::new(lenient());
    let (sid, _) = h.connect(1, None, None);
    cart_actions(&mut h, 1, ["x1".to_owned(), "x2".to_owned()]);
    h.closed(1);
    // Eight other tabs apply far more than any count-based window would hold.
    for tab in 0..8u64 {
        h.connect(10 + tab, Some(&sid), Some(0));
        cart_actions(&mut h, 10 + tab, ids(&format!("t{tab}-"), 0..200));
    }
    h.connect(2, Some(&sid), Some(0));
    cart_actions(&mut h, 2, ["x1".to_owned(), "x2".to_owned()]);
    assert_eq!((h.applied(&sid, "x1"), h.applied(&sid, "x2")), (1, 1));
}

#[test]
fn a_session_remembers_its_latest_sixty_four_connections() {
    let mut h = Harness::new(lenient());
    let (sid, _) = h.connect(1, None, None);
    cart_actions(&mut h, 1, ["x1".to_owned()]);
    h.closed(1);
    for conn in 2..=64 {
        h.connect(conn, Some(&sid), Some(0));
        cart_actions(&mut h, conn, [format!("c{conn}")]);
        h.closed(conn);
    }
    assert!(h.engine.remembers(&sid, "x1"), "64 lines: connection 1's is the oldest, still held");
    h.connect(65, Some(&sid), Some(0));
    cart_actions(&mut h, 65, ["c65".to_owned()]);
    assert!(!h.engine.remembers(&sid, "x1"));
    assert_eq!(h.engine.stats().max_dedup_lines, 64);
}

#[test]
fn a_resend_lands_in_the_new_connection_s_line() {
    let mut h = Harness::new(lenient());
    let (sid, _) = h.connect(1, None, None);
    cart_actions(&mut h, 1, ["x1".to_owned()]);
    h.closed(1);
    h.connect(2, Some(&sid), Some(0));
    cart_actions(&mut h, 2, ["x1".to_owned()]);
    h.closed(2);
    // Connection 1's line goes first; connection 2 acknowledged x1 again, and its client may have lost that too.
    for conn in 3..=65 {
        h.connect(conn, Some(&sid), Some(0));
        cart_actions(&mut h, conn, [format!("c{conn}")]);
        h.closed(conn);
    }
    assert!(h.engine.remembers(&sid, "x1"));
    h.connect(66, Some(&sid), Some(0));
    cart_actions(&mut h, 66, ["x1".to_owned()]);
    assert_eq!(h.applied(&sid, "x1"), 1);
}

#[test]
fn a_format_2_snapshot_comes_back_with_its_applied_ids() {
    let mut h = Harness::new(config());
    let (sid, _) = h.connect(1, None, None);
    cart_actions(&mut h, 1, ["a1".to_owned()]);
    h.closed(1);
    let mut snapshot: serde_json::Value = serde_json::from_str(&h.engine.snapshot()).unwrap();
    snapshot["version"] = 2.into();
    let session = &mut snapshot["sessions"][0];
    let object = session.as_object_mut().unwrap();
    object.remove("dedup");
    object.remove("used_at");
    object.insert("applied".into(), serde_json::json!({"a1": 1, "a0": 1}));
    let mut fresh = Harness::new(config());
    fresh.engine.restore(&snapshot.to_string()).unwrap();
    assert!(fresh.engine.remembers(&sid, "a1") && fresh.engine.remembers(&sid, "a0"));
    fresh.connect(2, Some(&sid), None);
    let out = fresh.send(2, &select("a1", "bread", 1.0));
    assert_eq!(acks(&frames(&out, 2)), ["a1"]);
    assert!(!out.iter().any(|o| matches!(o, ServerOutput::Log(e) if e.kind == vizochok_server::LogKind::Applied)));
}
