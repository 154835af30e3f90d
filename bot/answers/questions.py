"""Cleaning what staff type before it is searched: length cap, junk, embedded instructions.

The engine never follows instructions found in a question (it has none to follow: it only
extracts clauses), but phrases such as "ignore your rules" would otherwise be searched as
if they were part of the question.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_QUESTION_CHARS = 4000

# Only phrases addressed to the bot itself: "ignore the rules" in a question about the policy
# ("can staff bypass the restrictions on YouTube?") is part of the question.
_INSTRUCTION = re.compile(
    r"""
    \b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?
        (?:your|the\s+above|previous|prior|earlier|these|those|my\s+previous)\s+
        (?:instructions?|prompts?|rules|guidelines|directions|programming)\b
    | \b(?:reveal|show|print|repeat|tell\s+me)\s+(?:me\s+)?(?:your|the)\s+
        (?:system\s+|hidden\s+|initial\s+)?(?:prompt|instructions)\b
    | \b(?:system|hidden|initial)\s+prompt\b
    | \byou\s+are\s+now\s+(?:in\s+)?(?:\w+\s+){0,2}?(?:mode|dan|unrestricted|jailbroken)\b
    | \bjailbreak\w*\b | \bdeveloper\s+mode\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


@dataclass(frozen=True)
class CleanQuestion:
    """A question ready to search, and what was done to it."""

    text: str
    truncated: bool = False
    had_instructions: bool = False
    #: The question as asked (normalised and capped, instructions kept): what the asker
    #: and the reviewers see.
    original: str = ""

    @property
    def searchable(self) -> bool:
        """Whether anything word-like is left to search for."""
        return any(ch.isalpha() for ch in self.text)


def clean(raw: str) -> CleanQuestion:
    """Normalise a question: printable text only, at most ``MAX_QUESTION_CHARS``."""
    text = unicodedata.normalize("NFKC", raw)
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    truncated = len(text) > MAX_QUESTION_CHARS
    if truncated:
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
    stripped, count = _INSTRUCTION.subn(" ", text)
    stripped = re.sub(r"\s+", " ", stripped).strip(" ,.;:-")
    return CleanQuestion(
        text=stripped, truncated=truncated, had_instructions=count > 0, original=text
    )
