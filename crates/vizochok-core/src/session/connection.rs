//! Connection attempts: opening, authenticating, the socket's end, backoff
//! and the storm spread, stopping, and the app's disconnect and destroy
//! (`docs/protocol.md`, "Connection states" and "Timers").

use vizochok_proto::frame::{AuthFrame, ClientFrame, PROTOCOL_VERSION};
use vizochok_proto::{frame, ErrorCode, WidgetError};

use super::phase::{Phase, StopReason};
use super::timers::Timer;
use super::Session;
use crate::text::{cat, Part};
use crate::{Event, Output, SocketId};

/// Close codes after which the server is restarting: spread the return.
const STORM_CODES: [u16; 3] = [1001, 1011, 1012];
/// Close codes after which the client never reconnects.
const FINAL_CODES: std::ops::RangeInclusive<u16> = 4000..=4099;
/// What runtimes report when no close frame arrived.
const NO_CLOSE_FRAME: [u16; 3] = [0, 1005, 1006];
/// The only close code the client sends: 1006 is reserved (RFC 6455) and a
/// browser's `WebSocket.close` accepts nothing but 1000 and 3000–4999.
const CLOSE_NORMAL: u16 = 1000;

/// How the next attempt's wait is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backoff {
    /// Attempt n waits a random time in [d/2, d], d = min(max, base·2ⁿ).
    Exponential,
    /// After a server-initiated close, until the next `auth_ok`: attempt k
    /// of the series waits a random time in [0, min(max, spread·2ᵏ)], so
    /// clients that fail in a restart gap return spread out again instead
    /// of bunching on the exponential schedule.
    Spread {
        /// Attempts of the series that failed.
        failures: u32,
    },
}

/// Why the client closes a socket: short, fixed texts (every one fits a
/// close frame's 123 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    OpenTimeout,
    AuthTimeout,
    HeartbeatTimeout,
    TooManyBadFrames,
    AuthError,
    Reset,
    Disconnected,
    Destroyed,
}

impl CloseReason {
    fn as_str(self) -> &'static str {
        match self {
            CloseReason::OpenTimeout => "open timeout",
            CloseReason::AuthTimeout => "auth timeout",
            CloseReason::HeartbeatTimeout => "heartbeat timeout",
            CloseReason::TooManyBadFrames => "too many bad frames",
            CloseReason::AuthError => "auth error",
            CloseReason::Reset => "conversation reset",
            CloseReason::Disconnected => "client disconnected",
            CloseReason::Destroyed => "client destroyed",
        }
    }
}

/// What becomes of the socket when an attempt fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// The client closes it (or abandons it while it opens).
    Close(CloseReason),
    /// It is already gone.
    Gone,
}

impl Session {
    pub(super) fn connect(&mut self, now: u64) {
        if matches!(self.phase, Phase::Idle | Phase::Stopped(_) | Phase::Reconnecting) {
            // From rest, a new series: a storm met before it is over (a
            // restart close while reconnecting keeps its series going).
            if !matches!(self.phase, Phase::Reconnecting) {
                self.backoff = Backoff::Exponential;
            }
            self.attempts = 0;
            self.start_attempt(now);
        }
    }

    pub(super) fn network_online(&mut self, now: u64) {
        match self.phase {
            Phase::Reconnecting => self.start_attempt(now),
            Phase::Stopped(StopReason::GaveUp) => self.connect(now),
            _ => {}
        }
    }

    pub(super) fn start_attempt(&mut self, now: u64) {
        self.next_socket += 1;
        let socket = SocketId(self.next_socket);
        self.timers.clear(Timer::Reconnect);
        self.timers.set(Timer::Open, now.saturating_add(self.config.timers.socket_open_ms));
        self.enter(Phase::Connecting(socket));
        self.outputs.push(Output::Open { socket, url: self.config.url.clone() });
    }

    pub(super) fn opened(&mut self, now: u64, socket: SocketId) {
        self.timers.clear(Timer::Open);
        self.timers.set(Timer::Auth, now.saturating_add(self.config.timers.auth_ms));
        let asked = self.conversation.session_id.clone();
        let auth = ClientFrame::Auth(AuthFrame {
            v: PROTOCOL_VERSION,
            api_key: self.config.api_key.clone(),
            store_id: self.config.store_id.clone(),
            user_id: self.config.user_id.clone(),
            user_token: self.config.user_token.clone(),
            session_id: asked.as_ref().map(|id| id.expose().to_owned()),
            // Nothing applied yet (a fresh page): no `last_seq`, which asks the
            // server for the summary and history instead of a replay.
            last_seq: asked.as_ref().map(|_| self.conversation.last_seq).filter(|&seq| seq > 0),
            language: self.language.tag().to_owned(),
            sdk: self.config.sdk.clone(),
            new_session: self.conversation.starting_over,
        });
        self.enter(Phase::Authenticating { socket, asked });
        self.send_text(frame::encode(&auth));
    }

    /// The socket is gone: a 40xx close stops for good; a close frame with
    /// any other code reconnects quietly; an end without a close frame (a
    /// cut, a refusal, a runtime error) is a `ws_error`, then reconnects.
    pub(super) fn ended(&mut self, now: u64, code: Option<u16>, reason: &str) {
        let code = code.filter(|c| !NO_CLOSE_FRAME.contains(c));
        match code {
            Some(code) if FINAL_CODES.contains(&code) => {
                let error_code = if matches!(code, 4001 | 4002) { ErrorCode::AuthError } else { ErrorCode::WsError };
                let detail = cat(&[Part::T("the server closed the connection with final code "), Part::N(code.into())]);
                let detail =
                    if reason.is_empty() { detail } else { cat(&[Part::T(&detail), Part::T(": "), Part::T(reason)]) };
                let error = self.error(error_code, Some(detail));
                self.emit(Event::Error(error));
                self.drop_socket(Ending::Gone);
                self.stop(StopReason::Final);
            }
            Some(code) => {
                // Met again within a series (a rolling restart), it goes on
                // widening: starting over would keep every window at the first.
                if STORM_CODES.contains(&code) && !matches!(self.backoff, Backoff::Spread { .. }) {
                    self.backoff = Backoff::Spread { failures: 0 };
                }
                self.fail(now, None, Ending::Gone);
            }
            None => {
                let detail = if reason.is_empty() {
                    "the connection ended without a close frame".to_owned()
                } else {
                    cat(&[Part::T("the connection ended without a close frame: "), Part::T(reason)])
                };
                let error = self.error(ErrorCode::WsError, Some(detail));
                self.fail(now, Some(error), Ending::Gone);
            }
        }
    }

    /// Runs every timer that expired at `now`, in a fixed order; handling
    /// one may arm another that is due at once (a zero backoff).
    pub(super) fn timeout(&mut self, now: u64) {
        // Each attempt consumes one of a bounded series, so this ends; the
        // bound only guards against a zero-length timer configuration.
        for _ in 0..64 {
            let Some(timer) = self.timers.expired(now) else { return };
            self.timers.clear(timer);
            match timer {
                Timer::Open => {
                    let ms = self.config.timers.socket_open_ms;
                    let detail = cat(&[Part::T("the socket did not open within "), Part::N(ms), Part::T(" ms")]);
                    let error = self.error(ErrorCode::WsError, Some(detail));
                    self.fail(now, Some(error), Ending::Close(CloseReason::OpenTimeout));
                }
                Timer::Auth => {
                    let ms = self.config.timers.auth_ms;
                    let detail = cat(&[Part::T("no auth_ok within "), Part::N(ms), Part::T(" ms")]);
                    let error = self.error(ErrorCode::AuthTimeout, Some(detail));
                    self.fail(now, Some(error), Ending::Close(CloseReason::AuthTimeout));
                }
                Timer::Pong => {
                    let ms = self.config.timers.heartbeat_answer_ms;
                    let detail = cat(&[Part::T("no frame within "), Part::N(ms), Part::T(" ms of a ping")]);
                    let error = self.error(ErrorCode::ConnectionLost, Some(detail));
                    self.fail(now, Some(error), Ending::Close(CloseReason::HeartbeatTimeout));
                }
                Timer::Ping => {
                    self.timers.set(Timer::Pong, now.saturating_add(self.config.timers.heartbeat_answer_ms));
                    // The timestamp is the host's clock, a whole number of ms.
                    self.send_text(frame::encode(&ClientFrame::Ping { ts: Some(now as f64) }));
                }
                Timer::Reconnect => self.start_attempt(now),
                Timer::Retry => self.flush(now, super::queue::Order::Queued),
            }
        }
    }

    /// A reconnect trigger: report, drop the socket, back off (or stop after
    /// `max_reconnect` attempts in a row).
    pub(super) fn fail(&mut self, now: u64, error: Option<WidgetError>, ending: Ending) {
        if let Some(error) = error {
            self.emit(Event::Error(error));
        }
        self.drop_socket(ending);
        let max = self.config.limits.max_reconnect_attempts;
        if self.attempts >= max {
            let detail = cat(&[Part::N(self.attempts.into()), Part::T(" reconnect attempts in a row failed")]);
            let error = self.error(ErrorCode::MaxReconnect, Some(detail));
            self.emit(Event::Error(error));
            self.stop(StopReason::GaveUp);
            return;
        }
        let timers = &self.config.timers;
        let delay = match &mut self.backoff {
            Backoff::Exponential => {
                let d = doubled(timers.backoff_base_ms, self.attempts).min(timers.backoff_max_ms);
                self.rng.range(d / 2, d)
            }
            Backoff::Spread { failures } => {
                let window = doubled(timers.storm_spread_ms, *failures).min(timers.backoff_max_ms);
                *failures += 1;
                self.rng.range(0, window)
            }
        };
        self.attempts += 1;
        self.timers.set(Timer::Reconnect, now.saturating_add(delay));
        self.enter(Phase::Reconnecting);
    }

    /// Ends the current socket (asking the host to close it when the client
    /// ends it) and reports the disconnect if the app had seen a connect.
    /// The caller enters the next phase right after; nothing is sent between.
    pub(super) fn drop_socket(&mut self, ending: Ending) {
        if let (Some(socket), Ending::Close(reason)) = (self.phase.socket(), ending) {
            self.outputs.push(Output::Close { socket, code: CLOSE_NORMAL, reason: reason.as_str().to_owned() });
        }
        let was_connected = matches!(self.phase, Phase::Connected(_));
        for timer in Timer::CONNECTION {
            self.timers.clear(timer);
        }
        self.queue.socket_lost();
        if was_connected {
            self.emit(Event::Disconnect);
        }
    }

    pub(super) fn stop(&mut self, reason: StopReason) {
        self.timers.clear(Timer::Reconnect);
        self.enter(Phase::Stopped(reason));
    }

    /// The app disconnects (keeping the session) or destroys the client.
    pub(super) fn shut(&mut self, phase: Phase, reason: CloseReason) {
        self.drop_socket(Ending::Close(reason));
        self.timers.clear(Timer::Reconnect);
        self.enter(phase);
    }

    pub(super) fn destroy(&mut self) {
        self.shut(Phase::Destroyed, CloseReason::Destroyed);
        self.timers = Default::default();
    }
}

/// `base·2ⁿ`, saturating.
fn doubled(base: u64, n: u32) -> u64 {
    base.saturating_mul(1u64.checked_shl(n).unwrap_or(u64::MAX))
}
