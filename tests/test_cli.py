"""The ``policybot`` command line as users and scripts run it: a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import PolicyBot
from tests.conftest import KNOWLEDGE

EXE = str(Path(sys.executable).with_name("policybot"))


def run(
    bot: PolicyBot, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environ = {
        **os.environ,
        "POLICYBOT_DATA_DIR": str(bot.settings.data_dir),
        "POLICYBOT_KNOWLEDGE_DIR": str(KNOWLEDGE),
        **(env or {}),
    }
    return subprocess.run(
        [EXE, *args], input=stdin, capture_output=True, text=True, env=environ, timeout=120
    )


def test_ask_json_prints_one_object_with_the_contract_fields(real_bot: PolicyBot) -> None:
    result = run(real_bot, "ask", "--json", "How many hashtags should I use in a post?")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["question"] == "How many hashtags should I use in a post?"
    assert data["answered"] is True
    assert "three" in data["answer"]
    citation = data["citations"][0]
    assert citation["source"] == "social-media-guidance-for-staff.html"
    assert citation["section"] == "9.4"
    assert isinstance(citation["score"], float) and citation["quote"] and citation["title"]
    assert set(data["escalation"]) == {"suggested", "team", "reason"}
    assert isinstance(data["elapsed_ms"], float)
    assert data["notices"] == []


def test_ask_json_carries_the_notices_plain_ask_prints(real_bot: PolicyBot) -> None:
    question = "Can I use Facebook at lunchtime? " + "Please tell me. " * 300  # over 4,000
    data = json.loads(run(real_bot, "ask", "--json", question).stdout)
    plain = run(real_bot, "ask", question).stdout
    assert data["notices"] and all(notice in plain for notice in data["notices"])
    assert any("4,000" in notice for notice in data["notices"])


def test_ask_jsonl_answers_every_line_in_order(real_bot: PolicyBot) -> None:
    questions = [
        "How long does the Council keep internet access logs?",
        "",
        "What's the best pizza place near the office?",
        "How long are quarantined emails kept before they are deleted?",
    ]
    result = run(real_bot, "ask", "--jsonl", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(questions)
    assert [r["answered"] for r in rows] == [True, False, False, True]
    assert "6 months" in rows[0]["answer"]
    assert "30 days" in rows[3]["answer"]
    assert rows[2]["citations"] == []


def test_reload_reports_no_change_quickly_when_nothing_changed(real_bot: PolicyBot) -> None:
    result = run(real_bot, "reload")
    assert result.returncode == 0, result.stderr
    assert "No changes" in result.stdout
    assert "273 clauses" in result.stdout


def test_reload_json_report(real_bot: PolicyBot) -> None:
    data = json.loads(run(real_bot, "reload", "--json").stdout)
    assert data["rebuilt"] is False
    assert {d["source"] for d in data["documents"]} == {
        p.name for p in KNOWLEDGE.iterdir() if p.suffix in {".md", ".html", ".docx", ".pdf", ".txt"}
    }


def test_a_corrupt_document_aborts_reload_with_its_name_and_no_traceback(
    real_bot: PolicyBot, knowledge: Path
) -> None:
    (knowledge / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    result = run(real_bot, "reload", "--knowledge", str(knowledge))
    assert result.returncode == 1
    assert "broken.pdf" in result.stderr
    assert "Traceback" not in result.stderr
    # the previous index keeps answering
    ask = run(real_bot, "ask", "--json", "How long does the Council keep internet access logs?")
    assert json.loads(ask.stdout)["answered"] is True


def test_eval_reports_the_metrics(real_bot: PolicyBot, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    rows = [
        {
            "id": "a",
            "question": "How many hashtags should I use in a post?",
            "kind": "answer",
            "sources": [{"doc": "social-media-guidance-for-staff", "section": "9.4"}],
            "route": None,
            "mention_any": ["three"],
        },
        {
            "id": "u",
            "question": "Who won the 2018 World Cup?",
            "kind": "unknown",
            "sources": [],
            "route": None,
            "mention_any": [],
        },
    ]
    questions.write_text("\n".join(json.dumps(r) for r in rows))
    result = run(real_bot, "eval", str(questions), "--json")
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout)
    assert metrics["recall@1"] == 1.0
    assert metrics["key_fact"] == 1.0
    assert metrics["unknown_unanswered"] == 1.0
    assert metrics["counts"] == {
        "questions": 2,
        "answer": 1,
        "escalate": 0,
        "unknown": 1,
        "approved": 0,  # answered with a reviewer's approved answer (none approved here)
    }
    assert metrics["approved_served"] == 0.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("eval", "does-not-exist.jsonl"), "does-not-exist.jsonl"),
        (("ask",), "Give a question"),
    ],
)
def test_errors_go_to_stderr_without_traceback(
    real_bot: PolicyBot, args: tuple[str, ...], message: str
) -> None:
    result = run(real_bot, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_named(real_bot: PolicyBot) -> None:
    result = run(real_bot, "ask", "hello", env={"CHROMA_PORT": "eighty"})
    assert result.returncode == 1
    assert "CHROMA_PORT" in result.stderr


def test_eval_breaks_figures_down_with_intervals(real_bot: PolicyBot, tmp_path: Path) -> None:
    rows = [
        {
            "id": "a",
            "question": "hashtags per post?",
            "kind": "answer",
            "voice": "short",
            "sources": [{"doc": "social-media-guidance-for-staff", "section": "9.4"}],
            "mention_any": ["three"],
        },
        {"id": "b", "question": "Who won the 2018 World Cup?", "kind": "unknown", "voice": "plain"},
    ]
    (tmp_path / "one.jsonl").write_text(json.dumps(rows[0]) + "\n")
    (tmp_path / "two.jsonl").write_text(json.dumps(rows[1]) + "\n")
    result = run(real_bot, "eval", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["counts"]["questions"] == 2
    recall = data["intervals"]["recall@3"]
    assert recall["n"] == 1 and recall["low"] < recall["value"] <= recall["high"]
    assert set(data["breakdown"]["voice"]) == {"short", "plain"}
    assert set(data["breakdown"]["file"]) == {"one", "two"}
    assert sum(row["n"] for row in data["reliability"]) == 2


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"question": "x", "kind": "maybe"}', "kind must be one of"),
        ('{"question": "can I use fb at lunch"}', 'needs "sources" or "mention_any"'),
        ('{"question": "a journalist rang me", "kind": "escalate"}', 'needs "route"'),
        ('[{"question": "x"}]', "one JSON object"),
    ],
)
def test_eval_refuses_a_malformed_file(
    real_bot: PolicyBot, tmp_path: Path, line: str, reason: str
) -> None:
    (tmp_path / "bad.jsonl").write_text(f"{line}\n")
    result = run(real_bot, "eval", str(tmp_path / "bad.jsonl"))
    assert result.returncode == 1
    assert "bad.jsonl line 1" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_line_reads_settings_from_a_dotenv_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# settings kept beside the bot\n"
        f"POLICYBOT_DATA_DIR={tmp_path / 'from-file'}\n"
        "POLICYBOT_HR_REVIEWERS=cli:from-file\n",
        encoding="utf-8",
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("POLICYBOT_")}
    listed = subprocess.run(
        [EXE, "escalations", "list", "--json"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    assert (tmp_path / "from-file" / "policybot.sqlite3").is_file()

    # A variable set in the environment wins over the file.
    environ["POLICYBOT_DATA_DIR"] = str(tmp_path / "from-environment")
    subprocess.run(
        [EXE, "escalations", "list", "--json"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert (tmp_path / "from-environment" / "policybot.sqlite3").is_file()
