"""`policybot doctor`: each dependency checked for real, with the reason and the fix."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.ops import doctor
from tests.conftest import KNOWLEDGE
from tests.fakes_openai import FakeOpenAI, answer

EXE = str(Path(sys.executable).with_name("policybot"))


@pytest.fixture
def data_dir(real_bot: PolicyBot, tmp_path: Path) -> Path:
    """A data directory holding a copy of the shipped documents' index."""
    shutil.copytree(real_bot.settings.index_dir, tmp_path / "data" / "index")
    return tmp_path / "data"


@pytest.fixture
def fake_model() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def settings(data_dir: Path, **env: str) -> Settings:
    return Settings.from_env({"POLICYBOT_DATA_DIR": str(data_dir), **env}, knowledge_dir=KNOWLEDGE)


def by_name(checks: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {check.name: check for check in checks}


def test_a_ready_installation_passes_and_says_what_it_skipped(data_dir: Path) -> None:
    checks = by_name(doctor.run(settings(data_dir), doctor.core_probes()))
    assert {name: c.status for name, c in checks.items()} == {
        "knowledge": "ok",
        "index": "ok",
        "reviews": "ok",
        "database": "ok",
        "chroma": "skipped",
        "model": "skipped",
    }
    assert "274 chunks" in checks["index"].detail


def test_each_broken_dependency_fails_with_its_reason_and_fix(
    tmp_path: Path, fake_model: FakeOpenAI
) -> None:
    broken = settings(
        tmp_path / "empty",
        DATABASE_URL="postgresql://nobody@127.0.0.1:1/policybot",
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT="1",
        OPENAI_API_KEY="sk-test-not-a-real-key",
        OPENAI_BASE_URL=f"{fake_model.url}/v1",  # answers HTTP 500: nothing is scripted
    )
    checks = by_name(doctor.run(broken, doctor.core_probes()))
    assert {name: c.status for name, c in checks.items()} == {
        "knowledge": "ok",
        "index": "failed",
        "reviews": "skipped",
        "database": "failed",
        "chroma": "failed",
        "model": "failed",
    }
    assert checks["index"].fix == "run `policybot reload`"
    assert "DATABASE_URL" in checks["database"].fix
    assert "chroma run" in checks["chroma"].fix and "127.0.0.1:1" in checks["chroma"].detail
    assert "HTTP 500" in checks["model"].detail


def test_a_model_that_answers_passes(data_dir: Path, fake_model: FakeOpenAI) -> None:
    fake_model.script(answer("OK", []))
    model = settings(
        data_dir, OPENAI_API_KEY="sk-test-not-a-real-key", OPENAI_BASE_URL=f"{fake_model.url}/v1"
    )
    (check,) = doctor.run(model, [("model", doctor.check_model)])
    assert check.status == "ok" and len(fake_model.chat_requests()) == 1


def test_the_command_exits_1_when_a_check_fails(tmp_path: Path) -> None:
    environ = {
        "PATH": "",
        "POLICYBOT_ENV_FILE": "",
        "POLICYBOT_DATA_DIR": str(tmp_path),
        "POLICYBOT_KNOWLEDGE_DIR": str(KNOWLEDGE),
    }
    done = subprocess.run([EXE, "doctor"], env=environ, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "failed  index" in done.stdout and "skipped slack" in done.stdout
