"""Fixtures for the storage tests: the same tests on SQLite and on a real PostgreSQL.

``database`` is parametrised over ``sqlite`` (a file in a temporary data directory) and
``postgresql`` (a schema on the session's server, emptied for each test); ``fresh_database``
has no tables yet, for the tests of migrations and of processes starting together. The
PostgreSQL server is the one ``POLICYBOT_TEST_DATABASE_URL`` names, or a throwaway one started
for the run (see ``tests/postgres.py``). Without PostgreSQL those tests are skipped with the
reason, unless ``POLICYBOT_REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.cases.casework import Casework
from bot.config import Settings
from bot.storage.db import Database, normalise_url
from bot.storage.models import Base
from tests.postgres import admin_sql, create_schema

PROJECT_ROOT = Path(__file__).resolve().parents[2]

HR = "slack:UHR1"
HR2 = "slack:UHR2"
COMMS = "teams:29:comms1"
ADMIN = "cli:admin"
STAFF = "slack:USTAFF"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

_ENV_TO_CLEAN = (
    "DATABASE_URL",
    "POLICYBOT_DATA_DIR",
    "POLICYBOT_ADMINS",
    "POLICYBOT_HR_REVIEWERS",
    "POLICYBOT_COMMS_REVIEWERS",
    "POLICYBOT_SLA_HOURS",
    "POLICYBOT_RETENTION_DAYS",
)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own DATABASE_URL must never reach these tests."""
    for name in _ENV_TO_CLEAN:
        monkeypatch.delenv(name, raising=False)


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Backend:
    """One database for one test: settings for in-process use, env for subprocesses."""

    name: str
    data_dir: Path
    url: str = ""
    people: dict[str, str] = field(
        default_factory=lambda: {
            "POLICYBOT_HR_REVIEWERS": f"{HR},{HR2}",
            "POLICYBOT_COMMS_REVIEWERS": COMMS,
            "POLICYBOT_ADMINS": ADMIN,
        }
    )

    def settings(self, **overrides: object) -> Settings:
        return Settings.from_env(self.env(), **overrides)

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self.data_dir)),
            "LANG": "C.UTF-8",
            "PYTHONPATH": str(PROJECT_ROOT),
            "POLICYBOT_DATA_DIR": str(self.data_dir),
            "POLICYBOT_ENV_FILE": "",
            "DATABASE_URL": self.url,
            **self.people,
        }
        return {**env, **extra}


_BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.server)]


@pytest.fixture(scope="session")
def postgres_shared(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A schema migrated once for the run; :func:`database` empties it before each test."""
    schema = f"t_shared_{uuid.uuid4().hex[:8]}"
    url = create_schema(postgres_url, schema)
    settings = Settings(data_dir=tmp_path_factory.mktemp("pg-shared"), database_url=url)
    Database.open(settings).close()
    try:
        yield url
    finally:
        admin_sql(postgres_url, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=_BACKENDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """An empty, migrated database: a new SQLite file, or the shared PostgreSQL schema
    emptied (migrating a new schema for every test would cost a third of a second each)."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        return Backend("sqlite", data_dir)
    url = request.getfixturevalue("postgres_shared")
    db = Database(create_engine(normalise_url(url)))
    try:
        with db.session() as session:
            tables = ", ".join(
                t.name for t in Base.metadata.sorted_tables if t.name != "case_counters"
            )
            session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            session.execute(text("UPDATE case_counters SET last_number = 0"))
    finally:
        db.close()
    return Backend("postgresql", data_dir, url)


@pytest.fixture(params=_BACKENDS)
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A database with no tables yet: a new SQLite file, or a new PostgreSQL schema."""
    data_dir = tmp_path / "data"
    if request.param == "sqlite":
        yield Backend("sqlite", data_dir)
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    url = create_schema(base, schema)
    try:
        yield Backend("postgresql", data_dir, url)
    finally:
        admin_sql(base, f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def work(database: Backend, clock: FakeClock) -> Iterator[Casework]:
    """The escalation services on ``database``, with the fake clock."""
    casework = Casework.open(database.settings(), clock=clock)
    try:
        yield casework
    finally:
        casework.close()


def run_cli(backend: Backend, *args: str, timeout: float = 60) -> tuple[int, str, str]:
    """Run ``python -m policybot.cli_cases ARGS`` in a subprocess; (exit status, stdout, stderr)."""
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "policybot.cli_cases", *args],
        env=backend.env(),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr
