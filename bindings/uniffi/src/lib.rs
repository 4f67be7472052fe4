//! uniffi bindings of the VIZOCHOK client for the Kotlin and Swift SDKs.
//!
//! [`WidgetDriver`] is the core's [`Driver`] behind the FFI: the run loop,
//! the order of delivery, re-entrancy, the policy for failing callbacks and
//! reads after release all stay in Rust (`docs/hosts.md`). A foreign widget
//! implements [`WidgetHost`] (its sockets, one timer, the saved session id,
//! the app's callbacks and its log) and hands every socket event and timer
//! back with its monotonic clock's `now`, in milliseconds.
//!
//! The payload types, the enums and [`Event`] are the ones of
//! `vizochok-proto` and `vizochok-core` (their `uniffi` features), so this
//! crate declares only what is the FFI's own: the config, its errors, the
//! host trait and the driver.

use std::sync::{Arc, Mutex, PoisonError};

use vizochok_core::proto::markdown::{self, Block};
use vizochok_core::{
    ActionError, Cart, Config, Driver, ErrorCode, Event, Host, Input, Language, PageContext, PendingAction,
    ProductItem, Rating, SdkInfo, Secret, SocketId, State, UiText,
};

uniffi::setup_scaffolding!("vizochok");

/// What a widget needs besides its secrets (the api key and the user token
/// are handed to the constructor alone, so no record's text form can show
/// them).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct VizochokConfig {
    /// The store.
    pub store_id: String,
    /// `wss://…`, or `ws://` to a loopback host.
    pub url: String,
    /// The shopper, when the store knows them (`docs/identity.md`).
    #[uniffi(default)]
    pub user_id: Option<String>,
    /// Language tag of error texts (`uk`, `uk-UA`, `en`; anything else is English).
    #[uniffi(default = "en")]
    pub language: String,
}

/// A call the widget refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum VizochokError {
    /// The config is refused at creation, before any I/O.
    #[error("invalid configuration: {reason}")]
    InvalidConfig {
        /// Why, without any secret.
        reason: String,
    },
    /// A programming error: bad quantity, empty text, an unknown sku...
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// Why.
        reason: String,
    },
    /// An action after release.
    #[error("the widget was closed")]
    Destroyed,
}

/// An app callback failed (it threw); the driver writes its text to the
/// host's log and carries on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The callback threw this.
    #[error("{reason}")]
    Failed {
        /// The exception's text.
        reason: String,
    },
}

/// Any foreign exception a callback throws arrives as this.
impl From<uniffi::UnexpectedUniFFICallbackError> for CallbackError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> CallbackError {
        CallbackError::Failed { reason: error.reason }
    }
}

/// A runtime's side of the driver (the core's `Host`, in foreign types).
/// Called by the driver only, one call at a time, in the order the protocol
/// produced them, never while it holds its lock: an implementation may call
/// the driver back (a callback that sends a message, say).
#[uniffi::export(with_foreign)]
pub trait WidgetHost: Send + Sync {
    /// Open a WebSocket to `url`; report its events with `socket`.
    fn open_socket(&self, socket: u64, url: String);
    /// Send a text frame on `socket`.
    fn send_text(&self, socket: u64, text: String);
    /// Close `socket` with `code` (always 1000) and `reason` (at most 123
    /// bytes), or abandon it while it opens; its later events are ignored.
    fn close_socket(&self, socket: u64, code: u16, reason: String);
    /// Keep one timer: call [`WidgetDriver::timeout`] at `deadline` (the
    /// clock of every `now`); `None` cancels it. Replaces the timer before.
    fn set_timer(&self, deadline: Option<u64>);
    /// The id that resumes the conversation changed: save it (`None`: forget it).
    fn save_session(&self, session_id: Option<String>);
    /// Hand an event to the app's callbacks and event stream. A callback
    /// that throws is an `Err`: the driver reports it and carries on.
    fn deliver(&self, event: Event) -> Result<(), CallbackError>;
    /// A problem the driver recovered from, secrets removed: write it to the log.
    fn report_error(&self, message: String);
    /// Called once, after the last call of a released driver: let go of the
    /// app's objects (its callbacks, its session store) and end the event
    /// streams, so that a closed widget the app still holds keeps no screen.
    fn released(&self);
}

/// The foreign host as the core's [`Host`]. It lets go of the foreign object
/// once the driver is released: uniffi keeps a foreign object alive from a
/// global handle map for as long as Rust holds it, so a host whose callbacks
/// hold the widget (an app's usual closure) would otherwise keep the widget,
/// its driver and the app's screen alive for ever.
struct ForeignHost(Mutex<Option<Arc<dyn WidgetHost>>>);

impl ForeignHost {
    /// Calls the foreign object, cloned out so that no lock is held while it
    /// runs (it may call the driver back); nothing after release, when the
    /// driver calls nothing anyway.
    fn with<T>(&self, call: impl FnOnce(&dyn WidgetHost) -> T) -> Option<T> {
        let host = self.0.lock().unwrap_or_else(PoisonError::into_inner).clone();
        host.map(|host| call(&*host))
    }
}

impl Host for ForeignHost {
    fn open_socket(&self, socket: SocketId, url: &str) {
        self.with(|host| host.open_socket(socket.0, url.to_owned()));
    }
    fn send_text(&self, socket: SocketId, text: &str) {
        self.with(|host| host.send_text(socket.0, text.to_owned()));
    }
    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        self.with(|host| host.close_socket(socket.0, code, reason.to_owned()));
    }
    fn set_timer(&self, deadline: Option<u64>) {
        self.with(|host| host.set_timer(deadline));
    }
    fn save_session(&self, session_id: Option<&str>) {
        self.with(|host| host.save_session(session_id.map(str::to_owned)));
    }
    fn deliver(&self, event: Event) -> Result<(), String> {
        self.with(|host| host.deliver(event).map_err(|e| e.to_string())).unwrap_or(Ok(()))
    }
    fn report_error(&self, message: &str) {
        self.with(|host| host.report_error(message.to_owned()));
    }
    fn released(&self) {
        // Outside the lock: the call and the drop run foreign code.
        let host = self.0.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(host) = host {
            host.released();
        }
    }
}

/// One widget's driver. Every `now` is the host's monotonic clock in
/// milliseconds. When a call returns, everything it caused has been handed
/// to the host, unless it was made from inside a callback (then it follows
/// the events in hand). Dropping the driver releases it as
/// [`WidgetDriver::destroy`] does.
#[derive(uniffi::Object)]
pub struct WidgetDriver {
    driver: Driver<ForeignHost>,
}

impl std::fmt::Debug for WidgetDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WidgetDriver").field("state", &self.driver.state()).finish_non_exhaustive()
    }
}

impl Drop for WidgetDriver {
    fn drop(&mut self) {
        // The session's clock never goes back, so any `now` will do.
        self.driver.handle(0, Input::Destroy);
    }
}

#[uniffi::export]
impl WidgetDriver {
    /// Checks the config before any I/O and creates an idle driver.
    /// `session_id` is the id the app's session store kept; `sdk_name`
    /// names the runtime in `auth`; `seed` comes from a secure random source.
    #[uniffi::constructor]
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        api_key: String,
        user_token: Option<String>,
        config: VizochokConfig,
        session_id: Option<String>,
        sdk_name: String,
        seed: u64,
        host: Arc<dyn WidgetHost>,
    ) -> Result<Arc<WidgetDriver>, VizochokError> {
        let mut core = Config::new(&api_key, &config.store_id, &config.url, seed);
        core.user_id = config.user_id;
        core.user_token = user_token.map(Secret::new);
        core.language = Language::from_tag(&config.language);
        core.session_id = session_id.map(Secret::new);
        core.sdk = SdkInfo { name: sdk_name, version: env!("CARGO_PKG_VERSION").into() };
        // The core's config errors never carry a secret.
        let driver = Driver::new(core, ForeignHost(Mutex::new(Some(host))))
            .map_err(|e| VizochokError::InvalidConfig { reason: e.message() })?;
        Ok(Arc::new(WidgetDriver { driver }))
    }

    // ----- the app's calls -----

    /// Start (or resume) connecting.
    pub fn connect(&self, now: u64) {
        self.driver.handle(now, Input::Connect);
    }

    /// Close the socket, keep the conversation and the queue.
    pub fn disconnect(&self, now: u64) {
        self.driver.handle(now, Input::Disconnect);
    }

    /// Release: close the socket, stop the timer, call nothing back once
    /// this returns. Idempotent; reads keep the last state.
    pub fn destroy(&self, now: u64) {
        self.driver.handle(now, Input::Destroy);
    }

    /// The network came back: skip any backoff wait.
    pub fn network_online(&self, now: u64) {
        self.driver.handle(now, Input::NetworkOnline);
    }

    // ----- the host's reports -----

    /// `socket` opened.
    pub fn socket_opened(&self, now: u64, socket: u64) {
        self.driver.handle(now, Input::SocketOpened(SocketId(socket)));
    }

    /// A text frame arrived on `socket`.
    pub fn socket_text(&self, now: u64, socket: u64, text: String) {
        self.driver.handle(now, Input::Text(SocketId(socket), &text));
    }

    /// A binary frame of `len` bytes arrived on `socket`.
    pub fn socket_binary(&self, now: u64, socket: u64, len: u64) {
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        self.driver.handle(now, Input::Binary(SocketId(socket), len));
    }

    /// `socket` is gone: its close code as the runtime reports it (`None`
    /// without one; the core decides what 1005 and 1006 mean) and the close
    /// reason or the runtime's error text.
    pub fn socket_ended(&self, now: u64, socket: u64, code: Option<u16>, reason: String) {
        self.driver.handle(now, Input::SocketEnded { socket: SocketId(socket), code, reason: &reason });
    }

    /// The timer fired (early or spurious calls change nothing).
    pub fn timeout(&self, now: u64) {
        self.driver.handle(now, Input::Timeout);
    }

    // ----- actions: the id, or `None` when refused (`onError` has fired) -----

    /// Sends a chat message.
    pub fn send_message(&self, now: u64, text: String) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.send_message(now, &text))
    }

    /// "Add" on a product card: `onProductClick`, then `select_item`
    /// (one `quantity_step` unless `quantity` says otherwise).
    pub fn select_product(
        &self,
        now: u64,
        product: ProductItem,
        quantity: Option<f64>,
    ) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.select_product(now, &product, quantity))
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&self, now: u64, sku: String, quantity: f64) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.update_quantity(now, &sku, quantity))
    }

    /// Removes a cart line.
    pub fn remove_item(&self, now: u64, sku: String) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.remove_item(now, &sku))
    }

    /// Empties the cart.
    pub fn clear_cart(&self, now: u64) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.clear_cart(now))
    }

    /// What the shopper is looking at ("add this" then means its `sku`).
    pub fn set_context(&self, now: u64, context: PageContext) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.set_context(now, context))
    }

    /// Stops the streaming reply; `None` when nothing streams (or refused).
    pub fn stop(&self, now: u64) -> Result<Option<String>, VizochokError> {
        self.driver.stop_reply(now).or_else(|e| refused(e).map(|()| None))
    }

    /// Rates a reply (the `message_id` of its response).
    pub fn feedback(
        &self,
        now: u64,
        message_id: String,
        rating: Rating,
        comment: Option<String>,
    ) -> Result<Option<String>, VizochokError> {
        accepted(self.driver.feedback(now, &message_id, rating, comment.as_deref()))
    }

    /// Forgets the conversation; the next `auth` starts a new one.
    pub fn reset(&self, now: u64) -> Result<(), VizochokError> {
        self.driver.reset(now).or_else(refused)
    }

    /// The language of error texts from now on (a tag, as in the config).
    pub fn set_language(&self, language: String) {
        self.driver.set_language(Language::from_tag(&language));
    }

    // ----- reads (after release too) -----

    /// The connection state.
    pub fn state(&self) -> State {
        self.driver.state()
    }

    /// The cart as the server last confirmed it.
    pub fn cart(&self) -> Cart {
        self.driver.cart()
    }

    /// The id that resumes the conversation.
    pub fn session_id(&self) -> Option<String> {
        self.driver.session_id()
    }

    /// Accepted actions that have not ended.
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.driver.pending_actions()
    }
}

/// An action's id; `None` for a refusal the app heard through `onError`.
fn accepted(result: Result<String, ActionError>) -> Result<Option<String>, VizochokError> {
    result.map(Some).or_else(|e| refused(e).map(|()| None))
}

/// A refusal (`queue_full`, `message_too_large`) is no error for the
/// caller: `onError` has told the app. A wrong call or a call after release is.
fn refused(error: ActionError) -> Result<(), VizochokError> {
    match error {
        ActionError::Rejected(_) => Ok(()),
        ActionError::Invalid(reason) => Err(VizochokError::InvalidArgument { reason }),
        ActionError::Destroyed => Err(VizochokError::Destroyed),
    }
}

/// The largest message a transport's socket should accept: frames past the
/// protocol's 1 MiB still reach the driver, which drops them and keeps the
/// connection (URLSession's own default, 1 MiB, would end the socket).
#[uniffi::export]
pub fn max_socket_message_bytes() -> u64 {
    vizochok_core::MAX_SOCKET_MESSAGE_BYTES as u64
}

/// A reply's Markdown text parsed for a native UI (what `Reply.blocks` shows).
#[uniffi::export]
pub fn markdown_blocks(text: String) -> Vec<Block> {
    markdown::parse(&text)
}

/// A chat UI string by key (`send`, `add`, `typing`, ...), in the language
/// of `language` (a tag); `None` for an unknown key.
#[uniffi::export]
pub fn ui_text(key: String, language: String) -> Option<String> {
    UiText::from_key(&key).map(|text| text.text(Language::from_tag(&language)).to_owned())
}

/// The shopper-facing text of an error code in the language of `language`.
#[uniffi::export]
pub fn error_message(code: ErrorCode, language: String) -> String {
    vizochok_core::i18n::error_message(code, Language::from_tag(&language)).to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use vizochok_core::ErrorCode;

    use super::*;

    /// Records what the driver asks for; fails every `deliver` of `fail_on`.
    #[derive(Default)]
    struct Recorder {
        lines: Mutex<Vec<String>>,
        fail_on: Option<Event>,
    }

    impl Recorder {
        fn push(&self, line: String) {
            self.lines.lock().unwrap().push(line);
        }
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.lines.lock().unwrap())
        }
    }

    impl WidgetHost for Recorder {
        fn open_socket(&self, socket: u64, _url: String) {
            self.push(format!("open {socket}"));
        }
        fn send_text(&self, _socket: u64, text: String) {
            self.push(format!("send {}", text.len()));
        }
        fn close_socket(&self, socket: u64, code: u16, _reason: String) {
            self.push(format!("close {socket} {code}"));
        }
        fn set_timer(&self, _deadline: Option<u64>) {}
        fn save_session(&self, session_id: Option<String>) {
            self.push(format!("save {session_id:?}"));
        }
        fn deliver(&self, event: Event) -> Result<(), CallbackError> {
            let failed = self.fail_on.as_ref() == Some(&event);
            self.push(format!("{event:?}"));
            match failed {
                true => Err(CallbackError::Failed { reason: "boom with pk_canary_ffi in it".into() }),
                false => Ok(()),
            }
        }
        fn report_error(&self, message: String) {
            self.push(format!("log {message}"));
        }
        fn released(&self) {
            self.push("released".into());
        }
    }

    fn config(url: &str) -> VizochokConfig {
        VizochokConfig { store_id: "demo-store".into(), url: url.into(), user_id: None, language: "en".into() }
    }

    fn driver(host: &Arc<Recorder>) -> Arc<WidgetDriver> {
        let url = "ws://127.0.0.1:8787/v1/ws";
        WidgetDriver::new("pk_canary_ffi".into(), None, config(url), None, "vizochok-test".into(), 7, host.clone())
            .unwrap()
    }

    #[test]
    fn a_refused_config_shows_neither_the_key_nor_the_token() {
        for url in ["ws://shop.example.com/v1/ws", "ws://?k=pk_canary_ffi", "wss://host/?t=tok_canary_ffi"] {
            let host = Arc::new(Recorder::default());
            let token = Some("tok_canary_ffi".to_owned());
            let refused =
                WidgetDriver::new("pk_canary_ffi".into(), token, config(url), None, "t".into(), 1, host.clone());
            let Err(VizochokError::InvalidConfig { reason }) = refused else { panic!("{url} accepted") };
            assert!(!reason.contains("canary"), "{reason}");
            assert!(host.take().is_empty(), "no I/O before a valid config");
        }
    }

    #[test]
    fn a_throwing_callback_is_logged_without_the_key_and_the_widget_carries_on() {
        let host = Arc::new(Recorder { fail_on: Some(Event::Connect), ..Recorder::default() });
        let driver = driver(&host);
        driver.connect(0);
        driver.socket_opened(1, 1);
        host.take();
        driver.socket_text(2, 1, r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#.into());
        let lines = host.take();
        let log = lines.iter().find(|l| l.starts_with("log ")).expect("the failure was logged");
        assert!(log.contains("boom") && !log.contains("pk_canary_ffi"), "{log}");
        assert_eq!(lines.last().map(String::as_str), Some(r#"save Some("s1")"#), "and the driver went on: {lines:?}");
    }

    #[test]
    fn refusals_are_none_wrong_calls_and_calls_after_release_are_errors() {
        let host = Arc::new(Recorder::default());
        let driver = driver(&host);
        assert_eq!(driver.send_message(0, "x".repeat(2001)), Ok(None));
        assert!(host.take().iter().any(|l| l.contains(&format!("{:?}", ErrorCode::MessageTooLarge))), "onError");
        assert!(matches!(driver.send_message(0, " ".into()), Err(VizochokError::InvalidArgument { .. })));
        assert_eq!(driver.stop(0), Ok(None), "nothing streams");
        let queued = driver.clear_cart(0).unwrap().expect("queued while idle");
        driver.destroy(0);
        assert_eq!(driver.reset(0), Err(VizochokError::Destroyed));
        assert_eq!(driver.pending_actions().iter().map(|a| a.id.clone()).collect::<Vec<_>>(), [queued]);
    }

    #[test]
    fn dropping_the_driver_closes_its_socket() {
        let host = Arc::new(Recorder::default());
        let driver = driver(&host);
        driver.connect(0);
        driver.socket_opened(1, 1);
        host.take();
        drop(driver);
        assert_eq!(host.take().first().map(String::as_str), Some("close 1 1000"));
    }

    #[test]
    fn a_released_driver_lets_go_of_its_host_and_keeps_its_reads() {
        let host = Arc::new(Recorder::default());
        let driver = driver(&host);
        driver.connect(0);
        driver.socket_opened(1, 1);
        let queued = driver.clear_cart(2).unwrap().expect("accepted");
        assert_eq!(Arc::strong_count(&host), 2, "the driver holds its host while it runs");
        host.take();
        driver.destroy(3);
        let lines = host.take();
        assert_eq!(lines.first().map(String::as_str), Some("close 1 1000"), "the socket closed first: {lines:?}");
        assert_eq!(lines.last().map(String::as_str), Some("released"), "the host heard last: {lines:?}");
        assert_eq!(Arc::strong_count(&host), 1, "and then the host was let go");
        driver.destroy(4);
        assert_eq!(driver.state(), State::Destroyed);
        assert!(driver.pending_actions().iter().any(|a| a.id == queued), "reads still answer");
        driver.socket_text(5, 1, r#"{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}"#.into());
        assert!(host.take().is_empty(), "nothing reaches the host after, not even a second release");
    }
}
