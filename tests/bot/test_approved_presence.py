"""Whether a process that only answers has approved answers to serve (issue 15): with the
default SQLite file it is read with the standard library, and the one-shot ``policybot ask``
loads no database library when there are none."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.approved.presence import may_have_answers
from bot.cases.casework import Casework
from bot.storage.models import ApprovedAnswerRow
from tests.bot.conftest import HR, Backend, FakeClock
from tests.bot.test_approved import CLAUSE, QUESTION, REPLY
from tests.bot.test_index import template  # noqa: F401

ONE_SHOT = """
import sys
from bot.config import Settings
from bot.engine import PolicyBot
from policybot.cli import serve_approved
from tests.fakes import FakeEmbedder
settings = Settings.from_env()
bot = PolicyBot(settings, embedder=FakeEmbedder)
close = serve_approved(bot, settings)
answer = bot.ask(sys.argv[1])
close()
print(bot.approved is not None, "sqlalchemy" in sys.modules, answer.approved is not None)
"""


def approve(backend: Backend, clock: FakeClock) -> None:
    """An approved answer to QUESTION, through the case work as a reviewer saves one."""
    from bot.approved.clauses import current_clauses
    from bot.cases.service import CaseRequest

    settings = backend.settings()
    work = Casework.open(settings, clock=clock)
    try:
        case = work.cases.open(CaseRequest(team="hr", asker="slack:U1", question=QUESTION))
        work.cases.reply(case.id, REPLY, by=HR)
        live = current_clauses(settings.index_dir)
        work.approved.approve(work.cases.get(case.id), by=HR, live=live, clauses=(CLAUSE,))
    finally:
        work.close()


def one_shot(backend: Backend, question: str = QUESTION) -> tuple[str, ...]:
    """(serves approved answers, SQLAlchemy loaded, answered with one), from a fresh process."""
    result = subprocess.run(
        [sys.executable, "-c", ONE_SHOT, question],
        env=backend.env(),
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(result.stdout.split())


def test_the_default_sqlite_file_is_read_without_the_database_layer(
    tmp_path: Path,
    clock: FakeClock,
    template: Path,  # noqa: F811
) -> None:
    backend = Backend("sqlite", tmp_path / "data")
    shutil.copytree(template, backend.data_dir / "index")
    assert not may_have_answers(backend.settings())  # no database yet
    assert one_shot(backend) == ("False", "False", "False")

    Casework.open(backend.settings()).close()  # migrated, no approved answer
    assert not may_have_answers(backend.settings())
    assert one_shot(backend) == ("False", "False", "False")

    approve(backend, clock)
    assert may_have_answers(backend.settings())
    assert one_shot(backend) == ("True", "True", "True")

    work = Casework.open(backend.settings(), clock=clock)
    try:
        with work.db.session() as session:
            session.execute(update(ApprovedAnswerRow).values(status="retired"))
    finally:
        work.close()
    assert not may_have_answers(backend.settings())  # only a retired one


@pytest.mark.server
def test_another_database_is_asked_through_the_database_layer(
    tmp_path: Path,
    postgres_shared: str,
) -> None:
    backend = Backend("postgresql", tmp_path / "data", postgres_shared)
    assert may_have_answers(backend.settings())


def test_the_one_shot_ask_writes_nothing_to_the_database(
    database: Backend,
    clock: FakeClock,
    template: Path,  # noqa: F811
) -> None:
    """A one-shot answer serves approved answers read only: an answer whose clause a reload
    changed is not served, and stays for the server to suspend (and tell its team)."""
    shutil.copytree(template, database.data_dir / "index")
    approve(database, clock)
    assert one_shot(database)[0::2] == ("True", "True")
    work = Casework.open(database.settings(), clock=clock)
    try:
        stored = work.approved.get("A-0001")
        changed = [{**c.to_json(), "hash": "0" * 16} for c in stored.clauses]
        with work.db.session() as session:  # as if a reload had changed the cited clause
            session.execute(update(ApprovedAnswerRow).values(clauses=changed))
        assert one_shot(database)[0::2] == ("True", "False")
        assert work.approved.get("A-0001").status == "active"
    finally:
        work.close()
