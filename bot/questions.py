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

_INSTRUCTION = re.compile(
    r"""
    \b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|your\s+|the\s+|my\s+|
        previous\s+|prior\s+|above\s+|earlier\s+)*(?:instructions?|rules?|prompts?|guidelines?|
        policies|restrictions?|guardrails?)\b
    | \b(?:system|hidden|initial)\s+prompt\b
    | \byou\s+are\s+now\b[^.?!]*
    | \bpretend\s+(?:to\s+be|that|you)\b[^.?!]*
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
    return CleanQuestion(text=stripped, truncated=truncated, had_instructions=count > 0)
