"""VIZOCHOK: the shopping-assistant client for Python.

:class:`Widget` is an asyncio host of the one Rust driver every runtime
shares: the protocol and its run loop are compiled into the package; the
Python code does the I/O (``websockets`` by default, or any
:class:`Transport`) and calls the app back. The types are generated from the
Rust ones. See ``docs/python.md``.
"""

from __future__ import annotations

from ._native import Reports, WidgetClosedError, __version__
from ._transport import Transport, WebSocketsTransport
from ._widget import SessionStore, Widget
from .generated.types import *  # noqa: F403
from .generated.types import __all__ as _types

__all__ = [*_types, "Widget", "SessionStore", "Transport", "Reports", "WebSocketsTransport", "WidgetClosedError", "__version__"]
