"""The platform state every instance shares, on SQLite and PostgreSQL: event ids seen once,
threads, card places, values and their purge."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.audit.trail import purge
from bot.cases.casework import Casework
from bot.platform_state import (
    EVENT,
    DatabaseStateStore,
    MemoryStateStore,
    PlatformState,
)
from bot.storage.db import Database, database_url
from tests.bot.conftest import Backend, FakeClock


def test_an_event_id_is_new_once_across_instances(
    database: Backend, work: Casework, clock: FakeClock
) -> None:
    other = Casework.open(database.settings(), clock=clock)  # a second instance
    try:
        assert work.state.seen("slack", "Ev1") is False
        assert other.state.seen("slack", "Ev1") is True
        assert work.state.seen("teams", "Ev1") is False  # ids are per platform
        other.state.forget("slack", "Ev1")  # its handling failed: the retry is handled
        assert work.state.seen("slack", "Ev1") is False
    finally:
        other.close()


def test_many_instances_racing_on_one_event_let_exactly_one_handle_it(
    database: Backend, clock: FakeClock
) -> None:
    instances = [Casework.open(database.settings(), clock=clock) for _ in range(4)]
    try:
        with ThreadPoolExecutor(16) as pool:
            repeats = list(
                pool.map(lambda n: instances[n % 4].state.seen("slack", "EvRACE"), range(32))
            )
        assert repeats.count(False) == 1 and repeats.count(True) == 31
    finally:
        for instance in instances:
            instance.close()


def test_threads_cards_and_values_are_shared(
    database: Backend, work: Casework, clock: FakeClock
) -> None:
    other = Casework.open(database.settings(), clock=clock)
    try:
        assert not other.state.answered_thread("slack", "C1/1.0001")
        work.state.mark_thread("slack", "C1/1.0001")
        assert other.state.answered_thread("slack", "C1/1.0001")

        work.state.remember_card("HR-0001", "slack", '{"channel":"CHR","ts":"1.1"}')
        assert other.state.card("HR-0001", "slack") == '{"channel":"CHR","ts":"1.1"}'
        assert other.state.card("HR-0001", "teams") is None
        other.state.remember_card("HR-0001", "slack", '{"channel":"CHR","ts":"2.2"}')
        assert work.state.card("HR-0001", "slack") == '{"channel":"CHR","ts":"2.2"}'

        long_key = "29:" + "x" * 400  # longer than the column: stored by its hash
        work.state.remember("teams", "name", long_key, "Jo Bloggs")
        assert other.state.recall("teams", "name", long_key) == "Jo Bloggs"
    finally:
        other.close()


def test_event_ids_go_after_a_day_and_the_rest_with_the_retention(
    work: Casework, clock: FakeClock
) -> None:
    work.state.seen("slack", "EvOLD")
    work.state.mark_thread("slack", "C1/1.0001")
    clock.advance(days=2)
    assert purge(work.db, 0, now=clock.now).platform_state == 1  # event ids, whatever the days
    assert work.state.seen("slack", "EvOLD") is False
    assert work.state.answered_thread("slack", "C1/1.0001")
    clock.advance(days=400)
    work.state.remember_card("HR-0001", "slack", "recent")
    result = work.purge()  # 365 days by default
    assert result.platform_state == 2  # the old event id recorded again, and the thread
    assert not work.state.answered_thread("slack", "C1/1.0001")
    assert work.state.card("HR-0001", "slack") == "recent"


def test_the_memory_store_is_bounded_and_answers_alike() -> None:
    state = PlatformState(MemoryStateStore(size=3))
    assert state.seen("slack", "Ev1") is False and state.seen("slack", "Ev1") is True
    for n in range(5):
        state.remember_card(f"HR-{n}", "slack", str(n))
    assert state.card("HR-0", "slack") is None and state.card("HR-4", "slack") == "4"


class Holder:
    """Another process's connection holding the SQLite write lock until released."""

    def __init__(self, database: Backend) -> None:
        self.connection = sqlite3.connect(str(database_url(database.settings()).database))
        self.connection.isolation_level = None
        self.connection.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
        self.connection.close()


def test_writes_refused_by_a_locked_database_are_written_once_it_is_free(
    tmp_path: Path,
) -> None:
    database = Backend("sqlite", tmp_path / "data")
    db = Database.open(database.settings())
    state, other = PlatformState(DatabaseStateStore(db)), PlatformState(DatabaseStateStore(db))
    state.remember_card("HR-0001", "slack", "before")
    holder = Holder(database)  # another process holds the write lock
    try:
        assert state.seen("slack", "Ev1") is False  # handled: the write waits in the process
        assert state.seen("slack", "Ev1") is True  # ... so a repeat is still a repeat
        state.mark_thread("slack", "C1/1.0")
        state.remember_card("HR-0001", "slack", "during")
        assert state.answered_thread("slack", "C1/1.0")
        assert state.card("HR-0001", "slack") == "during"
        assert other.card("HR-0001", "slack") == "before"  # not written yet
    finally:
        holder.release()
    assert state.settle(timeout=30)
    store = DatabaseStateStore(db)
    assert store.get("slack", EVENT, "Ev1") == ""  # written once the lock went
    assert other.seen("slack", "Ev1") is True  # a repeat for the other instance too
    assert other.answered_thread("slack", "C1/1.0")
    assert other.card("HR-0001", "slack") == "during"
    state.close()
    db.close()


def test_an_event_another_instance_recorded_is_a_repeat_while_the_database_is_locked(
    tmp_path: Path,
) -> None:
    database = Backend("sqlite", tmp_path / "data")
    db = Database.open(database.settings())
    first, second = PlatformState(DatabaseStateStore(db)), PlatformState(DatabaseStateStore(db))
    assert first.seen("slack", "EvA") is False
    first.seen("slack", "EvGONE")
    holder = Holder(database)
    try:
        assert second.seen("slack", "EvA") is True  # read: no write lock needed
        assert second.seen("slack", "EvB") is False
        second.forget("slack", "EvGONE")  # its handling failed here: the retry is handled
        assert second.seen("slack", "EvGONE") is False
    finally:
        holder.release()
    assert second.settle(timeout=30)
    assert first.seen("slack", "EvB") is True
    second.forget("slack", "EvB")
    assert first.seen("slack", "EvB") is False  # the forgetting reached the database
    first.close()
    second.close()
    db.close()
