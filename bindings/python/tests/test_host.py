"""What the Python host itself adds around the driver, with a scripted
transport and no network: the SDK name, the seed, the event stream's end,
a transport that raises, a callback that exits, and a widget that is garbage."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import weakref
from typing import Any, Optional

import pytest

import vizochok

URL = "ws://127.0.0.1:8787/v1/ws"
AUTH_OK = json.dumps({"type": "auth_ok", "session_id": "s1", "restored": False, "replay": False})


class Scripted:
    """A transport that records what it is asked and reports nothing by itself."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.socket: Optional[tuple[int, vizochok.Reports]] = None

    def now(self) -> int:
        return 0

    def open(self, socket: int, url: str, reports: vizochok.Reports) -> None:
        self.socket = (socket, reports)

    def send(self, socket: int, text: str) -> None:
        self.sent.append(json.loads(text))

    def close(self, socket: int, code: int, reason: str) -> None:
        self.socket = None

    def set_timer(self, deadline: Optional[int], reports: vizochok.Reports) -> None:
        pass


def connected(**options: Any) -> tuple[vizochok.Widget, Scripted]:
    transport = Scripted()
    widget = vizochok.Widget(api_key="pk_test", store_id="store", server_url=URL, transport=transport, **options)
    widget.connect()
    assert transport.socket is not None
    socket, reports = transport.socket
    reports.opened(socket)
    reports.text(socket, AUTH_OK)
    assert widget.state is vizochok.State.CONNECTED
    return widget, transport


def test_the_auth_frame_names_this_sdk_and_the_seed_comes_from_the_os() -> None:
    first, transport = connected()
    sdk = transport.sent[0]["sdk"]
    assert sdk == {"name": "vizochok-python", "version": vizochok.__version__}
    second, _ = connected()
    ids = [w.send_message("milk") for w in (first, second)]
    assert ids[0] and ids[1] and ids[0].split("-")[0] != ids[1].split("-")[0], "each widget has its own random ids"
    replayed = [connected(seed=7)[0].send_message("milk") for _ in range(2)]
    assert replayed[0] == replayed[1], "a fixed seed replays a run"


@pytest.mark.asyncio
async def test_the_event_stream_ends_at_close_and_a_late_one_ends_at_once() -> None:
    widget, _ = connected()
    stream = widget.events()
    widget.send_message("milk")
    widget.close()
    assert [type(e).__name__ for e in [e async for e in stream]] == ["Disconnected", "StateChanged"]
    assert [e async for e in widget.events()] == []


@pytest.mark.asyncio
async def test_a_stream_nobody_holds_any_more_is_no_longer_fed() -> None:
    widget, _ = connected()
    kept = widget.events()
    widget.events()  # never iterated, dropped at once
    left = widget.events()
    widget.disconnect()
    assert await anext(left) == vizochok.Disconnected()
    del left  # left mid-way: asyncio closes it in a task of its own
    for _ in range(3):
        await asyncio.sleep(0)
    gc.collect()
    assert len(widget._streams) == 1, "only the stream still held is fed"
    widget.close()
    assert [e async for e in kept] == [
        vizochok.Disconnected(),
        vizochok.StateChanged(vizochok.State.IDLE),
        vizochok.StateChanged(vizochok.State.DESTROYED),
    ]


def test_a_transport_that_raises_goes_to_the_unraisable_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(Scripted):
        def send(self, socket: int, text: str) -> None:
            raise OSError("the transport broke")

    seen: list[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda hook: seen.append(hook.exc_value))
    transport = Broken()
    widget = vizochok.Widget(api_key="pk_test", store_id="store", server_url=URL, transport=transport)
    widget.connect()
    assert transport.socket is not None
    transport.socket[1].opened(transport.socket[0])  # the auth frame fails to go out
    assert [str(e) for e in seen] == ["the transport broke"]
    assert widget.state is vizochok.State.AUTHENTICATING, "the driver went on"


def test_a_callback_that_exits_exits_from_the_call_once_the_driver_is_done(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[str] = []

    def on_message(event: vizochok.Event) -> None:
        seen.append(type(event).__name__)
        if isinstance(event, vizochok.Acknowledged):
            sys.exit(2)

    widget, transport = connected(on_error=lambda error: sys.exit(1), on_message=on_message)
    with pytest.raises(SystemExit) as exited:
        widget.send_message("x" * 2001)  # refused: on_error exits
    assert exited.value.code == 1
    first, second = widget.send_message("one"), widget.send_message("two")
    assert transport.socket is not None
    socket, reports = transport.socket
    response = {"type": "response", "seq": 1, "message_id": "r1", "reply_to": first, "text": "ok", "products": []}
    with pytest.raises(SystemExit) as exited:
        reports.text(socket, json.dumps(response))  # acknowledges the first message: on_message exits
    assert exited.value.code == 2
    assert seen == ["Acknowledged", "Response"], "the driver delivered the rest of the frame first"
    assert transport.sent[-1]["id"] == second, "and sent the message that waited"
    assert not [r for r in caplog.records if r.name == "vizochok"], "an exit is not a failure to log"
    assert widget.clear_cart() is not None, "the widget still works"
    widget.close()
    assert widget.state is vizochok.State.DESTROYED


def test_a_widget_in_a_reference_cycle_is_collected() -> None:
    widget, _ = connected()
    widget_ref = weakref.ref(widget)
    del widget
    gc.collect()
    assert widget_ref() is None, "the widget, its callbacks and the driver are freed"


def test_stop_with_nothing_streaming_and_reads_after_close() -> None:
    widget, _ = connected()
    assert widget.stop() is None
    message = widget.send_message("milk")
    widget.close()
    assert [a.id for a in widget.pending_actions] == [message], "an action queued at release stays readable"
    assert widget.session_id == "s1" and widget.state is vizochok.State.DESTROYED
    for action in (widget.stop, widget.reset, widget.clear_cart):
        with pytest.raises(vizochok.WidgetClosedError):
            action()
