"""``vizochok.Widget``: the asyncio client.

The widget is a thin driver around the sans-IO :class:`vizochok.Session`:
every protocol rule (auth, replay, resend, backoff, heartbeat, limits) lives
in the core. The widget opens and closes WebSockets (the ``websockets``
package) when the core asks, sends what it asks, arms one timer for
``poll_timeout()``, and hands every socket event back with a monotonic
``now``. Events go to the callbacks and to every ``events()`` stream.

All waiting happens in the asyncio event loop; the Rust core is only ever
called for short, synchronous steps, and callbacks run only after the
outputs have been drained into Python objects, so no Rust borrow is held
while user code runs.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import logging
import re
from types import TracebackType
from typing import Any, Awaitable, Callable, Optional, Union

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ._native import Session
from ._types import (
    ActionRejected,
    Binary,
    Cart,
    CartChanged,
    CartChangedEvent,
    Close,
    CloseSocket,
    Connect,
    ConnectionFailed,
    ErrorOccurred,
    Event,
    Limits,
    NetworkOnline,
    OpenSocket,
    ProductClicked,
    ProductItem,
    Response,
    SendText,
    SessionCompleted,
    SessionSummary,
    SocketClosed,
    SocketError,
    SocketOpened,
    State,
    StateChanged,
    Text,
    Timeout,
    Timers,
    WidgetError,
)

__all__ = ["Widget", "EventStream"]

log = logging.getLogger("vizochok")

#: A callback: a plain function or a coroutine function.
Callback0 = Callable[[], Union[None, Awaitable[None]]]
CartCallback = Callable[[CartChangedEvent], Union[None, Awaitable[None]]]
ProductCallback = Callable[[ProductItem], Union[None, Awaitable[None]]]
SummaryCallback = Callable[[SessionSummary], Union[None, Awaitable[None]]]
ErrorCallback = Callable[[WidgetError], Union[None, Awaitable[None]]]
MessageCallback = Callable[[Response], Union[None, Awaitable[None]]]

#: Inbound frames larger than this make ``websockets`` drop the connection
#: (close 1009, then the core reconnects). Frames between the core's own
#: inbound limit (1 MiB) and this reach the core, which drops them with a
#: ``ws_error`` and keeps the connection, as the protocol asks.
MAX_SOCKET_MESSAGE_BYTES = 16 * 1024 * 1024

_API_KEY_FIELD = re.compile(r'("api_key"\s*:\s*")[^"]*')


class _RedactingLogger(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The ``websockets`` logger, with the api key cut out of every record
    (its debug log shows the beginning of each frame, ``auth`` included)."""

    def __init__(self, logger: logging.Logger, secret: str) -> None:
        super().__init__(logger, {})
        self._secret = secret

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        try:
            text = str(msg) % args if args else str(msg)
        except (TypeError, ValueError):
            text = " ".join([str(msg), *map(str, args)])
        text = _API_KEY_FIELD.sub(r"\1[redacted]", text)
        if self._secret:
            text = text.replace(self._secret, "[redacted]")
        kwargs.setdefault("stacklevel", 2)
        self.logger.log(level, "%s", text, **kwargs)


class _Socket:
    """One WebSocket the core asked for, identified by the core's socket id."""

    def __init__(self, widget: Widget, socket_id: int, url: str) -> None:
        self.id = socket_id
        self._widget = widget
        self._url = url
        self._outbox: asyncio.Queue[Optional[str]] = asyncio.Queue()
        self._ws: Optional[ClientConnection] = None
        self._close: Optional[tuple[int, str]] = None
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"vizochok-socket-{socket_id}")

    def send(self, text: str) -> None:
        self._outbox.put_nowait(text)

    def close(self, code: int, reason: str) -> None:
        """Closes the socket in the background; the core has already let go of it."""
        if self._close is not None:
            return
        self._close = (code, reason)
        if self._ws is None:
            self.task.cancel()  # still opening: abandon the attempt
        else:
            self._outbox.put_nowait(None)  # the writer closes after what is queued

    async def _run(self) -> None:
        widget = self._widget
        try:
            ws = await connect(
                self._url,
                open_timeout=None,  # the core's socket-open timer decides
                ping_interval=None,  # the core runs the protocol's heartbeat
                close_timeout=2,
                max_size=MAX_SOCKET_MESSAGE_BYTES,
                logger=widget._ws_logger,
                user_agent_header=f"vizochok-python/{widget._version}",
                proxy=None,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # refused, DNS, TLS, HTTP status...
            widget._socket_input(SocketError(self.id, _describe(exc)))
            return
        self._ws = ws
        if self._close is not None:
            await ws.close(*self._close)
            return
        writer = asyncio.get_running_loop().create_task(self._write(ws), name=f"vizochok-writer-{self.id}")
        widget._socket_input(SocketOpened(self.id))
        code: Optional[int] = None
        reason = ""
        try:
            while True:
                message = await ws.recv()
                if isinstance(message, str):
                    widget._socket_input(Text(self.id, message))
                else:
                    widget._socket_input(Binary(self.id, len(message)))
        except ConnectionClosed as closed:
            if closed.rcvd is not None:
                code, reason = closed.rcvd.code, closed.rcvd.reason
        except asyncio.CancelledError:
            writer.cancel()
            await ws.close(1000, "client closed")
            raise
        finally:
            if not writer.done():
                self._outbox.put_nowait(None)
        await asyncio.gather(writer, return_exceptions=True)
        widget._socket_input(SocketClosed(self.id, code, reason))

    async def _write(self, ws: ClientConnection) -> None:
        while True:
            text = await self._outbox.get()
            if text is None:
                if self._close is not None:
                    await ws.close(*self._close)
                return
            try:
                await ws.send(text)
            except ConnectionClosed:
                return  # the reader reports the close


def _callback_args(event: Event) -> tuple[Any, ...]:
    """What the event's callback receives: its payload (the seed's type)."""
    if isinstance(event, CartChanged):
        return (event.cart,)
    if isinstance(event, ProductClicked):
        return (event.product,)
    if isinstance(event, SessionCompleted):
        return (event.summary,)
    if isinstance(event, ErrorOccurred):
        return (event.error,)
    if isinstance(event, Response):
        return (event,)
    return ()


def _describe(exc: BaseException) -> str:
    """A developer-facing description of a socket failure."""
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class EventStream:
    """An async iterator over a widget's events, from the moment
    ``Widget.events()`` was called until the widget closes. Cancelling the
    task that waits on it detaches the stream (the widget goes on)."""

    def __init__(self, widget: Widget) -> None:
        self._widget = widget
        self._queue: asyncio.Queue[Optional[Event]] = asyncio.Queue()
        self._done = False
        widget._streams.append(self)

    def _push(self, event: Optional[Event]) -> None:
        if not self._done:
            self._queue.put_nowait(event)

    def _detach(self) -> None:
        self._done = True
        if self in self._widget._streams:
            self._widget._streams.remove(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._done and self._queue.empty():
            raise StopAsyncIteration
        try:
            event = await self._queue.get()
        except asyncio.CancelledError:
            self._detach()
            raise
        if event is None:
            self._detach()
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        """Stops the stream."""
        self._detach()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._detach()


class Widget:
    """The VIZOCHOK client for asyncio.

    ``await widget.connect()`` (or ``async with widget:``) connects; the
    callbacks and ``events()`` report what happens; the action methods
    return the action id, or ``None`` when the core refused the action (the
    reason goes to ``on_error``). ``await widget.close()`` disconnects.
    """

    def __init__(
        self,
        *,
        api_key: str,
        store_id: str,
        server_url: str,
        user_id: Optional[str] = None,
        language: str = "en",
        session_id: Optional[str] = None,
        last_seq: int = 0,
        on_cart_changed: Optional[CartCallback] = None,
        on_product_click: Optional[ProductCallback] = None,
        on_session_complete: Optional[SummaryCallback] = None,
        on_error: Optional[ErrorCallback] = None,
        on_connect: Optional[Callback0] = None,
        on_disconnect: Optional[Callback0] = None,
        on_message: Optional[MessageCallback] = None,
        timers: Optional[Timers] = None,
        limits: Optional[Limits] = None,
    ) -> None:
        for name, value in (("api_key", api_key), ("store_id", store_id), ("server_url", server_url)):
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, got {type(value).__name__}")
        self._session = Session(
            api_key=api_key,
            store_id=store_id,
            url=server_url,
            user_id=user_id,
            language=language,
            session_id=session_id,
            last_seq=last_seq,
            timers=timers,
            limits=limits,
        )
        self._callbacks: dict[str, Optional[Callable[..., Any]]] = {
            "on_cart_changed": on_cart_changed,
            "on_product_click": on_product_click,
            "on_session_complete": on_session_complete,
            "on_error": on_error,
            "on_connect": on_connect,
            "on_disconnect": on_disconnect,
            "on_message": on_message,
        }
        for name, callback in self._callbacks.items():
            if callback is not None and not callable(callback):
                raise TypeError(f"{name} must be callable, got {type(callback).__name__}")
        from . import __version__

        self._version = __version__
        self._ws_logger = _RedactingLogger(logging.getLogger("websockets.client"), api_key)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._sockets: dict[int, _Socket] = {}
        self._current: Optional[_Socket] = None
        self._timer: Optional[asyncio.TimerHandle] = None
        self._deadline: Optional[int] = None
        self._pending_calls: collections.deque[tuple[str, Callable[..., Any], tuple[Any, ...]]] = collections.deque()
        self._runner: Optional[asyncio.Task[None]] = None
        self._streams: list[EventStream] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._last_error: Optional[WidgetError] = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # ----- properties --------------------------------------------------------

    @property
    def state(self) -> State:
        """The connection state."""
        return self._session.state

    @property
    def session_id(self) -> Optional[str]:
        """The server's session id, once known (store it to resume later)."""
        return self._session.session_id

    @property
    def last_seq(self) -> int:
        """The last server ``seq`` applied (store it with ``session_id``)."""
        return self._session.last_seq

    @property
    def cart(self) -> Cart:
        """The cart as last confirmed by the server."""
        return self._session.cart

    @property
    def session(self) -> Session:
        """The sans-IO core this widget drives (for inspection)."""
        return self._session

    def __repr__(self) -> str:
        return (
            f"vizochok.Widget(store_id={self._session.store_id!r}, state={self.state.value!r}, "
            f"session_id={self.session_id!r})"
        )

    # ----- lifecycle -----------------------------------------------------------

    async def connect(self) -> None:
        """Connects and returns once authenticated.

        Raises :class:`ConnectionFailed` if the core stops trying
        (``auth_error``, a final close code, ``max_reconnect``; the error
        also went to ``on_error``) or the widget is closed meanwhile. While
        the server is unreachable the core keeps retrying with backoff;
        bound the wait with ``asyncio.wait_for`` or cancel the call, which
        closes the connection attempt.
        """
        self._bind_loop()
        if self.state == State.CONNECTED:
            return
        assert self._loop is not None
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._waiters.append(waiter)
        self._last_error = None
        self._input(Connect())
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            if self.state not in (State.CONNECTED, State.DESTROYED):
                self._input(Close())
            raise

    async def close(self) -> None:
        """Closes the connection, keeping the session (``connect()`` resumes
        it). Waits for the socket to close and for the callbacks of what
        happened so far; ends every ``events()`` stream."""
        if self._loop is None:
            for stream in list(self._streams):
                stream._push(None)
            return
        self._input(Close())
        self._cancel_timer()
        sockets = [s.task for s in self._sockets.values()] + list(self._tasks)
        if sockets:
            await asyncio.wait(sockets, timeout=5)
        for task in [t for t in self._tasks if t.done()]:
            self._tasks.discard(task)
        runner = self._runner
        if runner is not None and runner is not asyncio.current_task():
            await asyncio.wait([runner], timeout=30)
        for stream in list(self._streams):
            stream._push(None)

    def network_online(self) -> None:
        """Tells the core the network is back: skip any backoff wait."""
        self._input(NetworkOnline())

    async def __aenter__(self) -> Widget:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: Optional[type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        await self.close()

    def events(self) -> EventStream:
        """A stream of every event (``Connected``, ``CartChanged``,
        ``Response``, ``StateChanged``...) from now until the widget closes::

            async for event in widget.events():
                match event:
                    case vizochok.CartChanged(cart):
                        print(cart.total)
        """
        return EventStream(self)

    # ----- actions -----------------------------------------------------------------

    def send_message(self, text: str) -> Optional[str]:
        """Sends a chat message; returns its id, or ``None`` if refused."""
        return self._action(lambda now: self._session.send_message(now, text))

    def select_product(self, product: ProductItem, quantity: Optional[float] = None) -> Optional[str]:
        """Adds a product from a card (fires ``on_product_click``); returns
        the action id, or ``None`` if refused. ``quantity`` defaults to one
        ``quantity_step``."""
        return self._action(lambda now: self._session.select_product(now, product, quantity))

    def update_quantity(self, sku: str, quantity: float) -> Optional[str]:
        """Sets the quantity of a cart line; returns the action id or ``None``."""
        return self._action(lambda now: self._session.update_quantity(now, sku, quantity))

    def remove_item(self, sku: str) -> Optional[str]:
        """Removes a cart line; returns the action id or ``None``."""
        return self._action(lambda now: self._session.remove_item(now, sku))

    def clear_cart(self) -> Optional[str]:
        """Empties the cart; returns the action id or ``None``."""
        return self._action(lambda now: self._session.clear_cart(now))

    def reset(self) -> None:
        """Forgets the conversation; the next connection opens a new session."""
        self._bind_loop()
        try:
            self._session.reset(self._now())
        finally:
            self._drive()

    # ----- the driver ----------------------------------------------------------------

    def _bind_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        elif self._loop is not loop:
            raise RuntimeError("a vizochok.Widget is bound to the event loop it first ran on")

    def _now(self) -> int:
        assert self._loop is not None
        return int(self._loop.time() * 1000)

    def _action(self, call: Callable[[int], str]) -> Optional[str]:
        self._bind_loop()
        try:
            return call(self._now())
        except ActionRejected:
            return None  # the core emitted the error: on_error hears it
        finally:
            self._drive()

    def _input(self, item: Any, now: Optional[int] = None) -> None:
        self._bind_loop()
        self._session.handle_input(self._now() if now is None else now, item)
        self._drive()

    def _socket_input(self, item: Any) -> None:
        """An event of one of our sockets; the core ignores stale ones."""
        socket_id = getattr(item, "socket", None)
        if isinstance(item, (SocketClosed, SocketError)) and socket_id is not None:
            gone = self._sockets.pop(socket_id, None)
            if gone is self._current:
                self._current = None
        self._input(item)

    def _drive(self) -> None:
        """Acts on every output of the core, then re-arms the timer."""
        events: list[Event] = []
        for output in self._session.drain_outputs():
            if isinstance(output, Event):
                events.append(output)
            elif isinstance(output, SendText):
                if self._current is not None:
                    self._current.send(output.text)
            elif isinstance(output, OpenSocket):
                socket = _Socket(self, output.socket, output.url)
                self._sockets[output.socket] = socket
                self._current = socket
            elif isinstance(output, CloseSocket):
                closing = self._sockets.pop(output.socket, None)
                if closing is not None:
                    closing.close(output.code, output.reason)
                    self._forget_when_done(closing.task)
                    if closing is self._current:
                        self._current = None
        self._arm_timer()
        for event in events:
            self._deliver(event)

    def _forget_when_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _arm_timer(self) -> None:
        deadline = self._session.poll_timeout()
        if deadline == self._deadline and (self._timer is not None or deadline is None):
            return
        self._cancel_timer()
        self._deadline = deadline
        if deadline is not None and self._loop is not None:
            self._timer = self._loop.call_at(deadline / 1000, self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._deadline = None

    def _on_timer(self) -> None:
        deadline = self._deadline
        self._timer = None
        self._deadline = None
        now = self._now()
        if deadline is not None:
            now = max(now, deadline)  # the loop may fire a hair early
        self._input(Timeout(), now)

    def _deliver(self, event: Event) -> None:
        """Hands an event to the streams, the connect() waiters and the callbacks."""
        for stream in list(self._streams):
            stream._push(event)
        if isinstance(event, ErrorOccurred):
            self._last_error = event.error
        elif isinstance(event, StateChanged):
            self._settle_waiters(event.state)
        name = event.callback
        callback = self._callbacks.get(name) if name is not None else None
        if name is None or callback is None:
            return
        self._pending_calls.append((name, callback, _callback_args(event)))
        if self._runner is None and self._loop is not None:
            self._runner = self._loop.create_task(self._run_callbacks(), name="vizochok-callbacks")

    def _settle_waiters(self, state: State) -> None:
        if state == State.CONNECTED:
            outcome: Optional[BaseException] = None
        elif state == State.STOPPED:
            error = self._last_error
            reason = f"{error.code.value}: {error.message}" if error is not None else "the client stopped"
            outcome = ConnectionFailed(f"could not connect ({reason})", error)
        elif state in (State.IDLE, State.DESTROYED):
            outcome = ConnectionFailed("the widget was closed before it connected")
        else:
            return
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                if outcome is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(outcome)

    async def _run_callbacks(self) -> None:
        """Runs callbacks one at a time, in event order. A coroutine callback
        is awaited before the next one starts; an exception is logged."""
        try:
            while self._pending_calls:
                name, callback, args = self._pending_calls.popleft()
                try:
                    result = callback(*args)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("vizochok: the %s callback raised; the client goes on", name)
        finally:
            self._runner = None
