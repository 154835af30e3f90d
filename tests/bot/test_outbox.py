"""The outbox: nothing lost between the database and the platform, nothing sent twice."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from bot.case_views import CaseView
from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.ports import RecordingNotifier
from tests.bot.conftest import HR, STAFF, Backend, FakeClock


def _case_with_reply(work: Casework) -> str:
    request = CaseRequest("hr", STAFF, "Someone shared my post", conversation="slack:D1")
    case_id = work.cases.open(request).id
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "Report it to the platform first.", by=HR)
    return case_id


def test_a_change_and_its_notification_are_written_together(work: Casework) -> None:
    case_id = _case_with_reply(work)
    pending = work.outbox.pending()
    assert [(p.kind, p.case_id, p.attempts) for p in pending] == [
        ("post_case", case_id, 0),
        ("deliver_reply", case_id, 0),
    ]
    assert work.cases.get(case_id).pending_deliveries == 2


def test_failed_delivery_is_retried_with_backoff_and_delivered_once(
    work: Casework, clock: FakeClock
) -> None:
    case_id = _case_with_reply(work)
    notifier = RecordingNotifier(fail_next=4)  # the platform is down for four calls

    first = work.outbox.flush(notifier)
    # The announcement failed; the reply to the same asker is a different destination.
    assert (first.sent, first.failed, first.pending) == (0, 2, 2)
    (post, reply) = work.outbox.pending()
    assert post.attempts == 1 and post.last_error == "ConnectionError: platform unavailable"
    assert post.next_attempt_at == clock.now + timedelta(seconds=30)

    assert work.outbox.flush(notifier).failed == 0  # not due yet: nothing tried
    clock.advance(seconds=30)
    assert work.outbox.flush(notifier).failed == 2  # down again: the wait doubles
    (post, reply) = work.outbox.pending()
    assert post.attempts == 2 and post.next_attempt_at == clock.now + timedelta(seconds=60)

    clock.advance(seconds=60)  # the platform is back
    result = work.outbox.flush(notifier)
    assert (result.sent, result.failed, result.pending) == (2, 0, 0)
    for _ in range(3):
        clock.advance(hours=1)
        assert work.outbox.flush(notifier).sent == 0
    assert [call.kind for call in notifier.delivered] == ["post_case", "deliver_reply"]
    (reply_call,) = notifier.of_kind("deliver_reply")
    assert reply_call.conversation_ref == "slack:D1"
    case = work.cases.get(case_id)
    assert case.pending_deliveries == 0
    assert case.events[-1].action == "delivered" and case.events[-1].by == "policybot"


class RefusesOneCase(RecordingNotifier):
    """A platform that rejects one case's card every time (too large, say)."""

    def __init__(self, bad_case: str) -> None:
        super().__init__()
        self.bad_case = bad_case

    def post_case(self, case: CaseView) -> None:
        if case.id == self.bad_case:
            raise ValueError("message too large")
        super().post_case(case)


def test_a_card_that_keeps_failing_does_not_hold_back_the_teams_other_cards(
    work: Casework,
) -> None:
    bad = work.cases.open(CaseRequest("hr", STAFF, "First question")).id
    good = work.cases.open(CaseRequest("hr", STAFF, "Second question")).id
    notifier = RefusesOneCase(bad)

    result = work.outbox.flush(notifier)

    assert (result.sent, result.failed) == (1, 1)
    assert [c.case_ids for c in notifier.of_kind("post_case")] == [(good,)]
    assert [p.case_id for p in work.outbox.pending()] == [bad]  # kept, retried later


def test_backoff_doubles_up_to_a_cap(work: Casework) -> None:
    waits = [work.outbox.backoff(n) for n in range(1, 10)]
    assert waits[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert waits[-1] == timedelta(hours=1)


def test_a_crash_before_delivery_loses_nothing(database: Backend, clock: FakeClock) -> None:
    first = Casework.open(database.settings(), clock=clock)
    case_id = _case_with_reply(first)
    first.close()  # the process dies before calling any platform

    second = Casework.open(database.settings(), clock=clock)
    try:
        notifier = RecordingNotifier()
        assert second.outbox.flush(notifier).sent == 2
        assert notifier.of_kind("deliver_reply")[0].case_ids == (case_id,)
    finally:
        second.close()


class _Crash(BaseException):
    """A process dying in the middle of a platform call."""


class _CrashingNotifier(RecordingNotifier):
    def post_case(self, case: CaseView) -> None:
        raise _Crash


def test_a_crash_during_delivery_is_retried_after_the_lease(
    work: Casework, clock: FakeClock
) -> None:
    work.cases.open(CaseRequest("hr", STAFF, "Question"))
    with pytest.raises(_Crash):
        work.outbox.flush(_CrashingNotifier())
    notifier = RecordingNotifier()
    assert work.outbox.flush(notifier).sent == 0  # leased to the flusher that died
    clock.advance(minutes=5)
    assert work.outbox.flush(notifier).sent == 1


def test_replies_to_one_asker_keep_their_order(work: Casework, clock: FakeClock) -> None:
    case_id = _case_with_reply(work)
    work.cases.reply(case_id, "Second reply", by=HR)
    notifier = RecordingNotifier(fail_next=2)  # the announcement and the first reply fail
    work.outbox.flush(notifier)
    assert notifier.delivered == []  # the second reply waits behind the first
    clock.advance(minutes=1)
    work.outbox.flush(notifier)
    texts = [call.text for call in notifier.of_kind("deliver_reply")]
    assert texts == ["Report it to the platform first.", "Second reply"]


class _SlowNotifier(RecordingNotifier):
    def post_case(self, case: CaseView) -> None:
        time.sleep(0.05)
        super().post_case(case)


def test_two_flushers_at_once_deliver_each_row_once(work: Casework) -> None:
    for i in range(6):
        work.cases.open(CaseRequest("hr", STAFF, f"Question {i}"))
    notifier = _SlowNotifier()
    threads = [threading.Thread(target=work.outbox.flush, args=(notifier,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [call.case_ids[0] for call in notifier.delivered]
    assert sorted(ids) == [f"HR-{n:04d}" for n in range(1, 7)]
    assert work.outbox.pending_count() == 0


def test_two_instances_flushing_at_once_deliver_each_row_once(
    database: Backend, work: Casework, clock: FakeClock
) -> None:
    for i in range(8):
        work.cases.open(CaseRequest("hr", STAFF, f"Question {i}"))
    other = Casework.open(database.settings(), clock=clock)  # a second serve instance
    try:
        notifier = _SlowNotifier()
        flushers = [work, other, work, other]
        threads = [threading.Thread(target=w.outbox.flush, args=(notifier,)) for w in flushers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    ids = [call.case_ids[0] for call in notifier.delivered]
    assert sorted(ids) == [f"HR-{n:04d}" for n in range(1, 9)]
    assert work.outbox.pending_count() == 0


def test_a_reply_no_platform_can_reach_is_marked_undeliverable_not_retried(
    work: Casework, clock: FakeClock
) -> None:
    request = CaseRequest("hr", "cli:jo", "Someone shared my post")
    case_id = work.cases.open(request).id
    work.cases.claim(case_id, by=HR)
    work.cases.reply(case_id, "Report it to the platform first.", by=HR)
    notifier = RecordingNotifier()

    result = work.outbox.flush(notifier)

    assert (result.sent, result.failed, result.pending) == (1, 0, 0)
    assert [call.kind for call in notifier.delivered] == ["post_case"]  # the team still sees it
    (row,) = work.outbox.pending(undeliverable=True)
    assert row.status == "undeliverable" and row.kind == "deliver_reply"
    assert f"policybot escalations show {case_id}" in (row.last_error or "")
    clock.advance(hours=2)
    assert work.outbox.flush(notifier).sent == 0  # never tried
    assert [call.kind for call in notifier.delivered] == ["post_case"]
    assert work.cases.get(case_id).pending_deliveries == 0
