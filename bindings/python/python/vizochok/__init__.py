"""VIZOCHOK: the shopping-assistant client for Python.

- :class:`Session` is the sans-IO protocol core (written in Rust), one to
  one: hand it inputs with a monotonic ``now`` in milliseconds, drain its
  outputs, arm one timer for ``poll_timeout()``. It works with any event
  loop or framework, and in tests with no I/O at all.
- :class:`Widget` drives a ``Session`` over WebSockets with asyncio, with
  the contract's callbacks and an ``events()`` stream.

See ``docs/python.md`` for a guide.
"""

from __future__ import annotations

from ._native import Session, __version__, error_message, ui_text
# The public types are listed once, in `_types.__all__`.
from ._types import *  # noqa: F403
from ._types import __all__ as _types_all
from ._widget import EventStream, Widget

__all__ = [
    *_types_all,
    "Session",
    "Widget",
    "EventStream",
    "error_message",
    "ui_text",
    "__version__",
]
