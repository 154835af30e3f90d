"""SLA reminders: an unclaimed case is re-announced to its team once per period."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot.cases.casework import Casework, queue_reminders
from bot.cases.service import CaseRequest
from bot.models import Answer, Question
from bot.ports import RecordingNotifier
from tests.bot.conftest import COMMS, HR, STAFF, Backend, FakeClock


def test_unclaimed_case_is_reminded_once_per_period(work: Casework, clock: FakeClock) -> None:
    assert work.settings.sla_hours == 8
    late = work.cases.open(CaseRequest("hr", STAFF, "Nobody has looked at this")).id
    clock.advance(hours=1)
    claimed = work.cases.open(CaseRequest("hr", STAFF, "This one is picked up")).id
    work.cases.claim(claimed, by=HR)
    notifier = RecordingNotifier()
    work.tick(notifier)
    assert [call.kind for call in notifier.delivered] == ["post_case", "post_case"]

    clock.advance(hours=6, minutes=59)  # 7h59 after the first case: not yet
    assert work.remind() == {}
    clock.advance(minutes=1)
    assert work.remind() == {"hr": [late]}
    clock.advance(minutes=30)
    assert work.remind() == {}  # once per period, however often the timer runs
    work.tick(notifier)
    (reminder,) = notifier.of_kind("remind")
    assert reminder.team == "hr" and reminder.case_ids == (late,)

    clock.advance(hours=7, minutes=30)  # 16 hours unclaimed: the second period
    assert work.remind() == {"hr": [late]}
    events = [e for e in work.cases.get(late).events if e.action == "reminded"]
    assert [(e.by, e.text) for e in events] == [
        ("policybot", "unclaimed for 8 hours; the team was reminded"),
        ("policybot", "unclaimed for 16 hours; the team was reminded"),
    ]

    work.cases.claim(late, by=HR)
    clock.advance(hours=24)
    assert work.remind() == {}


def test_reminders_go_to_each_team_and_skip_cases_claimed_meanwhile(
    work: Casework, clock: FakeClock
) -> None:
    hr_case = work.cases.open(CaseRequest("hr", STAFF, "HR question")).id
    comms_case = work.cases.open(CaseRequest("communications", STAFF, "Press question")).id
    clock.advance(hours=9)
    assert work.remind() == {"hr": [hr_case], "communications": [comms_case]}
    work.cases.claim(comms_case, by=COMMS)  # claimed before the reminder went out
    notifier = RecordingNotifier()
    result = work.outbox.flush(notifier)
    assert result.skipped == 1
    assert [(c.team, c.case_ids) for c in notifier.of_kind("remind")] == [("hr", (hr_case,))]


def test_a_reopened_case_waits_again_from_its_reopening(work: Casework, clock: FakeClock) -> None:
    case_id = work.cases.open(CaseRequest("hr", STAFF, "Q")).id
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "A", by=HR)
    clock.advance(hours=20)
    work.cases.reopen(case_id, by=HR)
    clock.advance(hours=7)
    assert work.remind() == {}
    clock.advance(hours=1)
    assert work.remind() == {"hr": [case_id]}


def test_zero_sla_hours_turns_reminders_off(database: Backend, clock: FakeClock) -> None:
    work = Casework.open(database.settings(sla_hours=0), clock=clock)
    try:
        work.cases.open(CaseRequest("hr", STAFF, "Q"))
        clock.advance(days=30)
        assert queue_reminders(work.db, work.settings, now=clock.now) == {}
    finally:
        work.close()


def test_two_reminder_runs_at_once_remind_once(database: Backend, clock: FakeClock) -> None:
    works = [Casework.open(database.settings(), clock=clock) for _ in range(2)]
    try:
        for i in range(5):
            works[0].cases.open(CaseRequest("hr", STAFF, f"Q{i}"))
        clock.advance(hours=9)
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda w: w.remind(), works))
        reminded = [ref for result in results for refs in result.values() for ref in refs]
        assert sorted(reminded) == [f"HR-{n:04d}" for n in range(1, 6)]
    finally:
        for work in works:
            work.close()


def test_the_timer_applies_the_retention_once_a_day(database: Backend, clock: FakeClock) -> None:
    work = Casework.open(database.settings(retention_days=30), clock=clock)
    try:
        question, answer = Question("old question", user_id=STAFF), Answer("old", True, "x")
        work.audit.record(question, replace(answer, id="old"))
        notifier = RecordingNotifier()
        work.tick(notifier)
        assert [e.answer_id for e in work.audit.entries()] == ["old"]  # not 30 days old yet

        clock.advance(days=31)
        work.audit.record(question, replace(answer, id="new"))
        work.tick(notifier)  # 31 days later: a day has passed since the last purge
        assert [e.answer_id for e in work.audit.entries()] == ["new"]
    finally:
        work.close()
