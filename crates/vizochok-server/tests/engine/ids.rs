//! §11: session ids are secrets — made of the host's random bytes only,
//! never whole in a log, and an unknown one reveals nothing.

use std::num::NonZeroU64;
use std::sync::{Arc, Mutex};

use vizochok_server::{
    KeywordAssistant, LogKind, RandomError, RandomSource, SeededRandom, ServerConfig, ServerInput, ServerOutput,
};

use crate::harness::*;

/// Hands out the bytes of a seeded source and remembers every draw.
struct Recording {
    inner: SeededRandom,
    draws: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl RandomSource for Recording {
    fn fill(&mut self, bytes: &mut [u8]) -> Result<(), RandomError> {
        self.inner.fill(bytes)?;
        self.draws.lock().unwrap().push(bytes.to_vec());
        Ok(())
    }
}

/// Always fails, like an OS source that is not available.
struct Broken;

impl RandomSource for Broken {
    fn fill(&mut self, _bytes: &mut [u8]) -> Result<(), RandomError> {
        Err(RandomError("no entropy".into()))
    }
}

#[test]
fn a_session_id_is_exactly_128_bits_drawn_for_it() {
    let draws = Arc::new(Mutex::new(Vec::new()));
    let random = Recording { inner: SeededRandom::new(3), draws: draws.clone() };
    let mut h = Harness {
        engine: vizochok_server::Engine::new(config(), Box::new(KeywordAssistant), Box::new(random)),
        now: 5,
        all: Vec::new(),
    };
    let mut ids = Vec::new();
    for conn in 1..=3 {
        ids.push(h.connect(conn, None, None).0);
    }
    let draws = draws.lock().unwrap();
    // Each session draws its id (16 bytes) and, separately, its public tag (8 bytes).
    assert_eq!(draws.iter().map(Vec::len).collect::<Vec<_>>(), [16, 8, 16, 8, 16, 8]);
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(id, &format!("s-{}", hex(&draws[2 * n])), "nothing but the random bytes");
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn without_random_bytes_no_session_is_opened() {
    let mut h = Harness {
        engine: vizochok_server::Engine::new(config(), Box::new(KeywordAssistant), Box::new(Broken)),
        now: 5,
        all: Vec::new(),
    };
    h.open(1, None);
    let out = h.send(1, &auth(None, None));
    assert!(frames(&out, 1).is_empty(), "no auth_ok with a weak id");
    assert_eq!(closes(&out), [(1, 1011, "internal error".into())]);
    assert!(h.logs().iter().any(|e| e.kind == LogKind::AuthFailed && e.detail.contains("no entropy")));
}

#[test]
fn no_log_line_holds_a_whole_session_id() {
    let mut config = ServerConfig { heartbeat_ms: NonZeroU64::new(1_000), ..config() };
    config.stores[0].webhook = true;
    let mut h = Harness::new(config);
    let (sid, _) = h.connect(1, None, None);
    let (other, _) = h.connect(2, None, None);
    h.connect(3, Some(&sid), Some(0));
    h.send(1, &select("a1", "bread", 1.0));
    h.input(ServerInput::WebhookResult { request: 1, accepted: false, detail: Some(format!("no, {sid}")) });
    h.send(1, &message("m1", &format!("my session is {other}")));
    h.send(2, &message("m2", "add 1"));
    h.text(1, &format!(r#"{{"type":"cancel","id":"{sid}","reply_to":"m1"}}"#));
    h.text(1, &format!(r#"{{"type":"message","id":"x","text":["{sid}"]}}"#));
    h.connect(4, Some(&other), None);
    h.closed(4);
    h.advance(200_000);
    h.engine.restart(h.now, false);
    h.drain();
    let logs = h.logs();
    assert!(logs.len() >= 15, "{}", logs.len());
    for event in &logs {
        let line = serde_json::to_string(event).unwrap();
        for id in [&sid, &other] {
            assert!(!line.contains(id.as_str()) && !line.contains(&id[2..]), "{line}");
        }
        if let Some(prefix) = &event.session {
            assert!(
                prefix.chars().count() <= 8 && (sid.starts_with(prefix.as_str()) || other.starts_with(prefix.as_str()))
            );
        }
    }
    assert!(logs.iter().any(|e| e.session.as_deref() == Some(&sid[..8])), "lines still correlate");
}

#[test]
fn resuming_an_unknown_id_looks_exactly_like_a_fresh_session() {
    // Two engines with the same randomness: one asked for a fresh session,
    // one asked to resume an id it never issued.
    let run = |asked: Option<&str>| {
        let mut h = Harness::new(config());
        let out = h.connect(1, asked, Some(17)).1;
        let logs: Vec<String> = h.logs().iter().map(|e| serde_json::to_string(e).unwrap()).collect();
        (frames(&out, 1), logs)
    };
    let fresh = run(None);
    assert_eq!(run(Some("s-0123456789abcdef0123456789abcdef")), fresh);
    assert_eq!(run(Some("s-forgotten")), fresh);
}

#[test]
fn a_session_id_never_rides_in_a_reply_or_a_webhook_key() {
    let mut config = config();
    config.stores[0].webhook = true;
    let mut h = Harness::new(config);
    let (sid, _) = h.connect(1, None, None);
    h.send(1, &message("m1", "bread"));
    let out = h.send(1, &message("m2", "add 1"));
    assert_eq!(webhooks(&out).len(), 1, "the reply's cart change went to the webhook");
    let hex = &sid[2..];
    for output in &out {
        match output {
            ServerOutput::Send { text, .. } => assert!(!text.contains(hex), "{text}"),
            ServerOutput::Webhook { body, .. } => {
                let body: serde_json::Value = serde_json::from_str(body).unwrap();
                assert!(!body["idempotency_key"].as_str().unwrap().contains(hex));
            }
            _ => {}
        }
    }
}
