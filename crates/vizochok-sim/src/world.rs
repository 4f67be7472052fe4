//! One simulated run: the clients of one shopper (tabs of a browser and,
//! when signed in, other devices) and the server engine, joined by the
//! virtual network on one virtual clock that jumps to the next deadline.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use vizochok_core::{Config, Input, Rng, Secret, Session, SocketId, State};
use vizochok_server::{
    user_token, Catalog, CatalogProduct, Engine, KeywordAssistant, SeededRandom, ServerConfig, StoreConfig,
};

use crate::client::{Client, Kind};
use crate::faults::{LinkFaults, ServerFaults};
use crate::net::Network;
use crate::watch::Watch;

pub(crate) const KEY: &str = "pk_sim_canary";
/// The store's identity secret and the signed-in shopper's token: canaries too.
pub(crate) const IDENTITY_SECRET: &str = "idsec_sim_canary";
const STORE: &str = "sim-store";
const USER_ID: &str = "shopper-1042";
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
pub(crate) const TICK_MS: u64 = 1_000;
/// One seed in this many also opens a crowd of tabs for a short while, so
/// that the session has more clients than it holds connections (§9).
const CROWD_ONE_IN: u64 = 25;

/// A client still to open.
struct Arrival {
    at: u64,
    kind: Kind,
    leave_at: Option<u64>,
    in_crowd: bool,
    faults: LinkFaults,
    seed: u64,
}

/// The simulated world.
pub(crate) struct World {
    pub rng: Rng,
    pub server_faults: ServerFaults,
    /// The network has healed: new links get no faults.
    pub healed: bool,
    /// How long the chaos phase lasts, and the longest pause between two
    /// of the shopper's actions.
    chaos_ms: u64,
    pub pause_ms: u64,
    /// Whether the host may start a new conversation (a long session keeps one).
    pub resets: bool,
    pub config: ServerConfig,
    /// The store's catalog, for the steps of the shopper's quantities.
    pub catalog: Catalog,
    pub server: Engine,
    pub net: Network,
    /// Every client opened so far, in the order they opened.
    pub clients: Vec<Client>,
    /// Clients still to open, the latest first.
    arrivals: Vec<Arrival>,
    /// The signed-in shopper's `user_id` and `user_token`.
    identity: Option<(String, String)>,
    /// The browser's shared storage: the session id a tab saved last.
    storage: Option<String>,
    /// Every connection ever opened: its client and that client's socket.
    pub conns: HashMap<u64, (usize, SocketId)>,
    /// Connections whose server side has gone silent.
    pub silent: BTreeSet<u64>,
    /// Connections whose network vanished (their client has moved on).
    pub vanished: BTreeSet<u64>,
    /// Webhook answers in flight: (time, request) → accepted.
    pub webhooks: BTreeMap<(u64, u64), bool>,
    pub now: u64,
    pub next_user: u64,
    pub next_tick: u64,
    /// What the sim sees of the engine's sessions and connections.
    pub watch: Watch,
    /// (session log prefix, action id) → times the engine applied it, from
    /// its `applied` log lines (its own dedup set is bounded and forgets).
    pub applied: HashMap<(String, String), u32>,
    pub violations: Vec<String>,
    /// A buffer for the `Debug` texts scanned for secrets.
    pub scratch: String,
    trace: Option<Vec<String>>,
}

impl World {
    pub fn new(seed: u64, trace: bool) -> World {
        let mut rng = Rng::new(seed);
        let server_faults = ServerFaults::draw(&mut rng);
        let long = seed.is_multiple_of(LONG_EVERY);
        let chaos_ms = if long { LONG_CHAOS_MS } else { CHAOS_MS };
        let signed_in = rng.range(0, 2) == 0;
        let mut store = StoreConfig::new(STORE, vec![KEY.into()], catalog());
        store.webhook = server_faults.webhooks;
        if signed_in {
            store.identity_secret = Some(Secret::new(IDENTITY_SECRET));
            store.require_identity = rng.range(0, 1) == 1;
        }
        let mut config =
            ServerConfig { stores: vec![store], delta_interval_ms: 40, delta_chars: 6, ..ServerConfig::default() };
        config.limits.rate_limit_actions = 20;
        config.limits.rate_limit_window_ms = 10_000;
        let server = Engine::new(config.clone(), Box::new(KeywordAssistant), Box::new(SeededRandom::new(seed)));
        let arrivals = draw_arrivals(&mut rng, signed_in, chaos_ms, long);
        let next_user = rng.range(0, 2_000);
        let identity = signed_in.then(|| (USER_ID.to_owned(), user_token(IDENTITY_SECRET, USER_ID)));
        let mut world = World {
            rng,
            server_faults,
            healed: false,
            chaos_ms,
            pause_ms: if long { 1_000 } else { 4_000 },
            resets: !long,
            config,
            catalog: catalog(),
            server,
            net: Network::default(),
            clients: Vec::new(),
            arrivals,
            identity,
            storage: None,
            conns: HashMap::new(),
            silent: BTreeSet::new(),
            vanished: BTreeSet::new(),
            webhooks: BTreeMap::new(),
            now: 0,
            next_user,
            next_tick: TICK_MS,
            watch: Watch::default(),
            applied: HashMap::new(),
            violations: Vec::new(),
            scratch: String::new(),
            trace: trace.then(Vec::new),
        };
        let faults = format!("server faults {:?}, signed in: {signed_in}", world.server_faults);
        world.note(None, || faults);
        world.open_arrivals();
        world
    }

    /// The signed-in shopper's `user_token`, a secret like the api key.
    pub fn identity_token(&self) -> Option<&str> {
        self.identity.as_ref().map(|(_, token)| token.as_str())
    }

    pub fn into_trace(self) -> Vec<String> {
        self.trace.unwrap_or_default()
    }

    /// Adds a line to the trace, naming the client it is about (`--` for the world).
    pub fn note(&mut self, client: Option<usize>, line: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            let who = client.map_or_else(|| "--".to_owned(), |c| format!("c{c}"));
            trace.push(format!("{:>9} {who:>3} {}", self.now, line()));
        }
    }

    pub fn violation(&mut self, client: Option<usize>, what: String) {
        let what = match client {
            Some(c) => format!("client c{c}: {what}"),
            None => what,
        };
        self.note(None, || format!("VIOLATION {what}"));
        self.violations.push(what);
    }

    /// Runs the chaos phase, then heals the network and lets it settle.
    pub fn run(&mut self) {
        while self.now < self.chaos_ms && self.violations.is_empty() {
            self.step(true);
        }
        // New sockets are healthy from now on; a half-dead one stays dead
        // until its client's heartbeat notices.
        self.healed = true;
        self.server_faults = self.server_faults.none();
        for client in &mut self.clients {
            client.faults = LinkFaults::none();
        }
        let rest_end = self.now + REST_MS;
        while self.now < rest_end && self.violations.is_empty() && !self.at_rest() {
            for i in 0..self.clients.len() {
                let client = &mut self.clients[i];
                if client.active() && matches!(client.session.state(), State::Stopped | State::Idle) {
                    client.session.handle_input(self.now, Input::Connect);
                    self.pump();
                }
            }
            self.step(false);
        }
    }

    /// Every client that takes part connected on a live socket with nothing
    /// waiting, nothing in flight, the server idle.
    pub fn at_rest(&self) -> bool {
        self.arrivals.is_empty()
            && self.net.is_empty()
            && self.webhooks.is_empty()
            && self.server.poll_timeout().is_none_or(|t| t > self.now)
            && self.clients.iter().filter(|c| c.active()).all(|c| {
                c.session.state() == State::Connected
                    && !c.opened.is_some_and(|conn| self.silent.contains(&conn))
                    && c.session.pending_actions().is_empty()
            })
    }

    fn step(&mut self, chaos: bool) {
        let clients = self.clients.iter().filter(|c| !c.destroyed);
        let client_deadlines = clients.flat_map(|c| [c.session.poll_timeout(), c.leave_at]);
        let mut next = [self.net.next_at(), self.server.poll_timeout(), self.arrivals.last().map(|a| a.at)]
            .into_iter()
            .chain(client_deadlines)
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

        self.open_arrivals();
        while let Some(delivery) = self.net.pop_due(now) {
            self.deliver(delivery);
        }
        self.answer_webhooks();
        for i in 0..self.clients.len() {
            let client = &mut self.clients[i];
            if client.destroyed {
                continue;
            }
            if client.leave_at.is_some_and(|t| t <= now) {
                self.leave(i);
                continue;
            }
            if client.session.poll_timeout().is_some_and(|t| t <= now) {
                client.session.handle_input(now, Input::Timeout);
                self.pump();
            }
        }
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle(now, vizochok_server::ServerInput::Timeout);
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

    /// Opens the clients whose time has come. A tab starts with the session
    /// id the browser's storage holds; a device with none.
    fn open_arrivals(&mut self) {
        while self.arrivals.last().is_some_and(|a| a.at <= self.now) {
            let Some(arrival) = self.arrivals.pop() else { return };
            let name = self.clients.len();
            let mut config = Config::new(KEY, STORE, "ws://127.0.0.1:8787/v1/ws", arrival.seed);
            if let Some((user_id, token)) = &self.identity {
                config.user_id = Some(user_id.clone());
                config.user_token = Some(Secret::new(token));
            }
            if arrival.kind == Kind::Tab {
                config.session_id = self.storage.clone().map(Secret::new);
            }
            let session = match Session::new(config) {
                Ok(session) => session,
                Err(e) => return self.violation(Some(name), format!("cannot start: {e}")),
            };
            let faults = if self.healed { LinkFaults::none() } else { arrival.faults };
            let (kind, storage) = (arrival.kind, self.storage.clone());
            self.note(Some(name), || format!("opens as a {kind:?} with session {storage:?}; link faults {faults:?}"));
            let mut client = Client::new(name, kind, session, faults);
            client.leave_at = arrival.leave_at;
            client.in_crowd = arrival.in_crowd;
            client.saved.clone_from(&client.session.session_id().map(str::to_owned));
            self.clients.push(client);
            self.clients[name].session.handle_input(self.now, Input::Connect);
            self.pump();
        }
    }

    /// The host destroys a client (a tab closed): what it still holds is
    /// the guarantee's "still queued at destroy".
    pub fn leave(&mut self, i: usize) {
        self.note(Some(i), || "host destroys the client".into());
        let client = &mut self.clients[i];
        client.session.handle_input(self.now, Input::Destroy);
        client.queued_at_destroy = client.session.pending_actions().into_iter().map(|a| a.id).collect();
        client.destroyed = true;
        self.pump();
    }

    /// A tab saves its session id whenever it changes, in the storage every
    /// tab of the browser shares (a device keeps its own).
    pub fn save_session_ids(&mut self) {
        for client in &mut self.clients {
            let current = client.session.session_id();
            if client.saved.as_deref() != current {
                client.saved = current.map(str::to_owned);
                if client.kind == Kind::Tab {
                    self.storage.clone_from(&client.saved);
                }
            }
        }
    }

    fn check_step(&mut self) {
        let limits = vizochok_core::Limits::default();
        for i in 0..self.clients.len() {
            let client = &self.clients[i];
            if client.destroyed {
                continue;
            }
            let pending = client.session.pending_actions().len();
            let attempts = client.session.reconnect_attempts();
            let deadline = client.session.poll_timeout();
            // One acknowledged message may wait for its reply beyond the capacity.
            if pending > limits.queue_capacity + 1 {
                self.violation(Some(i), format!("queue holds {pending} actions, capacity {}", limits.queue_capacity));
            }
            if attempts > limits.max_reconnect_attempts {
                self.violation(Some(i), format!("{attempts} reconnect attempts in a row"));
            }
            if let Some(deadline) = deadline.filter(|&d| d < self.now) {
                self.violation(Some(i), format!("client deadline {deadline} is in the past"));
            }
        }
    }
}

/// The seed's clients: 1–4 (mostly 2–3) of one shopper, the first at once,
/// the others later; signed in, some are other devices. A long session has
/// two (its hour of busy actions is the run's dearest part). One seed in
/// [`CROWD_ONE_IN`] (never a long one) adds a crowd of tabs, enough for a
/// ninth connection; all but two of them close again after a while.
fn draw_arrivals(rng: &mut Rng, signed_in: bool, chaos_ms: u64, long: bool) -> Vec<Arrival> {
    let count = match rng.range(0, 9) {
        _ if long => 2,
        0 => 1,
        1..=4 => 2,
        5..=8 => 3,
        _ => 4,
    };
    let mut arrivals = Vec::new();
    for i in 0..count {
        let kind = if i > 0 && signed_in && rng.range(0, 1) == 0 { Kind::Device } else { Kind::Tab };
        let at = if i == 0 { 0 } else { rng.range(500, chaos_ms / 2) };
        arrivals.push(Arrival {
            at,
            kind,
            leave_at: None,
            in_crowd: false,
            faults: LinkFaults::draw(rng),
            seed: rng.next_u64(),
        });
    }
    if !long && rng.range(1, CROWD_ONE_IN) == 1 {
        let start = rng.range(60_000, chaos_ms / 2);
        let crowd = 9 - count + rng.range(0, 2);
        for k in 0..crowd {
            let at = start + rng.range(0, 3_000);
            // The last two stay, so that clients still share the session at
            // rest after the oldest were pushed out.
            let leave_at = (k + 2 < crowd).then(|| at + rng.range(5_000, 60_000));
            arrivals.push(Arrival {
                at,
                kind: Kind::Tab,
                leave_at,
                in_crowd: true,
                faults: LinkFaults::draw(rng),
                seed: rng.next_u64(),
            });
        }
    }
    arrivals.sort_by_key(|a| std::cmp::Reverse(a.at));
    arrivals
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
