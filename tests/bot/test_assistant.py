"""The Assistant: answers audited, escalations from memory or the audit log, honest records."""

from __future__ import annotations

import functools
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from bot import phrases
from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Question
from bot.storage import db
from bot.usecases import core as usecases_core

QUESTION = "A journalist has just phoned me asking about a Council decision. What should I do?"


@pytest.fixture
def work(tmp_path: Path) -> Iterator[Casework]:
    casework = Casework.open(Settings(data_dir=tmp_path))
    yield casework
    casework.close()


def asker(user: str) -> Question:
    return Question(text="", user_id=user, platform="slack", conversation=f"slack:{user}")


def test_an_answer_from_before_a_restart_can_still_be_escalated(
    real_bot: PolicyBot, work: Casework
) -> None:
    answer = Assistant(real_bot, work).ask(Question(text=QUESTION, user_id="slack:U1"))
    restarted = Assistant(real_bot, work)  # nothing in memory

    case = restarted.escalate(answer.id, "communications", asker=asker("slack:U1")).case

    assert case.question == QUESTION
    assert case.answer == answer.text
    assert [c["section"] for c in case.citations] == [c.section for c in answer.citations]
    with pytest.raises(EscalationError, match="ask the question again"):
        Assistant(real_bot, work).escalate("no-such-answer", "hr", asker=asker("slack:U1"))


def test_only_the_asker_of_an_answer_may_pass_it_to_a_team(
    real_bot: PolicyBot, work: Casework
) -> None:
    assistant = Assistant(real_bot, work)
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))

    with pytest.raises(NotAuthorizedError) as refused:
        assistant.escalate(answer.id, "communications", asker=asker("slack:U2"))
    assert str(refused.value) == phrases.NOT_YOUR_ANSWER
    restarted = Assistant(real_bot, work)  # the asker read back from the audit row
    with pytest.raises(NotAuthorizedError):
        restarted.escalate(answer.id, "communications", asker=asker("slack:U2"))
    assert work.cases.list() == []
    (row,) = work.audit.entries()
    assert row.asker_pseudonymised and row.asker not in {"slack:U1", "slack:U2"}

    assert restarted.escalate(answer.id, "communications", asker=asker("slack:U1")).case
    (row,) = work.audit.entries()
    assert row.asker == "slack:U1" and row.case_id == "COM-0001"
    # Once a case names the asker, their audit row holds their id: still theirs alone.
    again = Assistant(real_bot, work)
    assert again.escalate(answer.id, "hr", asker=asker("slack:U1")).case.id == "HR-0001"
    with pytest.raises(NotAuthorizedError):
        again.escalate(answer.id, "hr", asker=asker("slack:U2"))


def test_the_question_is_kept_as_asked(real_bot: PolicyBot, work: Casework) -> None:
    text = "Someone set up a fake profile to pretend to be me on Facebook, what do I do?"
    answer = Assistant(real_bot, work).ask(Question(text=text, user_id="slack:U1"))
    assert answer.question == text
    assert not answer.notices


HR = "slack:UHR"
PEOPLE = {"hr_reviewers": frozenset({HR}), "admins": frozenset({"cli:admin"})}


@pytest.fixture
def assistant(real_bot: PolicyBot, tmp_path: Path) -> Iterator[Assistant]:
    casework = Casework.open(Settings(data_dir=tmp_path / "people", **PEOPLE))
    yield Assistant(real_bot, casework)
    casework.close()


def test_escalating_again_gives_the_same_case(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    first = assistant.escalate(answer.id, "hr", asker=asker("slack:U1"))
    again = assistant.escalate(answer.id, "hr", asker=asker("slack:U1"), note="ignored")
    assert (first.again, again.again) == (False, True)
    assert again.case.id == first.case.id == "HR-0001" and again.case.note == ""
    # after a restart, too: the core remembers in the database, not in the process
    assert (
        Assistant(assistant.engine, assistant.casework)
        .escalate(answer.id, "hr", asker=asker("slack:U1"))
        .again
    )
    assert [c.id for c in assistant.my_cases("slack:U1")] == ["HR-0001"]


def test_a_failed_question_is_escalated_once(assistant: Assistant) -> None:
    ask = functools.partial(assistant.escalate_question, "Why?", "communications")
    first, again = ask(asker=asker("slack:U1")), ask(asker=asker("slack:U1"))
    assert first.case.id == again.case.id == "COM-0001" and again.again
    assert (first.case.question, first.case.answer) == ("Why?", "")
    assert ask(asker=asker("slack:U2")).case.id == "COM-0002"


def test_case_steps_are_checked_and_refusals_are_worded_for_people(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    case = assistant.escalate(answer.id, "hr", asker=asker("slack:U1")).case
    assert case.actions == ("claim", "reply")
    with pytest.raises(NotAuthorizedError) as refused:
        assistant.act(case.id, "claim", by="slack:U1")
    assert str(refused.value) == (
        "Sorry, only the HR Advisory team reviewers and PolicyBot admins can claim HR-0001. "
        "A PolicyBot admin adds reviewers to POLICYBOT_HR_REVIEWERS."
    )
    with pytest.raises(NotAuthorizedError, match="can reply to HR-0001"):
        assistant.may(case.id, "reply", by="slack:U1")
    assert assistant.may(case.id, "reply", by=HR) == case
    with pytest.raises(EscalationError, match="don't know how to 'delete'"):
        assistant.act(case.id, "delete", by=HR)

    replied = assistant.act(case.id, "reply", by=HR, text="Call me")  # claims it on the way
    assert (replied.status, replied.claimed_by, replied.actions) == (
        "answered",
        HR,
        ("reply", "resolve"),
    )
    assert [e.action for e in replied.events] == ["opened", "claimed", "replied"]
    assert assistant.act(case.id, "resolve", by=HR).actions == ("reopen",)
    reopened = assistant.act(case.id, "reopen", by="cli:admin", text="asker wrote back")
    assert reopened.status == "reopened" and reopened.events[-1].text == "asker wrote back"
    with pytest.raises(NotAuthorizedError, match="only the person who asked can add to HR-0001"):
        assistant.add_to_case(case.id, by=HR, note="not mine")
    assert assistant.add_to_case(case.id, by="slack:U1", anonymous=True).anonymous


def test_my_cases_and_my_teams_cases(assistant: Assistant) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    mine = assistant.escalate(answer.id, "hr", asker=asker("slack:U1")).case
    assistant.escalate(answer.id, "communications", asker=asker("slack:U1"))
    assert [c.id for c in assistant.my_cases("slack:U1")] == ["COM-0001", "HR-0001"]
    assert assistant.my_cases(HR) == []
    assert assistant.team_cases("slack:U1") == {}
    assert {team: [c.id for c in cases] for team, cases in assistant.team_cases(HR).items()} == {
        "hr": [mine.id]
    }
    assert set(assistant.team_cases("cli:admin")) == {"hr", "communications"}
    assistant.act(mine.id, "claim", by=HR)
    assistant.act(mine.id, "resolve", by=HR)
    assert assistant.team_cases(HR) == {"hr": []}  # resolved cases leave the list


def test_a_case_held_for_the_askers_choice_is_not_listed_to_the_team(
    assistant: Assistant,
) -> None:
    answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
    case = assistant.escalate(answer.id, "hr", asker=asker("slack:U1"), await_choice=True).case
    assert assistant.team_cases(HR) == {"hr": []}  # its card is held: nor is it listed
    assert [c.id for c in assistant.my_cases("slack:U1")] == [case.id]  # the asker sees it
    assistant.keep_name(case.id, by="slack:U1")
    assert [c.id for c in assistant.team_cases(HR)["hr"]] == [case.id]


def test_a_database_locked_at_start_up_is_used_once_released_and_no_audit_row_is_lost(
    real_bot: PolicyBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data", knowledge_dir=real_bot.settings.knowledge_dir)
    shutil.copytree(real_bot.settings.index_dir, settings.index_dir)
    Casework.open(settings).close()  # the schema exists; the lock below is the only fault
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    monkeypatch.setattr(usecases_core, "RETRY_DATABASE", 0.0)
    holder = sqlite3.connect(str(settings.data_dir / db.SQLITE_FILE))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    assistant = Assistant.open(settings)
    try:
        assert assistant.casework is not None  # opened at once: reading the schema needs no lock
        with pytest.raises(OperationalError, match="locked"):
            assistant.check_database()  # /healthz: 503
        answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
        assert answer.answered  # staff get their answer meanwhile
        assert assistant.spool is not None and assistant.spool.waiting == 1

        holder.execute("ROLLBACK")  # the lock is gone: no restart needed
        case = assistant.escalate(answer.id, "communications").case
        assistant.spool.drain(wait=30)  # after the writer thread, if it is writing now

        assert case.id.startswith("COM-")
        (entry,) = assistant.work.audit.entries()
        assert entry.answer_id == answer.id and assistant.spool.waiting == 0
    finally:
        holder.close()
        assistant.close()


def test_a_database_that_cannot_be_opened_is_tried_again_on_use_without_a_restart(
    real_bot: PolicyBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the database's directory should be")
    settings = Settings(
        data_dir=tmp_path / "data",
        knowledge_dir=real_bot.settings.knowledge_dir,
        database_url=f"sqlite:///{blocked}/policybot.sqlite3",
    )
    shutil.copytree(real_bot.settings.index_dir, settings.index_dir)
    monkeypatch.setattr(usecases_core, "RETRY_DATABASE", 0.0)
    assistant = Assistant.open(settings)
    try:
        assert assistant.casework is None
        answer = assistant.ask(Question(text=QUESTION, user_id="slack:U1"))
        assert answer.answered
        # The platform state is this process's memory meanwhile, and never reconnects.
        assert assistant.state.seen("slack", "Ev1") is False
        assert assistant.state.seen("slack", "Ev1") is True

        blocked.unlink()  # the database can be opened now
        case = assistant.escalate(answer.id, "hr").case
        assert case.id == "HR-0001" and assistant.casework is not None
        assert assistant.spool is not None
        assistant.spool.drain(wait=30)
        (entry,) = assistant.work.audit.entries()
        assert entry.answer_id == answer.id
    finally:
        assistant.close()


def test_the_start_up_summary_says_what_runs_and_why_the_rest_does_not(
    real_bot: PolicyBot, work: Casework
) -> None:
    lines = Assistant(real_bot, work).summary()
    text = "\n".join(lines)
    assert (
        "Slack: off (no SLACK_BOT_TOKEN)" in lines and "Teams: off (no MICROSOFT_APP_ID)" in lines
    )
    assert "Database: sqlite" in lines and "Model: none: extractive answers" in lines
    assert f"Knowledge version: {real_bot.knowledge_version}" in lines
    assert "embedded Chroma" in text and "0 admins" in text
    assert "Database: unavailable, retried on use" in Assistant(real_bot, None).summary()
