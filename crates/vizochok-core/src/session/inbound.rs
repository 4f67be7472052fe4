//! What each server frame does (`docs/protocol.md`, "Server frames").

use vizochok_proto::frame::{self, AuthOk, ClientFrame, ServerFrame};
use vizochok_proto::{CartChangedEvent, ErrorCode, Reply, SessionSummary};

use super::connection::{CloseReason, Ending};
use super::phase::{Phase, StopReason};
use super::queue::{Acked, Order, Refused};
use super::timers::Timer;
use super::Session;
use crate::text::{cat, Part};
use crate::Event;

/// Heartbeats a server may ask for: not so short that pings flood, not so
/// long that a dead socket goes unnoticed.
const HEARTBEAT_RANGE_MS: std::ops::RangeInclusive<u64> = 1_000..=120_000;

/// The longest wait a server's `retry_after_ms` buys: a longer one (a bug, a
/// unit mistake) would hold the action, and every message behind it, for as
/// long as the socket lives.
const MAX_RETRY_AFTER_MS: u64 = 60_000;

/// The fields of an `error` frame.
struct ServerError {
    code: String,
    message: Option<String>,
    reply_to: Option<String>,
    retry_after_ms: Option<u64>,
}

impl Session {
    pub(super) fn text(&mut self, now: u64, text: &str) {
        self.heard(now);
        let frame = match frame::parse::<ServerFrame>(text, self.config.limits.max_inbound_bytes) {
            Ok(frame) => frame,
            Err(e) => return self.bad_frame(now, e.message()),
        };
        let authenticating = matches!(self.phase, Phase::Authenticating { .. });
        // Nothing but the auth answer is meaningful before auth_ok.
        let meaningful = !authenticating
            || matches!(frame, ServerFrame::AuthOk(_) | ServerFrame::AuthError { .. } | ServerFrame::Ping { .. });
        // A duplicate or late `seq` never rolls state back.
        if !meaningful || frame.seq().is_some_and(|seq| !self.conversation.advance(seq)) {
            return ignore(frame);
        }
        match frame {
            ServerFrame::AuthOk(ok) if authenticating => self.on_auth_ok(now, ok),
            frame @ ServerFrame::AuthOk(_) => ignore(frame),
            ServerFrame::AuthError { code, message } => self.on_auth_error(code, message),
            ServerFrame::Ack { id } => self.on_ack(id),
            ServerFrame::Typing { reply_to, .. } => {
                if reply_to.is_some() {
                    self.conversation.streaming.clone_from(&reply_to);
                }
                self.emit_from_frame(Event::Typing { reply_to });
            }
            ServerFrame::Delta { message_id, reply_to, text, .. } => {
                if self.conversation.stopped.as_deref() != Some(reply_to.as_str()) {
                    self.conversation.streaming = Some(reply_to.clone());
                    self.emit_from_frame(Event::Delta { message_id, reply_to, text });
                }
            }
            ServerFrame::Response { reply, again, .. } => self.on_response(now, reply, again),
            ServerFrame::CartChanged { change, .. } => self.on_cart_changed(change),
            ServerFrame::UserMessage { id, text, .. } => {
                // Our own message comes back too: we showed it when it was sent.
                if !self.is_own(&id) {
                    self.emit_from_frame(Event::UserMessage { id, text });
                }
            }
            ServerFrame::Error { code, message, reply_to, retry_after_ms, .. } => {
                self.on_server_error(now, ServerError { code, message, reply_to, retry_after_ms })
            }
            ServerFrame::Ping { ts } => self.send_text(frame::encode(&ClientFrame::Pong { ts })),
            ServerFrame::Pong { .. } => {}
            ServerFrame::Unknown => self.unknown_frames += 1,
        }
    }

    /// Any inbound frame answers the heartbeat.
    pub(super) fn heard(&mut self, now: u64) {
        self.timers.clear(Timer::Pong);
        if matches!(self.phase, Phase::Connected(_)) {
            self.timers.set(Timer::Ping, now.saturating_add(self.heartbeat_ms));
        }
    }

    fn on_auth_ok(&mut self, now: u64, ok: AuthOk) {
        let Phase::Authenticating { socket, asked } = &self.phase else { return };
        let (socket, asked) = (*socket, asked.clone());
        self.timers.clear(Timer::Auth);
        self.attempts = 0;
        self.backoff = super::connection::Backoff::Exponential;
        if let Some(limits) = ok.limits {
            if let Some(max) = limits.max_message_chars {
                self.max_message_chars = self.config.limits.max_message_chars.min(max.max(1));
            }
            if let Some(ms) = limits.heartbeat_ms {
                self.heartbeat_ms = ms.clamp(*HEARTBEAT_RANGE_MS.start(), *HEARTBEAT_RANGE_MS.end());
            }
        }
        let new_session = asked.is_some_and(|asked| asked.expose() != ok.session_id);
        if new_session {
            // The server forgot our session: start over, keep pending actions.
            self.conversation.restart();
        }
        self.conversation.joined(ok.session_id);
        self.enter(Phase::Connected(socket));
        self.timers.set(Timer::Ping, now.saturating_add(self.heartbeat_ms));
        self.emit(Event::Connect);
        if new_session {
            self.clear_cart_locally();
        }
        if !ok.replay {
            self.queue.forget_acked();
            self.conversation.streaming = None;
            self.conversation.stopped = None;
        }
        if let (true, Some(summary)) = (ok.restored, ok.summary) {
            self.apply_summary(summary);
        }
        if let Some(history) = ok.history {
            let known = self.config.limits.known_products;
            self.conversation.restored.clear();
            for entry in &history {
                self.conversation.learn_steps(entry.products.iter().flatten(), known);
                if let Some(id) = &entry.message_id {
                    self.conversation.restored.push(id.clone());
                }
            }
            self.emit_from_frame(Event::History(history));
        }
        self.flush(now, Order::ResendFirst);
    }

    fn on_auth_error(&mut self, code: String, message: Option<String>) {
        let detail = match message {
            Some(m) => cat(&[Part::T(code.as_str()), Part::T(": "), Part::T(&m)]),
            None => code,
        };
        let error = self.error(ErrorCode::AuthError, Some(detail));
        self.emit(Event::Error(error));
        self.drop_socket(Ending::Close(CloseReason::AuthError));
        self.stop(StopReason::Final);
    }

    fn on_ack(&mut self, id: String) {
        if self.queue.ack(&id) != Acked::Ignored {
            self.emit(Event::Acknowledged { id });
        }
    }

    /// A reply ends its message. One sent `again` (§3) is shown only if it
    /// is not on screen already: another tab's was shown when it first
    /// came, and this client's own is unless later messages pushed it out
    /// of the history it was given.
    fn on_response(&mut self, now: u64, reply: Reply, again: bool) {
        self.end_message(&reply);
        let on_screen =
            again && (!self.is_own(&reply.reply_to) || self.conversation.restored.contains(&reply.message_id));
        if !on_screen {
            let summary = reply.summary.clone();
            self.emit_from_frame(Event::Response(reply));
            if let Some(summary) = summary {
                self.apply_summary(summary);
            }
        }
        self.flush(now, Order::Queued);
    }

    fn end_message(&mut self, reply: &Reply) {
        self.conversation.learn_steps(&reply.products, self.config.limits.known_products);
        // A reply proves the message durable even if its ack was lost.
        if self.queue.answered(&reply.reply_to) {
            self.emit(Event::Acknowledged { id: reply.reply_to.clone() });
        }
        self.conversation.reply_ended(&reply.reply_to);
    }

    fn on_cart_changed(&mut self, change: CartChangedEvent) {
        self.conversation.cart = vizochok_proto::Cart { items: change.items.clone(), total: change.total };
        self.emit_from_frame(Event::CartChanged(change));
    }

    fn on_server_error(&mut self, now: u64, error: ServerError) {
        let ServerError { code, message, reply_to, retry_after_ms } = error;
        let (code, detail) = match ErrorCode::parse(&code) {
            Some(c) if c.is_server_code() => (c, message),
            _ => {
                let detail = cat(&[
                    Part::T("unknown server error code \""),
                    Part::T(&code),
                    Part::T("\": "),
                    Part::T(message.as_deref().unwrap_or("")),
                ]);
                (ErrorCode::InternalError, Some(detail))
            }
        };
        if let Some(id) = &reply_to {
            // An error ends its message's turn, a reply that streamed included.
            self.conversation.reply_ended(id);
            // Another tab's action (§9): its refusal is that tab's to report.
            if !self.is_own(id) {
                return;
            }
            let wait = retry_after_ms.map_or(self.config.timers.retry_after_ms, |ms| ms.min(MAX_RETRY_AFTER_MS));
            let max = self.config.limits.max_action_retries;
            // Only what the server has not acknowledged is retried (silently);
            // an error naming an action never sent changes nothing but is reported.
            if self.queue.refused(id, code.is_retryable(), max, now.saturating_add(wait)) == Refused::Retrying {
                return;
            }
        }
        let mut error = self.error(code, detail);
        error.reply_to = reply_to;
        error.retry_after_ms = retry_after_ms;
        self.emit(Event::Error(error));
        self.flush(now, Order::Queued);
    }

    /// A frame that cannot be used: reported, dropped, and counted; too many
    /// within the window recycle the socket.
    pub(super) fn bad_frame(&mut self, now: u64, detail: String) {
        let error = self.error(ErrorCode::WsError, Some(detail));
        self.emit(Event::Error(error));
        let window = self.config.timers.bad_frame_window_ms;
        self.bad_frames.retain(|&t| t.saturating_add(window) > now);
        self.bad_frames.push(now);
        let max = self.config.limits.max_bad_frames;
        if self.bad_frames.len() > max as usize {
            self.bad_frames.clear();
            let detail = cat(&[
                Part::T("more than "),
                Part::N(max.into()),
                Part::T(" bad frames within "),
                Part::N(window),
                Part::T(" ms"),
            ]);
            let error = self.error(ErrorCode::WsError, Some(detail));
            self.fail(now, Some(error), Ending::Close(CloseReason::TooManyBadFrames));
        }
    }

    pub(super) fn apply_summary(&mut self, summary: SessionSummary) {
        self.conversation.cart = vizochok_proto::Cart { items: summary.selected_items.clone(), total: summary.total };
        self.emit_from_frame(Event::SessionComplete(summary));
    }

    pub(super) fn clear_cart_locally(&mut self) {
        if !self.conversation.cart.items.is_empty() {
            self.conversation.cart = Default::default();
            self.emit(Event::CartChanged(CartChangedEvent::cleared()));
        }
    }
}

/// Drops a frame the session does not use, in one place (its drop code is
/// large, and a WebAssembly build would otherwise carry it at each site).
#[inline(never)]
fn ignore(frame: ServerFrame) {
    drop(frame);
}
