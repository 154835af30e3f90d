"""``policybot insights``: what staff ask, where the documents fail them, how fast people answer.

Built from the audit trail, feedback and cases. Nothing in it names an asker: the audit holds
pseudonyms, and the report shows questions, never who asked them, with what in them points
at a person (an e-mail address, a phone number, an @-mention) masked (:func:`masked`).
Questions the documents did not answer are grouped by meaning (their sentence embeddings,
clustered), so that a gap in the documents shows as one theme with a count and examples
rather than as scattered lines.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select

from bot.knowledge.embeddings import Vectors
from bot.storage.db import Database
from bot.storage.models import AuditRow, CaseEventRow, CaseRow, FeedbackRow

#: Declined questions closer than this (cosine distance) are one theme.
THEME_DISTANCE = 0.45
EXAMPLES = 3
TOP = 10

Embed = Callable[[Sequence[str]], Vectors]

#: What in a question points at a person, and what shows instead.
_IDENTIFIERS = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
    (re.compile(r"<@[A-Za-z0-9]+(?:\|[^>]*)?>"), "[someone]"),
    (re.compile(r"(?<![\w.])@\w[\w.-]*"), "[someone]"),
    (re.compile(r"\+?\d[\d ()-]{7,}\d"), "[number]"),
)


def masked(question: str) -> str:
    """``question`` with e-mail addresses, phone and staff numbers and @-mentions masked."""
    for pattern, replacement in _IDENTIFIERS:
        question = pattern.sub(replacement, question)
    return question


@dataclass(frozen=True)
class Theme:
    """Declined questions alike in meaning: a gap in the documents, perhaps."""

    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class TeamFigures:
    """How one team handled its cases, in hours."""

    cases: int
    first_reply_median: float | None
    first_reply_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    sla_breaches: int


@dataclass(frozen=True)
class Insights:
    """The report."""

    since: datetime | None
    questions: int
    answered: int
    per_week: tuple[tuple[str, int], ...]
    top_clauses: tuple[tuple[str, int], ...]
    declined_themes: tuple[Theme, ...]
    unhelpful: tuple[tuple[str, tuple[str, ...]], ...]
    teams: dict[str, TeamFigures] = field(default_factory=dict)
    model_fallbacks: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.isoformat() if self.since else None
        return data


def gather(db: Database, embed: Embed, since: datetime | None = None) -> Insights:
    """Read the audit, feedback and cases since ``since`` (all of them by default)."""
    with db.reading() as session:
        audit = select(AuditRow).order_by(AuditRow.at)
        cases = select(CaseRow)
        if since is not None:
            audit = audit.where(AuditRow.at >= since)
            cases = cases.where(CaseRow.created_at >= since)
        rows = list(session.scalars(audit))
        case_rows = list(session.scalars(cases))
        events = list(
            session.scalars(
                select(CaseEventRow).where(CaseEventRow.case_id.in_([c.id for c in case_rows]))
            )
        )
        unhappy = list(
            session.execute(
                select(AuditRow.question, AuditRow.citations)
                .join(FeedbackRow, FeedbackRow.answer_id == AuditRow.answer_id)
                .where(FeedbackRow.helpful.is_(False))
                .where(*([FeedbackRow.updated_at >= since] if since else []))
            )
        )
    weeks = Counter(f"{row.at:%G-W%V}" for row in rows)
    clauses = Counter(
        f"{c.get('source', '')} {c.get('section', '')}"
        for row in rows
        if row.answered
        for c in (row.citations or [])[:1]
    )
    declined = [masked(row.question) for row in rows if not row.answered]
    return Insights(
        since=since,
        questions=len(rows),
        answered=sum(row.answered for row in rows),
        per_week=tuple(sorted(weeks.items())),
        top_clauses=tuple(clauses.most_common(TOP)),
        declined_themes=themes(declined, embed),
        unhelpful=tuple(
            (
                masked(question),
                tuple(f"{c.get('source')} {c.get('section')}" for c in citations or []),
            )
            for question, citations in unhappy
        ),
        teams=_teams(case_rows, events),
        model_fallbacks=dict(Counter(r.llm_fallback for r in rows if r.llm_fallback)),
    )


def themes(questions: Sequence[str], embed: Embed) -> tuple[Theme, ...]:
    """Questions grouped by meaning, largest theme first."""
    unique = list(dict.fromkeys(q.strip() for q in questions if q.strip()))
    if not unique:
        return ()
    counts = Counter(q.strip() for q in questions if q.strip())
    if len(unique) == 1:
        return (Theme(counts[unique[0]], (unique[0],)),)
    from sklearn.cluster import AgglomerativeClustering  # only this report clusters

    labels = AgglomerativeClustering(
        n_clusters=None,
        distance_threshold=THEME_DISTANCE,
        metric="cosine",
        linkage="average",
    ).fit_predict(np.asarray(embed(unique)))
    groups: dict[int, list[str]] = {}
    for question, label in zip(unique, labels, strict=True):
        groups.setdefault(int(label), []).append(question)
    found = [
        Theme(sum(counts[q] for q in members), tuple(sorted(members, key=lambda q: -counts[q])))
        for members in groups.values()
    ]
    ordered = sorted(found, key=lambda t: (-t.count, t.examples))
    return tuple(Theme(t.count, t.examples[:EXAMPLES]) for t in ordered)


def _teams(cases: Sequence[CaseRow], events: Sequence[CaseEventRow]) -> dict[str, TeamFigures]:
    by_case: dict[int, list[CaseEventRow]] = {}
    for event in sorted(events, key=lambda e: e.at):
        by_case.setdefault(event.case_id, []).append(event)
    figures = {}
    for team in sorted({c.team for c in cases}):
        mine = [c for c in cases if c.team == team]
        reply = [_hours(c, by_case.get(c.id, []), "replied") for c in mine]
        resolve = [_hours(c, by_case.get(c.id, []), "resolved") for c in mine]
        breaches = sum(any(e.action == "reminded" for e in by_case.get(c.id, [])) for c in mine)
        figures[team] = TeamFigures(
            cases=len(mine),
            first_reply_median=_median(reply),
            first_reply_p90=_p90(reply),
            resolution_median=_median(resolve),
            resolution_p90=_p90(resolve),
            sla_breaches=breaches,
        )
    return figures


def _hours(case: CaseRow, events: Sequence[CaseEventRow], action: str) -> float | None:
    first = next((e.at for e in events if e.action == action), None)
    return (first - case.created_at) / timedelta(hours=1) if first else None


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 2) if known else None


def _p90(values: Sequence[float | None]) -> float | None:
    known = sorted(v for v in values if v is not None)
    if not known:
        return None
    return round(float(np.percentile(known, 90, method="nearest")), 2)


def markdown(report: Insights) -> str:
    """The report as markdown, for a briefing or a ticket."""
    since = f" since {report.since:%d %B %Y}" if report.since else ""
    lines = [f"# PolicyBot insights{since}", ""]
    share = report.answered / report.questions if report.questions else 0.0
    lines.append(f"{report.questions} questions, {share:.0%} answered from the documents.")
    lines += ["", "## Questions per week", ""]
    lines += [f"- {week}: {count}" for week, count in report.per_week] or ["- none"]
    lines += ["", "## Most cited clauses", ""]
    lines += [f"- {clause}: {count}" for clause, count in report.top_clauses] or ["- none"]
    lines += ["", "## Not answered, by theme (gaps in the documents?)", ""]
    for theme in report.declined_themes:
        lines.append(f"- {theme.count}× " + " / ".join(f"“{q}”" for q in theme.examples))
    if not report.declined_themes:
        lines.append("- none")
    lines += ["", "## Answers rated unhelpful", ""]
    lines += [f"- “{q}” ({', '.join(c) or 'no clause'})" for q, c in report.unhelpful] or ["- none"]
    lines += ["", "## Cases", ""]
    for team, f in report.teams.items():
        lines.append(
            f"- {team}: {f.cases} cases; first reply median {_h(f.first_reply_median)}, "
            f"p90 {_h(f.first_reply_p90)}; resolved median {_h(f.resolution_median)}, "
            f"p90 {_h(f.resolution_p90)}; {f.sla_breaches} past the SLA"
        )
    if not report.teams:
        lines.append("- none")
    if report.model_fallbacks:
        lines += ["", "## Model fallbacks", ""]
        lines += [f"- {reason}: {n}" for reason, n in sorted(report.model_fallbacks.items())]
    return "\n".join(lines) + "\n"


def _h(hours: float | None) -> str:
    return "–" if hours is None else f"{hours:g} h"
