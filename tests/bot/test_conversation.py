"""A conversation's window: kept per conversation, capped, forgotten after a quiet period,
shared by every instance on one database, and purged after a day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit.trail import purge
from bot.cases.casework import Casework
from bot.config import Settings
from bot.conversation.history import (
    WINDOW_TURNS,
    Conversations,
    Turn,
    acknowledges,
    carries_subject,
    recent,
)
from bot.errors import ConfigError
from bot.platform_state import CONVERSATION, MemoryStateStore, PlatformState
from tests.bot.conftest import Backend, FakeClock

SLACK = "slack"
THREAD = "CGENERAL/1712.0001"


@pytest.fixture
def memory() -> PlatformState:
    return PlatformState(MemoryStateStore())


def conversations(state: PlatformState, clock: FakeClock, minutes: float = 10) -> Conversations:
    return Conversations(lambda: state, quiet_minutes=minutes, clock=clock)


def ask(window: Conversations, text: str, answer_id: str, thread: str = THREAD) -> None:
    window.add(SLACK, thread, asked=text, searched=text, answer_id=answer_id)


def test_a_conversation_keeps_its_last_questions_oldest_first(
    memory: PlatformState, clock: FakeClock
) -> None:
    window = conversations(memory, clock)
    for n in range(WINDOW_TURNS + 2):
        ask(window, f"question {n}", f"a{n}")
        clock.advance(minutes=1)
    turns = window.window(SLACK, THREAD)
    assert [t.answer_id for t in turns] == [f"a{n}" for n in range(2, WINDOW_TURNS + 2)]
    assert window.window(SLACK, "CGENERAL/other") == []  # another thread starts empty
    assert window.window("teams", THREAD) == []  # and so does another platform's


def test_the_window_is_forgotten_after_the_quiet_period(
    memory: PlatformState, clock: FakeClock
) -> None:
    window = conversations(memory, clock)
    ask(window, "Can I use Facebook at lunchtime?", "a1")
    clock.advance(minutes=9)
    ask(window, "and on my phone?", "a2")
    clock.advance(minutes=9, seconds=59)  # ten minutes after the last question, not the first
    assert [t.answer_id for t in window.window(SLACK, THREAD)] == ["a1", "a2"]
    clock.advance(seconds=2)
    assert window.window(SLACK, THREAD) == []
    ask(window, "A new question", "a3")  # starts afresh: nothing expired comes back
    assert [t.answer_id for t in window.window(SLACK, THREAD)] == ["a3"]


def test_no_thread_or_zero_minutes_means_every_question_stands_alone(
    memory: PlatformState, clock: FakeClock
) -> None:
    window = conversations(memory, clock)
    ask(window, "Can I use Facebook at lunchtime?", "a1", thread="")
    assert window.window(SLACK, "") == []
    off = conversations(memory, clock, minutes=0)
    assert not off.enabled
    ask(off, "Can I use Facebook at lunchtime?", "a1")
    assert off.window(SLACK, THREAD) == []
    assert memory.recall(SLACK, CONVERSATION, THREAD) is None


def test_a_damaged_window_counts_as_empty(
    memory: PlatformState, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    memory.remember(SLACK, CONVERSATION, THREAD, '{"turns": [{"asked": 1}]}')
    window = conversations(memory, clock)
    assert window.window(SLACK, THREAD) == []
    assert "unreadable" in caplog.text
    ask(window, "Can I use Facebook at lunchtime?", "a1")
    assert [t.answer_id for t in window.window(SLACK, THREAD)] == ["a1"]


def test_recent_keeps_order_and_cap() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    turns = [Turn(f"q{n}", f"q{n}", f"a{n}", now - timedelta(minutes=n)) for n in range(5)]
    kept = recent(turns, now, timedelta(minutes=10))
    assert [t.answer_id for t in kept] == ["a2", "a1", "a0"]
    assert recent(turns, now + timedelta(minutes=11), timedelta(minutes=10)) == []


@pytest.fixture
def second(database: Backend, clock: FakeClock) -> Iterator[Casework]:
    other = Casework.open(database.settings(), clock=clock)
    yield other
    other.close()


def test_instances_on_one_database_share_one_window(
    work: Casework, second: Casework, clock: FakeClock
) -> None:
    one = conversations(work.state, clock)
    two = conversations(second.state, clock)
    ask(one, "Can I use Facebook at lunchtime?", "a1")
    clock.advance(minutes=1)
    assert [t.asked for t in two.window(SLACK, THREAD)] == ["Can I use Facebook at lunchtime?"]
    ask(two, "and on my own phone?", "a2")
    assert [t.answer_id for t in one.window(SLACK, THREAD)] == ["a1", "a2"]


def test_conversations_are_purged_after_a_day(work: Casework, clock: FakeClock) -> None:
    window = conversations(work.state, clock)
    ask(window, "Can I use Facebook at lunchtime?", "a1")
    work.state.mark_thread(SLACK, THREAD)
    clock.advance(days=2)
    assert purge(work.db, 0, now=clock.now).platform_state == 1  # the conversation only
    assert work.state.recall(SLACK, CONVERSATION, THREAD) is None
    assert work.state.answered_thread(SLACK, THREAD)


def test_the_quiet_period_is_a_setting() -> None:
    assert Settings.from_env({}).conversation_minutes == 10
    assert Settings.from_env({"POLICYBOT_CONVERSATION_MINUTES": "0"}).conversation_minutes == 0
    with pytest.raises(ConfigError, match="POLICYBOT_CONVERSATION_MINUTES"):
        Settings.from_env({"POLICYBOT_CONVERSATION_MINUTES": "soon"})


def test_only_messages_with_a_subject_are_remembered() -> None:
    assert carries_subject("Can I use Facebook at lunchtime?")
    assert not carries_subject("ok thanks!")


@pytest.mark.parametrize("text", ["thanks, that's great!", "ok cool", "Cheers", "got it, thanks"])
def test_an_acknowledgement_is_not_remembered(text: str) -> None:
    assert acknowledges(text) and not carries_subject(text)


@pytest.mark.parametrize(
    "text", ["ok what about on my own phone?", "thanks - and can I do it at lunch?"]
)
def test_a_question_after_thanks_is_not_an_acknowledgement(text: str) -> None:
    assert not acknowledges(text) and carries_subject(text)
