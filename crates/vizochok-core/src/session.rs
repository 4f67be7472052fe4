//! The client session: the state machine of §3–§8, driven by the host.

use std::collections::{HashMap, VecDeque};

use crate::actions::ActionQueue;
use crate::{
    i18n, ActionError, ActionKind, Cart, CartAction, CartChangedEvent, Config, ConfigError, ErrorCode, Event, Input,
    Language, Output, PendingAction, ProductItem, Rng, SessionSummary, SocketId, State, WidgetError,
};
use vizochok_proto::frame::{self, AuthFrame, AuthOk, ClientFrame, ServerFrame, PROTOCOL_VERSION};

/// Close codes after which the server is restarting: spread the return.
const STORM_CODES: [u16; 3] = [1001, 1011, 1012];
/// Close codes after which the client never reconnects.
const FINAL_CODES: std::ops::RangeInclusive<u16> = 4000..=4099;
/// Longest SKU the client sends.
const MAX_SKU_BYTES: usize = 256;
/// How close to a whole multiple of the step a quantity must be.
const STEP_EPSILON: f64 = 1e-9;
/// Heartbeats a server may ask for: not so short that pings flood, not so
/// long that a dead socket goes unnoticed.
const HEARTBEAT_RANGE_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;
/// The only close code the client sends: 1006 is reserved (RFC 6455) and a
/// browser's `WebSocket.close` accepts nothing but 1000 and 3000–4999.
const CLOSE_NORMAL: u16 = 1000;

/// Why the session stopped, which decides what may restart it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopReason {
    /// auth_error or a 40xx close: only the host's `Connect`.
    Final,
    /// max_reconnect: `Connect` or `NetworkOnline`.
    GaveUp,
}

/// A VIZOCHOK client session, sans-IO.
///
/// Feed it [`Input`]s and user actions with the current time, then drain
/// [`Session::poll_output`] and arm a timer for [`Session::poll_timeout`].
/// See the crate docs for the run loop.
#[derive(Debug)]
pub struct Session {
    config: Config,
    language: Language,
    rng: Rng,
    id_prefix: String,
    next_action: u64,
    now: u64,

    state: State,
    stop_reason: Option<StopReason>,
    socket: Option<SocketId>,
    next_socket: u64,
    open_deadline: Option<u64>,
    auth_deadline: Option<u64>,
    last_inbound: u64,
    pong_deadline: Option<u64>,
    reconnect_at: Option<u64>,
    attempts: u32,
    heartbeat_ms: u64,
    max_message_chars: usize,
    /// The session id sent in the current attempt's `auth`.
    asked_session: Option<String>,

    session_id: Option<String>,
    last_seq: u64,
    cart: Cart,
    steps: HashMap<String, f64>,

    actions: ActionQueue,
    bad_frames: VecDeque<u64>,
    unknown_frames: u64,
    outputs: VecDeque<Output>,
}

impl Session {
    /// Creates a session after checking the config (§1); no I/O happens
    /// until [`Input::Connect`].
    pub fn new(config: Config) -> Result<Session, ConfigError> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let id_prefix = format!("{:012x}", rng.next_u64() >> 16);
        Ok(Session {
            language: config.language,
            heartbeat_ms: config.timers.heartbeat_ms,
            max_message_chars: config.limits.max_message_chars,
            session_id: config.session_id.clone(),
            last_seq: if config.session_id.is_some() { config.last_seq } else { 0 },
            config,
            rng,
            id_prefix,
            next_action: 0,
            now: 0,
            state: State::Idle,
            stop_reason: None,
            socket: None,
            next_socket: 0,
            open_deadline: None,
            auth_deadline: None,
            last_inbound: 0,
            pong_deadline: None,
            reconnect_at: None,
            attempts: 0,
            asked_session: None,
            cart: Cart::default(),
            steps: HashMap::new(),
            actions: ActionQueue::default(),
            bad_frames: VecDeque::new(),
            unknown_frames: 0,
            outputs: VecDeque::new(),
        })
    }

    // ----- getters -------------------------------------------------------

    /// The connection state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The current (or to-be-resumed) session id.
    pub fn session_id(&self) -> Option<&str> {
        self.session_id.as_deref()
    }

    /// The last server `seq` applied.
    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// The cart as last confirmed by the server.
    pub fn cart(&self) -> &Cart {
        &self.cart
    }

    /// Accepted actions that have not ended, in order.
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.actions.pending()
    }

    /// Frames of unknown `type` received so far.
    pub fn unknown_frames(&self) -> u64 {
        self.unknown_frames
    }

    /// Reconnect attempts made in a row without `auth_ok`.
    pub fn reconnect_attempts(&self) -> u32 {
        self.attempts
    }

    /// The language of error texts.
    pub fn language(&self) -> Language {
        self.language
    }

    /// Changes the language of error texts from now on.
    pub fn set_language(&mut self, language: Language) {
        self.language = language;
    }

    // ----- the run loop ---------------------------------------------------

    /// The next thing the host must do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When the host must call `handle_input(now, Input::Timeout)` next.
    pub fn poll_timeout(&self) -> Option<u64> {
        let heartbeat = match self.state {
            State::Connected => Some(self.pong_deadline.unwrap_or(self.last_inbound.saturating_add(self.heartbeat_ms))),
            _ => None,
        };
        let retry = if self.state == State::Connected { self.actions.next_retry() } else { None };
        [self.open_deadline, self.auth_deadline, heartbeat, self.reconnect_at, retry].into_iter().flatten().min()
    }

    /// Hands an I/O event to the core. `now` is monotonic milliseconds.
    pub fn handle_input(&mut self, now: u64, input: Input<'_>) {
        self.now = self.now.max(now);
        let now = self.now;
        if self.state == State::Destroyed {
            return;
        }
        match input {
            Input::Connect => self.connect(now),
            Input::SocketOpened(s) if self.is_current(s) && self.state == State::Connecting => self.opened(now),
            Input::Text(s, text) if self.is_current(s) && self.socket_open() => self.text(now, text),
            Input::Binary(s, len) if self.is_current(s) && self.socket_open() => {
                self.bad_frame(now, frame::FrameError::Binary { len }.to_string())
            }
            Input::SocketClosed { socket, code, reason } if self.is_current(socket) => self.closed(now, code, reason),
            Input::SocketError { socket, detail } if self.is_current(socket) => {
                let error = self.error(ErrorCode::WsError, Some(format!("socket error: {detail}")));
                self.fail(now, Some(error), Some((CLOSE_NORMAL, "socket error")), false);
            }
            Input::Timeout => self.timeout(now),
            Input::NetworkOnline => match (self.state, self.stop_reason) {
                (State::Reconnecting, _) => self.start_attempt(now),
                (State::Stopped, Some(StopReason::GaveUp)) => self.connect(now),
                _ => {}
            },
            Input::Close => self.shut(State::Idle, "client closed"),
            Input::Destroy => self.shut(State::Destroyed, "client destroyed"),
            // Inputs about a socket that is no longer current are stale.
            _ => {}
        }
    }

    // ----- user actions ---------------------------------------------------

    /// Sends a chat message. Returns its action id.
    pub fn send_message(&mut self, now: u64, text: &str) -> Result<String, ActionError> {
        self.check_alive()?;
        if text.trim().is_empty() {
            return Err(ActionError::Invalid("message text is empty".into()));
        }
        let chars = text.chars().count();
        if chars > self.max_message_chars {
            let detail = format!("message has {chars} characters; the limit is {}", self.max_message_chars);
            return Err(self.reject(ErrorCode::MessageTooLarge, detail));
        }
        let text = text.to_owned();
        self.enqueue(now, ActionKind::Message, |id| ClientFrame::Message { id, text }, None)
    }

    /// The shopper pressed "Add" on a product card: fires `onProductClick`
    /// and sends `select_item`. `quantity` defaults to one `quantity_step`.
    pub fn select_product(
        &mut self,
        now: u64,
        product: &ProductItem,
        quantity: Option<f64>,
    ) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(&product.sku)?;
        if !(product.quantity_step.is_finite() && product.quantity_step > 0.0) {
            return Err(ActionError::Invalid(format!("product {} has an invalid quantity_step", product.sku)));
        }
        self.remember_step(&product.sku, product.quantity_step);
        let quantity = quantity.or(product.quantity).unwrap_or(product.quantity_step);
        self.check_quantity(&product.sku, quantity)?;
        let clicked = ProductItem { quantity: Some(quantity), ..product.clone() };
        let sku = product.sku.clone();
        self.enqueue(now, ActionKind::SelectItem, |id| ClientFrame::SelectItem { id, sku, quantity }, Some(clicked))
    }

    /// Sets the quantity of a cart line.
    pub fn update_quantity(&mut self, now: u64, sku: &str, quantity: f64) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(sku)?;
        self.check_quantity(sku, quantity)?;
        let sku = sku.to_owned();
        self.enqueue(now, ActionKind::UpdateQuantity, |id| ClientFrame::UpdateQuantity { id, sku, quantity }, None)
    }

    /// Removes a cart line.
    pub fn remove_item(&mut self, now: u64, sku: &str) -> Result<String, ActionError> {
        self.check_alive()?;
        check_sku(sku)?;
        let sku = sku.to_owned();
        self.enqueue(now, ActionKind::RemoveItem, |id| ClientFrame::RemoveItem { id, sku }, None)
    }

    /// Empties the cart.
    pub fn clear_cart(&mut self, now: u64) -> Result<String, ActionError> {
        self.check_alive()?;
        self.enqueue(now, ActionKind::ClearCart, |id| ClientFrame::ClearCart { id }, None)
    }

    /// Forgets the conversation: the next `auth` opens a new session. The
    /// cart empties (`cart_cleared` when it held items) and the history
    /// clears; actions not yet acknowledged go to the new session.
    pub fn reset(&mut self, now: u64) -> Result<(), ActionError> {
        self.check_alive()?;
        self.now = self.now.max(now);
        self.session_id = None;
        self.last_seq = 0;
        self.actions.forget_acked();
        self.clear_cart_locally();
        self.emit(Event::History(Vec::new()));
        if matches!(self.state, State::Connecting | State::Authenticating | State::Connected) {
            self.drop_socket(Some((CLOSE_NORMAL, "conversation reset")));
            self.attempts = 0;
            self.start_attempt(self.now);
        }
        Ok(())
    }

    // ----- connection lifecycle --------------------------------------------

    fn is_current(&self, socket: SocketId) -> bool {
        self.socket == Some(socket)
    }

    fn socket_open(&self) -> bool {
        matches!(self.state, State::Authenticating | State::Connected)
    }

    fn set_state(&mut self, state: State) {
        if self.state != state {
            self.state = state;
            self.emit(Event::StateChanged(state));
        }
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push_back(Output::Event(event));
    }

    fn send(&mut self, frame: &ClientFrame) {
        self.outputs.push_back(Output::Send(frame::encode(frame)));
    }

    fn connect(&mut self, now: u64) {
        match self.state {
            State::Idle | State::Stopped | State::Reconnecting => {
                self.attempts = 0;
                self.stop_reason = None;
                self.start_attempt(now);
            }
            _ => {}
        }
    }

    fn start_attempt(&mut self, now: u64) {
        self.next_socket += 1;
        let socket = SocketId(self.next_socket);
        self.socket = Some(socket);
        self.reconnect_at = None;
        self.open_deadline = Some(now.saturating_add(self.config.timers.socket_open_ms));
        self.set_state(State::Connecting);
        self.outputs.push_back(Output::Open { socket, url: self.config.url.clone() });
    }

    fn opened(&mut self, now: u64) {
        self.open_deadline = None;
        self.auth_deadline = Some(now.saturating_add(self.config.timers.auth_ms));
        self.last_inbound = now;
        self.asked_session = self.session_id.clone();
        self.set_state(State::Authenticating);
        let auth = ClientFrame::Auth(AuthFrame {
            v: PROTOCOL_VERSION,
            api_key: self.config.api_key.clone(),
            store_id: self.config.store_id.clone(),
            user_id: self.config.user_id.clone(),
            user_token: None,
            session_id: self.session_id.clone(),
            // Nothing applied yet (a fresh page): no `last_seq`, which asks the
            // server for the summary and history instead of a replay.
            last_seq: self.session_id.as_ref().map(|_| self.last_seq).filter(|&seq| seq > 0),
            language: self.language.tag().to_owned(),
            sdk: self.config.sdk.clone(),
        });
        self.send(&auth);
    }

    fn closed(&mut self, now: u64, code: Option<u16>, reason: &str) {
        match code {
            Some(code) if FINAL_CODES.contains(&code) => {
                let error_code = if matches!(code, 4001 | 4002) { ErrorCode::AuthError } else { ErrorCode::WsError };
                let detail = format!("server closed the connection with final code {code}: {reason}");
                let error = self.error(error_code, Some(detail));
                self.emit(Event::Error(error));
                self.drop_socket(None);
                self.stop(StopReason::Final);
            }
            code => {
                let storm = code.is_some_and(|c| STORM_CODES.contains(&c));
                self.fail(now, None, None, storm);
            }
        }
    }

    /// Ends the current socket (asking the host to close it when `close` is
    /// given) and reports the disconnect if the app had seen a connect.
    fn drop_socket(&mut self, close: Option<(u16, &str)>) {
        if let (Some(socket), Some((code, reason))) = (self.socket, close) {
            self.outputs.push_back(Output::Close { socket, code, reason: reason.to_owned() });
        }
        let was_connected = self.state == State::Connected;
        self.socket = None;
        self.open_deadline = None;
        self.auth_deadline = None;
        self.pong_deadline = None;
        self.actions.socket_lost();
        if was_connected {
            self.emit(Event::Disconnect);
        }
    }

    /// A reconnect trigger (§5): report, drop the socket, back off.
    fn fail(&mut self, now: u64, error: Option<WidgetError>, close: Option<(u16, &str)>, storm: bool) {
        if let Some(error) = error {
            self.emit(Event::Error(error));
        }
        self.drop_socket(close);
        if self.attempts >= self.config.limits.max_reconnect_attempts {
            let detail = format!("{} reconnect attempts in a row failed", self.attempts);
            let error = self.error(ErrorCode::MaxReconnect, Some(detail));
            self.emit(Event::Error(error));
            self.stop(StopReason::GaveUp);
            return;
        }
        let delay = if storm {
            self.rng.range(0, self.config.timers.storm_spread_ms)
        } else {
            let ceiling = 1u64.checked_shl(self.attempts).unwrap_or(u64::MAX);
            let d = self.config.timers.backoff_base_ms.saturating_mul(ceiling).min(self.config.timers.backoff_max_ms);
            self.rng.range(d / 2, d)
        };
        self.attempts += 1;
        self.reconnect_at = Some(now.saturating_add(delay));
        self.set_state(State::Reconnecting);
    }

    fn stop(&mut self, reason: StopReason) {
        self.reconnect_at = None;
        self.stop_reason = Some(reason);
        self.set_state(State::Stopped);
    }

    /// The host closes (keeping the session) or destroys the client.
    fn shut(&mut self, state: State, reason: &str) {
        self.drop_socket(Some((CLOSE_NORMAL, reason)));
        self.reconnect_at = None;
        self.stop_reason = None;
        self.set_state(state);
    }

    fn timeout(&mut self, now: u64) {
        if self.open_deadline.is_some_and(|t| t <= now) {
            let detail = format!("socket did not open within {} ms", self.config.timers.socket_open_ms);
            let error = self.error(ErrorCode::WsError, Some(detail));
            self.fail(now, Some(error), Some((CLOSE_NORMAL, "open timeout")), false);
        } else if self.auth_deadline.is_some_and(|t| t <= now) {
            let detail = format!("no auth_ok within {} ms", self.config.timers.auth_ms);
            let error = self.error(ErrorCode::AuthTimeout, Some(detail));
            self.fail(now, Some(error), Some((CLOSE_NORMAL, "auth timeout")), false);
        } else if self.state == State::Connected {
            if self.pong_deadline.is_some_and(|t| t <= now) {
                let detail = format!("no frame within {} ms of a ping", self.config.timers.heartbeat_answer_ms);
                let error = self.error(ErrorCode::ConnectionLost, Some(detail));
                self.fail(now, Some(error), Some((CLOSE_NORMAL, "heartbeat timeout")), false);
            } else if self.pong_deadline.is_none() && self.last_inbound.saturating_add(self.heartbeat_ms) <= now {
                self.pong_deadline = Some(now.saturating_add(self.config.timers.heartbeat_answer_ms));
                self.send(&ClientFrame::Ping { ts: Some(now as f64) });
            }
            self.flush(now, false);
        }
        if self.reconnect_at.is_some_and(|t| t <= now) {
            self.start_attempt(now);
        }
    }

    // ----- inbound frames ---------------------------------------------------

    fn text(&mut self, now: u64, text: &str) {
        self.last_inbound = now;
        self.pong_deadline = None;
        let frame = match frame::parse::<ServerFrame>(text, self.config.limits.max_inbound_bytes) {
            Ok(frame) => frame,
            Err(e) => return self.bad_frame(now, e.to_string()),
        };
        if self.state == State::Authenticating {
            match frame {
                ServerFrame::AuthOk(_) | ServerFrame::AuthError { .. } | ServerFrame::Ping { .. } => {}
                // Nothing but the auth answer is meaningful before auth_ok.
                _ => return,
            }
        }
        if let Some(seq) = frame.seq() {
            if seq <= self.last_seq {
                return; // duplicate or late: never roll state back
            }
            self.last_seq = seq;
        }
        match frame {
            ServerFrame::AuthOk(AuthOk { session_id, restored, replay, summary, history, limits }) => {
                if self.state == State::Authenticating {
                    self.authenticated(now, session_id, restored, replay, summary, history, limits);
                }
            }
            ServerFrame::AuthError { code, message } => {
                let detail = match message {
                    Some(m) => format!("{code}: {m}"),
                    None => code,
                };
                let error = self.error(ErrorCode::AuthError, Some(detail));
                self.emit(Event::Error(error));
                self.drop_socket(Some((CLOSE_NORMAL, "auth error")));
                self.stop(StopReason::Final);
            }
            ServerFrame::Ack { id } => {
                // A resend's second ack changes nothing.
                let acked = match self.actions.sent_mut(&id) {
                    Some(a) if a.acked => false,
                    Some(a) if a.kind == ActionKind::Message => {
                        a.acked = true;
                        a.on_wire = false;
                        true
                    }
                    Some(_) => self.actions.remove_sent(&id).is_some(),
                    None => false,
                };
                if acked {
                    self.emit(Event::Acknowledged { id });
                }
            }
            ServerFrame::Typing { reply_to, .. } => self.emit(Event::Typing { reply_to }),
            ServerFrame::Delta { message_id, reply_to, text, .. } => {
                self.emit(Event::Delta { message_id, reply_to, text })
            }
            ServerFrame::Response {
                reply: vizochok_proto::Reply { message_id, reply_to, text, products, summary, .. },
                ..
            } => {
                for p in &products {
                    self.remember_step(&p.sku, p.quantity_step);
                }
                // A reply proves the message durable even if its ack was lost.
                if self.actions.remove_sent(&reply_to).is_some_and(|a| !a.acked) {
                    self.emit(Event::Acknowledged { id: reply_to.clone() });
                }
                self.emit(Event::Response { message_id, reply_to, text, products });
                if let Some(summary) = summary {
                    self.apply_summary(summary);
                }
                self.flush(now, false);
            }
            ServerFrame::CartChanged { change, .. } => {
                self.cart = Cart { items: change.items.clone(), total: change.total };
                self.emit(Event::CartChanged(change));
            }
            ServerFrame::UserMessage { .. } => {}
            ServerFrame::Error { code, message, reply_to, retry_after_ms, .. } => {
                self.server_error(now, &code, message, reply_to, retry_after_ms)
            }
            ServerFrame::Ping { ts } => self.send(&ClientFrame::Pong { ts }),
            ServerFrame::Pong { .. } => {}
            ServerFrame::Unknown => self.unknown_frames += 1,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn authenticated(
        &mut self,
        now: u64,
        session_id: String,
        restored: bool,
        replay: bool,
        summary: Option<SessionSummary>,
        history: Option<Vec<crate::HistoryEntry>>,
        limits: Option<frame::ServerLimits>,
    ) {
        self.auth_deadline = None;
        self.attempts = 0;
        self.last_inbound = now;
        if let Some(limits) = limits {
            if let Some(max) = limits.max_message_chars {
                self.max_message_chars = self.config.limits.max_message_chars.min(max.max(1));
            }
            if let Some(ms) = limits.heartbeat_ms {
                self.heartbeat_ms = ms.clamp(*HEARTBEAT_RANGE_MS.start(), *HEARTBEAT_RANGE_MS.end());
            }
        }
        let new_session = self.asked_session.as_deref().is_some_and(|asked| asked != session_id);
        self.session_id = Some(session_id);
        self.set_state(State::Connected);
        self.emit(Event::Connect);
        if new_session {
            // The server forgot our session: start over, keep pending actions.
            self.last_seq = 0;
            self.clear_cart_locally();
        }
        if !replay {
            self.actions.forget_acked();
        }
        if restored {
            if let Some(summary) = summary {
                self.apply_summary(summary);
            }
        }
        if let Some(history) = history {
            for products in history.iter().filter_map(|h| h.products.as_ref()) {
                for p in products {
                    self.remember_step(&p.sku, p.quantity_step);
                }
            }
            self.emit(Event::History(history));
        }
        self.flush(now, true);
    }

    fn server_error(
        &mut self,
        now: u64,
        code: &str,
        message: Option<String>,
        reply_to: Option<String>,
        retry_after: Option<u64>,
    ) {
        let (code, detail) = match ErrorCode::parse(code) {
            Some(c) if c.is_server_code() => (c, message),
            _ => (
                ErrorCode::InternalError,
                Some(format!("unknown server error code {code:?}: {}", message.unwrap_or_default())),
            ),
        };
        let max_retries = self.config.limits.max_action_retries;
        let default_wait = self.config.timers.retry_after_ms;
        if let Some(id) = &reply_to {
            // An error naming an action never sent is reported but changes nothing.
            if let Some(action) = self.actions.sent_mut(id) {
                // Only what the server has not acknowledged is retried: after an
                // ack the action is durable, so an error finishes it.
                if code.is_retryable() && !action.acked && action.retries < max_retries {
                    action.retries += 1;
                    action.on_wire = false;
                    action.acked = false;
                    action.retry_at = Some(now.saturating_add(retry_after.unwrap_or(default_wait)));
                    return;
                }
                self.actions.remove_sent(id);
            }
        }
        let mut error = self.error(code, detail);
        error.reply_to = reply_to;
        error.retry_after_ms = retry_after;
        self.emit(Event::Error(error));
        self.flush(now, false);
    }

    fn bad_frame(&mut self, now: u64, detail: String) {
        let error = self.error(ErrorCode::WsError, Some(detail));
        self.emit(Event::Error(error));
        let window = self.config.timers.bad_frame_window_ms;
        while self.bad_frames.front().is_some_and(|&t| t.saturating_add(window) <= now) {
            self.bad_frames.pop_front();
        }
        self.bad_frames.push_back(now);
        if self.bad_frames.len() > self.config.limits.max_bad_frames as usize {
            self.bad_frames.clear();
            let detail = format!("more than {} bad frames within {window} ms", self.config.limits.max_bad_frames);
            let error = self.error(ErrorCode::WsError, Some(detail));
            self.fail(now, Some(error), Some((CLOSE_NORMAL, "too many bad frames")), false);
        }
    }

    // ----- actions --------------------------------------------------------

    fn check_alive(&self) -> Result<(), ActionError> {
        if self.state == State::Destroyed {
            Err(ActionError::Destroyed)
        } else {
            Ok(())
        }
    }

    fn enqueue(
        &mut self,
        now: u64,
        kind: ActionKind,
        build: impl FnOnce(String) -> ClientFrame,
        clicked: Option<ProductItem>,
    ) -> Result<String, ActionError> {
        self.now = self.now.max(now);
        let capacity = self.config.limits.queue_capacity;
        if self.actions.unacked() >= capacity {
            return Err(self.reject(ErrorCode::QueueFull, format!("{capacity} actions are already waiting")));
        }
        let id = format!("{}-{}", self.id_prefix, self.next_action);
        let encoded = frame::encode(&build(id.clone()));
        let max = self.config.limits.max_outbound_bytes;
        if encoded.len() > max {
            return Err(
                self.reject(ErrorCode::MessageTooLarge, format!("frame of {} bytes exceeds {max}", encoded.len()))
            );
        }
        self.next_action += 1;
        if let Some(product) = clicked {
            self.emit(Event::ProductClick(product));
        }
        self.actions.push(id.clone(), kind, encoded);
        self.flush(self.now, false);
        Ok(id)
    }

    fn flush(&mut self, now: u64, resend_first: bool) {
        if self.state != State::Connected {
            return;
        }
        for frame in self.actions.take_sendable(now, resend_first) {
            self.outputs.push_back(Output::Send(frame));
        }
    }

    fn reject(&mut self, code: ErrorCode, detail: String) -> ActionError {
        let error = self.error(code, Some(detail));
        self.emit(Event::Error(error.clone()));
        ActionError::Rejected(error)
    }

    fn check_quantity(&self, sku: &str, quantity: f64) -> Result<(), ActionError> {
        if !(quantity.is_finite() && quantity > 0.0) {
            return Err(ActionError::Invalid(format!("quantity must be a positive number, got {quantity}")));
        }
        if let Some(&step) = self.steps.get(sku) {
            let steps = quantity / step;
            if (steps - steps.round()).abs() > STEP_EPSILON * steps.abs().max(1.0) {
                return Err(ActionError::Invalid(format!(
                    "quantity {quantity} of {sku} is not a whole multiple of its quantity_step {step}"
                )));
            }
        }
        Ok(())
    }

    fn remember_step(&mut self, sku: &str, step: f64) {
        if !(step.is_finite() && step > 0.0) {
            return;
        }
        if self.steps.len() >= self.config.limits.known_products && !self.steps.contains_key(sku) {
            self.steps.clear(); // bounded memory; steps are re-learned from the next cards
        }
        self.steps.insert(sku.to_owned(), step);
    }

    // ----- cart -------------------------------------------------------------

    fn apply_summary(&mut self, summary: SessionSummary) {
        self.cart = Cart { items: summary.selected_items.clone(), total: summary.total };
        self.emit(Event::SessionComplete(summary));
    }

    fn clear_cart_locally(&mut self) {
        if self.cart.items.is_empty() {
            return;
        }
        self.cart = Cart::default();
        self.emit(Event::CartChanged(CartChangedEvent {
            action: CartAction::CartCleared,
            sku: None,
            name: None,
            quantity: None,
            price: None,
            items: Vec::new(),
            total: 0.0,
        }));
    }

    fn error(&self, code: ErrorCode, detail: Option<String>) -> WidgetError {
        WidgetError {
            code,
            message: i18n::error_message(code, self.language).to_owned(),
            detail: detail.map(|d| self.config.api_key.redact(&d)),
            reply_to: None,
            retry_after_ms: None,
        }
    }
}

fn check_sku(sku: &str) -> Result<(), ActionError> {
    if sku.is_empty() || sku.len() > MAX_SKU_BYTES {
        return Err(ActionError::Invalid(format!("sku must be 1 to {MAX_SKU_BYTES} bytes")));
    }
    Ok(())
}
