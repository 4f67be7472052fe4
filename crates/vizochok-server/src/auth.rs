//! The `auth` frame: credentials, then a new, replayed or restored session.

use vizochok_proto::frame::{ServerFrame, ServerLimits, PROTOCOL_VERSION};
use vizochok_proto::{AuthFrame, AuthOk};

use crate::cart::summary;
use crate::replay::ReplayBuffer;
use crate::session::{session_id, Session, SessionData};
use crate::{ConnId, Engine, LogKind};

impl Engine {
    pub(crate) fn authenticate(&mut self, now: u64, conn: ConnId, auth: AuthFrame) {
        let store_id = auth.store_id.clone();
        let refusal = self.check_credentials(conn, &auth);
        if let Some((code, close, reason)) = refusal {
            // The presented key may be unknown to every store: scrub it too.
            let detail = auth.api_key.redact(&format!("{reason} (store {store_id:?})"));
            let store = auth.api_key.redact(&store_id);
            self.log(now, LogKind::AuthFailed, Some(conn), None, Some(store), detail);
            if let Some(code) = code {
                self.send(conn, &ServerFrame::AuthError { code: code.into(), message: Some(reason.into()) });
            }
            return self.close(now, conn, close, reason);
        }
        let resumable = auth.session_id.as_deref().filter(|id| {
            self.sessions.get(*id).is_some_and(|s| s.data.store_id == store_id && s.data.user_id == auth.user_id)
        });
        match resumable.map(str::to_owned) {
            Some(id) => self.resume(now, conn, &id, &auth),
            None => self.open_session(now, conn, &auth),
        }
    }

    /// The `auth_error` code (none for a disabled store), close code and
    /// reason of a refused `auth`, in the contract's order of checks.
    fn check_credentials(&self, conn: ConnId, auth: &AuthFrame) -> Option<(Option<&'static str>, u16, &'static str)> {
        if auth.v != PROTOCOL_VERSION {
            return Some((Some("unsupported_version"), 4002, "unsupported protocol version"));
        }
        let Some(store) = self.store(&auth.store_id) else {
            return Some((Some("unknown_store"), 4001, "unknown store"));
        };
        if !store.api_keys.iter().any(|key| !key.is_empty() && same_secret(key, auth.api_key.expose())) {
            return Some((Some("invalid_api_key"), 4001, "invalid api key"));
        }
        let origin = self.conns.get(&conn).and_then(|c| c.origin.as_deref());
        if !origin_allowed(&store.allowed_origins, origin) {
            return Some((Some("origin_not_allowed"), 4001, "origin not allowed"));
        }
        if store.disabled {
            return Some((None, 4003, "store disabled"));
        }
        None
    }

    fn open_session(&mut self, now: u64, conn: ConnId, auth: &AuthFrame) {
        let mut id = session_id(self.config.seed, self.sessions_created);
        while self.sessions.contains_key(&id) {
            self.sessions_created += 1;
            id = session_id(self.config.seed, self.sessions_created);
        }
        self.sessions_created += 1;
        let data = SessionData::new(id.clone(), auth.store_id.clone(), auth.user_id.clone(), auth.language.clone());
        let mut session = Session::from_data(data);
        session.replay = Some(ReplayBuffer::new(0, self.config.replay_max_frames));
        self.sessions.insert(id.clone(), session);
        self.attach(conn, &id);
        self.send(conn, &self.auth_ok(&id, false, false));
        let detail = match &auth.session_id {
            Some(asked) => format!("unknown session {asked:?}: new session"),
            None => "new session".to_owned(),
        };
        self.log(now, LogKind::AuthOk, Some(conn), Some(id), Some(auth.store_id.clone()), detail);
    }

    fn resume(&mut self, now: u64, conn: ConnId, id: &str, auth: &AuthFrame) {
        let capacity = self.config.replay_max_frames;
        // A client that names no `last_seq` holds nothing (a reloaded page):
        // it needs the summary and history, not a replay of old deltas.
        let wants_replay = auth.last_seq.is_some();
        let last_seq = auth.last_seq.unwrap_or(0);
        let Some(session) = self.sessions.get_mut(id) else { return };
        session.data.language = auth.language.clone();
        let previous = session.conn.filter(|&old| old != conn);
        let current = session.data.seq;
        let replay: Option<Vec<String>> = session
            .replay
            .as_ref()
            .filter(|buffer| wants_replay && buffer.covers(last_seq, current))
            .map(|buffer| buffer.after(last_seq).map(str::to_owned).collect());
        if replay.is_none() {
            // A client ahead of us (we came back from an older snapshot) would
            // ignore every frame up to its `last_seq`: continue above it.
            session.data.seq = current.max(last_seq);
            // The client gets the truth in `auth_ok`; buffering starts afresh.
            session.replay = Some(ReplayBuffer::new(session.data.seq, capacity));
        }
        if let Some(old) = previous {
            self.close(now, old, 1000, "replaced");
        }
        self.attach(conn, id);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.restored = replay.is_none();
        }
        self.send(conn, &self.auth_ok(id, replay.is_none(), replay.is_some()));
        let detail = match &replay {
            Some(frames) => format!("resumed after seq {last_seq}: {} frames replayed", frames.len()),
            None => format!("resumed after seq {last_seq}: restored (replay not available)"),
        };
        for text in replay.into_iter().flatten() {
            self.push(crate::ServerOutput::Send { conn, text });
        }
        self.log(now, LogKind::AuthOk, Some(conn), Some(id.to_owned()), Some(auth.store_id.clone()), detail);
    }

    fn attach(&mut self, conn: ConnId, id: &str) {
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(id.to_owned());
        }
        if let Some(session) = self.sessions.get_mut(id) {
            session.conn = Some(conn);
            session.detached_at = None;
        }
    }

    fn auth_ok(&self, id: &str, restored: bool, replay: bool) -> ServerFrame {
        let session = self.sessions.get(id).map(|s| &s.data);
        let (summary, history) = match session {
            Some(data) if restored => (Some(summary(&data.cart)), Some(data.history.iter().cloned().collect())),
            _ => (None, None),
        };
        ServerFrame::AuthOk(AuthOk {
            session_id: id.to_owned(),
            restored,
            replay,
            summary,
            history,
            limits: Some(ServerLimits {
                max_message_chars: Some(self.config.limits.max_message_chars),
                heartbeat_ms: self.config.heartbeat_ms,
            }),
        })
    }
}

/// Compares secrets without stopping at the first differing byte.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Empty list: any origin. A connection without an `Origin` header is not a
/// browser, and a non-browser client could claim any origin anyway, so the
/// check (which protects keys embedded in web pages) lets it through.
fn origin_allowed(allowed: &[String], origin: Option<&str>) -> bool {
    let Some(origin) = origin else { return true };
    let origin = origin.trim_end_matches('/');
    allowed.is_empty() || allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(origin))
}
