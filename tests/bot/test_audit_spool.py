"""Audit rows spooled behind the answer: nothing waits on the database, nothing is lost."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.audit.spool import SPOOL_DIR, AuditSpool
from bot.audit.trail import AuditLog, load_or_create_key
from bot.cases.casework import Casework
from bot.models import Answer, Question
from bot.storage.db import Database
from tests.bot.conftest import STAFF, Backend


def exchange(answer_id: str) -> tuple[Question, Answer]:
    question = Question(f"question {answer_id}", user_id=STAFF, platform="slack")
    return question, Answer(question.text, True, "an answer", id=answer_id)


def unreachable(data_dir: Path) -> AuditLog:
    """An audit log whose database cannot be opened at all (its directory is missing)."""
    engine = create_engine(f"sqlite:///{data_dir / 'missing' / 'nowhere.sqlite3'}")
    return AuditLog(Database(engine), key=b"k" * 32)


def spool_for(audit: AuditLog, data_dir: Path) -> AuditSpool:
    return AuditSpool(data_dir, key=load_or_create_key(data_dir), audit=lambda: audit)


def test_a_spooled_row_reaches_the_audit_pseudonymised(work: Casework, database: Backend) -> None:
    spool = spool_for(work.audit, database.data_dir)
    spool.submit(*exchange("a-1"))
    assert spool.waiting == 1
    spooled = (database.data_dir / SPOOL_DIR).glob("*.jsonl")
    assert STAFF not in "".join(p.read_text(encoding="utf-8") for p in spooled)

    result = spool.drain()

    assert (result.written, result.waiting) == (1, 0)
    (entry,) = work.audit.entries()
    assert entry.answer_id == "a-1" and entry.asker == work.audit.pseudonym(STAFF)


def test_rows_wait_while_the_database_is_down_and_are_written_when_it_is_back(
    work: Casework, database: Backend
) -> None:
    down = spool_for(unreachable(database.data_dir), database.data_dir)
    for n in range(3):
        down.submit(*exchange(f"a-{n}"))  # returns at once: nothing waits on the database
    with pytest.raises(Exception, match="unable to open"):
        down.drain()
    assert down.waiting == 3

    # A restart of the process, with the database back.
    back = spool_for(work.audit, database.data_dir)
    assert back.drain().written == 3
    assert sorted(e.answer_id for e in work.audit.entries()) == ["a-0", "a-1", "a-2"]


def test_a_dead_process_spool_is_adopted_and_an_answer_is_never_written_twice(
    work: Casework, database: Backend
) -> None:
    spool = spool_for(work.audit, database.data_dir)
    spool.submit(*exchange("a-1"))
    work.audit.record(*exchange("a-1"))  # already recorded (a crash after the commit)
    orphan = database.data_dir / SPOOL_DIR / f"{socket.gethostname()}-999999999.jsonl"
    record = work.audit.prepare(*exchange("a-2"))
    orphan.write_text(
        json.dumps(record.to_json()) + "\n{torn line\n", encoding="utf-8"
    )  # a process that died mid-write

    result = spool_for(work.audit, database.data_dir).drain()

    assert result == type(result)(1, 0)
    assert sorted(e.answer_id for e in work.audit.entries()) == ["a-1", "a-2"]


def test_the_writer_thread_writes_without_being_asked(work: Casework, database: Backend) -> None:
    spool = spool_for(work.audit, database.data_dir)
    spool.start()
    try:
        spool.submit(*exchange("a-1"))
        deadline = time.monotonic() + 10
        while not work.audit.entries() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        spool.close()
    assert [e.answer_id for e in work.audit.entries()] == ["a-1"]
    assert spool.waiting == 0
