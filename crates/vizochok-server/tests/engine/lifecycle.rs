//! A session's life in memory: forgotten after its TTL, or to make room
//! under `max_sessions`; what stays bounded meanwhile.

use vizochok_proto::ServerFrame;
use vizochok_server::{Assistant, CartOp, LimitsConfig, LogKind, Reply, ServerConfig, ServerInput, Turn};

use crate::harness::*;

const TTL: u64 = 30_000;

fn ttl(ms: u64) -> ServerConfig {
    ServerConfig { session_ttl_ms: ms, ..config() }
}

fn forgotten(h: &Harness) -> Vec<String> {
    h.logs().into_iter().filter(|e| e.kind == LogKind::SessionExpired).map(|e| e.detail).collect()
}

#[test]
fn a_session_no_connection_used_for_its_ttl_is_forgotten_and_a_resume_opens_a_new_one() {
    let mut h = Harness::new(ttl(TTL));
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.closed(1);
    assert_eq!(h.engine.poll_timeout(), Some(h.now + TTL), "the TTL counts from the connection leaving");
    h.advance(TTL - 1);
    assert!(h.engine.has_session(&sid));
    h.advance(1);
    assert!(!h.engine.has_session(&sid));
    assert_eq!(forgotten(&h), [format!("session forgotten: not used for {TTL} ms")]);
    let (new, out) = h.connect(2, Some(&sid), Some(2));
    assert_ne!(new, sid);
    assert!(matches!(&frames(&out, 2)[0], ServerFrame::AuthOk(AuthOk { restored: false, replay: false, .. })));
    assert!(h.engine.session_cart(&new).unwrap().items.is_empty());
    // Nothing of the old session is left behind.
    let stats = h.engine.stats();
    assert_eq!((stats.sessions, stats.dedup_ids, stats.usage_entries), (1, 0, 0));
}

#[test]
fn every_frame_of_a_connection_is_a_use_and_a_silent_one_is_closed_with_its_session() {
    let mut h = Harness::new(ttl(TTL));
    let (sid, _) = h.connect(1, None, None);
    h.advance(TTL / 2);
    h.text(1, r#"{"type":"ping"}"#);
    h.advance(TTL - 1);
    assert!(h.engine.has_session(&sid), "the ping renewed it");
    let out = h.advance(1);
    assert!(!h.engine.has_session(&sid));
    // A connection silent for a whole TTL (no heartbeat here) goes with it; its client reconnects.
    assert_eq!(closes(&out), [(1, 1000, "session expired".to_owned())]);
}

#[test]
fn a_reply_in_progress_keeps_its_session_until_it_is_done() {
    let mut h = Harness::new(ServerConfig { delta_interval_ms: 1_000, delta_chars: 4, ..ttl(500) });
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "milk"));
    h.closed(1);
    h.advance(5_000);
    assert!(h.engine.has_session(&sid), "still streaming");
    h.advance(120_000);
    assert!(!h.engine.has_session(&sid));
    let replies = h
        .all
        .iter()
        .filter(|o| matches!(o, vizochok_server::ServerOutput::Log(e) if e.kind == LogKind::SessionExpired));
    assert_eq!(replies.count(), 1);
}

#[test]
fn a_restored_session_keeps_its_last_use_across_the_restore() {
    let mut h = Harness::new(ttl(TTL));
    let (sid, _) = h.connect(1, None, None);
    h.closed(1);
    let snapshot = h.engine.snapshot();
    let mut fresh = Harness::new(ttl(TTL));
    fresh.now = h.now + TTL / 2;
    fresh.engine.restore(&snapshot).unwrap();
    fresh.advance(TTL / 2 - 1);
    assert!(fresh.engine.has_session(&sid));
    fresh.advance(1);
    assert!(!fresh.engine.has_session(&sid), "down time counts: nobody used it");
}

#[test]
fn at_max_sessions_the_least_recently_used_unattached_one_makes_room() {
    let mut h = Harness::new(ServerConfig { max_sessions: 2, ..config() });
    let (a, _) = h.connect(1, None, None);
    let (b, _) = h.connect(2, None, None);
    h.closed(2);
    h.now += 10;
    h.closed(1);
    h.now += 10;
    let (c, _) = h.connect(3, None, None);
    assert!(
        h.engine.has_session(&a) && !h.engine.has_session(&b) && h.engine.has_session(&c),
        "b was used least recently"
    );
    // Attached sessions are never pushed out: the engine holds one more.
    let (d, _) = h.connect(4, Some(&a), Some(0));
    assert_eq!(d, a);
    let (e, _) = h.connect(5, None, None);
    assert_eq!(h.engine.stats().sessions, 3);
    assert!([&a, &c, &e].iter().all(|s| h.engine.has_session(s)));
    assert!(forgotten(&h)[0].contains("least recently used of 2 sessions"));
}

#[test]
fn a_full_engine_forgets_a_session_that_holds_nothing_before_a_shopper_s_cart_or_conversation() {
    let mut h = Harness::new(ServerConfig { max_sessions: 3, ..config() });
    let (cart, _) = h.connect(1, None, None);
    h.send(1, &select("a1", "bread", 1.0));
    h.closed(1);
    h.now += 10;
    let (chat, _) = h.connect(2, None, None);
    h.send(2, &message("m1", "milk"));
    h.closed(2);
    h.now += 10;
    // A page that opened the chat and left, used after both shoppers.
    let (empty, _) = h.connect(3, None, None);
    h.closed(3);
    h.now += 10;
    let (fourth, _) = h.connect(4, None, None);
    assert!(!h.engine.has_session(&empty), "the session holding nothing goes first");
    assert!([&cart, &chat, &fourth].iter().all(|s| h.engine.has_session(s)));
    // With none empty left, the least recently used goes, as before.
    h.send(4, &select("a1", "milk-1", 1.0));
    h.closed(4);
    h.now += 10;
    h.connect(5, None, None);
    assert!(!h.engine.has_session(&cart) && h.engine.has_session(&chat) && h.engine.has_session(&fourth));
    let forgotten = forgotten(&h);
    assert!(forgotten[0].contains("holding nothing") && !forgotten[1].contains("holding nothing"), "{forgotten:?}");
}

#[test]
fn a_full_engine_forgets_no_idle_shopper_for_an_address_past_its_budget_of_new_sessions() {
    let limits = LimitsConfig { new_sessions_per_address: 2, new_session_window_ms: 60_000, ..LimitsConfig::default() };
    let mut h = Harness::new(ServerConfig { max_sessions: 4, limits, ..config() });
    // A shopper fills a cart and leaves: theirs is the idle session a full
    // engine would forget first.
    h.open_from(1, "198.51.100.2");
    let (shopper, _) = h.auth_on(1, auth(None, None));
    h.send(1, &select("a1", "bread", 2.0));
    h.closed(1);
    h.now += 10;
    // One address (hosts of one IPv6 /64) opens sessions, one connection
    // after another, each with a cart line so that none goes before the
    // shopper's: below the engine's capacity its budget does not count.
    let mut conn = 10;
    let mut opened = |h: &mut Harness, from: &str| {
        conn += 1;
        h.open_from(conn, from);
        let out = h.send(conn, &auth(None, None));
        h.send(conn, &select("a1", "milk-1", 1.0));
        h.closed(conn);
        h.now += 10;
        (conn, out)
    };
    for from in ["2001:db8::1", "2001:db8::2", "2001:db8::3"] {
        let (conn, out) = opened(&mut h, from);
        assert_eq!(kinds(&frames(&out, conn)), ["auth_ok"], "{from}");
    }
    // The engine is full: the next would forget the shopper's session.
    let (conn, out) = opened(&mut h, "2001:db8::ffff:4");
    assert!(frames(&out, conn).is_empty(), "{out:?}");
    assert_eq!(closes(&out), [(conn, 1013, "try again later".to_owned())]);
    assert!(h.engine.has_session(&shopper));
    assert_eq!(h.engine.stats().sessions, 4);
    // Another address, another /64 and a host that names no address still
    // make room as before (here, forgetting the shopper's session).
    let (conn, out) = opened(&mut h, "2001:db8:0:1::1");
    assert_eq!(kinds(&frames(&out, conn)), ["auth_ok"]);
    assert!(!h.engine.has_session(&shopper));
    h.connect(99, None, None);
    // A window later the address may make room again.
    h.now += 60_000;
    let (conn, out) = opened(&mut h, "2001:db8::5");
    assert_eq!(kinds(&frames(&out, conn)), ["auth_ok"]);
    assert_eq!(h.engine.stats().sessions, 4);
}

#[test]
fn a_flood_of_addresses_keeps_the_budgets_table_small_and_a_spent_address_refused() {
    let limits =
        LimitsConfig { new_sessions_per_address: 2, new_session_window_ms: 600_000, ..LimitsConfig::default() };
    let mut h = Harness::new(ServerConfig { max_sessions: 8, limits, ..config() });
    let open = |h: &mut Harness, conn: u64, from: &str| {
        h.open_from(conn, from);
        let out = h.send(conn, &auth(None, None));
        h.closed(conn);
        h.now += 1;
        out
    };
    for conn in 1..=8 {
        open(&mut h, conn, "203.0.113.7");
    }
    // Each of a network's /64s opens one session within the window.
    for n in 0..3_000u64 {
        let out = open(&mut h, 100 + n, &format!("2001:db8:{:x}:{:x}::1", n >> 16, n & 0xffff));
        assert!(closes(&out).is_empty(), "{n}: {out:?}");
    }
    let stats = h.engine.stats();
    assert!(stats.address_budgets <= 1_025, "{stats:?}");
    let out = open(&mut h, 9_999, "203.0.113.7");
    assert_eq!(closes(&out), [(9_999, 1013, "try again later".to_owned())]);
}

#[test]
fn a_verified_shopper_joins_the_latest_of_their_sessions_among_many() {
    let secret = "idsec_lifecycle";
    let mut config = config();
    config.stores[0].identity_secret = Some(vizochok_proto::Secret::new(secret));
    let mut h = Harness::new(config);
    let token = vizochok_server::user_token(secret, "alice");
    // Anyone may claim her id where identity is optional; none of those is hers.
    for conn in 1..=50 {
        h.connect_with(conn, auth_as("alice", None, None, None));
    }
    let (first, _) = h.connect_with(100, auth_as("alice", Some(&token), None, None));
    h.send(100, &vizochok_proto::ClientFrame::ClearCart { id: "c1".into() });
    h.closed(100);
    let (joined, _) = h.connect_with(101, auth_as("alice", Some(&token), None, None));
    assert_eq!(joined, first);
    assert_eq!(h.engine.stats().owned_sessions, 1, "only her verified session is filed under her id");
}

#[test]
fn a_slow_store_cannot_pile_up_cart_changes_without_bound() {
    let mut config = config();
    config.stores[0].webhook = true;
    config.limits.rate_limit_actions = 1_000;
    let mut h = Harness::new(config);
    h.connect(1, None, None);
    let mut refused = None;
    for n in 0..70 {
        let out = frames(&h.send(1, &select(&format!("a{n}"), "bread", 1.0)), 1);
        if let Some((code, reply_to, retry)) = errors(&out).into_iter().next() {
            refused = Some((n, code, reply_to, retry.is_some()));
            break;
        }
    }
    assert_eq!(refused, Some((64, "rate_limit_exceeded".into(), Some("a64".into()), true)));
    assert_eq!(h.engine.stats().max_cart_changes, 64);
}

struct Greedy;

impl Assistant for Greedy {
    fn reply(&mut self, _turn: &Turn<'_>) -> Reply {
        let add = CartOp::Add { sku: "bread".into(), quantity: 1.0 };
        Reply { text: "all the bread".into(), cart_ops: vec![add; 40], rounds: 1, ..Reply::default() }
    }
}

#[test]
fn one_reply_makes_at_most_sixteen_cart_changes() {
    let mut h = Harness::with_assistant(config(), Box::new(Greedy));
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "everything"));
    h.advance(10_000);
    assert_eq!(h.engine.session_cart(&sid).unwrap().items[0].quantity, 16.0);
    assert!(h.logs().iter().any(|e| e.kind == LogKind::LimitHit && e.detail.contains("the first 16 are made")));
}

#[test]
fn an_answer_to_a_webhook_nobody_waits_for_changes_nothing() {
    let mut config = config();
    config.stores[0].webhook = true;
    let mut h = Harness::new(config);
    let (sid, _) = h.connect(1, None, None);
    let out = h.send(1, &select("a1", "bread", 1.0));
    let request = webhooks(&out)[0].0;
    assert!(h.input(ServerInput::WebhookResult { request: request + 7, accepted: true, detail: None }).is_empty());
    h.input(ServerInput::WebhookResult { request, accepted: true, detail: None });
    assert!(h.input(ServerInput::WebhookResult { request, accepted: true, detail: None }).is_empty(), "answered twice");
    assert_eq!(h.engine.session_cart(&sid).unwrap().items[0].quantity, 1.0);
}

#[test]
fn a_snapshot_with_more_sessions_than_allowed_comes_back_with_the_latest_used() {
    // Found by the engine fuzzer: a restore could leave the engine above max_sessions.
    let mut h = Harness::new(config());
    let mut ids = Vec::new();
    for conn in 1..=3 {
        ids.push(h.connect(conn, None, None).0);
        h.closed(conn);
        h.now += 10;
    }
    let mut small = Harness::new(ServerConfig { max_sessions: 2, ..config() });
    small.engine.restore(&h.engine.snapshot()).unwrap();
    assert_eq!(small.engine.stats().sessions, 2);
    assert!(!small.engine.has_session(&ids[0]) && small.engine.has_session(&ids[2]));
}

#[test]
fn a_restart_sheds_the_sessions_only_their_connections_kept_beyond_max_sessions() {
    // Found by the engine fuzzer: after a restart closed every connection,
    // the engine held more than max_sessions until its next input.
    let mut h = Harness::new(ServerConfig { max_sessions: 1, ..config() });
    let (a, _) = h.connect(1, None, None);
    h.now += 10;
    let (b, _) = h.connect(2, None, None);
    assert_eq!(h.engine.stats().sessions, 2, "both attached");
    h.engine.restart(h.now, false);
    assert_eq!(h.engine.stats().sessions, 1);
    assert!(!h.engine.has_session(&a) && h.engine.has_session(&b));
}
