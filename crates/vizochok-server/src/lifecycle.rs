//! A session's life in the engine's memory: filed under its owner when it
//! opens, forgotten when no connection has used it for the TTL or when the
//! engine holds `max_sessions` and needs room (`docs/protocol.md`,
//! "Sessions and resume").

use crate::intake::user_key;
use crate::session::{Owner, Session};
use crate::{Engine, LogKind};

/// Close code and reason for a connection whose session is forgotten
/// under it (it was silent for the whole TTL): the client reconnects, and
/// its resume opens a new session.
const EXPIRED: (u16, &str) = (1000, "session expired");

impl Engine {
    /// Adds a session to the engine, and to its owner's index if she is
    /// verified. Claimed sessions stay out of it: anyone may claim her
    /// `user_id`, and every one filed there would be walked at each of her
    /// `auth`s and first messages.
    pub(crate) fn insert_session(&mut self, session: Session) {
        let id = session.data.id.clone();
        if let (Some(user), true) = (session.data.user_id.clone(), session.data.verified) {
            self.owners.entry((session.data.store_id.clone(), user)).or_default().insert(id.clone());
        }
        if let Some(in_flight) = &session.data.in_flight {
            self.webhook_owner.insert(in_flight.request, id.clone());
        }
        self.sessions.insert(id.clone(), session);
        self.refresh_session(&id);
    }

    /// The live sessions of the verified `user_id` in `store_id`.
    pub(crate) fn verified_sessions_of<'a>(
        &'a self,
        store_id: &str,
        user_id: &str,
    ) -> impl Iterator<Item = &'a Session> {
        let ids = self.owners.get(&(store_id.to_owned(), user_id.to_owned()));
        ids.into_iter().flatten().filter_map(|id| self.sessions.get(id))
    }

    /// The verified owner's most recently used session, if any.
    pub(crate) fn latest_session_of(&self, owner: &Owner) -> Option<&Session> {
        let user = owner.user_id.as_deref().filter(|_| owner.verified)?;
        self.verified_sessions_of(&owner.store_id, user).max_by_key(|s| (s.data.touched_at, s.data.used_at))
    }

    /// Makes room for one more session under `max_sessions`.
    pub(crate) fn make_room(&mut self, now: u64) {
        self.shed_sessions(now, self.config.max_sessions.max(1) - 1);
    }

    /// While the engine holds more than `keep` sessions, forgets one that
    /// has no connection and no work in progress: the least recently used
    /// of those holding nothing, else the least recently used (a session
    /// with a connection or work stays, so the engine may hold more until
    /// they are done or gone).
    pub(crate) fn shed_sessions(&mut self, now: u64, keep: usize) {
        while self.sessions.len() > keep {
            // The head, unless this input attached it before its refresh.
            let oldest = self
                .schedule
                .evictable
                .iter()
                .find(|(_, id)| self.sessions.get(id).is_some_and(|s| s.conns.is_empty()));
            let Some(((holds, _), id)) = oldest.cloned() else { return };
            let held = self.sessions.len();
            let what = if holds { "" } else { "holding nothing, " };
            self.evict(now, &id, &format!("{what}least recently used of {held} sessions"));
        }
    }

    /// Forgets a session: its connections are closed, its data, dedup set,
    /// replay buffer and index entries go, and so does the anonymous
    /// shopper's message counter that was keyed by it.
    pub(crate) fn evict(&mut self, now: u64, id: &str, why: &str) {
        let conns = self.sessions.get(id).map(|s| s.conns.clone()).unwrap_or_default();
        for conn in conns {
            self.close(now, conn, EXPIRED.0, EXPIRED.1);
        }
        let Some(session) = self.sessions.remove(id) else { return };
        if let Some(at) = session.due_key {
            self.schedule.due.remove(&(at, id.to_owned()));
        }
        if let Some(used) = session.idle_key {
            self.schedule.idle.remove(&(used, id.to_owned()));
        }
        if let Some(key) = session.evict_key {
            self.schedule.evictable.remove(&(key, id.to_owned()));
        }
        let data = &*session.data;
        if let Some(in_flight) = &data.in_flight {
            self.webhook_owner.remove(&in_flight.request);
        }
        // A verified shopper's counter outlives the session; any other is the session's.
        if !data.verified {
            self.usage.forget_user(&data.store_id, &user_key(data));
        }
        if let Some(user) = &data.user_id {
            let key = (data.store_id.clone(), user.clone());
            if let Some(ids) = self.owners.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    self.owners.remove(&key);
                }
            }
        }
        let detail = format!("session forgotten: {why}");
        let store_id = Some(data.store_id.clone());
        self.log(now, LogKind::SessionExpired, None, Some(id.to_owned()), store_id, detail);
    }
}
