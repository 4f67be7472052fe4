//! The engine: its state, its public face, and the plumbing every rule uses
//! (sending frames, `seq` numbering, closing, logging, timers).

use std::collections::{BTreeMap, VecDeque};

use vizochok_proto::frame::{self, ServerFrame};
use vizochok_proto::{Cart, ErrorCode, Reply, Secret};

use crate::connection::Conn;
use crate::random::log_prefix;
use crate::session::{Feedback, Session};
use crate::usage::Usage;
use crate::{Assistant, ConnId, LogEvent, LogKind, RandomSource, ServerConfig, ServerInput, ServerOutput, StoreConfig};

/// Shortest run of hex digits scrubbed from every log and error text: a
/// session id holds 32, a user token 64, and nothing the engine writes
/// needs that many in a row.
const SECRET_HEX_RUN: usize = 32;

/// The sans-IO server. The host feeds it [`ServerInput`]s with the current
/// monotonic time in milliseconds, drains [`ServerOutput`]s with
/// [`poll_output`](Engine::poll_output), and calls
/// `handle(now, ServerInput::Timeout)` once [`poll_timeout`](Engine::poll_timeout)'s
/// deadline is reached. It is `Send`, so it can live in a tokio task.
pub struct Engine {
    pub(crate) config: ServerConfig,
    pub(crate) assistant: Box<dyn Assistant>,
    /// Where session ids come from (the host's CSPRNG in production).
    pub(crate) random: Box<dyn RandomSource>,
    pub(crate) conns: BTreeMap<ConnId, Conn>,
    pub(crate) sessions: BTreeMap<String, Session>,
    pub(crate) usage: Usage,
    /// Webhook requests ever issued.
    pub(crate) requests: u64,
    /// The latest host time seen, for events without one of their own (restore).
    pub(crate) now: u64,
    outputs: VecDeque<ServerOutput>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("stores", &self.config.stores)
            .field("connections", &self.conns.len())
            .field("sessions", &self.sessions.len())
            .field("pending_outputs", &self.outputs.len())
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine serving `config`'s stores, answering messages with
    /// `assistant`, drawing session ids from `random` (which a real server
    /// backs with the operating system's CSPRNG; see [`RandomSource`]).
    pub fn new(config: ServerConfig, assistant: Box<dyn Assistant>, random: Box<dyn RandomSource>) -> Engine {
        Engine {
            config,
            assistant,
            random,
            conns: BTreeMap::new(),
            sessions: BTreeMap::new(),
            usage: Usage::default(),
            requests: 0,
            now: 0,
            outputs: VecDeque::new(),
        }
    }

    /// Feeds one input at host time `now`.
    pub fn handle(&mut self, now: u64, input: ServerInput<'_>) {
        self.now = now;
        self.arm_restored_deadlines(now);
        match input {
            ServerInput::Open { conn, origin } => self.on_open(now, conn, origin),
            ServerInput::Text { conn, text } => self.on_text(now, conn, text),
            ServerInput::Binary { conn, len } => self.on_binary(now, conn, len),
            ServerInput::Closed { conn } => self.on_closed(now, conn),
            ServerInput::WebhookResult { request, accepted, detail } => {
                self.on_webhook_result(now, request, accepted, detail)
            }
            ServerInput::Timeout => self.on_timeout(now),
        }
    }

    /// The next thing the host must do, if any.
    pub fn poll_output(&mut self) -> Option<ServerOutput> {
        self.outputs.pop_front()
    }

    /// When the host must next call `handle(now, ServerInput::Timeout)`;
    /// `Some(0)` means at once.
    pub fn poll_timeout(&self) -> Option<u64> {
        let auth_timeout = self.config.limits.auth_timeout_ms;
        let conns = self.conns.values().filter_map(|conn| match (&conn.session, self.config.heartbeat_ms) {
            (None, _) => Some(conn.opened_at.saturating_add(auth_timeout)),
            (Some(_), Some(beat)) => {
                Some(conn.last_inbound.saturating_add(if conn.pinged { beat.saturating_mul(2) } else { beat }))
            }
            (Some(_), None) => None,
        });
        let sessions = self.sessions.values().flat_map(|s| {
            let replay_expiry = match (s.conns.is_empty(), &s.replay, s.detached_at) {
                (true, Some(_), Some(at)) => Some(at.saturating_add(self.config.replay_window_ms)),
                _ => None,
            };
            let next_chunk = s.data.turn.as_ref().filter(|t| !t.chunks.is_empty()).map(|t| t.next_at.unwrap_or(0));
            let webhook = s.data.in_flight.as_ref().map(|f| f.deadline.unwrap_or(0));
            [replay_expiry, next_chunk, webhook].into_iter().flatten()
        });
        conns.chain(sessions).min()
    }

    /// The server's cart of a session.
    pub fn session_cart(&self, session_id: &str) -> Option<Cart> {
        self.sessions.get(session_id).map(|s| s.data.cart.clone())
    }

    /// How many times the action `action_id` was applied in the session
    /// (0 or 1 when the engine keeps its promise).
    pub fn applied_count(&self, session_id: &str, action_id: &str) -> u32 {
        self.sessions.get(session_id).and_then(|s| s.data.applied.get(action_id)).copied().unwrap_or(0)
    }

    /// How many live connections the session has (at most 8).
    pub fn connection_count(&self, session_id: &str) -> usize {
        self.sessions.get(session_id).map_or(0, |s| s.conns.len())
    }

    /// The ratings recorded on a session, oldest first.
    pub fn feedback(&self, session_id: &str) -> Vec<Feedback> {
        self.sessions.get(session_id).map(|s| s.data.feedback.iter().cloned().collect()).unwrap_or_default()
    }

    /// Simulates a server restart: every connection is closed with 1012, and
    /// unless `keep_replay` the replay buffers are lost (resumes are then
    /// answered `restored`). Durable state, replies in progress and pending
    /// webhooks carry on.
    pub fn restart(&mut self, now: u64, keep_replay: bool) {
        self.now = now;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close(now, conn, 1012, "restarting");
        }
        if !keep_replay {
            for session in self.sessions.values_mut() {
                session.replay = None;
            }
        }
        let detail = format!("restart (replay buffers {})", if keep_replay { "kept" } else { "lost" });
        self.log(now, LogKind::Restarted, None, None, None, detail);
    }

    // ----- plumbing shared by the rule modules --------------------------------

    pub(crate) fn store(&self, store_id: &str) -> Option<&StoreConfig> {
        self.config.stores.iter().find(|s| s.store_id == store_id)
    }

    pub(crate) fn push(&mut self, output: ServerOutput) {
        self.outputs.push_back(output);
    }

    /// Sends a frame that carries no `seq` to one connection.
    pub(crate) fn send(&mut self, conn: ConnId, frame: &ServerFrame) {
        self.push(ServerOutput::Send { conn, text: frame::encode(frame) });
    }

    /// Numbers a frame with the session's next `seq`, buffers it for replay,
    /// and sends it to every connection of the session (a detached session
    /// keeps producing, for the replay).
    pub(crate) fn emit(&mut self, session_id: &str, build: impl FnOnce(u64) -> ServerFrame) {
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        session.data.seq += 1;
        let seq = session.data.seq;
        let frame = build(seq);
        let text = frame::encode(&frame);
        if let ServerFrame::Response { reply: Reply { reply_to, .. }, .. }
        | ServerFrame::Error { reply_to: Some(reply_to), .. } = &frame
        {
            if session.data.applied.contains_key(reply_to) {
                session.data.keep_outcome(reply_to.clone(), frame.clone());
            }
        }
        if let Some(replay) = &mut session.replay {
            replay.push(seq, text.clone());
        }
        for &conn in &session.conns {
            self.outputs.push_back(ServerOutput::Send { conn, text: text.clone() });
        }
    }

    /// Numbers a frame with the session's next `seq` and sends it to one
    /// connection only, without buffering it: it concerns that socket alone
    /// (a frame it sent that could not be read, an outcome it asked again).
    pub(crate) fn emit_to(&mut self, session_id: &str, conn: ConnId, build: impl FnOnce(u64) -> ServerFrame) {
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        session.data.seq += 1;
        let text = frame::encode(&build(session.data.seq));
        self.outputs.push_back(ServerOutput::Send { conn, text });
    }

    /// Sends an `error` frame to every connection of a session.
    pub(crate) fn error(
        &mut self,
        session_id: &str,
        code: ErrorCode,
        message: String,
        reply_to: Option<String>,
        retry_after_ms: Option<u64>,
    ) {
        let message = Some(self.redact(&message));
        self.emit(session_id, |seq| ServerFrame::Error {
            seq,
            code: code.as_str().to_owned(),
            message,
            reply_to,
            retry_after_ms,
        });
    }

    /// Closes a connection: tells the host, forgets it, detaches its session.
    pub(crate) fn close(&mut self, now: u64, conn: ConnId, code: u16, reason: &str) {
        let session_id = self.forget_conn(now, conn);
        self.push(ServerOutput::Close { conn, code, reason: reason.to_owned() });
        self.log(now, LogKind::Closed, Some(conn), session_id, None, format!("closed {code} {reason}"));
    }

    /// Drops a connection's state; a session (returned) left without
    /// connections starts its replay window.
    pub(crate) fn forget_conn(&mut self, now: u64, conn: ConnId) -> Option<String> {
        let session_id = self.conns.remove(&conn)?.session?;
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.conns.retain(|&c| c != conn);
            if session.conns.is_empty() {
                session.detached_at = Some(now);
            }
        }
        Some(session_id)
    }

    /// Emits a log event: the session only by its id's first characters,
    /// every secret scrubbed from the texts.
    pub(crate) fn log(
        &mut self,
        at: u64,
        kind: LogKind,
        conn: Option<ConnId>,
        session_id: Option<String>,
        store_id: Option<String>,
        detail: String,
    ) {
        let event = LogEvent {
            at,
            kind,
            conn,
            session: session_id.map(|s| log_prefix(&s)),
            store_id: store_id.map(|s| self.redact(&s)),
            detail: self.redact(&detail),
        };
        self.push(ServerOutput::Log(event));
    }

    /// Removes every configured api key and identity secret from a text
    /// built from foreign input, then every long run of hex digits (the
    /// shape of session ids and user tokens, whoever's they are).
    pub(crate) fn redact(&self, text: &str) -> String {
        let keys = self.config.stores.iter().flat_map(|s| s.api_keys.iter().map(String::as_str));
        let identity = self.config.stores.iter().filter_map(|s| s.identity_secret.as_ref().map(Secret::expose));
        let scrubbed = keys
            .chain(identity)
            .filter(|secret| !secret.is_empty())
            .fold(text.to_owned(), |text, secret| Secret::new(secret).redact(&text));
        scrub_hex_runs(&scrubbed)
    }

    // ----- timers -----------------------------------------------------------

    /// A restore has no clock: deadlines it left open are armed at the first input.
    fn arm_restored_deadlines(&mut self, now: u64) {
        let webhook_timeout = self.config.webhook_timeout_ms;
        for session in self.sessions.values_mut() {
            if let Some(turn) = &mut session.data.turn {
                turn.next_at.get_or_insert(now);
            }
            if let Some(in_flight) = &mut session.data.in_flight {
                in_flight.deadline.get_or_insert(now.saturating_add(webhook_timeout));
            }
        }
    }

    fn on_timeout(&mut self, now: u64) {
        self.connection_timers(now);
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.expire_replay(now, &id);
            self.webhook_timer(now, &id);
            self.advance(now, &id);
        }
    }

    fn expire_replay(&mut self, now: u64, session_id: &str) {
        let window = self.config.replay_window_ms;
        let Some(session) = self.sessions.get_mut(session_id) else { return };
        let expired =
            session.conns.is_empty() && session.detached_at.is_some_and(|at| at.saturating_add(window) <= now);
        if expired && session.replay.take().is_some() {
            let detail = format!("no connection for {window} ms: replay buffer dropped");
            self.log(now, LogKind::ReplayExpired, None, Some(session_id.to_owned()), None, detail);
        }
    }
}

/// Replaces every run of at least [`SECRET_HEX_RUN`] hex digits with `[redacted]`.
fn scrub_hex_runs(text: &str) -> String {
    fn flush(out: &mut String, run: &mut String) {
        out.push_str(if run.len() >= SECRET_HEX_RUN { "[redacted]" } else { run });
        run.clear();
    }
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut out, &mut run);
            out.push(c);
        }
    }
    flush(&mut out, &mut run);
    out
}

#[cfg(test)]
mod tests {
    use super::scrub_hex_runs;

    #[test]
    fn the_engine_can_move_into_a_tokio_task() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<super::Engine>();
    }

    #[test]
    fn long_hex_runs_are_scrubbed_and_short_ones_kept() {
        let id = format!("s-{}", "ab12".repeat(8));
        assert_eq!(scrub_hex_runs(&format!("resume {id}, seq 12")), "resume s-[redacted], seq 12");
        assert_eq!(scrub_hex_runs(&"f".repeat(64)), "[redacted]");
        assert_eq!(scrub_hex_runs("deadbeef-m3 at 1700000000000"), "deadbeef-m3 at 1700000000000");
    }
}
