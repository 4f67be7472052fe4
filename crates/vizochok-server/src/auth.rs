//! The `auth` frame: credentials and identity, then a new session, or one
//! more connection on an existing one (replayed or restored).

use std::num::NonZeroU64;

use vizochok_proto::frame::{ServerFrame, ServerLimits, PROTOCOL_VERSION};
use vizochok_proto::{AuthFrame, AuthOk, Language};

use crate::cart::summary;
use crate::connection::HEARTBEAT_TIMEOUT;
use crate::identity;
use crate::random::{session_id, session_tag};
use crate::replay::ReplayBuffer;
use crate::session::{Owner, Session, SessionData};
use crate::{ConnId, Engine, LimitsConfig, LogKind, StoreConfig};

/// The highest `last_seq` the engine takes from a client (2^53 - 1, the
/// largest integer a JavaScript number holds exactly); a higher one counts
/// as this, so a session's `seq` can never overflow (docs/protocol.md §3).
pub const MAX_SEQ: u64 = (1 << 53) - 1;

/// Live connections one session holds; one more closes a silent one, or the oldest (§9).
pub(crate) const MAX_CONNECTIONS: usize = 8;
/// Close code for the connection pushed out by the ninth (final for its client).
const TOO_MANY_CONNECTIONS: u16 = 4009;
/// Close code when the engine cannot make a safe session id (the client retries).
const INTERNAL_ERROR: u16 = 1011;
/// Close code when a full engine will not make room for this address's
/// next session yet ("try again later": the client reconnects).
const TRY_AGAIN_LATER: u16 = 1013;
/// Fresh ids drawn before giving up when they keep colliding with live sessions.
const ID_ATTEMPTS: usize = 4;

/// A refused `auth`: the `auth_error` code (none for a disabled store),
/// the close code and the developer-facing reason.
struct Refusal {
    code: Option<&'static str>,
    close: u16,
    reason: &'static str,
}

impl Refusal {
    fn new(code: &'static str, close: u16, reason: &'static str) -> Refusal {
        Refusal { code: Some(code), close, reason }
    }
}

impl Engine {
    pub(crate) fn authenticate(&mut self, now: u64, conn: ConnId, auth: AuthFrame) {
        let verified = match self.check_credentials(conn, &auth) {
            Ok(verified) => verified,
            Err(refusal) => return self.refuse_auth(now, conn, &auth, refusal),
        };
        let owner = Owner { store_id: auth.store_id.clone(), user_id: auth.user_id.clone(), verified };
        match self.session_for(&auth, &owner) {
            Some(id) => self.resume(now, conn, &id, &auth),
            None => self.open_session(now, conn, &auth, owner),
        }
    }

    fn refuse_auth(&mut self, now: u64, conn: ConnId, auth: &AuthFrame, refusal: Refusal) {
        let Refusal { code, close, reason } = refusal;
        // The presented key and token may be unknown to every store: scrub them too.
        let scrub = |text: &str| {
            let text = auth.api_key.redact(text);
            auth.user_token.as_ref().map_or(text.clone(), |token| token.redact(&text))
        };
        // An unknown store's id is the client's text: only its start is logged.
        let store = self.shown(&scrub(&auth.store_id));
        let detail = format!("{reason} (store {store:?})");
        self.log(now, LogKind::AuthFailed, Some(conn), None, Some(store), detail);
        if let Some(code) = code {
            self.send(conn, &ServerFrame::AuthError { code: code.into(), message: Some(reason.into()) });
        }
        self.close(now, conn, close, reason);
    }

    /// Checks an `auth` in the contract's order (version, store, key,
    /// origin, disabled, identity); `Ok` says whether its `user_id` is verified.
    fn check_credentials(&self, conn: ConnId, auth: &AuthFrame) -> Result<bool, Refusal> {
        if auth.v != PROTOCOL_VERSION {
            return Err(Refusal::new("unsupported_version", 4002, "unsupported protocol version"));
        }
        let Some(store) = self.store(&auth.store_id) else {
            return Err(Refusal::new("unknown_store", 4001, "unknown store"));
        };
        if !store.api_keys.iter().any(|key| !key.is_empty() && same_secret(key, auth.api_key.expose())) {
            return Err(Refusal::new("invalid_api_key", 4001, "invalid api key"));
        }
        let origin = self.conns.get(&conn).and_then(|c| c.origin.as_deref());
        if !origin_allowed(&store.allowed_origins, origin) {
            return Err(Refusal::new("origin_not_allowed", 4001, "origin not allowed"));
        }
        if store.disabled {
            return Err(Refusal { code: None, close: 4003, reason: "store disabled" });
        }
        identity_of(store, auth)
    }

    /// The session this `auth` joins, if any: the one it names when that
    /// session has the same owner, else (for a verified shopper only) the
    /// owner's most recently used session. A session id that cannot be
    /// resumed is treated as if none were given, so the answer never tells
    /// whether it exists. `new_session` (the shopper started over) joins
    /// nothing.
    fn session_for(&self, auth: &AuthFrame, owner: &Owner) -> Option<String> {
        if auth.new_session {
            return None;
        }
        let owned = |session: &Session| session.data.owner() == *owner;
        let named = auth.session_id.as_deref().filter(|id| self.sessions.get(*id).is_some_and(owned));
        if let Some(id) = named {
            return Some(id.to_owned());
        }
        if !owner.verified {
            return None;
        }
        self.latest_session_of(owner).map(|s| s.data.id.clone())
    }

    fn open_session(&mut self, now: u64, conn: ConnId, auth: &AuthFrame, owner: Owner) {
        let store_id = owner.store_id.clone();
        if let Some(peer) = self.conns.get(&conn).and_then(|c| c.peer) {
            let LimitsConfig { new_sessions_per_address: max, new_session_window_ms: window, .. } = self.config.limits;
            // Room is made by forgetting another shopper's idle session: an
            // address that opened many lately may not (one client could
            // otherwise empty the engine of every idle shopper).
            if self.sessions.len() >= self.config.max_sessions.max(1) && self.new_sessions.spent(now, peer, max, window)
            {
                let detail = format!("the engine is full and this address opened {max} sessions within {window} ms");
                self.log(now, LogKind::LimitHit, Some(conn), None, Some(store_id), detail);
                return self.close(now, conn, TRY_AGAIN_LATER, "try again later");
            }
            self.new_sessions.record(now, peer, max, window, self.config.max_sessions.max(1));
        }
        let (id, tag) = match self.fresh_ids() {
            Ok(ids) => ids,
            Err(detail) => {
                self.log(now, LogKind::AuthFailed, Some(conn), None, Some(store_id), detail);
                return self.close(now, conn, INTERNAL_ERROR, "internal error");
            }
        };
        self.make_room(now);
        let data = SessionData::new(id.clone(), tag, owner, language_of(auth), now);
        let mut session = Session::from_data(data);
        session.replay = Some(ReplayBuffer::new(0, self.config.replay_max_frames));
        self.insert_session(session);
        self.attach(now, conn, &id);
        self.send(conn, &self.auth_ok(&id, false, false));
        // The same line whether or not the client named a session: it must
        // not learn, nor the log keep, whether that id ever existed.
        self.log(now, LogKind::AuthOk, Some(conn), Some(id), Some(store_id), "new session".to_owned());
    }

    /// A session id unused by any live session, and a public tag.
    fn fresh_ids(&mut self) -> Result<(String, String), String> {
        for _ in 0..ID_ATTEMPTS {
            let id = session_id(self.random.as_mut()).map_err(|e| e.to_string())?;
            if !self.sessions.contains_key(&id) {
                let tag = session_tag(self.random.as_mut()).map_err(|e| e.to_string())?;
                return Ok((id, tag));
            }
        }
        Err(format!("the random source repeated live session ids {ID_ATTEMPTS} times"))
    }

    fn resume(&mut self, now: u64, conn: ConnId, id: &str, auth: &AuthFrame) {
        let capacity = self.config.replay_max_frames;
        // Replay needs the client's own place in this session: a client
        // that names no `last_seq` holds nothing (a reloaded page), and one
        // joining by its verified identity knows another session's seqs.
        let named = auth.session_id.as_deref() == Some(id);
        let wants_replay = named && auth.last_seq.is_some();
        // Clamped: a claim past any seq we could reach would overflow ours.
        let last_seq = if named { auth.last_seq.unwrap_or(0).min(MAX_SEQ) } else { 0 };
        let Some(session) = self.sessions.get_mut(id) else { return };
        session.data.language = language_of(auth);
        let current = session.data.seq;
        let replay: Option<Vec<String>> = session
            .replay
            .as_ref()
            .filter(|buffer| wants_replay && buffer.covers(last_seq, current))
            .map(|buffer| buffer.after(last_seq).map(str::to_owned).collect());
        if replay.is_none() && (session.replay.is_none() || last_seq > current) {
            // A client ahead of us (we came back from an older snapshot) would
            // ignore every frame up to its `last_seq`: continue above it. The
            // buffer of the other connections is kept otherwise.
            session.data.seq = current.max(last_seq);
            session.replay = Some(ReplayBuffer::new(session.data.seq, capacity));
        }
        let full = (session.conns.len() >= MAX_CONNECTIONS).then(|| session.conns.clone());
        if let Some(attached) = full {
            self.free_a_place(now, &attached);
        }
        self.attach(now, conn, id);
        let joined_at = self.sessions.get(id).map_or(0, |s| s.data.seq);
        if let Some(state) = self.conns.get_mut(&conn) {
            state.restored = replay.is_none();
            state.resumed_after = if replay.is_some() { last_seq } else { joined_at };
        }
        self.send(conn, &self.auth_ok(id, replay.is_none(), replay.is_some()));
        let connections = self.connection_count(id);
        let how = match (&replay, named) {
            (Some(frames), _) => format!("resumed after seq {last_seq}: {} frames replayed", frames.len()),
            (None, true) => format!("resumed after seq {last_seq}: restored (replay not available)"),
            (None, false) => "joined the verified shopper's latest session: restored".to_owned(),
        };
        let detail = format!("{how}; {connections} connections");
        for text in replay.into_iter().flatten() {
            self.push(crate::ServerOutput::Send { conn, text });
        }
        self.log(now, LogKind::AuthOk, Some(conn), Some(id.to_owned()), Some(auth.store_id.clone()), detail);
    }

    /// A full session makes room for one more: a connection the heartbeat
    /// has found silent is not live, and goes as the heartbeat would end it
    /// (its client, if still there, reconnects); else the oldest, with
    /// 4009 (final for its client).
    fn free_a_place(&mut self, now: u64, attached: &[ConnId]) {
        match self.silent_longest(now, attached) {
            Some(silent) => self.close(now, silent, 1000, HEARTBEAT_TIMEOUT),
            None => {
                if let Some(&oldest) = attached.first() {
                    self.close(now, oldest, TOO_MANY_CONNECTIONS, "too many connections");
                }
            }
        }
    }

    fn attach(&mut self, now: u64, conn: ConnId, id: &str) {
        if let Some(state) = self.conns.get_mut(&conn) {
            state.session = Some(id.to_owned());
        }
        if let Some(session) = self.sessions.get_mut(id) {
            session.conns.push(conn);
            session.detached_at = None;
            session.data.touched_at = now;
            session.data.used_at = now;
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
                heartbeat_ms: self.config.heartbeat_ms.map(NonZeroU64::get),
            }),
        })
    }
}

/// Whether the `auth`'s `user_id` is verified, or why it is refused.
fn identity_of(store: &StoreConfig, auth: &AuthFrame) -> Result<bool, Refusal> {
    identity::check(store, auth.user_id.as_deref(), auth.user_token.as_ref())
        .map_err(|refusal| Refusal::new("invalid_user_token", 4001, refusal.reason()))
}

/// The tag of the language an `auth`'s tag names: a session keeps that,
/// not the client's text, which may be of any length.
fn language_of(auth: &AuthFrame) -> String {
    Language::from_tag(&auth.language).tag().to_owned()
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
