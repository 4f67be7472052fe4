"""Per-frame dispatch cost: ``vizochok.Widget`` against pure Python.

Not a test: a measurement for docs/performance.md. Feeds the same server
frames (a realistic mix: typing, streamed deltas, a response with six
product cards and a summary, a cart change with three items, an ack) to

1. ``vizochok.Widget`` with a transport that does no I/O: each frame goes
   in through ``Reports.text``; the Rust driver parses, validates and
   applies the protocol rules (seq order, acks, cart state), hands each
   event out as JSON, and the widget turns it into the generated types and
   calls the app's callback;
2. pure Python, typed: ``json.loads`` + a dict of handlers by ``type`` that
   checks ``seq`` and builds the same generated types (no validation, no rules);
3. pure Python, untyped: ``json.loads`` + the dict dispatch, handing the
   dicts on as they are (the floor for any Python client).

Run: ``python bench/bench_dispatch.py [--frames N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any, Callable, Optional

import vizochok
from vizochok import CartChangedEvent, Reply, SessionSummary

PRODUCTS = [
    {"sku": f"DAI-00{i}", "name": f"Halychyna milk 2.{i}% 870 g", "price": 44.9 + i, "unit": "pcs",
     "quantity_step": 1, "brand": "Галичина", "image_url": f"/images/DAI-00{i}.svg", "promo_price": None}
    for i in range(1, 7)
]  # fmt: skip
ITEMS = [
    {"sku": f"DAI-00{i}", "name": f"Halychyna milk 2.{i}% 870 g", "price": 44.9 + i, "promo_price": None,
     "brand": "Галичина", "quantity": i}
    for i in range(1, 4)
]  # fmt: skip


def conversation(first_seq: int, n: int) -> list[dict[str, Any]]:
    """One exchange: 12 frames from `typing` to the `cart_changed`."""
    frames: list[dict[str, Any]] = [{"type": "ack", "id": f"m{n}"}, {"type": "typing", "seq": 0, "reply_to": f"m{n}"}]
    text = "Here is what I found: six kinds of milk, from 44.90 to 58.40 UAH. To add one, say e.g. add 1."
    for i in range(8):
        frames.append({"type": "delta", "seq": 0, "message_id": f"r{n}", "reply_to": f"m{n}", "text": text[i * 12 : (i + 1) * 12]})
    summary = {"selected_items": ITEMS, "total": 281.4, "item_count": 3}
    frames.append({"type": "response", "seq": 0, "message_id": f"r{n}", "reply_to": f"m{n}", "text": text,
                   "products": PRODUCTS, "summary": summary})  # fmt: skip
    frames.append({"type": "cart_changed", "seq": 0, "action": "item_selected", "sku": "DAI-001",
                   "name": ITEMS[0]["name"], "quantity": 1, "price": 45.9, "items": ITEMS, "total": 281.4})  # fmt: skip
    seq = first_seq
    for frame in frames:
        if "seq" in frame:
            frame["seq"] = seq
            seq += 1
    return frames


def frames(count: int) -> list[str]:
    out: list[str] = []
    n = 0
    while len(out) < count:
        out += [json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in conversation(1 + n * 11, n)]
        n += 1
    return out[:count]


# ----- 1. through vizochok.Widget ----------------------------------------------


class NoIO:
    """A transport that keeps the reports and does nothing else."""

    reports: vizochok.Reports

    def now(self) -> int:
        return 3

    def open(self, socket: int, url: str, reports: vizochok.Reports) -> None:
        self.socket, self.reports = socket, reports

    def send(self, socket: int, text: str) -> None:
        pass

    def close(self, socket: int, code: int, reason: str) -> None:
        pass

    def set_timer(self, deadline: Optional[int], reports: vizochok.Reports) -> None:
        pass


def run_widget(texts: list[str]) -> tuple[int, int]:
    events: list[Any] = []
    transport = NoIO()
    widget = vizochok.Widget(api_key="pk_bench", store_id="bench", server_url="ws://127.0.0.1:8787/v1/ws",
                             transport=transport, on_message=events.append, on_cart_changed=events.append,
                             on_session_complete=events.append)  # fmt: skip
    widget.connect()
    transport.reports.opened(transport.socket)
    text = transport.reports.text
    text(transport.socket, '{"type":"auth_ok","session_id":"s1","restored":false,"replay":false}')
    events.clear()
    socket = transport.socket
    start = time.process_time_ns()
    for frame in texts:
        text(socket, frame)
    elapsed = time.process_time_ns() - start
    widget.close()
    return elapsed, len(events)


# ----- 2. and 3. pure Python ------------------------------------------------------


class PurePython:
    """The least a pure-Python client does per frame, with typed results."""

    def __init__(self, typed: bool) -> None:
        self.last_seq = 0
        self.out: list[Any] = []
        self.handlers: dict[str, Callable[[dict[str, Any]], None]]
        if typed:
            self.handlers = {
                "ack": lambda f: None,  # like the core: an ack for an action not in flight changes nothing
                "typing": lambda f: self.out.append(vizochok.Typing(f.get("reply_to"))),
                "delta": lambda f: self.out.append(vizochok.Delta(f["message_id"], f["reply_to"], f["text"])),
                "response": self.response,
                "cart_changed": lambda f: self.out.append(vizochok.CartChanged(CartChangedEvent.from_dict(f))),
            }
        else:
            self.handlers = {name: self.out.append for name in ("typing", "delta", "response", "cart_changed")}

    def response(self, f: dict[str, Any]) -> None:
        self.out.append(vizochok.Response(Reply.from_dict(f), []))
        if (s := f.get("summary")) is not None:
            self.out.append(vizochok.SessionCompleted(SessionSummary.from_dict(s)))

    def feed(self, text: str) -> None:
        frame = json.loads(text)
        seq = frame.get("seq")
        if seq is not None:
            if seq <= self.last_seq:
                return
            self.last_seq = seq
        handler = self.handlers.get(frame["type"])
        if handler is not None:
            handler(frame)


def run_pure(texts: list[str], typed: bool) -> tuple[int, int]:
    client = PurePython(typed)
    outputs = 0
    start = time.process_time_ns()
    for text in texts:
        client.feed(text)
        outputs += len(client.out)
        client.out.clear()
    return time.process_time_ns() - start, outputs


def measure(name: str, run: Callable[[list[str]], tuple[int, int]], texts: list[str], rounds: int) -> tuple[str, float, int]:
    run(texts[:100])  # warm up
    times = []
    outputs = 0
    for _ in range(rounds):
        elapsed, outputs = run(texts)
        times.append(elapsed / len(texts))
    return name, min(times), outputs


def main() -> None:
    parser = argparse.ArgumentParser(description="per-frame dispatch: vizochok.Widget vs pure Python")
    parser.add_argument("--frames", type=int, default=24_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    texts = frames(args.frames)
    mean_bytes = sum(len(t.encode()) for t in texts) / len(texts)
    results = [
        measure("vizochok.Widget: Reports.text -> driver -> callback", run_widget, texts, args.rounds),
        measure("pure Python: json.loads + dispatch + dataclasses", lambda t: run_pure(t, True), texts, args.rounds),
        measure("pure Python: json.loads + dispatch (dicts)", lambda t: run_pure(t, False), texts, args.rounds),
    ]
    print(f"python {platform.python_version()}, vizochok {vizochok.__version__}, {len(texts)} frames "
          f"(mean {mean_bytes:.0f} bytes), best of {args.rounds} rounds, process CPU time")  # fmt: skip
    print(f"{'path':<54} {'ns/frame':>10} {'events':>8}")
    for name, ns, outputs in results:
        print(f"{name:<54} {ns:>10.0f} {outputs:>8}")


if __name__ == "__main__":
    main()
