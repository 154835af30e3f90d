"""``policybot eval``: measure the engine on a question set.

The file is JSON Lines, one question per line (the format of the development set)::

    {"id": "d001", "question": "...", "kind": "answer" | "escalate" | "unknown",
     "sources": [{"doc": "<file name without extension>", "section": "4.2"}],
     "route": "hr" | "communications" | null, "mention_any": ["own time", "yes"]}
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.engine import PolicyBot
from bot.errors import PolicyBotError
from bot.models import Answer
from bot.questions import clean

KS = (1, 3, 5)


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    kind: str
    sources: tuple[tuple[str, str], ...]
    route: str | None
    mention_any: tuple[str, ...]


@dataclass
class Outcome:
    case: Case
    answer: Answer
    ranked: list[tuple[str, str]]

    def rank(self) -> int | None:
        """1-based rank of the first acceptable clause among those retrieved."""
        for position, found in enumerate(self.ranked, start=1):
            if found in self.case.sources:
                return position
        return None

    def mentions(self) -> bool:
        text = self.answer.text.lower()
        return any(m.lower() in text for m in self.case.mention_any)

    def routed(self) -> bool:
        escalation = self.answer.escalation
        if self.case.kind == "escalate":
            return escalation.suggested and escalation.team == self.case.route
        return escalation.team == self.case.route


@dataclass
class Report:
    metrics: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, Any]] = field(default_factory=list)


def read_cases(path: Path) -> list[Case]:
    """Parse a question file; a bad line raises PolicyBotError naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyBotError(f"cannot read {path}: {exc}") from exc
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            cases.append(
                Case(
                    id=str(row.get("id", number)),
                    question=str(row["question"]),
                    kind=str(row.get("kind", "answer")),
                    sources=tuple((s["doc"], str(s["section"])) for s in row.get("sources", [])),
                    route=row.get("route"),
                    mention_any=tuple(row.get("mention_any", [])),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PolicyBotError(f"{path.name} line {number}: {exc}") from exc
    return cases


def run(bot: PolicyBot, cases: Sequence[Case]) -> Report:
    """Ask every question and score the answers."""
    outcomes = []
    for case in cases:
        answer = bot.ask(case.question)
        cleaned = clean(case.question)
        ranked: list[tuple[str, str]] = []
        if cleaned.searchable:
            hits = bot.retriever().search(cleaned.text, k=max(KS)).hits
            ranked = [(Path(h.chunk.source).stem, h.chunk.section) for h in hits]
        outcomes.append(Outcome(case, answer, ranked))
    return score(outcomes)


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else float("nan")


def score(outcomes: Sequence[Outcome]) -> Report:
    report = Report()
    sourced = [o for o in outcomes if o.case.sources]
    answerable = [o for o in outcomes if o.case.kind == "answer"]
    unknown = [o for o in outcomes if o.case.kind == "unknown"]
    routed = [o for o in outcomes if o.case.route]
    for k in KS:
        report.metrics[f"recall@{k}"] = _share((o.rank() or 99) <= k for o in sourced)
    report.metrics["citation_recall@3"] = _share(
        any((Path(c.source).stem, c.section) in o.case.sources for c in o.answer.citations[:3])
        for o in sourced
    )
    report.metrics["key_fact"] = _share(o.mentions() for o in answerable if o.case.mention_any)
    report.metrics["answered"] = _share(o.answer.answered for o in answerable)
    report.metrics["unknown_unanswered"] = _share(not o.answer.answered for o in unknown)
    report.metrics["routing"] = _share(o.routed() for o in routed)
    report.metrics["false_escalation"] = _share(
        o.answer.escalation.suggested for o in outcomes if o.case.kind != "escalate"
    )
    latencies = sorted(o.answer.elapsed_ms for o in outcomes)
    report.metrics["p50_ms"] = statistics.median(latencies) if latencies else float("nan")
    report.metrics["p95_ms"] = latencies[max(0, round(0.95 * len(latencies)) - 1)]
    report.counts = {
        "questions": len(outcomes),
        "answer": len(answerable),
        "escalate": sum(o.case.kind == "escalate" for o in outcomes),
        "unknown": len(unknown),
    }
    for o in outcomes:
        problems = _problems(o)
        if problems:
            report.failures.append(
                {
                    "id": o.case.id,
                    "question": o.case.question,
                    "problems": problems,
                    "answer": o.answer.text,
                    "retrieved": [f"{d} {s}" for d, s in o.ranked[:3]],
                    "confidence": round(o.answer.confidence, 3),
                }
            )
    return report


def _problems(o: Outcome) -> list[str]:
    problems = []
    if o.case.sources and (o.rank() or 99) > 3:
        problems.append("source not in top 3")
    if o.case.kind == "answer" and not o.answer.answered:
        problems.append("not answered")
    if o.case.kind == "answer" and o.case.mention_any and not o.mentions():
        problems.append("key fact missing")
    if o.case.kind == "unknown" and o.answer.answered:
        problems.append("answered an unknown question")
    if o.case.route and not o.routed():
        problems.append(f"routing: wanted {o.case.route}, got {o.answer.escalation.to_json()}")
    if o.case.kind != "escalate" and o.answer.escalation.suggested:
        problems.append("escalation suggested without need")
    return problems
