"""The shared scenario suite, replayed through the public ``vizochok.Widget``
with a scripted transport."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from scenario_runner import matches, run_file

SCENARIOS = Path(os.environ.get("VIZOCHOK_SCENARIOS", Path(__file__).resolve().parents[3] / "scenarios"))
FILES = sorted(SCENARIOS.glob("*.json"))


def test_the_suite_is_there() -> None:
    assert len(FILES) >= 40, f"expected the shared scenario files in {SCENARIOS}"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_scenario_replays_exactly(path: Path) -> None:
    assert run_file(path) > 0


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    """The runner is not a rubber stamp: change one expected output and it fails."""
    original = json.loads((SCENARIOS / "auth_ok_flushes_queue.json").read_text(encoding="utf-8"))
    for mutate in (
        lambda s: s["steps"][-1]["expect"].pop(),  # an output missing
        lambda s: s["steps"][0]["expect"].append({"state": "idle"}),  # an extra output
        lambda s: s["steps"][1]["expect"][0].update(state="connected"),  # a wrong value
    ):
        scenario = copy.deepcopy(original)
        mutate(scenario)
        broken = tmp_path / "broken.json"
        broken.write_text(json.dumps(scenario), encoding="utf-8")
        with pytest.raises(AssertionError):
            run_file(broken)


def test_the_matcher_is_strict_where_it_must_be() -> None:
    assert matches([{"a": 2}], [{"a": 2.0}])
    assert matches({"a": "*"}, {"a": {"deep": [1]}})
    assert not matches([{"a": 1}], [{"a": 1}, {"b": 2}]), "extra outputs fail"
    assert not matches({"a": 1}, {"a": 1, "b": None}), "extra fields fail"
    assert not matches({"a": None}, {}), "null is not absent"
    assert not matches("x", "*"), "a star in the actual output matches nothing special"
    assert not matches(True, 1), "a bool is not a number"
