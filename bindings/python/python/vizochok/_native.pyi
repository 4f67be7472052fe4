"""Stubs of the native module (``bindings/python/src/lib.rs``): the one Rust
driver, with Python's types at its edge. ``vizochok.Widget`` is its host."""

from typing import Any, Callable, Optional

__version__: str
#: The largest message the socket accepts: frames past the protocol's 1 MiB
#: still reach the driver, which drops them and keeps the connection.
MAX_SOCKET_MESSAGE_BYTES: int

class WidgetClosedError(RuntimeError):
    """An action on a widget after ``close()``."""

class Reports:
    """How a transport tells the driver what happened (the Rust client's ``Reports``)."""

    def opened(self, socket: int) -> None: ...
    def text(self, socket: int, text: str) -> None: ...
    def binary(self, socket: int, length: int) -> None: ...
    def ended(self, socket: int, code: Optional[int], reason: str) -> None:
        """``code`` as received (``None`` without a close frame); ``reason``
        the close reason or the error's text."""
    def timer_fired(self) -> None: ...

class Driver:
    """The driver. ``transport`` has ``now``, ``open``, ``send``, ``close`` and
    ``set_timer``; ``deliver`` gets each event as JSON (``event_from_dict``
    reads it); ``released`` is called once, after the last call at release,
    and the driver then lets go of ``deliver`` and ``save_session``. Actions return the id, ``None`` when refused, and raise
    ``ValueError`` for a wrong call, ``WidgetClosedError`` after ``destroy``. A ``BaseException`` that is no
    ``Exception`` (``SystemExit``, ``KeyboardInterrupt``) raised by a call out is raised by the call (an action, a
    lifecycle method or a ``Reports`` method) that ran the driver, once the driver is done."""

    def __init__(
        self,
        *,
        api_key: str,
        store_id: str,
        url: str,
        seed: int,
        transport: Any,
        deliver: Callable[[str], None],
        released: Callable[[], None],
        report_error: Callable[[str], None],
        save_session: Optional[Callable[[Optional[str]], None]] = None,
        user_id: Optional[str] = None,
        user_token: Optional[str] = None,
        language: str = "en",
        session_id: Optional[str] = None,
        timers: Optional[Any] = None,
        limits: Optional[Any] = None,
    ) -> None: ...
    def connect(self) -> None: ...
    def disconnect(self) -> None: ...
    def destroy(self) -> None: ...
    def network_online(self) -> None: ...
    def send_message(self, text: str) -> Optional[str]: ...
    def select_product(self, product: str, quantity: Optional[float] = None) -> Optional[str]:
        """``product``: the JSON of a ``ProductItem``."""
    def update_quantity(self, sku: str, quantity: float) -> Optional[str]: ...
    def remove_item(self, sku: str) -> Optional[str]: ...
    def clear_cart(self) -> Optional[str]: ...
    def set_context(self, context: str) -> Optional[str]:
        """``context``: the JSON of a ``PageContext``."""
    def stop(self) -> Optional[str]: ...
    def feedback(self, message_id: str, rating: str, comment: Optional[str] = None) -> Optional[str]: ...
    def reset(self) -> None: ...
    def set_language(self, language: str) -> None: ...
    @property
    def state(self) -> str: ...
    @property
    def cart(self) -> str:
        """The JSON of a ``Cart``."""
    @property
    def session_id(self) -> Optional[str]: ...
    @property
    def pending_actions(self) -> str:
        """The JSON of a list of ``PendingAction``."""
    def redact(self, text: str) -> str:
        """``text`` with the api key and the user token cut out."""
