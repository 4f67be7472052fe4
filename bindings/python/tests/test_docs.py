"""The Python blocks of docs/python.md compile, and the one that needs no
network runs as written (mypy --strict checks them all in CI)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[3] / "docs" / "python.md"


def blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_every_block_compiles() -> None:
    found = blocks()
    assert len(found) >= 4
    for i, block in enumerate(found):
        compile(block, f"docs/python.md block {i}", "exec")


def test_the_scripted_transport_example_runs() -> None:
    (block,) = [b for b in blocks() if "class Scripted" in b]
    exec(compile(block, "docs/python.md scripted example", "exec"), {"__name__": "doc_example"})
