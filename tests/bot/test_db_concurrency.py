"""The database layer: URLs, SQLite settings, migrations, and many processes at once."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.cases.service import CaseRequest
from bot.config import Settings
from bot.errors import ConfigError
from bot.storage.db import HEAD_REVISION, MIGRATIONS_DIR, Database, normalise_url
from bot.storage.models import Base
from tests.bot.conftest import PROJECT_ROOT, STAFF, Backend

PROCESSES = 24


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("postgres://u:p@db:5432/bot", "postgresql+psycopg"),
        ("postgresql://u:p@db/bot", "postgresql+psycopg"),
        ("postgresql+psycopg://u@db/bot", "postgresql+psycopg"),
        ("sqlite:////tmp/x.sqlite3", "sqlite+pysqlite"),
    ],
)
def test_database_url_picks_installed_drivers(raw: str, driver: str) -> None:
    assert normalise_url(raw).drivername == driver


def test_bad_database_url_is_a_config_error_without_the_password() -> None:
    with pytest.raises(ConfigError) as caught:
        normalise_url("mysql://user:s3cret@db/bot")
    assert "s3cret" not in str(caught.value)
    with pytest.raises(ConfigError):
        normalise_url("not a url")


def test_default_is_a_wal_sqlite_file_in_the_data_dir(tmp_path: Path) -> None:
    db = Database.open(Settings(data_dir=tmp_path / "data"))
    try:
        assert (tmp_path / "data" / "policybot.sqlite3").is_file()
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() >= 5000
    finally:
        db.close()


def test_head_revision_constant_matches_the_migrations() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrations_match_the_models(fresh_database: Backend) -> None:
    db = Database.open(fresh_database.settings())
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            version = connection.execute(text("SELECT version_num FROM alembic_version"))
            assert version.scalar() == HEAD_REVISION
    finally:
        db.close()


def test_threads_opening_at_once_migrate_once(fresh_database: Backend) -> None:
    settings = fresh_database.settings()

    def open_and_count(_: int) -> int:
        db = Database.open(settings)
        try:
            with db.session() as session:
                return len(session.execute(text("SELECT team FROM case_counters")).all())
        finally:
            db.close()

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(open_and_count, range(6))) == [2] * 6


def test_concurrent_opens_in_threads_get_distinct_ids(database: Backend) -> None:
    from bot.cases.casework import Casework

    work = Casework.open(database.settings())
    try:

        def open_one(i: int) -> str:
            return work.cases.open(CaseRequest("hr", STAFF, f"question {i}")).id

        with ThreadPoolExecutor(max_workers=8) as pool:
            ids = list(pool.map(open_one, range(16)))
        assert sorted(ids) == [f"HR-{n:04d}" for n in range(1, 17)]
    finally:
        work.close()


@pytest.mark.server
def test_24_cli_processes_open_24_cases(fresh_database: Backend) -> None:
    """24 ``escalations open`` processes at once on a fresh database: nothing lost."""
    env = fresh_database.env()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "policybot.cli_cases",
                "escalations",
                "open",
                "--team",
                "hr" if i % 3 else "communications",
                "--asker",
                f"slack:U{i:03d}",
                "--json",
                f"Question number {i}",
            ],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("ru_utime", "ru_stime"))
    failures = [err for proc, (_, err) in zip(procs, outputs, strict=True) if proc.returncode]
    assert not failures, failures[0]
    cases = [json.loads(out) for out, _ in outputs]
    ids = {case["id"] for case in cases}
    assert len(ids) == PROCESSES
    assert {case["question"] for case in cases} == {f"Question number {i}" for i in range(24)}
    hr = sorted(case["id"] for case in cases if case["team"] == "hr")
    assert hr == [f"HR-{n:04d}" for n in range(1, len(hr) + 1)]  # unique and gapless

    db = Database.open(fresh_database.settings())
    try:
        with db.session() as session:
            assert session.execute(text("SELECT count(*) FROM cases")).scalar() == PROCESSES
            assert session.execute(text("SELECT count(*) FROM outbox")).scalar() == PROCESSES
    finally:
        db.close()
    print(
        f"\n{fresh_database.name}: {PROCESSES} processes, {len(ids)} cases, "
        f"{elapsed:.1f} s wall, {cpu / PROCESSES:.2f} s CPU per process"
    )
