"""``vizochok.Widget`` end to end against the real ``vizochok sandbox``
binary on a loopback port: real WebSockets, real asyncio, no mocks."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any, Optional

import pytest

import vizochok
from sandbox import DEMO_KEY, DEMO_STORE, Sandbox, SandboxFactory
from vizochok import CartChangedEvent, ErrorCode, Response, SessionSummary, State, WidgetError

pytestmark = pytest.mark.asyncio

#: Upper bound of any single wait; tests wait on events, never on sleeps.
WAIT_S = 15.0
#: Quick reconnects for tests (the contract's defaults are seconds).
FAST = vizochok.Timers(backoff_base_ms=100, backoff_max_ms=400, storm_spread_ms=300)


class Recorder:
    """Every callback of a widget, recorded, with a way to wait for the next one."""

    def __init__(self) -> None:
        self.calls: dict[str, list[Any]] = {}
        self._queues: dict[str, asyncio.Queue[Any]] = {}

    def _queue(self, name: str) -> asyncio.Queue[Any]:
        return self._queues.setdefault(name, asyncio.Queue())

    def record(self, name: str, value: Any = None) -> None:
        self.calls.setdefault(name, []).append(value)
        self._queue(name).put_nowait(value)

    def count(self, name: str) -> int:
        return len(self.calls.get(name, []))

    async def next(self, name: str, timeout: float = WAIT_S) -> Any:
        try:
            return await asyncio.wait_for(self._queue(name).get(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {name} within {timeout} s; saw {self.calls}") from None

    async def reply_to(self, message_id: str) -> Response:
        while True:
            response: Response = await self.next("message")
            if response.reply_to == message_id:
                return response

    async def error(self, code: ErrorCode) -> WidgetError:
        while True:
            error: WidgetError = await self.next("error")
            if error.code is code:
                return error

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_cart_changed": lambda cart: self.record("cart", cart),
            "on_product_click": lambda product: self.record("click", product),
            "on_session_complete": lambda summary: self.record("summary", summary),
            "on_error": lambda error: self.record("error", error),
            "on_connect": lambda: self.record("connect"),
            "on_disconnect": lambda: self.record("disconnect"),
            "on_message": lambda response: self.record("message", response),
        }


def widget(sandbox: Sandbox, rec: Optional[Recorder] = None, **kwargs: Any) -> vizochok.Widget:
    options: dict[str, Any] = {"api_key": DEMO_KEY, "store_id": DEMO_STORE, "server_url": sandbox.url}
    if rec is not None:
        options.update(rec.callbacks())
    options.update(kwargs)
    return vizochok.Widget(**options)


async def ask(w: vizochok.Widget, rec: Recorder, text: str) -> Response:
    message_id = w.send_message(text)
    assert message_id is not None
    return await rec.reply_to(message_id)


async def test_chat_then_add_reports_the_whole_cart(sandbox: Sandbox) -> None:
    rec = Recorder()
    async with widget(sandbox, rec, language="uk") as w:
        assert w.state is State.CONNECTED and w.session_id
        await rec.next("connect")
        reply = await ask(w, rec, "молоко")
        assert reply.products, reply.text
        assert all("молоко" in p.name.lower() for p in reply.products), reply.products

        first = w.select_product(reply.products[0])
        assert first is not None
        click = await rec.next("click")
        assert click.sku == reply.products[0].sku and click.quantity == reply.products[0].quantity_step
        cart: CartChangedEvent = await rec.next("cart")
        assert cart.action == "item_selected" and cart.sku == reply.products[0].sku
        assert [i.sku for i in cart.items] == [reply.products[0].sku]

        assert w.select_product(reply.products[1], 2) is not None
        cart = await rec.next("cart")
        assert {i.sku: i.quantity for i in cart.items} == {reply.products[0].sku: 1, reply.products[1].sku: 2}, (
            "items is the whole cart"
        )
        expected = sum((i.promo_price if i.promo_price is not None else i.price) * i.quantity for i in cart.items)
        assert cart.total == pytest.approx(expected)
        assert w.cart.items == cart.items and w.cart.total == cart.total

        assert w.update_quantity(reply.products[1].sku, 3) is not None
        cart = await rec.next("cart")
        assert cart.action == "quantity_updated" and cart.quantity == 3
        assert w.remove_item(reply.products[0].sku) is not None
        cart = await rec.next("cart")
        assert cart.action == "item_removed" and [i.sku for i in cart.items] == [reply.products[1].sku]
        assert w.clear_cart() is not None
        cart = await rec.next("cart")
        assert cart.action == "cart_cleared" and cart.items == [] and cart.total == 0
    assert w.state is State.IDLE
    assert rec.count("disconnect") == 1 and rec.count("error") == 0


async def test_events_stream_and_coroutine_callbacks(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    order: list[str] = []
    carts: asyncio.Queue[CartChangedEvent] = asyncio.Queue()

    async def on_connect() -> None:
        await asyncio.sleep(0)
        order.append("connect")

    async def on_cart_changed(cart: CartChangedEvent) -> None:
        await asyncio.sleep(0.01)  # a slow coroutine callback delays the next callback, not the protocol
        order.append(f"cart {len(cart.items)}")
        await carts.put(cart)

    def on_product_click(product: vizochok.ProductItem) -> None:
        order.append(f"click {product.sku}")
        raise RuntimeError("a broken callback")

    async def on_message(response: Response) -> None:
        raise ValueError("a broken coroutine callback")

    w = widget(
        sandbox,
        on_connect=on_connect,
        on_cart_changed=on_cart_changed,
        on_product_click=on_product_click,
        on_message=on_message,
    )
    stream = w.events()  # events from this moment on, even before connect()
    with caplog.at_level(logging.ERROR, logger="vizochok"):
        await w.connect()
        seen: list[vizochok.Event] = []
        async for event in stream:
            seen.append(event)
            match event:
                case vizochok.Connected():
                    w.send_message("milk")
                case vizochok.Response(products=products) if products:
                    w.select_product(products[0])
                    w.select_product(products[1])
                case vizochok.CartChanged(cart) if len(cart.items) == 2:
                    break
        # The two cart callbacks ran in order, after the clicks, despite the exceptions.
        await asyncio.wait_for(carts.get(), WAIT_S)
        await asyncio.wait_for(carts.get(), WAIT_S)
    assert order[0] == "connect" and order[-2:] == ["cart 1", "cart 2"]
    assert [o for o in order if o.startswith("click")] == [f"click {e.product.sku}" for e in seen if isinstance(e, vizochok.ProductClicked)]
    kinds = [type(e).__name__ for e in seen]
    assert kinds[:3] == ["StateChanged", "StateChanged", "StateChanged"], kinds
    assert "Connected" in kinds and "Typing" in kinds and "Delta" in kinds and "Response" in kinds
    assert "Acknowledged" in kinds
    failures = [r for r in caplog.records if r.name == "vizochok"]
    assert {r.exc_info[1].args[0] for r in failures if r.exc_info and r.exc_info[1]} == {
        "a broken callback",
        "a broken coroutine callback",
    }
    assert w.state is State.CONNECTED, "exceptions in callbacks do not break the client"
    await w.close()
    rest = [e async for e in stream]  # what happened up to close(), then the end
    assert rest[-2:] == [vizochok.Disconnected(), vizochok.StateChanged(State.IDLE)], rest


async def test_cancelling_an_event_stream_detaches_it_and_the_widget_goes_on(sandbox: Sandbox) -> None:
    rec = Recorder()
    async with widget(sandbox, rec) as w:
        stream = w.events()
        other = w.events()
        started = asyncio.Event()

        async def consume() -> None:
            started.set()
            async for _ in stream:
                pass

        task = asyncio.create_task(consume())
        await started.wait()
        await asyncio.sleep(0)  # let it block in the stream
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [e async for e in stream] == [], "a cancelled stream is finished"
        reply = await ask(w, rec, "bread")
        assert reply.products
        async for event in other:  # the other stream still sees everything
            if isinstance(event, vizochok.Response):
                assert event == reply
                break


async def test_reconnect_replays_after_the_sandbox_cuts_the_socket(start_sandbox: SandboxFactory) -> None:
    # The sandbox cuts every connection (no close frame) after 5 frames, and
    # streams replies in several deltas, so a reply spans several sockets.
    sandbox = start_sandbox({"engine": {"delta_chars": 60, "delta_interval_ms": 5}, "faults": {"drop_after_frames": 5}})
    rec = Recorder()
    deltas: dict[str, list[str]] = {}
    async with widget(sandbox, rec, timers=FAST) as w:
        session_id = w.session_id
        stream = w.events()
        reply = await ask(w, rec, "milk")
        assert rec.count("disconnect") >= 1 and rec.count("connect") >= 2, "the socket was cut at least once"
        assert w.session_id == session_id, "the same session resumed"
        while True:
            event = await asyncio.wait_for(stream.__anext__(), WAIT_S)
            if isinstance(event, vizochok.Delta):
                deltas.setdefault(event.reply_to, []).append(event.text)
            if isinstance(event, Response):
                break
        assert "".join(deltas[reply.reply_to]) == reply.text, "every delta exactly once, in order"
        assert reply.products

        assert w.select_product(reply.products[0]) is not None
        cart: CartChangedEvent = await rec.next("cart")
        assert [i.sku for i in cart.items] == [reply.products[0].sku]
        assert w.select_product(reply.products[0]) is not None
        cart = await rec.next("cart")
        assert cart.items[0].quantity == 2, "each add applied exactly once across reconnects"
    assert rec.count("cart") == 2
    assert not [e for e in rec.calls.get("error", []) if e.code is not ErrorCode.WS_ERROR]


async def test_restore_after_a_sandbox_restart_with_state(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox(state=True)
    rec = Recorder()
    w = widget(sandbox, rec, timers=FAST)
    await w.connect()
    reply = await ask(w, rec, "milk")
    w.select_product(reply.products[0], 2)
    cart: CartChangedEvent = await rec.next("cart")
    session_id = w.session_id
    await rec.next("connect")

    sandbox.restart()  # SIGTERM, then the same port and state directory
    await rec.next("disconnect")
    await rec.next("connect")  # the core reconnected on its own
    summary: SessionSummary = await rec.next("summary")
    assert w.session_id == session_id, "the session survived the restart"
    assert summary.selected_items == cart.items and summary.total == cart.total and summary.item_count == 1
    assert w.cart.items == cart.items

    # A new widget (a page reload) with the stored session id restores it too.
    await w.close()
    rec2 = Recorder()
    async with widget(sandbox, rec2, session_id=session_id) as w2:
        assert w2.session_id == session_id
        again: SessionSummary = await rec2.next("summary")
        assert again.selected_items == cart.items


async def test_auth_error_stops_without_a_reconnect_loop(sandbox: Sandbox) -> None:
    rec = Recorder()
    w = widget(sandbox, rec, api_key="pk_not_a_key")
    with pytest.raises(vizochok.ConnectionFailed) as failed:
        await asyncio.wait_for(w.connect(), WAIT_S)
    assert failed.value.error is not None and failed.value.error.code is ErrorCode.AUTH_ERROR
    error: WidgetError = await rec.next("error")
    assert error.code is ErrorCode.AUTH_ERROR and error.message == "The chat is unavailable. Please refresh the page."
    assert w.state is State.STOPPED
    assert w.session.poll_timeout() is None, "no timer armed: nothing will reconnect"
    assert rec.count("connect") == 0 and rec.count("error") == 1
    await w.close()


async def test_limit_codes_reach_on_error_with_the_action(start_sandbox: SandboxFactory) -> None:
    sandbox = start_sandbox({"engine": {"limits": {"user_messages_max": 1, "max_message_chars": 20}}})
    rec = Recorder()
    async with widget(sandbox, rec, user_id="shopper-7") as w:
        await ask(w, rec, "milk")
        second = w.send_message("bread")
        assert second is not None
        error = await rec.error(ErrorCode.USER_MESSAGE_LIMIT)
        assert error.reply_to == second and error.message == "You have reached the message limit."

        # The server lowered the message limit in auth_ok: the core refuses locally.
        assert w.send_message("x" * 21) is None
        error = await rec.error(ErrorCode.MESSAGE_TOO_LARGE)
        assert error.reply_to is None and "20" in (error.detail or "")
        assert w.state is State.CONNECTED


async def test_cancelling_connect_closes_the_attempt() -> None:
    # A server that accepts TCP and never answers the WebSocket handshake.
    accepted = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    rec = Recorder()
    w = vizochok.Widget(api_key="pk_x", store_id="s", server_url=f"ws://127.0.0.1:{port}/v1/ws", **rec.callbacks())
    task = asyncio.create_task(w.connect())
    await asyncio.wait_for(accepted.wait(), WAIT_S)
    assert w.state is State.CONNECTING
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert w.state is State.IDLE and w.session.poll_timeout() is None
    await w.close()
    assert not w._sockets and not w._tasks, "the socket attempt is gone"
    assert rec.count("error") == 0 and rec.count("connect") == 0
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_misuse_raises_and_rejections_return_none(sandbox: Sandbox) -> None:
    rec = Recorder()
    with pytest.raises(ValueError, match="loopback"):
        vizochok.Widget(api_key="pk", store_id="s", server_url="ws://shop.example/ws")
    with pytest.raises(TypeError, match="callable"):
        vizochok.Widget(api_key="pk", store_id="s", server_url=sandbox.url, on_error="print")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="api_key"):
        vizochok.Widget(api_key=None, store_id="s", server_url=sandbox.url)  # type: ignore[arg-type]
    async with widget(sandbox, rec, limits=vizochok.Limits(queue_capacity=1)) as w:
        with pytest.raises(ValueError):
            w.send_message("")
        with pytest.raises(TypeError):
            w.select_product({"sku": "milk"})  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            w.update_quantity("DAI-001", 0)
        first = w.send_message("milk")
        assert first is not None
        assert w.send_message("bread") is None, "queue_full: rejected, reported through on_error"
        assert (await rec.error(ErrorCode.QUEUE_FULL)).code == "queue_full"
        await rec.reply_to(first)


async def test_the_api_key_never_appears_in_reprs_errors_or_logs(
    sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    canary = "pk_canary_" + secrets.token_hex(8)
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):  # every logger, websockets' frame dumps included
        rec = Recorder()
        w = widget(sandbox, rec, api_key=canary)
        seen += [repr(w), repr(w.session), str(w.session.__repr__())]
        with pytest.raises(vizochok.ConnectionFailed) as failed:
            await w.connect()  # the sandbox refuses the unknown key
        seen += [str(failed.value), repr(failed.value), repr(failed.value.error)]
        seen += [repr(e) for e in rec.calls.get("error", [])]
        await w.close()

        # Unreachable server: socket errors, reconnects, then a cancelled connect.
        port = sandbox.port + 1 if sandbox.port < 65535 else 1
        w2 = vizochok.Widget(api_key=canary, store_id="s", server_url=f"ws://127.0.0.1:{port}/v1/ws", **rec.callbacks())
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(w2.connect(), 1.0)
        seen += [repr(w2)] + [repr(e) for e in rec.calls.get("error", [])]
        await w2.close()

        # Misuse with the key around: exception texts.
        for bad in ({"server_url": "ws://shop.example/"}, {"server_url": f"wss://{canary}@shop.example/"}, {"store_id": ""}):
            options: dict[str, Any] = {"api_key": canary, "store_id": "s", "server_url": sandbox.url, **bad}
            with pytest.raises(ValueError) as refused:
                vizochok.Widget(**options)
            seen.append(str(refused.value))
        s = vizochok.Session(api_key=canary, store_id="s", url=sandbox.url)
        s.handle_input(0, vizochok.Connect())
        s.handle_input(1, vizochok.SocketOpened(1))
        seen += [repr(o) for o in s.drain_outputs()]
        s.handle_input(2, vizochok.Text(1, f'{{"type":"oops {canary}"'))
        seen += [repr(o) for o in s.drain_outputs()]
    records = [r.getMessage() for r in caplog.records]
    assert any("websockets" in r.name for r in caplog.records), "the websockets debug log was captured"
    assert any('"api_key"' in line for line in records + seen), "the auth frame was seen (redacted)"
    leaks = [text for text in seen + records if canary in text or canary[:14] in text]
    assert leaks == []


async def test_callbacks_may_call_back_into_the_widget(sandbox: Sandbox) -> None:
    """No Rust borrow is held while a callback runs: a callback can use the
    widget (actions and getters) at once."""
    done: asyncio.Queue[CartChangedEvent] = asyncio.Queue()
    w: Optional[vizochok.Widget] = None

    def on_message(response: Response) -> None:
        assert w is not None and w.state is State.CONNECTED
        if response.products:
            assert w.select_product(response.products[0], 2) is not None

    def on_cart_changed(cart: CartChangedEvent) -> None:
        assert w is not None and w.cart.items == cart.items, "the getter sees what the callback sees"
        if cart.action == "item_selected":
            assert w.update_quantity(cart.items[0].sku, 1) is not None
        else:
            done.put_nowait(cart)

    def on_connect() -> None:
        assert w is not None and w.send_message("milk") is not None

    w = widget(sandbox, on_message=on_message, on_cart_changed=on_cart_changed, on_connect=on_connect)
    async with w:
        cart = await asyncio.wait_for(done.get(), WAIT_S)
    assert cart.action == "quantity_updated" and cart.items[0].quantity == 1
