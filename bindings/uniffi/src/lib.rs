//! uniffi bindings of the VIZOCHOK client core for the Kotlin and Swift SDKs.
//!
//! [`VizochokSession`] wraps the sans-IO [`vizochok_core::Session`]: every
//! protocol rule stays in the core. The foreign side (the Kotlin or Swift
//! `VizochokWidget`) owns the WebSocket and the timer, feeds socket events in
//! with a monotonic `now_ms`, and receives
//! - I/O requests through a [`SessionTransport`] (open a socket, send a frame,
//!   close a socket), and
//! - the six callbacks of the contract plus the UI events through a
//!   [`SessionListener`],
//!
//! in the exact order the core produced them. Foreign code is never called
//! while the session's lock is held: outputs are drained under the lock and
//! delivered after it is released, by one thread at a time, so a callback
//! may call back into the session (a reentrant call's outputs are delivered
//! after the ones already in hand, keeping the order). A call returns only
//! after its outputs were delivered, so nothing is called back after
//! `shutdown` returns.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;

use vizochok_core as core;
use vizochok_core::{ActionError, Input, Output, SocketId};

uniffi::setup_scaffolding!("vizochok");

// ----- records of the contract (widget-callbacks.txt) -------------------------

/// One line of the cart.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CartItem {
    /// Product SKU.
    pub sku: String,
    /// Product display name.
    pub name: String,
    /// Current price per unit.
    pub price: f64,
    /// Promotional price, if active.
    pub promo_price: Option<f64>,
    /// Product brand name.
    pub brand: Option<String>,
    /// Quantity in cart.
    pub quantity: f64,
}

/// A product card shown in the chat.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProductItem {
    /// Product SKU.
    pub sku: String,
    /// Product display name.
    pub name: String,
    /// Current price per unit.
    pub price: f64,
    /// Unit of measurement (`pcs`, `kg`, ...).
    pub unit: String,
    /// Minimum quantity increment.
    pub quantity_step: f64,
    /// Selected quantity.
    #[uniffi(default = None)]
    pub quantity: Option<f64>,
    /// Product brand name.
    #[uniffi(default = None)]
    pub brand: Option<String>,
    /// Product image URL.
    #[uniffi(default = None)]
    pub image_url: Option<String>,
    /// Promotional price, if active.
    #[uniffi(default = None)]
    pub promo_price: Option<f64>,
}

/// The selected items of a session (`onSessionComplete`).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct SessionSummary {
    /// All items currently selected: the whole cart.
    pub selected_items: Vec<CartItem>,
    /// Total value of selected items.
    pub total: f64,
    /// Number of distinct items selected.
    pub item_count: u64,
}

/// What changed in the cart (`onCartChanged`); `items` is the complete cart.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CartChangedEvent {
    /// `item_selected`, `item_removed`, `quantity_updated` or `cart_cleared`.
    pub action: String,
    /// SKU of the affected product (absent for `cart_cleared`).
    pub sku: Option<String>,
    /// Name of the affected product.
    pub name: Option<String>,
    /// New quantity of the affected product.
    pub quantity: Option<f64>,
    /// Price of the affected product.
    pub price: Option<f64>,
    /// Complete list of all items currently in the cart.
    pub items: Vec<CartItem>,
    /// Total cart value.
    pub total: f64,
}

/// The error every `onError` receives.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct WidgetError {
    /// Machine-readable code (the seed's spelling, e.g. `auth_error`).
    pub code: String,
    /// Localized, shopper-facing text in the configured language.
    pub message: String,
    /// Developer-facing English detail (never contains the api key).
    pub detail: Option<String>,
    /// The action id this error finishes, if any.
    pub reply_to: Option<String>,
    /// How long the server asked to wait before retrying.
    pub retry_after_ms: Option<u64>,
}

/// Who said a line of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Role {
    /// The shopper.
    User,
    /// The assistant.
    Assistant,
}

/// One line of the conversation, for redrawing a UI.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct HistoryEntry {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub text: String,
    /// Product cards shown with it.
    pub products: Option<Vec<ProductItem>>,
}

/// The cart as last confirmed by the server.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Cart {
    /// Every line.
    pub items: Vec<CartItem>,
    /// Total value.
    pub total: f64,
}

/// The connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ConnectionState {
    /// Not connected and not trying.
    Idle,
    /// Waiting for the socket to open.
    Connecting,
    /// Socket open, waiting for `auth_ok`.
    Authenticating,
    /// Authenticated; actions flow.
    Connected,
    /// Waiting out a backoff before the next attempt.
    Reconnecting,
    /// Gave up (auth error, final close code, `max_reconnect`).
    Stopped,
    /// Released.
    Destroyed,
}

/// The kind of a pending action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ActionKind {
    /// A chat message.
    Message,
    /// `select_item`.
    SelectItem,
    /// `update_quantity`.
    UpdateQuantity,
    /// `remove_item`.
    RemoveItem,
    /// `clear_cart`.
    ClearCart,
}

/// An accepted action that has not ended.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PendingAction {
    /// Its id.
    pub id: String,
    /// What it is.
    pub kind: ActionKind,
    /// Whether it was sent at least once.
    pub sent: bool,
}

/// A chat UI event (`onMessage`).
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum MessageEvent {
    /// The assistant is working on a reply.
    Typing {
        /// The message being answered.
        reply_to: Option<String>,
    },
    /// A streamed chunk of a reply.
    Delta {
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The chunk.
        text: String,
    },
    /// A whole reply with its product cards.
    Response {
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The whole text.
        text: String,
        /// Product cards.
        products: Vec<ProductItem>,
    },
    /// The conversation so far replaces what the UI shows (restore, reset).
    History {
        /// Every line, oldest first.
        entries: Vec<HistoryEntry>,
    },
    /// The server made this action durable.
    Acknowledged {
        /// The action id.
        id: String,
    },
}

/// Session settings. The api key is not part of it (it is handed to the
/// constructor alone, so no record's string form can ever show it).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VizochokConfig {
    /// The store.
    pub store_id: String,
    /// `wss://…`, or `ws://` to a loopback host.
    pub url: String,
    /// The shopper, if known.
    #[uniffi(default = None)]
    pub user_id: Option<String>,
    /// Language of error texts (`en`, `uk`; anything else is English).
    #[uniffi(default = "en")]
    pub language: String,
    /// A session to resume.
    #[uniffi(default = None)]
    pub session_id: Option<String>,
    /// The last `seq` applied in that session.
    #[uniffi(default = 0)]
    pub last_seq: u64,
}

/// What a call can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error, uniffi::Error)]
pub enum VizochokError {
    /// The configuration is refused (bad URL, plain ws:// to a remote host, missing store...).
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// Why.
        reason: String,
    },
    /// The action was refused with a contract code (`message_too_large`,
    /// `queue_full`); `onError` received the same error.
    #[error("{code}: {detail}")]
    Rejected {
        /// The error code.
        code: String,
        /// Developer-facing detail.
        detail: String,
    },
    /// The call itself is wrong (bad quantity, empty text, ...).
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// Why.
        reason: String,
    },
    /// The session was destroyed.
    #[error("the session was destroyed")]
    Destroyed,
}

// ----- foreign traits ----------------------------------------------------------

/// The app's callbacks: the six of the contract plus the UI events. Called
/// on whichever thread fed the session; never while the session is locked.
#[uniffi::export(with_foreign)]
pub trait SessionListener: Send + Sync {
    /// `onConnect`: authenticated and ready.
    fn on_connect(&self);
    /// `onDisconnect`: a ready connection is gone.
    fn on_disconnect(&self);
    /// `onCartChanged`.
    fn on_cart_changed(&self, event: CartChangedEvent);
    /// `onProductClick`.
    fn on_product_click(&self, product: ProductItem);
    /// `onSessionComplete`.
    fn on_session_complete(&self, summary: SessionSummary);
    /// `onError`.
    fn on_error(&self, error: WidgetError);
    /// The connection state changed.
    fn on_state_change(&self, state: ConnectionState);
    /// A chat UI event.
    fn on_message(&self, event: MessageEvent);
}

/// The I/O the core asks for; implemented by the widget over a WebSocket.
#[uniffi::export(with_foreign)]
pub trait SessionTransport: Send + Sync {
    /// Open a WebSocket to `url`; report its events with `socket`.
    fn open_socket(&self, socket: u64, url: String);
    /// Send a text frame on the open socket.
    fn send_text(&self, text: String);
    /// Close `socket` with this code and reason.
    fn close_socket(&self, socket: u64, code: u16, reason: String);
}

// ----- the session object ----------------------------------------------------------

#[derive(Debug)]
struct Inner {
    session: core::Session,
    /// Outputs drained from the core, not yet delivered.
    queue: VecDeque<Output>,
    /// The thread delivering `queue` right now, if any.
    delivering: Option<ThreadId>,
}

/// A VIZOCHOK client session (sans-IO). Feed it socket events and timeouts
/// with a monotonic time in milliseconds; it calls the transport and the
/// listener. Release it deterministically: `shutdown`, then the runtime's
/// `close()`/`destroy()` (Kotlin) or dropping the last reference (Swift).
///
/// Delivery: callbacks are never run concurrently and never while the lock
/// is held. A call returns after every output it caused was delivered: when
/// another thread is delivering, the call waits for it to finish (that
/// thread delivers this call's outputs too, in order). A call made from
/// inside a callback returns at once; its outputs follow the ones in hand.
#[derive(uniffi::Object)]
pub struct VizochokSession {
    inner: Mutex<Inner>,
    idle: Condvar,
    listener: Arc<dyn SessionListener>,
    transport: Arc<dyn SessionTransport>,
}

impl std::fmt::Debug for VizochokSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VizochokSession")
    }
}

/// Ends a delivery even when a callback unwinds.
struct Delivering<'a>(&'a VizochokSession);

impl Drop for Delivering<'_> {
    fn drop(&mut self) {
        self.0.lock().delivering = None;
        self.0.idle.notify_all();
    }
}

impl VizochokSession {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means a callback panicked mid-delivery; the
        // session's own state is never left half-updated by a foreign call.
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the core under the lock, then delivers every output.
    fn with<T>(&self, f: impl FnOnce(&mut core::Session) -> T) -> T {
        let result = {
            let mut inner = self.lock();
            let result = f(&mut inner.session);
            let Inner { session, queue, .. } = &mut *inner;
            while let Some(output) = session.poll_output() {
                queue.push_back(output);
            }
            result
        };
        self.deliver();
        result
    }

    fn deliver(&self) {
        let me = std::thread::current().id();
        {
            let mut inner = self.lock();
            loop {
                match inner.delivering {
                    // Called from a callback: the delivery in progress takes these outputs too.
                    Some(thread) if thread == me => return,
                    Some(_) => inner = self.idle.wait(inner).unwrap_or_else(|poisoned| poisoned.into_inner()),
                    None => break,
                }
            }
            if inner.queue.is_empty() {
                return;
            }
            inner.delivering = Some(me);
        }
        let _guard = Delivering(self);
        loop {
            let batch: Vec<Output> = self.lock().queue.drain(..).collect();
            if batch.is_empty() {
                return;
            }
            for output in batch {
                self.dispatch(output);
            }
        }
    }

    fn dispatch(&self, output: Output) {
        match output {
            Output::Open { socket, url } => self.transport.open_socket(socket.0, url),
            Output::Send(text) => self.transport.send_text(text),
            Output::Close { socket, code, reason } => self.transport.close_socket(socket.0, code, reason),
            Output::Event(event) => self.event(event),
        }
    }

    fn event(&self, event: core::Event) {
        let l = &self.listener;
        match event {
            core::Event::Connect => l.on_connect(),
            core::Event::Disconnect => l.on_disconnect(),
            core::Event::CartChanged(e) => l.on_cart_changed(e.into()),
            core::Event::ProductClick(p) => l.on_product_click(p.into()),
            core::Event::SessionComplete(s) => l.on_session_complete(s.into()),
            core::Event::Error(e) => l.on_error(e.into()),
            core::Event::StateChanged(s) => l.on_state_change(s.into()),
            core::Event::Typing { reply_to } => l.on_message(MessageEvent::Typing { reply_to }),
            core::Event::Delta { message_id, reply_to, text } => {
                l.on_message(MessageEvent::Delta { message_id, reply_to, text })
            }
            core::Event::Response { message_id, reply_to, text, products } => l.on_message(MessageEvent::Response {
                message_id,
                reply_to,
                text,
                products: products.into_iter().map(Into::into).collect(),
            }),
            core::Event::History(entries) => {
                l.on_message(MessageEvent::History { entries: entries.into_iter().map(Into::into).collect() })
            }
            core::Event::Acknowledged { id } => l.on_message(MessageEvent::Acknowledged { id }),
        }
    }

    fn input(&self, now_ms: u64, input: Input<'_>) {
        self.with(|s| s.handle_input(now_ms, input));
    }
}

#[uniffi::export]
impl VizochokSession {
    /// Checks the config (§1) and creates an idle session; no I/O until
    /// `connect`. `seed` must come from a secure random source (or a
    /// scenario, to replay a run).
    #[uniffi::constructor]
    pub fn new(
        api_key: String,
        config: VizochokConfig,
        seed: u64,
        listener: Arc<dyn SessionListener>,
        transport: Arc<dyn SessionTransport>,
    ) -> Result<Arc<VizochokSession>, VizochokError> {
        let mut core_config = core::Config::new(&api_key, &config.store_id, &config.url, seed);
        core_config.user_id = config.user_id;
        core_config.language = core::Language::from_tag(&config.language);
        core_config.session_id = config.session_id;
        core_config.last_seq = config.last_seq;
        core_config.sdk = core::SdkInfo { name: "vizochok-uniffi".into(), version: env!("CARGO_PKG_VERSION").into() };
        let session = core::Session::new(core_config)
            .map_err(|e| VizochokError::InvalidConfig { reason: core::Secret::new(api_key).redact(&e.to_string()) })?;
        Ok(Arc::new(VizochokSession {
            inner: Mutex::new(Inner { session, queue: VecDeque::new(), delivering: None }),
            idle: Condvar::new(),
            listener,
            transport,
        }))
    }

    // ----- I/O inputs -----

    /// The host wants to be connected.
    pub fn connect(&self, now_ms: u64) {
        self.input(now_ms, Input::Connect)
    }

    /// `socket` opened.
    pub fn socket_opened(&self, now_ms: u64, socket: u64) {
        self.input(now_ms, Input::SocketOpened(SocketId(socket)))
    }

    /// A text frame arrived on `socket`.
    pub fn socket_text(&self, now_ms: u64, socket: u64, text: String) {
        self.input(now_ms, Input::Text(SocketId(socket), &text))
    }

    /// A binary frame of `len` bytes arrived on `socket` (a protocol violation).
    pub fn socket_binary(&self, now_ms: u64, socket: u64, len: u64) {
        self.input(now_ms, Input::Binary(SocketId(socket), usize::try_from(len).unwrap_or(usize::MAX)))
    }

    /// `socket` closed; `code` is absent when none was received.
    pub fn socket_closed(&self, now_ms: u64, socket: u64, code: Option<u16>, reason: String) {
        self.input(now_ms, Input::SocketClosed { socket: SocketId(socket), code, reason: &reason })
    }

    /// `socket` failed (`detail` is developer-facing).
    pub fn socket_error(&self, now_ms: u64, socket: u64, detail: String) {
        self.input(now_ms, Input::SocketError { socket: SocketId(socket), detail: &detail })
    }

    /// The deadline of `poll_timeout` was reached.
    pub fn timeout(&self, now_ms: u64) {
        self.input(now_ms, Input::Timeout)
    }

    /// The network came back: skip any backoff wait.
    pub fn network_online(&self, now_ms: u64) {
        self.input(now_ms, Input::NetworkOnline)
    }

    /// Close the connection but keep the session (a later `connect` resumes it).
    pub fn disconnect(&self, now_ms: u64) {
        self.input(now_ms, Input::Close)
    }

    /// Release the session: the socket closes, nothing more happens and
    /// every later action fails with `Destroyed`.
    pub fn shutdown(&self, now_ms: u64) {
        self.input(now_ms, Input::Destroy)
    }

    /// When to call `timeout` next (monotonic ms), if ever.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.lock().session.poll_timeout()
    }

    // ----- user actions -----

    /// Sends a chat message; returns its action id.
    pub fn send_message(&self, now_ms: u64, text: String) -> Result<String, VizochokError> {
        self.with(|s| s.send_message(now_ms, &text)).map_err(Into::into)
    }

    /// The shopper pressed "Add" on a card: `onProductClick`, then `select_item`.
    /// `quantity` defaults to the product's quantity, else one `quantity_step`.
    pub fn select_product(
        &self,
        now_ms: u64,
        product: ProductItem,
        quantity: Option<f64>,
    ) -> Result<String, VizochokError> {
        let product = core::ProductItem::from(product);
        self.with(|s| s.select_product(now_ms, &product, quantity)).map_err(Into::into)
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&self, now_ms: u64, sku: String, quantity: f64) -> Result<String, VizochokError> {
        self.with(|s| s.update_quantity(now_ms, &sku, quantity)).map_err(Into::into)
    }

    /// Removes a cart line.
    pub fn remove_item(&self, now_ms: u64, sku: String) -> Result<String, VizochokError> {
        self.with(|s| s.remove_item(now_ms, &sku)).map_err(Into::into)
    }

    /// Empties the cart.
    pub fn clear_cart(&self, now_ms: u64) -> Result<String, VizochokError> {
        self.with(|s| s.clear_cart(now_ms)).map_err(Into::into)
    }

    /// Forgets the conversation; the next `auth` opens a new session.
    pub fn reset(&self, now_ms: u64) -> Result<(), VizochokError> {
        self.with(|s| s.reset(now_ms)).map_err(Into::into)
    }

    // ----- getters -----

    /// The connection state.
    pub fn state(&self) -> ConnectionState {
        self.lock().session.state().into()
    }

    /// The current (or to-be-resumed) session id: keep it with `last_seq` to resume after an app restart.
    pub fn session_id(&self) -> Option<String> {
        self.lock().session.session_id().map(str::to_owned)
    }

    /// The last server `seq` applied.
    pub fn last_seq(&self) -> u64 {
        self.lock().session.last_seq()
    }

    /// The cart as last confirmed by the server.
    pub fn cart(&self) -> Cart {
        let inner = self.lock();
        let cart = inner.session.cart();
        Cart { items: cart.items.iter().cloned().map(Into::into).collect(), total: cart.total }
    }

    /// Accepted actions that have not ended, in order.
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.lock().session.pending_actions().into_iter().map(Into::into).collect()
    }

    /// Changes the language of error texts from now on (`en`, `uk`).
    pub fn set_language(&self, language: String) {
        self.lock().session.set_language(core::Language::from_tag(&language));
    }
}

/// The localized shopper-facing text of an error code (`None` for an unknown code).
#[uniffi::export]
pub fn error_message(code: String, language: String) -> Option<String> {
    core::ErrorCode::parse(&code).map(|c| core::i18n::error_message(c, core::Language::from_tag(&language)).to_owned())
}

/// A short chat-UI string by key (`send`, `add`, `typing`, ...; `None` for an unknown key).
#[uniffi::export]
pub fn ui_text(key: String, language: String) -> Option<String> {
    core::UiText::from_key(&key).map(|t| t.text(core::Language::from_tag(&language)).to_owned())
}

// ----- conversions -------------------------------------------------------------------

impl From<ActionError> for VizochokError {
    fn from(e: ActionError) -> Self {
        match e {
            ActionError::Rejected(error) => VizochokError::Rejected {
                code: error.code.as_str().to_owned(),
                detail: error.detail.unwrap_or(error.message),
            },
            ActionError::Invalid(reason) => VizochokError::InvalidArgument { reason },
            ActionError::Destroyed => VizochokError::Destroyed,
        }
    }
}

impl From<core::CartItem> for CartItem {
    fn from(i: core::CartItem) -> Self {
        CartItem {
            sku: i.sku,
            name: i.name,
            price: i.price,
            promo_price: i.promo_price,
            brand: i.brand,
            quantity: i.quantity,
        }
    }
}

impl From<core::ProductItem> for ProductItem {
    fn from(p: core::ProductItem) -> Self {
        ProductItem {
            sku: p.sku,
            name: p.name,
            price: p.price,
            unit: p.unit,
            quantity_step: p.quantity_step,
            quantity: p.quantity,
            brand: p.brand,
            image_url: p.image_url,
            promo_price: p.promo_price,
        }
    }
}

impl From<ProductItem> for core::ProductItem {
    fn from(p: ProductItem) -> Self {
        core::ProductItem {
            sku: p.sku,
            name: p.name,
            price: p.price,
            unit: p.unit,
            quantity_step: p.quantity_step,
            quantity: p.quantity,
            brand: p.brand,
            image_url: p.image_url,
            promo_price: p.promo_price,
        }
    }
}

impl From<core::SessionSummary> for SessionSummary {
    fn from(s: core::SessionSummary) -> Self {
        SessionSummary {
            selected_items: s.selected_items.into_iter().map(Into::into).collect(),
            total: s.total,
            item_count: s.item_count,
        }
    }
}

impl From<core::CartChangedEvent> for CartChangedEvent {
    fn from(e: core::CartChangedEvent) -> Self {
        CartChangedEvent {
            action: e.action.as_str().to_owned(),
            sku: e.sku,
            name: e.name,
            quantity: e.quantity,
            price: e.price,
            items: e.items.into_iter().map(Into::into).collect(),
            total: e.total,
        }
    }
}

impl From<core::WidgetError> for WidgetError {
    fn from(e: core::WidgetError) -> Self {
        WidgetError {
            code: e.code.as_str().to_owned(),
            message: e.message,
            detail: e.detail,
            reply_to: e.reply_to,
            retry_after_ms: e.retry_after_ms,
        }
    }
}

impl From<core::HistoryEntry> for HistoryEntry {
    fn from(h: core::HistoryEntry) -> Self {
        HistoryEntry {
            role: match h.role {
                core::Role::User => Role::User,
                core::Role::Assistant => Role::Assistant,
            },
            text: h.text,
            products: h.products.map(|p| p.into_iter().map(Into::into).collect()),
        }
    }
}

impl From<core::State> for ConnectionState {
    fn from(s: core::State) -> Self {
        match s {
            core::State::Idle => ConnectionState::Idle,
            core::State::Connecting => ConnectionState::Connecting,
            core::State::Authenticating => ConnectionState::Authenticating,
            core::State::Connected => ConnectionState::Connected,
            core::State::Reconnecting => ConnectionState::Reconnecting,
            core::State::Stopped => ConnectionState::Stopped,
            core::State::Destroyed => ConnectionState::Destroyed,
        }
    }
}

impl From<core::PendingAction> for PendingAction {
    fn from(p: core::PendingAction) -> Self {
        PendingAction {
            id: p.id,
            kind: match p.kind {
                core::ActionKind::Message => ActionKind::Message,
                core::ActionKind::SelectItem => ActionKind::SelectItem,
                core::ActionKind::UpdateQuantity => ActionKind::UpdateQuantity,
                core::ActionKind::RemoveItem => ActionKind::RemoveItem,
                core::ActionKind::ClearCart => ActionKind::ClearCart,
            },
            sent: p.sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Records everything the session asks for, as short strings.
    #[derive(Default)]
    struct Log {
        lines: Mutex<Vec<String>>,
        /// Set while a callback runs, to catch concurrent delivery.
        busy: AtomicBool,
        overlaps: AtomicUsize,
        /// Every frame sent, whole.
        sent: Mutex<Vec<String>>,
        /// Called from `on_connect` (to test reentrancy).
        on_connect: Mutex<Option<Box<dyn Fn() + Send>>>,
    }

    impl Log {
        fn push(&self, line: String) {
            if self.busy.swap(true, Ordering::SeqCst) {
                self.overlaps.fetch_add(1, Ordering::SeqCst);
            }
            self.lines.lock().unwrap().push(line);
            std::thread::yield_now();
            self.busy.store(false, Ordering::SeqCst);
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.lines.lock().unwrap())
        }
    }

    impl SessionListener for Log {
        fn on_connect(&self) {
            self.push("connect".into());
            if let Some(f) = &*self.on_connect.lock().unwrap() {
                f();
            }
        }
        fn on_disconnect(&self) {
            self.push("disconnect".into())
        }
        fn on_cart_changed(&self, event: CartChangedEvent) {
            self.push(format!("cart {}", event.action))
        }
        fn on_product_click(&self, product: ProductItem) {
            self.push(format!("click {}", product.sku))
        }
        fn on_session_complete(&self, summary: SessionSummary) {
            self.push(format!("summary {}", summary.item_count))
        }
        fn on_error(&self, error: WidgetError) {
            self.push(format!("error {}", error.code))
        }
        fn on_state_change(&self, state: ConnectionState) {
            self.push(format!("state {state:?}"))
        }
        fn on_message(&self, event: MessageEvent) {
            self.push(format!("message {event:?}"))
        }
    }

    impl SessionTransport for Log {
        fn open_socket(&self, socket: u64, _url: String) {
            self.push(format!("open {socket}"))
        }
        fn send_text(&self, text: String) {
            let kind = text.split(r#""type":""#).nth(1).and_then(|t| t.split('"').next()).unwrap_or("?").to_owned();
            self.sent.lock().unwrap().push(text);
            self.push(format!("send {kind}"))
        }
        fn close_socket(&self, socket: u64, code: u16, _reason: String) {
            self.push(format!("close {socket} {code}"))
        }
    }

    fn session(log: &Arc<Log>) -> Arc<VizochokSession> {
        let config = VizochokConfig {
            store_id: "demo-store".into(),
            url: "ws://127.0.0.1:8787/v1/ws".into(),
            user_id: None,
            language: "en".into(),
            session_id: None,
            last_seq: 0,
        };
        VizochokSession::new("pk_demo".into(), config, 7, log.clone(), log.clone()).unwrap()
    }

    const AUTH_OK: &str = r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#;

    #[test]
    fn outputs_reach_transport_and_listener_in_core_order() {
        let log = Arc::new(Log::default());
        let s = session(&log);
        s.connect(0);
        assert_eq!(log.take(), ["state Connecting", "open 1"]);
        s.socket_opened(1, 1);
        assert_eq!(log.take(), ["state Authenticating", "send auth"]);
        s.socket_text(2, 1, AUTH_OK.into());
        assert_eq!(log.take(), ["state Connected", "connect"]);
        assert_eq!(s.state(), ConnectionState::Connected);
        assert_eq!(s.poll_timeout(), Some(2 + 25_000));
        s.shutdown(3);
        assert_eq!(log.take(), ["close 1 1000", "disconnect", "state Destroyed"]);
        assert_eq!(s.send_message(4, "hi".into()), Err(VizochokError::Destroyed));
    }

    #[test]
    fn a_callback_may_call_back_in_and_order_is_kept() {
        let log = Arc::new(Log::default());
        let s = session(&log);
        let weak = Arc::downgrade(&s);
        *log.on_connect.lock().unwrap() = Some(Box::new(move || {
            if let Some(s) = weak.upgrade() {
                s.clear_cart(2).unwrap();
            }
        }));
        s.send_message(0, "queued".into()).unwrap();
        s.connect(0);
        s.socket_opened(1, 1);
        log.take();
        s.socket_text(2, 1, AUTH_OK.into());
        // The queued message goes out before the action taken inside onConnect.
        assert_eq!(log.take(), ["state Connected", "connect", "send message", "send clear_cart"]);
        assert_eq!(log.overlaps.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn callbacks_never_overlap_and_calls_return_after_their_outputs() {
        let log = Arc::new(Log::default());
        let s = session(&log);
        s.connect(0);
        s.socket_opened(1, 1);
        s.socket_text(2, 1, AUTH_OK.into());
        log.take();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let s = s.clone();
                let log = log.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let id = if i % 2 == 0 {
                            s.clear_cart(3).unwrap()
                        } else {
                            s.remove_item(3, format!("t{t}")).unwrap()
                        };
                        // The frame of this action was handed to the transport before the call returned.
                        assert!(log.sent.lock().unwrap().iter().any(|f| f.contains(&id)), "{id} not sent yet");
                        s.socket_text(3, 1, format!(r#"{{"type":"ack","id":"{id}"}}"#));
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(log.overlaps.load(Ordering::SeqCst), 0, "callbacks ran concurrently");
    }

    #[test]
    fn errors_and_debug_never_show_the_api_key() {
        let log = Arc::new(Log::default());
        let config = VizochokConfig {
            store_id: "demo-store".into(),
            url: "ws://shop.example.com/v1/ws".into(),
            user_id: None,
            language: "en".into(),
            session_id: None,
            last_seq: 0,
        };
        let err =
            VizochokSession::new("pk_canary_ffi".into(), config.clone(), 1, log.clone(), log.clone()).unwrap_err();
        assert!(matches!(err, VizochokError::InvalidConfig { .. }));
        assert!(!format!("{err} {err:?} {config:?}").contains("pk_canary_ffi"));
        assert!(log.take().is_empty(), "no I/O before a valid config");
    }
}
