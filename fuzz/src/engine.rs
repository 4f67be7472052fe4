//! Target `engine`: the reference server engine driven by the fuzzer's bytes.
//!
//! The first bytes choose a configuration with small caps (so that every
//! bound is reached); then each step is a host input: a socket opening,
//! an `auth` (right or wrong key, store, version, identity, a known or
//! made-up session id and `last_seq`), an action with a reused or fresh id,
//! a ping, garbage or a binary frame, a socket closing, time passing to the
//! next deadline or beyond, a webhook answer, a restart, a snapshot
//! restored. After every step the harness drains the outputs and checks:
//!
//! - no panic; every frame sent parses, and only to an open connection;
//! - `seq` strictly increases on every connection, and a replay starts
//!   above the `last_seq` the client named;
//! - no action is applied twice while the session remembers it: a model of
//!   the bounded dedup set (lines per client) must agree with every
//!   `ack` and every `applied` log line, and while a session has forgotten
//!   nothing, no id is applied twice at all;
//! - memory stays bounded: sessions, connections per session, dedup lines
//!   and ids, unanswered messages, cart changes, replay buffers, history,
//!   outcomes, ratings, rate-limit windows, quota counters and timer
//!   indexes are all within their caps;
//! - a fired timer moves on (no deadline stays in the past);
//! - no api key, identity secret, user token or whole session id in a log
//!   line, and no api key, secret or token in a frame.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::num::NonZeroU64;

use vizochok_proto::frame::{self, AuthFrame, ClientFrame, SdkInfo, ServerFrame};
use vizochok_proto::{AuthOk, PageContext, PageInfo, Rating, Secret};
use vizochok_server::{
    user_token, Catalog, CatalogProduct, ConnId, Engine, EngineStats, KeywordAssistant, LogEvent, LogKind,
    SeededRandom, ServerConfig, ServerInput, ServerOutput, StoreConfig,
};

use crate::Reader;

const KEY: &str = "pk_fuzz_engine_7c1e";
const SECRET: &str = "idsec_fuzz_engine_93b2";
const STORE: &str = "fuzz-store";
const USERS: [&str; 2] = ["alice", "bob"];
const MAX_STEPS: usize = 2_000;
/// The engine's own bounds (`docs/protocol.md`).
const MAX_CONNECTIONS: usize = 8;
const MAX_UNANSWERED: usize = 8;
const MAX_CART_CHANGES: usize = 64 + 16;
const MAX_OUTCOMES: usize = 100;
const MAX_FEEDBACK: usize = 100;
/// A host's clock never gets this far; deadlines beyond it mean "never".
const HORIZON: u64 = u64::MAX / 4;

/// The dedup set as the contract's argument describes it: per client (the
/// `c` of an id `c-<digits>`; an id of any other form counts its connection
/// as its client), the latest ids applied or acknowledged again from it;
/// lines outlive their connections; the least recently used line goes
/// first, preferring one whose last connection is gone.
#[derive(Debug, Default)]
struct Model {
    /// (client, the connection that recorded last, ids).
    lines: VecDeque<(Option<String>, Option<u64>, VecDeque<String>)>,
    forgotten: u64,
    applied: HashMap<String, u32>,
}

impl Model {
    fn contains(&self, id: &str) -> bool {
        self.lines.iter().any(|(_, _, ids)| ids.iter().any(|held| held == id))
    }

    fn record(&mut self, conn: u64, id: &str, per: usize, lines: usize) {
        let client = match id.rsplit_once('-') {
            Some((c, n)) if !c.is_empty() && !n.is_empty() && n.chars().all(|d| d.is_ascii_digit()) => Some(c),
            _ => None,
        };
        let mine = |(k, c, _): &(Option<String>, Option<u64>, VecDeque<String>)| match client {
            Some(client) => k.as_deref() == Some(client),
            None => k.is_none() && *c == Some(conn),
        };
        let at = match self.lines.iter().rposition(mine) {
            Some(at) => at,
            None => {
                if self.lines.len() >= lines.max(1) {
                    let gone = self.lines.iter().position(|(_, c, _)| c.is_none()).unwrap_or(0);
                    if let Some((_, _, ids)) = self.lines.remove(gone) {
                        self.release(ids);
                    }
                }
                self.lines.push_back((client.map(str::to_owned), None, VecDeque::new()));
                self.lines.len() - 1
            }
        };
        let Some((k, _, mut ids)) = self.lines.remove(at) else { return };
        ids.retain(|held| held != id);
        ids.push_back(id.to_owned());
        let mut dropped = VecDeque::new();
        while ids.len() > per.max(1) {
            dropped.extend(ids.pop_front());
        }
        self.lines.push_back((k, Some(conn), ids));
        self.release(dropped);
    }

    fn release(&mut self, ids: VecDeque<String>) {
        for id in ids {
            if !self.contains(&id) {
                self.forgotten += 1;
            }
        }
    }

    fn close(&mut self, conn: u64) {
        for (_, c, _) in self.lines.iter_mut().filter(|(_, c, _)| *c == Some(conn)) {
            *c = None;
        }
    }
}

/// What a connection's latest `ack` was, until the log says whether it applied.
struct PendingAck {
    session: String,
    id: String,
    known: bool,
}

struct Harness {
    engine: Engine,
    config: ServerConfig,
    now: u64,
    next_conn: u64,
    /// Open connections (as the host sees them) → the session they joined.
    open: BTreeMap<u64, Option<String>>,
    /// The last `seq` each connection was sent, and the floor a replay must start above.
    seq: HashMap<u64, u64>,
    /// The `last_seq` each connection's `auth` named.
    asked: HashMap<u64, u64>,
    sessions: BTreeMap<String, Model>,
    webhooks: Vec<u64>,
    ids: Vec<String>,
    replies: Vec<String>,
    pending_ack: Option<PendingAck>,
    secrets: Vec<String>,
    /// Print every input and output (`VIZOCHOK_FUZZ_TRACE=1`).
    trace: bool,
}

/// Runs one program.
pub fn run(data: &[u8]) {
    let mut r = Reader::new(data);
    let config = config(&mut r);
    let engine = Engine::new(config.clone(), Box::new(KeywordAssistant), Box::new(SeededRandom::new(r.u64())));
    let secrets = vec![KEY.to_owned(), SECRET.to_owned(), user_token(SECRET, USERS[0]), user_token(SECRET, USERS[1])];
    let mut h = Harness {
        engine,
        config,
        now: 1_000,
        next_conn: 1,
        open: BTreeMap::new(),
        seq: HashMap::new(),
        asked: HashMap::new(),
        sessions: BTreeMap::new(),
        webhooks: Vec::new(),
        ids: Vec::new(),
        replies: Vec::new(),
        pending_ack: None,
        secrets,
        trace: std::env::var_os("VIZOCHOK_FUZZ_TRACE").is_some(),
    };
    if h.trace {
        eprintln!("config {:?}", h.config);
    }
    let mut steps = 0;
    while !r.is_empty() && steps < MAX_STEPS {
        steps += 1;
        h.step(&mut r);
        h.drain();
        h.check();
    }
}

fn config(r: &mut Reader) -> ServerConfig {
    let product = |sku: &str, step: f64, price: f64| CatalogProduct {
        sku: sku.into(),
        name: format!("{sku} milk"),
        name_en: None,
        brand: None,
        category: "dairy".into(),
        unit: "pcs".into(),
        quantity_step: step,
        price,
        promo_price: None,
        image_url: None,
        keywords: vec![],
    };
    let catalog = Catalog::new(vec![product("m1", 1.0, 40.0), product("m2", 0.5, 12.5)]);
    let mut store = StoreConfig::new(STORE, vec![KEY.into()], catalog);
    store.webhook = r.bool();
    if r.bool() {
        store.identity_secret = Some(Secret::new(SECRET));
        store.require_identity = r.bool();
    }
    if r.u8().is_multiple_of(4) {
        store.allowed_origins = vec!["https://shop.example".into()];
    }
    let mut config = ServerConfig {
        stores: vec![store],
        replay_window_ms: u64::from(r.u16()),
        replay_max_frames: usize::from(r.u8() % 8),
        history_max: usize::from(r.u8() % 6),
        heartbeat_ms: if r.bool() { NonZeroU64::new(1 + u64::from(r.u16())) } else { None },
        delta_interval_ms: u64::from(r.u8()),
        delta_chars: usize::from(r.u8() % 8),
        webhook_timeout_ms: u64::from(r.u16()),
        session_ttl_ms: 1 + u64::from(r.u16()) * 8,
        max_sessions: 1 + usize::from(r.u8() % 4),
        dedup_per_connection: usize::from(r.u8() % 5),
        dedup_connections: usize::from(r.u8() % 5),
        ..ServerConfig::default()
    };
    let limits = &mut config.limits;
    limits.rate_limit_actions = 1 + u32::from(r.u8() % 16);
    limits.rate_limit_window_ms = u64::from(r.u16());
    limits.user_messages_max = u32::from(r.u8() % 8);
    limits.user_conversations_max = u32::from(r.u8() % 4);
    limits.session_tokens = u64::from(r.u16());
    limits.max_rounds = u32::from(r.u8() % 3);
    limits.max_message_chars = usize::from(r.u8());
    limits.max_inbound_bytes = 64 + usize::from(r.u16() % 4_096);
    limits.auth_timeout_ms = u64::from(r.u16());
    limits.busy_retry_after_ms = u64::from(r.u16());
    limits.invalid_frames_max = u32::from(r.u8() % 32);
    limits.refused_frames_max = u32::from(r.u8());
    limits.refusal_window_ms = u64::from(r.u16());
    limits.new_sessions_per_address = u32::from(r.u8() % 8);
    limits.new_session_window_ms = u64::from(r.u16());
    config
}

impl Harness {
    fn input(&mut self, input: ServerInput<'_>) {
        if self.trace {
            eprintln!("t={} in {input:?}", self.now);
        }
        self.engine.handle(self.now, input);
    }

    fn some_conn(&self, r: &mut Reader) -> u64 {
        let open: Vec<u64> = self.open.keys().copied().collect();
        match (r.u8() % 8, open.is_empty()) {
            // A connection the engine never saw, or one already gone.
            (0, _) | (_, true) => u64::from(r.u8() % 4) + self.next_conn.saturating_sub(2),
            _ => r.pick(&open),
        }
    }

    fn step(&mut self, r: &mut Reader) {
        match r.u8() % 20 {
            0 | 1 => {
                let conn = self.next_conn;
                self.next_conn += 1;
                let origin = r.pick(&[None, Some("https://shop.example"), Some("https://evil.example")]);
                self.open.insert(conn, None);
                // Two of these share an IPv6 /64; `None` is a host that names no address.
                let peer = r.pick(&[None, Some("203.0.113.7"), Some("2001:db8::1"), Some("2001:db8::2")]);
                let peer = peer.map(|p| p.parse().expect("an address"));
                self.input(ServerInput::Open { conn: ConnId(conn), origin, peer });
            }
            2 | 3 => {
                let conn = self.some_conn(r);
                let auth = self.auth(r);
                if let ClientFrame::Auth(AuthFrame { last_seq, .. }) = &auth {
                    self.asked.insert(conn, last_seq.unwrap_or(0));
                }
                self.send(conn, &auth);
            }
            4..=9 => {
                let conn = self.some_conn(r);
                let action = self.action(r);
                self.send(conn, &action);
            }
            10 => {
                let conn = self.some_conn(r);
                let text = match r.u8() % 5 {
                    0 => r.string(32),
                    1 => r#"{"type":"ping","ts":1}"#.to_owned(),
                    2 => r#"{"type":"pong"}"#.to_owned(),
                    3 => r#"{"type":"hologram","id":"h1"}"#.to_owned(),
                    _ => format!(r#"{{"type":"message","id":"big","text":"{}"}}"#, "x".repeat(usize::from(r.u16()) % 5_000)),
                };
                self.input(ServerInput::Text { conn: ConnId(conn), text: &text });
            }
            11 => {
                let conn = self.some_conn(r);
                self.input(ServerInput::Binary { conn: ConnId(conn), len: usize::from(r.u16()) });
            }
            12 => {
                let conn = self.some_conn(r);
                self.gone(conn);
                self.input(ServerInput::Closed { conn: ConnId(conn) });
            }
            13 | 14 => self.next_deadline(),
            15 => {
                let ms = match r.u8() % 3 {
                    0 => u64::from(r.u8()),
                    1 => u64::from(r.u16()),
                    _ => u64::from(r.u32()),
                };
                self.now = self.now.saturating_add(ms);
                self.input(ServerInput::Timeout);
                self.drain();
                self.assert_timer_moved();
            }
            16 => {
                let request = match (self.webhooks.is_empty(), r.u8() % 4) {
                    (false, 0..=2) => r.pick(&self.webhooks),
                    _ => u64::from(r.u8()),
                };
                let accepted = r.bool();
                let detail = if r.bool() { Some(format!("no ({KEY})")) } else { None };
                self.webhooks.retain(|&w| w != request);
                self.input(ServerInput::WebhookResult { request, accepted, detail });
            }
            17 => {
                if r.u8().is_multiple_of(4) {
                    let keep = r.bool();
                    self.engine.restart(self.now, keep);
                }
            }
            18 => {
                if r.u8().is_multiple_of(4) {
                    self.restore(r);
                }
            }
            _ => {
                // A client acting at once on a second connection of the same session.
                let conn = self.some_conn(r);
                let id = self.id(r);
                self.send(conn, &ClientFrame::ClearCart { id });
            }
        }
    }

    fn send(&mut self, conn: u64, frame: &ClientFrame) {
        let text = frame::encode(frame);
        self.input(ServerInput::Text { conn: ConnId(conn), text: &text });
    }

    /// The host saw the socket go (the engine may or may not know it).
    fn gone(&mut self, conn: u64) {
        if let Some(Some(session)) = self.open.remove(&conn) {
            if let Some(model) = self.sessions.get_mut(&session) {
                model.close(conn);
            }
        }
    }

    fn next_deadline(&mut self) {
        let Some(deadline) = self.engine.poll_timeout() else { return };
        if deadline >= HORIZON {
            return;
        }
        self.now = self.now.max(deadline);
        self.input(ServerInput::Timeout);
        self.drain();
        self.assert_timer_moved();
    }

    fn assert_timer_moved(&self) {
        if let Some(next) = self.engine.poll_timeout() {
            assert!(next > self.now, "a timer stays due at {next} after firing at {}", self.now);
        }
    }

    fn restore(&mut self, r: &mut Reader) {
        let snapshot = self.engine.snapshot();
        assert!(!self.secrets[..2].iter().any(|s| snapshot.contains(s.as_str())), "a secret in a snapshot");
        if r.bool() {
            // A new process: the old one's sockets died with it.
            let random = Box::new(SeededRandom::new(r.u64()));
            self.engine = Engine::new(self.config.clone(), Box::new(KeywordAssistant), random);
            let open: Vec<u64> = self.open.keys().copied().collect();
            for conn in open {
                self.gone(conn);
            }
        }
        if let Err(e) = self.engine.restore(&snapshot) {
            panic!("the engine's own snapshot does not restore: {e}");
        }
    }

    fn auth(&mut self, r: &mut Reader) -> ClientFrame {
        let user = if r.bool() { Some(r.pick(&USERS)) } else { None };
        let user_token = match r.u8() % 4 {
            0 => user.map(|u| Secret::new(user_token(SECRET, u))),
            1 => Some(Secret::new(user_token(SECRET, "mallory"))),
            _ => None,
        };
        let known: Vec<String> = self.sessions.keys().cloned().collect();
        let session_id = match r.u8() % 4 {
            0 | 1 if !known.is_empty() => Some(r.pick(&known)),
            2 => Some(format!("s-{:032x}", r.u64())),
            _ => None,
        };
        // One byte for `last_seq` and `new_session`, so the corpus reads as before the flag.
        let resume = r.u8();
        let last_seq = match resume % 4 {
            0 => None,
            1 => Some(0),
            _ => Some(u64::from(r.u8())),
        };
        ClientFrame::Auth(AuthFrame {
            v: if r.u8().is_multiple_of(16) { 2 } else { 1 },
            api_key: Secret::new(if r.u8().is_multiple_of(16) { "pk_wrong" } else { KEY }),
            store_id: if r.u8().is_multiple_of(16) { "other-store".into() } else { STORE.into() },
            user_id: user.map(str::to_owned),
            user_token,
            session_id,
            last_seq,
            language: r.pick(&["uk", "en", "de"]).to_owned(),
            sdk: SdkInfo { name: "fuzz".into(), version: "1".into() },
            new_session: resume % 16 == 8,
        })
    }

    /// An action id: mostly a recent one (a resend), sometimes fresh, sometimes malformed.
    fn id(&mut self, r: &mut Reader) -> String {
        match (r.u8() % 8, self.ids.len()) {
            (0..=3, n) if n > 0 => {
                let back = usize::from(r.u8()) % n.min(12);
                self.ids[n - 1 - back].clone()
            }
            (4, _) => r.pick(&[String::new(), "é".repeat(40), "x".repeat(65)]),
            (k, _) => {
                // Most ids name one of three clients, as every VIZOCHOK client's do.
                let id = match k {
                    5..=6 => format!("c{}-{}", r.u8() % 3, self.ids.len()),
                    _ => format!("f{}", self.ids.len()),
                };
                self.ids.push(id.clone());
                id
            }
        }
    }

    fn action(&mut self, r: &mut Reader) -> ClientFrame {
        let id = self.id(r);
        let sku = r.pick(&["m1", "m2", "nope"]).to_owned();
        let quantity = r.pick(&[1.0, 0.5, 2.0, 0.3, -1.0, 0.0, 1e300]);
        match r.u8() % 8 {
            0 | 1 => {
                let text = r.pick(&["milk", "add 1", "додай це", "remove this", "clear", "", "Show cheaper"]);
                ClientFrame::Message { id, text: text.to_owned() }
            }
            2 => ClientFrame::SelectItem { id, sku, quantity },
            3 => ClientFrame::UpdateQuantity { id, sku, quantity },
            4 => ClientFrame::RemoveItem { id, sku },
            5 => {
                let long = r.bool().then(|| "ї".repeat(600));
                let page = Some(PageInfo { url: Some("https://shop.example/m1".into()), title: long });
                let context = PageContext { page, sku: Some(sku), ..PageContext::default() };
                ClientFrame::Context { id, context }
            }
            6 => {
                let reply_to = if r.bool() && !self.ids.is_empty() { r.pick(&self.ids) } else { "m404".into() };
                ClientFrame::Cancel { id, reply_to }
            }
            _ => {
                let message_id = if self.replies.is_empty() { "r404".into() } else { r.pick(&self.replies) };
                let rating = if r.bool() { Rating::Up } else { Rating::Down };
                // A shopper's words are the session's data (a snapshot keeps them), so none is a secret here.
                ClientFrame::Feedback { id, message_id, rating, comment: r.bool().then(|| "meh".to_owned()) }
            }
        }
    }

    fn drain(&mut self) {
        while let Some(output) = self.engine.poll_output() {
            if self.trace {
                eprintln!("    out {output:?}");
            }
            match output {
                ServerOutput::Send { conn, text } => self.sent(conn.0, &text),
                ServerOutput::Close { conn, .. } => {
                    assert!(self.open.contains_key(&conn.0), "closed connection {} that is not open", conn.0);
                    self.gone(conn.0);
                }
                ServerOutput::Webhook { request, body, .. } => {
                    assert!(!body.contains(KEY) && !body.contains(SECRET), "a secret in a webhook body");
                    if !self.webhooks.contains(&request) {
                        self.webhooks.push(request);
                    }
                }
                ServerOutput::Log(event) => self.logged(&event),
            }
        }
        self.settle_ack();
    }

    fn sent(&mut self, conn: u64, text: &str) {
        assert!(self.open.contains_key(&conn), "frame to connection {conn}, which is not open: {text}");
        for secret in &self.secrets {
            assert!(!text.contains(secret.as_str()), "a secret in a frame: {text}");
        }
        let frame = frame::parse_server(text).unwrap_or_else(|e| panic!("the engine sent a bad frame ({e}): {text}"));
        match &frame {
            ServerFrame::AuthOk(AuthOk { session_id, replay, .. }) => {
                let floor = if *replay { self.asked.get(&conn).copied().unwrap_or(0) } else { 0 };
                self.seq.insert(conn, floor);
                self.open.insert(conn, Some(session_id.clone()));
                self.sessions.entry(session_id.clone()).or_default();
            }
            ServerFrame::Ack { id } => {
                self.settle_ack();
                let session = self.open.get(&conn).cloned().flatten().unwrap_or_default();
                let (per, lines) = (self.config.dedup_per_connection, self.config.dedup_connections);
                let model = self.sessions.entry(session.clone()).or_default();
                let known = model.contains(id);
                model.record(conn, id, per, lines);
                self.pending_ack = Some(PendingAck { session, id: id.clone(), known });
            }
            ServerFrame::Response { reply, .. } => self.replies.push(reply.message_id.clone()),
            _ => {}
        }
        if let Some(seq) = frame.seq() {
            let last = self.seq.entry(conn).or_default();
            assert!(seq > *last, "seq {seq} after {last} on connection {conn}");
            *last = seq;
        }
    }

    fn logged(&mut self, event: &LogEvent) {
        let line = format!("{event:?}");
        for secret in self.secrets.iter().chain(self.sessions.keys()) {
            assert!(!line.contains(secret.as_str()), "a secret or a whole session id in a log line: {line}");
        }
        if event.kind != LogKind::Applied {
            return;
        }
        let pending = self.pending_ack.take();
        let Some(PendingAck { session, id, known }) = pending else { panic!("applied without an ack: {line}") };
        assert!(event.detail.ends_with(&format!(" {id}")), "applied {line} after the ack of {id}");
        assert!(!known, "{id} applied again while its session remembers it");
        let model = self.sessions.entry(session).or_default();
        let times = model.applied.entry(id.clone()).or_default();
        *times += 1;
        assert!(*times == 1 || model.forgotten > 0, "{id} applied twice, and its session forgot nothing");
    }

    /// An `ack` not followed by an `applied` line acknowledged a resend.
    fn settle_ack(&mut self) {
        if let Some(PendingAck { id, known, .. }) = self.pending_ack.take() {
            assert!(known, "{id} acknowledged again but the session never applied it (or forgot it)");
        }
    }

    fn check(&mut self) {
        let gone: Vec<String> = self.sessions.keys().filter(|s| !self.engine.has_session(s)).cloned().collect();
        for session in gone {
            self.sessions.remove(&session);
        }
        let stats = self.engine.stats();
        let c = &self.config;
        let EngineStats { sessions, attached_sessions, busy_sessions, connections, .. } = stats;
        assert_eq!(connections, self.open.len(), "the engine holds other connections than the host: {stats:?}");
        assert!(sessions <= c.max_sessions.max(1) + attached_sessions + busy_sessions, "sessions: {stats:?}");
        assert!(stats.max_session_connections <= MAX_CONNECTIONS, "{stats:?}");
        let (per, lines) = (c.dedup_per_connection.max(1), c.dedup_connections.max(1));
        assert!(stats.max_dedup_line <= per && stats.max_dedup_lines <= lines, "{stats:?}");
        assert!(stats.max_dedup_ids <= per * lines, "{stats:?}");
        assert!(stats.max_unanswered <= MAX_UNANSWERED, "{stats:?}");
        assert!(stats.max_cart_changes <= MAX_CART_CHANGES, "{stats:?}");
        assert!(stats.max_replay_frames <= c.replay_max_frames, "{stats:?}");
        assert!(stats.max_history <= c.history_max, "{stats:?}");
        assert!(stats.max_outcomes <= MAX_OUTCOMES && stats.max_feedback <= MAX_FEEDBACK, "{stats:?}");
        assert!(stats.max_recent_actions <= c.limits.rate_limit_actions as usize, "{stats:?}");
        assert!(stats.webhooks_in_flight <= sessions && stats.owned_sessions <= sessions, "{stats:?}");
        assert!(stats.usage_entries <= sessions + USERS.len(), "quota counters outlive their sessions: {stats:?}");
        assert!(stats.timers <= connections + 2 * sessions, "{stats:?}");
        let engine_ids: HashSet<&String> = self.sessions.keys().collect();
        assert!(engine_ids.len() <= sessions, "{stats:?}");
    }
}
