"""The health check and the admin token, decided in the core (:mod:`bot.ops.health`,
:mod:`bot.ops.admin`); the server only turns them into HTTP."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.ops.admin import may_reload
from bot.ops.health import check_health
from tests.fakes import FakeEmbedder

TOKEN = "s3cret-token"


def database_ok() -> None:
    """A database that takes its query."""


def database_down() -> None:
    raise ConnectionRefusedError("db.internal:5432 refused")


def test_a_built_index_and_a_working_database_are_healthy(knowledge: Path, tmp_path: Path) -> None:
    engine = PolicyBot(Settings(data_dir=tmp_path, knowledge_dir=knowledge), embedder=FakeEmbedder)
    engine.reload_documents()
    health = check_health(engine, database_ok)
    assert health.healthy
    assert health.body["status"] == "ok"
    assert health.body["index"] == "ok" and health.body["database"] == "ok"
    assert health.body["knowledge_version"] == engine.knowledge_version
    assert "llm" not in health.body  # no model configured


def test_no_index_or_no_database_is_unhealthy_and_names_no_host(
    knowledge: Path, tmp_path: Path
) -> None:
    engine = PolicyBot(
        Settings(data_dir=tmp_path / "empty", knowledge_dir=knowledge), embedder=FakeEmbedder
    )
    health = check_health(engine, database_down)
    assert not health.healthy
    assert health.body["status"] == "unavailable"
    assert health.body["index"].startswith("unavailable: ")
    assert health.body["database"] == "unavailable: ConnectionRefusedError"
    assert "db.internal" not in str(health.body) and str(tmp_path) not in str(health.body)


@pytest.mark.parametrize(
    ("configured", "header", "allowed"),
    [
        (TOKEN, f"Bearer {TOKEN}", True),
        (TOKEN, "", False),
        (TOKEN, "Bearer wrong", False),
        (TOKEN, f"Basic {TOKEN}", False),
        (TOKEN, TOKEN, False),
        (TOKEN, "Bearer s3cr\u00e9t", False),
        ("", "Bearer ", False),  # no token configured: nobody may reload
    ],
)
def test_only_the_bearer_of_the_configured_token_may_reload(
    tmp_path: Path, configured: str, header: str, allowed: bool
) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=configured)
    assert may_reload(settings, header) is allowed
