"""``policybot eval``: measure the engine on question sets.

A set is JSON Lines, one question per line (the format of the development set), or a
directory of such files::

    {"id": "d001", "question": "...", "kind": "answer" | "escalate" | "unknown",
     "sources": [{"doc": "<file name without extension>", "section": "4.2"}],
     "route": "hr" | "communications" | null, "mention_any": ["own time", "yes"],
     "voice": "casual" | "plain" | "story" | "short"}

``voice`` is optional. A line of a conversation set is its last turn, with the asker's
earlier messages in ``context`` (oldest first) and whether the last turn depends on them::

    {"id": "c001", "context": ["can I use facebook at work?"], "question": "and at lunch?",
     "depends": true, "kind": "answer", "sources": [...], "mention_any": [...]}

The earlier messages are asked first, in one conversation, and only the last turn is scored
(``context=False``: the last turn is asked alone, for comparison). Every figure comes with
its 95% interval (Wilson's), and is broken down by kind, document, voice and, for
conversations, whether the last turn depends on the earlier ones; the confidence the engine
gave its answers is compared with how often the documents really covered the question (its
reliability). How many questions an approved answer (:mod:`bot.approved.service`) answered is a
figure of its own (``approved_served``, and ``approved`` in the counts).
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.answers.questions import clean
from bot.conversation.history import WINDOW_TURNS, Turn, carries_subject
from bot.engine import PolicyBot
from bot.errors import PolicyBotError
from bot.models import TEAMS, Answer

KS = (1, 3, 5)
KINDS = ("answer", "escalate", "unknown")
#: Bins of the engine's confidence for the reliability table.
RELIABILITY_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    kind: str
    sources: tuple[tuple[str, str], ...]
    route: str | None
    mention_any: tuple[str, ...]
    voice: str = ""
    file: str = ""
    #: The asker's earlier messages in the conversation, oldest first.
    context: tuple[str, ...] = ()
    #: Whether the question depends on ``context`` (None: not said, or no context).
    depends: bool | None = None


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


@dataclass(frozen=True)
class Figure:
    """A share, how many it was measured on, and its 95% interval."""

    value: float
    n: int
    low: float
    high: float

    def __str__(self) -> str:
        if not self.n:
            return "–"
        return f"{self.value:.3f} [{self.low:.2f}–{self.high:.2f}] n={self.n}"


@dataclass
class Report:
    metrics: dict[str, float] = field(default_factory=dict)
    figures: dict[str, Figure] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    breakdown: dict[str, dict[str, dict[str, Figure]]] = field(default_factory=dict)
    reliability: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def figure(f: Figure) -> dict[str, Any]:
            return {
                "value": _round(f.value),
                "n": f.n,
                "low": _round(f.low),
                "high": _round(f.high),
            }

        return {
            **{name: _round(value) for name, value in self.metrics.items()},
            "counts": self.counts,
            "intervals": {name: figure(f) for name, f in self.figures.items()},
            "breakdown": {
                by: {group: {m: figure(f) for m, f in row.items()} for group, row in rows.items()}
                for by, rows in self.breakdown.items()
            },
            "reliability": self.reliability,
        }

    def lines(self) -> list[str]:
        """The report as plain text: figures with intervals, breakdowns, reliability."""
        out = [", ".join(f"{name}: {count}" for name, count in self.counts.items())]
        for name, value in self.metrics.items():
            shown = self.figures.get(name)
            out.append(f"{name:>20}  {shown if shown else f'{value:.3f}'}")
        for by, rows in self.breakdown.items():
            out.append("")
            out.append(f"by {by}:")
            columns = [m for m in BREAKDOWN if any(row[m].n for row in rows.values())]
            out.append(f"  {'':<44}" + "".join(f"{m:>20}" for m in columns))
            for group, row in rows.items():
                cells = "".join(
                    f"{(f'{row[m].value:.2f} ({row[m].n})' if row[m].n else '–'):>20}"
                    for m in columns
                )
                out.append(f"  {group[:44]:<44}{cells}")
        if self.reliability:
            out.append("")
            out.append("reliability (confidence given vs documents covering the question):")
            for row in self.reliability:
                out.append(
                    f"  {row['bin']:>9}: {row['n']:>3} questions, mean confidence "
                    f"{row['confidence']:.2f}, covered {row['covered']:.2f}"
                )
        return out


def _round(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def read_cases(path: Path) -> list[Case]:
    """Parse a question file, or every ``*.jsonl`` file of a directory.

    Raises:
        PolicyBotError: a file cannot be read, a line is not a question, or there are no
            questions at all (naming the file and line).
    """
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    cases = [case for file in files for case in _read_file(file)]
    if not cases:
        raise PolicyBotError(f"{path} holds no questions")
    return cases


def _case(row: dict[str, Any], number: int, file: str) -> Case:
    """One question of a set, checked against the format in ``eval/README.md``.

    Raises:
        ValueError: the row is not a question of that format (the message says why).
    """
    if not isinstance(row, dict):
        raise ValueError("each line must be one JSON object")
    kind = str(row.get("kind", "answer"))
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    case = Case(
        id=str(row.get("id", number)),
        question=str(row["question"]),
        kind=kind,
        sources=tuple((s["doc"], str(s["section"])) for s in row.get("sources", [])),
        route=row.get("route"),
        mention_any=tuple(row.get("mention_any", [])),
        voice=str(row.get("voice") or ""),
        file=file,
        context=_context(row),
        depends=row.get("depends"),
    )
    if case.depends not in (None, True, False):
        raise ValueError('"depends" must be true or false')
    if kind == "answer" and not (case.sources or case.mention_any):
        raise ValueError('an "answer" question needs "sources" or "mention_any" to be scored')
    if kind == "escalate" and case.route not in TEAMS:
        raise ValueError(f'an "escalate" question needs "route": one of {", ".join(TEAMS)}')
    if kind == "unknown" and (case.sources or case.route):
        raise ValueError('an "unknown" question has no "sources" and no "route"')
    return case


def _context(row: dict[str, Any]) -> tuple[str, ...]:
    context = row.get("context", [])
    if not isinstance(context, list) or not all(isinstance(m, str) and m for m in context):
        raise ValueError('"context" must be a list of the earlier messages')
    return tuple(context)


def _read_file(path: Path) -> list[Case]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyBotError(f"cannot read {path}: {exc}") from exc
    cases = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(_case(json.loads(line), number, path.stem))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise PolicyBotError(f"{path.name} line {number}: {exc}") from exc
    return cases


def run(bot: PolicyBot, cases: Sequence[Case], *, context: bool = True) -> Report:
    """Ask every question and score the answers.

    Args:
        bot: the engine.
        cases: the questions.
        context: ask a conversation's earlier messages first, in one conversation (False:
            the last turn is asked alone).
    """
    outcomes = []
    for case in cases:
        window = _converse(bot, case.context) if context else []
        answer = bot.ask(case.question, window)
        cleaned = clean(case.question)
        ranked: list[tuple[str, str]] = []
        if cleaned.searchable:
            searched = answer.searched or cleaned.text
            hits = bot.retriever().search(searched, k=max(KS)).hits
            ranked = [(Path(h.chunk.source).stem, h.chunk.section) for h in hits]
        outcomes.append(Outcome(case, answer, ranked))
    return score(outcomes)


def _converse(bot: PolicyBot, messages: Sequence[str]) -> list[Turn]:
    """Ask a conversation's earlier messages in turn; the window they leave."""
    window: list[Turn] = []
    for message in messages:
        cleaned = clean(message)
        answer = bot.ask(message, window)
        if carries_subject(cleaned.text):
            searched = answer.searched or cleaned.text
            turn = Turn(answer.question, searched, answer.id, datetime.now(UTC))
            window = [*window, turn][-WINDOW_TURNS:]
    return window


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The 95% Wilson score interval of a share ``successes / n``."""
    if n == 0:
        return float("nan"), float("nan")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _figure(flags: Iterable[bool]) -> Figure:
    values = list(flags)
    if not values:
        return Figure(float("nan"), 0, float("nan"), float("nan"))
    low, high = wilson(sum(values), len(values))
    return Figure(sum(values) / len(values), len(values), low, high)


#: Each figure: which questions it is measured on, and what counts as a success.
Metric = tuple[Callable[[Outcome], bool], Callable[[Outcome], bool]]


def _recall(k: int) -> Metric:
    return (lambda o: bool(o.case.sources), lambda o: (o.rank() or 99) <= k)


METRICS: dict[str, Metric] = {
    **{f"recall@{k}": _recall(k) for k in KS},
    "citation_recall@3": (
        lambda o: bool(o.case.sources),
        lambda o: any(
            (Path(c.source).stem, c.section) in o.case.sources for c in o.answer.citations[:3]
        ),
    ),
    "key_fact": (lambda o: o.case.kind == "answer" and bool(o.case.mention_any), Outcome.mentions),
    "answered": (lambda o: o.case.kind == "answer", lambda o: o.answer.answered),
    "unknown_unanswered": (lambda o: o.case.kind == "unknown", lambda o: not o.answer.answered),
    "routing": (lambda o: bool(o.case.route), Outcome.routed),
    "situations_routed": (lambda o: o.case.kind == "escalate", Outcome.routed),
    "false_escalation": (
        lambda o: o.case.kind != "escalate",
        lambda o: o.answer.escalation.suggested,
    ),
    "follow_up_combined": (
        lambda o: bool(o.case.context) and o.case.depends is True,
        lambda o: bool(o.answer.context_id),
    ),
    "false_combination": (
        lambda o: bool(o.case.context) and o.case.depends is False,
        lambda o: bool(o.answer.context_id),
    ),
    # Questions answered with a reviewer's approved answer (bot.approved.service), not the
    # documents.
    "approved_served": (lambda o: True, lambda o: o.answer.approved is not None),
}
BREAKDOWN = (
    "recall@3",
    "key_fact",
    "answered",
    "unknown_unanswered",
    "situations_routed",
    "false_escalation",
    "follow_up_combined",
    "false_combination",
)


def _measure(outcomes: Sequence[Outcome], name: str) -> Figure:
    applies, success = METRICS[name]
    return _figure(success(o) for o in outcomes if applies(o))


def score(outcomes: Sequence[Outcome]) -> Report:
    report = Report()
    for name in METRICS:
        report.figures[name] = _measure(outcomes, name)
        report.metrics[name] = report.figures[name].value
    latencies = sorted(o.answer.elapsed_ms for o in outcomes)
    report.metrics["p50_ms"] = statistics.median(latencies) if latencies else float("nan")
    report.metrics["p95_ms"] = (
        latencies[max(0, round(0.95 * len(latencies)) - 1)] if latencies else float("nan")
    )
    report.counts = {
        "questions": len(outcomes),
        **{kind: sum(o.case.kind == kind for o in outcomes) for kind in KINDS},
        "approved": sum(o.answer.approved is not None for o in outcomes),
    }
    groupings: dict[str, Callable[[Outcome], str]] = {
        "kind": lambda o: o.case.kind,
        "document": lambda o: o.case.sources[0][0] if o.case.sources else "(none)",
        "voice": lambda o: o.case.voice or "(not given)",
        "file": lambda o: o.case.file,
        "depends": _depends,
    }
    for by, key in groupings.items():
        groups: dict[str, list[Outcome]] = {}
        for o in outcomes:
            groups.setdefault(key(o), []).append(o)
        if len(groups) > 1:
            report.breakdown[by] = {
                group: {m: _measure(members, m) for m in BREAKDOWN}
                for group, members in sorted(groups.items())
            }
    report.reliability = _reliability(outcomes)
    report.failures = [_failure(o) for o in outcomes if _problems(o)]
    return report


def _depends(o: Outcome) -> str:
    if not o.case.context or o.case.depends is None:
        return "(alone)"
    return "follow-up" if o.case.depends else "topic change"


def _reliability(outcomes: Sequence[Outcome]) -> list[dict[str, Any]]:
    """Confidence given against how often the documents covered the question, by bin."""
    rows = []
    for low, high in zip(RELIABILITY_BINS, RELIABILITY_BINS[1:], strict=False):
        members = [o for o in outcomes if low <= o.answer.confidence < high]
        if members:
            rows.append(
                {
                    "bin": f"{low:.1f}–{min(high, 1.0):.1f}",
                    "n": len(members),
                    "confidence": round(statistics.fmean(o.answer.confidence for o in members), 3),
                    "covered": round(
                        statistics.fmean(o.case.kind != "unknown" for o in members), 3
                    ),
                }
            )
    return rows


def _failure(o: Outcome) -> dict[str, Any]:
    return {
        "id": o.case.id,
        "question": o.case.question,
        **({"context": list(o.case.context), "depends": o.case.depends} if o.case.context else {}),
        **({"searched": o.answer.searched} if o.answer.searched else {}),
        "problems": _problems(o),
        "answer": o.answer.text,
        "retrieved": [f"{d} {s}" for d, s in o.ranked[:3]],
        "wanted": [f"{d} {s}" for d, s in o.case.sources],
        "confidence": round(o.answer.confidence, 3),
    }


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
    if o.case.context and o.case.depends is False and o.answer.context_id:
        problems.append("a new topic was combined with the earlier question")
    return problems
