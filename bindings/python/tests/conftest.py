"""Shared fixtures; the sandbox fixtures live in sandbox.py."""

from __future__ import annotations

import sys
from pathlib import Path

# The helpers next to the tests (scenario_runner, sandbox) import as modules.
sys.path.insert(0, str(Path(__file__).parent))

pytest_plugins = ["sandbox"]
