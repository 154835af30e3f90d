"""Fixtures shared by every test: a clean environment, a copy of the knowledge directory,
and one real index of the shipped documents built once per run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from tests.postgres import PostgresUnavailable, start_server

ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE = ROOT / "knowledge"
_PREFIXES = ("POLICYBOT_", "CHROMA_", "SLACK_", "MICROSOFT_", "TEAMS_", "OPENAI_", "AZURE_OPENAI_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's own PolicyBot, platform or model settings."""
    for name in list(os.environ):
        if (
            name.startswith(_PREFIXES)
            and not name.startswith("POLICYBOT_TEST_")
            and (name != "POLICYBOT_REQUIRE_POSTGRES")
        ):
            monkeypatch.delenv(name)
    # The command lines the tests start read no developer's .env.
    monkeypatch.setenv("POLICYBOT_ENV_FILE", "")


@pytest.fixture
def knowledge(tmp_path: Path) -> Path:
    """A writable copy of the shipped knowledge directory."""
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


@pytest.fixture(scope="session")
def real_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PolicyBot]:
    """The real engine (packaged model, embedded Chroma) over the shipped documents."""
    data = tmp_path_factory.mktemp("data")
    bot = PolicyBot(Settings(data_dir=data, knowledge_dir=KNOWLEDGE))
    bot.reload_documents()
    yield bot


# Read once, before any test's environment cleaning can hide them.
GIVEN_URL = os.environ.get("POLICYBOT_TEST_DATABASE_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("POLICYBOT_REQUIRE_POSTGRES", "").strip() == "1"


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The base URL of a PostgreSQL server for this run (skips or fails when there is none)."""
    if GIVEN_URL:
        yield GIVEN_URL
        return
    try:
        server = start_server()
    except PostgresUnavailable as exc:
        reason = f"PostgreSQL unavailable: {exc}"
        if REQUIRE_POSTGRES:
            pytest.fail(f"{reason} (POLICYBOT_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    try:
        yield server.url
    finally:
        server.stop()
