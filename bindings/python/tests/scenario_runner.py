"""Replays the shared scenario files (``scenarios/*.json``, format in
``docs/scenarios.md``) through the public ``vizochok.Widget`` with a scripted
transport, normalizing what the app's callbacks and the transport see
exactly like the Rust runner (``crates/vizochok-testkit``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Callable, Optional

import vizochok

API_KEY = "pk_scenario"
STORE_ID = "scenario-store"
URL = "ws://127.0.0.1:8787/v1/ws"
#: A timer that fires this often in one ``advance`` is stuck.
MAX_FIRES_PER_ADVANCE = 10_000
#: The widget calls that return nothing (every other one returns an id or ``None``).
RETURN_NOTHING = {"connect", "disconnect", "destroy", "network_online", "reset"}

Json = Any


class AppThrew(Exception):
    """What an app callback raises when the scenario says it throws."""


def _map_strings(value: Json, f: Callable[[str], Optional[str]]) -> Json:
    if isinstance(value, str):
        replaced = f(value)
        return value if replaced is None else replaced
    if isinstance(value, list):
        return [_map_strings(v, f) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, f) for k, v in value.items()}
    return value


def matches(expected: Json, actual: Json) -> bool:
    """``"*"`` matches anything; numbers compare as numbers; the rest exactly."""
    if expected == "*":
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return float(expected) == float(actual)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(matches(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(matches(v, actual[k]) for k, v in expected.items())
    return type(expected) is type(actual) and bool(expected == actual)


def error_data(error: vizochok.WidgetError) -> Json:
    data: dict[str, Json] = {"code": error.code.value}
    if error.reply_to is not None:
        data["reply_to"] = error.reply_to
    return data


def ui(event: vizochok.Event, blocks: bool) -> Json:
    """A UI event (``on_message``) in the normalized form."""
    match event:
        case vizochok.Typing(reply_to):
            return {"ui": "typing", "data": {} if reply_to is None else {"reply_to": reply_to}}
        case vizochok.Delta(message_id, reply_to, text):
            return {"ui": "delta", "data": {"message_id": message_id, "reply_to": reply_to, "text": text}}
        case vizochok.Response(reply, parsed):
            data: dict[str, Json] = {"message_id": reply.message_id, "reply_to": reply.reply_to, "text": reply.text,
                    "products": [p.to_dict() for p in reply.products]}  # fmt: skip
            if reply.cancelled:
                data["cancelled"] = True
            if reply.suggestions:
                data["suggestions"] = reply.suggestions
            if blocks:
                data["blocks"] = [b.to_dict() for b in parsed]
            return {"ui": "response", "data": data}
        case vizochok.UserMessage(id, text):
            return {"ui": "user_message", "data": {"id": id, "text": text}}
        case vizochok.HistoryReplaced(entries):
            return {"ui": "history", "data": [e.to_dict() for e in entries]}
        case vizochok.Acknowledged(id):
            return {"ui": "ack", "data": {"id": id}}
    raise AssertionError(f"not a UI event: {event!r}")


class Recording(logging.Handler):
    """What the widget did, in order, with the scripted clock and the app's
    rules; also the handler of the ``vizochok`` logger."""

    def __init__(self, scenario: dict[str, Json]) -> None:
        super().__init__(logging.ERROR)
        observe = scenario.get("observe", [])
        self.observe_timer, self.observe_save, self.observe_blocks = (k in observe for k in ("timer", "save", "blocks"))
        self.now = 0
        self.armed: Optional[int] = None
        self.outputs: list[Json] = []
        self.names: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        self.throws: set[str] = set()
        self.calls: dict[str, Json] = {}

    def emit(self, record: logging.LogRecord) -> None:
        self.outputs.append({"log": "error"})

    def substitute(self, value: Json) -> Json:
        return _map_strings(value, lambda s: self.names.get(s[1:]) if s.startswith("$") else None)

    def since(self, start: int) -> list[Json]:
        """The outputs from ``start`` on, with real ids named back (``"$m1"``).

        Python's actions return ``None`` for a refused action, without the
        code: a ``rejected`` outcome takes the code of the first ``on_error``
        after it, and there must be one."""
        for i, output in enumerate(self.outputs):
            if output == {"rejected": None}:
                errors = (o["data"]["code"] for o in self.outputs[i + 1 :] if o.get("on") == "error")
                output["rejected"] = next(errors, "(no on_error followed the refusal)")
        return [_map_strings(v, self.ids.get) for v in self.outputs[start:]]

    def outcome(self, step: dict[str, Json], call: Callable[[], Optional[str]]) -> Optional[Json]:
        """Runs an action; its normalized outcome, if it has one (an accepted id is named)."""
        try:
            result = call()
        except vizochok.WidgetClosedError:
            return {"destroyed": True}
        except (ValueError, TypeError):
            return {"invalid": True}
        if result is not None and "as" in step:
            self.names[step["as"]] = result
            self.ids[result] = "$" + step["as"]
        if result is None and step["do"] == "stop":
            return {"stopped": None}
        if result is None and step["do"] not in RETURN_NOTHING:
            return {"rejected": None}
        return None

    def event(self, value: Json, callback: str) -> None:
        """A callback ran: record it, then do what the scenario says."""
        self.outputs.append(value)
        if callback in self.throws:
            raise AppThrew(f"the app's {callback} callback threw")
        if callback in self.calls:
            self.app_call(self.calls.pop(callback))

    app_call: Callable[[dict[str, Json]], None]


class Scripted:
    """The transport: the network and the clock, played by the recording."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.socket: Optional[tuple[int, vizochok.Reports]] = None
        self.timer: Optional[vizochok.Reports] = None

    def now(self) -> int:
        return self.recording.now

    def open(self, socket: int, url: str, reports: vizochok.Reports) -> None:
        self.socket = (socket, reports)
        self.recording.outputs.append({"open": True})

    def send(self, socket: int, text: str) -> None:
        self.recording.outputs.append({"send": json.loads(text)})

    def close(self, socket: int, code: int, reason: str) -> None:
        self.recording.outputs.append({"close": code})

    def set_timer(self, deadline: Optional[int], reports: vizochok.Reports) -> None:
        self.timer = reports
        self.recording.armed = deadline
        if self.recording.observe_timer:
            self.recording.outputs.append({"timer": deadline})


class Store:
    """The session store: the scenario's saved id, and every save recorded."""

    def __init__(self, recording: Recording, saved: Optional[str]) -> None:
        self.recording, self.saved = recording, saved

    def load(self) -> Optional[str]:
        return self.saved

    def save(self, session_id: Optional[str]) -> None:
        if self.recording.observe_save:
            self.recording.outputs.append({"save": session_id})


class Runner:
    """One scenario being replayed through a widget."""

    def __init__(self, scenario: dict[str, Json]) -> None:
        self.rec = rec = Recording(scenario)
        rec.app_call = self.call_from_callback
        self.transport = Scripted(rec)
        config = scenario.get("config") or {}
        on = rec.event
        self.widget = vizochok.Widget(
            api_key=API_KEY, store_id=STORE_ID, server_url=URL, transport=self.transport,
            seed=config.get("seed", 1), language=config.get("language", "en"),
            session_store=Store(rec, config.get("session_id")),
            user_id=config.get("user_id"), user_token=config.get("user_token"),
            on_connect=lambda: on({"on": "connect"}, "connect"),
            on_disconnect=lambda: on({"on": "disconnect"}, "disconnect"),
            on_cart_changed=lambda c: on({"on": "cart_changed", "data": c.to_dict()}, "cart_changed"),
            on_product_click=lambda p: on({"on": "product_click", "data": p.to_dict()}, "product_click"),
            on_session_complete=lambda s: on({"on": "session_complete", "data": s.to_dict()}, "session_complete"),
            on_error=lambda e: on({"on": "error", "data": error_data(e)}, "error"),
            on_state_change=lambda s: on({"state": s.value}, "state"),
            on_message=lambda e: on(ui(e, rec.observe_blocks), "message"),
        )  # fmt: skip

    def act(self, step: dict[str, Json]) -> Optional[Callable[[], Optional[str]]]:
        """The widget call of a ``do`` step, if it is one."""
        w, what = self.widget, step["do"]
        names = self.rec.substitute
        calls: dict[str, Callable[[], Any]] = {
            "connect": w.connect,
            "disconnect": w.disconnect,
            "destroy": w.close,
            "network_online": w.network_online,
            "send_message": lambda: w.send_message(step["text"]),
            "select_product": lambda: w.select_product(
                vizochok.ProductItem.from_dict(step["product"]), step.get("quantity")
            ),
            "update_quantity": lambda: w.update_quantity(step["sku"], step["quantity"]),
            "remove_item": lambda: w.remove_item(step["sku"]),
            "clear_cart": w.clear_cart,
            "set_context": lambda: w.set_context(vizochok.PageContext.from_dict(names(step["context"]))),
            "stop": w.stop,
            "feedback": lambda: w.feedback(names(step["message_id"]), step["rating"], step.get("comment")),
            "reset": w.reset,
        }
        return calls.get(what)

    def call_from_callback(self, step: dict[str, Json]) -> None:
        call = self.act(step)
        assert call is not None, f"not a call: {step}"
        if (value := self.rec.outcome(step, call)) is not None:
            self.rec.outputs.append(value)

    def step(self, step: dict[str, Json]) -> list[Json]:
        rec = self.rec
        start = len(rec.outputs)
        if "recv" in step:
            self.on_socket(lambda s, r: r.text(s, json.dumps(rec.substitute(step["recv"]), ensure_ascii=False)))
        elif "recv_text" in step:
            self.on_socket(lambda s, r: r.text(s, step["recv_text"]))
        elif "advance" in step:
            self.advance(int(step["advance"]))
        elif "read" in step:
            rec.outputs.append({"read": self.read(step["read"])})
        elif "app" in step:
            if step["app"] == "throws":
                rec.throws.add(step["on"])
            else:
                rec.calls[step["on"]] = step["then"]
        elif (call := self.act(step)) is not None:
            if (value := rec.outcome(step, call)) is not None:
                rec.outputs.insert(start, value)
        elif step["do"] == "socket_opened":
            self.on_socket(lambda s, r: r.opened(s))
        elif step["do"] == "binary":
            self.on_socket(lambda s, r: r.binary(s, int(step["len"])))
        elif step["do"] == "socket_closed":
            self.on_socket(lambda s, r: r.ended(s, step.get("code"), ""))
        elif step["do"] == "socket_error":
            self.on_socket(lambda s, r: r.ended(s, None, "refused"))
        elif step["do"] == "timer_fires":
            self.fire()
        else:
            raise AssertionError(f"unknown step {step}")
        return rec.since(start)

    def on_socket(self, report: Callable[[int, vizochok.Reports], None]) -> None:
        assert self.transport.socket is not None, "a socket was opened"
        report(*self.transport.socket)

    def fire(self) -> None:
        assert self.transport.timer is not None, "a timer was set"
        self.transport.timer.timer_fired()

    def advance(self, ms: int) -> None:
        rec = self.rec
        target = rec.now + ms
        for _ in range(MAX_FIRES_PER_ADVANCE):
            if rec.armed is None or rec.armed > target:
                rec.now = target
                return
            rec.now, rec.armed = max(rec.now, rec.armed), None
            self.fire()
        raise AssertionError(f"the timer fired {MAX_FIRES_PER_ADVANCE} times in one advance: stuck")

    def read(self, what: str) -> Json:
        w = self.widget
        reads: dict[str, Callable[[], Json]] = {
            "pending_actions": lambda: [a.to_dict() for a in w.pending_actions],
            "state": lambda: w.state.value,
            "session_id": lambda: w.session_id,
            "cart": lambda: w.cart.to_dict(),
        }
        return reads[what]()


def run_file(path: Path) -> int:
    """Replays one file; raises AssertionError at the first mismatch."""
    scenario = json.loads(path.read_text(encoding="utf-8"))
    name = scenario["name"]
    assert scenario.get("covers"), f"{path.name}: covers is empty"
    runner = Runner(scenario)
    logger = logging.getLogger("vizochok")
    logger.addHandler(runner.rec)
    try:
        for i, step in enumerate(scenario["steps"]):
            actual = runner.step(step)
            expected = step["expect"]
            assert matches(expected, actual), (
                f"{path.name}: {name}\n  step {i}: {json.dumps(step)}\n"
                f"  expected: {json.dumps(expected)}\n  actual:   {json.dumps(actual)}"
            )
    finally:
        logger.removeHandler(runner.rec)
    return len(scenario["steps"])
