"""The value types of the package: the contract's payloads, the inputs a
host hands to a :class:`~vizochok.Session`, and the outputs it drains.

Everything here is a plain dataclass or a ``str`` enum, so values compare,
print and pattern-match the way Python people expect. The Rust core builds
them directly; nothing here holds the api key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
import re
from typing import ClassVar, Optional

__all__ = [
    "ErrorCode",
    "CartAction",
    "State",
    "Role",
    "ActionKind",
    "CartItem",
    "ProductItem",
    "SessionSummary",
    "CartChangedEvent",
    "WidgetError",
    "HistoryEntry",
    "Cart",
    "PendingAction",
    "Timers",
    "Limits",
    "VizochokError",
    "ActionRejected",
    "SessionDestroyed",
    "ConnectionFailed",
    "Input",
    "Connect",
    "SocketOpened",
    "Text",
    "Binary",
    "SocketClosed",
    "SocketError",
    "Timeout",
    "NetworkOnline",
    "Close",
    "Destroy",
    "Output",
    "OpenSocket",
    "SendText",
    "CloseSocket",
    "Event",
    "Connected",
    "Disconnected",
    "CartChanged",
    "ProductClicked",
    "SessionCompleted",
    "ErrorOccurred",
    "StateChanged",
    "Typing",
    "Delta",
    "Response",
    "HistoryReplaced",
    "Acknowledged",
]


_API_KEY_FIELD = re.compile(r'("api_key"\s*:\s*)"(?:[^"\\]|\\.)*"')


def _redact_key(match: re.Match[str]) -> str:
    return f'{match.group(1)}"[redacted]"'


class _StrEnum(str, Enum):
    """A ``str`` enum whose ``str()`` is its value (``"auth_error"``)."""

    def __str__(self) -> str:
        return str(self.value)


class ErrorCode(_StrEnum):
    """Every ``WidgetError.code``: the 12 server codes, then the client codes."""

    RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
    USER_MESSAGE_LIMIT = "user_message_limit"
    USER_CONVERSATION_LIMIT = "user_conversation_limit"
    TENANT_DAILY_TOKEN_LIMIT = "tenant_daily_token_limit"
    TENANT_MONTHLY_TOKEN_LIMIT = "tenant_monthly_token_limit"
    AGENT_BUSY = "agent_busy"
    MESSAGE_TOO_LARGE = "message_too_large"
    INVALID_JSON = "invalid_json"
    INTERNAL_ERROR = "internal_error"
    MAX_ROUNDS_EXCEEDED = "max_rounds_exceeded"
    SESSION_TOKEN_LIMIT = "session_token_limit"
    NO_CATALOG_DATA = "no_catalog_data"
    AUTH_ERROR = "auth_error"
    AUTH_TIMEOUT = "auth_timeout"
    WS_ERROR = "ws_error"
    QUEUE_FULL = "queue_full"
    MAX_RECONNECT = "max_reconnect"
    CONNECTION_LOST = "connection_lost"


class CartAction(_StrEnum):
    """What triggered a cart change."""

    ITEM_SELECTED = "item_selected"
    ITEM_REMOVED = "item_removed"
    QUANTITY_UPDATED = "quantity_updated"
    CART_CLEARED = "cart_cleared"


class State(_StrEnum):
    """The connection state."""

    IDLE = "idle"
    CONNECTING = "connecting"
    AUTHENTICATING = "authenticating"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"
    DESTROYED = "destroyed"


class Role(_StrEnum):
    """Who said a line of the conversation."""

    USER = "user"
    ASSISTANT = "assistant"


class ActionKind(_StrEnum):
    """Which user action a pending action id stands for (its wire ``type``)."""

    MESSAGE = "message"
    SELECT_ITEM = "select_item"
    UPDATE_QUANTITY = "update_quantity"
    REMOVE_ITEM = "remove_item"
    CLEAR_CART = "clear_cart"


# ----- the contract's payloads (the seed's field names) ---------------------


@dataclass(slots=True)
class CartItem:
    """One line of the cart, as the server reports it."""

    sku: str
    name: str
    price: float
    promo_price: Optional[float]
    brand: Optional[str]
    quantity: float


@dataclass(slots=True)
class ProductItem:
    """A product card shown in the chat."""

    sku: str
    name: str
    price: float
    unit: str
    quantity_step: float
    quantity: Optional[float] = None
    brand: Optional[str] = None
    image_url: Optional[str] = None
    promo_price: Optional[float] = None


@dataclass(slots=True)
class SessionSummary:
    """The selected items of a session: the whole cart."""

    selected_items: list[CartItem]
    total: float
    item_count: int


@dataclass(slots=True)
class CartChangedEvent:
    """What changed in the cart. ``items`` is always the complete cart."""

    action: CartAction
    sku: Optional[str]
    name: Optional[str]
    quantity: Optional[float]
    price: Optional[float]
    items: list[CartItem]
    total: float


@dataclass(slots=True)
class WidgetError:
    """What ``on_error`` receives. ``message`` is localized by the client;
    ``detail`` is developer-facing English and never holds the api key."""

    code: ErrorCode
    message: str
    detail: Optional[str] = None
    reply_to: Optional[str] = None
    retry_after_ms: Optional[int] = None


@dataclass(slots=True)
class HistoryEntry:
    """One line of the conversation, for redrawing a UI after a restore."""

    role: Role
    text: str
    products: Optional[list[ProductItem]] = None


@dataclass(slots=True)
class Cart:
    """The cart as the client last saw it from the server."""

    items: list[CartItem] = field(default_factory=list)
    total: float = 0.0


@dataclass(frozen=True, slots=True)
class PendingAction:
    """An accepted action that has not ended yet."""

    id: str
    kind: ActionKind
    sent: bool


@dataclass(slots=True)
class Timers:
    """Every timer of the protocol, in milliseconds (defaults of the contract)."""

    socket_open_ms: int = 10_000
    auth_ms: int = 10_000
    heartbeat_ms: int = 25_000
    heartbeat_answer_ms: int = 10_000
    backoff_base_ms: int = 1_000
    backoff_max_ms: int = 30_000
    storm_spread_ms: int = 5_000
    retry_after_ms: int = 2_000
    bad_frame_window_ms: int = 60_000


@dataclass(slots=True)
class Limits:
    """Every size and count limit of the protocol (defaults of the contract)."""

    max_message_chars: int = 2_000
    max_outbound_bytes: int = 16 * 1024
    max_inbound_bytes: int = 1024 * 1024
    queue_capacity: int = 32
    max_reconnect_attempts: int = 10
    max_action_retries: int = 3
    max_bad_frames: int = 20
    known_products: int = 4_096


# ----- exceptions -------------------------------------------------------------


class VizochokError(Exception):
    """Base of the package's own exceptions."""


class ActionRejected(VizochokError):
    """The core refused a user action with a contract error code
    (``message_too_large``, ``queue_full``). The same error was also emitted
    as an :class:`ErrorOccurred` output (``on_error``)."""

    error: WidgetError

    def __init__(self, error: WidgetError) -> None:
        super().__init__(f"{error.code.value}: {error.detail or error.message}")
        self.error = error


class SessionDestroyed(VizochokError, RuntimeError):
    """The session was destroyed; it refuses every call."""


class ConnectionFailed(VizochokError, ConnectionError):
    """``Widget.connect()`` gave up: the core stopped (``auth_error``, a final
    close code, ``max_reconnect``) or the widget was closed meanwhile."""

    error: Optional[WidgetError]

    def __init__(self, message: str, error: Optional[WidgetError] = None) -> None:
        super().__init__(message)
        self.error = error


# ----- inputs: what the host hands to Session.handle_input ------------------


class Input:
    """Base of the I/O events a host hands to ``Session.handle_input``."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Connect(Input):
    """The host wants to be connected."""


@dataclass(frozen=True, slots=True)
class SocketOpened(Input):
    """The socket opened."""

    socket: int


@dataclass(frozen=True, slots=True)
class Text(Input):
    """A text frame arrived."""

    socket: int
    text: str


@dataclass(frozen=True, slots=True)
class Binary(Input):
    """A binary frame of ``length`` bytes arrived (a protocol violation)."""

    socket: int
    length: int


@dataclass(frozen=True, slots=True)
class SocketClosed(Input):
    """The socket closed; ``code`` is ``None`` when none was received."""

    socket: int
    code: Optional[int] = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class SocketError(Input):
    """The socket failed; ``detail`` is the runtime's description."""

    socket: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Timeout(Input):
    """The deadline from ``Session.poll_timeout`` was reached."""


@dataclass(frozen=True, slots=True)
class NetworkOnline(Input):
    """The network came back: skip any backoff wait."""


@dataclass(frozen=True, slots=True)
class Close(Input):
    """The host closes the connection but keeps the session."""


@dataclass(frozen=True, slots=True)
class Destroy(Input):
    """The host releases the session; every later call is refused."""


# ----- outputs: what Session.poll_output returns ------------------------------


class Output:
    """Base of what ``Session.poll_output`` returns: socket work or an event."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class OpenSocket(Output):
    """Open a WebSocket to ``url``; report its events with ``socket``."""

    socket: int
    url: str


@dataclass(frozen=True, slots=True, repr=False)
class SendText(Output):
    """Send this text frame on the open socket. Its ``repr`` hides the api
    key of the ``auth`` frame; ``text`` itself is what goes on the wire."""

    text: str

    def __repr__(self) -> str:
        return f"SendText(text={_API_KEY_FIELD.sub(_redact_key, self.text)!r})"


@dataclass(frozen=True, slots=True)
class CloseSocket(Output):
    """Close the socket with this code and reason."""

    socket: int
    code: int
    reason: str


class Event(Output):
    """Base of the events for the app (an event is itself an output)."""

    __slots__ = ()
    #: The ``Widget`` callback this event goes to, if any.
    callback: ClassVar[Optional[str]] = None


@dataclass(frozen=True, slots=True)
class Connected(Event):
    """``on_connect``: authenticated and ready."""

    callback: ClassVar[Optional[str]] = "on_connect"


@dataclass(frozen=True, slots=True)
class Disconnected(Event):
    """``on_disconnect``: a connection that was ready is gone."""

    callback: ClassVar[Optional[str]] = "on_disconnect"


@dataclass(frozen=True, slots=True)
class CartChanged(Event):
    """``on_cart_changed``."""

    cart: CartChangedEvent
    callback: ClassVar[Optional[str]] = "on_cart_changed"


@dataclass(frozen=True, slots=True)
class ProductClicked(Event):
    """``on_product_click``."""

    product: ProductItem
    callback: ClassVar[Optional[str]] = "on_product_click"


@dataclass(frozen=True, slots=True)
class SessionCompleted(Event):
    """``on_session_complete``."""

    summary: SessionSummary
    callback: ClassVar[Optional[str]] = "on_session_complete"


@dataclass(frozen=True, slots=True)
class ErrorOccurred(Event):
    """``on_error``."""

    error: WidgetError
    callback: ClassVar[Optional[str]] = "on_error"


@dataclass(frozen=True, slots=True)
class StateChanged(Event):
    """The connection state changed."""

    state: State


@dataclass(frozen=True, slots=True)
class Typing(Event):
    """The assistant is working on a reply."""

    reply_to: Optional[str]


@dataclass(frozen=True, slots=True)
class Delta(Event):
    """A streamed chunk of a reply."""

    message_id: str
    reply_to: str
    text: str


@dataclass(frozen=True, slots=True)
class Response(Event):
    """``on_message``: a whole reply with its product cards."""

    message_id: str
    reply_to: str
    text: str
    products: list[ProductItem]
    callback: ClassVar[Optional[str]] = "on_message"


@dataclass(frozen=True, slots=True)
class HistoryReplaced(Event):
    """The conversation so far replaces what the UI shows (restore, reset)."""

    entries: list[HistoryEntry]


@dataclass(frozen=True, slots=True)
class Acknowledged(Event):
    """The server made this action durable."""

    id: str
