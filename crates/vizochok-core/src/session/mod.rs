//! The client session: every rule of the protocol, driven by the host.
//!
//! - `phase`: where the connection is, with the data of that phase;
//! - `timers`: every deadline in one table;
//! - `connection`: attempts, backoff, the socket's end, stopping;
//! - `inbound`: what each server frame does;
//! - `actions`: what the app asks for, checked and queued;
//! - `queue`: the outbound queue and resend set;
//! - `conversation`: session id, `seq`, cart, steps, the streaming reply.

mod actions;
mod connection;
mod conversation;
mod inbound;
mod phase;
mod queue;
mod timers;

use vizochok_proto::{i18n, Cart, ErrorCode, FrameError, Language, Secret, WidgetError};

use crate::text::{cat, Part};
use crate::{Config, ConfigError, Event, Input, Output, PendingAction, Rng, State};
use connection::Backoff;
use conversation::Conversation;
use phase::Phase;
use queue::ActionQueue;
use timers::{Timer, TimerTable};

/// A VIZOCHOK client session, sans-IO.
///
/// Feed it [`Input`]s and user actions with the current time, then drain
/// [`Session::poll_output`] and keep one timer at [`Session::poll_timeout`].
/// Most hosts do not drive it by hand: [`Driver`](crate::Driver) runs this
/// loop for them. See the crate docs.
#[derive(Debug)]
pub struct Session {
    config: Config,
    rng: Rng,
    /// The random part of every action id of this client.
    id_prefix: String,
    next_action: u64,
    next_socket: u64,
    /// The latest time the host gave; never goes back.
    now: u64,
    language: Language,
    phase: Phase,
    timers: TimerTable,
    /// Attempts in a row without `auth_ok`.
    attempts: u32,
    backoff: Backoff,
    /// The heartbeat and message limit in force (the server may lower them).
    heartbeat_ms: u64,
    max_message_chars: usize,
    conversation: Conversation,
    queue: ActionQueue,
    /// When recent bad frames arrived, within the counting window.
    bad_frames: Vec<u64>,
    unknown_frames: u64,
    /// What the host must do, oldest first (a handful at a time: a plain
    /// `Vec` keeps the browser build small).
    outputs: Vec<Output>,
}

impl Session {
    /// Creates a session after checking the config; no I/O happens until
    /// [`Input::Connect`].
    pub fn new(config: Config) -> Result<Session, ConfigError> {
        config.validate()?;
        let mut rng = Rng::new(config.seed);
        let mut id_prefix = String::new();
        crate::text::push_hex(&mut id_prefix, rng.next_u64() >> 16, 12);
        Ok(Session {
            language: config.language,
            heartbeat_ms: config.timers.heartbeat_ms,
            max_message_chars: config.limits.max_message_chars,
            conversation: Conversation::new(config.session_id.clone()),
            config,
            rng,
            id_prefix,
            next_action: 0,
            next_socket: 0,
            now: 0,
            phase: Phase::Idle,
            timers: TimerTable::default(),
            attempts: 0,
            backoff: Backoff::Exponential,
            queue: ActionQueue::default(),
            bad_frames: Vec::new(),
            unknown_frames: 0,
            outputs: Vec::new(),
        })
    }

    // ----- what the app may read ----------------------------------------

    /// The connection state.
    pub fn state(&self) -> State {
        self.phase.state()
    }

    /// The current (or to-be-resumed) session id: the one thing to save to
    /// resume the conversation after a restart.
    pub fn session_id(&self) -> Option<&str> {
        self.conversation.session_id.as_ref().map(Secret::expose)
    }

    /// The last server `seq` applied.
    pub fn last_seq(&self) -> u64 {
        self.conversation.last_seq
    }

    /// The cart as last confirmed by the server.
    pub fn cart(&self) -> &Cart {
        &self.conversation.cart
    }

    /// Accepted actions that have not ended, in order (still readable after
    /// destroy: the guarantee's "still queued").
    pub fn pending_actions(&self) -> Vec<PendingAction> {
        self.queue.pending()
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

    // ----- the run loop -----------------------------------------------------

    /// The next thing the host must do, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        (!self.outputs.is_empty()).then(|| self.outputs.remove(0))
    }

    /// When the host must call `handle_input(now, Input::Timeout)` next, if
    /// ever. It changes only when the host hands the session something (an
    /// input or an action), never by itself.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.timers.next()
    }

    /// Hands an I/O event to the core. `now` is monotonic milliseconds; a
    /// time earlier than one already seen counts as that one.
    pub fn handle_input(&mut self, now: u64, input: Input<'_>) {
        let now = self.clock(now);
        if self.phase == Phase::Destroyed {
            return;
        }
        let current = self.phase.socket();
        let open = self.phase.open_socket();
        let opening = matches!(self.phase, Phase::Connecting(_));
        match input {
            Input::Connect => self.connect(now),
            Input::SocketOpened(socket) if opening && current == Some(socket) => self.opened(now, socket),
            Input::Text(socket, text) if open == Some(socket) => self.text(now, text),
            Input::Binary(socket, len) | Input::Oversized(socket, len) if open == Some(socket) => {
                self.heard(now);
                let error = match input {
                    Input::Binary(..) => FrameError::Binary { len },
                    _ => FrameError::TooLarge { len, max: self.config.limits.max_inbound_bytes },
                };
                self.bad_frame(now, error.message())
            }
            Input::SocketEnded { socket, code, reason } if current == Some(socket) => self.ended(now, code, reason),
            Input::Timeout => self.timeout(now),
            Input::NetworkOnline => self.network_online(now),
            Input::Disconnect => self.shut(Phase::Idle, connection::CloseReason::Disconnected),
            Input::Destroy => self.destroy(),
            // Inputs about a socket that is no longer current are stale.
            _ => {}
        }
        self.refresh_retry();
    }

    // ----- plumbing every rule uses --------------------------------------------

    /// The session's clock: never earlier than a time already seen.
    fn clock(&mut self, now: u64) -> u64 {
        self.now = self.now.max(now);
        self.now
    }

    fn enter(&mut self, phase: Phase) {
        let before = self.phase.state();
        self.phase = phase;
        let after = self.phase.state();
        if before != after {
            self.emit(Event::StateChanged(after));
        }
    }

    fn emit(&mut self, event: Event) {
        self.outputs.push(Output::Event(event));
    }

    /// An event whose data is the inbound frame's own (see [`Output::FrameEvent`]).
    fn emit_from_frame(&mut self, event: Event) {
        self.outputs.push(Output::FrameEvent(event));
    }

    /// Sends a frame on the open socket (nothing when there is none).
    fn send_text(&mut self, text: String) {
        if let Some(socket) = self.phase.open_socket() {
            self.outputs.push(Output::Send { socket, text });
        }
    }

    /// The retry deadline follows the queue, and counts only while connected.
    fn refresh_retry(&mut self) {
        let at = match self.phase {
            Phase::Connected(_) => self.queue.next_retry(),
            _ => None,
        };
        self.timers.put(Timer::Retry, at);
    }

    /// A [`WidgetError`] with its text from the catalog and a redacted detail.
    fn error(&self, code: ErrorCode, detail: Option<String>) -> WidgetError {
        WidgetError {
            code,
            message: i18n::error_message(code, self.language).to_owned(),
            detail: detail.map(|d| self.redact(&d)),
            reply_to: None,
            retry_after_ms: None,
        }
    }

    /// Removes every secret (the config's, and the session id) from a text
    /// built from foreign input: a server, a proxy or an app's callback may
    /// quote any of them.
    pub(crate) fn redact(&self, text: &str) -> String {
        let secrets =
            std::iter::once(&self.config.api_key).chain(&self.config.user_token).chain(&self.conversation.session_id);
        secrets.fold(text.to_owned(), |text, secret| secret.redact(&text))
    }

    /// The id the next accepted action gets: this client's random prefix
    /// and a counter (which moves only when an action is accepted).
    fn peek_id(&self) -> String {
        cat(&[Part::T(&self.id_prefix), Part::T("-"), Part::N(self.next_action)])
    }

    /// Whether an action id is one of this client's.
    fn is_own(&self, id: &str) -> bool {
        id.strip_prefix(self.id_prefix.as_str()).is_some_and(|rest| rest.starts_with('-'))
    }
}
