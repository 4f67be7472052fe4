//! `vizochok._native`: the one VIZOCHOK [`Driver`] for Python.
//!
//! The driver runs the protocol and the run loop; this module adapts types
//! and nothing else. Python hands it a transport (`now`, `open`, `send`,
//! `close`, `set_timer`: the Rust client's `Transport`, reporting back
//! through a [`Reports`]) and four callables: `deliver` (an event as the
//! JSON that `vizochok.generated.types.event_from_dict` reads),
//! `save_session`, `released` and `report_error`. Every call into the
//! driver releases the GIL, and every call out takes it, so a callback may
//! call the widget again and another thread never waits on the driver
//! holding the GIL. What the app's code raises that is no `Exception`
//! (`SystemExit`, `KeyboardInterrupt`) is not swallowed: the widget call
//! that ran the driver raises it once the driver is done.

mod events;

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::pyclass::{PyTraverseError, PyVisit};
use vizochok_core::{
    ActionError, Config, Driver, Event, Host, Input, Language, Limits, PageContext, ProductItem, Rating, SdkInfo,
    Secret, Session, SocketId, Timers,
};

pyo3::create_exception!(vizochok, WidgetClosedError, PyRuntimeError, "An action on a widget after `close()`.");

/// The SDK name sent in the `auth` frame.
const SDK_NAME: &str = "vizochok-python";

thread_local! {
    /// The calls into drivers this thread is in, outermost first: each
    /// driver's address and, for the outermost call into it, what the app's
    /// code raised meanwhile that is no `Exception`, to raise once the driver
    /// is done (a driver delivers on the thread of the call that ran it).
    static CALLS: RefCell<Vec<(usize, Option<PyErr>)>> = const { RefCell::new(Vec::new()) };
}

/// Ends a call of [`CALLS`], on a panic too.
struct Leave;

impl Drop for Leave {
    fn drop(&mut self) {
        let left = CALLS.with_borrow_mut(Vec::pop);
        drop(left); // outside the borrow: dropping a PyErr may run Python code
    }
}

/// What the driver handle and the transport's reports share.
struct Shared {
    driver: Driver<PyHost>,
}

/// The Python side of the driver.
struct PyHost {
    transport: Py<PyAny>,
    /// Let go of at release: a closed widget the app keeps must not keep
    /// what they hold. Locked only to read or take them, never across a call.
    app: Mutex<Option<App>>,
    report_error: Py<PyAny>,
    /// The api key and user token, to keep them out of what Python logs.
    secrets: Vec<Secret>,
    /// Handed to the transport inside every `Reports`.
    me: Weak<Shared>,
}

/// The callables that reach the app: its callbacks and its session store.
struct App {
    deliver: Py<PyAny>,
    save_session: Option<Py<PyAny>>,
    released: Py<PyAny>,
}

impl PyHost {
    fn app(&self) -> MutexGuard<'_, Option<App>> {
        self.app.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Calls into Python for I/O. Such a call has nowhere to fail to (the
    /// driver goes on either way), so an exception goes to `sys.unraisablehook`.
    fn io(&self, call: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>) {
        Python::attach(|py| {
            if let Some(e) = call(py).err().and_then(|e| self.escape(py, e)) {
                e.write_unraisable(py, None);
            }
        });
    }

    /// Keeps a `BaseException` that is no `Exception` for the outermost call
    /// into this driver on this thread to raise; hands back what is left to
    /// report (an `Exception`, or one with no such call to carry it).
    fn escape(&self, py: Python<'_>, error: PyErr) -> Option<PyErr> {
        if error.is_instance_of::<PyException>(py) {
            return Some(error);
        }
        let me = self.me.as_ptr() as usize;
        let mut error = Some(error);
        let carried = CALLS.with_borrow_mut(|calls| {
            let Some((_, kept)) = calls.iter_mut().find(|(driver, _)| *driver == me) else { return false };
            if kept.is_none() {
                *kept = error.take(); // the first one raised wins
            }
            true
        });
        // A second one is dropped here, outside the borrow (dropping may run Python code).
        error.filter(|_| !carried)
    }

    fn reports(&self, py: Python<'_>) -> PyResult<Py<Reports>> {
        Py::new(py, Reports { shared: self.me.clone() })
    }
}

impl Host for PyHost {
    fn open_socket(&self, socket: SocketId, url: &str) {
        self.io(|py| self.transport.call_method1(py, "open", (socket.0, url, self.reports(py)?)));
    }

    fn send_text(&self, socket: SocketId, text: &str) {
        self.io(|py| self.transport.call_method1(py, "send", (socket.0, text)));
    }

    fn close_socket(&self, socket: SocketId, code: u16, reason: &str) {
        self.io(|py| self.transport.call_method1(py, "close", (socket.0, code, reason)));
    }

    fn set_timer(&self, deadline: Option<u64>) {
        self.io(|py| self.transport.call_method1(py, "set_timer", (deadline, self.reports(py)?)));
    }

    fn save_session(&self, session_id: Option<&str>) {
        Python::attach(|py| {
            let save = self.app().as_ref().and_then(|app| app.save_session.as_ref().map(|s| s.clone_ref(py)));
            let Some(failure) = save.and_then(|save| save.call1(py, (session_id,)).err()) else { return };
            if let Some(failure) = self.escape(py, failure) {
                // Logged by class only, as every host does: the app's message
                // may carry the session id it was handed.
                let class = failure.get_type(py).name().map(|name| name.to_string()).unwrap_or_default();
                self.report_error(&format!("the session store failed and the widget carried on: {class}"));
            }
        });
    }

    fn deliver(&self, event: Event) -> Result<(), String> {
        let json = events::to_json(&event);
        Python::attach(|py| {
            let Some(deliver) = self.app().as_ref().map(|app| app.deliver.clone_ref(py)) else { return Ok(()) };
            match deliver.call1(py, (json,)).err().and_then(|e| self.escape(py, e)) {
                None => Ok(()),
                Some(e) => {
                    let trace = e.traceback(py).and_then(|t| t.format().ok()).unwrap_or_default();
                    Err([trace, e.to_string()].concat())
                }
            }
        })
    }

    fn report_error(&self, message: &str) {
        self.io(|py| self.report_error.call1(py, (message,)));
    }

    fn released(&self) {
        self.io(|py| {
            let app = self.app().take();
            app.map_or_else(|| Ok(py.None()), |app| app.released.call0(py))
        });
    }
}

impl Shared {
    fn now(&self, py: Python<'_>) -> PyResult<u64> {
        self.driver.host().transport.call_method0(py, "now")?.extract(py)
    }

    fn handle(&self, py: Python<'_>, input: Input<'_>) -> PyResult<()> {
        let now = self.now(py)?;
        self.run(py, || self.driver.handle(now, input))
    }

    /// Calls the driver without the GIL; then, when this is the outermost
    /// call into it on this thread (the one that delivered), raises what
    /// the app's code raised meanwhile that is no `Exception`: the driver
    /// has finished its queue by then.
    fn run<T: Send>(&self, py: Python<'_>, call: impl FnOnce() -> T + Send) -> PyResult<T> {
        CALLS.with_borrow_mut(|calls| calls.push((self as *const Shared as usize, None)));
        let _leave = Leave;
        let value = py.detach(call);
        match CALLS.with_borrow_mut(|calls| calls.last_mut().and_then(|(_, kept)| kept.take())) {
            Some(raised) => Err(raised),
            None => Ok(value),
        }
    }

    /// Runs an action: its value, `None` when refused with a contract code
    /// (the driver has reported it to `on_error`), or the exception of a
    /// wrong call.
    fn act<T: Send>(
        &self,
        py: Python<'_>,
        action: impl FnOnce(&Driver<PyHost>, u64) -> Result<T, ActionError> + Send,
    ) -> PyResult<Option<T>> {
        let now = self.now(py)?;
        match self.run(py, || action(&self.driver, now))? {
            Ok(value) => Ok(Some(value)),
            Err(ActionError::Rejected(_)) => Ok(None),
            Err(ActionError::Invalid(why)) => Err(PyValueError::new_err(why)),
            Err(ActionError::Destroyed) => Err(WidgetClosedError::new_err("the widget was closed")),
        }
    }
}

/// How a transport tells the driver what happened to a socket or the timer.
/// Once the driver is gone, reports go nowhere.
#[pyclass(module = "vizochok._native", frozen)]
struct Reports {
    shared: Weak<Shared>,
}

impl Reports {
    fn input(&self, py: Python<'_>, input: Input<'_>) -> PyResult<()> {
        match self.shared.upgrade() {
            Some(shared) => shared.handle(py, input),
            None => Ok(()),
        }
    }
}

#[pymethods]
impl Reports {
    fn opened(&self, py: Python<'_>, socket: u64) -> PyResult<()> {
        self.input(py, Input::SocketOpened(SocketId(socket)))
    }

    fn text(&self, py: Python<'_>, socket: u64, text: &str) -> PyResult<()> {
        self.input(py, Input::Text(SocketId(socket), text))
    }

    fn binary(&self, py: Python<'_>, socket: u64, length: usize) -> PyResult<()> {
        self.input(py, Input::Binary(SocketId(socket), length))
    }

    fn ended(&self, py: Python<'_>, socket: u64, code: Option<u16>, reason: &str) -> PyResult<()> {
        self.input(py, Input::SocketEnded { socket: SocketId(socket), code, reason })
    }

    fn timer_fired(&self, py: Python<'_>) -> PyResult<()> {
        self.input(py, Input::Timeout)
    }
}

/// Reads a config struct from the attributes of the same names (the
/// generated `Timers` and `Limits`); the struct literal lists every field.
macro_rules! read {
    ($object:expr, $ty:ident { $($field:ident),* $(,)? }) => {
        match $object {
            None => $ty::default(),
            Some(o) => $ty { $($field: o.getattr(stringify!($field))?.extract()?,)* },
        }
    };
}

/// The generated `Timers` (or the defaults).
#[rustfmt::skip]
fn read_timers(timers: Option<&Bound<'_, PyAny>>) -> PyResult<Timers> {
    Ok(read!(timers, Timers { socket_open_ms, auth_ms, heartbeat_ms, heartbeat_answer_ms, backoff_base_ms,
        backoff_max_ms, storm_spread_ms, retry_after_ms, bad_frame_window_ms }))
}

/// The generated `Limits` (or the defaults).
#[rustfmt::skip]
fn read_limits(limits: Option<&Bound<'_, PyAny>>) -> PyResult<Limits> {
    Ok(read!(limits, Limits { max_message_chars, max_outbound_bytes, max_inbound_bytes, queue_capacity,
        max_reconnect_attempts, max_action_retries, max_bad_frames, known_products }))
}

/// A JSON argument (`to_dict()` of a generated dataclass) as a Rust type.
fn from_json<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> PyResult<T> {
    serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("not a valid {what}: {e}")))
}

/// The driver, for `vizochok.Widget`. See `vizochok/_native.pyi`.
#[pyclass(module = "vizochok._native", name = "Driver", frozen)]
struct PyDriver {
    shared: Arc<Shared>,
}

#[pymethods]
impl PyDriver {
    #[new]
    #[pyo3(signature = (*, api_key, store_id, url, seed, transport, deliver, released, report_error,
        save_session=None, user_id=None, user_token=None, language="en", session_id=None, timers=None, limits=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        api_key: &str,
        store_id: &str,
        url: &str,
        seed: u64,
        transport: Py<PyAny>,
        deliver: Py<PyAny>,
        released: Py<PyAny>,
        report_error: Py<PyAny>,
        save_session: Option<Py<PyAny>>,
        user_id: Option<String>,
        user_token: Option<&str>,
        language: &str,
        session_id: Option<String>,
        timers: Option<&Bound<'_, PyAny>>,
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyDriver> {
        let mut config = Config::new(api_key, store_id, url, seed);
        config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
        config.user_id = user_id;
        config.user_token = user_token.map(Secret::new);
        config.language = Language::from_tag(language);
        config.session_id = session_id.map(Secret::new);
        (config.timers, config.limits) = (read_timers(timers)?, read_limits(limits)?);
        let secrets = std::iter::once(config.api_key.clone()).chain(config.user_token.clone()).collect();
        let session = Session::new(config).map_err(|e| PyValueError::new_err(e.message()))?;
        let shared = Arc::new_cyclic(|me| {
            let app = Mutex::new(Some(App { deliver, save_session, released }));
            let host = PyHost { transport, app, report_error, secrets, me: me.clone() };
            Shared { driver: Driver::with_session(session, host) }
        });
        Ok(PyDriver { shared })
    }

    fn connect(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.handle(py, Input::Connect)
    }

    fn disconnect(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.handle(py, Input::Disconnect)
    }

    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.handle(py, Input::Destroy)
    }

    fn network_online(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.handle(py, Input::NetworkOnline)
    }

    fn send_message(&self, py: Python<'_>, text: &str) -> PyResult<Option<String>> {
        self.shared.act(py, |d, now| d.send_message(now, text))
    }

    #[pyo3(signature = (product, quantity=None))]
    fn select_product(&self, py: Python<'_>, product: &str, quantity: Option<f64>) -> PyResult<Option<String>> {
        let product: ProductItem = from_json(product, "ProductItem")?;
        self.shared.act(py, |d, now| d.select_product(now, &product, quantity))
    }

    fn update_quantity(&self, py: Python<'_>, sku: &str, quantity: f64) -> PyResult<Option<String>> {
        self.shared.act(py, |d, now| d.update_quantity(now, sku, quantity))
    }

    fn remove_item(&self, py: Python<'_>, sku: &str) -> PyResult<Option<String>> {
        self.shared.act(py, |d, now| d.remove_item(now, sku))
    }

    fn clear_cart(&self, py: Python<'_>) -> PyResult<Option<String>> {
        self.shared.act(py, |d, now| d.clear_cart(now))
    }

    fn set_context(&self, py: Python<'_>, context: &str) -> PyResult<Option<String>> {
        let context: PageContext = from_json(context, "PageContext")?;
        self.shared.act(py, |d, now| d.set_context(now, context))
    }

    fn stop(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.shared.act(py, |d, now| d.stop_reply(now))?.flatten())
    }

    #[pyo3(signature = (message_id, rating, comment=None))]
    fn feedback(
        &self,
        py: Python<'_>,
        message_id: &str,
        rating: &str,
        comment: Option<&str>,
    ) -> PyResult<Option<String>> {
        let rating = Rating::parse(rating).ok_or_else(|| PyValueError::new_err("rating must be \"up\" or \"down\""))?;
        self.shared.act(py, |d, now| d.feedback(now, message_id, rating, comment))
    }

    fn reset(&self, py: Python<'_>) -> PyResult<()> {
        self.shared.act(py, |d, now| d.reset(now)).map(drop)
    }

    fn set_language(&self, language: &str) {
        self.shared.driver.set_language(Language::from_tag(language));
    }

    #[getter]
    fn state(&self) -> &'static str {
        self.shared.driver.state().as_str()
    }

    /// The cart, as JSON.
    #[getter]
    fn cart(&self) -> String {
        serde_json::to_string(&self.shared.driver.cart()).unwrap_or_default()
    }

    #[getter]
    fn session_id(&self) -> Option<String> {
        self.shared.driver.session_id()
    }

    /// The pending actions, as JSON.
    #[getter]
    fn pending_actions(&self) -> String {
        events::pending_json(&self.shared.driver.pending_actions())
    }

    /// `text` with the api key and the user token cut out.
    fn redact(&self, text: &str) -> String {
        self.shared.driver.host().secrets.iter().fold(text.to_owned(), |text, secret| secret.redact(&text))
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        let host = self.shared.driver.host();
        visit.call(&host.transport)?;
        // Taken only with the GIL, which the collector holds; a lock held
        // elsewhere leaves the app's objects counted as reachable (safe).
        if let Ok(app) = host.app.try_lock() {
            if let Some(app) = app.as_ref() {
                visit.call(&app.deliver)?;
                visit.call(&app.save_session)?;
                visit.call(&app.released)?;
            }
        }
        visit.call(&host.report_error)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyDriver>()?;
    m.add_class::<Reports>()?;
    m.add("WidgetClosedError", m.py().get_type::<WidgetClosedError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("MAX_SOCKET_MESSAGE_BYTES", vizochok_core::MAX_SOCKET_MESSAGE_BYTES)?;
    Ok(())
}
