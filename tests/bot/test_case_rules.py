"""The case machine's rules: the steps each status offers, a reply that claims, a case opened
once per answer, team and asker (however many clicks, threads or server instances)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.case_rules import ALLOWED
from bot.case_views import ACTIONS, STATUSES
from bot.cases import CaseRequest
from bot.casework import Casework
from tests.bot.conftest import HR, STAFF, Backend, FakeClock

OTHER = "slack:UOTHER"


def _request(answer_id: str = "ans1", *, asker: str = STAFF, team: str = "hr") -> CaseRequest:
    return CaseRequest(
        team=team, asker=asker, question="Someone is abusing me online", answer_id=answer_id
    )


def test_every_offered_step_is_allowed_in_its_status() -> None:
    assert set(ACTIONS) == set(STATUSES)
    for status, steps in ACTIONS.items():
        assert steps, f"a {status} case offers nothing"
        for step in steps:
            assert status in ALLOWED[step], f"{step} offered on a {status} case but refused"


@pytest.mark.parametrize(
    ("steps", "offered"),
    [
        ([], ("claim", "reply")),
        (["claim"], ("reply", "resolve")),
        (["claim", "reply"], ("reply", "resolve")),
        (["claim", "resolve"], ("reopen",)),
        (["claim", "resolve", "reopen"], ("claim", "reply")),
    ],
)
def test_a_case_view_carries_the_steps_it_offers(
    work: Casework, steps: list[str], offered: tuple[str, ...]
) -> None:
    case_id = work.cases.open(_request()).id
    for step in steps:
        if step == "reply":
            work.cases.reply(case_id, "text", by=HR)
        else:
            getattr(work.cases, step)(case_id, by=HR)
    assert work.cases.get(case_id).actions == offered


@pytest.mark.parametrize("reopened", [False, True])
def test_a_reply_on_an_unclaimed_case_claims_it_too(
    work: Casework, clock: FakeClock, reopened: bool
) -> None:
    case_id = work.cases.open(_request()).id
    if reopened:
        work.cases.claim(case_id, by=HR)
        work.cases.resolve(case_id, by=HR)
        work.cases.reopen(case_id, by=HR)
    at = clock.advance(minutes=5)
    case = work.cases.reply(case_id, "Please keep screenshots.", by=HR)
    assert (case.status, case.claimed_by) == ("answered", HR)
    assert [(e.at, e.by, e.action, e.text) for e in case.events[-2:]] == [
        (at, HR, "claimed", ""),
        (at, HR, "replied", "Please keep screenshots."),
    ]
    assert case.pending_deliveries >= 1  # the reply is queued for the asker


def test_an_answer_is_escalated_once_per_team_and_asker(work: Casework) -> None:
    first, created = work.cases.open_once(_request())
    again, created_again = work.cases.open_once(_request())
    assert (created, created_again) == (True, False)
    assert again.id == first.id == "HR-0001"
    assert work.cases.open_once(_request(asker=OTHER))[0].id == "HR-0002"  # a colleague
    assert work.cases.open_once(_request(team="communications"))[0].id == "COM-0001"
    assert work.cases.open_once(_request("ans2"))[0].id == "HR-0003"  # another answer
    # The team is told once: one announcement per case opened.
    kinds = [d.kind for d in work.outbox.pending()]
    assert kinds.count("post_case") == 4


def test_a_question_without_an_answer_is_escalated_once_too(work: Casework) -> None:
    bare = CaseRequest(team="hr", asker=STAFF, question="The bot failed me")
    assert work.cases.open_once(bare) == (work.cases.get("HR-0001"), True)
    assert work.cases.open_once(bare)[1] is False
    assert work.cases.open_once(CaseRequest("hr", STAFF, "Another one"))[0].id == "HR-0002"


def test_clicks_on_two_instances_at_once_open_one_case(database: Backend) -> None:
    """Two Casework objects are two server instances: one database, no memory in common."""
    instances = [Casework.open(database.settings()) for _ in range(2)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(
                pool.map(lambda n: instances[n % 2].cases.open_once(_request()), range(16))
            )
        assert {case.id for case, _ in results} == {"HR-0001"}
        assert [created for _, created in results].count(True) == 1
        assert [c.id for c in instances[0].cases.list()] == ["HR-0001"]
    finally:
        for work in instances:
            work.close()


def test_the_cli_open_is_not_deduplicated(work: Casework) -> None:
    """``escalations open`` records what it is told: two calls are two cases."""
    assert work.cases.open(_request()).id == "HR-0001"
    assert work.cases.open(_request()).id == "HR-0002"
