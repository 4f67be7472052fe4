//! Durable state as JSON, for a host that persists sessions across restarts.
//! A snapshot holds sessions (cart, history, applied ids, seq counter, the
//! reply and cart changes in progress, waiting messages, context, ratings)
//! and quota counters — never the configuration, so never an api key or an
//! identity secret — and no replay buffers. It does hold session ids: it is
//! as secret as the sessions themselves.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::schedule::Schedule;
use crate::session::{Session, SessionData};
use crate::usage::Usage;
use crate::{ConnId, Engine, LogKind, ServerOutput};

/// The snapshot format this crate writes. Version 1 held session ids
/// derived from a seed and a counter; they are not carried forward.
/// Version 2 held every applied action id and no last use; it is read
/// (its ids cut to the bounded set, its last use taken from the last
/// `auth` or action).
const SNAPSHOT_VERSION: u32 = 3;
/// The older format still read.
const SNAPSHOT_VERSION_READ: u32 = 2;

/// A snapshot as read (its `version` was checked first).
#[derive(Deserialize)]
struct Snapshot {
    requests: u64,
    usage: Usage,
    sessions: Vec<SessionData>,
}

/// The engine's durable state at one moment, taken without copying it
/// (sessions are shared until the engine next changes them), so that a
/// host can turn it into JSON on another thread ([`Engine::snapshot_later`]).
/// Its `Debug` counts the sessions only: it holds their ids.
#[derive(Clone)]
pub struct PendingSnapshot {
    requests: u64,
    usage: Usage,
    sessions: Vec<Arc<SessionData>>,
}

impl std::fmt::Debug for PendingSnapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingSnapshot").field("sessions", &self.sessions.len()).finish_non_exhaustive()
    }
}

impl PendingSnapshot {
    /// The snapshot as JSON, as [`Engine::snapshot`] writes it.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Written<'a> {
            version: u32,
            requests: u64,
            usage: &'a Usage,
            sessions: Vec<&'a SessionData>,
        }
        let sessions = self.sessions.iter().map(|data| &**data).collect();
        let written = Written { version: SNAPSHOT_VERSION, requests: self.requests, usage: &self.usage, sessions };
        serde_json::to_string(&written).unwrap_or_default()
    }
}

/// Why [`Engine::restore`] refused a snapshot; the engine is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestoreError {
    /// Not a snapshot of the expected shape.
    #[error("malformed snapshot: {0}")]
    Malformed(String),
    /// Written by an incompatible version.
    #[error("snapshot version {0} is not supported (expected {SNAPSHOT_VERSION})")]
    UnsupportedVersion(u32),
}

impl Engine {
    /// The durable state as JSON.
    pub fn snapshot(&self) -> String {
        self.snapshot_later().to_json()
    }

    /// The durable state now, to be written as JSON later, on any thread:
    /// taking it costs a reference per session, not a copy, so a host with
    /// many sessions need not stop the engine while it serializes.
    pub fn snapshot_later(&self) -> PendingSnapshot {
        PendingSnapshot {
            requests: self.requests,
            usage: self.usage.clone(),
            sessions: self.sessions.values().map(|s| s.data.share()).collect(),
        }
    }

    /// Replaces all session state with a snapshot, as after a restart:
    /// sessions come back without connections or replay buffers (a resume is
    /// answered `restored`), open connections are closed with 1012, replies
    /// in progress continue at the next input, and webhooks that were
    /// awaiting an answer are sent again (same request and idempotency key).
    pub fn restore(&mut self, snapshot: &str) -> Result<(), RestoreError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        // The version first, so an old snapshot is named as such rather than malformed.
        let version: Version = serde_json::from_str(snapshot).map_err(|e| RestoreError::Malformed(e.to_string()))?;
        if version.version != SNAPSHOT_VERSION && version.version != SNAPSHOT_VERSION_READ {
            return Err(RestoreError::UnsupportedVersion(version.version));
        }
        let snapshot: Snapshot = serde_json::from_str(snapshot).map_err(|e| RestoreError::Malformed(e.to_string()))?;
        // Checked before anything changes; the id itself is a secret.
        let mut ids = std::collections::HashSet::new();
        if !snapshot.sessions.iter().all(|data| ids.insert(data.id.as_str())) {
            return Err(RestoreError::Malformed("a session appears twice".into()));
        }
        let now = self.now;
        let conns: Vec<ConnId> = self.conns.keys().copied().collect();
        for conn in conns {
            self.close(now, conn, 1012, "restarting");
        }
        self.requests = snapshot.requests;
        self.usage = snapshot.usage;
        self.sessions.clear();
        self.owners.clear();
        self.webhook_owner.clear();
        self.schedule = Schedule::default();
        let limits = self.dedup_limits();
        for mut data in snapshot.sessions {
            if let Some(turn) = &mut data.turn {
                turn.next_at = None;
            }
            if let Some(in_flight) = &mut data.in_flight {
                in_flight.deadline = None;
                let (request, body) = (in_flight.request, in_flight.body.clone());
                self.push(ServerOutput::Webhook { request, store_id: data.store_id.clone(), body });
            }
            if data.used_at == 0 {
                data.used_at = data.touched_at;
            }
            data.dedup.fit(limits);
            data.count_outcomes();
            self.insert_session(Session::from_data(data));
        }
        self.unarmed = true;
        // A snapshot of an engine allowed more sessions keeps the most recently used.
        self.shed_sessions(now, self.config.max_sessions.max(1));
        let detail = format!("restored {} sessions from a snapshot", self.sessions.len());
        self.log(now, LogKind::Restarted, None, None, None, detail);
        Ok(())
    }
}
