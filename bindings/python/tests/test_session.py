"""Scripted, I/O-free tests of ``vizochok.Session``: the run loop, typed
outputs, actions, getters and misuse, as a Python host sees them."""

from __future__ import annotations

import json
from typing import Any

import pytest

import vizochok
from vizochok import (
    ActionKind,
    ActionRejected,
    CartAction,
    CartChanged,
    Connect,
    Connected,
    ErrorCode,
    ErrorOccurred,
    OpenSocket,
    ProductClicked,
    ProductItem,
    SendText,
    Session,
    SessionDestroyed,
    SocketOpened,
    State,
    StateChanged,
    Text,
    Timeout,
)

URL = "ws://127.0.0.1:8787/v1/ws"
MILK = ProductItem(sku="milk-1", name="Milk 2.5%", price=44.9, unit="pcs", quantity_step=1, brand="Farm")


def session(**kwargs: Any) -> Session:
    options: dict[str, Any] = {"api_key": "pk_test", "store_id": "store", "url": URL, "seed": 7}
    options.update(kwargs)
    return Session(**options)


def sent(outputs: list[vizochok.Output]) -> list[dict[str, Any]]:
    return [json.loads(o.text) for o in outputs if isinstance(o, SendText)]


def connected(s: Session, now: int = 0) -> int:
    """Runs the handshake; returns the socket id."""
    s.handle_input(now, Connect())
    opened = [o for o in s.drain_outputs() if isinstance(o, OpenSocket)]
    assert len(opened) == 1
    socket = opened[0].socket
    s.handle_input(now + 1, SocketOpened(socket))
    s.drain_outputs()
    s.handle_input(now + 2, Text(socket, '{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}'))
    assert Connected() in s.drain_outputs()
    return socket


def test_the_run_loop_from_connect_to_heartbeat() -> None:
    s = session(language="uk", user_id="shopper-1")
    assert s.state is State.IDLE and s.poll_output() is None and s.poll_timeout() is None

    s.handle_input(100, Connect())
    assert s.poll_output() == StateChanged(State.CONNECTING)
    open_request = s.poll_output()
    assert isinstance(open_request, OpenSocket) and open_request.url == URL
    assert s.poll_output() is None
    assert s.poll_timeout() == 100 + 10_000, "the socket-open timer"

    s.handle_input(150, SocketOpened(open_request.socket))
    outputs = s.drain_outputs()
    assert outputs[0] == StateChanged(State.AUTHENTICATING)
    (auth,) = sent(outputs)
    assert auth["type"] == "auth" and auth["api_key"] == "pk_test" and auth["store_id"] == "store"
    assert auth["user_id"] == "shopper-1" and auth["language"] == "uk"
    assert auth["sdk"]["name"] == "vizochok-python" and auth["sdk"]["version"] == vizochok.__version__

    s.handle_input(160, Text(open_request.socket, '{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}'))
    assert s.drain_outputs() == [StateChanged(State.CONNECTED), Connected()]
    assert s.state == "connected" and s.session_id == "s1"

    message_id = s.send_message(200, "молоко")
    (frame,) = sent(s.drain_outputs())
    assert frame == {"type": "message", "id": message_id, "text": "молоко"}
    assert s.pending_actions == [vizochok.PendingAction(message_id, ActionKind.MESSAGE, True)]

    deadline = s.poll_timeout()
    assert deadline == 160 + 25_000, "heartbeat after 25 s without an inbound frame"
    s.handle_input(deadline, Timeout())
    (ping,) = sent(s.drain_outputs())
    assert ping["type"] == "ping"


def test_a_cart_change_arrives_typed_with_the_seed_fields_and_updates_the_cart() -> None:
    s = session()
    socket = connected(s)
    frame = {
        "type": "cart_changed", "seq": 1, "action": "item_selected", "sku": "milk-1", "name": "Milk",
        "quantity": 2, "price": 44.9,
        "items": [{"sku": "milk-1", "name": "Milk", "price": 44.9, "promo_price": None, "brand": "Farm", "quantity": 2}],
        "total": 89.8,
    }  # fmt: skip
    s.handle_input(10, Text(socket, json.dumps(frame)))
    (event,) = s.drain_outputs()
    assert isinstance(event, CartChanged)
    cart = event.cart
    assert cart.action is CartAction.ITEM_SELECTED and cart.action == "item_selected"
    assert (cart.sku, cart.name, cart.quantity, cart.price, cart.total) == ("milk-1", "Milk", 2, 44.9, 89.8)
    assert cart.items == [vizochok.CartItem("milk-1", "Milk", 44.9, None, "Farm", 2)]
    assert s.cart == vizochok.Cart(cart.items, 89.8)
    assert s.last_seq == 1

    # A duplicate (same seq) never rolls the cart back or fires twice.
    s.handle_input(11, Text(socket, json.dumps({**frame, "items": [], "total": 0})))
    assert s.drain_outputs() == [] and s.cart.total == 89.8


def test_select_product_fires_the_click_and_sends_one_step_by_default() -> None:
    s = session()
    connected(s)
    action_id = s.select_product(5, MILK)
    click, send = s.drain_outputs()
    assert click == ProductClicked(ProductItem("milk-1", "Milk 2.5%", 44.9, "pcs", 1, 1, "Farm", None, None))
    assert json.loads(send.text) == {"type": "select_item", "id": action_id, "sku": "milk-1", "quantity": 1}  # type: ignore[attr-defined]
    assert s.select_product(6, MILK, 3)
    assert s.update_quantity(7, "milk-1", 2.0) and s.remove_item(8, "milk-1") and s.clear_cart(9)
    kinds = [a.kind for a in s.pending_actions]
    assert kinds == ["select_item", "select_item", "update_quantity", "remove_item", "clear_cart"]


def test_misuse_raises_clear_exceptions() -> None:
    s = session()
    connected(s)
    s.select_product(1, MILK)  # teaches the core milk-1's quantity_step (1)
    with pytest.raises(ValueError, match="quantity_step"):
        s.update_quantity(2, "milk-1", 2.5)
    with pytest.raises(ValueError, match="positive"):
        s.update_quantity(2, "milk-1", -1)
    with pytest.raises(ValueError, match="empty"):
        s.send_message(3, "   ")
    with pytest.raises(TypeError, match="ProductItem"):
        s.select_product(4, {"sku": "milk-1"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="number"):
        s.update_quantity(5, "milk-1", "2")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        s.update_quantity(5, "milk-1", True)
    with pytest.raises(TypeError):
        s.send_message(6, 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="vizochok input"):
        s.handle_input(7, "connect")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        s.handle_input(7.5, Connect())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="str"):
        s.handle_input(8, Text(1, b"{}"))  # type: ignore[arg-type]


def test_a_quantity_of_an_unknown_sku_is_only_checked_for_sign() -> None:
    """Steps are learned from product cards; an unknown SKU has none yet."""
    s = session()
    connected(s)
    assert s.update_quantity(1, "unknown-sku", 2.5)


def test_bad_configs_are_refused_before_any_io() -> None:
    with pytest.raises(ValueError, match="loopback"):
        session(url="ws://shop.example/v1/ws")
    with pytest.raises(ValueError, match="api_key is required"):
        session(api_key=" ")
    with pytest.raises(ValueError, match="store_id is required"):
        session(store_id="")
    with pytest.raises(ValueError, match="credentials"):
        session(url="wss://user:pass@shop.example/v1/ws")
    with pytest.raises(ValueError, match="queue_capacity"):
        session(limits=vizochok.Limits(queue_capacity=0))
    with pytest.raises(TypeError):
        session(api_key=None)
    assert session(url="wss://shop.example/v1/ws").state is State.IDLE


def test_rejected_actions_raise_with_the_error_and_also_emit_it() -> None:
    s = session(limits=vizochok.Limits(queue_capacity=1))
    s.send_message(0, "first")  # queued while not connected
    with pytest.raises(ActionRejected) as rejected:
        s.send_message(1, "second")
    assert rejected.value.error.code is ErrorCode.QUEUE_FULL
    (emitted,) = s.drain_outputs()
    assert isinstance(emitted, ErrorOccurred) and emitted.error.code == "queue_full"
    assert emitted.error.message == "Too many pending actions. Please wait."

    s = session()
    with pytest.raises(ActionRejected) as rejected:
        s.send_message(0, "x" * 2_001)
    assert rejected.value.error.code is ErrorCode.MESSAGE_TOO_LARGE
    assert "2001" in (rejected.value.error.detail or "")


def test_errors_are_localized_and_the_language_can_change() -> None:
    s = session(language="uk")
    with pytest.raises(ActionRejected) as rejected:
        s.send_message(0, "x" * 2_001)
    assert rejected.value.error.message == "Повідомлення задовге."
    s.language = "en"
    assert s.language == "en"
    with pytest.raises(ActionRejected) as rejected:
        s.send_message(0, "x" * 2_001)
    assert rejected.value.error.message == "The message is too long."
    assert vizochok.error_message("auth_error", "uk") == "Чат недоступний. Оновіть сторінку."
    assert vizochok.ui_text("send", "uk") == "Надіслати" and vizochok.ui_text("nope") is None
    with pytest.raises(ValueError):
        vizochok.error_message("nope")


def test_destroy_refuses_everything_after() -> None:
    s = session()
    connected(s)
    s.handle_input(5, vizochok.Destroy())
    outputs = s.drain_outputs()
    assert isinstance(outputs[0], vizochok.CloseSocket) and StateChanged(State.DESTROYED) in outputs
    with pytest.raises(SessionDestroyed):
        s.send_message(6, "hi")
    with pytest.raises(SessionDestroyed):
        s.reset(6)
    s.handle_input(7, Connect())
    assert s.drain_outputs() == [] and s.state is State.DESTROYED


def test_seeds_come_from_the_os_unless_given() -> None:
    a, b = session(seed=None), session(seed=None)
    id_a, id_b = a.send_message(0, "hi"), b.send_message(0, "hi")
    assert id_a.split("-")[0] != id_b.split("-")[0], "two clients, two id prefixes"
    assert session(seed=3).send_message(0, "hi") == session(seed=3).send_message(0, "hi"), "a seed replays"


def test_unknown_frames_are_counted_and_bad_frames_reported_not_raised() -> None:
    s = session()
    socket = connected(s)
    s.handle_input(10, Text(socket, '{"type":"shiny_new_frame","seq":1}'))
    assert s.drain_outputs() == [] and s.unknown_frames == 1
    s.handle_input(11, Text(socket, "{not json"))
    (error,) = s.drain_outputs()
    assert isinstance(error, ErrorOccurred) and error.error.code is ErrorCode.WS_ERROR
    assert error.error.detail and "malformed" in error.error.detail
    s.handle_input(12, vizochok.Binary(socket, 10))
    (error,) = s.drain_outputs()
    assert isinstance(error, ErrorOccurred) and "binary" in (error.error.detail or "")
    assert s.state is State.CONNECTED


def test_timers_are_configurable() -> None:
    s = session(timers=vizochok.Timers(socket_open_ms=50))
    s.handle_input(0, Connect())
    s.drain_outputs()
    assert s.poll_timeout() == 50
    s.handle_input(50, Timeout())
    outputs = s.drain_outputs()
    errors = [o.error.code for o in outputs if isinstance(o, ErrorOccurred)]
    assert errors == [ErrorCode.WS_ERROR] and s.state is State.RECONNECTING
    assert s.reconnect_attempts == 1


def test_enums_are_str_enums_with_the_seed_spellings() -> None:
    assert [c.value for c in ErrorCode][:3] == ["rate_limit_exceeded", "user_message_limit", "user_conversation_limit"]
    assert len(ErrorCode) == 18 and ErrorCode("auth_error") is ErrorCode.AUTH_ERROR
    assert isinstance(ErrorCode.AUTH_ERROR, str) and str(ErrorCode.AUTH_ERROR) == "auth_error"
    assert json.dumps({"code": ErrorCode.QUEUE_FULL}) == '{"code": "queue_full"}'
    assert {a.value for a in CartAction} == {"item_selected", "item_removed", "quantity_updated", "cart_cleared"}


def test_outputs_match_with_pattern_matching() -> None:
    s = session()
    connected(s)
    s.select_product(1, MILK, 2)
    seen = []
    for output in s.drain_outputs():
        match output:
            case ProductClicked(product) if product.quantity == 2:
                seen.append("click")
            case SendText(text) if '"select_item"' in text:
                seen.append("send")
    assert seen == ["click", "send"]
