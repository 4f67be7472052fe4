//! The native Rust client of VIZOCHOK.
//!
//! Every protocol rule lives in [`vizochok_core`], and the run loop in its
//! [`Driver`]: this crate is a host. It gives the
//! driver a [`Transport`] (by default [`TokioTransport`]: WebSockets over
//! tokio, `wss://` with rustls) and the app's [`Callbacks`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use vizochok_client::{Callbacks, Client};
//! use vizochok_core::CartChangedEvent;
//!
//! struct App;
//! impl Callbacks for App {
//!     fn on_cart_changed(&self, cart: &CartChangedEvent) {
//!         println!("{} items, total {}", cart.items.len(), cart.total);
//!     }
//! }
//!
//! let config = vizochok_client::config("pk_demo", "demo-store", "ws://127.0.0.1:8787/v1/ws");
//! let client = Client::new(config, App)?;
//! let mut events = client.events();
//! client.connect();
//! client.send_message("молоко")?;
//! while let Ok(event) = events.recv().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```
//!
//! Callbacks run synchronously: an action's callbacks (`on_product_click`
//! for [`Client::select_product`], say) have run when the call returns; a
//! socket's run on the socket's task. Keep them short.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod host;
mod tokio_transport;
mod transport;

use std::sync::{Arc, Weak};

use tokio::sync::broadcast;
use vizochok_core::{
    ActionError, Cart, CartChangedEvent, Config, ConfigError, Driver, Event, Input, Language, PageContext,
    PendingAction, ProductItem, Rating, SdkInfo, Secret, Session, SessionSummary, State, WidgetError,
};

use host::ClientHost;
pub use tokio_transport::TokioTransport;
pub use transport::{Reports, Transport};

/// Events a slow [`Client::events`] receiver may fall behind by before it
/// sees `Lagged`.
const EVENT_BUFFER: usize = 4_096;
/// The SDK name sent in `auth`.
const SDK_NAME: &str = "vizochok-rust";

/// The six callbacks of the store developer's contract, plus every event.
/// All methods default to doing nothing. A panic in one is reported
/// through the `log` crate and the client carries on.
pub trait Callbacks: Send + Sync + 'static {
    /// `onCartChanged`: `cart.items` is always the whole cart.
    fn on_cart_changed(&self, _cart: &CartChangedEvent) {}
    /// `onProductClick`: the shopper pressed "Add" on a card.
    fn on_product_click(&self, _product: &ProductItem) {}
    /// `onSessionComplete`: a reply with a summary, or a restored session.
    fn on_session_complete(&self, _summary: &SessionSummary) {}
    /// `onError`, with the message in the configured language.
    fn on_error(&self, _error: &WidgetError) {}
    /// `onConnect`: authenticated and ready.
    fn on_connect(&self) {}
    /// `onDisconnect`.
    fn on_disconnect(&self) {}
    /// Every event, the six above included (state changes, typing, deltas,
    /// replies, other tabs' messages, history, acknowledgements).
    fn on_event(&self, _event: &Event) {}
}

/// Callbacks that do nothing, for apps that only read [`Client::events`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCallbacks;

impl Callbacks for NoCallbacks {}

/// Where the conversation's session id is kept between runs of the app:
/// the only thing that needs keeping to resume a conversation.
pub trait SessionStore: Send + Sync + 'static {
    /// The id saved by an earlier run, if any.
    fn load(&self) -> Option<String>;
    /// Saves the id (`None`: forget it, after a reset).
    fn save(&self, session_id: Option<&str>);
}

/// A config with every default, seeded from the OS random source (the core
/// never reads one itself) and naming this SDK in `auth`.
pub fn config(api_key: &str, store_id: &str, url: &str) -> Config {
    let mut config = Config::new(api_key, store_id, url, random_seed());
    config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
    config
}

/// 64 bits from the OS random source. Should it fail (it does not on any
/// supported system), std's `RandomState`, itself keyed from that source
/// once per thread, stands in: a client is still made.
pub fn random_seed() -> u64 {
    let mut bytes = [0; 8];
    if getrandom::fill(&mut bytes).is_ok() {
        return u64::from_le_bytes(bytes);
    }
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish()
}

/// What the client's handle, its sockets and its timer share.
struct Shared {
    driver: Driver<ClientHost>,
}

/// A VIZOCHOK client. [`Client::close`] (or dropping it) releases it: its
/// socket closes and nothing is called back afterwards.
pub struct Client {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("state", &self.state()).finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the config and creates an idle client on the current tokio
    /// runtime: its sockets and timer run there, so the client may then be
    /// called from any thread. Nothing connects until [`Client::connect`].
    /// Made outside a runtime, it reports `ws_error` when it connects; give
    /// [`Client::with_transport`] a [`TokioTransport::on`] a runtime's handle.
    pub fn new(config: Config, callbacks: impl Callbacks) -> Result<Client, ConfigError> {
        Client::with_transport(config, callbacks, None, TokioTransport::new())
    }

    /// As [`Client::new`], resuming the conversation whose id `store` kept
    /// and saving the id whenever it changes.
    pub fn with_store(
        config: Config,
        callbacks: impl Callbacks,
        store: impl SessionStore,
    ) -> Result<Client, ConfigError> {
        Client::with_transport(config, callbacks, Some(Box::new(store)), TokioTransport::new())
    }

    /// As [`Client::with_store`], over another transport (a test's scripted
    /// one, or another socket library).
    pub fn with_transport(
        mut config: Config,
        callbacks: impl Callbacks,
        store: Option<Box<dyn SessionStore>>,
        transport: impl Transport,
    ) -> Result<Client, ConfigError> {
        if config.session_id.is_none() {
            config.session_id = store.as_ref().and_then(|s| s.load()).map(Secret::new);
        }
        let session = Session::new(config)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared = Arc::new_cyclic(|me: &Weak<Shared>| {
            let (callbacks, store) = (Arc::new(callbacks), store.map(Arc::from));
            let host = ClientHost::new(callbacks, events, store, Box::new(transport), Reports::new(me.clone()));
            Shared { driver: Driver::with_session(session, host) }
        });
        Ok(Client { shared })
    }

    /// A stream of every event from now until [`Client::close`], when it
    /// ends (`Closed`). Subscribe before [`Client::connect`] to see everything.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.driver.host().subscribe()
    }

    fn now(&self) -> u64 {
        self.shared.driver.host().now()
    }

    /// Connects, or reconnects after the client stopped.
    pub fn connect(&self) {
        self.shared.driver.handle(self.now(), Input::Connect);
    }

    /// The network is back: skip any backoff wait.
    pub fn network_online(&self) {
        self.shared.driver.handle(self.now(), Input::NetworkOnline);
    }

    /// Closes the connection but keeps the conversation; [`Client::connect`] resumes it.
    pub fn disconnect(&self) {
        self.shared.driver.handle(self.now(), Input::Disconnect);
    }

    /// Releases the client: the socket closes, the timer stops, and nothing
    /// is called back once this returns; the client lets go of the callbacks
    /// and the session store, and the event streams end. Idempotent; reads
    /// keep the last state (pending actions included), actions fail with
    /// `Destroyed`.
    pub fn close(&self) {
        self.shared.driver.handle(self.now(), Input::Destroy);
    }

    /// Sends a chat message; returns its action id. A refused message
    /// (`queue_full`, `message_too_large`) is also reported to `on_error`.
    pub fn send_message(&self, text: &str) -> Result<String, ActionError> {
        self.shared.driver.send_message(self.now(), text)
    }

    /// "Add" on a product card (one `quantity_step` unless told otherwise).
    pub fn select_product(&self, product: &ProductItem, quantity: Option<f64>) -> Result<String, ActionError> {
        self.shared.driver.select_product(self.now(), product, quantity)
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&self, sku: &str, quantity: f64) -> Result<String, ActionError> {
        self.shared.driver.update_quantity(self.now(), sku, quantity)
    }

    /// Removes a cart line.
    pub fn remove_item(&self, sku: &str) -> Result<String, ActionError> {
        self.shared.driver.remove_item(self.now(), sku)
    }

    /// Empties the cart.
    pub fn clear_cart(&self) -> Result<String, ActionError> {
        self.shared.driver.clear_cart(self.now())
    }

    /// Tells the assistant what the shopper is looking at ("add this" then
    /// means `context.sku`).
    pub fn set_context(&self, context: PageContext) -> Result<String, ActionError> {
        self.shared.driver.set_context(self.now(), context)
    }

    /// Stops the reply that is streaming; `Ok(None)` when nothing streams.
    pub fn stop(&self) -> Result<Option<String>, ActionError> {
        self.shared.driver.stop_reply(self.now())
    }

    /// Rates a reply (`message_id` of its response).
    pub fn feedback(&self, message_id: &str, rating: Rating, comment: Option<&str>) -> Result<String, ActionError> {
        self.shared.driver.feedback(self.now(), message_id, rating, comment)
    }

    /// Starts a new conversation.
    pub fn reset(&self) -> Result<(), ActionError> {
        self.shared.driver.reset(self.now())
    }

    /// Changes the language of error texts from now on.
    pub fn set_language(&self, language: Language) {
        self.shared.driver.set_language(language);
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.shared.driver.state()
    }

    /// The cart as the server last confirmed it.
    pub fn cart(&self) -> Cart {
        self.shared.driver.cart()
    }

    /// Actions that have not ended (queued, unacknowledged, or awaiting a reply).
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.shared.driver.pending_actions()
    }

    /// The conversation's session id, once the server gave one.
    pub fn session_id(&self) -> Option<String> {
        self.shared.driver.session_id()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.close();
    }
}
