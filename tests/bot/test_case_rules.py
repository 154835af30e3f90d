"""The case machine's rules: the steps each status offers, a reply that claims, a case opened
once per answer, team and asker (however many clicks, threads or server instances)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.case_views import ACTIONS, STATUSES
from bot.cases.casework import Casework
from bot.cases.rules import ALLOWED
from bot.cases.service import CaseRequest
from bot.errors import EscalationError, NotAuthorizedError
from bot.ports import RecordingNotifier
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


def test_a_held_announcement_waits_for_the_askers_choice(
    database: Backend, clock: FakeClock
) -> None:
    """The choice is kept in the database: the case is opened on one instance, the asker
    chooses on another, and a third delivers the card, naming nobody."""
    opening, choosing, delivering = (
        Casework.open(database.settings(), clock=clock) for _ in range(3)
    )
    try:
        case, _ = opening.cases.open_once(_request(), held=True)
        assert case.announcing
        notifier = RecordingNotifier()
        assert delivering.outbox.flush(notifier).pending == 1 and notifier.delivered == []
        clock.advance(seconds=30)
        chosen = choosing.cases.asker_update(case.id, by=STAFF, anonymous=True)
        assert chosen.announcing  # released, on its way
        assert delivering.outbox.flush(notifier).sent == 1
        (posted,) = notifier.of_kind("post_case")
        assert posted.cases[0].anonymous and posted.cases[0].asker is None
        assert not delivering.cases.get(case.id).announcing
        # A later choice finds nothing held: the adapter redraws the card instead.
        assert not choosing.cases.keep_name(case.id, by=STAFF).announcing
    finally:
        for work in (opening, choosing, delivering):
            work.close()


def test_no_step_is_taken_on_a_case_held_for_its_askers_choice(
    database: Backend, work: Casework, clock: FakeClock
) -> None:
    """Nothing reaches the team before the asker has chosen whether to be named: not a list,
    and not a step that would redraw or post a card naming them, from any surface or after a
    restart (the hold is in the database)."""
    case, _ = work.cases.open_once(_request(), held=True)
    restarted = Casework.open(database.settings(), clock=clock)
    try:
        for cases in (work.cases, restarted.cases):
            for step in ("claim", "reply"):
                with pytest.raises(EscalationError, match="still choosing whether to show"):
                    cases.check(case.id, step, by=HR)
            with pytest.raises(EscalationError, match=f"{case.id} is not ready yet"):
                cases.claim(case.id, by=HR)
        assert restarted.outbox.held() == {case.id}
        assert work.cases.get(case.id).status == "open" and work.cases.get(case.id).events[1:] == ()
        clock.advance(minutes=2)  # the asker never chose: the card goes, naming them
        assert restarted.cases.claim(case.id, by=HR).status == "claimed"
    finally:
        restarted.close()


def test_a_held_announcement_goes_when_the_asker_closes_the_form_or_after_two_minutes(
    work: Casework, clock: FakeClock
) -> None:
    first, _ = work.cases.open_once(_request(), held=True)
    second, _ = work.cases.open_once(_request("ans2"), held=True)
    notifier = RecordingNotifier()
    with pytest.raises(NotAuthorizedError, match="only the person who asked"):
        work.cases.keep_name(first.id, by=OTHER)
    work.cases.keep_name(first.id, by=STAFF)
    work.outbox.flush(notifier)
    assert [c.cases[0].id for c in notifier.delivered] == [first.id]
    clock.advance(minutes=2)
    work.outbox.flush(notifier)
    assert [c.cases[0].id for c in notifier.delivered] == [first.id, second.id]


def test_a_failed_or_unheld_announcement_is_not_released(work: Casework, clock: FakeClock) -> None:
    held, _ = work.cases.open_once(_request(), held=True)
    clock.advance(minutes=2)
    assert work.outbox.flush(RecordingNotifier(fail_next=1)).failed == 1  # backing off now
    assert work.cases.keep_name(held.id, by=STAFF).announcing  # still pending, not released
    (pending,) = work.outbox.pending()
    assert pending.next_attempt_at > clock.now  # the backoff stands
    unheld = work.cases.open(_request("ans2"))
    work.cases.keep_name(unheld.id, by=STAFF)
    assert [p.next_attempt_at for p in work.outbox.pending()][1] == unheld.created_at
