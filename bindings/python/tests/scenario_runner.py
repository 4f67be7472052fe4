"""Replays the shared scenario files (``scenarios/*.json``, format in
``docs/scenarios.md``) through the public ``vizochok.Session`` API and
normalizes its outputs exactly like the Rust reference runner
(``crates/vizochok-core/tests/scenarios.rs``)."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Optional

import vizochok

API_KEY = "pk_scenario"
STORE_ID = "scenario-store"
URL = "ws://127.0.0.1:8787/v1/ws"
#: An ``advance`` that fires this many timeouts is stuck.
MAX_TIMEOUTS_PER_ADVANCE = 10_000

Json = Any


def _plain(value: Any) -> Json:
    """A dataclass / enum / list as plain JSON values, every field kept."""
    if isinstance(value, Enum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _without_none(data: dict[str, Json], *optional: str) -> dict[str, Json]:
    """Drops the optional fields that are ``None`` (serde's ``skip_serializing_if``)."""
    return {k: v for k, v in data.items() if not (k in optional and v is None)}


def product(p: vizochok.ProductItem) -> Json:
    return _without_none(_plain(p), "quantity")


def history_entry(h: vizochok.HistoryEntry) -> Json:
    data = {"role": h.role.value, "text": h.text}
    if h.products is not None:
        data["products"] = [product(p) for p in h.products]
    return data


def normalize(output: vizochok.Output) -> Json:
    """One output in the normalized form of docs/scenarios.md."""
    match output:
        case vizochok.OpenSocket():
            return {"open": True}
        case vizochok.SendText(text):
            return {"send": json.loads(text)}
        case vizochok.CloseSocket(code=code):
            return {"close": code}
        case vizochok.Connected():
            return {"on": "connect"}
        case vizochok.Disconnected():
            return {"on": "disconnect"}
        case vizochok.CartChanged(cart):
            data = _without_none(_plain(cart), "sku", "name", "quantity", "price")
            return {"on": "cart_changed", "data": data}
        case vizochok.ProductClicked(p):
            return {"on": "product_click", "data": product(p)}
        case vizochok.SessionCompleted(summary):
            return {"on": "session_complete", "data": _plain(summary)}
        case vizochok.ErrorOccurred(error):
            data = {"code": error.code.value}
            if error.reply_to is not None:
                data["reply_to"] = error.reply_to
            return {"on": "error", "data": data}
        case vizochok.StateChanged(state):
            return {"state": state.value}
        case vizochok.Typing(reply_to):
            return {"ui": "typing", "data": {} if reply_to is None else {"reply_to": reply_to}}
        case vizochok.Delta(message_id, reply_to, text):
            return {"ui": "delta", "data": {"message_id": message_id, "reply_to": reply_to, "text": text}}
        case vizochok.Response(message_id, reply_to, text, products):
            data = {"message_id": message_id, "reply_to": reply_to, "text": text}
            data["products"] = [product(p) for p in products]
            return {"ui": "response", "data": data}
        case vizochok.HistoryReplaced(entries):
            return {"ui": "history", "data": [history_entry(h) for h in entries]}
        case vizochok.Acknowledged(id):
            return {"ui": "ack", "data": {"id": id}}
    raise AssertionError(f"unknown output {output!r}")


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


def _map_strings(value: Json, f: Callable[[str], Optional[str]]) -> Json:
    if isinstance(value, str):
        replaced = f(value)
        return value if replaced is None else replaced
    if isinstance(value, list):
        return [_map_strings(v, f) for v in value]
    if isinstance(value, dict):
        return {k: _map_strings(v, f) for k, v in value.items()}
    return value


class Runner:
    """One scenario being replayed."""

    def __init__(self, config: dict[str, Json]) -> None:
        self.session = vizochok.Session(
            api_key=API_KEY,
            store_id=STORE_ID,
            url=URL,
            seed=config.get("seed", 1),
            language=config.get("language") or "en",
            session_id=config.get("session_id"),
            last_seq=config.get("last_seq") or 0,
            user_id=config.get("user_id"),
        )
        self.now = 0
        self.socket = 0
        self.names: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def step(self, step: dict[str, Json]) -> list[Json]:
        out: list[Json] = []
        s = self.session
        if "recv" in step:
            frame = _map_strings(step["recv"], lambda t: self.names.get(t[1:]) if t.startswith("$") else None)
            s.handle_input(self.now, vizochok.Text(self.socket, json.dumps(frame, separators=(",", ":"), ensure_ascii=False)))
        elif "recv_text" in step:
            s.handle_input(self.now, vizochok.Text(self.socket, step["recv_text"]))
        elif "advance" in step:
            target = self.now + int(step["advance"])
            fired = 0
            while (deadline := s.poll_timeout()) is not None and deadline <= target:
                self.now = max(self.now, deadline)
                s.handle_input(self.now, vizochok.Timeout())
                self.drain(out)
                fired += 1
                assert fired <= MAX_TIMEOUTS_PER_ADVANCE, f"poll_timeout stuck at {deadline} (now {self.now})"
            self.now = target
        elif "do" in step:
            self.act(step["do"], step, out)
        else:
            raise AssertionError(f"unknown step {step}")
        self.drain(out)
        return out

    def act(self, action: str, step: dict[str, Json], out: list[Json]) -> None:
        s, now = self.session, self.now
        inputs: dict[str, Callable[[], vizochok.Input]] = {
            "connect": vizochok.Connect,
            "socket_opened": lambda: vizochok.SocketOpened(self.socket),
            "binary": lambda: vizochok.Binary(self.socket, int(step["len"])),
            "socket_closed": lambda: vizochok.SocketClosed(self.socket, step.get("code"), ""),
            "socket_error": lambda: vizochok.SocketError(self.socket, "refused"),
            "network_online": vizochok.NetworkOnline,
            "close": vizochok.Close,
            "destroy": vizochok.Destroy,
        }
        if action in inputs:
            s.handle_input(now, inputs[action]())
            return
        actions: dict[str, Callable[[], Optional[str]]] = {
            "send_message": lambda: s.send_message(now, step["text"]),
            "select_product": lambda: s.select_product(
                now, vizochok.ProductItem(**step["product"]), step.get("quantity")
            ),
            "update_quantity": lambda: s.update_quantity(now, step["sku"], step["quantity"]),
            "remove_item": lambda: s.remove_item(now, step["sku"]),
            "clear_cart": lambda: s.clear_cart(now),
            "reset": lambda: s.reset(now),
        }
        if action not in actions:
            raise AssertionError(f"unknown action {action!r}")
        try:
            action_id = actions[action]()
        except vizochok.ActionRejected as rejected:
            out.append({"rejected": rejected.error.code.value})
        except vizochok.SessionDestroyed:
            out.append({"destroyed": True})
        except ValueError:
            out.append({"invalid": True})
        else:
            if action_id and "as" in step:
                self.names[step["as"]] = action_id
                self.ids[action_id] = "$" + step["as"]

    def drain(self, out: list[Json]) -> None:
        while (output := self.session.poll_output()) is not None:
            if isinstance(output, vizochok.OpenSocket):
                self.socket = output.socket
            out.append(_map_strings(normalize(output), self.ids.get))


def run_file(path: Path) -> int:
    """Replays one file; raises AssertionError at the first mismatch."""
    scenario = json.loads(path.read_text(encoding="utf-8"))
    name = scenario["name"]
    assert scenario.get("covers"), f"{path.name}: covers is empty"
    runner = Runner(scenario.get("config") or {})
    for i, step in enumerate(scenario["steps"]):
        actual = runner.step(step)
        expected = step["expect"]
        assert matches(expected, actual), (
            f"{path.name}: {name}\n  step {i}: {json.dumps(step)}\n"
            f"  expected: {json.dumps(expected)}\n  actual:   {json.dumps(actual)}"
        )
    return len(scenario["steps"])
