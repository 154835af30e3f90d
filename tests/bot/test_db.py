"""The database's health check: it must accept a write, not only answer a read."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.storage.db import BRIEF_TIMEOUT_MS, BUSY_TIMEOUT_MS, Database, database_url
from tests.bot.conftest import Backend


def test_a_healthy_database_passes_the_check(database: Backend) -> None:
    db = Database.open(database.settings())
    try:
        db.ping()
    finally:
        db.close()


def test_a_read_only_database_fails_the_check(tmp_path: Path) -> None:
    database = Backend("sqlite", tmp_path / "data")
    Database.open(database.settings()).close()
    path = database_url(database.settings()).database
    read_only = Database(create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"))
    try:
        with pytest.raises(OperationalError, match="readonly"):
            read_only.ping()
    finally:
        read_only.close()


def test_a_database_locked_by_another_writer_fails_the_check(tmp_path: Path) -> None:
    database = Backend("sqlite", tmp_path / "data")
    db = Database.open(database.settings())
    holder = sqlite3.connect(str(database_url(database.settings()).database))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"):
            db.ping()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    db.ping()  # and healthy again once the lock is gone
    db.close()


def test_reads_go_on_while_another_writer_holds_the_lock(tmp_path: Path) -> None:
    database = Backend("sqlite", tmp_path / "data")
    db = Database.open(database.settings())
    holder = sqlite3.connect(str(database_url(database.settings()).database))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    try:
        with db.reading() as session:  # would wait 30 s for the lock with BEGIN IMMEDIATE
            assert session.execute(text("SELECT count(*) FROM audit")).scalar() == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        db.close()


def test_a_brief_write_gives_up_on_a_lock_and_later_sessions_wait_as_usual(tmp_path: Path) -> None:
    database = Backend("sqlite", tmp_path / "data")
    db = Database.open(database.settings())
    holder = sqlite3.connect(str(database_url(database.settings()).database))
    holder.isolation_level = None
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="locked"), db.brief() as session:
            session.execute(text("DELETE FROM platform_state"))
    finally:
        holder.execute("ROLLBACK")
        holder.close()

    def busy_timeout(session: Any) -> int:
        return int(session.execute(text("PRAGMA busy_timeout")).scalar())

    try:
        with db.session() as session:  # the same pooled connection, its usual patience back
            assert busy_timeout(session) == BUSY_TIMEOUT_MS
        with db.brief() as session:
            assert busy_timeout(session) == BRIEF_TIMEOUT_MS
        db.ping()
        with db.session() as session:
            assert busy_timeout(session) == BUSY_TIMEOUT_MS
    finally:
        db.close()


@pytest.mark.server
def test_a_brief_write_on_postgresql_gives_up_on_a_table_lock(
    tmp_path: Path, postgres_shared: str
) -> None:
    settings = Backend("postgresql", tmp_path / "data", postgres_shared).settings()
    db = Database.open(settings)
    holder = Database(create_engine(database_url(settings)))
    locked = threading.Event()

    def hold() -> None:  # for five seconds: a brief write that waited would then go through
        with holder.session() as held:
            held.execute(text("LOCK TABLE platform_state IN EXCLUSIVE MODE"))
            locked.set()
            held.execute(text("SELECT pg_sleep(5)"))

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10)
        with pytest.raises(OperationalError, match="lock timeout"), db.brief() as session:
            session.execute(text("DELETE FROM platform_state"))

        def lock_timeout(session: Any) -> str:
            return str(session.execute(text("SHOW lock_timeout")).scalar())

        with db.brief() as session:
            assert lock_timeout(session) == f"{BRIEF_TIMEOUT_MS}ms"
        with db.session() as session:  # the pooled connection keeps its usual patience
            assert lock_timeout(session) == "0"
    finally:
        thread.join()
        holder.close()
        db.close()
