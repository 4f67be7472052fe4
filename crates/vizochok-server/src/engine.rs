//! The engine: its state, its public face, and the plumbing every rule uses
//! (sending frames, `seq` numbering, closing, logging, timers).

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use vizochok_proto::frame::{self, ServerFrame};
use vizochok_proto::{Cart, ErrorCode, Reply, Secret};

use crate::address_budget::{AddressBudget, Peer};
use crate::connection::Conn;
use crate::dedup::DedupLimits;
use crate::random::log_prefix;
use crate::schedule::Schedule;
use crate::session::{Feedback, Session};
use crate::usage::Usage;
use crate::{Assistant, ConnId, LogEvent, LogKind, RandomSource, ServerConfig, ServerInput, ServerOutput, StoreConfig};

/// A day of host time, for pruning yesterday's quota counters.
const DAY_MS: u64 = 86_400_000;

/// Shortest run of hex digits scrubbed from every log and error text: a
/// session id holds 32, a user token 64, and nothing the engine writes
/// needs that many in a row.
const SECRET_HEX_RUN: usize = 32;
/// Longest part of a client's text a refusal or a log line repeats.
const SHOWN: usize = 64;

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
    /// Session ids by (store, `user_id`): a shopper's sessions without a scan.
    pub(crate) owners: HashMap<(String, String), BTreeSet<String>>,
    /// Webhook request → the session whose change it carries.
    pub(crate) webhook_owner: HashMap<u64, String>,
    /// Every deadline, in order (`schedule`).
    pub(crate) schedule: Schedule,
    /// A restore left deadlines to arm at the next input.
    pub(crate) unarmed: bool,
    /// The day whose quota counters are current.
    usage_day: u64,
    pub(crate) usage: Usage,
    /// Sessions each address opened lately.
    pub(crate) new_sessions: AddressBudget,
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
            owners: HashMap::new(),
            webhook_owner: HashMap::new(),
            schedule: Schedule::default(),
            unarmed: false,
            usage_day: 0,
            usage: Usage::default(),
            new_sessions: AddressBudget::default(),
            requests: 0,
            now: 0,
            outputs: VecDeque::new(),
        }
    }

    /// Feeds one input at host time `now`.
    pub fn handle(&mut self, now: u64, input: ServerInput<'_>) {
        self.now = now;
        self.arm_restored(now);
        self.prune_usage(now);
        match input {
            ServerInput::Open { conn, origin, peer } => {
                self.on_open(now, conn, origin, peer.map(Peer::of));
                self.refresh_conn(conn);
            }
            ServerInput::Text { conn, text } => {
                let before = self.session_of(conn);
                self.on_text(now, conn, text);
                self.refresh_after(conn, before);
            }
            ServerInput::Binary { conn, len } => {
                let before = self.session_of(conn);
                self.on_binary(now, conn, len);
                self.refresh_after(conn, before);
            }
            ServerInput::Closed { conn } => {
                let before = self.session_of(conn);
                self.on_closed(now, conn);
                self.refresh_after(conn, before);
            }
            ServerInput::WebhookResult { request, accepted, detail } => {
                let owner = self.webhook_owner.get(&request).cloned();
                self.on_webhook_result(now, request, accepted, detail);
                if let Some(id) = owner {
                    self.refresh_session(&id);
                }
            }
            ServerInput::Timeout => self.on_timeout(now),
        }
        // Sessions that outgrew `max_sessions` while attached or busy go once they are neither.
        let max = self.config.max_sessions.max(1);
        if self.sessions.len() > max {
            self.shed_sessions(now, max);
        }
    }

    fn session_of(&self, conn: ConnId) -> Option<String> {
        self.conns.get(&conn).and_then(|c| c.session.clone())
    }

    /// An input on `conn` changed only `conn` and its session (before and after it authenticated).
    fn refresh_after(&mut self, conn: ConnId, before: Option<String>) {
        self.refresh_conn(conn);
        let after = self.session_of(conn);
        for id in before.iter().chain(after.iter().filter(|a| Some(*a) != before.as_ref())) {
            self.refresh_session(id);
        }
    }

    /// Yesterday's per-shopper message counters read as zero: drop them once a day.
    fn prune_usage(&mut self, now: u64) {
        let day = now / DAY_MS;
        if day != self.usage_day {
            self.usage_day = day;
            self.usage.prune(now);
        }
    }

    /// The next thing the host must do, if any.
    pub fn poll_output(&mut self) -> Option<ServerOutput> {
        self.outputs.pop_front()
    }

    /// When the host must next call `handle(now, ServerInput::Timeout)`;
    /// `Some(0)` means at once.
    pub fn poll_timeout(&self) -> Option<u64> {
        self.next_deadline()
    }

    /// The server's cart of a session.
    pub fn session_cart(&self, session_id: &str) -> Option<Cart> {
        self.sessions.get(session_id).map(|s| s.data.cart.clone())
    }

    /// Whether the session still remembers the action `action_id` as
    /// applied (a resend of it would only be acknowledged again).
    pub fn remembers(&self, session_id: &str, action_id: &str) -> bool {
        self.sessions.get(session_id).is_some_and(|s| s.data.dedup.contains(action_id))
    }

    /// Whether the engine holds this session.
    pub fn has_session(&self, session_id: &str) -> bool {
        self.sessions.contains_key(session_id)
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
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            self.refresh_session(&id);
        }
        // Sessions held beyond `max_sessions` only while attached go now.
        self.shed_sessions(now, self.config.max_sessions.max(1));
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
        let Some(text) = self.record(session_id, build) else { return };
        let Some(session) = self.sessions.get(session_id) else { return };
        for &conn in &session.conns {
            self.outputs.push_back(ServerOutput::Send { conn, text: text.clone() });
        }
    }

    /// Numbers a frame with the session's next `seq`, keeps it as the
    /// outcome of the action it answers, and buffers it for replay: its text.
    pub(crate) fn record(&mut self, session_id: &str, build: impl FnOnce(u64) -> ServerFrame) -> Option<String> {
        let session = self.sessions.get_mut(session_id)?;
        session.data.seq += 1;
        let seq = session.data.seq;
        let frame = build(seq);
        let text = frame::encode(&frame);
        if let ServerFrame::Response { reply: Reply { reply_to, .. }, .. }
        | ServerFrame::Error { reply_to: Some(reply_to), .. } = &frame
        {
            if session.data.dedup.contains(reply_to) {
                session.data.keep_outcome(reply_to.clone(), frame.clone(), text.len());
            }
        }
        if let Some(replay) = &mut session.replay {
            replay.push(seq, text.clone());
        }
        Some(text)
    }

    /// Numbers a frame with the session's next `seq` and sends it to one
    /// connection only, without buffering it: it concerns that socket alone
    /// (a frame it sent that could not be read).
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
    /// connections starts its replay window. Leaving is a use of the
    /// session: its TTL counts from here.
    pub(crate) fn forget_conn(&mut self, now: u64, conn: ConnId) -> Option<String> {
        let state = self.conns.remove(&conn)?;
        self.unschedule_conn(conn, state.due_key);
        let session_id = state.session?;
        if let Some(session) = self.sessions.get_mut(&session_id) {
            session.conns.retain(|&c| c != conn);
            session.data.dedup.close(conn);
            session.data.used_at = now;
            if session.conns.is_empty() {
                session.detached_at = Some(now);
            }
        }
        Some(session_id)
    }

    /// What a session's dedup set holds, from the configuration.
    pub(crate) fn dedup_limits(&self) -> DedupLimits {
        DedupLimits { per_connection: self.config.dedup_per_connection, connections: self.config.dedup_connections }
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

    /// At most the first [`SHOWN`] bytes of a client's text (a SKU, a store
    /// id), cut at a character after every secret is scrubbed from it: cut
    /// first, a secret the cut split would be left in part, where no
    /// redaction can recognise it.
    pub(crate) fn shown(&self, text: &str) -> String {
        let mut text = self.redact(text);
        let mut end = text.len().min(SHOWN);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text
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
