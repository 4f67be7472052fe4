//! Conversions between the core's Rust types and the package's Python
//! dataclasses (`vizochok/_types.py`). The classes are looked up once and
//! called directly, so a frame costs one constructor call per object.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedStr;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyBytes, PyList, PyString};
use vizochok_core::{
    ActionKind, Cart, CartAction, CartChangedEvent, CartItem, ErrorCode, Event, HistoryEntry, Input, Limits, Output,
    PendingAction, ProductItem, Role, SessionSummary, SocketId, State, Timers, WidgetError,
};

/// The Python module holding every value type.
const TYPES_MODULE: &str = "vizochok._types";

/// Every class and enum member the conversions need, looked up once.
pub struct Classes {
    // inputs
    connect: Py<PyAny>,
    socket_opened: Py<PyAny>,
    text: Py<PyAny>,
    binary: Py<PyAny>,
    socket_closed: Py<PyAny>,
    socket_error: Py<PyAny>,
    timeout: Py<PyAny>,
    network_online: Py<PyAny>,
    close: Py<PyAny>,
    destroy: Py<PyAny>,
    // outputs
    open_socket: Py<PyAny>,
    send_text: Py<PyAny>,
    close_socket: Py<PyAny>,
    cart_changed: Py<PyAny>,
    product_clicked: Py<PyAny>,
    session_completed: Py<PyAny>,
    error_occurred: Py<PyAny>,
    state_changed: Py<PyAny>,
    typing: Py<PyAny>,
    delta: Py<PyAny>,
    response: Py<PyAny>,
    history_replaced: Py<PyAny>,
    acknowledged: Py<PyAny>,
    // payloads
    cart_item: Py<PyAny>,
    product_item: Py<PyAny>,
    session_summary: Py<PyAny>,
    cart_changed_event: Py<PyAny>,
    widget_error: Py<PyAny>,
    history_entry: Py<PyAny>,
    cart: Py<PyAny>,
    pending_action: Py<PyAny>,
    // exceptions
    pub action_rejected: Py<PyAny>,
    pub session_destroyed: Py<PyAny>,
    // enum members, indexed by the Rust enum's discriminant
    error_codes: Vec<Py<PyAny>>,
    states: Vec<Py<PyAny>>,
    cart_actions: Vec<Py<PyAny>>,
    roles: Vec<Py<PyAny>>,
    action_kinds: Vec<Py<PyAny>>,
    // the empty connect/disconnect events are immutable: share one of each
    connected_event: Py<PyAny>,
    disconnected_event: Py<PyAny>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// The classes, loading `vizochok._types` on first use.
pub fn classes(py: Python<'_>) -> PyResult<&Classes> {
    CLASSES.get_or_try_init(py, || load(py))
}

fn load(py: Python<'_>) -> PyResult<Classes> {
    let m = py.import(TYPES_MODULE)?;
    let get = |name: &str| -> PyResult<Py<PyAny>> { Ok(m.getattr(name)?.unbind()) };
    let members = |name: &str, values: &[&str]| -> PyResult<Vec<Py<PyAny>>> {
        let class = m.getattr(name)?;
        values.iter().map(|v| Ok(class.call1((*v,))?.unbind())).collect()
    };
    let error_codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    let states = [
        State::Idle,
        State::Connecting,
        State::Authenticating,
        State::Connected,
        State::Reconnecting,
        State::Stopped,
        State::Destroyed,
    ]
    .map(State::as_str);
    let cart_actions =
        [CartAction::ItemSelected, CartAction::ItemRemoved, CartAction::QuantityUpdated, CartAction::CartCleared]
            .map(CartAction::as_str);
    Ok(Classes {
        connect: get("Connect")?,
        socket_opened: get("SocketOpened")?,
        text: get("Text")?,
        binary: get("Binary")?,
        socket_closed: get("SocketClosed")?,
        socket_error: get("SocketError")?,
        timeout: get("Timeout")?,
        network_online: get("NetworkOnline")?,
        close: get("Close")?,
        destroy: get("Destroy")?,
        open_socket: get("OpenSocket")?,
        send_text: get("SendText")?,
        close_socket: get("CloseSocket")?,
        connected_event: m.getattr("Connected")?.call0()?.unbind(),
        disconnected_event: m.getattr("Disconnected")?.call0()?.unbind(),
        cart_changed: get("CartChanged")?,
        product_clicked: get("ProductClicked")?,
        session_completed: get("SessionCompleted")?,
        error_occurred: get("ErrorOccurred")?,
        state_changed: get("StateChanged")?,
        typing: get("Typing")?,
        delta: get("Delta")?,
        response: get("Response")?,
        history_replaced: get("HistoryReplaced")?,
        acknowledged: get("Acknowledged")?,
        cart_item: get("CartItem")?,
        product_item: get("ProductItem")?,
        session_summary: get("SessionSummary")?,
        cart_changed_event: get("CartChangedEvent")?,
        widget_error: get("WidgetError")?,
        history_entry: get("HistoryEntry")?,
        cart: get("Cart")?,
        pending_action: get("PendingAction")?,
        action_rejected: get("ActionRejected")?,
        session_destroyed: get("SessionDestroyed")?,
        error_codes: members("ErrorCode", &error_codes)?,
        states: members("State", &states)?,
        cart_actions: members("CartAction", &cart_actions)?,
        roles: members("Role", &["user", "assistant"])?,
        action_kinds: members(
            "ActionKind",
            &["message", "select_item", "update_quantity", "remove_item", "clear_cart"],
        )?,
    })
}

/// Picks an enum member by index (the lists are built in discriminant order).
fn member<'py>(py: Python<'py>, list: &[Py<PyAny>], index: usize) -> Bound<'py, PyAny> {
    match list.get(index) {
        Some(m) => m.bind(py).clone(),
        None => py.None().into_bound(py),
    }
}

impl Classes {
    // ----- Python → Rust -------------------------------------------------------

    /// Reads one of the input dataclasses and hands it to `f`; strings are
    /// borrowed from Python for the duration of the call.
    pub fn with_input<R>(&self, input: &Bound<'_, PyAny>, f: impl FnOnce(Input<'_>) -> R) -> PyResult<R> {
        let py = input.py();
        let ty = input.get_type();
        let ty = ty.as_any();
        let socket = || -> PyResult<SocketId> { Ok(SocketId(input.getattr("socket")?.extract()?)) };
        let string = |name: &Bound<'_, PyString>| -> PyResult<PyBackedStr> {
            let value = input.getattr(name)?;
            value.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{}.{} must be a str, got {}",
                    type_name(ty),
                    name,
                    type_name(&value.get_type())
                ))
            })
        };
        if ty.is(&self.text) {
            let socket = socket()?;
            let text = string(intern!(py, "text"))?;
            return Ok(f(Input::Text(socket, &text)));
        }
        if ty.is(&self.timeout) {
            return Ok(f(Input::Timeout));
        }
        if ty.is(&self.connect) {
            return Ok(f(Input::Connect));
        }
        if ty.is(&self.socket_opened) {
            return Ok(f(Input::SocketOpened(socket()?)));
        }
        if ty.is(&self.binary) {
            let len: usize = input.getattr("length")?.extract()?;
            return Ok(f(Input::Binary(socket()?, len)));
        }
        if ty.is(&self.socket_closed) {
            let socket = socket()?;
            let code: Option<u16> = input.getattr("code")?.extract()?;
            let reason = string(intern!(py, "reason"))?;
            return Ok(f(Input::SocketClosed { socket, code, reason: &reason }));
        }
        if ty.is(&self.socket_error) {
            let socket = socket()?;
            let detail = string(intern!(py, "detail"))?;
            return Ok(f(Input::SocketError { socket, detail: &detail }));
        }
        if ty.is(&self.network_online) {
            return Ok(f(Input::NetworkOnline));
        }
        if ty.is(&self.close) {
            return Ok(f(Input::Close));
        }
        if ty.is(&self.destroy) {
            return Ok(f(Input::Destroy));
        }
        Err(PyTypeError::new_err(format!(
            "handle_input expects a vizochok input (Connect, SocketOpened, Text, Binary, SocketClosed, SocketError, \
             Timeout, NetworkOnline, Close, Destroy), got {}",
            type_name(ty)
        )))
    }

    /// Reads a `ProductItem`; anything else is a `TypeError`.
    pub fn product(&self, product: &Bound<'_, PyAny>) -> PyResult<ProductItem> {
        if !product.is_instance(self.product_item.bind(product.py()))? {
            return Err(PyTypeError::new_err(format!(
                "product must be a vizochok.ProductItem, got {}",
                type_name(&product.get_type())
            )));
        }
        let attr = |name: &str| product.getattr(name);
        Ok(ProductItem {
            sku: attr("sku")?.extract()?,
            name: attr("name")?.extract()?,
            price: number(&attr("price")?, "price")?,
            unit: attr("unit")?.extract()?,
            quantity_step: number(&attr("quantity_step")?, "quantity_step")?,
            quantity: optional_number(&attr("quantity")?, "quantity")?,
            brand: attr("brand")?.extract()?,
            image_url: attr("image_url")?.extract()?,
            promo_price: optional_number(&attr("promo_price")?, "promo_price")?,
        })
    }

    // ----- Rust → Python -------------------------------------------------------

    /// One output as its dataclass.
    pub fn output<'py>(&self, py: Python<'py>, output: Output) -> PyResult<Bound<'py, PyAny>> {
        match output {
            Output::Event(event) => self.event(py, event),
            Output::Send(text) => self.send_text.bind(py).call1((text,)),
            Output::Open { socket, url } => self.open_socket.bind(py).call1((socket.0, url)),
            Output::Close { socket, code, reason } => self.close_socket.bind(py).call1((socket.0, code, reason)),
        }
    }

    fn event<'py>(&self, py: Python<'py>, event: Event) -> PyResult<Bound<'py, PyAny>> {
        match event {
            Event::Connect => Ok(self.connected_event.bind(py).clone()),
            Event::Disconnect => Ok(self.disconnected_event.bind(py).clone()),
            Event::CartChanged(cart) => self.cart_changed.bind(py).call1((self.cart_changed_event(py, cart)?,)),
            Event::ProductClick(product) => self.product_clicked.bind(py).call1((self.product_item(py, product)?,)),
            Event::SessionComplete(summary) => self.session_completed.bind(py).call1((self.summary(py, summary)?,)),
            Event::Error(error) => self.error_occurred.bind(py).call1((self.widget_error(py, error)?,)),
            Event::StateChanged(state) => self.state_changed.bind(py).call1((self.state(py, state),)),
            Event::Typing { reply_to } => self.typing.bind(py).call1((reply_to,)),
            Event::Delta { message_id, reply_to, text } => self.delta.bind(py).call1((message_id, reply_to, text)),
            Event::Response { message_id, reply_to, text, products } => {
                let products = self.products(py, products)?;
                self.response.bind(py).call1((message_id, reply_to, text, products))
            }
            Event::History(entries) => {
                let list = PyList::empty(py);
                for entry in entries {
                    list.append(self.history_entry(py, entry)?)?;
                }
                self.history_replaced.bind(py).call1((list,))
            }
            Event::Acknowledged { id } => self.acknowledged.bind(py).call1((id,)),
        }
    }

    pub fn state<'py>(&self, py: Python<'py>, state: State) -> Bound<'py, PyAny> {
        let index = match state {
            State::Idle => 0,
            State::Connecting => 1,
            State::Authenticating => 2,
            State::Connected => 3,
            State::Reconnecting => 4,
            State::Stopped => 5,
            State::Destroyed => 6,
        };
        member(py, &self.states, index)
    }

    fn error_code<'py>(&self, py: Python<'py>, code: ErrorCode) -> Bound<'py, PyAny> {
        let index = ErrorCode::ALL.iter().position(|c| *c == code).unwrap_or(0);
        member(py, &self.error_codes, index)
    }

    fn cart_item<'py>(&self, py: Python<'py>, item: CartItem) -> PyResult<Bound<'py, PyAny>> {
        self.cart_item.bind(py).call1((item.sku, item.name, item.price, item.promo_price, item.brand, item.quantity))
    }

    fn cart_items<'py>(&self, py: Python<'py>, items: Vec<CartItem>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for item in items {
            list.append(self.cart_item(py, item)?)?;
        }
        Ok(list)
    }

    fn product_item<'py>(&self, py: Python<'py>, p: ProductItem) -> PyResult<Bound<'py, PyAny>> {
        let args = (p.sku, p.name, p.price, p.unit, p.quantity_step, p.quantity, p.brand, p.image_url, p.promo_price);
        self.product_item.bind(py).call1(args)
    }

    fn products<'py>(&self, py: Python<'py>, products: Vec<ProductItem>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for p in products {
            list.append(self.product_item(py, p)?)?;
        }
        Ok(list)
    }

    fn summary<'py>(&self, py: Python<'py>, s: SessionSummary) -> PyResult<Bound<'py, PyAny>> {
        self.session_summary.bind(py).call1((self.cart_items(py, s.selected_items)?, s.total, s.item_count))
    }

    fn cart_changed_event<'py>(&self, py: Python<'py>, e: CartChangedEvent) -> PyResult<Bound<'py, PyAny>> {
        let action = member(py, &self.cart_actions, e.action as usize);
        let items = self.cart_items(py, e.items)?;
        self.cart_changed_event.bind(py).call1((action, e.sku, e.name, e.quantity, e.price, items, e.total))
    }

    pub fn widget_error<'py>(&self, py: Python<'py>, e: WidgetError) -> PyResult<Bound<'py, PyAny>> {
        let code = self.error_code(py, e.code);
        self.widget_error.bind(py).call1((code, e.message, e.detail, e.reply_to, e.retry_after_ms))
    }

    fn history_entry<'py>(&self, py: Python<'py>, h: HistoryEntry) -> PyResult<Bound<'py, PyAny>> {
        let role = member(py, &self.roles, if h.role == Role::User { 0 } else { 1 });
        let products = match h.products {
            Some(products) => Some(self.products(py, products)?),
            None => None,
        };
        self.history_entry.bind(py).call1((role, h.text, products))
    }

    pub fn cart<'py>(&self, py: Python<'py>, cart: Cart) -> PyResult<Bound<'py, PyAny>> {
        self.cart.bind(py).call1((self.cart_items(py, cart.items)?, cart.total))
    }

    pub fn pending<'py>(&self, py: Python<'py>, actions: Vec<PendingAction>) -> PyResult<Bound<'py, PyList>> {
        let list = PyList::empty(py);
        for a in actions {
            let kind = match a.kind {
                ActionKind::Message => 0,
                ActionKind::SelectItem => 1,
                ActionKind::UpdateQuantity => 2,
                ActionKind::RemoveItem => 3,
                ActionKind::ClearCart => 4,
            };
            list.append(self.pending_action.bind(py).call1((a.id, member(py, &self.action_kinds, kind), a.sent))?)?;
        }
        Ok(list)
    }
}

/// The name of a Python type, for error messages.
pub fn type_name(ty: &Bound<'_, PyAny>) -> String {
    ty.getattr("__name__").map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}

/// A number argument (int or float, not bool) as `f64`.
pub fn number(value: &Bound<'_, PyAny>, what: &str) -> PyResult<f64> {
    if value.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{what} must be a number, got bool")));
    }
    value.extract::<f64>().map_err(|_| {
        let name = type_name(&value.get_type());
        PyTypeError::new_err(format!("{what} must be a number, got {name}"))
    })
}

/// An optional number argument.
pub fn optional_number(value: &Bound<'_, PyAny>, what: &str) -> PyResult<Option<f64>> {
    if value.is_none() {
        Ok(None)
    } else {
        number(value, what).map(Some)
    }
}

/// Reads a `Timers` dataclass (or any object with its attributes).
pub fn timers(value: &Bound<'_, PyAny>) -> PyResult<Timers> {
    let get = |name: &str| -> PyResult<u64> {
        value.getattr(name)?.extract().map_err(|_| PyValueError::new_err(format!("timers.{name} must be an int >= 0")))
    };
    Ok(Timers {
        socket_open_ms: get("socket_open_ms")?,
        auth_ms: get("auth_ms")?,
        heartbeat_ms: get("heartbeat_ms")?,
        heartbeat_answer_ms: get("heartbeat_answer_ms")?,
        backoff_base_ms: get("backoff_base_ms")?,
        backoff_max_ms: get("backoff_max_ms")?,
        storm_spread_ms: get("storm_spread_ms")?,
        retry_after_ms: get("retry_after_ms")?,
        bad_frame_window_ms: get("bad_frame_window_ms")?,
    })
}

/// Reads a `Limits` dataclass (or any object with its attributes).
pub fn limits(value: &Bound<'_, PyAny>) -> PyResult<Limits> {
    let get = |name: &str| -> PyResult<usize> {
        value.getattr(name)?.extract().map_err(|_| PyValueError::new_err(format!("limits.{name} must be an int >= 0")))
    };
    let get32 = |name: &str| -> PyResult<u32> {
        value.getattr(name)?.extract().map_err(|_| PyValueError::new_err(format!("limits.{name} must be an int >= 0")))
    };
    Ok(Limits {
        max_message_chars: get("max_message_chars")?,
        max_outbound_bytes: get("max_outbound_bytes")?,
        max_inbound_bytes: get("max_inbound_bytes")?,
        queue_capacity: get("queue_capacity")?,
        max_reconnect_attempts: get32("max_reconnect_attempts")?,
        max_action_retries: get32("max_action_retries")?,
        max_bad_frames: get32("max_bad_frames")?,
        known_products: get("known_products")?,
    })
}

/// Eight bytes from `os.urandom`, as the core's seed.
pub fn random_seed(py: Python<'_>) -> PyResult<u64> {
    let bytes = py.import("os")?.call_method1("urandom", (8,))?;
    let bytes = bytes.cast::<PyBytes>()?.as_bytes();
    let mut seed = [0u8; 8];
    for (dst, src) in seed.iter_mut().zip(bytes) {
        *dst = *src;
    }
    Ok(u64::from_le_bytes(seed))
}
