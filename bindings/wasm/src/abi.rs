//! The module's boundary with `core.js`, written by hand: numbers and
//! (address, length) pairs of UTF-8 text in the module's memory.
//!
//! Text into the module: `core.js` asks for a buffer ([`buffer`]), writes
//! the call's strings into it one after another, and passes their byte
//! lengths (-1 for none); the call takes the buffer. A call made from inside
//! a callback gets a buffer of its own, so no text the module is reading is
//! ever written over. Text out of the module: the imports below get an
//! address and a length, and `core.js` decodes the bytes during the call.
//! An export that answers with text hands it to `text` before it returns.
//!
//! Calling an import is `unsafe` in Rust; each has one safe wrapper here.
//! The exports are `#[no_mangle]` functions (also counted as `unsafe` code
//! by the lint): their names are the module's interface.

use std::cell::RefCell;

mod imports {
    #[link(wasm_import_module = "vizochok")]
    extern "C" {
        pub fn open(core: u32, socket: u32, url: *const u8, len: usize);
        pub fn send(core: u32, socket: u32, text: *const u8, len: usize);
        pub fn close(core: u32, socket: u32, code: u32, reason: *const u8, len: usize);
        pub fn timer(core: u32, deadline: f64);
        pub fn save(core: u32, session_id: *const u8, len: isize);
        pub fn event(core: u32, kind: u32, json: *const u8, len: usize) -> u32;
        pub fn frame(core: u32, kind: u32, frame: u32) -> u32;
        pub fn report(core: u32, message: *const u8, len: usize);
        pub fn released(core: u32);
        pub fn text(text: *const u8, len: usize);
        pub fn parse_float(token: *const u8, len: usize) -> f64;
        pub fn write_float(x: f64, out: *mut u8, cap: usize) -> usize;
    }
}

// SAFETY (every wrapper): the JavaScript side reads (or, for `write_float`,
// writes) only the `len` bytes at the address it is given, during the call,
// and keeps no reference to them.

/// Open a WebSocket.
pub(crate) fn open(core: u32, socket: u32, url: &str) {
    unsafe { imports::open(core, socket, url.as_ptr(), url.len()) }
}

/// Send a text frame.
pub(crate) fn send(core: u32, socket: u32, text: &str) {
    unsafe { imports::send(core, socket, text.as_ptr(), text.len()) }
}

/// Close a socket.
pub(crate) fn close(core: u32, socket: u32, code: u16, reason: &str) {
    unsafe { imports::close(core, socket, code.into(), reason.as_ptr(), reason.len()) }
}

/// Arm the timer (`-1`: none).
pub(crate) fn timer(core: u32, deadline: f64) {
    unsafe { imports::timer(core, deadline) }
}

/// Save the session id (`None`: forget it).
pub(crate) fn save(core: u32, session_id: Option<&str>) {
    let (at, len) = session_id.map_or((std::ptr::null(), -1), |id| (id.as_ptr(), id.len() as isize));
    unsafe { imports::save(core, at, len) }
}

/// An event as JSON; `false` when a callback threw.
pub(crate) fn event(core: u32, kind: u32, json: &str) -> bool {
    unsafe { imports::event(core, kind, json.as_ptr(), json.len()) == 0 }
}

/// An event of the `frame`-th text handed in; `false` when a callback threw.
pub(crate) fn frame(core: u32, kind: u32, frame: u32) -> bool {
    unsafe { imports::frame(core, kind, frame) == 0 }
}

/// Log a problem the driver recovered from, with what the callback threw.
pub(crate) fn report(core: u32, message: &str) {
    unsafe { imports::report(core, message.as_ptr(), message.len()) }
}

/// The core calls nothing back any more: the page may let go of its host object.
pub(crate) fn released(core: u32) {
    unsafe { imports::released(core) }
}

/// The text an export answers with.
pub(crate) fn text(text: &str) {
    unsafe { imports::text(text.as_ptr(), text.len()) }
}

/// JavaScript's `parseFloat` of a number token.
pub(crate) fn parse_float(token: &str) -> Option<f64> {
    Some(unsafe { imports::parse_float(token.as_ptr(), token.len()) }).filter(|x| !x.is_nan())
}

/// JavaScript's `String(x)` of a finite number, appended to `out`.
pub(crate) fn write_float(x: f64, out: &mut String) {
    // Number#toString of a double is at most 25 ASCII characters.
    let mut digits = [0u8; 32];
    let len = unsafe { imports::write_float(x, digits.as_mut_ptr(), digits.len()) };
    out.push_str(crate::utf8::str_of(digits.get(..len).unwrap_or_default()).unwrap_or("null"));
}

thread_local! {
    /// Buffers no call is using.
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    /// The buffer `core.js` is writing the next call's text into.
    static RESERVED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// The address of a buffer of at least `len` bytes for the next call's text.
#[no_mangle]
pub extern "C" fn buffer(len: usize) -> usize {
    let mut buffer = SPARE.with_borrow_mut(Vec::pop).unwrap_or_default();
    if buffer.len() < len {
        // Zeroed once, so every byte the page may write over is initialized.
        buffer.resize(len, 0);
    }
    let at = buffer.as_mut_ptr().expose_provenance();
    if let Some(unused) = RESERVED.replace(Some(buffer)) {
        SPARE.with_borrow_mut(|spare| spare.push(unused));
    }
    at
}

/// The texts of a call, as `core.js` wrote them into the reserved buffer.
pub(crate) struct Texts {
    buffer: Vec<u8>,
}

impl Texts {
    /// Takes the reserved buffer (none for a call without text).
    fn take(any: bool) -> Texts {
        let buffer = if any { RESERVED.take().unwrap_or_default() } else { Vec::new() };
        Texts { buffer }
    }

    /// The strings of the given byte lengths, in order (`None` for a
    /// negative length, or for bytes that are not UTF-8 or not there).
    pub fn split<const N: usize>(&self, lens: [i32; N]) -> [Option<&str>; N] {
        let mut at = 0;
        lens.map(|len| {
            let len = usize::try_from(len).ok()?;
            let bytes = self.buffer.get(at..at + len)?;
            at += len;
            crate::utf8::str_of(bytes)
        })
    }
}

impl Drop for Texts {
    fn drop(&mut self) {
        if self.buffer.capacity() > 0 {
            let buffer = std::mem::take(&mut self.buffer);
            SPARE.with_borrow_mut(|spare| spare.push(buffer));
        }
    }
}

/// What `core.js` does with an export's answer (the text handed to `text`).
#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub(crate) enum Answer {
    /// The text.
    Text = 0,
    /// `null` (no text).
    Null = 1,
    /// Throw a `TypeError` with the text.
    TypeError = 2,
    /// Throw a `RangeError` with the text.
    RangeError = 3,
    /// Throw an `Error` with the text.
    Error = 4,
}

/// Hands `text` to the page and says what it is.
pub(crate) fn answer(kind: Answer, message: &str) -> u32 {
    text(message);
    kind as u32
}

// ----- the exports ---------------------------------------------------------------

/// A new core from its config (strings in the buffer: api key, store id,
/// URL, user id, user token, session id, language); its handle, or 0 with
/// the reason as text.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn create(
    key: i32,
    store: i32,
    url: i32,
    user: i32,
    token: i32,
    session: i32,
    language: i32,
    seed_hi: u32,
    seed_lo: u32,
) -> u32 {
    let texts = Texts::take(true);
    let [key, store, url, user, token, session, language] =
        texts.split([key, store, url, user, token, session, language]);
    let config = crate::page::Settings {
        key,
        store,
        url,
        user,
        token,
        session,
        language,
        seed: (u64::from(seed_hi) << 32) | u64::from(seed_lo),
    };
    crate::page::create(config)
}

/// Releases a core (its JavaScript object was collected).
#[no_mangle]
pub extern "C" fn release(core: u32) {
    crate::page::release(core);
}

/// An input of the page (see `page::input`); `len` bytes of text.
#[no_mangle]
pub extern "C" fn input(core: u32, kind: u32, now: f64, socket: u32, code: i32, len: i32) {
    let texts = Texts::take(len > 0);
    let [text] = texts.split([len]);
    crate::page::input(core, kind, now, socket, code, text.unwrap_or(""));
}

/// An action of the page (see `page::act`): three strings and a number.
#[no_mangle]
pub extern "C" fn act(core: u32, kind: u32, now: f64, a: i32, b: i32, c: i32, n: f64) -> u32 {
    let texts = Texts::take(true);
    let [a, b, c] = texts.split([a, b, c]);
    crate::page::act(core, kind, now, [a.unwrap_or(""), b.unwrap_or(""), c.unwrap_or("")], n)
}

/// A read of the session, as JSON text (see `page::read`).
#[no_mangle]
pub extern "C" fn read(core: u32, what: u32) {
    crate::page::read(core, what);
}

/// Changes the language of a core's texts.
#[no_mangle]
pub extern "C" fn language(core: u32, len: i32) {
    let texts = Texts::take(true);
    let [tag] = texts.split([len]);
    crate::page::set_language(core, tag.unwrap_or(""));
}

/// A reply's Markdown as JSON blocks, as text.
#[no_mangle]
pub extern "C" fn markdown(len: i32) {
    let texts = Texts::take(true);
    let [source] = texts.split([len]);
    crate::page::markdown(source.unwrap_or(""));
}
