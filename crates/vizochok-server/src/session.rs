//! A shopping session: the durable part (what a snapshot keeps) and the
//! live part (connection, replay buffer, rate window) that a restart loses.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};
use vizochok_proto::frame::ServerFrame;
use vizochok_proto::{Cart, HistoryEntry, Language, ProductItem};

use crate::replay::ReplayBuffer;
use crate::{CartOp, ConnId};

/// Message outcomes a session keeps for resent messages.
const MAX_OUTCOMES: usize = 32;

/// A session as the engine holds it.
#[derive(Debug)]
pub(crate) struct Session {
    pub data: SessionData,
    pub conn: Option<ConnId>,
    /// `None` once lost (restart, restore, replay window passed): the next
    /// resume is answered `restored`.
    pub replay: Option<ReplayBuffer>,
    /// When the session lost its connection, for the replay window.
    pub detached_at: Option<u64>,
    /// Accept times of recent actions, for the rate limit.
    pub recent_actions: VecDeque<u64>,
}

impl Session {
    /// A live session around durable data, with no connection or replay buffer.
    pub fn from_data(data: SessionData) -> Session {
        Session { data, conn: None, replay: None, detached_at: None, recent_actions: VecDeque::new() }
    }

    /// The session's language.
    pub fn language(&self) -> Language {
        Language::from_tag(&self.data.language)
    }
}

/// Everything about a session that survives a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SessionData {
    pub id: String,
    pub store_id: String,
    pub user_id: Option<String>,
    pub language: String,
    /// The last `seq` sent.
    pub seq: u64,
    pub cart: Cart,
    pub history: VecDeque<HistoryEntry>,
    /// The product cards of the last reply ("add 2" refers to them).
    pub last_products: Vec<ProductItem>,
    /// Action id → times applied; a present id is only acknowledged again.
    pub applied: BTreeMap<String, u32>,
    pub tokens: u64,
    /// Whether a message was accepted: only then the session counts as a
    /// conversation of its user.
    pub conversation: bool,
    /// Replies numbered for their `message_id`.
    pub replies: u64,
    /// The reply being produced, if any (at most one: `agent_busy`).
    pub turn: Option<PendingReply>,
    /// The final frame (`response` or `error`) of the latest messages, to
    /// answer a message resent after its outcome was lost (bounded).
    #[serde(default)]
    pub outcomes: VecDeque<(String, ServerFrame)>,
    /// Cart changes waiting for their turn; one at a time goes through the webhook.
    pub cart_queue: VecDeque<CartTask>,
    pub in_flight: Option<InFlight>,
}

impl SessionData {
    /// A fresh session.
    pub fn new(id: String, store_id: String, user_id: Option<String>, language: String) -> SessionData {
        SessionData {
            id,
            store_id,
            user_id,
            language,
            seq: 0,
            cart: Cart::default(),
            history: VecDeque::new(),
            last_products: Vec::new(),
            applied: BTreeMap::new(),
            tokens: 0,
            conversation: false,
            replies: 0,
            turn: None,
            outcomes: VecDeque::new(),
            cart_queue: VecDeque::new(),
            in_flight: None,
        }
    }

    /// Keeps the final frame of a message, forgetting the oldest beyond [`MAX_OUTCOMES`].
    pub fn keep_outcome(&mut self, id: String, frame: ServerFrame) {
        self.outcomes.push_back((id, frame));
        while self.outcomes.len() > MAX_OUTCOMES {
            self.outcomes.pop_front();
        }
    }

    /// Appends to the conversation, forgetting the oldest entries beyond `max`.
    pub fn remember(&mut self, entry: HistoryEntry, max: usize) {
        self.history.push_back(entry);
        while self.history.len() > max {
            self.history.pop_front();
        }
    }
}

/// A reply being streamed, then applied, then completed with `response`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingReply {
    pub message_id: String,
    pub reply_to: String,
    pub text: String,
    pub products: Vec<ProductItem>,
    /// Chunks not yet sent as `delta`.
    pub chunks: VecDeque<String>,
    /// When the next chunk is due; `None` means at once (after a restore,
    /// which has no clock).
    pub next_at: Option<u64>,
    /// Cart changes of the reply, queued once streaming is over.
    pub ops: Vec<CartOp>,
    /// Queued changes of the reply not yet confirmed or refused.
    pub ops_pending: usize,
    /// Whether one of the reply's changes was applied (then `response` has a summary).
    pub cart_changed: bool,
}

/// A cart change waiting to be applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct CartTask {
    pub op: CartOp,
    /// The client action it came from; `None` for the assistant's changes.
    pub action_id: Option<String>,
    /// Idempotency key for the store's webhook.
    pub key: String,
}

/// The cart change the store's webhook is deciding on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct InFlight {
    pub request: u64,
    pub task: CartTask,
    /// Kept so a restored engine can send the webhook again.
    pub body: String,
    /// `None` after a restore: armed at the next input.
    pub deadline: Option<u64>,
}

/// The `n`-th session id for this seed: `s-` and 16 hex digits. Mixing
/// (splitmix64) keeps ids from looking sequential, so they are not guessed
/// from one another by accident.
pub(crate) fn session_id(seed: u64, n: u64) -> String {
    let mut z = seed.wrapping_add(n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    format!("s-{:016x}", z ^ (z >> 31))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_deterministic_and_distinct() {
        assert_eq!(session_id(7, 0), session_id(7, 0));
        assert_ne!(session_id(7, 0), session_id(7, 1));
        assert_ne!(session_id(7, 0), session_id(8, 0));
        assert_eq!(session_id(1, 2).len(), 18);
    }
}
