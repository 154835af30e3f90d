"""What reviewers and adapters see of an approved answer, its ids, and what PolicyBot says
about approved answers, worded once for every surface.

An approved answer's id is ``A-`` and its number, ``A-0003``. Each cited clause keeps the
text it had when the answer was approved and that text's hash (:func:`clause_hash`), so that
a reload that changes the clause can be told apart from one that leaves it alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bot.errors import EscalationError
from bot.models import TEAM_NAMES, Team

Status = Literal["active", "suspended", "retired"]
STATUSES: tuple[Status, ...] = ("active", "suspended", "retired")

MAX_ANSWER = 4000
"""The longest approved text, in characters (it is served whole)."""
MAX_QUESTION = 1000
"""The longest question an answer is approved for."""

_ID = re.compile(r"^\s*(?:A-?)?0*(\d{1,9})\s*$", re.IGNORECASE)


class ClauseError(EscalationError):
    """A clause named for an approved answer is missing, malformed or unknown (safe to show;
    a form shows it beside the clauses)."""


def format_answer_id(number: int) -> str:
    """``A-0003`` for approved answer 3."""
    return f"A-{number:04d}"


def parse_answer_id(text: str) -> int:
    """The number of an approved answer id; ``A-0003``, ``a-3`` and ``3`` are the same.

    Raises:
        EscalationError: not an approved answer id.
    """
    match = _ID.match(text)
    if not match:
        raise EscalationError(f"{text[:40]!r} is not an approved answer id (like A-0003)")
    return int(match.group(1))


def parse_status(name: str) -> Status:
    """An approved answer's status by name.

    Raises:
        EscalationError: no such status.
    """
    key = name.strip().lower()
    for status in STATUSES:
        if key == status:
            return status
    raise EscalationError(f"unknown status {name!r}: use one of {', '.join(STATUSES)}")


def clause_hash(text: str) -> str:
    """The hash of a clause's words (spacing ignored, as a reload's change list ignores it)."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class CitedClause:
    """A clause an approved answer rests on, as it stood when approved."""

    source: str
    section: str
    title: str
    text: str
    hash: str

    @property
    def key(self) -> tuple[str, str, str]:
        """As :attr:`bot.knowledge.changes.KeptClause.key`: source, section, title."""
        return self.source, self.section, self.title

    def to_json(self) -> dict[str, str]:
        return {
            "source": self.source,
            "section": self.section,
            "title": self.title,
            "text": self.text,
            "hash": self.hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CitedClause:
        text = str(data.get("text", ""))
        return cls(
            source=str(data["source"]),
            section=str(data["section"]),
            title=str(data.get("title", "")),
            text=text,
            hash=str(data.get("hash") or clause_hash(text)),
        )


@dataclass(frozen=True)
class ApprovedView:
    """An approved answer as reviewers, adapters and the CLI see it.

    Attributes:
        id: ``A-0003``.
        team: the team whose reviewer approved it.
        question: the question it answers (matched, never shown to staff).
        text: the approved text, the only thing served.
        clauses: the clauses it rests on, as they stood when approved.
        status: active (served), suspended (a cited clause changed: waiting for review) or
            retired (withdrawn).
        case_id: the case it came from, if any.
        approved_by: who approved it (or last re-approved it).
        approved_at: when (UTC).
        updated_at: when it last changed (UTC).
        reason: why it is suspended or retired.
    """

    id: str
    team: Team
    question: str
    text: str
    clauses: tuple[CitedClause, ...]
    status: Status
    case_id: str | None
    approved_by: str
    approved_at: datetime
    updated_at: datetime
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        """One ``policybot answers show --json`` object."""
        return {
            "id": self.id,
            "team": self.team,
            "question": self.question,
            "text": self.text,
            "clauses": [c.to_json() for c in self.clauses],
            "status": self.status,
            "case_id": self.case_id,
            "approved_by": self.approved_by,
            "approved_at": self.approved_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ApprovalDraft:
    """What a form to save an approved answer starts from: the case's question, the latest
    reply on it, and the clauses the bot's answer cited, as ``DOC:SECTION``."""

    question: str
    text: str
    clauses: tuple[str, ...]

    @property
    def clause_list(self) -> str:
        return ", ".join(self.clauses)


def parse_clause_list(text: str) -> tuple[str, ...]:
    """``DOC:SECTION`` references typed into one field, separated by commas, semicolons or
    new lines."""
    return tuple(part.strip() for part in re.split(r"[,;\n]+", text) if part.strip())


def label(team: Team, approved_at: datetime) -> str:
    """The line an approved answer is served under."""
    return f"Approved by the {TEAM_NAMES[team]} on {approved_at.day} {approved_at:%B %Y}"


def not_a_reviewer(team: Team, action: str) -> str:
    """The refusal for someone who is neither a reviewer of the team nor an admin."""
    return (
        f"Sorry, only the {TEAM_NAMES[team]} reviewers and PolicyBot admins can {action} "
        "its approved answers."
    )


QUESTION_HINT = "Word it generally: leave out names and anything personal."
CLAUSES_HINT = (
    "Document:section, separated by commas, e.g. "
    "electronic-communication-and-social-media-policy:4.3"
)


def form_intro(case_id: str) -> str:
    """What the form to save an approved answer says first, on every platform."""
    return (
        "Later questions like this one are answered with this text, labelled as approved by "
        f"your team. Nothing else of {case_id} is ever shown."
    )


def approved_receipt(view: ApprovedView) -> str:
    """The reviewer's confirmation after approving or re-approving an answer."""
    return (
        f"Saved as approved answer {view.id}: questions like it are now answered with "
        f"your text, labelled as approved by the {TEAM_NAMES[view.team]}."
    )


def review_notice(team: Team, suspended: list[tuple[ApprovedView, list[tuple[str, str]]]]) -> str:
    """What a team is told when a reload suspends its approved answers (neutral markdown).

    Args:
        team: the team.
        suspended: each answer suspended, with its changed clauses as (heading, old and new
            text in a few lines).
    """
    count = len(suspended)
    lines = [
        f"**{count} approved answer{'s' if count != 1 else ''} of the {TEAM_NAMES[team]} "
        f"need{'s' if count == 1 else ''} review**: the policy documents were reloaded and a "
        "clause they rest on changed. They are not served until a reviewer re-approves them.",
    ]
    for view, changes in suspended:
        lines.append("")
        lines.append(f"**{view.id}**: {view.question[:200]}")
        for heading, detail in changes:
            lines.append(f"- {heading}")
            lines.extend(f"  {line}" for line in detail.splitlines())
        lines.append(
            f"Re-approve after review with `policybot answers reinstate {view.id} --by ID`, "
            f"or withdraw it with `policybot answers retire {view.id} --by ID`."
        )
    return "\n".join(lines)
