"""``vizochok.Widget``: the asyncio host of the one Rust driver.

The driver (``_native.Driver``) runs the protocol and the run loop: which
socket a frame goes to, the one timer, close codes, the order of delivery
and re-entrancy, failing callbacks, reads after close. The widget gives it a
transport and the app's callbacks, and turns its JSON into the generated
types.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import logging
import os
import traceback
import warnings
import weakref
from typing import AsyncIterator, Awaitable, Callable, Optional, Protocol, Union

from . import _native
from ._transport import Transport, WebSocketsTransport
from .generated.types import (
    UI_EVENTS,
    Cart,
    CartChangedEvent,
    Event,
    Limits,
    PageContext,
    PendingAction,
    ProductItem,
    Rating,
    SessionSummary,
    State,
    Timers,
    WidgetError,
    event_from_dict,
)

__all__ = ["Widget", "SessionStore"]

log = logging.getLogger("vizochok")

#: What a callback may return: nothing, or something to await (a coroutine function's call).
CallbackResult = Optional[Awaitable[None]]


class SessionStore(Protocol):
    """Where the session id is kept between runs: the only thing that needs
    keeping to resume a conversation."""

    def load(self) -> Optional[str]:
        """The id an earlier run saved, if any."""

    def save(self, session_id: Optional[str]) -> None:
        """Saves the id (``None``: forget it, after a reset)."""


class Widget:
    """The VIZOCHOK client for asyncio. See ``docs/python.md``."""

    def __init__(
        self,
        *,
        api_key: str,
        store_id: str,
        server_url: str,
        user_id: Optional[str] = None,
        user_token: Optional[str] = None,
        language: str = "en",
        session_store: Optional[SessionStore] = None,
        transport: Optional[Transport] = None,
        timers: Optional[Timers] = None,
        limits: Optional[Limits] = None,
        seed: Optional[int] = None,
        on_cart_changed: Optional[Callable[[CartChangedEvent], CallbackResult]] = None,
        on_product_click: Optional[Callable[[ProductItem], CallbackResult]] = None,
        on_session_complete: Optional[Callable[[SessionSummary], CallbackResult]] = None,
        on_error: Optional[Callable[[WidgetError], CallbackResult]] = None,
        on_connect: Optional[Callable[[], CallbackResult]] = None,
        on_disconnect: Optional[Callable[[], CallbackResult]] = None,
        on_message: Optional[Callable[[Event], CallbackResult]] = None,
        on_state_change: Optional[Callable[[State], CallbackResult]] = None,
    ) -> None:
        self._callbacks: dict[str, Callable[..., CallbackResult]] = {}
        for name, callback in dict(locals()).items():
            if name.startswith("on_") and callback is not None:
                if not callable(callback):
                    raise TypeError(f"{name} must be callable, got {type(callback).__name__}")
                self._callbacks[name] = callback
        self._transport = transport or WebSocketsTransport()
        # A stream nobody holds any more is gone with its queue.
        self._streams: weakref.WeakSet[asyncio.Queue[Optional[Event]]] = weakref.WeakSet()
        self._awaiting: collections.deque[Awaitable[None]] = collections.deque()
        self._runner: Optional[asyncio.Task[None]] = None
        self._driver = _native.Driver(
            api_key=api_key,
            store_id=store_id,
            url=server_url,
            seed=int.from_bytes(os.urandom(8), "little") if seed is None else seed,
            transport=self._transport,
            deliver=self._deliver,
            released=self._released,
            report_error=lambda message: log.error("%s", message),
            save_session=None if session_store is None else session_store.save,
            user_id=user_id,
            user_token=user_token,
            language=language,
            session_id=None if session_store is None else session_store.load(),
            timers=timers,
            limits=limits,
        )

    # ----- lifecycle ---------------------------------------------------------

    def connect(self) -> None:
        """Starts (or resumes) connecting; the outcome arrives as ``on_connect`` or ``on_error``."""
        self._driver.connect()

    def disconnect(self) -> None:
        """Closes the socket, keeping the conversation and the queue; ``connect()`` resumes."""
        self._driver.disconnect()

    def close(self) -> None:
        """Releases the widget: the socket closes, nothing is called back once
        this returns (coroutines already started are still awaited), every
        ``events()`` stream ends. Idempotent; the properties stay readable."""
        self._driver.destroy()

    def __del__(self, _warn: Callable[..., None] = warnings.warn, _destroyed: str = State.DESTROYED.value) -> None:
        # As asyncio's transports do: collected unclosed, the widget warns and
        # closes, or its socket would stay open until the server dropped it.
        # (Defaults, not globals: at interpreter exit the globals may be gone.)
        driver = getattr(self, "_driver", None)  # None when __init__ raised
        if driver is not None and driver.state != _destroyed:
            _warn("unclosed vizochok.Widget (call close() or use async with)", ResourceWarning, source=self)
            driver.destroy()

    def network_online(self) -> None:
        """The network is back: skip any backoff wait."""
        self._driver.network_online()

    async def __aenter__(self) -> Widget:
        self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()
        if self._runner is not None:
            await asyncio.gather(self._runner, return_exceptions=True)
        wait_closed = getattr(self._transport, "wait_closed", None)
        if wait_closed is not None:
            await wait_closed()

    # ----- actions: the id, None when refused (on_error says why) ------------

    def send_message(self, text: str) -> Optional[str]:
        """Sends a chat message."""
        return self._driver.send_message(text)

    def select_product(self, product: ProductItem, quantity: Optional[float] = None) -> Optional[str]:
        """The shopper pressed "Add" on a card (one ``quantity_step`` unless told):
        ``on_product_click``, then the cart."""
        return self._driver.select_product(_json(product, ProductItem), quantity)

    def update_quantity(self, sku: str, quantity: float) -> Optional[str]:
        """Sets the quantity of a cart line."""
        return self._driver.update_quantity(sku, quantity)

    def remove_item(self, sku: str) -> Optional[str]:
        """Removes a cart line."""
        return self._driver.remove_item(sku)

    def clear_cart(self) -> Optional[str]:
        """Empties the cart."""
        return self._driver.clear_cart()

    def set_context(self, context: PageContext) -> Optional[str]:
        """Tells the assistant what the shopper is looking at ("add this" means ``context.sku``)."""
        return self._driver.set_context(_json(context, PageContext))

    def stop(self) -> Optional[str]:
        """Stops the reply that is streaming; ``None`` when nothing streams."""
        return self._driver.stop()

    def feedback(self, message_id: str, rating: Union[Rating, str], comment: Optional[str] = None) -> Optional[str]:
        """Rates a reply (the ``message_id`` of its ``Response``)."""
        return self._driver.feedback(message_id, str(rating), comment)

    def reset(self) -> None:
        """Starts a new conversation."""
        self._driver.reset()

    def set_language(self, language: str) -> None:
        """The language of error texts from now on (``en``, ``uk``)."""
        self._driver.set_language(language)

    # ----- reads ---------------------------------------------------------------

    @property
    def state(self) -> State:
        """The connection state."""
        return State(self._driver.state)

    @property
    def cart(self) -> Cart:
        """The cart as the server last confirmed it."""
        return Cart.from_dict(json.loads(self._driver.cart))

    @property
    def session_id(self) -> Optional[str]:
        """The conversation's id, once the server gave one."""
        return self._driver.session_id

    @property
    def pending_actions(self) -> list[PendingAction]:
        """Accepted actions that have not ended."""
        return [PendingAction.from_dict(a) for a in json.loads(self._driver.pending_actions)]

    def events(self) -> AsyncIterator[Event]:
        """Every event from now until ``close()``, in order."""
        queue: asyncio.Queue[Optional[Event]] = asyncio.Queue()
        self._streams.add(queue)
        if self.state is State.DESTROYED:
            queue.put_nowait(None)
        return self._stream(queue)

    async def _stream(self, queue: asyncio.Queue[Optional[Event]]) -> AsyncIterator[Event]:
        try:
            while (event := await queue.get()) is not None:
                yield event
        finally:
            self._streams.discard(queue)

    # ----- the driver calls these ------------------------------------------------

    def _deliver(self, text: str) -> None:
        """One event: to every stream, then to its callback. An exception goes
        back to the driver, which logs an ``Exception`` and raises any other
        (``SystemExit``, ``KeyboardInterrupt``) from the widget call once it is done."""
        data = json.loads(text)
        event = event_from_dict(data)
        for stream in list(self._streams):
            stream.put_nowait(event)
        kind = data["type"]
        if kind in UI_EVENTS:
            name, args = "on_message", [event]
        else:
            name = "on_state_change" if kind == "state" else f"on_{kind}"
            args = list(vars(event).values())  # the one payload, or none
        callback = self._callbacks.get(name)
        if callback is not None and (awaitable := callback(*args)) is not None and inspect.isawaitable(awaitable):
            self._awaiting.append(awaitable)
            if self._runner is None:
                self._runner = asyncio.get_running_loop().create_task(self._await_in_order())

    def _released(self) -> None:
        """The driver will call nothing more: end the streams and let go of
        the callbacks (a closed widget the app keeps must not keep them)."""
        self._callbacks = {}
        for stream in list(self._streams):
            stream.put_nowait(None)

    async def _await_in_order(self) -> None:
        """Awaits coroutine callbacks one after another, in event order.

        Each runs as a task of its own, so one that ends cancelled is logged
        like one that fails, and only cancelling this runner stops the rest.
        """
        try:
            while self._awaiting:
                task = asyncio.ensure_future(self._awaiting.popleft())
                try:
                    await asyncio.wait({task})
                except asyncio.CancelledError:
                    task.cancel()
                    raise
                if task.cancelled():
                    log.error("a coroutine callback was cancelled and the client carried on")
                elif (error := task.exception()) is not None:
                    text = "".join(traceback.format_exception(error))
                    failed = f"a coroutine callback failed and the client carried on: {text}"
                    log.error("%s", self._driver.redact(failed))
        finally:
            self._runner = None


def _json(value: object, kind: Union[type[ProductItem], type[PageContext]]) -> str:
    if not isinstance(value, kind):
        raise TypeError(f"expected a vizochok.{kind.__name__}, got {type(value).__name__}")
    return json.dumps(value.to_dict())
