//! One simulated run: a client core and a server engine joined by the
//! virtual network, on one virtual clock that jumps to the next deadline.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use vizochok_core::{Config, Event, Input, Output, ProductItem, Rng, Session, SocketId, State};
use vizochok_server::{
    Catalog, CatalogProduct, ConnId, Engine, KeywordAssistant, LogKind, SeededRandom, ServerConfig, ServerInput,
    ServerOutput, StoreConfig,
};

use crate::faults::{strikes, Faults};
use crate::net::{Delivery, Network};

pub(crate) const KEY: &str = "pk_sim_canary";
const STORE: &str = "sim-store";
/// Virtual time with faults on.
const CHAOS_MS: u64 = 10 * 60_000;
/// One seed in this many is a long session: an hour of chaos with a busy
/// shopper, so that its dedup set rolls over many times (thousands of
/// actions, dozens of connections).
const LONG_EVERY: u64 = 16;
const LONG_CHAOS_MS: u64 = 60 * 60_000;
/// Longest virtual time the healed network gets to settle.
const REST_MS: u64 = 30 * 60_000;
/// How often a chaos fault may strike.
const TICK_MS: u64 = 1_000;
const MESSAGES: [&str; 8] = ["milk", "bread", "add 1", "add 2", "clear", "show cheese", "hello", "молоко"];

/// The simulated world.
pub(crate) struct World {
    rng: Rng,
    faults: Faults,
    /// How long the chaos phase lasts, and the longest pause between two
    /// of the shopper's actions.
    chaos_ms: u64,
    pause_ms: u64,
    /// Whether the host may start a new conversation (a long session keeps one).
    resets: bool,
    config: ServerConfig,
    pub client: Session,
    pub server: Engine,
    net: Network,
    /// The client's socket that opened last.
    opened: Option<u64>,
    /// Connections whose server side has gone silent.
    silent: BTreeSet<u64>,
    /// Webhook answers in flight: (time, request) → accepted.
    webhooks: BTreeMap<(u64, u64), bool>,
    pub now: u64,
    next_user: u64,
    next_tick: u64,
    /// Product cards of the last reply, for "Add" clicks.
    cards: Vec<ProductItem>,
    /// Every accepted action id.
    pub accepted: Vec<String>,
    /// Ids that ended: acknowledged, or named by an onError.
    pub acked: HashMap<String, u32>,
    pub failed: HashMap<String, u32>,
    /// (session log prefix, action id) → times the engine applied it, from
    /// its `applied` log lines (its own dedup set is bounded and forgets).
    pub applied: HashMap<(String, String), u32>,
    pub violations: Vec<String>,
    trace: Option<Vec<String>>,
}

impl World {
    pub fn new(seed: u64, trace: bool) -> Result<World, String> {
        let mut rng = Rng::new(seed);
        let faults = Faults::draw(&mut rng);
        let mut store = StoreConfig::new(STORE, vec![KEY.into()], catalog());
        store.webhook = faults.webhooks;
        let mut config =
            ServerConfig { stores: vec![store], delta_interval_ms: 40, delta_chars: 6, ..ServerConfig::default() };
        config.limits.rate_limit_actions = 20;
        config.limits.rate_limit_window_ms = 10_000;
        let server = Engine::new(config.clone(), Box::new(KeywordAssistant), Box::new(SeededRandom::new(seed)));
        let client = Session::new(Config::new(KEY, STORE, "ws://127.0.0.1:8787/v1/ws", seed.wrapping_mul(31)))
            .map_err(|e| e.to_string())?;
        let next_user = rng.range(0, 2_000);
        let long = seed.is_multiple_of(LONG_EVERY);
        let mut world = World {
            rng,
            faults,
            chaos_ms: if long { LONG_CHAOS_MS } else { CHAOS_MS },
            pause_ms: if long { 1_000 } else { 4_000 },
            resets: !long,
            config,
            client,
            server,
            net: Network::default(),
            opened: None,
            silent: BTreeSet::new(),
            webhooks: BTreeMap::new(),
            now: 0,
            next_user,
            next_tick: TICK_MS,
            cards: Vec::new(),
            accepted: Vec::new(),
            acked: HashMap::new(),
            failed: HashMap::new(),
            applied: HashMap::new(),
            violations: Vec::new(),
            trace: trace.then(Vec::new),
        };
        let faults = format!("faults {:?}", world.faults);
        world.note(|| faults);
        world.client.handle_input(0, Input::Connect);
        world.pump();
        Ok(world)
    }

    pub fn into_trace(self) -> Vec<String> {
        self.trace.unwrap_or_default()
    }

    fn note(&mut self, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.push(format!("{:>9} {}", self.now, line()));
        }
    }

    fn violation(&mut self, what: String) {
        self.note(|| format!("VIOLATION {what}"));
        self.violations.push(what);
    }

    /// Runs the chaos phase, then heals the network and lets it settle.
    pub fn run(&mut self) {
        while self.now < self.chaos_ms && self.violations.is_empty() {
            self.step(true);
        }
        // New sockets are healthy from now on; a half-dead one stays dead
        // until the client's heartbeat notices.
        self.faults = self.faults.none();
        let rest_end = self.now + REST_MS;
        while self.now < rest_end && self.violations.is_empty() && !self.at_rest() {
            match self.client.state() {
                State::Stopped | State::Idle => {
                    self.client.handle_input(self.now, Input::Connect);
                    self.pump();
                }
                _ => {}
            }
            self.step(false);
        }
    }

    /// Connected on a live socket, nothing in flight, no action waiting, the server idle.
    pub fn at_rest(&self) -> bool {
        self.client.state() == State::Connected
            && !self.silent.contains(&self.last_socket())
            && self.net.is_empty()
            && self.webhooks.is_empty()
            && self.server.poll_timeout().is_none_or(|t| t > self.now)
            && self.client.pending_actions().is_empty()
    }

    fn step(&mut self, chaos: bool) {
        let mut next = [self.net.next_at(), self.client.poll_timeout(), self.server.poll_timeout()]
            .into_iter()
            .flatten()
            .chain(self.webhooks.keys().next().map(|k| k.0))
            .min()
            .unwrap_or(u64::MAX);
        if chaos {
            next = next.min(self.next_user).min(self.next_tick);
        } else {
            next = next.min(self.now + TICK_MS);
        }
        self.now = self.now.max(next);
        let now = self.now;

        while let Some(delivery) = self.net.pop_due(now) {
            self.deliver(delivery);
        }
        while let Some((&(at, request), &accepted)) = self.webhooks.iter().next() {
            if at > now {
                break;
            }
            self.webhooks.remove(&(at, request));
            self.note(|| format!("webhook {request} answered accepted={accepted}"));
            self.server.handle(now, ServerInput::WebhookResult { request, accepted, detail: None });
            self.pump();
        }
        if self.client.poll_timeout().is_some_and(|t| t <= now) {
            self.client.handle_input(now, Input::Timeout);
            self.pump();
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle(now, ServerInput::Timeout);
            self.pump();
        }
        if chaos && self.next_user <= now {
            self.user_action();
            self.next_user = now + self.rng.range(50, self.pause_ms);
        }
        if chaos && self.next_tick <= now {
            self.chaos_tick();
            self.next_tick = now + TICK_MS;
        }
        self.check_step();
    }

    // ----- carrying outputs ------------------------------------------------------

    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(out) = self.client.poll_output() {
                moved = true;
                self.client_output(out);
            }
            while let Some(out) = self.server.poll_output() {
                moved = true;
                self.server_output(out);
            }
            if !moved {
                return;
            }
        }
    }

    fn latency(&mut self) -> u64 {
        self.rng.range(1, 40)
    }

    fn client_output(&mut self, out: Output) {
        let now = self.now;
        match out {
            Output::Open { socket, .. } => {
                let ok = !strikes(&mut self.rng, self.faults.open_fail);
                if strikes(&mut self.rng, self.faults.black_hole) {
                    self.silent.insert(socket.0);
                }
                self.note(|| format!("client opens socket {} (ok={ok})", socket.0));
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::Opened { conn: socket.0, ok });
            }
            Output::Send { socket, text } => {
                let conn = socket.0;
                self.note(|| format!("C→S [{conn}] {}", clip(&text)));
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::ToServer { conn, text });
            }
            Output::Close { socket, code, reason } => {
                self.note(|| format!("client closes socket {} ({code} {reason})", socket.0));
                self.net.cut(socket.0);
                self.server.handle(now, ServerInput::Closed { conn: ConnId(socket.0) });
            }
            Output::Event(event) | Output::FrameEvent(event) => self.event(event),
        }
    }

    /// The socket frames flow on, when there is one.
    fn current_conn(&self) -> Option<u64> {
        match self.client.state() {
            State::Authenticating | State::Connected => Some(self.last_socket()),
            _ => None,
        }
    }

    fn last_socket(&self) -> u64 {
        self.opened.unwrap_or(0)
    }

    fn server_output(&mut self, out: ServerOutput) {
        let now = self.now;
        match out {
            ServerOutput::Send { conn, text } => {
                if self.silent.contains(&conn.0) {
                    return self.note(|| format!("S→C [{}] lost in silence: {}", conn.0, clip(&text)));
                }
                if strikes(&mut self.rng, self.faults.drop) {
                    self.note(|| format!("S→C [{}] DROPPED, socket dies: {}", conn.0, clip(&text)));
                    return self.cut(conn.0);
                }
                let mut latency = self.latency();
                if strikes(&mut self.rng, self.faults.delay) {
                    latency += self.rng.range(100, 3_000);
                }
                if strikes(&mut self.rng, self.faults.duplicate) {
                    let again = Delivery::ToClient { conn: conn.0, text: text.clone() };
                    let _ = self.net.send_in_order(now, latency + 5, again);
                }
                let copy = strikes(&mut self.rng, self.faults.reorder).then(|| text.clone());
                let at = self.net.send_in_order(now, latency, Delivery::ToClient { conn: conn.0, text });
                if let Some(text) = copy {
                    // A stale copy arrives after newer frames (what the seq rule is for).
                    let late = self.rng.range(100, 3_000);
                    self.net.schedule(at + late, Delivery::ToClient { conn: conn.0, text });
                }
            }
            ServerOutput::Close { conn, code, reason } => {
                let latency = self.latency();
                let _ = self.net.send_in_order(now, latency, Delivery::ClosedByServer { conn: conn.0, code, reason });
            }
            ServerOutput::Webhook { request, body, .. } => {
                if body.contains(KEY) {
                    self.violation(format!("webhook body carries the api key: {body}"));
                }
                let accepted = !strikes(&mut self.rng, self.faults.webhook_refusal);
                let at = now + self.rng.range(1, 300);
                self.webhooks.insert((at, request), accepted);
            }
            ServerOutput::Log(log) => {
                let line = format!("{log:?}");
                if line.contains(KEY) {
                    self.violation(format!("server log carries the api key: {line}"));
                }
                if log.kind == LogKind::Applied {
                    let id = log.detail.rsplit(' ').next().unwrap_or_default().to_owned();
                    let key = (log.session.unwrap_or_default(), id);
                    let count = self.applied.entry(key).or_default();
                    *count += 1;
                    let times = *count;
                    if times > 1 {
                        self.violation(format!("action applied {times} times: {line}"));
                    }
                }
            }
        }
    }

    fn deliver(&mut self, delivery: Delivery) {
        let now = self.now;
        match delivery {
            Delivery::Opened { conn, ok } => {
                let socket = SocketId(conn);
                if ok {
                    self.opened = Some(conn);
                    self.server.handle(now, ServerInput::Open { conn: ConnId(conn), origin: None });
                    self.client.handle_input(now, Input::SocketOpened(socket));
                } else {
                    self.client
                        .handle_input(now, Input::SocketEnded { socket, code: None, reason: "connection refused" });
                }
            }
            Delivery::ToServer { conn, text } => {
                self.server.handle(now, ServerInput::Text { conn: ConnId(conn), text: &text })
            }
            Delivery::ToClient { conn, text } => {
                self.note(|| format!("S→C [{conn}] {}", clip(&text)));
                self.client.handle_input(now, Input::Text(SocketId(conn), &text));
            }
            Delivery::ClosedByServer { conn, code, reason } => {
                self.note(|| format!("server closed [{conn}] {code} {reason}"));
                self.client.handle_input(
                    now,
                    Input::SocketEnded { socket: SocketId(conn), code: Some(code), reason: &reason },
                );
            }
        }
        self.pump();
    }

    /// The socket dies: both ends hear it, in-flight frames are lost.
    fn cut(&mut self, conn: u64) {
        self.net.cut(conn);
        self.server.handle(self.now, ServerInput::Closed { conn: ConnId(conn) });
        self.client.handle_input(self.now, Input::SocketEnded { socket: SocketId(conn), code: None, reason: "" });
    }

    // ----- what the shopper and the network do ---------------------------------

    fn user_action(&mut self) {
        let now = self.now;
        let roll = self.rng.range(0, 99);
        let result = match roll {
            0..=39 => {
                let text = MESSAGES[self.rng.range(0, MESSAGES.len() as u64 - 1) as usize];
                self.client.send_message(now, text)
            }
            40..=59 if !self.cards.is_empty() => {
                let card = self.cards[self.rng.range(0, self.cards.len() as u64 - 1) as usize].clone();
                let steps = self.rng.range(1, 3) as f64;
                self.client.select_product(now, &card, Some(card.quantity_step * steps))
            }
            60..=74 => match self.random_cart_line() {
                Some((sku, step)) => self.client.update_quantity(now, &sku, step * self.rng.range(1, 4) as f64),
                None => self.client.clear_cart(now),
            },
            75..=84 => match self.random_cart_line() {
                Some((sku, _)) => self.client.remove_item(now, &sku),
                None => self.client.remove_item(now, "milk-1"),
            },
            85..=89 => self.client.clear_cart(now),
            90..=94 => {
                self.client.handle_input(now, Input::NetworkOnline);
                self.pump();
                return;
            }
            95.. if roll == 95 || !self.resets => {
                self.note(|| "host closes, then connects".into());
                self.client.handle_input(now, Input::Disconnect);
                self.client.handle_input(now, Input::Connect);
                self.pump();
                return;
            }
            _ => {
                let before = self.client.session_id().map(str::to_owned);
                self.note(|| format!("host resets the conversation (was {before:?})"));
                let _ = self.client.reset(now);
                self.pump();
                return;
            }
        };
        match result {
            Ok(id) => {
                self.note(|| format!("user action accepted: {id}"));
                self.accepted.push(id);
            }
            Err(e) => self.note(|| format!("user action refused: {e}")),
        }
        self.pump();
    }

    fn random_cart_line(&mut self) -> Option<(String, f64)> {
        let items = &self.client.cart().items;
        if items.is_empty() {
            return None;
        }
        let item = &items[self.rng.range(0, items.len() as u64 - 1) as usize];
        let step = catalog().get(&item.sku).map_or(1.0, |p| p.quantity_step);
        Some((item.sku.clone(), step))
    }

    fn chaos_tick(&mut self) {
        let now = self.now;
        if let Some(conn) = self.current_conn() {
            if strikes(&mut self.rng, self.faults.cut) {
                self.note(|| format!("socket [{conn}] cut"));
                self.cut(conn);
                self.pump();
            } else if strikes(&mut self.rng, self.faults.go_silent) {
                self.note(|| format!("server goes silent on [{conn}]"));
                self.silent.insert(conn);
            }
        }
        if strikes(&mut self.rng, self.faults.restart) {
            match self.rng.range(0, 2) {
                0 => {
                    self.note(|| "server restarts, keeping replay buffers".into());
                    self.server.restart(now, true);
                }
                1 => {
                    self.note(|| "server restarts, losing replay buffers".into());
                    self.server.restart(now, false);
                }
                _ => {
                    self.note(|| "server restarts from a snapshot".into());
                    let snapshot = self.server.snapshot();
                    self.server.restart(now, false);
                    self.pump();
                    // A fresh engine draws fresh ids (seeded: the run must replay).
                    let random = Box::new(SeededRandom::new(now));
                    self.server = Engine::new(self.config.clone(), Box::new(KeywordAssistant), random);
                    if let Err(e) = self.server.restore(&snapshot) {
                        self.violation(format!("snapshot does not restore: {e:?}"));
                    }
                    if snapshot.contains(KEY) {
                        self.violation("snapshot carries the api key".into());
                    }
                }
            }
            self.pump();
        }
    }

    // ----- what the app hears -------------------------------------------------

    fn event(&mut self, event: Event) {
        self.note(|| format!("event {}", clip(&format!("{event:?}"))));
        if format!("{event:?}").contains(KEY) {
            self.violation(format!("event carries the api key: {event:?}"));
        }
        match event {
            Event::Acknowledged { id } => *self.acked.entry(id).or_default() += 1,
            Event::Error(e) => {
                if let Some(id) = e.reply_to {
                    *self.failed.entry(id).or_default() += 1;
                }
            }
            Event::Response(reply) if !reply.products.is_empty() => self.cards = reply.products,
            _ => {}
        }
    }

    fn check_step(&mut self) {
        let capacity = vizochok_core::Limits::default().queue_capacity;
        let pending = self.client.pending_actions().len();
        // One acknowledged message may wait for its reply beyond the capacity.
        if pending > capacity + 1 {
            self.violation(format!("queue holds {pending} actions, capacity {capacity}"));
        }
        let attempts = self.client.reconnect_attempts();
        if attempts > vizochok_core::Limits::default().max_reconnect_attempts {
            self.violation(format!("{attempts} reconnect attempts in a row"));
        }
        if let Some(deadline) = self.client.poll_timeout() {
            if deadline < self.now {
                self.violation(format!("client deadline {deadline} is in the past"));
            }
        }
    }
}

fn clip(text: &str) -> String {
    if text.chars().count() <= 160 {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(160).collect::<String>())
    }
}

fn catalog() -> Catalog {
    let product = |sku: &str, name: &str, unit: &str, step: f64, price: f64| CatalogProduct {
        sku: sku.into(),
        name: name.into(),
        name_en: None,
        brand: Some("Sim".into()),
        category: "grocery".into(),
        unit: unit.into(),
        quantity_step: step,
        price,
        promo_price: None,
        image_url: None,
        keywords: vec![],
    };
    Catalog::new(vec![
        product("milk-1", "milk 2.5%", "pcs", 1.0, 42.5),
        product("milk-2", "milk молоко 3.2%", "pcs", 1.0, 45.9),
        product("bread-1", "bread white", "pcs", 1.0, 28.0),
        product("cheese-1", "cheese gouda", "kg", 0.1, 389.0),
        product("cheese-2", "cheese brie", "kg", 0.5, 512.0),
    ])
}
