"""One reload at a time across instances on one database (issue 11): the lease is a row in
the database, taken by the core's reload use case, so ``/admin/reload``, the chat commands
and the command line all honour it."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import ReloadInProgressError
from bot.reload.lease import ALREADY_RUNNING, LEASE_SECONDS, ReloadLease
from bot.storage.db import Database
from tests.fakes import FakeEmbedder

ADMIN = "slack:UADMIN"
EXE = str(Path(sys.executable).with_name("policybot"))


def instance(tmp_path: Path, name: str, knowledge: Path, database: str) -> Assistant:
    """An instance with its own data directory (its own index and index lock) on the
    shared database."""
    settings = Settings(
        data_dir=tmp_path / name,
        knowledge_dir=knowledge,
        database_url=database,
        admins=frozenset({ADMIN}),
    )
    return Assistant(PolicyBot(settings, embedder=FakeEmbedder), Casework.open(settings))


@pytest.fixture
def shared(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.fixture
def pair(tmp_path: Path, knowledge: Path, shared: str) -> Iterator[tuple[Assistant, Assistant]]:
    a = instance(tmp_path, "a", knowledge, shared)
    b = instance(tmp_path, "b", knowledge, shared)
    yield a, b
    a.close()
    b.close()


def test_a_reload_on_another_instance_waits_for_none_and_is_refused_while_one_runs(
    pair: tuple[Assistant, Assistant],
) -> None:
    a, b = pair
    embedding, go_on = threading.Event(), threading.Event()

    def progress(done: int, total: int) -> None:
        embedding.set()
        assert go_on.wait(60), "the test never let the reload finish"

    running = threading.Thread(target=lambda: a.reload(ADMIN, progress=progress))
    running.start()
    try:
        assert embedding.wait(60), "A's reload never started embedding"
        with pytest.raises(ReloadInProgressError, match="already running"):
            b.reload(ADMIN)  # another instance, another index directory: the lease refuses
        with pytest.raises(ReloadInProgressError):
            a.reload(ADMIN)  # the same instance too
    finally:
        go_on.set()
        running.join(60)
    report = b.reload(ADMIN)  # A's reload is over: the lease is free again
    assert report.chunks > 0


def test_a_lease_not_renewed_is_taken_over_and_its_old_holder_loses_it(
    tmp_path: Path, shared: str
) -> None:
    db = Database.open(Settings(data_dir=tmp_path, database_url=shared))
    now = [datetime(2026, 11, 30, 12, 0, tzinfo=UTC)]
    dead, alive = (ReloadLease(db, clock=lambda: now[0]) for _ in range(2))
    try:
        assert dead.acquire() is True
        assert alive.acquire() is False
        now[0] += timedelta(seconds=LEASE_SECONDS / 2)
        assert dead.renew() is True  # renewed: it stands a full lease from now
        now[0] += timedelta(seconds=LEASE_SECONDS * 0.9)
        assert alive.acquire() is False
        now[0] += timedelta(seconds=LEASE_SECONDS)  # its holder died: nobody renewed it
        assert alive.acquire() is True
        assert dead.renew() is False
        dead.release()  # not its lease any more: nothing happens
        assert ReloadLease(db, clock=lambda: now[0]).acquire() is False
        alive.release()
        assert ReloadLease(db, clock=lambda: now[0]).acquire() is True
    finally:
        db.close()


def test_the_command_line_reload_honours_the_lease(
    real_bot: PolicyBot, tmp_path: Path, shared: str
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=shared)
    db = Database.open(settings)
    other = ReloadLease(db)
    assert other.acquire()  # an instance is reloading
    environ = {
        **os.environ,
        "POLICYBOT_ENV_FILE": "",
        "POLICYBOT_DATA_DIR": str(real_bot.settings.data_dir),
        "POLICYBOT_KNOWLEDGE_DIR": str(real_bot.settings.knowledge_dir),
        "DATABASE_URL": shared,
    }
    try:
        refused = subprocess.run(
            [EXE, "reload"], capture_output=True, text=True, env=environ, timeout=120
        )
        other.release()
        done = subprocess.run(
            [EXE, "reload"], capture_output=True, text=True, env=environ, timeout=120
        )
    finally:
        db.close()
    assert refused.returncode == 1
    assert ALREADY_RUNNING in refused.stderr and "Traceback" not in refused.stderr
    assert done.returncode == 0, done.stderr
    assert "No changes" in done.stdout
