//! What a new session costs a full engine, by how many sessions it holds
//! (`cargo bench -p vizochok-server --bench full_engine -- [N,N,...]`).
//!
//! Each level fills an engine to `max_sessions` with shoppers, then times
//! 2,000 new sessions (open, `auth`, close), each of which makes room under
//! the cap. Two kinds of fill: every session attached (room is made by
//! holding one more, then forgetting it when it closes) and every session
//! idle (room is made by forgetting the least recently used). The ratio is
//! against the smallest level of the same run: a cost that grows with the
//! sessions held shows as a ratio that grows with them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Instant;

use vizochok_server::{
    Catalog, ConnId, Engine, KeywordAssistant, SeededRandom, ServerConfig, ServerInput, StoreConfig,
};

const AUTH: &str = r#"{"type":"auth","v":1,"api_key":"pk_bench","store_id":"bench","language":"en","sdk":{"name":"bench","version":"1"}}"#;
const NEW_SESSIONS: u64 = 2_000;

fn engine(max_sessions: usize) -> Engine {
    let store = StoreConfig::new("bench", vec!["pk_bench".into()], Catalog::default());
    let config = ServerConfig { stores: vec![store], max_sessions, heartbeat_ms: None, ..ServerConfig::default() };
    Engine::new(config, Box::new(KeywordAssistant), Box::new(SeededRandom::new(7)))
}

fn session(e: &mut Engine, now: u64, conn: u64, close: bool) {
    e.handle(now, ServerInput::Open { conn: ConnId(conn), origin: None, peer: None });
    e.handle(now, ServerInput::Text { conn: ConnId(conn), text: AUTH });
    if close {
        e.handle(now, ServerInput::Closed { conn: ConnId(conn) });
    }
    while e.poll_output().is_some() {}
}

/// Microseconds per new session in an engine full of `n`, attached or idle.
fn per_new_session(n: u64, attached: bool) -> f64 {
    let mut e = engine(n as usize);
    for conn in 0..n {
        session(&mut e, conn, conn, !attached);
    }
    let started = Instant::now();
    for conn in n..n + NEW_SESSIONS {
        session(&mut e, n + conn, conn, true);
    }
    assert_eq!(e.stats().sessions, n as usize, "the engine stayed at its cap");
    started.elapsed().as_secs_f64() * 1e6 / NEW_SESSIONS as f64
}

fn main() {
    let levels: Vec<u64> = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.split(',').map(|n| n.parse().expect("levels: N,N,...")).collect())
        .unwrap_or_else(|| vec![200, 2_000, 20_000]);
    println!("| sessions held | fill | µs per new session | ratio to {} |", levels[0]);
    println!("|---:|---|---:|---:|");
    for attached in [true, false] {
        let fill = if attached { "attached" } else { "idle" };
        let base = per_new_session(levels[0], attached);
        for &n in &levels {
            let us = if n == levels[0] { base } else { per_new_session(n, attached) };
            println!("| {n} | {fill} | {us:.1} | {:.2} |", us / base);
        }
    }
}
