"""Repeated platform deliveries are decided once, in the core (issue 11): the adapters ask
:meth:`Assistant.first_delivery` and report :meth:`Assistant.delivery_failed`, and two
instances on one database agree."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot

ADAPTERS = Path(__file__).resolve().parents[2] / "adapters"


@pytest.fixture
def instances(real_bot: PolicyBot, tmp_path: Path) -> Iterator[tuple[Assistant, Assistant]]:
    """Two assistants, as two ``serve`` processes, on one database."""
    settings = Settings(data_dir=tmp_path / "shared")
    works = [Casework.open(settings) for _ in range(2)]
    yield Assistant(real_bot, works[0]), Assistant(real_bot, works[1])
    for work in works:
        work.close()


def test_a_delivery_is_first_once_across_instances_and_again_after_a_failure(
    instances: tuple[Assistant, Assistant],
) -> None:
    a, b = instances
    assert a.first_delivery("slack", "Ev1") is True
    assert b.first_delivery("slack", "Ev1") is False  # Slack's retry, sent to the other one
    assert a.first_delivery("slack", "Ev1") is False
    assert b.first_delivery("teams", "Ev1") is True  # ids are per platform
    a.delivery_failed("slack", "Ev1")  # its handling failed on A: the retry is handled
    assert b.first_delivery("slack", "Ev1") is True
    assert a.first_delivery("slack", "Ev1") is False


def test_a_delivery_nothing_identifies_is_always_handled(
    instances: tuple[Assistant, Assistant],
) -> None:
    a, _ = instances
    assert a.first_delivery("slack", "") is True
    assert a.first_delivery("slack", "") is True
    a.delivery_failed("slack", "")  # nothing to forget


def test_the_adapters_leave_the_repeat_decision_to_the_core() -> None:
    """No adapter records or forgets event ids in the platform state itself."""
    reaching: list[str] = []
    for path in sorted(ADAPTERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in {"seen", "forget"}:
                reaching.append(f"{path.relative_to(ADAPTERS.parent)}:{node.lineno} .{node.attr}")
    assert reaching == []
