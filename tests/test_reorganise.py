"""``scripts/reorganise.py`` on a small flat tree: moves, rewrites, and refusals.

The script is run once on ``main`` and may then be deleted; this test goes with it.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "reorganise.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reorganise", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("reorganise", module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


FILES = {
    "bot/__init__.py": '_HOMES = {"FlushResult": "bot.outbox", "Settings": "bot.config"}\n',
    "bot/cases.py": "from bot import case_rows as rows\n",
    "bot/assistant.py": (
        '"""Joins :class:`bot.cases.CaseService` (``bot/cases.py``) and the index."""\n\n'
        "from bot import phrases, retrieval\n"
        "from bot.db import Database\n"
        "from bot.index import current_id  # bot.index keeps the builds\n"
        "from bot.models import Answer\n"
    ),
    "bot/loaders/__init__.py": (
        "from bot.loaders._plain import read\nfrom bot.paths import inside\n"
    ),
    "bot/loaders/_plain.py": "def read() -> None: ...\n",
    "bot/migrations/env.py": "from bot.storage_models import Base\n",
    "tests/test_engine.py": (
        "import logging\n\n\n"
        "def test_it(bot, monkeypatch, caplog):\n"
        '    monkeypatch.setattr("bot.retrieval.search", None)\n'
        '    caplog.set_level(logging.INFO, logger="bot.cases")\n'
        "    assert bot.index.current_id() is None  # a PolicyBot, not the package\n"
        '    assert f"bot.index: {bot.index.current_id()}" != "bot.index"\n'
    ),
    "README.md": "The schema: `bot/storage_models.py`, migrations in `bot/migrations/versions`.\n",
    "CHANGELOG.md": "- `bot/db.py` learnt PostgreSQL.\n",
    "pyproject.toml": (
        "[tool.setuptools.package-data]\n"
        'bot = ["data/*", "py.typed", "migrations/*.py", "migrations/versions/*.py"]\n'
    ),
}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A git work tree with every module of the mapping, flat, and one it does not know."""
    mapping = load_script().MOVES
    for old in mapping:
        if old not in ("loaders", "migrations"):
            (tmp_path / "bot" / f"{old}.py").parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / "bot" / f"{old}.py").write_text("", encoding="utf-8")
    for name, text in {**FILES, "bot/spelling.py": "from bot.text import terms\n"}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run([*git, "commit", "-qm", "flat"], cwd=tmp_path, check=True)
    return tmp_path


def reorganise(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=tree, capture_output=True, text=True, check=False
    )


def test_a_module_missing_from_the_mapping_stops_the_run_and_changes_nothing(tree: Path) -> None:
    result = reorganise(tree)
    assert result.returncode == 2
    assert "not in the mapping: spelling" in result.stderr
    assert (tree / "bot" / "db.py").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=tree, capture_output=True)
    assert status.stdout == b""


def test_it_moves_each_module_and_rewrites_every_reference(tree: Path) -> None:
    result = reorganise(tree, "spelling=answers.spelling")
    assert result.returncode == 0, result.stderr
    read = lambda name: (tree / name).read_text(encoding="utf-8")  # noqa: E731

    assert not (tree / "bot" / "db.py").exists()
    assert read("bot/storage/__init__.py").startswith('"""Storage:')
    assert read("bot/answers/spelling.py") == "from bot.answers.text import terms\n"
    assert read("bot/knowledge/loaders/__init__.py") == (
        "from bot.knowledge.loaders._plain import read\nfrom bot.knowledge.paths import inside\n"
    )
    assert read("bot/storage/migrations/env.py") == "from bot.storage.models import Base\n"
    assert read("bot/cases/service.py") == "from bot.cases import rows\n"
    assert '"FlushResult": "bot.cases.outbox"' in read("bot/__init__.py")
    assistant = read("bot/assistant.py")
    assert ":class:`bot.cases.service.CaseService` (``bot/cases/service.py``)" in assistant
    assert "from bot import phrases\nfrom bot.answers import retrieval\n" in assistant
    assert "from bot.reload.index import current_id  # bot.reload.index keeps" in assistant
    assert "from bot.storage.db import Database" in assistant
    test = read("tests/test_engine.py")
    assert '"bot.answers.retrieval.search"' in test and 'logger="bot.cases.service"' in test
    assert "bot.index.current_id()" in test  # a variable called bot is left alone
    assert 'f"bot.reload.index: {bot.index.current_id()}" != "bot.reload.index"' in test
    assert read("README.md") == (
        "The schema: `bot/storage/models.py`, migrations in `bot/storage/migrations/versions`.\n"
    )
    assert read("CHANGELOG.md") == FILES["CHANGELOG.md"]  # history keeps its paths
    assert read("pyproject.toml").splitlines()[1:] == [
        'bot = ["data/*", "py.typed"]',
        '"bot.storage" = ["migrations/*.py", "migrations/versions/*.py"]',
    ]


def test_it_refuses_to_run_twice(tree: Path) -> None:
    assert reorganise(tree, "spelling=answers.spelling").returncode == 0
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "add", "-A"], cwd=tree, check=True)
    subprocess.run([*git, "commit", "-qm", "grouped"], cwd=tree, check=True)
    again = reorganise(tree, "spelling=answers.spelling")
    assert again.returncode == 2
    assert "It runs once" in again.stderr


def test_it_refuses_a_dirty_work_tree(tree: Path) -> None:
    (tree / "bot" / "db.py").write_text("# an edit not committed\n", encoding="utf-8")
    result = reorganise(tree, "spelling=answers.spelling")
    assert result.returncode == 2 and "the work tree has changes" in result.stderr
    assert (tree / "bot" / "db.py").is_file()


def test_a_move_into_an_unknown_package_is_refused(tree: Path) -> None:
    result = reorganise(tree, "spelling=misc.spelling")
    assert result.returncode == 2 and "misc is not one of" in result.stderr
