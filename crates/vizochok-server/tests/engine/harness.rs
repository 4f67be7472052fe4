//! Drives an engine with real client frames and parses what it sends back.

use vizochok_proto::frame::{self, parse_server};
use vizochok_proto::{AuthFrame, ClientFrame, SdkInfo, Secret, ServerFrame};
pub use vizochok_proto::{AuthOk, CartChangedEvent, Reply};
use vizochok_server::{
    Assistant, Catalog, CatalogProduct, ConnId, Engine, KeywordAssistant, LogEvent, LogKind, SeededRandom,
    ServerConfig, ServerInput, ServerOutput, StoreConfig,
};

pub const STORE: &str = "demo";
/// A recognisable key, so a leak shows up in any text.
pub const KEY: &str = "pk_canary_7f3a9c";

pub fn product(sku: &str, name: &str, unit: &str, step: f64, price: f64) -> CatalogProduct {
    CatalogProduct {
        sku: sku.into(),
        name: name.into(),
        name_en: None,
        brand: Some("Farm".into()),
        category: "food".into(),
        unit: unit.into(),
        quantity_step: step,
        price,
        promo_price: None,
        image_url: None,
        keywords: vec![],
    }
}

pub fn catalog() -> Catalog {
    Catalog::new(vec![
        product("milk-1", "Milk 2.5%", "pcs", 1.0, 42.5),
        product("milk-2", "Oat milk", "pcs", 1.0, 80.0),
        product("banana", "Bananas", "kg", 0.5, 60.0),
        product("bread", "Rye bread", "pcs", 1.0, 30.0),
    ])
}

/// The tests' engine: replies at once, and no heartbeat, whose pings and
/// closes would mix into tests that leap over minutes (the heartbeat's own
/// tests switch it on).
pub fn config() -> ServerConfig {
    let store = StoreConfig::new(STORE, vec![KEY.into()], catalog());
    ServerConfig { stores: vec![store], delta_interval_ms: 0, heartbeat_ms: None, ..ServerConfig::default() }
}

/// The seed of the harness's random source (tests only: ids follow from it).
pub const SEED: u64 = 42;

pub struct Harness {
    pub engine: Engine,
    pub now: u64,
    /// Every output ever drained, for log checks.
    pub all: Vec<ServerOutput>,
}

impl Harness {
    pub fn new(config: ServerConfig) -> Harness {
        Harness::with_assistant(config, Box::new(KeywordAssistant))
    }

    pub fn with_assistant(config: ServerConfig, assistant: Box<dyn Assistant>) -> Harness {
        Harness::seeded(config, assistant, SEED)
    }

    pub fn seeded(config: ServerConfig, assistant: Box<dyn Assistant>, seed: u64) -> Harness {
        let engine = Engine::new(config, assistant, Box::new(SeededRandom::new(seed)));
        Harness { engine, now: 1_000, all: Vec::new() }
    }

    pub fn input(&mut self, input: ServerInput<'_>) -> Vec<ServerOutput> {
        self.engine.handle(self.now, input);
        self.drain()
    }

    pub fn drain(&mut self) -> Vec<ServerOutput> {
        let mut out = Vec::new();
        while let Some(o) = self.engine.poll_output() {
            out.push(o);
        }
        self.all.extend(out.iter().cloned());
        out
    }

    pub fn open(&mut self, conn: u64, origin: Option<&str>) -> Vec<ServerOutput> {
        self.input(ServerInput::Open { conn: ConnId(conn), origin, peer: None })
    }

    /// Opens `conn` from the peer address `from`.
    pub fn open_from(&mut self, conn: u64, from: &str) -> Vec<ServerOutput> {
        self.input(ServerInput::Open { conn: ConnId(conn), origin: None, peer: Some(from.parse().unwrap()) })
    }

    /// Sends this `auth` on an open `conn`, which must succeed; returns the
    /// session id and every output.
    pub fn auth_on(&mut self, conn: u64, auth: ClientFrame) -> (String, Vec<ServerOutput>) {
        let out = self.send(conn, &auth);
        match frames(&out, conn).first() {
            Some(ServerFrame::AuthOk(AuthOk { session_id, .. })) => (session_id.clone(), out),
            other => panic!("expected auth_ok, got {other:?}"),
        }
    }

    pub fn text(&mut self, conn: u64, text: &str) -> Vec<ServerOutput> {
        self.input(ServerInput::Text { conn: ConnId(conn), text })
    }

    pub fn send(&mut self, conn: u64, frame: &ClientFrame) -> Vec<ServerOutput> {
        self.text(conn, &frame::encode(frame))
    }

    pub fn closed(&mut self, conn: u64) -> Vec<ServerOutput> {
        self.input(ServerInput::Closed { conn: ConnId(conn) })
    }

    /// Opens `conn` and authenticates; returns the session id and every output.
    pub fn connect(&mut self, conn: u64, session: Option<&str>, last_seq: Option<u64>) -> (String, Vec<ServerOutput>) {
        self.connect_with(conn, auth(session, last_seq))
    }

    /// Opens `conn` and sends this `auth`, which must succeed.
    pub fn connect_with(&mut self, conn: u64, auth: ClientFrame) -> (String, Vec<ServerOutput>) {
        self.open(conn, None);
        self.auth_on(conn, auth)
    }

    /// Moves virtual time on by `ms`, firing every timer on the way.
    pub fn advance(&mut self, ms: u64) -> Vec<ServerOutput> {
        let target = self.now + ms;
        while let Some(t) = self.engine.poll_timeout().filter(|&t| t <= target) {
            self.now = self.now.max(t);
            self.engine.handle(self.now, ServerInput::Timeout);
            // Nothing may stay due after firing, or a host would spin.
            assert!(self.engine.poll_timeout().is_none_or(|next| next > self.now), "timer stuck at {}", self.now);
        }
        self.now = target;
        self.engine.handle(self.now, ServerInput::Timeout);
        self.drain()
    }

    /// Whether the only timer left is the sessions' TTL (nothing streams,
    /// no webhook or replay window is pending).
    pub fn only_ttl_left(&self) -> bool {
        let ttl = ServerConfig::default().session_ttl_ms;
        self.engine.poll_timeout().is_none_or(|t| t + 60_000 > self.now + ttl)
    }

    /// How many times the action `id` was applied in session `sid`, from
    /// the engine's `applied` log lines (one per application).
    pub fn applied(&self, sid: &str, id: &str) -> u32 {
        let prefix: String = sid.chars().take(8).collect();
        let applied = |e: &LogEvent| {
            e.kind == LogKind::Applied
                && e.session.as_deref() == Some(prefix.as_str())
                && e.detail.rsplit(' ').next() == Some(id)
        };
        self.logs().iter().filter(|e| applied(e)).count() as u32
    }

    pub fn logs(&self) -> Vec<LogEvent> {
        self.all.iter().filter_map(|o| if let ServerOutput::Log(e) = o { Some(e.clone()) } else { None }).collect()
    }
}

pub fn auth_with(
    v: u32,
    store: &str,
    key: &str,
    user: Option<&str>,
    session: Option<&str>,
    last_seq: Option<u64>,
) -> ClientFrame {
    ClientFrame::Auth(AuthFrame {
        v,
        api_key: Secret::new(key),
        store_id: store.into(),
        user_id: user.map(Into::into),
        user_token: None,
        session_id: session.map(Into::into),
        last_seq,
        language: "en".into(),
        sdk: SdkInfo { name: "vizochok-test".into(), version: "0.1.0".into() },
        new_session: false,
    })
}

pub fn auth(session: Option<&str>, last_seq: Option<u64>) -> ClientFrame {
    auth_with(1, STORE, KEY, None, session, last_seq)
}

/// An `auth` for `user`, with `token` as its `user_token`.
pub fn auth_as(user: &str, token: Option<&str>, session: Option<&str>, last_seq: Option<u64>) -> ClientFrame {
    let ClientFrame::Auth(mut frame) = auth_with(1, STORE, KEY, Some(user), session, last_seq) else { unreachable!() };
    frame.user_token = token.map(Secret::new);
    ClientFrame::Auth(frame)
}

pub fn message(id: &str, text: &str) -> ClientFrame {
    ClientFrame::Message { id: id.into(), text: text.into() }
}

pub fn select(id: &str, sku: &str, quantity: f64) -> ClientFrame {
    ClientFrame::SelectItem { id: id.into(), sku: sku.into(), quantity }
}

/// The frames sent to `conn`, parsed with the client core's parser.
pub fn frames(outputs: &[ServerOutput], conn: u64) -> Vec<ServerFrame> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ServerOutput::Send { conn: c, text } if c.0 == conn => {
                Some(parse_server(text).unwrap_or_else(|e| panic!("unparseable {text}: {e}")))
            }
            _ => None,
        })
        .collect()
}

/// The `auth_ok` among the frames sent to `conn`.
pub fn auth_ok(outputs: &[ServerOutput], conn: u64) -> AuthOk {
    match frames(outputs, conn).into_iter().next() {
        Some(ServerFrame::AuthOk(ok)) => ok,
        other => panic!("expected auth_ok on {conn}, got {other:?}"),
    }
}

/// The replies (`response`) among frames.
pub fn responses(frames: &[ServerFrame]) -> Vec<Reply> {
    frames
        .iter()
        .filter_map(|f| if let ServerFrame::Response { reply, .. } = f { Some(reply.clone()) } else { None })
        .collect()
}

/// `(conn, code, reason)` of every close.
pub fn closes(outputs: &[ServerOutput]) -> Vec<(u64, u16, String)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ServerOutput::Close { conn, code, reason } => Some((conn.0, *code, reason.clone())),
            _ => None,
        })
        .collect()
}

/// `(request, body)` of every webhook.
pub fn webhooks(outputs: &[ServerOutput]) -> Vec<(u64, serde_json::Value)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            ServerOutput::Webhook { request, body, .. } => Some((*request, serde_json::from_str(body).unwrap())),
            _ => None,
        })
        .collect()
}

/// The `(code, reply_to, retry_after_ms)` of every error frame.
pub fn errors(frames: &[ServerFrame]) -> Vec<(String, Option<String>, Option<u64>)> {
    frames
        .iter()
        .filter_map(|f| match f {
            ServerFrame::Error { code, reply_to, retry_after_ms, .. } => {
                Some((code.clone(), reply_to.clone(), *retry_after_ms))
            }
            _ => None,
        })
        .collect()
}

pub fn acks(frames: &[ServerFrame]) -> Vec<String> {
    frames.iter().filter_map(|f| if let ServerFrame::Ack { id } = f { Some(id.clone()) } else { None }).collect()
}

/// The frame kinds, for asserting order.
pub fn kinds(frames: &[ServerFrame]) -> Vec<&'static str> {
    frames
        .iter()
        .map(|f| match f {
            ServerFrame::AuthOk(_) => "auth_ok",
            ServerFrame::AuthError { .. } => "auth_error",
            ServerFrame::Ack { .. } => "ack",
            ServerFrame::Typing { .. } => "typing",
            ServerFrame::Delta { .. } => "delta",
            ServerFrame::Response { .. } => "response",
            ServerFrame::CartChanged { .. } => "cart_changed",
            ServerFrame::UserMessage { .. } => "user_message",
            ServerFrame::Error { .. } => "error",
            ServerFrame::Ping { .. } => "ping",
            ServerFrame::Pong { .. } => "pong",
            ServerFrame::Unknown => "unknown",
        })
        .collect()
}
