"""The audit trail: pseudonyms, the link to cases, exports and retention."""

from __future__ import annotations

import csv
import io
import stat
from dataclasses import replace
from pathlib import Path

from bot.audit.trail import CSV_FIELDS, LLMUsage, load_or_create_key, pseudonymise, purge, write_csv
from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.models import Answer, Citation, Escalation, Question
from bot.ports import RecordingNotifier
from tests.bot.conftest import HR, STAFF, FakeClock


def _exchange(answer_id: str = "ans-1", user: str = STAFF) -> tuple[Question, Answer]:
    question = Question("May I like a councillor's post?", user_id=user, platform="slack")
    answer = Answer(
        question=question.text,
        answered=True,
        text="Yes, in a personal capacity (4.2).",
        citations=(Citation("policy.txt", "4.2", "Personal use", "Staff may...", 0.71),),
        escalation=Escalation(False, None, ""),
        elapsed_ms=42.5,
        knowledge_version="k-2026-03",
        id=answer_id,
    )
    return question, answer


def test_key_is_created_once_private_and_reused(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "data")
    path = tmp_path / "data" / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "data") == key and len(key) == 32
    assert list((tmp_path / "data").iterdir()) == [path]  # no temporary file left behind


def test_pseudonyms_are_stable_keyed_and_not_the_id() -> None:
    one = pseudonymise(b"k" * 32, STAFF)
    assert one == pseudonymise(b"k" * 32, STAFF)
    assert one != pseudonymise(b"j" * 32, STAFF)
    assert one.startswith("anon:") and "USTAFF" not in one


def test_record_keeps_what_the_bot_told_whom(work: Casework, clock: FakeClock) -> None:
    question, answer = _exchange()
    work.audit.record(question, answer, usage=LLMUsage("gpt-x", 120, 30))
    (entry,) = work.audit.entries()
    assert entry.at == clock.now
    assert entry.asker == work.audit.pseudonym(STAFF) and entry.asker_pseudonymised
    assert (entry.platform, entry.question, entry.answered) == ("slack", question.text, True)
    assert entry.citations[0]["section"] == "4.2"
    assert entry.escalation == {"suggested": False, "team": None, "reason": ""}
    assert (entry.knowledge_version, entry.latency_ms) == ("k-2026-03", 42.5)
    assert (entry.llm_model, entry.llm_prompt_tokens, entry.llm_completion_tokens) == (
        "gpt-x",
        120,
        30,
    )
    data = entry.to_json()
    assert data["knowledge_version"] == "k-2026-03" and data["at"].endswith("+00:00")
    assert STAFF not in str(data)


def test_a_question_that_became_a_case_carries_the_real_asker(work: Casework) -> None:
    question, answer = _exchange("ans-7")
    work.audit.record(question, answer)
    work.audit.record(*_exchange("ans-8"))
    case = work.cases.open(CaseRequest.from_answer("hr", question, answer))
    by_answer = {entry.answer_id: entry for entry in work.audit.entries()}
    assert by_answer["ans-7"].asker == STAFF and not by_answer["ans-7"].asker_pseudonymised
    assert by_answer["ans-7"].case_id == case.id
    assert by_answer["ans-8"].asker_pseudonymised  # the other question stays pseudonymous


def test_an_anonymous_case_leaves_the_audit_pseudonymous(work: Casework) -> None:
    question, answer = _exchange("ans-9")
    work.audit.record(question, answer)
    work.cases.open(CaseRequest.from_answer("hr", question, answer, anonymous=True))
    (entry,) = work.audit.entries()
    assert entry.asker_pseudonymised and STAFF not in entry.asker


def test_since_and_csv_export(work: Casework, clock: FakeClock) -> None:
    work.audit.record(*_exchange("old"))
    since = clock.advance(days=2)
    work.audit.record(*_exchange("new"))
    assert [e.answer_id for e in work.audit.entries(since)] == ["new"]
    stream = io.StringIO()
    write_csv(work.audit.entries(), stream)
    rows = list(csv.DictReader(io.StringIO(stream.getvalue())))
    assert tuple(rows[0]) == CSV_FIELDS and len(rows) == 2
    assert rows[1]["knowledge_version"] == "k-2026-03"


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_quoted(work: Casework) -> None:
    question, answer = _exchange()
    hostile = '=HYPERLINK("http://example.invalid","click")'
    work.audit.record(replace(question, text=hostile), replace(answer, question=hostile))
    stream = io.StringIO()
    write_csv(work.audit.entries(), stream)
    (row,) = csv.DictReader(io.StringIO(stream.getvalue()))
    assert row["question"] == f"'{hostile}"
    assert row["knowledge_version"] == "k-2026-03"  # ordinary cells are untouched


def test_purge_applies_retention_to_audit_feedback_and_sent_deliveries(
    work: Casework, clock: FakeClock
) -> None:
    work.audit.record(*_exchange("old"))
    work.feedback.record("old", True, comment="great")
    case_id = work.cases.open(CaseRequest("hr", STAFF, "Old question")).id
    work.outbox.flush(RecordingNotifier())  # the announcement is sent (and old)
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "Reply never delivered", by=HR)  # pending: must be kept
    clock.advance(days=400)
    work.audit.record(*_exchange("recent"))
    work.feedback.record("recent", False)

    result = work.purge()
    assert (result.audit, result.feedback, result.deliveries) == (1, 1, 1)
    assert [e.answer_id for e in work.audit.entries()] == ["recent"]
    assert work.feedback.summary().not_helpful == 1 and work.feedback.summary().helpful == 0
    assert [c.id for c in work.cases.list()] == [case_id]  # cases are kept
    assert [p.kind for p in work.outbox.pending()] == ["deliver_reply"]


def test_zero_retention_keeps_everything(work: Casework, clock: FakeClock) -> None:
    work.audit.record(*_exchange())
    clock.advance(days=4000)
    assert purge(work.db, 0, now=clock.now).cutoff is None
    assert len(work.audit.entries()) == 1
