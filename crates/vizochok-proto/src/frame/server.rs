//! Frames the server sends (`docs/protocol.md`, "Server frames").

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::{CartChangedEvent, HistoryEntry, ProductItem, SessionSummary};

/// Limits a server announces in `auth_ok`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ServerLimits {
    /// Longest user message, in Unicode scalar values.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub max_message_chars: Option<usize>,
    /// Heartbeat interval.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub heartbeat_ms: Option<u64>,
}

/// Authentication succeeded: which session, and how it was resumed. Its
/// `Debug` leaves the session id out: it grants access to the session.
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct AuthOk {
    /// The session now in use.
    pub session_id: String,
    /// The server restored a session it could not replay (summary and history follow).
    pub restored: bool,
    /// Frames after the client's `last_seq` follow.
    pub replay: bool,
    /// The session's selections (with `restored`).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub summary: Option<SessionSummary>,
    /// The conversation so far (with `restored`).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub history: Option<Vec<HistoryEntry>>,
    /// Lowered limits.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub limits: Option<ServerLimits>,
}

impl std::fmt::Debug for AuthOk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Destructured so that a field added later cannot be left out.
        let Self { session_id: _, restored, replay, summary, history, limits } = self;
        f.debug_struct("AuthOk")
            .field("session_id", &crate::secret::Redacted)
            .field("restored", restored)
            .field("replay", replay)
            .field("summary", summary)
            .field("history", history)
            .field("limits", limits)
            .finish()
    }
}

/// The assistant's whole reply to one message.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Reply {
    /// The reply's id.
    pub message_id: String,
    /// The message being answered.
    pub reply_to: String,
    /// The whole reply text (a small Markdown subset).
    pub text: String,
    /// Product cards.
    pub products: Vec<ProductItem>,
    /// The session's selections, when attached.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub summary: Option<SessionSummary>,
    /// The reply was stopped by a `cancel`; `text` is what was said so far.
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "std::ops::Not::not"))]
    pub cancelled: bool,
    /// Replies the shopper can send with one tap (at most 4, each at most 80 characters).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Vec::is_empty"))]
    pub suggestions: Vec<String>,
}

impl Reply {
    /// The text's Markdown, parsed for a UI (see [`crate::markdown`]).
    pub fn blocks(&self) -> Vec<crate::markdown::Block> {
        crate::markdown::parse(&self.text)
    }
}

/// A frame the server sends.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize), serde(tag = "type", rename_all = "snake_case"))]
pub enum ServerFrame {
    /// Authentication succeeded.
    AuthOk(AuthOk),
    /// Authentication failed; final.
    AuthError {
        /// `invalid_api_key`, `unknown_store`, `origin_not_allowed`,
        /// `unsupported_version` or `invalid_user_token`.
        code: String,
        /// Server's English text.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        message: Option<String>,
    },
    /// An action is durable on the server.
    Ack {
        /// The action id.
        id: String,
    },
    /// The assistant is working on a reply.
    Typing {
        /// Per-session sequence number.
        seq: u64,
        /// The message being answered.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        reply_to: Option<String>,
    },
    /// A streamed chunk of the assistant's reply.
    Delta {
        /// Per-session sequence number.
        seq: u64,
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The chunk.
        text: String,
    },
    /// The assistant's whole reply.
    Response {
        /// Per-session sequence number.
        seq: u64,
        /// The reply.
        #[cfg_attr(feature = "serde", serde(flatten))]
        reply: Reply,
        /// The reply, sent again to a connection that resumed after it was
        /// produced (`restored`, or replayed from a `last_seq` an earlier
        /// `restored` resume gave): it is already in that `auth_ok`'s history.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "std::ops::Not::not"))]
        again: bool,
    },
    /// The cart changed; `items` is the whole cart.
    CartChanged {
        /// Per-session sequence number.
        seq: u64,
        /// What changed, and the whole cart.
        #[cfg_attr(feature = "serde", serde(flatten))]
        change: CartChangedEvent,
    },
    /// What a shopper typed on any connection of the session.
    UserMessage {
        /// Per-session sequence number.
        seq: u64,
        /// The message's action id.
        id: String,
        /// The text.
        text: String,
    },
    /// A server error, possibly finishing an action.
    Error {
        /// Per-session sequence number.
        seq: u64,
        /// One of the contract's server error codes.
        code: String,
        /// Server's text (kept as `detail`, never shown as `message`).
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        message: Option<String>,
        /// The action this error is about.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        reply_to: Option<String>,
        /// Wait before retrying.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        retry_after_ms: Option<u64>,
    },
    /// Heartbeat from the server.
    Ping {
        /// Timestamp to echo.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        ts: Option<f64>,
    },
    /// Answer to the client's `ping`.
    Pong {
        /// The ping's timestamp.
        #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
        ts: Option<f64>,
    },
    /// A `type` this version does not know; ignored and counted.
    #[cfg_attr(feature = "serde", serde(other))]
    Unknown,
}

impl ServerFrame {
    /// The `seq` of the frames that carry one (every conversation frame).
    pub fn seq(&self) -> Option<u64> {
        match self {
            ServerFrame::Typing { seq, .. }
            | ServerFrame::Delta { seq, .. }
            | ServerFrame::Response { seq, .. }
            | ServerFrame::CartChanged { seq, .. }
            | ServerFrame::UserMessage { seq, .. }
            | ServerFrame::Error { seq, .. } => Some(*seq),
            ServerFrame::AuthOk(_)
            | ServerFrame::AuthError { .. }
            | ServerFrame::Ack { .. }
            | ServerFrame::Ping { .. }
            | ServerFrame::Pong { .. }
            | ServerFrame::Unknown => None,
        }
    }
}
