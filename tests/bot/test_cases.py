"""Cases: the lifecycle, every refused transition, who may act, anonymity."""

from __future__ import annotations

import json
import logging

import pytest

from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Answer, Citation, Escalation, Question
from bot.ports import RecordingNotifier
from tests.bot.conftest import ADMIN, COMMS, HR, HR2, STAFF, FakeClock


def _open(work: Casework, team: str = "hr", **kwargs: object) -> str:
    request = CaseRequest(
        team=team, asker=STAFF, question="A resident is abusing me online", **kwargs
    )  # type: ignore[arg-type]
    return work.cases.open(request).id


def test_full_lifecycle_records_every_step_with_who_and_when(
    work: Casework, clock: FakeClock
) -> None:
    opened_at = clock.now
    case_id = _open(work, display_name="Sam Staff", note="It is getting worse")
    claimed_at = clock.advance(minutes=5)
    work.cases.claim(case_id, by=HR)
    replied_at = clock.advance(minutes=30)
    work.cases.reply(case_id, "Please keep screenshots; I will call you.", by=HR)
    resolved_at = clock.advance(hours=2)
    case = work.cases.resolve(case_id, by=HR2)

    assert case.id == "HR-0001"
    assert case.status == "resolved"
    assert case.asker == STAFF and case.asker_name == "Sam Staff"
    assert case.claimed_by == HR
    assert case.created_at == opened_at and case.updated_at == resolved_at
    steps = [(e.at, e.by, e.action, e.text) for e in case.events]
    assert steps == [
        (opened_at, STAFF, "opened", "It is getting worse"),
        (claimed_at, HR, "claimed", ""),
        (replied_at, HR, "replied", "Please keep screenshots; I will call you."),
        (resolved_at, HR2, "resolved", ""),
    ]
    assert work.cases.get("hr-1") == case  # ids are read forgivingly


def test_reopen_puts_the_case_back_in_the_queue(work: Casework, clock: FakeClock) -> None:
    case_id = _open(work, team="communications")
    work.cases.claim(case_id, by=COMMS)
    work.cases.reply(case_id, "Done", by=COMMS)
    clock.advance(days=1)
    case = work.cases.reopen(case_id, by=COMMS, reason="The asker wrote back")
    assert case.id == "COM-0001"
    assert case.status == "reopened" and case.claimed_by is None
    assert case.events[-1].action == "reopened" and case.events[-1].text == "The asker wrote back"
    assert work.cases.claim(case_id, by=COMMS).status == "claimed"


def test_a_second_reply_is_allowed_and_notes_go_anywhere(work: Casework) -> None:
    case_id = _open(work)
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "First", by=HR)
    case = work.cases.reply(case_id, "And a follow-up", by=HR2)
    assert case.status == "answered"
    work.cases.resolve(case_id, by=HR)
    case = work.cases.add_note(case_id, "Closed after a call", by=HR)
    assert case.status == "resolved" and case.events[-1].action == "noted"


@pytest.mark.parametrize(
    ("steps", "action", "message"),
    [
        ([], "resolve", "HR-0001 is open: claim it before you resolve it"),
        ([], "reopen", "HR-0001 is open: only an answered or resolved case can be reopened"),
        (["claim"], "claim", "HR-0001 is already claimed by slack:UHR1"),
        (["claim"], "reopen", "only an answered or resolved case can be reopened"),
        (["claim", "reply"], "claim", "HR-0001 is answered: only an open or reopened case"),
        (["claim", "resolve"], "reply", "HR-0001 is resolved: reopen it before you reply to it"),
        (["claim", "resolve"], "resolve", "HR-0001 is already resolved"),
        (["claim", "resolve"], "claim", "HR-0001 is resolved: only an open or reopened case"),
        (["claim", "reply", "reopen"], "resolve", "HR-0001 is reopened: claim it before"),
    ],
)
def test_refused_transitions_say_what_to_do(
    work: Casework, steps: list[str], action: str, message: str
) -> None:
    case_id = _open(work)
    for step in steps:
        _do(work, step, case_id, HR)
    before = work.cases.get(case_id)
    with pytest.raises(EscalationError, match=message):
        _do(work, action, case_id, HR)
    assert work.cases.get(case_id) == before  # nothing changed, no event added


def _do(work: Casework, action: str, case_id: str, by: str) -> None:
    if action == "reply":
        work.cases.reply(case_id, "text", by=by)
    else:
        getattr(work.cases, action)(case_id, by=by)


@pytest.mark.parametrize("bad", ["HR-9999", "COM-0001", "XX-1", "", "HR-"])
def test_unknown_or_malformed_ids_are_clear_errors(work: Casework, bad: str) -> None:
    _open(work)
    with pytest.raises(EscalationError, match=r"no case|not a case id"):
        work.cases.claim(bad, by=HR)
    with pytest.raises(EscalationError):
        work.cases.get(bad)


@pytest.mark.parametrize(
    ("request_kwargs", "message"),
    [
        ({"team": "legal"}, "unknown team 'legal'"),
        ({"question": "   "}, "a case needs a question"),
        ({"asker": "U123"}, "platform:user"),
        ({"question": "x" * 8001}, "the question is too long"),
        ({"note": "x" * 2001}, "the note is too long"),
    ],
)
def test_invalid_requests_are_refused(work: Casework, request_kwargs: dict, message: str) -> None:
    fields = {"team": "hr", "asker": STAFF, "question": "Q?", **request_kwargs}
    with pytest.raises(EscalationError, match=message):
        work.cases.open(CaseRequest(**fields))
    assert work.cases.list() == []


def test_empty_reply_and_note_are_refused(work: Casework) -> None:
    case_id = _open(work)
    work.cases.claim(case_id, by=HR)
    with pytest.raises(EscalationError, match="needs some text"):
        work.cases.reply(case_id, "  ", by=HR)
    with pytest.raises(EscalationError, match="needs some text"):
        work.cases.add_note(case_id, "", by=HR)


@pytest.mark.parametrize("intruder", [COMMS, STAFF, "", "slack:uhr1"])
def test_only_the_teams_reviewers_act_and_refusals_are_logged(
    work: Casework, intruder: str, caplog: pytest.LogCaptureFixture
) -> None:
    case_id = _open(work)
    for action in ("claim", "reply", "resolve", "reopen", "add_note"):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="bot.cases.service"):
            with pytest.raises(NotAuthorizedError, match="only the HR Advisory team reviewers"):
                if action in {"reply", "add_note"}:
                    getattr(work.cases, action)(case_id, "text", by=intruder)
                else:
                    getattr(work.cases, action)(case_id, by=intruder)
        assert [r.levelname for r in caplog.records] == ["WARNING"]
        assert "refused" in caplog.text and "HR-0001" in caplog.text
    assert [e.action for e in work.cases.get(case_id).events] == ["opened"]


def test_admins_may_act_on_every_teams_cases(work: Casework) -> None:
    hr_case = _open(work, team="hr")
    comms_case = _open(work, team="communications")
    assert work.cases.claim(hr_case, by=ADMIN).claimed_by == ADMIN
    assert work.cases.claim(comms_case, by=ADMIN).claimed_by == ADMIN
    assert work.cases.may_act(ADMIN, "hr") and not work.cases.may_act(COMMS, "hr")


def test_list_filters_by_team_and_status(work: Casework) -> None:
    first, second = _open(work), _open(work)
    third = _open(work, team="communications")
    work.cases.claim(second, by=HR)
    assert [c.id for c in work.cases.list()] == [first, second, third]
    assert [c.id for c in work.cases.list(team="hr", status="open")] == [first]
    assert [c.id for c in work.cases.list(team="comms")] == [third]
    with pytest.raises(EscalationError, match="unknown status"):
        work.cases.list(status="lost")


def test_anonymous_case_never_shows_the_asker_but_the_reply_reaches_them(
    work: Casework,
) -> None:
    asker = "slack:USECRET42"
    request = CaseRequest(
        team="hr",
        asker=asker,
        display_name="Secret Person",
        conversation="slack:D0SECRET|1700000000.0001",
        question="I want to raise a grievance",
        note="Please keep this confidential",
        anonymous=True,
    )
    case_id = work.cases.open(request).id
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "We can talk in confidence.", by=HR)
    notifier = RecordingNotifier()
    work.outbox.flush(notifier)

    for view in [work.cases.get(case_id), *work.cases.list()]:
        data = view.to_json()
        assert data["asker"] is None and data["asker_name"] is None and data["anonymous"]
        text = json.dumps(data)
        assert "USECRET42" not in text and "Secret Person" not in text and "D0SECRET" not in text
    for call in notifier.delivered:
        for view in call.cases:
            assert "USECRET42" not in json.dumps(view.to_json())
    (reply,) = notifier.of_kind("deliver_reply")
    assert reply.conversation_ref == "slack:D0SECRET|1700000000.0001"
    assert reply.text == "We can talk in confidence."


def test_case_from_a_chat_answer_keeps_the_answer_and_citations(work: Casework) -> None:
    question = Question(
        "Can I post about the council on TikTok?",
        user_id=STAFF,
        platform="slack",
        conversation="C1|ts",
        display_name="Sam",
    )
    answer = Answer(
        question=question.text,
        answered=True,
        text="Only from official accounts.",
        citations=(Citation("policy.txt", "4.2", "Official accounts", "Only approved", 0.8),),
        escalation=Escalation(True, "communications", "media"),
        id="a1b2c3",
    )
    request = CaseRequest.from_answer("communications", question, answer, note="urgent")
    case = work.cases.open(request)
    assert case.answer == "Only from official accounts."
    assert case.citations[0]["section"] == "4.2"
    assert case.platform == "slack" and case.note == "urgent"
