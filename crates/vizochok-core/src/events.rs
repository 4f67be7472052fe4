//! What goes into a [`Session`](crate::Session) and what comes out of it.

use crate::{CartChangedEvent, HistoryEntry, ProductItem, SessionSummary, WidgetError};

/// Identifies one socket the core asked the host to open. Inputs about an
/// older socket (a late `close` event, say) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u64);

/// An I/O event the host hands to the core, with the current time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The host wants to be connected (mount / connect).
    Connect,
    /// The socket opened.
    SocketOpened(SocketId),
    /// A text frame arrived.
    Text(SocketId, &'a str),
    /// A binary frame of this many bytes arrived (a protocol violation).
    Binary(SocketId, usize),
    /// The socket closed; `code` is absent when none was received (1006).
    SocketClosed {
        /// Which socket.
        socket: SocketId,
        /// The close code.
        code: Option<u16>,
        /// The close reason.
        reason: &'a str,
    },
    /// The socket failed.
    SocketError {
        /// Which socket.
        socket: SocketId,
        /// The runtime's description (developer-facing).
        detail: &'a str,
    },
    /// The deadline from [`Session::poll_timeout`](crate::Session::poll_timeout) was reached.
    Timeout,
    /// The network came back: skip any backoff wait.
    NetworkOnline,
    /// The host closes the connection but keeps the session (unmount).
    Close,
    /// The host releases the client; nothing more will happen.
    Destroy,
}

/// Something the host must do, drained with [`Session::poll_output`](crate::Session::poll_output).
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Tell the app.
    Event(Event),
    /// Send this text frame on the open socket.
    Send(String),
    /// Open a WebSocket to `url` and report its events with `socket`.
    Open {
        /// The id to report this socket's events with.
        socket: SocketId,
        /// Where to connect.
        url: String,
    },
    /// Close the socket.
    Close {
        /// Which socket.
        socket: SocketId,
        /// Close code to send.
        code: u16,
        /// Close reason to send.
        reason: String,
    },
}

/// The connection state shown to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Not connected and not trying (before `Connect`, or after `Close`).
    Idle,
    /// Waiting for the socket to open.
    Connecting,
    /// Socket open, `auth` sent, waiting for `auth_ok`.
    Authenticating,
    /// Authenticated; actions flow.
    Connected,
    /// Waiting out a backoff before the next attempt.
    Reconnecting,
    /// Gave up (auth error, final close code, or `max_reconnect`); only the
    /// host's `Connect` (or, after `max_reconnect`, `NetworkOnline`) restarts.
    Stopped,
    /// Released; every call is refused.
    Destroyed,
}

impl State {
    /// Lower-case name for bindings (`connected`, `reconnecting`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Connecting => "connecting",
            State::Authenticating => "authenticating",
            State::Connected => "connected",
            State::Reconnecting => "reconnecting",
            State::Stopped => "stopped",
            State::Destroyed => "destroyed",
        }
    }
}

/// What the app hears: the six callbacks of the contract, then UI events.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `onConnect`: authenticated and ready.
    Connect,
    /// `onDisconnect`: a connection that was ready is gone.
    Disconnect,
    /// `onCartChanged`.
    CartChanged(CartChangedEvent),
    /// `onProductClick`.
    ProductClick(ProductItem),
    /// `onSessionComplete`.
    SessionComplete(SessionSummary),
    /// `onError`.
    Error(WidgetError),
    /// The connection state changed.
    StateChanged(State),
    /// The assistant is working on a reply.
    Typing {
        /// The message being answered.
        reply_to: Option<String>,
    },
    /// A streamed chunk of a reply.
    Delta {
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The chunk.
        text: String,
    },
    /// A whole reply with its product cards.
    Response {
        /// The reply's id.
        message_id: String,
        /// The message being answered.
        reply_to: String,
        /// The whole text.
        text: String,
        /// Product cards.
        products: Vec<ProductItem>,
    },
    /// The conversation so far replaces what the UI shows (restore, reset).
    History(Vec<HistoryEntry>),
    /// The server made this action durable.
    Acknowledged {
        /// The action id.
        id: String,
    },
}

/// Which user action an id stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActionKind {
    /// `message`
    Message,
    /// `select_item`
    SelectItem,
    /// `update_quantity`
    UpdateQuantity,
    /// `remove_item`
    RemoveItem,
    /// `clear_cart`
    ClearCart,
}

/// An accepted action that has not ended yet.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingAction {
    /// Its id.
    pub id: String,
    /// What it is.
    pub kind: ActionKind,
    /// Whether it was sent at least once (it is in the resend set).
    pub sent: bool,
}

/// Why the core refused a user action.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// Refused with a contract error code (`message_too_large`, `queue_full`);
    /// the same error was also emitted as [`Event::Error`].
    #[error("{}: {}", .0.code, .0.detail.as_deref().unwrap_or(&.0.message))]
    Rejected(WidgetError),
    /// The call itself is wrong (bad quantity, empty text, ...): a programming error.
    #[error("{0}")]
    Invalid(String),
    /// The client was destroyed.
    #[error("the client was destroyed")]
    Destroyed,
}
