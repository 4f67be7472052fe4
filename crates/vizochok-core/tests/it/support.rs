//! A scripted host for driving a `Session` in tests: it plays the socket and
//! the clock, and records what the core asked for.

use serde_json::{json, Value};
use vizochok_core::{Config, Event, Input, Output, Session, SocketId};

pub const KEY: &str = "pk_canary_8c1f";
pub const URL: &str = "ws://127.0.0.1:8787/v1/ws";

pub struct Script {
    pub session: Session,
    pub now: u64,
    pub socket: Option<SocketId>,
    pub sent: Vec<Value>,
    pub events: Vec<Event>,
    pub opens: Vec<u64>,
    pub closes: Vec<(u16, String)>,
}

pub fn config() -> Config {
    Config::new(KEY, "demo-store", URL, 42)
}

impl Script {
    pub fn new() -> Script {
        Script::with(config())
    }

    pub fn with(config: Config) -> Script {
        let session = Session::new(config).expect("valid config");
        Script { session, now: 0, socket: None, sent: vec![], events: vec![], opens: vec![], closes: vec![] }
    }

    /// Drains every output into the logs.
    pub fn drain(&mut self) {
        while let Some(out) = self.session.poll_output() {
            match out {
                Output::Event(e) | Output::FrameEvent(e) => self.events.push(e),
                Output::Send { text, .. } => self.sent.push(serde_json::from_str(&text).expect("client sends JSON")),
                Output::Open { socket, url } => {
                    assert_eq!(url, URL);
                    self.socket = Some(socket);
                    self.opens.push(self.now);
                }
                Output::Close { socket, code, reason } => {
                    assert_eq!(Some(socket), self.socket, "closes the current socket");
                    self.closes.push((code, reason));
                }
            }
        }
    }

    pub fn input(&mut self, input: Input<'_>) {
        self.session.handle_input(self.now, input);
        self.drain();
    }

    pub fn socket(&self) -> SocketId {
        self.socket.expect("a socket was opened")
    }

    pub fn open(&mut self) {
        let s = self.socket();
        self.input(Input::SocketOpened(s));
    }

    pub fn recv(&mut self, frame: Value) {
        let s = self.socket();
        let text = frame.to_string();
        self.input(Input::Text(s, &text));
    }

    pub fn recv_text(&mut self, text: &str) {
        let s = self.socket();
        self.input(Input::Text(s, text));
    }

    pub fn server_close(&mut self, code: Option<u16>) {
        let s = self.socket();
        self.input(Input::SocketEnded { socket: s, code, reason: "bye" });
    }

    pub fn auth_ok(&mut self, session_id: &str) {
        self.recv(json!({"type":"auth_ok","session_id":session_id,"restored":false,"replay":false}));
    }

    /// Seeded with `seed`, connected, and just closed by the server with
    /// 1012 (a restart): the first attempt of a storm series is planned.
    pub fn restarted(seed: u64) -> Script {
        let mut config = config();
        config.seed = seed;
        let mut h = Script::with(config);
        h.connect_as("s1");
        h.server_close(Some(1012));
        h
    }

    /// Connect → open → auth_ok, leaving the logs empty.
    pub fn connected() -> Script {
        let mut h = Script::new();
        h.connect_as("s1");
        h.clear();
        h
    }

    pub fn connect_as(&mut self, session_id: &str) {
        self.input(Input::Connect);
        self.open();
        self.auth_ok(session_id);
    }

    /// Advances virtual time, firing every deadline on the way, like a host timer.
    pub fn advance(&mut self, ms: u64) {
        let target = self.now + ms;
        while let Some(deadline) = self.session.poll_timeout() {
            assert!(deadline >= self.now, "deadline {deadline} is in the past (now {})", self.now);
            if deadline > target {
                break;
            }
            self.now = deadline;
            self.input(Input::Timeout);
            assert_ne!(self.session.poll_timeout(), Some(deadline), "a fired deadline must move");
        }
        self.now = target;
    }

    /// Drains pending outputs, then forgets every log.
    /// Waits exactly until the next deadline and fires it.
    pub fn fire_next(&mut self) {
        let deadline = self.session.poll_timeout().expect("a deadline");
        self.advance(deadline - self.now);
    }

    pub fn clear(&mut self) {
        self.drain();
        self.sent.clear();
        self.events.clear();
        self.closes.clear();
    }

    pub fn sent_types(&self) -> Vec<String> {
        self.sent.iter().map(|f| f["type"].as_str().unwrap_or("?").to_owned()).collect()
    }

    pub fn errors(&self) -> Vec<vizochok_core::WidgetError> {
        self.events.iter().filter_map(|e| if let Event::Error(w) = e { Some(w.clone()) } else { None }).collect()
    }

    pub fn error_codes(&self) -> Vec<&'static str> {
        self.errors().iter().map(|e| e.code.as_str()).collect()
    }

    pub fn count(&self, pred: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| pred(e)).count()
    }
}

pub fn product(sku: &str, step: f64) -> vizochok_core::ProductItem {
    vizochok_core::ProductItem {
        sku: sku.into(),
        name: format!("Product {sku}"),
        price: 10.0,
        unit: if step < 1.0 { "kg".into() } else { "pcs".into() },
        quantity_step: step,
        quantity: None,
        brand: None,
        image_url: None,
        promo_price: None,
    }
}

pub fn cart_item(sku: &str, qty: f64) -> Value {
    json!({"sku":sku,"name":format!("Product {sku}"),"price":10.0,"promo_price":null,"brand":null,"quantity":qty})
}
