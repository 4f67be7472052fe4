"""Type stubs of the Rust extension module (the sans-IO core)."""

from typing import Optional, final

from ._types import Cart, Input, Limits, Output, PendingAction, ProductItem, State, Timers

__version__: str

@final
class Session:
    """The VIZOCHOK client session, sans-IO: every protocol rule, no I/O.

    Hand it inputs and user actions with the current monotonic time in
    milliseconds, drain :meth:`poll_output` (or :meth:`drain_outputs`) and
    act on each output, then arm one timer for :meth:`poll_timeout`.

    Raises ``ValueError`` for a configuration the protocol refuses (no api
    key or store id, ``ws://`` to a host that is not loopback, credentials
    in the URL, a zero limit). ``seed`` defaults to 8 bytes of
    ``os.urandom``; pass one only to replay a run.
    """

    def __init__(
        self,
        *,
        api_key: str,
        store_id: str,
        url: str,
        seed: Optional[int] = None,
        user_id: Optional[str] = None,
        language: str = "en",
        session_id: Optional[str] = None,
        last_seq: int = 0,
        timers: Optional[Timers] = None,
        limits: Optional[Limits] = None,
    ) -> None: ...
    def handle_input(self, now_ms: int, input: Input) -> None:
        """Hands an I/O event to the core (``TypeError`` for anything else)."""
    def poll_output(self) -> Optional[Output]:
        """The next thing to do, or ``None``."""
    def drain_outputs(self) -> list[Output]:
        """Every pending output, in order."""
    def poll_timeout(self) -> Optional[int]:
        """When to hand ``Timeout()`` next, in the same milliseconds as ``now_ms``."""
    def send_message(self, now_ms: int, text: str) -> str:
        """Sends a chat message; returns its action id.

        Raises ``ActionRejected`` (``message_too_large``, ``queue_full``; also
        emitted as ``ErrorOccurred``), ``ValueError`` for empty text,
        ``SessionDestroyed`` after ``Destroy``.
        """
    def select_product(self, now_ms: int, product: ProductItem, quantity: Optional[float] = None) -> str:
        """Emits ``ProductClicked`` and sends ``select_item``; returns the action id.

        ``quantity`` defaults to the product's ``quantity`` or one
        ``quantity_step``; one that is not a positive whole multiple of the
        step raises ``ValueError``. A non-``ProductItem`` raises ``TypeError``.
        """
    def update_quantity(self, now_ms: int, sku: str, quantity: float) -> str:
        """Sets the quantity of a cart line; returns the action id."""
    def remove_item(self, now_ms: int, sku: str) -> str:
        """Removes a cart line; returns the action id."""
    def clear_cart(self, now_ms: int) -> str:
        """Empties the cart; returns the action id."""
    def reset(self, now_ms: int) -> None:
        """Forgets the conversation; the next ``auth`` opens a new session."""
    @property
    def state(self) -> State: ...
    @property
    def session_id(self) -> Optional[str]: ...
    @property
    def last_seq(self) -> int: ...
    @property
    def cart(self) -> Cart: ...
    @property
    def pending_actions(self) -> list[PendingAction]: ...
    @property
    def unknown_frames(self) -> int: ...
    @property
    def reconnect_attempts(self) -> int: ...
    @property
    def language(self) -> str: ...
    @language.setter
    def language(self, value: str) -> None: ...
    @property
    def store_id(self) -> str: ...

def ui_text(key: str, language: str = "en") -> Optional[str]:
    """A short UI string of the client's catalog (``send``, ``add``...)."""

def error_message(code: str, language: str = "en") -> str:
    """The localized message of an error code."""
