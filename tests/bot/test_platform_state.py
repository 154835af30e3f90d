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
    CardPlace,
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


def test_card_places_names_chats_and_the_endpoint_are_shared_typed(
    database: Backend, work: Casework, clock: FakeClock
) -> None:
    other = Casework.open(database.settings(), clock=clock)
    try:
        assert other.state.card_of("HR-0001", "teams") is None
        work.state.place_card("HR-0001", "teams", CardPlace("19:channel", "1700000000001"))
        assert other.state.card_of("HR-0001", "teams") == ("19:channel", "1700000000001")
        assert other.state.card_of("HR-0001", "slack") is None

        work.state.learn_name("teams", "teams:aad-1", "Jo Bloggs")
        names = other.state.names_of("teams", ["teams:aad-1", "teams:aad-2", None, ""])
        assert names == {"teams:aad-1": "Jo Bloggs"}

        assert other.state.service_url("teams") is None and other.state.bot_id("teams") is None
        work.state.learn_endpoint("teams", service_url="https://smba.example/", bot_id="28:b")
        assert other.state.service_url("teams") == "https://smba.example/"
        assert other.state.bot_id("teams") == "28:b"

        chat = '{"conversation":{"id":"a:1"}}'
        work.state.remember_chat("teams", "29:u", chat, tenant="t1", url="https://smba.example/")
        assert other.state.chat_with("teams", "29:u", tenant="t1", url="https://smba.example/")
        assert other.state.chat_with("teams", "29:u", tenant="t2", url="https://smba.example/") is (
            None
        )
    finally:
        other.close()


def test_card_places_written_before_they_were_typed_are_still_read(work: Casework) -> None:
    work.state.remember_card("HR-0001", "slack", '{"channel":"CHR","ts":"1.1"}')
    work.state.remember_card("HR-0001", "teams", '{"conversation": "19:c", "activity": "9"}')
    work.state.remember_card("HR-0002", "slack", "not a place")
    assert work.state.card_of("HR-0001", "slack") == CardPlace("CHR", "1.1")
    assert work.state.card_of("HR-0001", "teams") == CardPlace("19:c", "9")
    assert work.state.card_of("HR-0002", "slack") is None


class CountingStore(MemoryStateStore):
    """A memory store that counts its writes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def put(self, platform: str, kind: str, key: str, value: str) -> None:
        self.writes += 1
        super().put(platform, kind, key, value)


def test_what_every_event_carries_is_written_only_when_it_changes() -> None:
    store = CountingStore()
    state = PlatformState(store)
    for _ in range(3):
        state.learn_endpoint("teams", service_url="https://a.example/", bot_id="28:b")
        state.learn_name("teams", "teams:aad-1", "Jo")
    assert store.writes == 3
    state.learn_name("teams", "teams:aad-1", "Jo Bloggs")  # renamed
    assert store.writes == 4 and state.names_of("teams", ["teams:aad-1"]) == {
        "teams:aad-1": "Jo Bloggs"
    }
