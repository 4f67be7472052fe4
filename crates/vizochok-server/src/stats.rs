//! What the engine holds, counted: for a host's monitoring, and for tests
//! and the fuzzer to check that every collection stays within its bound.

use crate::Engine;

/// Sizes of the engine's state: totals, and the largest per-session
/// collection of each kind. Computing them visits every session.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineStats {
    /// Sessions held.
    pub sessions: usize,
    /// Of those, sessions with at least one live connection.
    pub attached_sessions: usize,
    /// Of those, sessions with a reply, a waiting message or a cart change in progress.
    pub busy_sessions: usize,
    /// Connections held (authenticated or not).
    pub connections: usize,
    /// The most live connections of one session.
    pub max_session_connections: usize,
    /// Action ids remembered, over all sessions (an id counted once per line).
    pub dedup_ids: usize,
    /// The most ids one session remembers.
    pub max_dedup_ids: usize,
    /// The most dedup lines of one session.
    pub max_dedup_lines: usize,
    /// The longest dedup line.
    pub max_dedup_line: usize,
    /// Action ids forgotten by the sessions held (their dedup sets rolled over).
    pub forgotten_ids: u64,
    /// The most unanswered messages of one session (being answered and waiting).
    pub max_unanswered: usize,
    /// The most cart changes one session has queued or at its webhook.
    pub max_cart_changes: usize,
    /// The most frames in one replay buffer.
    pub max_replay_frames: usize,
    /// The longest history.
    pub max_history: usize,
    /// The most message outcomes one session keeps.
    pub max_outcomes: usize,
    /// The most ratings one session keeps.
    pub max_feedback: usize,
    /// The most action times one session keeps for its rate limit.
    pub max_recent_actions: usize,
    /// Webhooks awaiting the store's answer.
    pub webhooks_in_flight: usize,
    /// Per-shopper message counters.
    pub usage_entries: usize,
    /// Entries of the timer indexes (connections, session work, idle sessions).
    pub timers: usize,
    /// Sessions filed under a verified `user_id`.
    pub owned_sessions: usize,
    /// Addresses with a budget of new sessions
    /// ([`LimitsConfig::new_sessions_per_address`](crate::LimitsConfig)).
    pub address_budgets: usize,
}

impl Engine {
    /// Counts what the engine holds (it visits every session).
    pub fn stats(&self) -> EngineStats {
        let mut stats = EngineStats {
            sessions: self.sessions.len(),
            connections: self.conns.len(),
            webhooks_in_flight: self.webhook_owner.len(),
            usage_entries: self.usage.entries(),
            timers: self.schedule.conn_due.len() + self.schedule.due.len() + self.schedule.idle.len(),
            owned_sessions: self.owners.values().map(|ids| ids.len()).sum(),
            address_budgets: self.new_sessions.len(),
            ..EngineStats::default()
        };
        for session in self.sessions.values() {
            let data = &session.data;
            stats.attached_sessions += usize::from(!session.conns.is_empty());
            stats.busy_sessions += usize::from(data.busy());
            stats.max_session_connections = stats.max_session_connections.max(session.conns.len());
            stats.dedup_ids += data.dedup.len();
            stats.max_dedup_ids = stats.max_dedup_ids.max(data.dedup.len());
            stats.max_dedup_lines = stats.max_dedup_lines.max(data.dedup.lines());
            stats.max_dedup_line = stats.max_dedup_line.max(data.dedup.longest_line());
            stats.forgotten_ids += data.dedup.forgotten();
            stats.max_unanswered = stats.max_unanswered.max(data.unanswered().count());
            let cart = data.cart_queue.len() + usize::from(data.in_flight.is_some());
            stats.max_cart_changes = stats.max_cart_changes.max(cart);
            let replay = session.replay.as_ref().map_or(0, |r| r.len());
            stats.max_replay_frames = stats.max_replay_frames.max(replay);
            stats.max_history = stats.max_history.max(data.history.len());
            stats.max_outcomes = stats.max_outcomes.max(data.outcomes.len());
            stats.max_feedback = stats.max_feedback.max(data.feedback.len());
            stats.max_recent_actions = stats.max_recent_actions.max(session.recent_actions.len());
        }
        stats
    }
}
