//! What the host feeds the [`Engine`](crate::Engine) and what it drains from it.

use std::net::IpAddr;

use serde::Serialize;

/// A connection id assigned by the host when it accepts a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ConnId(pub u64);

/// An event the host hands to the engine, with the current time. Its
/// `Debug` shows a frame's length only: `auth` carries the api key, the
/// user token and the session id.
#[derive(Clone, PartialEq)]
pub enum ServerInput<'a> {
    /// A WebSocket was accepted, with its `Origin` header if any.
    Open {
        /// The host's id for it.
        conn: ConnId,
        /// The `Origin` header.
        origin: Option<&'a str>,
        /// The peer's address, if the host knows it: the sessions it opens
        /// are budgeted (`LimitsConfig::new_sessions_per_address`). A host
        /// that passes `None` is trusted with every connection it opens.
        peer: Option<IpAddr>,
    },
    /// A text frame arrived.
    Text {
        /// From which connection.
        conn: ConnId,
        /// The frame.
        text: &'a str,
    },
    /// A binary frame of `len` bytes arrived (the protocol is text only).
    Binary {
        /// From which connection.
        conn: ConnId,
        /// Its size.
        len: usize,
    },
    /// The socket closed (by the peer, the network, or after a [`ServerOutput::Close`]).
    Closed {
        /// Which connection.
        conn: ConnId,
    },
    /// The store's backend answered a [`ServerOutput::Webhook`].
    WebhookResult {
        /// The webhook's request number.
        request: u64,
        /// Whether the store confirmed the change.
        accepted: bool,
        /// The store's explanation (developer-facing).
        detail: Option<String>,
    },
    /// The deadline from [`Engine::poll_timeout`](crate::Engine::poll_timeout) was reached.
    Timeout,
}

impl std::fmt::Debug for ServerInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerInput::Open { conn, origin, peer } => {
                f.debug_struct("Open").field("conn", conn).field("origin", origin).field("peer", peer).finish()
            }
            ServerInput::Text { conn, text } => {
                f.debug_struct("Text").field("conn", conn).field("bytes", &text.len()).finish_non_exhaustive()
            }
            ServerInput::Binary { conn, len } => {
                f.debug_struct("Binary").field("conn", conn).field("len", len).finish()
            }
            ServerInput::Closed { conn } => f.debug_struct("Closed").field("conn", conn).finish(),
            ServerInput::WebhookResult { request, accepted, detail } => f
                .debug_struct("WebhookResult")
                .field("request", request)
                .field("accepted", accepted)
                .field("detail", detail)
                .finish(),
            ServerInput::Timeout => f.write_str("Timeout"),
        }
    }
}

/// Something the host must do, drained with [`Engine::poll_output`](crate::Engine::poll_output).
/// Its `Debug` shows a frame's and a webhook body's length only: `auth_ok`
/// and the body carry the session id.
#[derive(Clone, PartialEq)]
pub enum ServerOutput {
    /// Send this text frame.
    Send {
        /// On which connection.
        conn: ConnId,
        /// The frame.
        text: String,
    },
    /// Close the socket with this code and reason; the engine has already
    /// forgotten the connection.
    Close {
        /// Which connection.
        conn: ConnId,
        /// Close code (§8 of the contract).
        code: u16,
        /// Close reason.
        reason: String,
    },
    /// POST `body` to the store's cart webhook (the host signs and retries),
    /// then answer [`ServerInput::WebhookResult`] with the same `request`.
    Webhook {
        /// Request number to answer with.
        request: u64,
        /// Which store's webhook.
        store_id: String,
        /// JSON body: `idempotency_key`, `session_id`, `user_id`, `action`,
        /// `sku`, `quantity`, and the resulting `cart` (`items`, `total`).
        body: String,
    },
    /// A structured log line; never contains an api key, an identity
    /// secret, a user token or a whole session id.
    Log(LogEvent),
}

impl std::fmt::Debug for ServerOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerOutput::Send { conn, text } => {
                f.debug_struct("Send").field("conn", conn).field("bytes", &text.len()).finish_non_exhaustive()
            }
            ServerOutput::Close { conn, code, reason } => {
                f.debug_struct("Close").field("conn", conn).field("code", code).field("reason", reason).finish()
            }
            ServerOutput::Webhook { request, store_id, body } => f
                .debug_struct("Webhook")
                .field("request", request)
                .field("store_id", store_id)
                .field("bytes", &body.len())
                .finish_non_exhaustive(),
            ServerOutput::Log(event) => f.debug_tuple("Log").field(event).finish(),
        }
    }
}

/// One structured log event: a connection or session event worth a line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogEvent {
    /// The host's time of the event.
    pub at: u64,
    /// What happened.
    pub kind: LogKind,
    /// The connection concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conn: Option<ConnId>,
    /// The first characters (at most 8) of the session's id: enough to
    /// correlate lines, never the id itself (the id grants access).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The store concerned (as the client named it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// Developer-facing English detail.
    pub detail: String,
}

/// The kinds of [`LogEvent`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogKind {
    /// A socket was accepted.
    Opened,
    /// A connection authenticated (new, replayed or restored session).
    AuthOk,
    /// Authentication was refused.
    AuthFailed,
    /// The engine closed a connection (timeout, violation, too many connections, restart).
    Closed,
    /// The host reported a socket closed.
    Disconnected,
    /// A client frame could not be used.
    BadFrame,
    /// An action was refused at receipt (limit, quota or catalog validation) or its reply failed.
    LimitHit,
    /// A cart change was refused (webhook, timeout, or an invalid assistant change).
    CartRefused,
    /// A detached session's replay buffer was dropped.
    ReplayExpired,
    /// The engine restarted or was restored from a snapshot.
    Restarted,
    /// A shopper rated a reply (`feedback`).
    Feedback,
    /// An action was applied (the first time its id arrived): the
    /// session's audit trail, one line per action.
    Applied,
    /// A session was forgotten (unused for its TTL, or room was needed).
    SessionExpired,
}
