"""One reading of commands for every platform (:mod:`bot.commands`): what is a command and
what is a question."""

from __future__ import annotations

import pytest

from bot.commands import Command, parse


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("?", Command("help")),
        ("Hello", Command("help")),
        ("/help", Command("help")),
        ("", Command("help")),  # a bare /policy, an empty mention
        ("  ", Command("help")),
        ("reload", Command("reload")),
        ("/RELOAD", Command("reload")),
        ("insights", Command("insights")),
        ("mute", Command("mute")),
        ("unmute", Command("unmute")),
        ("announce", Command("announce")),
        ("announce V2a", Command("announce", "V2a")),  # the version as typed
    ],
)
def test_commands(typed: str, command: Command) -> None:
    assert parse(typed) == command


@pytest.mark.parametrize(
    "typed",
    [
        "help me with Facebook",
        "reload the page",
        "mute notifications please",
        "announce the new policy now",
        "Can I use Facebook at lunchtime?",
        "hello there",
    ],
)
def test_questions_are_not_commands(typed: str) -> None:
    assert parse(typed) is None
