"""The command line: escalations, feedback, audit, purge and remind, on both databases."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.models import Answer, Citation, Question
from bot.ports import RecordingNotifier
from policybot.cli_cases import register
from tests.bot.conftest import ADMIN, COMMS, HR, PROJECT_ROOT, STAFF, Backend, run_cli


@pytest.fixture
def cli(database: Backend):
    """Run a command in-process: returns (exit code, stdout, stderr)."""
    app = typer.Typer()
    register(app)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        result = runner.invoke(app, list(args), env=env or database.env())
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    return invoke


def _ok(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 0, err
    return out


def _fails(result: tuple[int, str, str], message: str) -> None:
    code, out, err = result
    assert code != 0 and message in err, (code, out, err)
    assert "Traceback" not in out + err


def test_lifecycle_through_the_cli(cli) -> None:
    opened = json.loads(
        _ok(cli("escalations", "open", "--team", "hr", "--asker", STAFF, "--json", "Help?"))
    )
    case_id = opened["id"]
    assert case_id == "HR-0001" and opened["status"] == "open" and opened["asker"] == STAFF
    assert "claimed by slack:UHR1" in _ok(cli("escalations", "claim", case_id, "--by", HR))
    out = _ok(cli("escalations", "reply", case_id, "--by", HR, "Call me on 1234"))
    assert "queued for delivery" in out and "policybot serve" in out
    _ok(cli("escalations", "resolve", case_id, "--by", ADMIN))

    shown = json.loads(_ok(cli("escalations", "show", case_id, "--json")))
    for key in ("id", "team", "status", "question", "asker", "created_at", "answer", "citations"):
        assert key in shown
    assert shown["status"] == "resolved"
    assert [(e["by"], e["action"]) for e in shown["events"]] == [
        (STAFF, "opened"),
        (HR, "claimed"),
        (HR, "replied"),
        (ADMIN, "resolved"),
    ]
    assert all(e["at"].endswith("+00:00") and "text" in e for e in shown["events"])

    listed = json.loads(_ok(cli("escalations", "list", "--team", "hr", "--json")))
    assert isinstance(listed, list) and [c["id"] for c in listed] == [case_id]
    assert json.loads(_ok(cli("escalations", "list", "--status", "open", "--json"))) == []
    text = _ok(cli("escalations", "show", case_id))
    assert "replied" in text and "Call me on 1234" in text

    rows = list(csv.DictReader(io.StringIO(_ok(cli("escalations", "export", "--format", "csv")))))
    assert [r["id"] for r in rows] == [case_id] and json.loads(rows[0]["events"])[0]["by"] == STAFF


def test_exported_cases_cannot_smuggle_a_spreadsheet_formula(cli) -> None:
    _ok(cli("escalations", "open", "--team", "hr", "--asker", STAFF, "@SUM(1+1)*cmd|' /C calc'!A0"))
    (row,) = csv.DictReader(io.StringIO(_ok(cli("escalations", "export", "--format", "csv"))))
    assert row["question"].startswith("'@SUM(")


def test_open_says_the_announcement_is_queued(cli) -> None:
    out = _ok(cli("escalations", "open", "--team", "comms", "--asker", STAFF, "Press call"))
    assert out.startswith("Opened COM-0001") and "queued for delivery" in out
    deliveries = json.loads(_ok(cli("escalations", "deliveries", "--json")))
    assert [(d["kind"], d["case"]) for d in deliveries] == [("post_case", "COM-0001")]


def test_a_reply_to_a_command_line_asker_says_where_they_read_it(cli) -> None:
    _ok(cli("escalations", "open", "--team", "hr", "--asker", "cli:jo", "Help?"))
    out = _ok(cli("escalations", "reply", "HR-0001", "--by", HR, "Call me on 1234"))
    assert "no chat platform reaches" in out and "policybot escalations show HR-0001" in out
    listed = _ok(cli("escalations", "deliveries"))
    assert "1 notification(s) queued" in listed  # the team's card, not the reply
    assert "deliver_reply HR-0001 undeliverable: the asker used the command line" in listed
    rows = json.loads(_ok(cli("escalations", "deliveries", "--json")))
    assert [(r["kind"], r["status"]) for r in rows] == [
        ("post_case", "pending"),
        ("deliver_reply", "undeliverable"),
    ]
    assert "replies are read here" in _ok(cli("escalations", "show", "HR-0001"))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("escalations", "show", "HR-0404"), "no case HR-0404"),
        (("escalations", "claim", "XX-1", "--by", HR), "not a case id"),
        (("escalations", "claim", "HR-0001", "--by", COMMS), "PolicyBot admins can claim HR-0001"),
        (("escalations", "resolve", "HR-0001", "--by", HR), "claim it before"),
        (("escalations", "list", "--team", "legal"), "unknown team"),
        (("escalations", "export", "--format", "xml"), "unknown format"),
        (("audit", "--since", "last tuesday"), "is not a date"),
    ],
)
def test_errors_go_to_stderr_with_a_non_zero_exit(cli, args: tuple[str, ...], message: str) -> None:
    _ok(cli("escalations", "open", "--team", "hr", "--asker", STAFF, "Q"))
    _fails(cli(*args), message)


def test_claiming_a_claimed_case_fails(cli) -> None:
    _ok(cli("escalations", "open", "--team", "hr", "--asker", STAFF, "Q"))
    _ok(cli("escalations", "claim", "HR-0001", "--by", HR))
    _fails(cli("escalations", "claim", "HR-0001", "--by", HR), "already claimed by slack:UHR1")


def test_anonymous_cases_never_show_the_asker(cli) -> None:
    secret = "slack:USECRET9"
    args = ("escalations", "open", "--team", "hr", "--asker", secret, "--name", "Secret Name")
    opened = json.loads(_ok(cli(*args, "--anonymous", "--json", "Grievance")))
    assert opened["asker"] is None and opened["asker_name"] is None
    _ok(cli("escalations", "claim", "HR-0001", "--by", HR))
    outputs = [
        _ok(cli("escalations", "list")),
        _ok(cli("escalations", "list", "--json")),
        _ok(cli("escalations", "show", "HR-0001")),
        _ok(cli("escalations", "show", "HR-0001", "--json")),
        _ok(cli("escalations", "export", "--format", "csv")),
        _ok(cli("escalations", "export", "--format", "json")),
    ]
    for out in outputs:
        assert "USECRET9" not in out and "Secret Name" not in out
    assert "(anonymous)" in outputs[0]


def test_feedback_audit_purge_and_remind(cli, database: Backend) -> None:
    work = Casework.open(database.settings())
    try:
        question = Question("Can I post on YouTube?", user_id=STAFF, platform="teams")
        citation = Citation("policy.txt", "5.1", "Video", "quote", 0.5)
        answer = Answer(question.text, True, "Ask Comms.", (citation,), id="a-1")
        work.audit.record(question, answer, knowledge_version="kv-7")
        work.feedback.record("a-1", False, comment="Not clear", rater=STAFF)
    finally:
        work.close()

    summary = json.loads(_ok(cli("feedback", "--json")))
    assert summary["not_helpful"] == 1 and summary["comments"][0]["comment"] == "Not clear"
    assert "Not helpful: 1" in _ok(cli("feedback"))

    (entry,) = json.loads(_ok(cli("audit", "--json")))
    assert entry["knowledge_version"] == "kv-7" and entry["asker"].startswith("anon:")
    assert json.loads(_ok(cli("audit", "--since", "2999-01-01", "--json"))) == []
    rows = list(csv.DictReader(io.StringIO(_ok(cli("audit", "--format", "csv")))))
    assert rows[0]["knowledge_version"] == "kv-7" and rows[0]["platform"] == "teams"
    assert "kv-7" in _ok(cli("audit"))

    assert "Cases are kept" in _ok(cli("purge"))
    assert "No case has waited" in _ok(cli("remind"))
    env = database.env(POLICYBOT_SLA_HOURS="0", POLICYBOT_RETENTION_DAYS="0")
    assert "reminders are off" in _ok(cli("remind", env=env))
    assert "nothing was purged" in _ok(cli("purge", env=env))


def test_bad_database_url_is_reported_without_traceback(cli, database: Backend) -> None:
    env = database.env(DATABASE_URL="mysql://user:pw@localhost/x")
    _fails(cli("escalations", "list", env=env), "DATABASE_URL must be a postgresql://")


def test_unreachable_postgres_is_one_line_on_stderr(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    backend = Backend("postgresql", tmp_path, "postgresql://policybot:hunter2@127.0.0.1:1/none")
    result = CliRunner().invoke(app, ["escalations", "list"], env=backend.env())
    assert result.exit_code == 1 and result.stderr.startswith("error: database error:")
    assert "hunter2" not in result.stderr and "Traceback" not in result.output


def test_a_reply_queued_by_the_cli_is_delivered_by_a_serving_process(
    database: Backend,
) -> None:
    """A CLI process queues the reply and exits; another process (``serve``) delivers it."""
    work = Casework.open(database.settings())
    try:
        case_id = work.cases.open(CaseRequest("hr", STAFF, "Q")).id
        work.cases.claim(case_id, by=HR)
        code, out, err = run_cli(database, "escalations", "reply", case_id, "--by", HR, "Answer")
        assert code == 0 and "queued for delivery" in out, err
        notifier = RecordingNotifier()
        assert work.outbox.flush(notifier).sent == 2
        (reply,) = notifier.of_kind("deliver_reply")
        # Logged from the CLI, the case has no conversation: the asker's id is the address.
        assert (reply.text, reply.conversation_ref) == ("Answer", STAFF)
    finally:
        work.close()


def test_the_policybot_entry_point_has_these_commands(tmp_path: Path) -> None:
    database = Backend("sqlite", tmp_path / "data")
    command = [sys.executable, "-c", "from policybot.cli import main; main()"]
    done = subprocess.run(
        [*command, "escalations", "list", "--json"],
        env=database.env(),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


def test_a_reply_on_an_unclaimed_case_claims_it(cli) -> None:
    _ok(cli("escalations", "open", "--team", "hr", "--asker", STAFF, "Help?"))
    out = _ok(cli("escalations", "reply", "HR-0001", "--by", HR, "Call me on 1234"))
    assert "Reply on HR-0001 recorded and claimed by slack:UHR1" in out
    shown = json.loads(_ok(cli("escalations", "show", "HR-0001", "--json")))
    assert (shown["status"], shown["claimed_by"]) == ("answered", HR)
    assert [(e["by"], e["action"]) for e in shown["events"]] == [
        (STAFF, "opened"),
        (HR, "claimed"),
        (HR, "replied"),
    ]
    out = _ok(cli("escalations", "reply", "HR-0001", "--by", HR, "And again"))
    assert "claimed by" not in out
