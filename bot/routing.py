"""When a person is needed, and which team: HR or Communications.

A question is offered to a team when it tells of the asker's own situation (something
that has happened or is happening: abuse, a post gone viral, a journalist's call, a
grievance, a possible breach, an adjustment) rather than asking what the rules are.

The team is the one the documents name for the matter: the teams mentioned by the
clauses found for the question, and the topics ``knowledge/routing.toml`` lists for each
team (taken from the documents' own "who to contact" guidance; admins may edit it).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DocumentLoadError
from bot.models import TEAM_NAMES, TEAMS, Escalation, Team
from bot.retrieval import Hit

ROUTING_FILE = "routing.toml"

_FLAGS = re.IGNORECASE | re.VERBOSE

# Something has happened, is happening or is about to happen to the asker or their account.
_NARRATIVE = [
    # present perfect: "has posted", "have been hacked", "he's posted", "hes shared"
    r"\b(?:has|have|hes|shes|ive|weve|theyve|i've|we've|they've|he's|she's)\s+"
    r"(?:just\s+|now\s+|already\s+|recently\s+|been\s+|gone\s+|also\s+)*"
    r"(?!to\b|got\s+to\b)[a-z]+(?:ed|en|wn|ne|ght|nt|ot|de|id|ft|ut|up)\b",
    # progressive: "am being harassed", "is getting abusive comments", "im getting"
    r"\b(?:am|is|are|im|i'm|we're|it's|its)\s+(?:now\s+|still\s+|constantly\s+|always\s+)?"
    r"(?:being|getting|receiving|going|having|attracting)\b",
    # narrated past: "I shared", "someone made", "we had a complaint", "a journalist rang"
    r"\b(?:i|we|someone|somebody|he|she|they|colleague|coworker|manager|boss|journalist|"
    r"reporter|resident)\s+(?:just\s+|accidentally\s+|mistakenly\s+|then\s+)?"
    r"(?:[a-z]+ed|made|sent|got|had|saw|rang|took|put|wrote|said|told|gave|left|lost|did|"
    r"broke|came|went|found|spotted|received)\b",
    r"\bkeeps?\s+[a-z]+ing\b",
    r"\b(?:has|have)\s+been\s+[a-z]+ing\b",
    # a story told without its subject: "just seen ...", "got a DM from ..."
    r"(?:^|[.!?]\s*)(?:just\s+)?(?:got|had|received|seen|saw|spotted|found|been)\b",
    r"\bjust\s+(?:[a-z]+ed|rang|sent|got|saw|seen|made|had|took|found)\b",
    r"\b(?:want|wants|wanted|asked|asking)\s+me\s+(?:on|to|for)\b",
    r"\bi\s+(?:want|need|would\s+like|wish|have|am\s+going)\s+to\s+"
    r"(?:raise|make|file|lodge|report|complain|appeal|challenge|take\s+it\s+further|"
    r"speak\s+to\s+someone|talk\s+to\s+someone)",
    r"\b(?:i|we)\s+(?:need|require|would\s+like|want)\s+(?:an?\s+|some\s+)?"
    r"(?:reasonable\s+)?(?:adjustment|adaptation|assistive|software|equipment|support)",
    r"\b(?:i\s+am|i'm|im)\s+(?:deaf|disabled|dyslexic|blind|autistic|partially\s+sighted|"
    r"visually\s+impaired|neurodivergent|scared|worried|upset|shaken|frightened|afraid)\b",
    r"\b(?:i|we)\s+(?:think|fear|worry|suspect|believe)\s+(?:that\s+)?"
    r"(?:i|we|i've|ive|i'm|im)\b",
    r"\bmessed\s+up\b|^\s*help\b",
]
_SITUATION = re.compile("|".join(f"(?:{p})" for p in _NARRATIVE), _FLAGS)

# Matters where the documents send staff to a person rather than to a rule.
_SENSITIVE = re.compile(
    r"\b(?:harass\w*|abus\w*|bull(?:y|ied|ying)|threat\w*|troll\w*|stalk\w*|hate|"
    r"discriminat\w*|offensive|racist|sexist|homophobic|mock\w*|digs?|nasty|"
    r"viral|blown\s+up|journalist\w*|reporter\w*|press|media|newspaper|radio|tv|bbc|"
    r"podcast\w*|interview\w*|quote|grievance\w*|complain\w*|whistleblow\w*|disciplin\w*|"
    r"breach\w*|messed\s+up|misconduct|adjustment\w*|deaf|disab\w*|dyslex\w*|autis\w*|"
    r"accessib\w*|leak\w*|hack\w*|compromised|scam\w*|fake|pretend\w*|impersonat\w*|"
    r"personal\s+data|address|danger|unsafe|comments?|treated|unfair\w*|challeng\w*|"
    r"restricted|candidate|mistake|accident\w*|shaken|scared|upset|frightened)\b",
    re.IGNORECASE,
)

# "What should I do if ...", "when a journalist contacts me": a question about the rules.
_HYPOTHETICAL = re.compile(
    r"\b(?:if|when|whenever|suppose)\s+(?:i|a|an|someone|my|we|our|the|it|they|he|she|you)\b",
    re.I,
)

_RELATIVE = re.compile(r"\b(?:that|which|who)\s+$", re.I)

_TEAM_MENTIONS: dict[Team, re.Pattern[str]] = {
    "hr": re.compile(r"\bHR\b|Human Resources|Occupational Health|Grievance Procedure", re.I),
    "communications": re.compile(r"Communications team|press officer|Head of Communications"),
}


@dataclass(frozen=True)
class Routing:
    """Topic words that belong to each team (``knowledge/routing.toml``)."""

    topics: Mapping[Team, re.Pattern[str] | None] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Routing:
        """Read a routing file; a missing file means routing by the clauses alone."""
        if not path.is_file():
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8")).get("topics", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise DocumentLoadError(path.name, f"not a valid routing file: {exc}") from exc
        topics: dict[Team, re.Pattern[str] | None] = {}
        for team in TEAMS:
            words = data.get(team, [])
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise DocumentLoadError(path.name, f"[topics] {team} must be a list of words")
            alternatives = "|".join(re.escape(w.lower()) for w in sorted(words, key=len)[::-1])
            topics[team] = re.compile(rf"\b(?:{alternatives})", re.I) if words else None
        return cls(topics)

    def team_weights(self, question: str) -> dict[Team, float]:
        return {
            team: float(len(pattern.findall(question))) if pattern else 0.0
            for team, pattern in self.topics.items()
        }


def describes_situation(question: str) -> bool:
    """Whether the question tells of the asker's own sensitive situation."""
    if not _SENSITIVE.search(question):
        return False
    # "data that has been posted" describes a thing, not what happened to the asker.
    told = [m for m in _SITUATION.finditer(question) if not _RELATIVE.search(question[: m.start()])]
    if not told:
        return False
    # "What should I do if I receive abuse?" asks about the rules, unless it also tells a
    # story of its own ("A post I made has gone viral").
    hypothetical = _HYPOTHETICAL.search(question)
    return hypothetical is None or told[0].start() < hypothetical.start()


def named_team(question: str, hits: Sequence[Hit], routing: Routing) -> Team | None:
    """The team the question's topic and its best clauses point to, or None."""
    weights = routing.team_weights(question)
    for team in TEAMS:
        weights.setdefault(team, 0.0)
    for rank, hit in enumerate(hits[:3]):
        text = f"{hit.chunk.title} {hit.chunk.text}"
        for team, pattern in _TEAM_MENTIONS.items():
            if pattern.search(text):
                weights[team] += 0.6 / (rank + 1)
    hr, comms = weights["hr"], weights["communications"]
    if hr == comms:
        return None
    return "hr" if hr > comms else "communications"


def suggest(
    question: str, hits: Sequence[Hit], *, answered: bool, routing: Routing | None = None
) -> Escalation:
    """The escalation offer for a question, given the clauses found for it."""
    routing = routing or Routing()
    situation = describes_situation(question)
    # An unanswered question's clauses are weak evidence, but still the best guess of
    # whose field a personal situation falls in.
    team = named_team(question, hits if answered or situation else (), routing)
    if situation:
        team = team or "hr"
        return Escalation(
            suggested=True,
            team=team,
            reason=(
                "This sounds like your own situation, which the policy alone cannot settle: "
                f"the {TEAM_NAMES[team]} can help."
            ),
        )
    if team is not None and answered:
        return Escalation(
            suggested=False, team=team, reason=f"The policy names the {TEAM_NAMES[team]} for this."
        )
    return Escalation()
