"""``policybot eval`` on conversations: the earlier turns asked first, the last one scored,
with and without its context, broken down by whether it depends on them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.engine import PolicyBot
from bot.errors import PolicyBotError
from bot.ops.evaluation import read_cases, run
from tests.test_cli import run as run_cli

GUIDANCE = "social-media-guidance-for-staff"
EMAIL = "email-and-internet-acceptable-use"
CONVERSATIONS: list[dict[str, Any]] = [
    {
        "id": "phone",
        "context": ["Can I use Facebook at lunchtime?"],
        "question": "what about on my own phone?",
        "depends": True,
        "kind": "answer",
        "sources": [{"doc": GUIDANCE, "section": "2.1"}],
        "mention_any": ["own phone"],
    },
    {
        "id": "release",
        "context": ["How long are quarantined emails kept?"],
        "question": "and who can release them?",
        "depends": True,
        "kind": "answer",
        "sources": [{"doc": EMAIL, "section": "5.3"}],
        "mention_any": ["release a message"],
    },
    {
        "id": "phishing",
        "context": ["Can I use Facebook at lunchtime?", "and on my own phone?"],
        "question": "Who do I tell if I get a phishing email?",
        "depends": False,
        "kind": "answer",
        "sources": [{"doc": EMAIL, "section": "6.1"}, {"doc": EMAIL, "section": "6.2"}],
        "mention_any": ["phishing"],
    },
]


@pytest.fixture
def conversations(tmp_path: Path) -> Path:
    path = tmp_path / "conversations.jsonl"
    path.write_text("".join(json.dumps(c) + "\n" for c in CONVERSATIONS))
    return path


def test_follow_ups_are_scored_with_and_without_their_context(
    real_bot: PolicyBot, conversations: Path
) -> None:
    cases = read_cases(conversations)
    assert cases[2].context == ("Can I use Facebook at lunchtime?", "and on my own phone?")
    assert cases[2].depends is False

    with_context = run(real_bot, cases)
    alone = run(real_bot, cases, context=False)

    follow_up = with_context.breakdown["depends"]["follow-up"]
    assert follow_up["key_fact"].value == 1.0 and follow_up["key_fact"].n == 2
    assert follow_up["follow_up_combined"].value == 1.0
    assert alone.breakdown["depends"]["follow-up"]["key_fact"].value == 0.0
    assert alone.figures["follow_up_combined"].value == 0.0
    topic = with_context.breakdown["depends"]["topic change"]
    assert topic["false_combination"].value == 0.0 and topic["false_combination"].n == 1
    assert topic["recall@3"].value == 1.0


def test_a_bad_context_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    row = {"question": "and at lunch?", "context": "Can I use Facebook?", "mention_any": ["x"]}
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(PolicyBotError, match='bad.jsonl line 1: "context" must be a list'):
        read_cases(path)
    path.write_text(json.dumps({**row, "context": ["Can I?"], "depends": "yes"}) + "\n")
    with pytest.raises(PolicyBotError, match='"depends" must be true or false'):
        read_cases(path)


def test_the_command_line_asks_alone_with_no_context(
    real_bot: PolicyBot, conversations: Path
) -> None:
    figures = {}
    for flags in ((), ("--no-context",)):
        result = run_cli(real_bot, "eval", str(conversations), "--json", *flags)
        assert result.returncode == 0, result.stderr
        figures[flags] = json.loads(result.stdout)
    assert figures[()]["follow_up_combined"] == 1.0
    assert figures[("--no-context",)]["follow_up_combined"] == 0.0
    assert set(figures[()]["breakdown"]["depends"]) == {"follow-up", "topic change"}
