//! `auth`: credential checks, close codes, the auth deadline, session ids.

use std::num::NonZeroU64;

use vizochok_proto::frame::ServerLimits;
use vizochok_proto::{ClientFrame, ServerFrame};
use vizochok_server::{ServerConfig, ServerInput};

use crate::harness::*;

fn refused(
    harness: &mut Harness,
    frame: vizochok_proto::ClientFrame,
    origin: Option<&str>,
) -> (Vec<ServerFrame>, Vec<(u64, u16, String)>) {
    harness.open(1, origin);
    let out = harness.send(1, &frame);
    (frames(&out, 1), closes(&out))
}

fn auth_error_code(frames: &[ServerFrame]) -> &str {
    match frames {
        [ServerFrame::AuthError { code, .. }] => code,
        other => panic!("expected one auth_error, got {other:?}"),
    }
}

#[test]
fn a_valid_auth_opens_a_new_session_and_announces_limits() {
    let mut h = Harness::new(ServerConfig { heartbeat_ms: NonZeroU64::new(25_000), ..config() });
    let (id, out) = h.connect(1, None, None);
    assert!(id.starts_with("s-"));
    assert_eq!(
        frames(&out, 1),
        [ServerFrame::AuthOk(AuthOk {
            session_id: id,
            restored: false,
            replay: false,
            summary: None,
            history: None,
            limits: Some(ServerLimits { max_message_chars: Some(2_000), heartbeat_ms: Some(25_000) }),
        })]
    );
    assert!(closes(&out).is_empty());
}

#[test]
fn wrong_version_is_refused_with_4002() {
    let mut h = Harness::new(config());
    let (frames, closes) = refused(&mut h, auth_with(2, STORE, KEY, None, None, None), None);
    assert_eq!(auth_error_code(&frames), "unsupported_version");
    assert_eq!(closes, [(1, 4002, "unsupported protocol version".into())]);
}

#[test]
fn unknown_store_and_bad_key_are_refused_with_4001() {
    let mut h = Harness::new(config());
    let (frames, closes) = refused(&mut h, auth_with(1, "nope", KEY, None, None, None), None);
    assert_eq!(auth_error_code(&frames), "unknown_store");
    assert_eq!(closes[0].1, 4001);

    let (frames, closes) = refused(&mut h, auth_with(1, STORE, "pk_wrong", None, None, None), None);
    assert_eq!(auth_error_code(&frames), "invalid_api_key");
    assert_eq!(closes[0].1, 4001);
}

#[test]
fn origins_are_checked_only_when_the_store_lists_them() {
    let mut config = config();
    config.stores[0].allowed_origins = vec!["https://shop.example".into()];
    let mut h = Harness::new(config);
    let (refusal, closed) = refused(&mut h, auth(None, None), Some("https://evil.example"));
    assert_eq!(auth_error_code(&refusal), "origin_not_allowed");
    assert_eq!(closed[0].1, 4001);

    h.open(2, Some("https://SHOP.example/"));
    assert!(matches!(frames(&h.send(2, &auth(None, None)), 2)[0], ServerFrame::AuthOk(_)));
    // Without an Origin header the client is not a browser: the check does not apply.
    h.open(3, None);
    assert!(matches!(frames(&h.send(3, &auth(None, None)), 3)[0], ServerFrame::AuthOk(_)));
}

#[test]
fn a_long_origin_is_neither_logged_nor_kept_whole_and_no_list_allows_it() {
    let mut config = config();
    config.stores[0].allowed_origins = vec!["https://shop.example".into()];
    let mut h = Harness::new(config);
    let long = format!("https://shop.example{}", "/".repeat(15_000));
    let (refusal, _) = refused(&mut h, auth(None, None), Some(&long));
    assert_eq!(auth_error_code(&refusal), "origin_not_allowed");
    let opened = h.logs().into_iter().find(|e| e.kind == vizochok_server::LogKind::Opened).unwrap();
    assert!(opened.detail.len() < 200, "{} bytes logged", opened.detail.len());
}

#[test]
fn a_disabled_store_closes_with_4003_without_auth_error() {
    let mut config = config();
    config.stores[0].disabled = true;
    let mut h = Harness::new(config);
    let (frames, closes) = refused(&mut h, auth(None, None), None);
    assert!(frames.is_empty());
    assert_eq!(closes, [(1, 4003, "store disabled".into())]);
}

#[test]
fn a_silent_connection_is_closed_at_the_auth_deadline() {
    let mut h = Harness::new(config());
    h.open(1, None);
    assert_eq!(h.engine.poll_timeout(), Some(h.now + 10_000));
    assert!(closes(&h.advance(9_999)).is_empty());
    assert_eq!(closes(&h.advance(1)), [(1, 1000, "auth timeout".into())]);
    // The host's late close report is harmless.
    assert!(h.closed(1).is_empty());
}

#[test]
fn anything_but_auth_first_is_a_policy_violation() {
    let mut h = Harness::new(config());
    h.open(1, None);
    assert_eq!(closes(&h.send(1, &message("a1", "hi")))[0].1, 4008);
    h.open(2, None);
    assert_eq!(closes(&h.text(2, "{not json"))[0].1, 4008);
    h.open(3, None);
    assert_eq!(closes(&h.input(ServerInput::Binary { conn: vizochok_server::ConnId(3), len: 4 }))[0].1, 4008);
}

#[test]
fn session_ids_are_128_random_bits_from_the_host_and_nothing_else() {
    let ids = |seed: u64, start: u64| {
        let mut h = Harness::seeded(config(), Box::new(vizochok_server::KeywordAssistant), seed);
        h.now = start;
        (h.connect(1, None, None).0, h.connect(2, None, None).0)
    };
    let (a, b) = ids(SEED, 1_000);
    assert_ne!(a, b);
    for id in [&a, &b] {
        assert_eq!(id.len(), 34, "{id}");
        assert!(id.starts_with("s-") && id[2..].bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')), "{id}");
    }
    // The clock plays no part; the random source all of it.
    assert_eq!(ids(SEED, 987_654_321), (a.clone(), b.clone()));
    assert_ne!(ids(SEED + 1, 1_000).0, a);
}

/// A `user_id` is kept by every session it opens (100,000 by default), so
/// it has a bound well under the frame limit: past it the `auth` is refused
/// and nothing is kept.
#[test]
fn a_user_id_over_256_bytes_is_refused_and_keeps_nothing() {
    let mut h = Harness::new(config());
    let longest = "é".repeat(128);
    assert_eq!(longest.len(), vizochok_proto::frame::MAX_USER_ID_BYTES);
    h.connect_with(1, auth_with(1, STORE, KEY, Some(&longest), None, None));

    let over = format!("{longest}x");
    let (frames, closes) = refused(&mut h, auth_with(1, STORE, KEY, Some(&over), None, None), None);
    assert_eq!(auth_error_code(&frames), "invalid_user_token");
    assert_eq!(closes, [(1, 4001, "user_id is longer than 256 bytes".into())]);
    assert_eq!(h.engine.stats().sessions, 1, "only the first auth opened a session");
}

/// The session keeps the language its tag names, not the tag: a tag of any
/// length costs the same.
#[test]
fn a_session_keeps_the_language_its_tag_names_not_the_tag() {
    let mut h = Harness::new(config());
    let ClientFrame::Auth(mut frame) = auth(None, None) else { unreachable!() };
    let filler = "x".repeat(60_000);
    frame.language = format!("uk-{filler}");
    h.connect_with(1, ClientFrame::Auth(frame));
    let snapshot = h.engine.snapshot();
    assert!(!snapshot.contains(&filler[..64]), "the tag is kept whole: a {} byte snapshot", snapshot.len());
    assert!(snapshot.contains(r#""language":"uk""#), "{snapshot}");
}

/// A refused `auth` is logged with at most the first 64 bytes of the store
/// id it named: an unknown store's id is the client's text, not ours.
#[test]
fn a_refusal_logs_at_most_64_bytes_of_the_store_id() {
    let mut h = Harness::new(config());
    let store = "s".repeat(60_000);
    let (frames, _) = refused(&mut h, auth_with(1, &store, KEY, None, None, None), None);
    assert_eq!(auth_error_code(&frames), "unknown_store");
    let logged = h.logs().into_iter().find(|e| e.kind == vizochok_server::LogKind::AuthFailed).expect("logged");
    assert_eq!(logged.store_id.as_deref(), Some(&store[..64]));
    assert!(logged.detail.len() < 100, "{}", logged.detail);

    // A store's key placed across the cut is scrubbed before the cut, so not
    // even its first bytes are logged (here presented as a store id, with
    // another key as the api key).
    let across = format!("{}{KEY}{}", "s".repeat(56), "s".repeat(1_000));
    h.open(2, None);
    h.send(2, &auth_with(1, &across, "pk_other", None, None, None));
    let logs = h.logs();
    let logged = logs.iter().filter(|e| e.kind == vizochok_server::LogKind::AuthFailed).nth(1).expect("logged");
    let shown = [logged.store_id.as_deref().unwrap_or(""), &logged.detail];
    assert!(shown.iter().all(|text| !text.contains(&KEY[..8])), "{shown:?}");
}
