"""What the asker may do after opening a case: add a note, withhold their name; and list theirs."""

from __future__ import annotations

import pytest

from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.errors import EscalationError, NotAuthorizedError
from bot.models import Answer, Question
from tests.bot.conftest import HR, STAFF, FakeClock

OTHER = "slack:UOTHER"


def _escalated(work: Casework, **kwargs: object) -> str:
    """A case opened on an audited answer, as the chat adapters open them."""
    work.audit.record(
        Question("Someone is abusing me online", user_id=STAFF),
        Answer(question="Someone is abusing me online", answered=True, text="See 9.1", id="ans1"),
    )
    request = CaseRequest(
        team="hr",
        asker=STAFF,
        question="Someone is abusing me online",
        answer_id="ans1",
        display_name="Sam Staff",
        **kwargs,  # type: ignore[arg-type]
    )
    return work.cases.open(request).id


def test_the_asker_adds_notes_that_the_team_sees(work: Casework, clock: FakeClock) -> None:
    case_id = _escalated(work, note="It started on Monday")
    clock.advance(minutes=3)
    case = work.cases.asker_update(case_id, by=STAFF, note="  They posted my address  ")
    assert case.note == "It started on Monday\n\nThey posted my address"
    assert (case.events[-1].by, case.events[-1].action) == (STAFF, "noted")
    assert case.events[-1].text == "They posted my address"
    assert case.updated_at == clock.now and case.status == "open"


def test_withholding_the_name_afterwards_hides_it_everywhere(work: Casework) -> None:
    case_id = _escalated(work)
    (linked,) = work.audit.entries()
    assert (linked.asker, linked.case_id) == (STAFF, case_id)  # a named case links the audit

    case = work.cases.asker_update(case_id, by=STAFF, anonymous=True)

    assert case.anonymous and case.asker is None and case.asker_name is None
    assert [(e.by, e.action) for e in case.events] == [(None, "opened"), (None, "anonymised")]
    (entry,) = work.audit.entries()
    assert entry.asker == work.audit.pseudonym(STAFF) and entry.asker_pseudonymised
    assert entry.case_id is None
    case = work.cases.asker_update(case_id, by=STAFF, note="More detail")
    assert case.events[-1].by is None  # later notes stay anonymous too
    assert work.cases.asked_by(STAFF)[0].id == case_id  # still the asker's own case


def test_only_the_asker_may_add_to_a_case(work: Casework) -> None:
    case_id = _escalated(work)
    before = work.cases.get(case_id)
    for person in (OTHER, HR, ""):
        with pytest.raises(
            NotAuthorizedError, match=f"only the person who asked can add to {case_id}"
        ):
            work.cases.asker_update(case_id, by=person, anonymous=True)
    assert work.cases.get(case_id) == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "nothing to add"),
        ({"note": "   "}, "nothing to add"),
        ({"note": "x" * 2001}, "too long"),
    ],
)
def test_asker_updates_are_checked(work: Casework, kwargs: dict[str, object], message: str) -> None:
    case_id = _escalated(work)
    with pytest.raises(EscalationError, match=message):
        work.cases.asker_update(case_id, by=STAFF, **kwargs)  # type: ignore[arg-type]


def test_asked_by_lists_a_persons_own_cases_newest_first(work: Casework, clock: FakeClock) -> None:
    first = work.cases.open(CaseRequest("hr", STAFF, "First question")).id
    clock.advance(minutes=1)
    work.cases.open(CaseRequest("communications", OTHER, "Someone else's"))
    clock.advance(minutes=1)
    second = work.cases.open(CaseRequest("communications", STAFF, "Second", anonymous=True)).id
    assert [case.id for case in work.cases.asked_by(STAFF)] == [second, first]
    assert [case.id for case in work.cases.asked_by(STAFF, limit=1)] == [second]
    assert work.cases.asked_by("slack:UNOBODY") == []
