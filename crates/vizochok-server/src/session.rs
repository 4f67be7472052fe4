//! A shopping session: the durable part (what a snapshot keeps) and the
//! live part (connections, replay buffer, rate window) that a restart loses.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use vizochok_proto::frame::{self, payload, ServerFrame};
use vizochok_proto::{Cart, HistoryEntry, Language, PageContext, ProductItem, Rating};

use crate::dedup::Dedup;
use crate::replay::ReplayBuffer;
use crate::{CartOp, ConnId};

/// Final frames a session keeps for resent messages: as many as the default
/// history has entries. Each message adds at least one entry, so a message
/// whose reply a restored history still shows normally gets that reply
/// again, not "no longer available". (Not always: the refusal of a cart
/// change is kept too, and up to 7 messages may have waited behind it.)
const MAX_OUTCOMES: usize = 100;
/// The most bytes of encoded frames a session keeps as outcomes (the oldest
/// are forgotten first, the newest stays): without it, 100 replies of many
/// cards each held megabytes per session, more than its history and replay
/// buffer together.
pub(crate) const OUTCOMES_MAX_BYTES: usize = 512 * 1024;
/// Ratings a session keeps (the oldest are forgotten first).
const MAX_FEEDBACK: usize = 100;
/// The most bytes of JSON a session's history holds (the oldest entries
/// are forgotten first): an `auth_ok` that restores it stays well under a
/// client's 1 MiB frame limit, with the cart's summary beside it. Without
/// it, 100 replies of many cards made a session no client could resume.
pub(crate) const HISTORY_MAX_BYTES: usize = 512 * 1024;

/// Shared-until-written data: a snapshot takes the sessions' data by
/// reference count, and the first change after it copies only the session
/// changed, so a host can serialize a snapshot away from the engine's
/// thread without stopping it.
#[derive(Debug, Clone)]
pub(crate) struct Shared<T>(Arc<T>);

impl<T> Shared<T> {
    pub fn new(value: T) -> Shared<T> {
        Shared(Arc::new(value))
    }

    /// Another handle to the same data, for a snapshot.
    pub fn share(&self) -> Arc<T> {
        Arc::clone(&self.0)
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone> DerefMut for Shared<T> {
    fn deref_mut(&mut self) -> &mut T {
        Arc::make_mut(&mut self.0)
    }
}

/// A session as the engine holds it.
#[derive(Debug)]
pub(crate) struct Session {
    pub data: Shared<SessionData>,
    /// Live connections, oldest first (at most `MAX_CONNECTIONS`).
    pub conns: Vec<ConnId>,
    /// `None` once lost (restart, restore, replay window passed): the next
    /// resume is answered `restored`.
    pub replay: Option<ReplayBuffer>,
    /// When the session lost its last connection, for the replay window.
    pub detached_at: Option<u64>,
    /// Accept times of recent actions, for the rate limit.
    pub recent_actions: VecDeque<u64>,
    /// The keys under which the engine's indexes hold the session: its next
    /// work deadline, its last use while it has no work, and, while it has
    /// neither work nor a connection, whether it holds something and its
    /// last use.
    pub due_key: Option<u64>,
    pub idle_key: Option<u64>,
    pub evict_key: Option<(bool, u64)>,
}

impl Session {
    /// A live session around durable data, with no connection or replay buffer.
    pub fn from_data(data: SessionData) -> Session {
        Session {
            data: Shared::new(data),
            conns: Vec::new(),
            replay: None,
            detached_at: None,
            recent_actions: VecDeque::new(),
            due_key: None,
            idle_key: None,
            evict_key: None,
        }
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
    /// Public, random, unrelated to `id`: names the session's replies.
    pub tag: String,
    pub store_id: String,
    pub user_id: Option<String>,
    /// Whether `user_id` was proven with a `user_token` when the session opened.
    pub verified: bool,
    pub language: String,
    /// Host time of the latest `auth` or accepted action (the "most recent" session of a shopper).
    pub touched_at: u64,
    /// Host time a connection last used the session (an `auth`, any frame,
    /// a connection leaving): the session's TTL counts from here. Absent in
    /// format-2 snapshots, then taken from `touched_at`.
    #[serde(default)]
    pub used_at: u64,
    /// The last `seq` sent.
    pub seq: u64,
    pub cart: Cart,
    pub history: VecDeque<HistoryEntry>,
    /// The product cards of the last reply ("add 2" refers to them).
    pub last_products: Vec<ProductItem>,
    /// The applied action ids still remembered (bounded); a present id is
    /// only acknowledged again. Format-2 snapshots call it `applied`.
    #[serde(alias = "applied")]
    pub dedup: Dedup,
    pub tokens: u64,
    /// Whether a message was accepted: only then the session counts as a
    /// conversation of its user.
    pub conversation: bool,
    /// Replies numbered for their `message_id`.
    pub replies: u64,
    /// The reply being produced, if any.
    pub turn: Option<PendingReply>,
    /// Accepted messages waiting for their turn, in the order received.
    pub waiting: VecDeque<WaitingMessage>,
    /// What the shopper is looking at (the latest `context`).
    pub context: Option<PageContext>,
    /// The shopper's ratings of replies, oldest first (bounded).
    pub feedback: VecDeque<Feedback>,
    /// The final frame (`response` or `error`) of the latest messages, to
    /// answer a message resent after its outcome was lost (bounded).
    #[serde(default)]
    pub outcomes: VecDeque<(String, ServerFrame)>,
    /// The encoded bytes of `outcomes`; not in a snapshot, counted at a restore.
    #[serde(skip)]
    pub outcome_bytes: usize,
    /// Cart changes waiting for their turn; one at a time goes through the webhook.
    pub cart_queue: VecDeque<CartTask>,
    pub in_flight: Option<InFlight>,
}

impl SessionData {
    /// A fresh session.
    pub fn new(id: String, tag: String, owner: Owner, language: String, now: u64) -> SessionData {
        SessionData {
            id,
            tag,
            store_id: owner.store_id,
            user_id: owner.user_id,
            verified: owner.verified,
            language,
            touched_at: now,
            used_at: now,
            seq: 0,
            cart: Cart::default(),
            history: VecDeque::new(),
            last_products: Vec::new(),
            dedup: Dedup::default(),
            tokens: 0,
            conversation: false,
            replies: 0,
            turn: None,
            waiting: VecDeque::new(),
            context: None,
            feedback: VecDeque::new(),
            outcomes: VecDeque::new(),
            outcome_bytes: 0,
            cart_queue: VecDeque::new(),
            in_flight: None,
        }
    }

    /// Keeps the final frame of a message, `bytes` long encoded: in place of
    /// the one kept before (an outcome sent again under a new `seq`), else as
    /// the newest, forgetting the oldest beyond [`MAX_OUTCOMES`] or
    /// [`OUTCOMES_MAX_BYTES`].
    pub fn keep_outcome(&mut self, id: String, frame: ServerFrame, bytes: usize) {
        if let Some(slot) = self.outcomes.iter_mut().rev().find(|(kept, _)| *kept == id) {
            let old = std::mem::replace(&mut slot.1, frame);
            self.outcome_bytes = self.outcome_bytes.saturating_sub(frame::encode(&old).len());
        } else {
            self.outcomes.push_back((id, frame));
        }
        self.outcome_bytes += bytes;
        self.fit_outcomes();
    }

    /// Counts the outcomes' bytes (a snapshot does not hold them) and
    /// forgets the oldest beyond the bounds.
    pub fn count_outcomes(&mut self) {
        self.outcome_bytes = self.outcomes.iter().map(|(_, frame)| frame::encode(frame).len()).sum();
        self.fit_outcomes();
    }

    fn fit_outcomes(&mut self) {
        while self.outcomes.len() > MAX_OUTCOMES || (self.outcome_bytes > OUTCOMES_MAX_BYTES && self.outcomes.len() > 1)
        {
            let Some((_, old)) = self.outcomes.pop_front() else { break };
            self.outcome_bytes = self.outcome_bytes.saturating_sub(frame::encode(&old).len());
        }
    }

    /// Whom the session belongs to.
    pub fn owner(&self) -> Owner {
        Owner { store_id: self.store_id.clone(), user_id: self.user_id.clone(), verified: self.verified }
    }

    /// Records a rating, forgetting the oldest beyond [`MAX_FEEDBACK`].
    pub fn record_feedback(&mut self, feedback: Feedback) {
        self.feedback.push_back(feedback);
        while self.feedback.len() > MAX_FEEDBACK {
            self.feedback.pop_front();
        }
    }

    /// Whether a reply, a waiting message or a cart change is in progress:
    /// such a session is not forgotten until it is done.
    pub fn busy(&self) -> bool {
        self.turn.is_some() || !self.waiting.is_empty() || self.in_flight.is_some() || !self.cart_queue.is_empty()
    }

    /// Whether forgetting it would lose a shopper something: a cart line or
    /// a conversation.
    pub fn holds_something(&self) -> bool {
        !self.cart.items.is_empty() || !self.history.is_empty()
    }

    /// Accepted messages not yet answered: the one being answered and those waiting.
    pub fn unanswered(&self) -> impl Iterator<Item = (&str, Option<ConnId>)> {
        let turn = self.turn.iter().map(|t| (t.reply_to.as_str(), t.from));
        turn.chain(self.waiting.iter().map(|w| (w.id.as_str(), w.from)))
    }

    /// Appends to the conversation, forgetting the oldest entries beyond `max`.
    pub fn remember(&mut self, entry: HistoryEntry, max: usize) {
        self.history.push_back(entry);
        while self.history.len() > max {
            self.history.pop_front();
        }
        // The newest entries that fit, counted from the newest: at most
        // about HISTORY_MAX_BYTES are encoded however long the history.
        let mut bytes = 0;
        let fit = self
            .history
            .iter()
            .rev()
            .take_while(|entry| {
                bytes += payload::history_entry_json(entry).len() + 1;
                bytes <= HISTORY_MAX_BYTES
            })
            .count();
        // The newest entry stays even alone over the bound (none when `max` is 0).
        let forget = self.history.len().saturating_sub(fit.max(1));
        self.history.drain(..forget);
    }
}

/// Whom a session belongs to: it is resumed only by the same owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub store_id: String,
    pub user_id: Option<String>,
    pub verified: bool,
}

/// An accepted message waiting for the reply before it to finish.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct WaitingMessage {
    pub id: String,
    pub text: String,
    /// The connection that sent it (a connection has one unanswered message at a time).
    #[serde(skip)]
    pub from: Option<ConnId>,
}

/// One rating of a reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Feedback {
    /// The rated reply.
    pub message_id: String,
    /// Up or down.
    pub rating: Rating,
    /// The shopper's words, at most 500 characters.
    pub comment: Option<String>,
    /// Host time it was received.
    pub at: u64,
}

/// A reply being streamed, then applied, then completed with `response`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingReply {
    pub message_id: String,
    pub reply_to: String,
    /// The connection that sent the message.
    #[serde(skip)]
    pub from: Option<ConnId>,
    pub text: String,
    /// What was already streamed as `delta` (a `cancel` answers with it).
    pub said: String,
    pub products: Vec<ProductItem>,
    /// Checked replies to offer (at most 4, each at most 80 characters).
    pub suggestions: Vec<String>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn error(reply_to: &str, seq: u64, message: String) -> ServerFrame {
        ServerFrame::Error {
            seq,
            code: "internal_error".into(),
            message: Some(message),
            reply_to: Some(reply_to.into()),
            retry_after_ms: None,
        }
    }

    fn keep(data: &mut SessionData, frame: ServerFrame) {
        let ServerFrame::Error { reply_to: Some(id), .. } = &frame else { unreachable!() };
        let bytes = frame::encode(&frame).len();
        data.keep_outcome(id.clone(), frame, bytes);
    }

    fn counted(data: &SessionData) -> usize {
        data.outcomes.iter().map(|(_, frame)| frame::encode(frame).len()).sum()
    }

    #[test]
    fn kept_outcomes_stay_within_their_bytes_and_their_count_stays_exact() {
        let owner = Owner { store_id: "s".into(), user_id: None, verified: false };
        let mut data = SessionData::new("id".into(), "t".into(), owner, "en".into(), 0);
        let long = "x".repeat(100 * 1024);
        for i in 0..8 {
            keep(&mut data, error(&format!("m{i}"), i + 1, long.clone()));
            assert_eq!(data.outcome_bytes, counted(&data));
        }
        // Five of about 100 KiB fit in 512 KiB; the newest are kept.
        let ids: Vec<&str> = data.outcomes.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["m3", "m4", "m5", "m6", "m7"]);
        // One sent again under a longer `seq` replaces its old frame in place.
        keep(&mut data, error("m5", 1_000_000, "short".into()));
        assert_eq!(data.outcome_bytes, counted(&data));
        assert_eq!(data.outcomes.len(), 5);
        // The newest stays even alone over the bound.
        keep(&mut data, error("big", 9, "y".repeat(600 * 1024)));
        assert_eq!(data.outcomes.iter().map(|(id, _)| id.as_str()).collect::<Vec<_>>(), ["big"]);
        assert_eq!(data.outcome_bytes, counted(&data));
        // A restore counts them again (a snapshot does not hold the bytes).
        data.outcome_bytes = 0;
        data.count_outcomes();
        assert_eq!(data.outcome_bytes, counted(&data));
    }
}
