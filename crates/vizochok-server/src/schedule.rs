//! The engine's timers, kept in ordered indexes so that neither
//! `poll_timeout` nor a timeout ever scans every session or connection:
//!
//! - `conn_due`: each connection's next deadline (the auth deadline of a
//!   fresh socket, the heartbeat of an authenticated one);
//! - `due`: each session's next work deadline (the next `delta`, the
//!   webhook's timeout, the end of the replay window);
//! - `idle`: the sessions with no work in progress, by last use — the head
//!   is the next to outlive its TTL;
//! - `evictable`: of those, the ones no connection holds, those holding
//!   nothing (no cart line, no conversation) first, then by last use — the
//!   head is what a full engine forgets to make room.
//!
//! Whatever an input changes belongs to the connection it came on and that
//! connection's session (or, for a webhook answer, the webhook's session),
//! so `Engine::handle` refreshes exactly those entries afterwards; a timer
//! refreshes what it fired for, a connection's with its session.

use std::collections::BTreeSet;
use std::num::NonZeroU64;

use crate::{ConnId, Engine, LogKind};

/// Timers one `Timeout` fires at most; any left are due at once again.
const MAX_FIRED: usize = 100_000;

/// The keys of a session's entries, for removing them.
#[derive(Debug, Default)]
pub(crate) struct Schedule {
    pub conn_due: BTreeSet<(u64, ConnId)>,
    pub due: BTreeSet<(u64, String)>,
    pub idle: BTreeSet<(u64, String)>,
    pub evictable: BTreeSet<((bool, u64), String)>,
}

/// Moves a session's entry in `index` from under `key` to under `new`.
fn refile<K: Ord + Copy>(index: &mut BTreeSet<(K, String)>, key: &mut Option<K>, new: Option<K>, id: &str) {
    if *key != new {
        if let Some(old) = key.take() {
            index.remove(&(old, id.to_owned()));
        }
        if let Some(at) = new {
            index.insert((at, id.to_owned()));
        }
        *key = new;
    }
}

impl Engine {
    /// When the host must next call `handle(now, Timeout)`.
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        if self.unarmed {
            return Some(0);
        }
        let ttl = self.config.session_ttl_ms;
        let conn = self.schedule.conn_due.first().map(|(at, _)| *at);
        let work = self.schedule.due.first().map(|(at, _)| *at);
        let expiry = self.schedule.idle.first().map(|(used, _)| used.saturating_add(ttl));
        [conn, work, expiry].into_iter().flatten().min()
    }

    /// Re-files a connection's deadline after anything touched it.
    pub(crate) fn refresh_conn(&mut self, id: ConnId) {
        let auth_timeout = self.config.limits.auth_timeout_ms;
        let beat = self.config.heartbeat_ms.map(NonZeroU64::get);
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let next = match (&conn.session, beat) {
            (None, _) => Some(conn.opened_at.saturating_add(auth_timeout)),
            (Some(_), Some(beat)) => {
                Some(conn.last_inbound.saturating_add(if conn.pinged { beat.saturating_mul(2) } else { beat }))
            }
            (Some(_), None) => None,
        };
        if conn.due_key != next {
            if let Some(old) = conn.due_key.take() {
                self.schedule.conn_due.remove(&(old, id));
            }
            if let Some(at) = next {
                self.schedule.conn_due.insert((at, id));
            }
            conn.due_key = next;
        }
    }

    /// Forgets a connection's deadline (it is gone).
    pub(crate) fn unschedule_conn(&mut self, id: ConnId, key: Option<u64>) {
        if let Some(at) = key {
            self.schedule.conn_due.remove(&(at, id));
        }
    }

    /// Re-files a session's work deadline and its place among idle sessions.
    pub(crate) fn refresh_session(&mut self, id: &str) {
        let window = self.config.replay_window_ms;
        let Some(session) = self.sessions.get_mut(id) else { return };
        let data = &session.data;
        let next_chunk = data.turn.as_ref().filter(|t| !t.chunks.is_empty()).map(|t| t.next_at.unwrap_or(0));
        let webhook = data.in_flight.as_ref().map(|f| f.deadline.unwrap_or(0));
        let replay_expiry = match (session.conns.is_empty(), &session.replay, session.detached_at) {
            (true, Some(_), Some(at)) => Some(at.saturating_add(window)),
            _ => None,
        };
        let due = [next_chunk, webhook, replay_expiry].into_iter().flatten().min();
        let idle = (!data.busy()).then_some(data.used_at);
        let evictable = idle.filter(|_| session.conns.is_empty()).map(|used| (data.holds_something(), used));
        refile(&mut self.schedule.due, &mut session.due_key, due, id);
        refile(&mut self.schedule.idle, &mut session.idle_key, idle, id);
        refile(&mut self.schedule.evictable, &mut session.evict_key, evictable, id);
    }

    /// Runs every timer due at `now`, earliest first: connection deadlines,
    /// session work, the sessions that outlived their TTL. Firing one may
    /// set another that is due at once (a zero webhook timeout, say); those
    /// run too, up to a bound that only a broken rule would reach.
    pub(crate) fn on_timeout(&mut self, now: u64) {
        let ttl = self.config.session_ttl_ms;
        for _ in 0..MAX_FIRED {
            if let Some(&(at, conn)) = self.schedule.conn_due.first().filter(|(at, _)| *at <= now) {
                self.schedule.conn_due.remove(&(at, conn));
                if let Some(state) = self.conns.get_mut(&conn) {
                    state.due_key = None;
                }
                // Closing it leaves its session: that moves its last use and
                // may start its replay window.
                let session = self.conns.get(&conn).and_then(|c| c.session.clone());
                self.connection_timer(now, conn);
                self.refresh_conn(conn);
                if let Some(id) = session {
                    self.refresh_session(&id);
                }
            } else if let Some((at, id)) = self.schedule.due.first().filter(|(at, _)| *at <= now).cloned() {
                self.schedule.due.remove(&(at, id.clone()));
                if let Some(session) = self.sessions.get_mut(&id) {
                    session.due_key = None;
                }
                self.expire_replay(now, &id);
                self.webhook_timer(now, &id);
                self.advance(now, &id);
                self.refresh_session(&id);
            } else if let Some((_, id)) =
                self.schedule.idle.first().filter(|(used, _)| used.saturating_add(ttl) <= now).cloned()
            {
                self.evict(now, &id, &format!("not used for {ttl} ms"));
            } else {
                return;
            }
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

    /// A restore has no clock: the deadlines it left open, and the last
    /// use of its sessions, are set at the first input after it.
    pub(crate) fn arm_restored(&mut self, now: u64) {
        if !std::mem::take(&mut self.unarmed) {
            return;
        }
        let webhook_timeout = self.config.webhook_timeout_ms;
        let ids: Vec<String> = self.sessions.keys().cloned().collect();
        for id in ids {
            let Some(session) = self.sessions.get_mut(&id) else { continue };
            let data = &mut session.data;
            if let Some(turn) = &mut data.turn {
                turn.next_at.get_or_insert(now);
            }
            if let Some(in_flight) = &mut data.in_flight {
                in_flight.deadline.get_or_insert(now.saturating_add(webhook_timeout));
            }
            // A host clock that restarted below the snapshot's times must
            // not keep a session alive for longer than its TTL.
            data.used_at = data.used_at.min(now);
            self.refresh_session(&id);
        }
    }
}
