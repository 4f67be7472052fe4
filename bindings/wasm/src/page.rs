//! The page's cores: the driver's host for a page (which reaches it through
//! [`crate::abi`]), and what each export does, in safe Rust.

use std::cell::RefCell;
use std::rc::Rc;

use crate::abi::{self, Answer};
use vizochok_core::proto::frame::payload as json;
use vizochok_core::proto::json::{install_float_fallback, FloatFallback, Writer};
use vizochok_core::proto::markdown as md;
use vizochok_core::{ActionError, Config, Driver, Event, Host, Input, Language, Rating, SdkInfo, Secret, SocketId};

/// The SDK name sent in the `auth` frame.
const SDK_NAME: &str = "vizochok-wasm";

/// The driver's host: the page, by the core's handle.
#[derive(Debug)]
struct Page {
    core: u32,
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

/// The event as the page's callback receives it, as JSON. Every other
/// event (a typing, delta, response, user_message or session_complete, a
/// history with entries, a cart change from the server) comes only as a
/// frame event (`Output::Event`'s promise; the simulator checks it), which
/// the page takes from its own parse of the frame, so the module carries
/// no encoder for them.
fn payload(event: &Event) -> String {
    match event {
        Event::CartChanged(e) => json::cart_changed_json(e),
        Event::ProductClick(p) => json::product_json(p),
        Event::Error(e) => json::error_json(e),
        Event::StateChanged(state) => json::string_json(state.as_str()),
        Event::History(_) => r#"{"type":"history","entries":[]}"#.into(),
        Event::Acknowledged { id } => json::message_json("ack", &[("id", Some(id))]),
        _ => String::new(),
    }
}

/// What the driver is told when a callback threw; `core.js` logs the
/// exception itself next to the driver's line.
const THREW: &str = "see the error logged with this line";

impl Host for Page {
    fn open_socket(&self, socket: SocketId, url: &str) {
        abi::open(self.core, socket_number(socket), url);
    }

    fn send_text(&self, socket: SocketId, text: &str) {
        abi::send(self.core, socket_number(socket), text);
    }

    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        abi::close(self.core, socket_number(socket), code, reason);
    }

    fn set_timer(&self, deadline: Option<u64>) {
        // Milliseconds of performance.now() fit an f64 exactly.
        abi::timer(self.core, deadline.map_or(-1.0, |d| d as f64));
    }

    fn save_session(&self, session_id: Option<&str>) {
        abi::save(self.core, session_id);
    }

    fn deliver(&self, event: Event) -> Result<(), String> {
        abi::event(self.core, kind(&event), &payload(&event)).then_some(()).ok_or_else(|| THREW.into())
    }

    fn deliver_from_frame(&self, event: Event, frame: u32) -> Result<(), String> {
        abi::frame(self.core, kind(&event), frame).then_some(()).ok_or_else(|| THREW.into())
    }

    fn report_error(&self, message: &str) {
        abi::report(self.core, message);
    }

    fn released(&self) {
        abi::released(self.core);
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

thread_local! {
    /// Every core of the page, by handle − 1 (a released one leaves its slot free).
    static CORES: RefCell<Vec<Option<Rc<Driver<Page>>>>> = const { RefCell::new(Vec::new()) };
}

/// The core of a handle (held by the caller, so a callback may create or
/// release cores meanwhile).
fn core(handle: u32) -> Option<Rc<Driver<Page>>> {
    let index = usize::try_from(handle).ok()?.checked_sub(1)?;
    CORES.with_borrow(|cores| cores.get(index)?.clone())
}

/// A widget's config as the page passes it (`None`: not given).
pub(crate) struct Settings<'a> {
    pub key: Option<&'a str>,
    pub store: Option<&'a str>,
    pub url: Option<&'a str>,
    pub user: Option<&'a str>,
    pub token: Option<&'a str>,
    pub session: Option<&'a str>,
    pub language: Option<&'a str>,
    pub seed: u64,
}

/// An empty string given for an optional setting means none.
fn given(text: Option<&str>) -> Option<String> {
    text.filter(|t| !t.is_empty()).map(str::to_owned)
}

/// Checks the config and creates an idle core: its handle, or 0 with the
/// reason as text (a `TypeError`). The seed comes from
/// `crypto.getRandomValues`.
pub(crate) fn create(settings: Settings<'_>) -> u32 {
    let mut config = Config::new(
        settings.key.unwrap_or(""),
        settings.store.unwrap_or(""),
        settings.url.unwrap_or(""),
        settings.seed,
    );
    config.user_id = given(settings.user);
    config.user_token = given(settings.token).map(Secret::new);
    config.session_id = given(settings.session).map(Secret::new);
    config.language = Language::from_tag(settings.language.unwrap_or(""));
    config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
    // The rare number outside the codec's fast path: JavaScript converts it.
    install_float_fallback(FloatFallback { parse: abi::parse_float, write: abi::write_float });
    CORES.with_borrow_mut(|cores| {
        let index = cores.iter().position(Option::is_none).unwrap_or(cores.len());
        // A page never holds 2³² widgets.
        let handle = u32::try_from(index + 1).unwrap_or(u32::MAX);
        match Driver::new(config, Page { core: handle }) {
            Ok(driver) => {
                let driver = Some(Rc::new(driver));
                match cores.get_mut(index) {
                    Some(slot) => *slot = driver,
                    None => cores.push(driver),
                }
                handle
            }
            Err(e) => {
                abi::answer(Answer::TypeError, &e.message());
                0
            }
        }
    })
}

/// Drops a core.
pub(crate) fn release(handle: u32) {
    let index = usize::try_from(handle).ok().and_then(|h| h.checked_sub(1));
    let gone = CORES.with_borrow_mut(|cores| index.and_then(|i| cores.get_mut(i)).and_then(Option::take));
    drop(gone);
}

/// An input: 0 connect, 1 socket opened, 2 text (`text`), 3 binary
/// (`code` bytes), 4 socket ended (`code`, -1 for none; `text` the
/// reason), 5 timer, 6 network back, 7 disconnect, 8 destroy, 9 a text
/// frame too large to copy (`code` bytes).
pub(crate) fn input(handle: u32, kind: u32, now: f64, socket: u32, code: i32, text: &str) {
    let Some(driver) = core(handle) else { return };
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
        9 => Input::Oversized(socket, usize::try_from(code).unwrap_or(0)),
        _ => Input::Destroy,
    };
    driver.handle(ms(now), input);
}

/// An action: 0 message (`a` text), 1 select (`a` product JSON, `n`
/// quantity or NaN), 2 update quantity (`a` sku, `n`), 3 remove (`a`),
/// 4 clear cart, 5 context (`a` JSON), 6 stop, 7 feedback (`a` message
/// id, `b` rating, `c` comment or empty), 8 reset. Its id; null when
/// refused (`onError` fired) or nothing to stop; a `TypeError`/`RangeError`
/// for a wrong call, an `Error` after destroy.
pub(crate) fn act(handle: u32, kind: u32, now: f64, [a, b, c]: [&str; 3], n: f64) -> u32 {
    let Some(d) = core(handle) else { return abi::answer(Answer::Error, DESTROYED) };
    let now = ms(now);
    let quantity = (!n.is_nan()).then_some(n);
    let result = match kind {
        0 => d.send_message(now, a).map(Some),
        1 => match json::read_product(a) {
            Ok(product) => d.select_product(now, &product, quantity).map(Some),
            Err(e) => return type_error("a ProductItem", &e.message()),
        },
        2 => d.update_quantity(now, a, n).map(Some),
        3 => d.remove_item(now, a).map(Some),
        4 => d.clear_cart(now).map(Some),
        5 => match json::read_context(a) {
            Ok(context) => d.set_context(now, context).map(Some),
            Err(e) => return type_error("a page context", &e.message()),
        },
        6 => d.stop_reply(now),
        7 => match Rating::parse(b) {
            Some(rating) => d.feedback(now, a, rating, Some(c).filter(|c| !c.is_empty())).map(Some),
            None => return type_error("'up' or 'down'", b),
        },
        _ => d.reset(now).map(|()| None),
    };
    match result {
        Ok(Some(id)) => abi::answer(Answer::Text, &id),
        Ok(None) | Err(ActionError::Rejected(_)) => Answer::Null as u32,
        Err(ActionError::Invalid(message)) => abi::answer(Answer::RangeError, &message),
        Err(ActionError::Destroyed) => abi::answer(Answer::Error, DESTROYED),
    }
}

const DESTROYED: &str = "VIZOCHOKWidget was destroyed";

fn type_error(expected: &str, found: &str) -> u32 {
    // Pushed, not `concat()`: std's join is the larger code.
    let mut message = String::from("expected ");
    for part in [expected, ": ", found] {
        message.push_str(part);
    }
    abi::answer(Answer::TypeError, &message)
}

/// A read, as JSON text: 0 state, 1 session id, 2 cart, 3 pending actions, 4 language.
pub(crate) fn read(handle: u32, what: u32) {
    let Some(driver) = core(handle) else { return abi::text("null") };
    let text = driver.read(|s| match what {
        0 => json::string_json(s.state().as_str()),
        1 => s.session_id().map_or_else(|| "null".into(), json::string_json),
        2 => json::cart_json(s.cart()),
        3 => pending_json(&s.pending_actions()),
        _ => json::string_json(s.language().tag()),
    });
    abi::text(&text);
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

/// Changes the language of error texts from now on (`en`, `uk`; others are English).
pub(crate) fn set_language(handle: u32, tag: &str) {
    if let Some(driver) = core(handle) {
        driver.set_language(Language::from_tag(tag));
    }
}

/// A reply's Markdown, parsed, as JSON blocks (for the UI).
pub(crate) fn markdown(text: &str) {
    abi::text(&json::blocks_json(&md::parse(text)));
}
