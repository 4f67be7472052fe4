"""The example bot runs against the real sandbox and puts milk in the cart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sandbox import Sandbox

BOT = Path(__file__).resolve().parents[1] / "examples" / "milk_bot.py"


def test_the_milk_bot_adds_milk_to_the_cart(sandbox: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, str(BOT), "--url", sandbox.url], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert "connected" in lines and "> milk" in lines
    assert any(line.startswith("cart (item_selected):") for line in lines), done.stdout
    assert any("milk" in line.lower() and line.strip().startswith("1 x") for line in lines), done.stdout
    assert lines[-1].startswith("total: ")


def test_the_milk_bot_fails_cleanly_with_a_wrong_key(sandbox: Sandbox) -> None:
    done = subprocess.run(
        [sys.executable, str(BOT), "--url", sandbox.url, "--api-key", "pk_wrong"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "auth_error" in done.stderr and "could not connect" in done.stderr
