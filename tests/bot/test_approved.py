"""Approved answers through the Assistant: approve, serve, refuse, suspend on a reload,
re-approve, retire, audit; on SQLite and PostgreSQL, with the fast embedder."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.approved import match
from bot.approved.match import RECHECK_S, ApprovedMatcher
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Answer, ApprovedRef, Question
from bot.ops.evaluation import Case, Outcome, score
from bot.ports import RecordingNotifier
from bot.storage import db
from bot.storage.db import database_url
from tests.bot.conftest import ADMIN, COMMS, HR, STAFF, Backend, FakeClock
from tests.bot.test_index import POLICY, Site, indexed, site, template  # noqa: F401

QUESTION = "Limited reasonable personal use during working time: how many minutes in a working day?"
REPLY = "Up to 10 minutes a day outside your breaks, as long as your work does not suffer."
CLAUSE = "electronic-communication-and-social-media-policy:4.3"
LABEL = "**Approved by the HR Advisory team on 2 March 2026**"


@pytest.fixture
def assistant(indexed: Site, database: Backend, clock: FakeClock) -> Iterator[Assistant]:  # noqa: F811
    work = Casework.open(database.settings(), clock=clock)
    try:
        yield Assistant(indexed.bot(), work)
    finally:
        work.close()


def ask(assistant: Assistant, text: str = QUESTION, user: str = "slack:UOTHER") -> Answer:
    return assistant.ask(Question(text=text, user_id=user, platform="slack"))


def replied_case(assistant: Assistant, reply: str = REPLY) -> str:
    """A case on QUESTION with the reviewer's reply."""
    asker = Question(text=QUESTION, user_id=STAFF, platform="slack")
    case = assistant.escalate_question(QUESTION, "hr", asker=asker).case
    if reply:
        assistant.act(case.id, "reply", by=HR, text=reply)
    return case.id


def test_an_approved_reply_answers_the_same_question_later_with_its_label(
    assistant: Assistant,
) -> None:
    before = ask(assistant)
    assert before.approved is None
    case_id = replied_case(assistant)

    view = assistant.approve(case_id, by=HR, clauses=(CLAUSE,))

    assert (view.id, view.team, view.status, view.case_id) == ("A-0001", "hr", "active", case_id)
    assert (view.text, view.question, view.approved_by) == (REPLY, QUESTION, HR)
    (clause,) = view.clauses
    assert (clause.source, clause.section) == (POLICY, "4.3") and "10 minutes" in clause.text
    answer = ask(assistant)
    assert answer.approved is not None and answer.approved.id == "A-0001"
    assert answer.text == f"{LABEL}\n\n{REPLY}"
    assert [(c.source, c.section) for c in answer.citations] == [(POLICY, "4.3")]
    assert answer.to_json()["approved"]["approved_by"] == HR
    # Only the approved text travels: nothing of the case (who asked) is in the answer.
    assert STAFF not in answer.text and case_id not in answer.text
    audited = {e.answer_id: e for e in assistant.work.audit.entries()}
    assert audited[answer.id].approved_answer == "A-0001"
    assert audited[answer.id].to_json()["approved_answer"] == "A-0001"
    assert audited[before.id].approved_answer is None


def test_a_new_text_a_general_question_and_the_answers_own_clauses(
    assistant: Assistant,
) -> None:
    case_id = replied_case(assistant)
    general = "How many minutes of limited personal use in a working day?"
    view = assistant.approve(
        case_id, by=ADMIN, text="  A new text.  ", question=general, clauses=(CLAUSE,)
    )
    assert (view.text, view.question, view.approved_by) == ("A new text.", general, ADMIN)
    # Without --clause, the clauses the bot's answer on the case cited: none for a question
    # escalated without an answer, so the reviewer is asked to name them.
    asker = Question(text=QUESTION, user_id=STAFF, platform="slack")
    answer = ask(assistant, "Can I use Facebook in my lunch break?", user=STAFF)
    case = assistant.escalate(answer.id, "hr", asker=asker).case
    assistant.act(case.id, "reply", by=HR, text="Yes, in your own time.")
    cited = assistant.approve(case.id, by=HR)
    assert [(c.source, c.section) for c in cited.clauses] == [
        (c.source, c.section) for c in answer.citations
    ]
    assert ask(assistant, general).text == f"{LABEL}\n\nA new text."


def test_who_may_approve_and_what_is_refused_is_worded_for_people(
    assistant: Assistant,
) -> None:
    case_id = replied_case(assistant, reply="")
    for person in (STAFF, COMMS, ""):
        with pytest.raises(NotAuthorizedError) as refused:
            assistant.approve(case_id, by=person, clauses=(CLAUSE,))
        assert str(refused.value) == (
            "Sorry, only the HR Advisory team reviewers and PolicyBot admins can approve "
            "its approved answers."
        )
        with pytest.raises(NotAuthorizedError):
            assistant.may_approve(case_id, by=person)
    assert assistant.may_approve(case_id, by=HR).id == case_id
    with pytest.raises(EscalationError, match="has no reply yet: reply first, or give the text"):
        assistant.approve(case_id, by=HR, clauses=(CLAUSE,))
    with pytest.raises(EscalationError, match="Name the clause"):
        assistant.approve(case_id, by=HR, text="Yes.")
    with pytest.raises(EscalationError, match="has no clause 99.9"):
        assistant.approve(case_id, by=HR, text="Yes.", clauses=("electronic-comm:99.9",))
    with pytest.raises(EscalationError, match="does not name one document"):
        assistant.approve(case_id, by=HR, text="Yes.", clauses=("policy:4.3",))
    with pytest.raises(EscalationError, match="is not a clause"):
        assistant.approve(case_id, by=HR, text="Yes.", clauses=("4.3",))
    with pytest.raises(EscalationError, match="too long"):
        assistant.approve(case_id, by=HR, text="x" * 5000, clauses=(CLAUSE,))
    assert assistant.approved_answers() == []


def test_an_unrelated_question_gets_the_documents_answer(assistant: Assistant) -> None:
    assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    answer = ask(assistant, "Who may speak to journalists on behalf of the Council?")
    assert answer.approved is None and "Approved by" not in answer.text


def test_a_reload_that_changes_a_cited_clause_suspends_the_answer_and_tells_the_team(
    assistant: Assistant,
    indexed: Site,  # noqa: F811
) -> None:
    view = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    unrelated = assistant.approve(
        replied_case(assistant), by=HR, text="Ask IT.", clauses=(f"{POLICY}:14.4",)
    )
    indexed.edit(POLICY, "no more than 10 minutes", "no more than 15 minutes")

    assistant.reload(knowledge_dir=indexed.knowledge)

    suspended = assistant.approved_answer(view.id)
    assert suspended.status == "suspended" and "clause it cites changed" in suspended.reason
    assert assistant.approved_answer(unrelated.id).status == "active"
    assert ask(assistant).approved is None
    notifier = RecordingNotifier()
    assistant.deliver(notifier)
    (told,) = notifier.of_kind("notify_team")
    assert told.team == "hr"
    assert "**1 approved answer of the HR Advisory team needs review**" in told.text
    assert "A-0001" in told.text and "A-0002" not in told.text
    assert "than 10 minutes → than 15 minutes" in told.text
    assert "Was: " in told.text and "no more than 10 minutes" in told.text
    assert "Now: " in told.text and "no more than 15 minutes" in told.text
    # Told once: the next answer given (which checks the live build) queues nothing more.
    ask(assistant, "anything at all")
    assert assistant.deliver(notifier).sent == 0

    with pytest.raises(NotAuthorizedError):
        assistant.reinstate(view.id, by=STAFF)
    again = assistant.reinstate(view.id, by=HR, text="Up to 15 minutes a day.")
    assert again.status == "active" and "15 minutes" in again.clauses[0].text
    assert ask(assistant).text == f"{LABEL}\n\nUp to 15 minutes a day."
    with pytest.raises(EscalationError, match="already active"):
        assistant.reinstate(view.id, by=HR)


def test_a_reload_made_by_another_process_suspends_at_the_next_answer(
    assistant: Assistant,
    indexed: Site,  # noqa: F811
) -> None:
    view = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    assert ask(assistant).approved is not None
    indexed.edit(POLICY, "no more than 10 minutes", "no more than 20 minutes")
    indexed.reload()  # as `policybot reload` beside the server does

    assert ask(assistant).approved is None
    assert assistant.approved_answer(view.id).status == "suspended"
    notifier = RecordingNotifier()
    assistant.deliver(notifier)
    assert len(notifier.of_kind("notify_team")) == 1


# The write lock another process holds here is SQLite's (PostgreSQL locks rows, not the file).
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_reload_by_another_process_while_the_database_is_locked_keeps_no_answer_waiting(
    assistant: Assistant,
    indexed: Site,  # noqa: F811
    database: Backend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    view = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    assert ask(assistant).approved is not None
    indexed.edit(POLICY, "no more than 10 minutes", "no more than 20 minutes")
    indexed.reload()
    monkeypatch.setattr(match, "SUSPEND_PAUSE", 0.05)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 100)  # each background try, while locked
    holder = sqlite3.connect(str(database_url(database.settings()).database))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        assert ask(assistant).approved is None  # the changed clause: not served meanwhile
        assert assistant.approved_answer(view.id).status == "active"  # not suspended yet
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # Suspended behind the answer once the lock went, without another question.
    until = time.monotonic() + 30
    while assistant.approved_answer(view.id).status != "suspended":
        assert time.monotonic() < until, "the answer was never suspended"
        time.sleep(0.05)
    notifier = RecordingNotifier()
    assistant.deliver(notifier)
    assert len(notifier.of_kind("notify_team")) == 1


def test_a_removed_clause_cannot_be_reinstated(
    assistant: Assistant,
    indexed: Site,  # noqa: F811
) -> None:
    indexed.append_clause("19.9 Pigeons may not be fed from Council windows.")
    assistant.reload(knowledge_dir=indexed.knowledge)
    view = assistant.approve(
        replied_case(assistant), by=HR, text="No pigeons.", clauses=(f"{POLICY}:19.9",)
    )
    indexed.edit(POLICY, "19.9 Pigeons may not be fed from Council windows.", "")
    assistant.reload(knowledge_dir=indexed.knowledge)
    assert assistant.approved_answer(view.id).status == "suspended"
    notifier = RecordingNotifier()
    assistant.deliver(notifier)
    (told,) = notifier.of_kind("notify_team")
    assert "19.9 (" in told.text and "was removed" in told.text
    with pytest.raises(EscalationError, match="no longer in the documents"):
        assistant.reinstate(view.id, by=HR)


def test_retire_list_and_show(assistant: Assistant) -> None:
    first = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    assistant.approve(replied_case(assistant), by=HR, text="Other.", clauses=(CLAUSE,))
    with pytest.raises(NotAuthorizedError, match="can retire"):
        assistant.retire(first.id, by=COMMS)
    retired = assistant.retire(first.id, by=ADMIN, reason="out of date")
    assert retired.status == "retired" and retired.reason == f"retired by {ADMIN}: out of date"
    with pytest.raises(EscalationError, match="already retired"):
        assistant.retire(first.id, by=HR)
    assert [v.id for v in assistant.approved_answers(status="active")] == ["A-0002"]
    assert [v.id for v in assistant.approved_answers(team="hr")] == ["A-0001", "A-0002"]
    assert assistant.approved_answers(team="communications") == []
    assert assistant.approved_answer("a-1") == assistant.approved_answer("A-0001")
    assert ask(assistant).text.endswith("Other.")
    with pytest.raises(EscalationError, match="no approved answer A-0009"):
        assistant.approved_answer("A-0009")
    with pytest.raises(EscalationError, match="not an approved answer id"):
        assistant.approved_answer("HR-0001")
    with pytest.raises(EscalationError, match="unknown status"):
        assistant.approved_answers(status="gone")
    assert assistant.reinstate(first.id, by=HR).status == "active"


def test_another_assistant_in_the_process_sees_a_change_at_once(
    assistant: Assistant,
    indexed: Site,  # noqa: F811
    database: Backend,
    clock: FakeClock,
) -> None:
    other_work = Casework.open(database.settings(), clock=clock)
    other = Assistant(indexed.bot(), other_work)
    try:
        assert ask(other).approved is None  # caches "none" for this version
        view = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
        assert ask(other).approved is not None
        assistant.retire(view.id, by=HR)
        assert ask(other).approved is None
    finally:
        other_work.close()


def test_another_process_change_is_served_after_the_recheck_interval(
    assistant: Assistant, database: Backend
) -> None:
    """The database's version is read at most every RECHECK_S seconds: a retirement by
    another process (the command line here) is seen once they have passed."""
    seconds = [0.0]
    assistant.matcher = ApprovedMatcher(
        lambda: assistant.work.approved, monotonic=lambda: seconds[0]
    )
    view = assistant.approve(replied_case(assistant), by=HR, clauses=(CLAUSE,))
    assert ask(assistant).approved is not None  # this process's change: seen at once
    command = [str(Path(sys.executable).parent / "policybot"), "answers", "retire", view.id]
    subprocess.run([*command, "--by", HR], env=database.env(), check=True, capture_output=True)

    assert ask(assistant).approved is not None  # within the interval: the cached answers
    seconds[0] += RECHECK_S
    assert ask(assistant).approved is None


def test_eval_counts_the_questions_an_approved_answer_answered() -> None:
    case = Case("q1", "Can I?", "answer", (), None, ())
    ref = ApprovedRef("A-0001", "hr", HR, "2026-03-02T09:00:00+00:00", 0.9)
    outcomes = [
        Outcome(case, Answer("Can I?", True, "Yes", approved=ref), []),
        Outcome(case, Answer("Can I?", True, "Yes"), []),
    ]
    report = score(outcomes)
    assert report.counts["approved"] == 1
    assert report.metrics["approved_served"] == 0.5
    assert report.to_json()["intervals"]["approved_served"]["n"] == 2
