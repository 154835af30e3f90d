"""A person's home (Assistant.home): their own cases, their teams' live cases if they review,
the insights digest if they are an admin; and a home still opens without the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.assistant import Assistant, Home
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.models import Question

QUESTION = "A journalist has just phoned me asking about a Council decision. What should I do?"
ADMIN, HR, STAFF = "slack:UADMIN", "slack:UHR", "slack:USTAFF"
PEOPLE = {"admins": frozenset({ADMIN}), "hr_reviewers": frozenset({HR})}


def asker(user: str) -> Question:
    return Question(text=QUESTION, user_id=user, platform="slack", conversation=f"slack:{user}")


@pytest.fixture
def engine(real_bot: PolicyBot) -> PolicyBot:
    """The real engine, with an admin and an HR reviewer."""
    return PolicyBot(replace(real_bot.settings, **PEOPLE))


@pytest.fixture
def assistant(engine: PolicyBot, tmp_path: Path) -> Iterator[Assistant]:
    casework = Casework.open(Settings(data_dir=tmp_path / "people", **PEOPLE))
    yield Assistant(engine, casework)
    casework.close()


def test_each_person_sees_their_cases_their_teams_and_admins_the_digest(
    assistant: Assistant,
) -> None:
    answer = assistant.ask(asker(STAFF))
    case = assistant.escalate(answer.id, "hr", asker=asker(STAFF)).case

    staff = assistant.home(STAFF)
    assert [c.id for c in staff.own] == [case.id]
    assert staff.teams == {} and staff.digest is None
    hr = assistant.home(HR)
    assert hr.own == [] and [c.id for c in hr.teams["hr"]] == [case.id]
    assert hr.digest is None  # a reviewer is not an admin
    admin = assistant.home(ADMIN)
    assert sorted(admin.teams) == ["communications", "hr"] and admin.teams["communications"] == []
    assert admin.digest is not None and admin.digest.lines


def test_a_case_held_for_the_askers_choice_is_not_listed_for_the_team_yet(
    assistant: Assistant,
) -> None:
    answer = assistant.ask(asker(STAFF))
    held = assistant.escalate(answer.id, "hr", asker=asker(STAFF), await_choice=True).case
    assert [c.id for c in assistant.home(STAFF).own] == [held.id]  # the asker's own: listed
    assert assistant.home(HR).teams == {"hr": []}
    assistant.keep_name(held.id, by=STAFF)
    assert [c.id for c in assistant.home(HR).teams["hr"]] == [held.id]


def test_a_home_opens_without_the_case_database(engine: PolicyBot) -> None:
    """No case database: no cases, and no digest (it is drawn from the database)."""
    assert Assistant(engine, None).home(ADMIN) == Home()
    assert Assistant(engine, None).home(STAFF) == Home()
