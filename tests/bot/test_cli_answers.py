"""`policybot answers ...` on both databases: approve, list, show, retire, reinstate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from policybot import cli_answers, cli_cases
from tests.bot.conftest import ADMIN, COMMS, HR, STAFF, Backend
from tests.bot.test_index import template  # noqa: F401

CLAUSE = "electronic-communication-and-social-media-policy:4.3"


@pytest.fixture
def cli(database: Backend, template: Path):  # noqa: F811
    """Run a command in-process, over a live index: returns (exit code, stdout, stderr)."""
    shutil.copytree(template, database.data_dir / "index")
    app = typer.Typer()
    cli_cases.register(app)
    cli_answers.register(app)
    runner = CliRunner()

    def invoke(*args: str) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), env=database.env())
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    return invoke


def test_approve_list_show_retire_reinstate(cli) -> None:
    cli("escalations", "open", "Can I use Facebook at work?", "--team", "hr", "--asker", STAFF)
    cli("escalations", "reply", "HR-0001", "About 10 minutes a day.", "--by", HR)

    code, out, _ = cli("answers", "approve", "HR-0001", "--by", HR, "--clause", CLAUSE)
    assert code == 0
    assert out.startswith("Saved as approved answer A-0001: questions like it are now answered")
    code, out, _ = cli("answers", "show", "A-0001", "--json")
    shown = json.loads(out)
    assert shown["text"] == "About 10 minutes a day." and shown["status"] == "active"
    assert shown["case_id"] == "HR-0001" and shown["approved_by"] == HR
    assert [(c["section"], len(c["hash"])) for c in shown["clauses"]] == [("4.3", 16)]
    assert "10 minutes" in shown["clauses"][0]["text"]
    code, out, _ = cli("answers", "show", "A-0001")
    assert "A-0001 (active) of the HR Advisory team" in out and "Rests on:" in out

    code, out, _ = cli(
        "answers", "approve", "HR-0001", "--by", ADMIN, "--text", "New.", "--question",
        "General?", "--clause", CLAUSE, "--clause", CLAUSE.replace("4.3", "4.2"), "--json",
    )  # fmt: skip
    assert code == 0 and [c["section"] for c in json.loads(out)["clauses"]] == ["4.3", "4.2"]

    code, out, _ = cli("answers", "list", "--json", "--team", "hr", "--status", "active")
    assert [a["id"] for a in json.loads(out)] == ["A-0001", "A-0002"]
    code, out, _ = cli("answers", "retire", "A-0001", "--by", HR, "--reason", "old")
    assert (code, out.strip()) == (0, "A-0001 retired: it is no longer served.")
    code, out, _ = cli("answers", "list")
    assert "A-0001  retired" in out and "A-0002  active" in out
    code, out, _ = cli("answers", "reinstate", "A-0001", "--by", HR, "--json")
    assert json.loads(out)["status"] == "active"


def test_refusals_are_one_line_and_exit_1(cli) -> None:
    cli("escalations", "open", "Can I?", "--team", "hr", "--asker", STAFF)
    code, _, err = cli("answers", "approve", "HR-0001", "--by", COMMS, "--clause", CLAUSE)
    assert code == 1
    assert err.strip() == (
        "error: Sorry, only the HR Advisory team reviewers and PolicyBot admins can approve "
        "its approved answers."
    )
    code, _, err = cli("answers", "approve", "HR-0001", "--by", HR, "--clause", CLAUSE)
    assert code == 1 and "HR-0001 has no reply yet" in err
    code, _, err = cli("answers", "show", "A-0042")
    assert code == 1 and err.strip() == "error: no approved answer A-0042"
    code, out, _ = cli("answers", "list")
    assert out.strip() == "No approved answers."


def test_approving_before_anything_is_indexed_says_so(database: Backend) -> None:
    app = typer.Typer()
    cli_answers.register(app)
    result = CliRunner().invoke(
        app, ["answers", "approve", "HR-0001", "--by", HR], env=database.env()
    )
    assert result.exit_code == 1
    assert "have not been indexed yet: run `policybot reload`" in result.stderr


def test_ask_and_eval_serve_approved_answers_from_the_database(
    database: Backend,
    template: Path,  # noqa: F811
) -> None:
    from bot.approved.clauses import current_clauses
    from bot.cases.casework import Casework
    from bot.cases.service import CaseRequest
    from bot.engine import PolicyBot
    from policybot.cli import serve_approved
    from tests.fakes import FakeEmbedder

    shutil.copytree(template, database.data_dir / "index")
    settings = database.settings()
    question = "Limited reasonable personal use during working time: how many minutes a day?"
    work = Casework.open(settings)
    try:
        case = work.cases.open(CaseRequest(team="hr", asker=STAFF, question=question))
        work.cases.reply(case.id, "Ten minutes.", by=HR)
        live = current_clauses(settings.index_dir)
        work.approved.approve(work.cases.get(case.id), by=HR, live=live, clauses=(CLAUSE,))
    finally:
        work.close()
    bot = PolicyBot(settings, embedder=FakeEmbedder)
    assert bot.ask(question).approved is None  # the engine alone knows no approved answers
    close = serve_approved(bot, settings)
    try:
        data = bot.ask(question).to_json()
    finally:
        close()
    assert data["approved"]["id"] == "A-0001" and data["answer"].endswith("Ten minutes.")
