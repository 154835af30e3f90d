"""Plain-text renderings of cases, feedback and audit rows for the command line.

Plain ``str`` on purpose: the text is staff's own words, and rich markup would eat square
brackets in it. Anonymity is already applied by :class:`~bot.case_views.CaseView`.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, TYPE_CHECKING

from bot.models import TEAM_NAMES

if TYPE_CHECKING:  # storage modules: the command line loads them only for the case commands
    from bot.audit.trail import AuditEntry
    from bot.case_views import CaseView
    from bot.cases.feedback import FeedbackSummary

CASE_CSV_FIELDS = (
    "id",
    "team",
    "status",
    "platform",
    "asker",
    "asker_name",
    "anonymous",
    "created_at",
    "updated_at",
    "claimed_by",
    "question",
    "note",
    "answer",
    "citations",
    "events",
)


def when(moment: datetime) -> str:
    """A UTC time to the minute, for people."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def shorten(text: str, width: int) -> str:
    """One line of at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def asker_label(case: CaseView) -> str:
    """Who asked, as reviewers may see it."""
    if case.anonymous:
        return "(anonymous)"
    if case.asker_name:
        return f"{case.asker_name} <{case.asker}>"
    return case.asker or ""


def case_lines(case: CaseView) -> list[str]:
    """``escalations show``: the case and its whole history."""
    from bot.cases.outbox import UNREACHABLE_PLATFORMS

    lines = [
        f"{case.id}  {case.status}  {TEAM_NAMES[case.team]}",
        f"Asked by:  {asker_label(case)} on {case.platform}, {when(case.created_at)}",
    ]
    if case.claimed_by:
        lines.append(f"Claimed by: {case.claimed_by}")
    lines += ["", "Question:", f"  {case.question}"]
    if case.note:
        lines += ["Note from the asker:", f"  {case.note}"]
    if case.answer:
        lines += ["The bot answered:", f"  {case.answer}"]
    for citation in case.citations:
        lines.append(f"  - {citation.get('source', '')} {citation.get('section', '')}".rstrip())
    lines += ["", "History:"]
    for event in case.events:
        who = event.by or "(anonymous asker)"
        text = f": {event.text}" if event.text else ""
        lines.append(f"  {when(event.at)}  {event.action:<9} {who}{text}")
    if case.pending_deliveries:
        lines.append(f"{case.pending_deliveries} notification(s) queued for delivery.")
    if case.platform in UNREACHABLE_PLATFORMS and any(e.action == "replied" for e in case.events):
        lines.append("The asker used the command line: replies are read here, not sent to them.")
    return lines


def case_table(cases: Sequence[CaseView]) -> list[str]:
    """``escalations list``: one line per case."""
    if not cases:
        return ["No cases."]
    lines = []
    for case in cases:
        asker = shorten(asker_label(case), 24)
        question = shorten(case.question, 50)
        lines.append(
            f"{case.id:<9} {case.status:<9} {when(case.created_at)}  {asker:<24} {question}"
        )
    return lines


def write_cases_csv(cases: Iterable[CaseView], stream: IO[str]) -> None:
    """``escalations export --format csv``; citations and events as JSON cells."""
    from bot.audit.trail import spreadsheet_safe

    writer = csv.DictWriter(stream, fieldnames=CASE_CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for case in cases:
        row = case.to_json()
        row["citations"] = json.dumps(row["citations"], ensure_ascii=False)
        row["events"] = json.dumps(row["events"], ensure_ascii=False)
        writer.writerow(spreadsheet_safe(row))


def feedback_lines(summary: FeedbackSummary) -> list[str]:
    """``policybot feedback``: the counts, then the comments, newest first."""
    total = summary.helpful + summary.not_helpful
    lines = [f"Helpful: {summary.helpful}   Not helpful: {summary.not_helpful}   Total: {total}"]
    for comment in summary.comments:
        vote = "helpful" if comment.helpful else "not helpful"
        about = f" (on: {shorten(comment.question, 60)})" if comment.question else ""
        lines.append(f"  {when(comment.at)}  {vote:<11} {comment.answer_id}{about}")
        lines.append(f"      {comment.comment}")
    return lines


def audit_lines(entries: Sequence[AuditEntry]) -> list[str]:
    """``policybot audit``: one line per question."""
    if not entries:
        return ["No audit entries."]
    lines = []
    for entry in entries:
        answered = "answered" if entry.answered else "not answered"
        if entry.approved_answer:
            answered = entry.approved_answer
        lines.append(
            f"{when(entry.at)}  {shorten(entry.asker, 22):<22} {answered:<12} "
            f"v{entry.knowledge_version or '?'}  {entry.latency_ms:.0f} ms  "
            f"{shorten(entry.question, 50)}"
        )
    return lines
