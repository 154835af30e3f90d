"""What a person types to PolicyBot that is a command rather than a question, read once for
every platform.

Slack's ``/policy reload`` and Teams' ``reload`` are the same command: each adapter takes its
own markup off what was typed (the bot's @-mention, Slack's ``/policy``) and asks
:func:`parse`. Anything that is not a command is a question. Whether the person may run the
command is decided where it runs (:class:`bot.assistant.Assistant`), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["help", "reload", "insights", "mute", "unmute", "announce"]

WORDS: dict[str, Kind] = {
    "?": "help",
    "help": "help",
    "hi": "help",
    "hello": "help",
    "start": "help",
    "reload": "reload",
    "insights": "insights",
    "mute": "mute",
    "unmute": "unmute",
    "announce": "announce",
}
"""The one-word commands (a leading ``/`` is allowed: ``/help``)."""


@dataclass(frozen=True)
class Command:
    """A command and what follows it (``announce``'s version, as typed)."""

    kind: Kind
    argument: str = ""


def parse(text: str) -> Command | None:
    """The command ``text`` is, or None for a question: one word of :data:`WORDS`, or
    ``announce VERSION``. "Help me with Facebook" is a question; nothing at all (a bare
    ``/policy``, an empty mention) asks how to use the bot, as ``help`` does."""
    words = text.split()
    if not words:
        return Command("help")
    if len(words) > 2:
        return None
    kind = WORDS.get(words[0].lower().removeprefix("/"))
    if kind is None or (len(words) == 2 and kind != "announce"):
        return None
    return Command(kind, words[1] if len(words) == 2 else "")
