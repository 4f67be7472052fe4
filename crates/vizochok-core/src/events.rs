//! What goes into a [`Session`](crate::Session) and what comes out of it.

use vizochok_proto::{CartChangedEvent, HistoryEntry, ProductItem, Reply, SessionSummary, WidgetError};

/// Identifies one socket the core asked the host to open. Inputs about an
/// older socket (a late `close` event, say) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub u64);

/// An I/O event the host hands to the core, with the current time. Its
/// `Debug` shows a received frame's length only: `auth_ok` carries the
/// session id.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Input<'a> {
    /// The app wants to be connected (mount, connect, the page shown again).
    Connect,
    /// The socket opened.
    SocketOpened(SocketId),
    /// A text frame arrived.
    Text(SocketId, &'a str),
    /// A binary frame of this many bytes arrived (a protocol violation).
    Binary(SocketId, usize),
    /// A text frame of this many bytes arrived that the host did not hand
    /// over, as it is surely over [`Limits::max_inbound_bytes`](crate::Limits::max_inbound_bytes)
    /// (the browser: its copy into the module's memory would stay for the
    /// life of the page). Reported and dropped like any oversized frame.
    Oversized(SocketId, usize),
    /// The socket is gone, for whatever reason. `code` is the close code the
    /// runtime reports, if any; `None`, 0, 1005 and 1006 all mean that no
    /// close frame arrived (a cut, a refused connection, a runtime error).
    /// `reason` is the close reason or the runtime's error text.
    SocketEnded {
        /// The socket.
        socket: SocketId,
        /// Its close code, as the runtime reports it.
        code: Option<u16>,
        /// The close reason, or the runtime's description of the failure.
        reason: &'a str,
    },
    /// The host's timer fired (or the host wants due deadlines checked, e.g.
    /// when a hidden page becomes visible). Early calls change nothing.
    Timeout,
    /// The network came back: skip any backoff wait.
    NetworkOnline,
    /// The app disconnects but keeps the conversation (unmount).
    Disconnect,
    /// The app releases the client; nothing more will happen.
    Destroy,
}

impl core::fmt::Debug for Input<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Input::Connect => f.write_str("Connect"),
            Input::SocketOpened(socket) => f.debug_tuple("SocketOpened").field(socket).finish(),
            Input::Text(socket, text) => {
                f.debug_struct("Text").field("socket", socket).field("bytes", &text.len()).finish_non_exhaustive()
            }
            Input::Binary(socket, len) => f.debug_tuple("Binary").field(socket).field(len).finish(),
            Input::Oversized(socket, len) => f.debug_tuple("Oversized").field(socket).field(len).finish(),
            Input::SocketEnded { socket, code, reason } => f
                .debug_struct("SocketEnded")
                .field("socket", socket)
                .field("code", code)
                .field("reason", reason)
                .finish(),
            Input::Timeout => f.write_str("Timeout"),
            Input::NetworkOnline => f.write_str("NetworkOnline"),
            Input::Disconnect => f.write_str("Disconnect"),
            Input::Destroy => f.write_str("Destroy"),
        }
    }
}

/// Something the host must do, drained with [`Session::poll_output`](crate::Session::poll_output).
/// Its `Debug` shows a sent frame's length only: the `auth` frame carries
/// the api key, the user token and the session id.
#[derive(Clone, PartialEq)]
pub enum Output {
    /// Tell the app. Never a `typing`, `delta`, `response`,
    /// `user_message` or `session_complete`, nor a `history` with entries:
    /// those come only as [`Output::FrameEvent`], so a host that keeps its
    /// own parse of each frame needs no encoder for them (the browser's has
    /// none). The simulator checks this.
    Event(Event),
    /// Tell the app an event whose data is the text frame being handled, as
    /// the server sent it: the frame without its `type` and `seq` (`typing`,
    /// `delta`, `response`, `user_message`, `cart_changed`), or its `summary`
    /// (`onSessionComplete`) or `history`. A host that parsed the frame
    /// itself may hand the app its own copy instead of converting this one;
    /// the core has checked every field of it.
    FrameEvent(Event),
    /// Open a WebSocket to `url` and report its events with `socket`.
    Open {
        /// The id to report this socket's events with.
        socket: SocketId,
        /// Where to connect.
        url: String,
    },
    /// Send this text frame on `socket`.
    Send {
        /// The socket (always the one opened last).
        socket: SocketId,
        /// The frame.
        text: String,
    },
    /// Close `socket`, or abandon it if it is still opening. `code` is
    /// always 1000 and `reason` at most 123 bytes, so every runtime's
    /// `close` accepts them as they are.
    Close {
        /// The socket.
        socket: SocketId,
        /// Close code: 1000.
        code: u16,
        /// Close reason, developer-facing English.
        reason: String,
    },
}

impl core::fmt::Debug for Output {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Output::Event(event) => f.debug_tuple("Event").field(event).finish(),
            Output::FrameEvent(event) => f.debug_tuple("FrameEvent").field(event).finish(),
            Output::Open { socket, url } => f.debug_struct("Open").field("socket", socket).field("url", url).finish(),
            Output::Send { socket, text } => {
                f.debug_struct("Send").field("socket", socket).field("bytes", &text.len()).finish_non_exhaustive()
            }
            Output::Close { socket, code, reason } => {
                f.debug_struct("Close").field("socket", socket).field("code", code).field("reason", reason).finish()
            }
        }
    }
}

/// The connection state shown to the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum State {
    /// Not connected and not trying (before `Connect`, or after `Disconnect`).
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
    /// app's `Connect` (or, after `max_reconnect`, `NetworkOnline`) restarts.
    Stopped,
    /// Released; every call is refused.
    Destroyed,
}

impl State {
    /// Every state, in lifecycle order.
    pub const ALL: [State; 7] = [
        State::Idle,
        State::Connecting,
        State::Authenticating,
        State::Connected,
        State::Reconnecting,
        State::Stopped,
        State::Destroyed,
    ];

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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
    /// A whole reply with its product cards (its text is Markdown: see
    /// [`Reply::blocks`](vizochok_proto::Reply::blocks)).
    Response(Reply),
    /// What the shopper typed on another connection of the conversation
    /// (another tab or device).
    UserMessage {
        /// The message's action id.
        id: String,
        /// The text.
        text: String,
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
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
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
    /// `context`
    Context,
    /// `cancel`
    Cancel,
    /// `feedback`
    Feedback,
}

impl ActionKind {
    /// Every kind.
    pub const ALL: [ActionKind; 8] = [
        ActionKind::Message,
        ActionKind::SelectItem,
        ActionKind::UpdateQuantity,
        ActionKind::RemoveItem,
        ActionKind::ClearCart,
        ActionKind::Context,
        ActionKind::Cancel,
        ActionKind::Feedback,
    ];

    /// The frame type it is sent as.
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Message => "message",
            ActionKind::SelectItem => "select_item",
            ActionKind::UpdateQuantity => "update_quantity",
            ActionKind::RemoveItem => "remove_item",
            ActionKind::ClearCart => "clear_cart",
            ActionKind::Context => "context",
            ActionKind::Cancel => "cancel",
            ActionKind::Feedback => "feedback",
        }
    }
}

/// An accepted action that has not ended yet.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
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
    /// the same error was also emitted as [`Event::Error`] (`onError`).
    #[error("{}: {}", .0.code, .0.detail.as_deref().unwrap_or(&.0.message))]
    Rejected(WidgetError),
    /// The call itself is wrong (bad quantity, empty text, ...): a programming error.
    #[error("{0}")]
    Invalid(String),
    /// The client was destroyed.
    #[error("the client was destroyed")]
    Destroyed,
}
