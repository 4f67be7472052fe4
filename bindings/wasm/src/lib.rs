//! The browser binding of the VIZOCHOK client: the core's [`Driver`] for a
//! JavaScript host.
//!
//! This crate adapts types only: the protocol and the run loop live in
//! `vizochok-core`. [`Core`] wraps the driver; `widget.js` hands it socket
//! events, the timer and the page's actions through two entry points
//! (`input`, `act`), and receives what the driver asks for through the
//! methods of a host object (`open`, `send`, `close`, `timer`, `save`,
//! `event`, `frame`, `report`). An event whose data is the frame being
//! handled reaches the page as `frame(kind)`: the page turns its own parse
//! of the frame into the callback's object, so a frame's JSON is read once
//! by Rust (to check it and apply it) and once by the browser, never
//! written out again. Other events come as `event(kind, json)`.

use std::cell::RefCell;

use vizochok_core::proto::frame::payload as json;
use vizochok_core::proto::json::{install_float_fallback, FloatFallback, Writer};
use vizochok_core::proto::markdown;
use vizochok_core::{
    ActionError, Config, Driver, Event, Host, Input, Language, Rating, SdkInfo, Secret, SocketId, UiText,
};
use wasm_bindgen::prelude::*;

/// The SDK name sent in the `auth` frame.
const SDK_NAME: &str = "vizochok-wasm";

#[wasm_bindgen]
extern "C" {
    /// The page's side, from `widget.js`.
    #[derive(Debug)]
    pub type PageHost;
    #[wasm_bindgen(method)]
    fn open(this: &PageHost, socket: u32, url: &str);
    #[wasm_bindgen(method)]
    fn send(this: &PageHost, socket: u32, text: &str);
    #[wasm_bindgen(method)]
    fn close(this: &PageHost, socket: u32, code: u16, reason: &str);
    #[wasm_bindgen(method)]
    fn timer(this: &PageHost, deadline: f64);
    #[wasm_bindgen(method)]
    fn save(this: &PageHost, session_id: Option<String>);
    #[wasm_bindgen(method, catch)]
    fn event(this: &PageHost, kind: u32, json: &str) -> Result<(), JsValue>;
    #[wasm_bindgen(method, catch)]
    fn frame(this: &PageHost, kind: u32) -> Result<(), JsValue>;
    #[wasm_bindgen(method)]
    fn report(this: &PageHost, message: &str, error: &JsValue);
}

/// The driver's host: the page, and what a callback threw until reported.
#[derive(Debug)]
struct Page {
    host: PageHost,
    thrown: RefCell<JsValue>,
}

/// The event's number (the order of `generated/kinds.js`).
fn kind(event: &Event) -> u32 {
    match event {
        Event::Connect => 0,
        Event::Disconnect => 1,
        Event::CartChanged(_) => 2,
        Event::ProductClick(_) => 3,
        Event::SessionComplete(_) => 4,
        Event::Error(_) => 5,
        Event::StateChanged(_) => 6,
        Event::Typing { .. } => 7,
        Event::Delta { .. } => 8,
        Event::Response(_) => 9,
        Event::UserMessage { .. } => 10,
        Event::History(_) => 11,
        Event::Acknowledged { .. } => 12,
    }
}

/// The event as the page's callback receives it, as JSON.
fn payload(event: &Event) -> String {
    match event {
        Event::Connect | Event::Disconnect => String::new(),
        Event::CartChanged(e) => json::cart_changed_json(e),
        Event::ProductClick(p) => json::product_json(p),
        Event::SessionComplete(s) => json::summary_json(s),
        Event::Error(e) => json::error_json(e),
        Event::StateChanged(state) => json::string_json(state.as_str()),
        Event::Typing { reply_to } => json::message_json("typing", &[("reply_to", reply_to.as_deref())]),
        Event::Delta { message_id, reply_to, text } => json::message_json(
            "delta",
            &[("message_id", Some(message_id)), ("reply_to", Some(reply_to)), ("text", Some(text))],
        ),
        Event::Response(reply) => json::reply_message_json(reply),
        Event::UserMessage { id, text } => {
            json::message_json("user_message", &[("id", Some(id)), ("text", Some(text))])
        }
        Event::History(entries) => json::history_message_json(entries),
        Event::Acknowledged { id } => json::message_json("ack", &[("id", Some(id))]),
    }
}

impl Page {
    fn caught(&self, result: Result<(), JsValue>) -> Result<(), String> {
        result.map_err(|error| {
            self.thrown.replace(error);
            "see the error logged with this line".into()
        })
    }
}

impl Host for Page {
    fn open_socket(&self, socket: SocketId, url: &str) {
        self.host.open(socket_number(socket), url);
    }

    fn send_text(&self, socket: SocketId, text: &str) {
        self.host.send(socket_number(socket), text);
    }

    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        self.host.close(socket_number(socket), code, reason);
    }

    fn set_timer(&self, deadline: Option<u64>) {
        // Milliseconds of performance.now() fit an f64 exactly.
        self.host.timer(deadline.map_or(-1.0, |d| d as f64));
    }

    fn save_session(&self, session_id: Option<&str>) {
        self.host.save(session_id.map(str::to_owned));
    }

    fn deliver(&self, event: Event) -> Result<(), String> {
        self.caught(self.host.event(kind(&event), &payload(&event)))
    }

    fn deliver_from_frame(&self, event: Event) -> Result<(), String> {
        self.caught(self.host.frame(kind(&event)))
    }

    fn report_error(&self, message: &str) {
        let error = self.thrown.replace(JsValue::UNDEFINED);
        self.host.report(message, &error);
    }
}

/// Socket ids count up from 1 per widget; a page never opens 2³² of them.
fn socket_number(socket: SocketId) -> u32 {
    u32::try_from(socket.0).unwrap_or(u32::MAX)
}

/// A host time (`performance.now()`) as the core's clock; NaN and negatives are 0.
fn ms(now: f64) -> u64 {
    now.max(0.0) as u64
}

fn optional(text: Option<String>) -> Option<String> {
    text.filter(|t| !t.is_empty())
}

/// The core of one widget.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Core {
    driver: Driver<Page>,
}

#[wasm_bindgen]
impl Core {
    /// Checks the config (a refused one throws a `TypeError` with the
    /// reason) and creates an idle core; the seed comes from
    /// `crypto.getRandomValues`.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(constructor)]
    pub fn new(
        api_key: &str,
        store_id: &str,
        url: &str,
        user_id: Option<String>,
        user_token: Option<String>,
        session_id: Option<String>,
        language: &str,
        seed_hi: u32,
        seed_lo: u32,
        host: PageHost,
    ) -> Result<Core, JsValue> {
        let mut config = Config::new(api_key, store_id, url, (u64::from(seed_hi) << 32) | u64::from(seed_lo));
        config.user_id = optional(user_id);
        config.user_token = optional(user_token).map(Secret::new);
        config.session_id = optional(session_id);
        config.language = Language::from_tag(language);
        config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
        // The rare number outside the codec's fast path: JavaScript converts it.
        install_float_fallback(FloatFallback { parse: js_parse_float, write: js_write_float });
        let page = Page { host, thrown: RefCell::new(JsValue::UNDEFINED) };
        Driver::new(config, page).map(|driver| Core { driver }).map_err(|e| js_sys::TypeError::new(&e.message()).into())
    }

    /// An input: 0 connect, 1 socket opened, 2 text (`text`), 3 binary
    /// (`code` bytes), 4 socket ended (`code`, -1 for none; `text` the
    /// reason), 5 timer, 6 network back, 7 disconnect, 8 destroy.
    pub fn input(&self, kind: u32, now: f64, socket: u32, code: i32, text: &str) {
        let socket = SocketId(socket.into());
        let input = match kind {
            0 => Input::Connect,
            1 => Input::SocketOpened(socket),
            2 => Input::Text(socket, text),
            3 => Input::Binary(socket, usize::try_from(code).unwrap_or(0)),
            4 => Input::SocketEnded { socket, code: u16::try_from(code).ok(), reason: text },
            5 => Input::Timeout,
            6 => Input::NetworkOnline,
            7 => Input::Disconnect,
            _ => Input::Destroy,
        };
        self.driver.handle(ms(now), input);
    }

    /// An action: 0 message (`a` text), 1 select (`a` product JSON, `n`
    /// quantity or NaN), 2 update quantity (`a` sku, `n`), 3 remove (`a`),
    /// 4 clear cart, 5 context (`a` JSON), 6 stop, 7 feedback (`a` message
    /// id, `b` rating, `c` comment or empty), 8 reset. Its id; `undefined`
    /// when refused (`onError` fired) or nothing to stop; throws a
    /// `TypeError`/`RangeError` for a wrong call, an `Error` after destroy.
    pub fn act(&self, kind: u32, now: f64, a: &str, b: &str, c: &str, n: f64) -> Result<Option<String>, JsValue> {
        let (d, now) = (&self.driver, ms(now));
        let quantity = (!n.is_nan()).then_some(n);
        let result = match kind {
            0 => d.send_message(now, a).map(Some),
            1 => {
                let product = json::read_product(a).map_err(|e| type_error("a ProductItem", &e.to_string()))?;
                d.select_product(now, &product, quantity).map(Some)
            }
            2 => d.update_quantity(now, a, n).map(Some),
            3 => d.remove_item(now, a).map(Some),
            4 => d.clear_cart(now).map(Some),
            5 => {
                let context = json::read_context(a).map_err(|e| type_error("a page context", &e.to_string()))?;
                d.set_context(now, context).map(Some)
            }
            6 => d.stop_reply(now),
            7 => {
                let rating = Rating::parse(b).ok_or_else(|| type_error("'up' or 'down'", b))?;
                d.feedback(now, a, rating, Some(c).filter(|c| !c.is_empty())).map(Some)
            }
            _ => d.reset(now).map(|()| None),
        };
        match result {
            Ok(id) => Ok(id),
            Err(ActionError::Rejected(_)) => Ok(None),
            Err(ActionError::Invalid(message)) => Err(js_sys::RangeError::new(&message).into()),
            Err(ActionError::Destroyed) => Err(js_sys::Error::new("VIZOCHOKWidget was destroyed").into()),
        }
    }

    /// A read, as JSON: 0 state, 1 session id, 2 cart, 3 pending actions, 4 language.
    pub fn read(&self, what: u32) -> String {
        self.driver.read(|s| match what {
            0 => json::string_json(s.state().as_str()),
            1 => s.session_id().map_or_else(|| "null".into(), json::string_json),
            2 => json::cart_json(s.cart()),
            3 => pending_json(&s.pending_actions()),
            _ => json::string_json(s.language().tag()),
        })
    }

    /// Changes the language of error texts from now on (`en`, `uk`; others are English).
    #[wasm_bindgen(js_name = setLanguage)]
    pub fn set_language(&self, language: &str) {
        self.driver.set_language(Language::from_tag(language));
    }
}

fn pending_json(actions: &[vizochok_core::PendingAction]) -> String {
    let mut w = Writer::with_capacity(64);
    w.begin_array();
    for a in actions {
        w.begin_object();
        w.str_field("id", &a.id);
        w.str_field("kind", a.kind.as_str());
        w.key("sent");
        w.bool(a.sent);
        w.end_object();
    }
    w.end_array();
    w.finish()
}

fn js_parse_float(token: &str) -> Option<f64> {
    Some(js_sys::parse_float(token)).filter(|x| !x.is_nan())
}

fn js_write_float(x: f64, out: &mut String) {
    out.push_str(&String::from(js_sys::Number::from(x).to_string_with_radix(10).unwrap_or_else(|_| "null".into())));
}

fn type_error(expected: &str, found: &str) -> JsValue {
    js_sys::TypeError::new(&["expected ", expected, ": ", found].concat()).into()
}

/// A reply's Markdown, parsed, as JSON blocks (for the UI).
#[wasm_bindgen]
pub fn markdown(text: &str) -> String {
    json::blocks_json(&markdown::parse(text))
}

/// Every UI string of the core's catalog in `language`, as a JSON object
/// from key (`send`, `add`, `typing`, ...) to text.
#[wasm_bindgen(js_name = uiStrings)]
pub fn ui_strings(language: &str) -> String {
    let language = Language::from_tag(language);
    json::strings_json(UiText::ALL.iter().map(|t| (t.key(), t.text(language))))
}
