"""The admin-editable glossary: everyday words staff type, and the policy's terms for them.

``knowledge/glossary.toml`` maps a word or phrase (matched whole, any case) to the terms the
documents use::

    [synonyms]
    "fb" = ["Facebook"]
    "lunch break" = ["own time"]

A question is searched with its own words plus the terms its glossary phrases map to.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DocumentLoadError

GLOSSARY_FILE = "glossary.toml"

#: Glossary phrases found in a text, each with the policy terms it maps to.
Matches = list[tuple[str, tuple[str, ...]]]


@dataclass(frozen=True)
class Glossary:
    """Phrase → policy terms, applied to questions before they are searched."""

    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def from_mapping(cls, synonyms: Mapping[str, Iterable[str]]) -> Glossary:
        cleaned = {
            _norm(phrase): tuple(str(t) for t in terms)
            for phrase, terms in synonyms.items()
            if _norm(phrase)
        }
        if not cleaned:
            return cls()
        # Longest phrases first, so "lunch break" wins over "break".
        alternatives = sorted(cleaned, key=len, reverse=True)
        pattern = re.compile(
            r"(?<![\w#])(" + "|".join(re.escape(p) for p in alternatives) + r")(?![\w])",
            re.IGNORECASE,
        )
        return cls(synonyms=cleaned, _pattern=pattern)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        """Read a glossary file; a missing file is an empty glossary."""
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DocumentLoadError(path.name, f"not a valid glossary: {exc}") from exc
        synonyms = data.get("synonyms", {})
        if not isinstance(synonyms, dict) or not all(
            isinstance(v, list) and all(isinstance(t, str) for t in v) for v in synonyms.values()
        ):
            raise DocumentLoadError(
                path.name,
                '[synonyms] must map each phrase to a list of terms, e.g. "fb" = ["Facebook"]',
            )
        return cls.from_mapping(synonyms)

    def matches(self, text: str) -> Matches:
        """Each glossary phrase found in ``text``, with the policy terms it maps to."""
        if self._pattern is None:
            return []
        return [
            (match.group(1), self.synonyms.get(_norm(match.group(1)), ()))
            for match in self._pattern.finditer(text)
        ]

    def expand(self, text: str, matches: Matches | None = None) -> str:
        """``text`` followed by the policy terms its glossary phrases map to, once each.

        Args:
            text: the question.
            matches: ``matches(text)``, when the caller has them already.
        """
        found = self.matches(text) if matches is None else matches
        extra = dict.fromkeys(term for _, mapped in found for term in mapped)
        return f"{text} {' '.join(extra)}" if extra else text

    def vocabulary(self) -> set[str]:
        """Every lower-cased word the glossary knows, phrases and terms alike."""
        words: set[str] = set()
        for phrase, terms in self.synonyms.items():
            for item in (phrase, *terms):
                words.update(re.findall(r"[a-z0-9]+", item.lower()))
        return words


def _norm(phrase: str) -> str:
    return " ".join(phrase.lower().split())
