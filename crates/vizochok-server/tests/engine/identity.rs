//! §10: verified identity — `user_token`, joining a shopper's session by
//! identity, and who may resume what.

use vizochok_proto::{ClientFrame, ServerFrame};
use vizochok_server::{user_token, ServerConfig};

use crate::harness::*;

const SECRET: &str = "idsec_canary_51c2";

fn identity(required: bool) -> ServerConfig {
    let mut config = config();
    config.stores[0].identity_secret = Some(vizochok_proto::Secret::new(SECRET));
    config.stores[0].require_identity = required;
    config
}

fn token(user: &str) -> String {
    user_token(SECRET, user)
}

/// The `auth_error` code and close of an `auth` on a fresh connection.
fn refusal(h: &mut Harness, conn: u64, auth: ClientFrame) -> (String, Vec<(u64, u16, String)>) {
    h.open(conn, None);
    let out = h.send(conn, &auth);
    match &frames(&out, conn)[..] {
        [ServerFrame::AuthError { code, .. }] => (code.clone(), closes(&out)),
        other => panic!("expected auth_error, got {other:?}"),
    }
}

#[test]
fn where_identity_is_required_a_missing_or_wrong_token_is_refused_with_4001() {
    let mut h = Harness::new(identity(true));
    let closed = |conn: u64| vec![(conn, 4001, "this store requires a user_token with user_id".to_owned())];
    assert_eq!(refusal(&mut h, 1, auth_as("alice", None, None, None)), ("invalid_user_token".into(), closed(1)));
    let (code, closes) = refusal(&mut h, 2, auth_as("alice", Some(&token("bob")), None, None));
    assert_eq!((code.as_str(), closes[0].1), ("invalid_user_token", 4001));
    let (code, _) = refusal(&mut h, 3, auth_as("alice", Some("not-a-token"), None, None));
    assert_eq!(code, "invalid_user_token");
    // The right token, and anonymous shoppers, get in.
    assert!(!h.connect_with(4, auth_as("alice", Some(&token("alice")), None, None)).0.is_empty());
    assert!(!h.connect(5, None, None).0.is_empty());
}

#[test]
fn where_identity_is_optional_a_present_but_wrong_token_is_still_refused() {
    let mut h = Harness::new(identity(false));
    let (code, closes) = refusal(&mut h, 1, auth_as("alice", Some(&token("mallory")), None, None));
    assert_eq!((code.as_str(), closes[0].1), ("invalid_user_token", 4001));
    // A token without a user_id proves nothing either.
    let ClientFrame::Auth(mut frame) = auth(None, None) else { unreachable!() };
    frame.user_token = Some(vizochok_proto::Secret::new(token("alice")));
    assert_eq!(refusal(&mut h, 2, ClientFrame::Auth(frame)).0, "invalid_user_token");
    // No token at all: an unverified claim, as before identity existed.
    assert!(!h.connect_with(3, auth_as("alice", None, None, None)).0.is_empty());
}

#[test]
fn a_token_for_a_store_without_an_identity_secret_is_refused() {
    let mut h = Harness::new(config());
    assert_eq!(
        refusal(&mut h, 1, auth_as("alice", Some(&user_token("guess", "alice")), None, None)).0,
        "invalid_user_token"
    );
}

#[test]
fn a_verified_shopper_without_a_session_id_joins_their_latest_session_restored() {
    let mut h = Harness::new(identity(true));
    let alice = || auth_as("alice", Some(&token("alice")), None, None);
    let (first, _) = h.connect_with(1, alice());
    h.send(1, &select("a1", "bread", 1.0));
    h.send(1, &message("m1", "milk"));
    h.closed(1);
    // A new device: no session id, the same verified identity.
    let (joined, out) = h.connect_with(2, alice());
    assert_eq!(joined, first);
    let ok = auth_ok(&out, 2);
    assert!(ok.restored && !ok.replay);
    assert_eq!(ok.summary.map(|s| s.item_count), Some(1));
    assert_eq!(ok.history.map(|h| h.len()), Some(2));
    // A session id that cannot be resumed counts as none: the same answer.
    let (again, out) = h.connect_with(3, auth_as("alice", Some(&token("alice")), Some("s-unknown"), Some(4)));
    assert_eq!(again, first);
    assert!(auth_ok(&out, 3).restored);
    assert_eq!(h.engine.connection_count(&first), 2);
}

#[test]
fn a_verified_shopper_who_starts_over_gets_a_new_session_which_their_other_devices_then_join() {
    let mut h = Harness::new(identity(true));
    let alice = |new_session: bool| match auth_as("alice", Some(&token("alice")), None, None) {
        ClientFrame::Auth(auth) => ClientFrame::Auth(vizochok_proto::frame::AuthFrame { new_session, ..auth }),
        other => other,
    };
    let (first, _) = h.connect_with(1, alice(false));
    h.send(1, &message("m1", "milk"));
    // `reset()`: the socket goes, and the next `auth` asks for a new session.
    h.closed(1);
    h.now += 100;
    let (fresh, out) = h.connect_with(2, alice(true));
    assert_ne!(fresh, first, "a new conversation, not the one just left");
    let ok = auth_ok(&out, 2);
    assert!(!ok.restored && ok.history.is_none(), "{ok:?}");
    // The shopper's other device, with no session id, joins the new one: it was used last.
    h.now += 100;
    assert_eq!(h.connect_with(3, alice(false)).0, fresh);
}

#[test]
fn of_several_sessions_of_one_shopper_the_most_recently_used_is_joined() {
    // One engine opens a second session for a verified shopper only when
    // their `auth` starts over (`new_session`); otherwise the second auth
    // joins the first. Here two meet when a restore merges state.
    let alice = |session: Option<&str>| auth_as("alice", Some(&token("alice")), session, Some(0));
    let session_of = |seed: u64| {
        let mut h = Harness::seeded(identity(true), Box::new(vizochok_server::KeywordAssistant), seed);
        let (id, _) = h.connect_with(1, alice(None));
        let snapshot: serde_json::Value = serde_json::from_str(&h.engine.snapshot()).unwrap();
        (id, snapshot)
    };
    let (first, mut merged) = session_of(1);
    let (second, other) = session_of(2);
    merged["sessions"].as_array_mut().unwrap().push(other["sessions"][0].clone());
    let mut h = Harness::new(identity(true));
    h.engine.restore(&merged.to_string()).unwrap();
    h.drain();
    for (named, expected) in [(&second, &second), (&first, &first), (&second, &second)] {
        h.now += 100;
        let conn = h.now;
        assert_eq!(&h.connect_with(conn, alice(Some(named))).0, named);
        h.now += 100;
        assert_eq!(&h.connect_with(conn + 1, alice(None)).0, expected, "the one used last");
    }
}

#[test]
fn an_unverified_user_id_never_joins_a_session_by_name() {
    let mut h = Harness::new(identity(false));
    let (verified, _) = h.connect_with(1, auth_as("alice", Some(&token("alice")), None, None));
    let (claimed, _) = h.connect_with(2, auth_as("alice", None, None, None));
    assert_ne!(claimed, verified, "a claim alone is no proof");
    let (again, out) = h.connect_with(3, auth_as("alice", None, None, None));
    assert_ne!(again, claimed, "not even the claimed one's");
    assert!(!auth_ok(&out, 3).restored);
}

#[test]
fn a_session_resumes_only_with_its_own_user_and_level_of_proof() {
    let mut h = Harness::new(identity(false));
    let (alice, _) = h.connect_with(1, auth_as("alice", Some(&token("alice")), None, None));
    let (anonymous, _) = h.connect(2, None, None);
    let (claimed, _) = h.connect_with(3, auth_as("carol", None, None, None));
    let cases: [(ClientFrame, &str, &str); 6] = [
        (auth_as("bob", Some(&token("bob")), Some(&alice), Some(0)), alice.as_str(), "another verified user"),
        (auth(Some(&alice), Some(0)), alice.as_str(), "an anonymous auth"),
        (auth_as("alice", None, Some(&alice), Some(0)), alice.as_str(), "alice unverified"),
        (auth_as("alice", None, Some(&anonymous), Some(0)), anonymous.as_str(), "a user_id on an anonymous session"),
        (auth_as("carol", Some(&token("carol")), Some(&claimed), Some(0)), claimed.as_str(), "carol now verified"),
        (auth_as("dave", None, Some(&claimed), Some(0)), claimed.as_str(), "another claim"),
    ];
    for (n, (frame, target, what)) in cases.into_iter().enumerate() {
        let conn = 10 + n as u64;
        let (got, out) = h.connect_with(conn, frame);
        assert_ne!(got, target, "{what} resumed it");
        let ok = auth_ok(&out, conn);
        assert!(!ok.replay && ok.history.is_none(), "{what}: {ok:?}");
    }
    // And the owners themselves do resume.
    assert_eq!(h.connect_with(20, auth_as("alice", Some(&token("alice")), Some(&alice), Some(0))).0, alice);
    assert_eq!(h.connect(21, Some(&anonymous), Some(0)).0, anonymous);
    assert_eq!(h.connect_with(22, auth_as("carol", None, Some(&claimed), Some(0))).0, claimed);
}

#[test]
fn tokens_and_identity_secrets_appear_in_no_log_frame_or_debug() {
    let mut h = Harness::new(identity(true));
    let good = token("alice");
    let wrong = token("mallory");
    h.connect_with(1, auth_as("alice", Some(&good), None, None));
    refusal(&mut h, 2, auth_as("alice", Some(&wrong), None, None));
    // Tokens where no token belongs, so a parser's complaint might echo them.
    h.open(3, None);
    h.text(3, &format!(r#"{{"type":"auth","v":"{good}"}}"#));
    h.send(1, &message("m1", &format!("is {SECRET} a secret?")));
    h.text(1, &format!(r#"{{"type":"select_item","id":"x","sku":"bread","quantity":"{wrong}"}}"#));
    let debug = format!("{:?} {:?}", h.engine, auth_as("alice", Some(&good), None, None));
    for secret in [SECRET, good.as_str(), wrong.as_str()] {
        assert!(!debug.contains(secret), "{debug}");
        for event in h.logs() {
            let line = serde_json::to_string(&event).unwrap();
            assert!(!line.contains(secret), "{line}");
        }
        for output in &h.all {
            if let vizochok_server::ServerOutput::Send { text, .. } = output {
                // The shopper's own chat text is theirs; the engine's texts never carry a secret.
                let engine_text = text.replace(&format!("is {SECRET} a secret?"), "");
                assert!(!engine_text.contains(secret), "{text}");
            }
        }
    }
}
