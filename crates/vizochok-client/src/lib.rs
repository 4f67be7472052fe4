//! The native Rust client of VIZOCHOK: the reference for how a runtime
//! drives the sans-IO core. All protocol rules live in
//! [`vizochok_core::Session`]; this crate only does I/O: it opens a socket
//! when the core says [`Output::Open`], sends on [`Output::Send`], closes on
//! [`Output::Close`], arms one timer for [`Session::poll_timeout`], and hands
//! every socket event to the core with a monotonic `now`.
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
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc, Notify};
use tokio::time::{sleep_until, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use vizochok_core::{
    ActionError, Cart, CartChangedEvent, Config, ConfigError, Event, Input, Output, PendingAction, ProductItem,
    Session, SessionSummary, SocketId, State, WidgetError,
};

/// Events a slow [`Client::events`] receiver may fall behind by before it
/// sees `Lagged`.
const EVENT_BUFFER: usize = 4_096;
/// Read chunk of the socket: frames are small, and tungstenite's 128 KiB
/// default is wasteful for a client.
const READ_BUFFER: usize = 16 * 1024;

/// The six callbacks of the store developer's contract, plus every UI
/// event. All methods default to doing nothing. They run on the client's
/// task, so keep them short.
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
    /// Every event, the six above included (typing, deltas, replies, state...).
    fn on_event(&self, _event: &Event) {}
}

/// Callbacks that do nothing, for hosts that only read [`Client::events`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCallbacks;

impl Callbacks for NoCallbacks {}

/// A config with every default, seeded from the OS random source (the core
/// never reads one itself).
pub fn config(api_key: &str, store_id: &str, url: &str) -> Config {
    Config::new(api_key, store_id, url, random_seed())
}

/// 64 random bits: `RandomState` is keyed from the OS random source.
pub fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(0);
    hasher.finish()
}

/// What the client's task and the handle share.
struct Shared {
    session: Mutex<Session>,
    /// Wakes the task after a user action put outputs in the session.
    wake: Notify,
    start: Instant,
    events: broadcast::Sender<Event>,
}

impl Shared {
    fn now(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        // A panic in a callback must not make the client unusable.
        self.session.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the session with the current time, then wakes the task.
    fn act<T>(&self, f: impl FnOnce(&mut Session, u64) -> T) -> T {
        let result = f(&mut self.session(), self.now());
        self.wake.notify_one();
        result
    }
}

/// A running VIZOCHOK client. Dropping it destroys the session.
pub struct Client {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("state", &self.state()).finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the config and starts the client's task (in the current tokio
    /// runtime). Nothing connects until [`Client::connect`].
    pub fn new(config: Config, callbacks: impl Callbacks) -> Result<Client, ConfigError> {
        let session = Session::new(config)?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let shared =
            Arc::new(Shared { session: Mutex::new(session), wake: Notify::new(), start: Instant::now(), events });
        tokio::spawn(Driver { shared: shared.clone(), callbacks: Box::new(callbacks), socket: None }.run());
        Ok(Client { shared })
    }

    /// A stream of every event from now on. Subscribe before
    /// [`Client::connect`] to see everything.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.shared.events.subscribe()
    }

    /// Connects (mount), or reconnects after the client stopped.
    pub fn connect(&self) {
        self.shared.act(|s, now| s.handle_input(now, Input::Connect));
    }

    /// The network is back: skip any backoff wait.
    pub fn network_online(&self) {
        self.shared.act(|s, now| s.handle_input(now, Input::NetworkOnline));
    }

    /// Closes the connection but keeps the session (unmount).
    pub fn close(&self) {
        self.shared.act(|s, now| s.handle_input(now, Input::Close));
    }

    /// Sends a chat message; returns its action id.
    pub fn send_message(&self, text: &str) -> Result<String, ActionError> {
        self.shared.act(|s, now| s.send_message(now, text))
    }

    /// "Add" on a product card (one `quantity_step` unless told otherwise).
    pub fn select_product(&self, product: &ProductItem, quantity: Option<f64>) -> Result<String, ActionError> {
        self.shared.act(|s, now| s.select_product(now, product, quantity))
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&self, sku: &str, quantity: f64) -> Result<String, ActionError> {
        self.shared.act(|s, now| s.update_quantity(now, sku, quantity))
    }

    /// Removes a cart line.
    pub fn remove_item(&self, sku: &str) -> Result<String, ActionError> {
        self.shared.act(|s, now| s.remove_item(now, sku))
    }

    /// Empties the cart.
    pub fn clear_cart(&self) -> Result<String, ActionError> {
        self.shared.act(|s, now| s.clear_cart(now))
    }

    /// Starts a new conversation.
    pub fn reset(&self) -> Result<(), ActionError> {
        self.shared.act(|s, now| s.reset(now))
    }

    /// The connection state.
    pub fn state(&self) -> State {
        self.shared.session().state()
    }

    /// The cart as the server last confirmed it.
    pub fn cart(&self) -> Cart {
        self.shared.session().cart().clone()
    }

    /// Actions that have not ended (queued, unacknowledged, or awaiting a reply).
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.shared.session().pending_actions()
    }

    /// The current session id, once the server gave one.
    pub fn session_id(&self) -> Option<String> {
        self.shared.session().session_id().map(str::to_owned)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        self.shared.act(|s, now| s.handle_input(now, Input::Destroy));
    }
}

/// What a socket task reports to the driver.
enum SocketEvent {
    Opened(SocketId, mpsc::UnboundedSender<Message>),
    Text(SocketId, String),
    Binary(SocketId, usize),
    Closed(SocketId, Option<u16>, String),
    Error(SocketId, String),
}

/// The client's task: the run loop of the core's docs.
struct Driver {
    shared: Arc<Shared>,
    callbacks: Box<dyn Callbacks>,
    /// The socket the core wants, and its writer once open.
    socket: Option<(SocketId, Option<mpsc::UnboundedSender<Message>>)>,
}

impl Driver {
    async fn run(mut self) {
        let (reports, mut inbox) = mpsc::unbounded_channel();
        loop {
            let outputs: Vec<Output> = {
                let mut session = self.shared.session();
                std::iter::from_fn(|| session.poll_output()).collect()
            };
            // Callbacks run without the lock, so they may call the client.
            for output in outputs {
                self.carry_out(output, &reports);
            }
            let (state, deadline) = {
                let session = self.shared.session();
                (session.state(), session.poll_timeout())
            };
            if state == State::Destroyed {
                return;
            }
            let deadline = deadline.map(|ms| self.shared.start + Duration::from_millis(ms));
            tokio::select! {
                () = self.shared.wake.notified() => {}
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    let now = self.shared.now();
                    self.shared.session().handle_input(now, Input::Timeout);
                }
                Some(report) = inbox.recv() => self.report(report),
            }
        }
    }

    fn report(&mut self, report: SocketEvent) {
        let now = self.shared.now();
        let mut session = self.shared.session();
        match report {
            SocketEvent::Opened(id, writer) => match &mut self.socket {
                Some((current, slot)) if *current == id => {
                    *slot = Some(writer);
                    session.handle_input(now, Input::SocketOpened(id));
                }
                // A socket the core gave up on: dropping the writer closes it.
                _ => {}
            },
            SocketEvent::Text(id, text) => session.handle_input(now, Input::Text(id, &text)),
            SocketEvent::Binary(id, len) => session.handle_input(now, Input::Binary(id, len)),
            SocketEvent::Closed(socket, code, reason) => {
                session.handle_input(now, Input::SocketClosed { socket, code, reason: &reason })
            }
            SocketEvent::Error(socket, detail) => {
                session.handle_input(now, Input::SocketError { socket, detail: &detail })
            }
        }
    }

    fn carry_out(&mut self, output: Output, reports: &mpsc::UnboundedSender<SocketEvent>) {
        match output {
            Output::Open { socket, url } => {
                self.socket = Some((socket, None));
                tokio::spawn(run_socket(socket, url, reports.clone()));
            }
            Output::Send(text) => {
                if let Some((_, Some(writer))) = &self.socket {
                    let _ = writer.send(Message::Text(text.into()));
                }
            }
            Output::Close { socket, code, reason } => {
                if let Some((current, writer)) = self.socket.take() {
                    if current == socket {
                        if let Some(writer) = writer {
                            let close = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                            let _ = writer.send(Message::Close(Some(close)));
                        }
                    } else {
                        self.socket = Some((current, writer));
                    }
                }
            }
            Output::Event(event) => self.dispatch(event),
        }
    }

    fn dispatch(&self, event: Event) {
        let callbacks = &self.callbacks;
        match &event {
            Event::Connect => callbacks.on_connect(),
            Event::Disconnect => callbacks.on_disconnect(),
            Event::CartChanged(cart) => callbacks.on_cart_changed(cart),
            Event::ProductClick(product) => callbacks.on_product_click(product),
            Event::SessionComplete(summary) => callbacks.on_session_complete(summary),
            Event::Error(error) => callbacks.on_error(error),
            _ => {}
        }
        callbacks.on_event(&event);
        let _ = self.shared.events.send(event);
    }
}

/// One WebSocket: connects, then forwards inbound frames to the driver and
/// the driver's frames to the socket, until either side ends.
async fn run_socket(id: SocketId, url: String, reports: mpsc::UnboundedSender<SocketEvent>) {
    let config = WebSocketConfig::default().read_buffer_size(READ_BUFFER);
    let (stream, _) = match tokio_tungstenite::connect_async_with_config(url.as_str(), Some(config), false).await {
        Ok(connected) => connected,
        Err(error) => {
            let _ = reports.send(SocketEvent::Error(id, error.to_string()));
            return;
        }
    };
    let (mut sink, mut stream) = stream.split();
    let (writer, mut outbound) = mpsc::unbounded_channel();
    if reports.send(SocketEvent::Opened(id, writer)).is_err() {
        return;
    }
    loop {
        tokio::select! {
            message = outbound.recv() => match message {
                Some(message) => {
                    let closing = matches!(message, Message::Close(_));
                    if sink.send(message).await.is_err() || closing {
                        return;
                    }
                }
                // The driver dropped this socket.
                None => return,
            },
            message = stream.next() => {
                let report = match message {
                    Some(Ok(Message::Text(text))) => SocketEvent::Text(id, text.as_str().to_owned()),
                    Some(Ok(Message::Binary(bytes))) => SocketEvent::Binary(id, bytes.len()),
                    Some(Ok(Message::Close(frame))) => {
                        let (code, reason) = frame.map_or((None, String::new()), |f| (Some(u16::from(f.code)), f.reason.to_string()));
                        let _ = reports.send(SocketEvent::Closed(id, code, reason));
                        return;
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(error)) => {
                        let _ = reports.send(SocketEvent::Error(id, error.to_string()));
                        return;
                    }
                    None => {
                        let _ = reports.send(SocketEvent::Closed(id, None, String::new()));
                        return;
                    }
                };
                if reports.send(report).is_err() {
                    return;
                }
            }
        }
    }
}
