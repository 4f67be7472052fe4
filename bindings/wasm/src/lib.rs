//! The browser binding of the VIZOCHOK client.
//!
//! This crate only adapts types: every protocol rule lives in
//! `vizochok-core`. It exports the core's sans-IO [`Session`] to JavaScript
//! (the npm package's `VIZOCHOKWidget` drives it with a browser WebSocket,
//! one `setTimeout`, `performance.now()` and `crypto.getRandomValues()`),
//! and the core's UI strings ([`ui_strings`]).
//!
//! Everything the core asks the host to do comes out of [`Session::drain`]
//! as one JSON array, so a frame costs one call into WebAssembly and one
//! `JSON.parse` on the way out. Each element is one of:
//!
//! | output | JSON |
//! |---|---|
//! | open a socket | `{"open": id, "url": "wss://…"}` |
//! | send a frame | `{"send": "<frame text>"}` |
//! | close a socket | `{"close": id, "code": 1000, "reason": "…"}` |
//! | a callback | `{"on": "connect" \| "disconnect" \| "cart_changed" \| "product_click" \| "session_complete" \| "error", "data"?: …}` |
//! | a state change | `{"state": "connected"}` |
//! | a UI event | `{"ui": "typing" \| "delta" \| "response" \| "history" \| "ack", "data": …}` |
//!
//! `data` objects carry the seed's snake_case field names.

use serde::Serialize;
use vizochok_core::{
    ActionError, CartChangedEvent, Config, Event, HistoryEntry, Input, Language, Output, ProductItem, SdkInfo,
    SessionSummary, SocketId, UiText, WidgetError,
};
use wasm_bindgen::prelude::*;

/// The SDK name sent in the `auth` frame.
const SDK_NAME: &str = "vizochok-wasm";

/// A host time in milliseconds (`performance.now()`) as the core's clock.
fn ms(now: f64) -> u64 {
    // `as` saturates: NaN and negatives become 0.
    now.max(0.0) as u64
}

/// One output, borrowed, in the JSON shape documented at the crate root.
#[derive(Serialize)]
#[serde(untagged)]
enum Out<'a> {
    Open {
        open: u64,
        url: &'a str,
    },
    Send {
        send: &'a str,
    },
    Close {
        close: u64,
        code: u16,
        reason: &'a str,
    },
    State {
        state: &'static str,
    },
    On {
        on: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<Data<'a>>,
    },
    Ui {
        ui: &'static str,
        data: Data<'a>,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum Data<'a> {
    Cart(&'a CartChangedEvent),
    Product(&'a ProductItem),
    Summary(&'a SessionSummary),
    Error(&'a WidgetError),
    History(&'a [HistoryEntry]),
    Typing {
        #[serde(skip_serializing_if = "Option::is_none")]
        reply_to: Option<&'a str>,
    },
    Delta {
        message_id: &'a str,
        reply_to: &'a str,
        text: &'a str,
    },
    Response {
        message_id: &'a str,
        reply_to: &'a str,
        text: &'a str,
        products: &'a [ProductItem],
    },
    Ack {
        id: &'a str,
    },
}

fn out(output: &Output) -> Out<'_> {
    match output {
        Output::Open { socket, url } => Out::Open { open: socket.0, url },
        Output::Send(text) => Out::Send { send: text },
        Output::Close { socket, code, reason } => Out::Close { close: socket.0, code: *code, reason },
        Output::Event(event) => match event {
            Event::Connect => Out::On { on: "connect", data: None },
            Event::Disconnect => Out::On { on: "disconnect", data: None },
            Event::CartChanged(e) => Out::On { on: "cart_changed", data: Some(Data::Cart(e)) },
            Event::ProductClick(p) => Out::On { on: "product_click", data: Some(Data::Product(p)) },
            Event::SessionComplete(s) => Out::On { on: "session_complete", data: Some(Data::Summary(s)) },
            Event::Error(e) => Out::On { on: "error", data: Some(Data::Error(e)) },
            Event::StateChanged(state) => Out::State { state: state.as_str() },
            Event::Typing { reply_to } => {
                Out::Ui { ui: "typing", data: Data::Typing { reply_to: reply_to.as_deref() } }
            }
            Event::Delta { message_id, reply_to, text } => {
                Out::Ui { ui: "delta", data: Data::Delta { message_id, reply_to, text } }
            }
            Event::Response { message_id, reply_to, text, products } => {
                Out::Ui { ui: "response", data: Data::Response { message_id, reply_to, text, products } }
            }
            Event::History(entries) => Out::Ui { ui: "history", data: Data::History(entries) },
            Event::Acknowledged { id } => Out::Ui { ui: "ack", data: Data::Ack { id } },
        },
    }
}

/// An action's result for JavaScript: the id when accepted; `undefined` when
/// the core refused it with an error code (already emitted as an `error`
/// output, i.e. onError); a thrown `RangeError` for a wrong value; a thrown
/// `Error` after `destroy`.
fn action(result: Result<String, ActionError>) -> Result<Option<String>, JsValue> {
    match result {
        Ok(id) => Ok(Some(id)),
        Err(ActionError::Rejected(_)) => Ok(None),
        Err(ActionError::Invalid(message)) => Err(js_sys::RangeError::new(&message).into()),
        Err(ActionError::Destroyed) => Err(js_sys::Error::new("the session was destroyed").into()),
    }
}

/// The core's sans-IO client session, for a JavaScript host.
///
/// Every method that takes `now` wants monotonic milliseconds
/// (`performance.now()`). After each call, the host calls [`Session::drain`]
/// and acts on the outputs, then arms one timer for [`Session::poll_timeout`].
#[wasm_bindgen]
#[derive(Debug)]
pub struct Session {
    inner: vizochok_core::Session,
}

#[wasm_bindgen]
impl Session {
    /// Creates a session; throws a `TypeError` for a config the core refuses
    /// (missing key or store, a `ws://` URL to a host that is not loopback).
    /// `seed` comes from `crypto.getRandomValues`. No I/O happens until
    /// `connect`.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(constructor)]
    pub fn new(
        api_key: &str,
        store_id: &str,
        url: &str,
        seed: u64,
        language: &str,
        user_id: Option<String>,
        session_id: Option<String>,
        last_seq: f64,
    ) -> Result<Session, JsValue> {
        let mut config = Config::new(api_key, store_id, url, seed);
        config.language = Language::from_tag(language);
        config.user_id = user_id;
        config.session_id = session_id;
        config.last_seq = ms(last_seq);
        config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
        vizochok_core::Session::new(config)
            .map(|inner| Session { inner })
            .map_err(|e| js_sys::TypeError::new(&e.to_string()).into())
    }

    /// Everything the host must do now, as a JSON array (see the crate docs).
    pub fn drain(&mut self) -> String {
        let mut outputs = Vec::new();
        while let Some(output) = self.inner.poll_output() {
            outputs.push(output);
        }
        let shaped: Vec<Out<'_>> = outputs.iter().map(out).collect();
        serde_json::to_string(&shaped).unwrap_or_else(|_| "[]".into())
    }

    /// When the host must call `timeout` next (monotonic ms), if ever.
    #[wasm_bindgen(js_name = pollTimeout)]
    pub fn poll_timeout(&self) -> Option<f64> {
        self.inner.poll_timeout().map(|t| t as f64)
    }

    /// The host wants to be connected (mount, page shown again).
    pub fn connect(&mut self, now: f64) {
        self.inner.handle_input(ms(now), Input::Connect);
    }

    /// The socket `socket` opened.
    #[wasm_bindgen(js_name = socketOpened)]
    pub fn socket_opened(&mut self, now: f64, socket: f64) {
        self.inner.handle_input(ms(now), Input::SocketOpened(SocketId(ms(socket))));
    }

    /// A text frame arrived on `socket`.
    pub fn text(&mut self, now: f64, socket: f64, text: &str) {
        self.inner.handle_input(ms(now), Input::Text(SocketId(ms(socket)), text));
    }

    /// A binary frame of `len` bytes arrived on `socket` (a protocol violation).
    pub fn binary(&mut self, now: f64, socket: f64, len: f64) {
        self.inner.handle_input(ms(now), Input::Binary(SocketId(ms(socket)), ms(len) as usize));
    }

    /// The socket closed; `code` is absent when none was received.
    #[wasm_bindgen(js_name = socketClosed)]
    pub fn socket_closed(&mut self, now: f64, socket: f64, code: Option<u16>, reason: &str) {
        self.inner.handle_input(ms(now), Input::SocketClosed { socket: SocketId(ms(socket)), code, reason });
    }

    /// The socket failed.
    #[wasm_bindgen(js_name = socketError)]
    pub fn socket_error(&mut self, now: f64, socket: f64, detail: &str) {
        self.inner.handle_input(ms(now), Input::SocketError { socket: SocketId(ms(socket)), detail });
    }

    /// The deadline from `pollTimeout` was reached.
    pub fn timeout(&mut self, now: f64) {
        self.inner.handle_input(ms(now), Input::Timeout);
    }

    /// The network came back (`online`): skip any backoff wait.
    #[wasm_bindgen(js_name = networkOnline)]
    pub fn network_online(&mut self, now: f64) {
        self.inner.handle_input(ms(now), Input::NetworkOnline);
    }

    /// Closes the connection, keeping the session (unmount, page hidden).
    pub fn close(&mut self, now: f64) {
        self.inner.handle_input(ms(now), Input::Close);
    }

    /// Releases the client; every later action throws.
    pub fn destroy(&mut self, now: f64) {
        self.inner.handle_input(ms(now), Input::Destroy);
    }

    /// Sends a chat message; returns its action id, or `undefined` when refused.
    #[wasm_bindgen(js_name = sendMessage)]
    pub fn send_message(&mut self, now: f64, text: &str) -> Result<Option<String>, JsValue> {
        action(self.inner.send_message(ms(now), text))
    }

    /// "Add" on a product card (`product` is a ProductItem as JSON): emits
    /// `product_click` and sends `select_item`. Throws a `TypeError` when
    /// the JSON is not a ProductItem.
    #[wasm_bindgen(js_name = selectProduct)]
    pub fn select_product(
        &mut self,
        now: f64,
        product: &str,
        quantity: Option<f64>,
    ) -> Result<Option<String>, JsValue> {
        let product: ProductItem = serde_json::from_str(product)
            .map_err(|e| JsValue::from(js_sys::TypeError::new(&format!("product is not a ProductItem: {e}"))))?;
        action(self.inner.select_product(ms(now), &product, quantity))
    }

    /// Sets the quantity of a cart line.
    #[wasm_bindgen(js_name = updateQuantity)]
    pub fn update_quantity(&mut self, now: f64, sku: &str, quantity: f64) -> Result<Option<String>, JsValue> {
        action(self.inner.update_quantity(ms(now), sku, quantity))
    }

    /// Removes a cart line.
    #[wasm_bindgen(js_name = removeItem)]
    pub fn remove_item(&mut self, now: f64, sku: &str) -> Result<Option<String>, JsValue> {
        action(self.inner.remove_item(ms(now), sku))
    }

    /// Empties the cart.
    #[wasm_bindgen(js_name = clearCart)]
    pub fn clear_cart(&mut self, now: f64) -> Result<Option<String>, JsValue> {
        action(self.inner.clear_cart(ms(now)))
    }

    /// Forgets the conversation; the next `auth` opens a new session.
    pub fn reset(&mut self, now: f64) -> Result<(), JsValue> {
        action(self.inner.reset(ms(now)).map(|()| String::new())).map(|_| ())
    }

    /// Changes the language of error texts from now on (`en`, `uk`; others are English).
    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(&mut self, language: &str) {
        self.inner.set_language(Language::from_tag(language));
    }

    /// The language tag in use (`en` or `uk`).
    #[wasm_bindgen(getter)]
    pub fn language(&self) -> String {
        self.inner.language().tag().into()
    }

    /// The connection state (`idle`, `connecting`, `authenticating`,
    /// `connected`, `reconnecting`, `stopped`, `destroyed`).
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> String {
        self.inner.state().as_str().into()
    }

    /// The current (or to-be-resumed) session id.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> Option<String> {
        self.inner.session_id().map(str::to_owned)
    }

    /// The last server `seq` applied.
    #[wasm_bindgen(getter, js_name = lastSeq)]
    pub fn last_seq(&self) -> f64 {
        self.inner.last_seq() as f64
    }

    /// The cart as last confirmed by the server, as JSON `{"items": [...], "total": n}`.
    #[wasm_bindgen(getter)]
    pub fn cart(&self) -> String {
        serde_json::to_string(self.inner.cart()).unwrap_or_else(|_| r#"{"items":[],"total":0}"#.into())
    }
}

/// Every UI string of the core's catalog in `language`, as a JSON object
/// from key (`send`, `add`, `typing`, ...) to text.
#[wasm_bindgen(js_name = uiStrings)]
pub fn ui_strings(language: &str) -> String {
    let language = Language::from_tag(language);
    let map: serde_json::Map<String, serde_json::Value> =
        UiText::ALL.iter().map(|t| (t.key().to_owned(), t.text(language).into())).collect();
    serde_json::Value::Object(map).to_string()
}
