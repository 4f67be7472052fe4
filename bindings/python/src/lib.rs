//! `vizochok._native`: the VIZOCHOK client core for Python.
//!
//! One class, `Session`, wraps the sans-IO [`vizochok_core::Session`] one to
//! one: every input, every output (as the dataclasses of
//! `vizochok/_types.py`), the deadline, the user actions and the getters.
//! Nothing here waits or does I/O; the asyncio driver (`vizochok.Widget`)
//! lives in Python. Every method borrows the core only for the Rust call
//! itself and converts to Python objects after the borrow ends, so no Rust
//! borrow is held while Python code runs.

mod convert;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use vizochok_core::{ActionError, Config, ConfigError, Language, SdkInfo, Session};

use convert::{classes, number, optional_number};

/// The SDK name sent in the `auth` frame.
const SDK_NAME: &str = "vizochok-python";

/// The VIZOCHOK client session, sans-IO. See `vizochok/_native.pyi`.
#[pyclass(module = "vizochok", name = "Session")]
struct PySession {
    core: Session,
    store_id: String,
}

/// Turns a refused action into the Python exception the docs promise.
fn action_error(py: Python<'_>, error: ActionError) -> PyErr {
    match error {
        ActionError::Invalid(message) => PyValueError::new_err(message),
        ActionError::Rejected(widget_error) => match classes(py) {
            Ok(c) => match c.widget_error(py, widget_error).and_then(|e| c.action_rejected.bind(py).call1((e,))) {
                Ok(exception) => PyErr::from_value(exception),
                Err(e) => e,
            },
            Err(e) => e,
        },
        ActionError::Destroyed => match classes(py) {
            Ok(c) => match c.session_destroyed.bind(py).call1(("the session was destroyed",)) {
                Ok(exception) => PyErr::from_value(exception),
                Err(e) => e,
            },
            Err(e) => e,
        },
    }
}

/// A config error, in the Python spelling of the argument names.
fn config_error(error: ConfigError) -> PyErr {
    let message = match error {
        ConfigError::MissingApiKey => "api_key is required".to_owned(),
        ConfigError::MissingStoreId => "store_id is required".to_owned(),
        other => other.to_string(),
    };
    PyValueError::new_err(message)
}

impl PySession {
    /// Runs `f` on the core with the borrow held only for that call.
    fn with_core<R>(slf: &Bound<'_, Self>, f: impl FnOnce(&mut Session) -> R) -> PyResult<R> {
        let mut this = slf
            .try_borrow_mut()
            .map_err(|_| PyRuntimeError::new_err("vizochok.Session is already in use (re-entrant call)"))?;
        Ok(f(&mut this.core))
    }

    fn action(slf: &Bound<'_, Self>, f: impl FnOnce(&mut Session) -> Result<String, ActionError>) -> PyResult<String> {
        Self::with_core(slf, f)?.map_err(|e| action_error(slf.py(), e))
    }
}

#[pymethods]
impl PySession {
    #[new]
    #[pyo3(signature = (*, api_key, store_id, url, seed=None, user_id=None, language="en", session_id=None, last_seq=0, timers=None, limits=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        api_key: &str,
        store_id: &str,
        url: &str,
        seed: Option<u64>,
        user_id: Option<String>,
        language: &str,
        session_id: Option<String>,
        last_seq: u64,
        timers: Option<&Bound<'_, PyAny>>,
        limits: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PySession> {
        let seed = match seed {
            Some(seed) => seed,
            None => convert::random_seed(py)?,
        };
        let mut config = Config::new(api_key, store_id, url, seed);
        config.user_id = user_id;
        config.language = Language::from_tag(language);
        config.session_id = session_id;
        config.last_seq = last_seq;
        config.sdk = SdkInfo { name: SDK_NAME.into(), version: env!("CARGO_PKG_VERSION").into() };
        if let Some(timers) = timers {
            config.timers = convert::timers(timers)?;
        }
        if let Some(limits) = limits {
            config.limits = convert::limits(limits)?;
        }
        classes(py)?;
        let core = Session::new(config).map_err(config_error)?;
        Ok(PySession { core, store_id: store_id.to_owned() })
    }

    /// Hands an input to the core at `now_ms` (monotonic milliseconds).
    fn handle_input(slf: &Bound<'_, Self>, now_ms: u64, input: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        classes(py)?.with_input(input, |input| Self::with_core(slf, |core| core.handle_input(now_ms, input)))?
    }

    /// The next output, or `None` when there is nothing to do.
    fn poll_output<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let output = Self::with_core(slf, Session::poll_output)?;
        match output {
            Some(output) => Ok(Some(classes(py)?.output(py, output)?)),
            None => Ok(None),
        }
    }

    /// Every pending output, in order (what `poll_output` would return one by one).
    fn drain_outputs<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let py = slf.py();
        let outputs = Self::with_core(slf, |core| std::iter::from_fn(|| core.poll_output()).collect::<Vec<_>>())?;
        let c = classes(py)?;
        let list = PyList::empty(py);
        for output in outputs {
            list.append(c.output(py, output)?)?;
        }
        Ok(list)
    }

    /// When to hand `Timeout` next (monotonic milliseconds), if ever.
    fn poll_timeout(&self) -> Option<u64> {
        self.core.poll_timeout()
    }

    /// Sends a chat message; returns its action id.
    fn send_message(slf: &Bound<'_, Self>, now_ms: u64, text: &str) -> PyResult<String> {
        Self::action(slf, |core| core.send_message(now_ms, text))
    }

    /// The shopper pressed "Add" on a product card; returns the action id.
    #[pyo3(signature = (now_ms, product, quantity=None))]
    fn select_product(
        slf: &Bound<'_, Self>,
        now_ms: u64,
        product: &Bound<'_, PyAny>,
        quantity: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<String> {
        let product = classes(slf.py())?.product(product)?;
        let quantity = match quantity {
            Some(q) => optional_number(q, "quantity")?,
            None => None,
        };
        Self::action(slf, |core| core.select_product(now_ms, &product, quantity))
    }

    /// Sets the quantity of a cart line; returns the action id.
    fn update_quantity(slf: &Bound<'_, Self>, now_ms: u64, sku: &str, quantity: &Bound<'_, PyAny>) -> PyResult<String> {
        let quantity = number(quantity, "quantity")?;
        Self::action(slf, |core| core.update_quantity(now_ms, sku, quantity))
    }

    /// Removes a cart line; returns the action id.
    fn remove_item(slf: &Bound<'_, Self>, now_ms: u64, sku: &str) -> PyResult<String> {
        Self::action(slf, |core| core.remove_item(now_ms, sku))
    }

    /// Empties the cart; returns the action id.
    fn clear_cart(slf: &Bound<'_, Self>, now_ms: u64) -> PyResult<String> {
        Self::action(slf, |core| core.clear_cart(now_ms))
    }

    /// Forgets the conversation; the next `auth` opens a new session.
    fn reset(slf: &Bound<'_, Self>, now_ms: u64) -> PyResult<()> {
        Self::with_core(slf, |core| core.reset(now_ms))?.map_err(|e| action_error(slf.py(), e))
    }

    /// The connection state.
    #[getter]
    fn state<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let state = slf.borrow().core.state();
        Ok(classes(slf.py())?.state(slf.py(), state))
    }

    /// The current (or to-be-resumed) session id.
    #[getter]
    fn session_id(&self) -> Option<String> {
        self.core.session_id().map(str::to_owned)
    }

    /// The last server `seq` applied.
    #[getter]
    fn last_seq(&self) -> u64 {
        self.core.last_seq()
    }

    /// The cart as last confirmed by the server.
    #[getter]
    fn cart<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let cart = slf.borrow().core.cart().clone();
        classes(slf.py())?.cart(slf.py(), cart)
    }

    /// Accepted actions that have not ended, in order.
    #[getter]
    fn pending_actions<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let pending = slf.borrow().core.pending_actions();
        classes(slf.py())?.pending(slf.py(), pending)
    }

    /// Frames of unknown `type` received so far.
    #[getter]
    fn unknown_frames(&self) -> u64 {
        self.core.unknown_frames()
    }

    /// Reconnect attempts made in a row without `auth_ok`.
    #[getter]
    fn reconnect_attempts(&self) -> u32 {
        self.core.reconnect_attempts()
    }

    /// The language of error texts (`en` or `uk`); set it to switch.
    #[getter]
    fn language(&self) -> &'static str {
        self.core.language().tag()
    }

    #[setter]
    fn set_language(&mut self, language: &str) {
        self.core.set_language(Language::from_tag(language));
    }

    /// The store id (for logs; the api key is never shown).
    #[getter]
    fn store_id(&self) -> &str {
        &self.store_id
    }

    fn __repr__(&self) -> String {
        format!(
            "vizochok.Session(store_id={:?}, state={:?}, session_id={:?})",
            self.store_id,
            self.core.state().as_str(),
            self.core.session_id()
        )
    }
}

/// The UI text of a key (`send`, `add`, ...) in a language; `None` for an unknown key.
#[pyfunction]
#[pyo3(signature = (key, language="en"))]
fn ui_text(key: &str, language: &str) -> Option<&'static str> {
    vizochok_core::UiText::from_key(key).map(|t| t.text(Language::from_tag(language)))
}

/// The localized message of an error code in a language.
#[pyfunction]
#[pyo3(signature = (code, language="en"))]
fn error_message(code: &str, language: &str) -> PyResult<&'static str> {
    let code = vizochok_core::ErrorCode::parse(code)
        .ok_or_else(|| PyValueError::new_err(format!("unknown error code {code:?}")))?;
    Ok(vizochok_core::i18n::error_message(code, Language::from_tag(language)))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySession>()?;
    m.add_function(wrap_pyfunction!(ui_text, m)?)?;
    m.add_function(wrap_pyfunction!(error_message, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
