"""The widget's I/O: the :class:`Transport` protocol and the default one,
WebSockets (the ``websockets`` package) on the running asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Optional, Protocol, Union

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame

from ._native import MAX_SOCKET_MESSAGE_BYTES, Reports, __version__

__all__ = ["Transport", "WebSocketsTransport"]

#: How long a socket the driver closed has for its closing handshake; it is
#: dropped then, even behind a send that a server which stopped reading keeps stuck.
CLOSE_TIMEOUT_S = 2.0


class Transport(Protocol):
    """Sockets, a monotonic clock and one timer: what the widget needs of a
    runtime (the Rust client's ``Transport``). Every method is called by the
    driver, one at a time; report what happens through the ``Reports`` handed
    over. None may raise (an exception goes to ``sys.unraisablehook``)."""

    def now(self) -> int:
        """Monotonic milliseconds."""

    def open(self, socket: int, url: str, reports: Reports) -> None:
        """Open a WebSocket to ``url``; report its events for ``socket``."""

    def send(self, socket: int, text: str) -> None:
        """Send a text frame."""

    def close(self, socket: int, code: int, reason: str) -> None:
        """Close the socket (or abandon it while it opens); its later events are ignored."""

    def set_timer(self, deadline: Optional[int], reports: Reports) -> None:
        """Call ``reports.timer_fired()`` at ``deadline`` (``now()``'s clock);
        ``None`` cancels. Replaces the timer set before."""


class _NoPayloads(logging.LoggerAdapter):  # type: ignore[type-arg]
    """``websockets``' logger with every frame shown as its opcode and size:
    its debug log shows the start of each frame, where the ``auth`` frame
    carries the api key and the user token."""

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        shown = [f"{a.opcode.name} [{len(a.data)} bytes]" if isinstance(a, Frame) else a for a in args]
        super().log(level, msg, *shown, **kwargs)


_LOGGER = _NoPayloads(logging.getLogger("websockets.client"))


class WebSocketsTransport:
    """The default :class:`Transport`: ``websockets`` (15 or newer) on the
    running asyncio loop. Its keepalive and open timeout are off: the driver
    runs the protocol's heartbeat and socket-open timer."""

    def __init__(self) -> None:
        self._sockets: dict[int, _Socket] = {}
        self._timer: Optional[asyncio.TimerHandle] = None

    def now(self) -> int:
        return int(time.monotonic() * 1000)

    def open(self, socket: int, url: str, reports: Reports) -> None:
        self._sockets[socket] = _Socket(socket, url, reports, self._sockets)

    def send(self, socket: int, text: str) -> None:
        if socket in self._sockets:
            self._sockets[socket].outbox.put_nowait(text)

    def close(self, socket: int, code: int, reason: str) -> None:
        if socket in self._sockets:
            self._sockets[socket].close(code, reason)

    def set_timer(self, deadline: Optional[int], reports: Reports) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        if deadline is not None:
            delay = max(0, deadline - self.now()) / 1000
            self._timer = asyncio.get_running_loop().call_later(delay, reports.timer_fired)

    async def wait_closed(self) -> None:
        """Waits until every socket has ended (after the widget's ``close()``)."""
        await asyncio.gather(*(s.task for s in list(self._sockets.values())), return_exceptions=True)


class _Socket:
    """One WebSocket: connects, reports, then reads and writes until either side ends."""

    def __init__(self, socket: int, url: str, reports: Reports, sockets: dict[int, _Socket]) -> None:
        self.outbox: asyncio.Queue[Union[str, tuple[int, str]]] = asyncio.Queue()
        self.ws: Optional[ClientConnection] = None
        self.task = asyncio.get_running_loop().create_task(self._run(socket, url, reports))
        self.task.add_done_callback(lambda _: sockets.pop(socket, None))

    def close(self, code: int, reason: str) -> None:
        if self.ws is not None:
            self.outbox.put_nowait((code, reason))  # after the frames already queued
            asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, self.ws.transport.abort)
        else:
            self.task.cancel()  # still connecting: abandon the attempt

    async def _run(self, socket: int, url: str, reports: Reports) -> None:
        try:
            ws = await connect(url, open_timeout=None, ping_interval=None, close_timeout=CLOSE_TIMEOUT_S,
                               max_size=MAX_SOCKET_MESSAGE_BYTES, logger=_LOGGER, proxy=None,
                               user_agent_header=f"vizochok-python/{__version__}")  # fmt: skip
        except Exception as exc:  # refused, DNS, TLS, an HTTP status...
            return reports.ended(socket, None, f"{type(exc).__name__}: {exc}")
        self.ws = ws
        writer = asyncio.get_running_loop().create_task(self._write(ws))
        reports.opened(socket)
        try:
            while True:
                message = await ws.recv()
                if isinstance(message, str):
                    reports.text(socket, message)
                else:
                    reports.binary(socket, len(message))
        except ConnectionClosed as closed:  # code and reason as received; a cut has none
            code, reason = (closed.rcvd.code, closed.rcvd.reason) if closed.rcvd else (None, str(closed))
            reports.ended(socket, code, reason)
        finally:
            writer.cancel()

    async def _write(self, ws: ClientConnection) -> None:
        while isinstance(item := await self.outbox.get(), str):
            try:
                await ws.send(item)
            except ConnectionClosed:
                return  # the reader reports the end
        await ws.close(*item)

