"""``vizochok.Widget`` end to end against the real ``vizochok sandbox``
binary on a loopback port: real WebSockets, real asyncio, no mocks. Tests
wait on events (with a deadline), never on sleeps."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import hashlib
import logging
import re
import secrets
import sys
import weakref
from typing import Any, Callable, Optional, TypeVar

import pytest

import vizochok
from sandbox import DEMO_KEY, DEMO_STORE, Sandbox, SandboxFactory
from vizochok import CartChangedEvent, ErrorCode, Reply, State

pytestmark = pytest.mark.asyncio

#: Upper bound of any single wait.
WAIT_S = 15.0
#: Quick reconnects (the contract's defaults are seconds).
FAST = vizochok.Timers(backoff_base_ms=50, backoff_max_ms=200, storm_spread_ms=200)
#: Streams a reply in many small deltas, so there is time to stop it.
SLOW_STREAM = {"engine": {"delta_chars": 4, "delta_interval_ms": 40}}

E = TypeVar("E")


class Watch:
    """A widget's event stream: ``next`` finds the first event of a kind not
    claimed yet (those read past while waiting for another stay unclaimed)."""

    def __init__(self, widget: vizochok.Widget) -> None:
        self.stream = widget.events()
        self.seen: list[vizochok.Event] = []
        self.unclaimed: list[vizochok.Event] = []

    async def next(self, kind: type[E], where: Callable[[E], bool] = lambda _: True) -> E:
        def claim(event: vizochok.Event) -> bool:
            return isinstance(event, kind) and where(event)

        async def find() -> E:
            for event in self.unclaimed:
                if claim(event):
                    self.unclaimed.remove(event)
                    return event  # type: ignore[return-value]
            async for event in self.stream:
                self.seen.append(event)
                if claim(event):
                    return event  # type: ignore[return-value]
                self.unclaimed.append(event)
            raise AssertionError(f"the stream ended before a {kind.__name__}; saw {self.seen}")

        try:
            return await asyncio.wait_for(find(), WAIT_S)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {kind.__name__} within {WAIT_S} s; saw {self.seen}") from None

    async def reply(self, message_id: Optional[str]) -> Reply:
        assert message_id is not None, "the message was accepted"
        response = await self.next(vizochok.Response, lambda r: r.reply.reply_to == message_id)
        return response.reply

    async def cart(self, where: Callable[[CartChangedEvent], bool] = lambda _: True) -> CartChangedEvent:
        return (await self.next(vizochok.CartChanged, lambda c: where(c.cart))).cart

    async def error(self, code: ErrorCode) -> vizochok.WidgetError:
        return (await self.next(vizochok.ErrorOccurred, lambda e: e.error.code is code)).error

    async def state(self, state: State) -> None:
        await self.next(vizochok.StateChanged, lambda s: s.state is state)


class Memory:
    """A session store in memory."""

    def __init__(self) -> None:
        self.saved: Optional[str] = None

    def load(self) -> Optional[str]:
        return self.saved

    def save(self, session_id: Optional[str]) -> None:
        self.saved = session_id


class Counting(vizochok.WebSocketsTransport):
    """The real transport, remembering the sockets it opens and the timer it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.sockets: list[int] = []
        self.deadline: Optional[int] = None

    def open(self, socket: int, url: str, reports: vizochok.Reports) -> None:
        self.sockets.append(socket)
        super().open(socket, url, reports)

    def set_timer(self, deadline: Optional[int], reports: vizochok.Reports) -> None:
        self.deadline = deadline
        super().set_timer(deadline, reports)


def widget(sandbox: Sandbox, **options: Any) -> vizochok.Widget:
    return vizochok.Widget(**{"api_key": DEMO_KEY, "store_id": DEMO_STORE, "server_url": sandbox.url, **options})


async def test_chat_then_add_reports_the_whole_cart(sandbox: Sandbox) -> None:
    async with widget(sandbox, language="uk") as w:
        watch = Watch(w)
        await watch.next(vizochok.Connected)
        assert w.state is State.CONNECTED and w.session_id
        reply = await watch.reply(w.send_message("молоко"))
        assert len(reply.products) >= 2 and all("молоко" in p.name.lower() for p in reply.products), reply

        first, second = reply.products[0], reply.products[1]
        assert w.select_product(first) is not None
        click = await watch.next(vizochok.ProductClicked)
        assert click.product.sku == first.sku and click.product.quantity == first.quantity_step
        cart = await watch.cart()
        assert cart.action is vizochok.CartAction.ITEM_SELECTED and [i.sku for i in cart.items] == [first.sku]

        assert w.select_product(second, 2) is not None
        cart = await watch.cart()
        assert {i.sku: i.quantity for i in cart.items} == {first.sku: 1, second.sku: 2}, "items is the whole cart"
        expected = sum((i.promo_price if i.promo_price is not None else i.price) * i.quantity for i in cart.items)
        assert cart.total == pytest.approx(expected)
        assert w.cart.items == cart.items and w.cart.total == cart.total

        assert w.update_quantity(second.sku, 3) is not None
        assert (await watch.cart()).quantity == 3
        assert w.remove_item(first.sku) is not None
        assert [i.sku for i in (await watch.cart()).items] == [second.sku]
        assert w.clear_cart() is not None
        cart = await watch.cart()
        assert cart.action is vizochok.CartAction.CART_CLEARED and cart.items == [] and cart.total == 0
        assert w.pending_actions == [], "every action ended"
    assert w.state is State.DESTROYED and w.cart.items == [], "reads after close keep the last state"
    rest = [e async for e in watch.stream]
    assert rest[-2:] == [vizochok.Disconnected(), vizochok.StateChanged(State.DESTROYED)], "then the stream ends"
    with pytest.raises(vizochok.WidgetClosedError):
        w.send_message("again")
    assert not [e for e in watch.seen if isinstance(e, vizochok.ErrorOccurred)]


async def test_the_page_frames_context_stop_feedback_suggestions_and_blocks(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(SLOW_STREAM)
    async with widget(sandbox) as w:
        watch = Watch(w)
        page = vizochok.PageInfo(url="https://shop.example/p/DAI-003", title="Milk")
        assert w.set_context(vizochok.PageContext(sku="DAI-003", page=page)) is not None
        assert w.stop() is None, "nothing streams yet"
        await watch.reply(w.send_message("add this"))
        assert [i.sku for i in (await watch.cart()).items] == ["DAI-003"], "'this' is the page's product"

        found = await watch.reply(w.send_message("find milk"))
        assert found.suggestions == ["Show cheaper", "Add the first one"] and found.products
        response = watch.seen[-1]
        assert isinstance(response, vizochok.Response) and response.blocks, "the Markdown comes parsed"
        assert "".join(s.text for b in response.blocks for s in b.spans).strip()

        long = w.send_message("help")
        await watch.next(vizochok.Delta, lambda d: d.reply_to == long)
        assert w.stop() is not None
        stopped = await watch.reply(long)
        said = "".join(e.text for e in watch.seen if isinstance(e, vizochok.Delta) and e.reply_to == long)
        assert stopped.cancelled and stopped.text == said, "the reply ends where the stream stopped"

        rating = w.feedback(found.message_id, vizochok.Rating.UP, "just what I needed")
        assert rating is not None
        await watch.next(vizochok.Acknowledged, lambda a: a.id == rating)
        with pytest.raises(ValueError):
            w.feedback(found.message_id, "sideways")


async def test_events_and_coroutine_callbacks_in_order_and_failures_logged(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    order: list[str] = []
    done: asyncio.Queue[None] = asyncio.Queue()

    async def on_connect() -> None:
        await asyncio.sleep(0)
        order.append("connect")
        gone = asyncio.get_running_loop().create_future()
        gone.cancel()
        await gone  # ends cancelled: the coroutine callbacks after it still run

    async def on_cart_changed(cart: CartChangedEvent) -> None:
        await asyncio.sleep(0.01)  # a slow coroutine delays the next coroutine, not the protocol
        order.append(f"cart {len(cart.items)}")
        if len(cart.items) == 2:
            done.put_nowait(None)

    def on_product_click(product: vizochok.ProductItem) -> None:
        order.append(f"click {product.sku}")
        raise RuntimeError("a broken callback")

    async def on_message(event: vizochok.Event) -> None:
        if isinstance(event, vizochok.Response):
            raise ValueError("a broken coroutine callback")

    w = widget(
        sandbox,
        on_connect=on_connect,
        on_cart_changed=on_cart_changed,
        on_product_click=on_product_click,
        on_message=on_message,
    )
    watch = Watch(w)  # from this moment, before connecting
    with caplog.at_level(logging.ERROR, logger="vizochok"):
        async with w:
            reply = await watch.reply(w.send_message("milk"))
            w.select_product(reply.products[0])
            w.select_product(reply.products[1])
            await asyncio.wait_for(done.get(), WAIT_S)
            assert w.state is State.CONNECTED, "failing callbacks do not break the client"
    assert order[0] == "connect" and order[-2:] == ["cart 1", "cart 2"]
    assert order[1:3] == [f"click {p.sku}" for p in reply.products[:2]], "plain callbacks ran in the call"
    kinds = [type(e).__name__ for e in watch.seen]
    assert kinds[:4] == ["StateChanged", "StateChanged", "StateChanged", "Connected"], kinds
    assert {"Typing", "Delta", "Response", "Acknowledged"} <= set(kinds)
    failures = [r.getMessage() for r in caplog.records if r.name == "vizochok"]
    assert len(failures) == 4, failures  # the cancelled connect, two clicks and the reply
    assert sum("a coroutine callback was cancelled" in f for f in failures) == 1
    assert sum("RuntimeError: a broken callback" in f and "Traceback" in f for f in failures) == 2
    assert sum("ValueError: a broken coroutine callback" in f and "Traceback" in f for f in failures) == 1


async def test_a_cut_mid_reply_replays_every_delta_once_and_applies_each_add_once(
    start_sandbox: SandboxFactory,
) -> None:
    # Every connection is cut (no close frame) after 5 frames, and replies
    # stream in several deltas, so a reply spans several sockets.
    sandbox = start_sandbox({"engine": {"delta_chars": 60, "delta_interval_ms": 5}, "faults": {"drop_after_frames": 5}})
    async with widget(sandbox, timers=FAST) as w:
        watch = Watch(w)
        await watch.next(vizochok.Connected)
        session_id = w.session_id
        reply = await watch.reply(w.send_message("milk"))
        deltas = [e.text for e in watch.seen if isinstance(e, vizochok.Delta) and e.reply_to == reply.reply_to]
        assert "".join(deltas) == reply.text, "every delta exactly once, in order"
        cuts = [e for e in watch.seen if isinstance(e, vizochok.ErrorOccurred)]
        assert cuts and all(e.error.code is ErrorCode.WS_ERROR for e in cuts), "the socket was cut"
        assert vizochok.Disconnected() in watch.seen and w.session_id == session_id, "the same session resumed"

        assert w.select_product(reply.products[0]) is not None
        assert [i.sku for i in (await watch.cart()).items] == [reply.products[0].sku]
        assert w.select_product(reply.products[0]) is not None
        assert (await watch.cart()).items[0].quantity == 2, "each add applied exactly once across reconnects"


async def test_a_frame_past_the_limit_is_reported_and_the_connection_stays(start_sandbox: SandboxFactory) -> None:
    # After every 3 frames the sandbox sends one a byte past the 1 MiB frame limit.
    sandbox = start_sandbox({"faults": {"oversized_every": 3}})
    async with widget(sandbox, timers=FAST) as w:
        watch = Watch(w)
        await watch.next(vizochok.Connected)
        reply = await watch.reply(w.send_message("milk"))
        assert w.select_product(reply.products[0]) is not None
        assert [i.sku for i in (await watch.cart()).items] == [reply.products[0].sku]
        too_large = [e.error for e in watch.seen if isinstance(e, vizochok.ErrorOccurred)]
        assert too_large and all(e.code is ErrorCode.WS_ERROR for e in too_large), watch.seen
        assert too_large[0].detail == "frame of 1048577 bytes exceeds the 1048576-byte limit"
        assert vizochok.Disconnected() not in watch.seen and watch.seen.count(vizochok.Connected()) == 1


async def test_a_failing_session_store_is_logged_by_class_only_and_the_widget_carries_on(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    class Broken:
        def load(self) -> Optional[str]:
            return None

        def save(self, session_id: Optional[str]) -> None:
            raise RuntimeError(f"disk full while saving {session_id}")

    with caplog.at_level(logging.ERROR, logger="vizochok"):
        async with widget(sandbox, session_store=Broken()) as w:
            watch = Watch(w)
            reply = await watch.reply(w.send_message("milk"))
            assert reply.products, "the widget carried on"
            session_id = w.session_id
    assert session_id
    failures = [r.getMessage() for r in caplog.records if r.name == "vizochok"]
    assert failures and all(f.endswith("failed and the widget carried on: RuntimeError") for f in failures), failures
    shown = "".join(failures) + "".join(capsys.readouterr())
    assert session_id not in shown, "the store's message names the id: it is never shown"


async def test_restore_after_a_sandbox_restart_and_after_an_app_restart(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(state=True)
    store = Memory()
    w = widget(sandbox, timers=FAST, session_store=store)
    watch = Watch(w)
    w.connect()
    reply = await watch.reply(w.send_message("milk"))
    w.select_product(reply.products[0], 2)
    cart = await watch.cart()
    assert store.saved == w.session_id is not None, "the store keeps the id, and only the id"

    sandbox.restart()  # SIGTERM, then the same port and state directory
    await watch.next(vizochok.Disconnected)
    await watch.next(vizochok.Connected)
    assert w.session_id == store.saved and w.cart.items == cart.items, "the session survived the restart"
    w.close()

    # A new widget (the app restarted) with the same store resumes the conversation.
    async with widget(sandbox, session_store=store) as again:
        watch = Watch(again)
        summary = (await watch.next(vizochok.SessionCompleted)).summary
        assert summary.selected_items == cart.items and summary.total == cart.total and summary.item_count == 1
        history = await watch.next(vizochok.HistoryReplaced)
        assert [e.role for e in history.entries][:2] == [vizochok.Role.USER, vizochok.Role.ASSISTANT]
        assert again.session_id == store.saved


async def test_an_auth_error_stops_for_good_without_a_reconnect_loop(sandbox: Sandbox) -> None:
    transport = Counting()
    w = widget(sandbox, api_key="pk_not_a_key", transport=transport, timers=FAST)
    watch = Watch(w)
    w.connect()
    error = await watch.error(ErrorCode.AUTH_ERROR)
    assert error.message == "The chat is unavailable. Please refresh the page."
    await watch.state(State.STOPPED)
    assert len(transport.sockets) == 1 and transport.deadline is None, "one socket, and no timer left to reconnect"
    assert vizochok.Connected() not in watch.seen
    w.close()


async def test_limit_codes_reach_on_error_with_the_action(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox({"engine": {"limits": {"user_messages_max": 1, "max_message_chars": 20}}})
    errors: list[vizochok.WidgetError] = []
    async with widget(sandbox, user_id="shopper-7", on_error=errors.append) as w:
        watch = Watch(w)
        await watch.reply(w.send_message("milk"))
        second = w.send_message("bread")
        error = await watch.error(ErrorCode.USER_MESSAGE_LIMIT)
        assert error.reply_to == second and error.message == "You have reached the message limit."

        # auth_ok lowered the message limit: the driver refuses locally, and on_error has heard when the call returns.
        assert w.send_message("x" * 21) is None
        assert errors[-1].code is ErrorCode.MESSAGE_TOO_LARGE and "20" in (errors[-1].detail or "")
        assert w.state is State.CONNECTED


async def test_misuse_raises_and_refusals_return_none(sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="loopback"):
        vizochok.Widget(api_key="pk", store_id="s", server_url="ws://shop.example/ws")
    with pytest.raises(ValueError, match="store id"):
        widget(sandbox, store_id=" ")
    with pytest.raises(ValueError, match="backoff_max_ms must be at most 2147483647 ms"):
        widget(sandbox, timers=vizochok.Timers(backoff_max_ms=2**31))
    with pytest.raises(TypeError, match="callable"):
        widget(sandbox, on_error="print")
    with pytest.raises(TypeError):
        widget(sandbox, api_key=None)
    errors: list[vizochok.WidgetError] = []
    async with widget(sandbox, limits=vizochok.Limits(queue_capacity=1), on_error=errors.append) as w:
        with pytest.raises(ValueError):
            w.send_message("")
        with pytest.raises(TypeError):
            w.select_product({"sku": "milk"})  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            w.update_quantity("DAI-001", 0)
        assert w.send_message("milk") is not None
        assert w.send_message("bread") is None and errors[-1].code is ErrorCode.QUEUE_FULL
        assert [a.kind for a in w.pending_actions] == [vizochok.ActionKind.MESSAGE]


async def test_disconnect_keeps_the_conversation_and_connect_resumes_it(sandbox: Sandbox) -> None:
    async with widget(sandbox) as w:
        watch = Watch(w)
        await watch.next(vizochok.Connected)
        session_id = w.session_id
        w.disconnect()
        await watch.state(State.IDLE)
        queued = w.send_message("milk")
        assert [a.id for a in w.pending_actions] == [queued], "queued while disconnected"
        w.connect()
        await watch.reply(queued)
        assert w.session_id == session_id


async def test_callbacks_may_call_back_into_the_widget(sandbox: Sandbox) -> None:
    done: asyncio.Queue[CartChangedEvent] = asyncio.Queue()
    w: Optional[vizochok.Widget] = None

    def on_connect() -> None:
        assert w is not None and w.send_message("milk") is not None

    def on_message(event: vizochok.Event) -> None:
        assert w is not None and w.state is State.CONNECTED
        if isinstance(event, vizochok.Response) and event.reply.products:
            assert w.select_product(event.reply.products[0], 2) is not None

    def on_cart_changed(cart: CartChangedEvent) -> None:
        assert w is not None and w.cart.items == cart.items, "a read sees what the callback sees"
        if cart.action is vizochok.CartAction.ITEM_SELECTED:
            assert w.update_quantity(cart.items[0].sku, 1) is not None
        else:
            done.put_nowait(cart)

    w = widget(sandbox, on_message=on_message, on_cart_changed=on_cart_changed, on_connect=on_connect)
    async with w:
        cart = await asyncio.wait_for(done.get(), WAIT_S)
    assert cart.action is vizochok.CartAction.QUANTITY_UPDATED and cart.items[0].quantity == 1


class Screen:
    """An app's screen: it keeps its widget, whose callback is the screen's method."""

    def __init__(self, sandbox: Sandbox, store: Memory) -> None:
        self.connected = asyncio.Event()
        self.widget = widget(sandbox, on_connect=self.on_connect, session_store=store)

    def on_connect(self) -> None:
        assert self.widget.state is State.CONNECTED
        self.connected.set()


async def test_close_lets_go_of_the_callbacks_and_the_session_store_while_the_app_keeps_the_widget(
    sandbox: Sandbox,
) -> None:
    store = Memory()
    screen = Screen(sandbox, store)
    kept = screen.widget
    async with kept:
        await asyncio.wait_for(screen.connected.wait(), WAIT_S)
    assert store.saved is not None, "the store was in use"
    refs = [weakref.ref(screen), weakref.ref(store)]
    del screen, store
    gc.collect()
    assert [ref() for ref in refs] == [None, None], "the closed widget kept the screen or the store"
    assert kept.state is State.DESTROYED and kept.session_id is not None, "and it still reads"


async def test_a_widget_collected_unclosed_warns_and_its_socket_closes(sandbox: Sandbox) -> None:
    transport = Counting()
    connected = asyncio.Event()
    w = widget(sandbox, transport=transport, on_connect=connected.set)
    w.connect()
    await asyncio.wait_for(connected.wait(), WAIT_S)
    with pytest.warns(ResourceWarning, match="unclosed vizochok.Widget"):
        del w
        gc.collect()
    await asyncio.wait_for(transport.wait_closed(), WAIT_S)
    assert transport.sockets, "the widget had a socket, and it has ended"


async def test_a_program_whose_callback_calls_sys_exit_exits(sandbox: Sandbox) -> None:
    program = f"""
import asyncio, sys, vizochok

async def main() -> None:
    widget = vizochok.Widget(api_key={DEMO_KEY!r}, store_id={DEMO_STORE!r}, server_url={sandbox.url!r},
                             on_connect=lambda: sys.exit(3))
    widget.connect()
    await asyncio.Event().wait()  # until the callback exits

asyncio.run(main())
"""
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", program, stderr=asyncio.subprocess.PIPE)
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), WAIT_S)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"the program was still running {WAIT_S} s after connecting") from None
    assert process.returncode == 3, stderr.decode()


def fragments(secret: str, size: int = 6) -> set[str]:
    """Every piece of ``secret`` long enough to give part of it away."""
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


async def test_no_fragment_of_the_key_or_token_reaches_any_log_record(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    key = "pk_canary_" + secrets.token_hex(12)
    token = "tok_canary_" + secrets.token_hex(12)
    pieces = fragments(key[len("pk_canary_") :]) | fragments(token[len("tok_canary_") :])
    seen: list[str] = []

    def on_error(error: vizochok.WidgetError) -> None:
        seen.append(repr(error))
        raise RuntimeError(f"a callback that shows the key {key} and the token {token}")

    with caplog.at_level(logging.DEBUG):  # every logger, websockets' frame log included
        w = widget(sandbox, api_key=key, user_id="shopper", user_token=token, on_error=on_error)
        watch = Watch(w)
        w.connect()
        await watch.error(ErrorCode.AUTH_ERROR)  # the sandbox refuses the unknown key
        await watch.state(State.STOPPED)
        seen += [repr(w)] + [repr(e) for e in watch.seen]
        w.close()
        for bad in ({"server_url": "ws://shop.example/"}, {"server_url": f"wss://{key}@shop.example/"},
                    {"server_url": f"wss://shop.example/?t={token}"}, {"store_id": ""}):  # fmt: skip
            with pytest.raises(ValueError) as refused:
                widget(sandbox, api_key=key, user_token=token, **bad)
            seen.append(str(refused.value))
    records = [r.getMessage() for r in caplog.records] + [str(r.exc_info) for r in caplog.records if r.exc_info]
    assert any(r.name.startswith("websockets") and r.levelno == logging.DEBUG for r in caplog.records)
    assert any(re.match(r"> TEXT \[\d+ bytes\]", line) for line in records), "the auth frame was logged, bare"
    assert any("a callback that shows the key [redacted]" in line for line in records), "the failure was logged"
    leaks = [text for text in records + seen if any(piece in text for piece in pieces)]
    assert leaks == []


async def test_a_socket_given_up_behind_a_stuck_send_still_goes() -> None:
    # Bounded as a whole: without the bound on a closing socket, the widget's exit waits for it for good.
    await asyncio.wait_for(stuck_send_then_disconnect(), 2 * WAIT_S)


async def stuck_send_then_disconnect() -> None:
    # A server that finishes the upgrade, then never reads again.
    upgraded: asyncio.Queue[asyncio.StreamWriter] = asyncio.Queue()

    async def upgrade(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        key = re.search(rb"(?i)sec-websocket-key: *(\S+)", head)
        assert key is not None, head
        guid = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        accept = base64.b64encode(hashlib.sha1(key.group(1) + guid).digest())
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n")
        writer.write(b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")
        await upgraded.put(writer)

    server = await asyncio.start_server(upgrade, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Counting()
    w = vizochok.Widget(api_key=DEMO_KEY, store_id=DEMO_STORE, server_url=f"ws://127.0.0.1:{port}/v1/ws",
                        transport=transport)  # fmt: skip
    async with server, w:
        watch = Watch(w)
        await watch.state(State.AUTHENTICATING)
        peer = await asyncio.wait_for(upgraded.get(), WAIT_S)
        # More than the kernel's buffers hold: the socket's sends get stuck.
        for _ in range(16):
            transport.send(transport.sockets[0], "x" * (1 << 20))
        w.disconnect()

        # While the widget still reads the socket, the server's frames go
        # through; once it has let the socket go, they fail.
        async def gone() -> None:
            with contextlib.suppress(ConnectionError):
                while True:
                    peer.write(b"\x81\x01x")
                    await peer.drain()

        await asyncio.wait_for(gone(), WAIT_S)
        peer.close()
