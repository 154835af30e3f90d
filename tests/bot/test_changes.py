"""What a reload changed, clause by clause, and the change log behind `policybot changes`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.knowledge.changes import KeptClause, compare, difference, markdown, read_log
from tests.bot.test_index import POLICY, Site, indexed, site, template  # noqa: F401

EXE = str(Path(sys.executable).with_name("policybot"))


def kept(section: str, text: str, title: str = "Use at work") -> KeptClause:
    return KeptClause("policy.md", "The Policy", section, title, text)


def test_clauses_are_compared_by_document_number_and_title() -> None:
    old = [
        kept("4.2", "Use it at lunch."),
        kept("4.3", "At most 10 minutes a day."),
        kept("9.9", "Gone."),
    ]
    new = [
        kept("4.2", "Use  it at\nlunch."),  # only the spacing changed: no change
        kept("4.3", "At most 15 minutes a day."),
        kept("4.4", "A new rule."),
    ]
    changes = compare(old, new)
    assert [(c.kind, c.section) for c in changes] == [
        ("changed", "4.3"),
        ("added", "4.4"),
        ("removed", "9.9"),
    ]
    assert changes[0].summary == "The Policy 4.3 (Use at work): most 10 minutes → most 15 minutes"


def test_the_difference_names_the_words_briefly() -> None:
    assert difference("a b c", "a b c d e") == "added “d e”"
    assert difference("ask your manager first", "ask first") == "removed “your manager”"
    long_old = " ".join(f"w{n}" for n in range(40))
    assert difference(long_old, "x") == "w0 w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11 … → x"


def test_a_reload_reports_and_logs_the_clauses_it_changed(indexed: Site) -> None:  # noqa: F811
    before = indexed.version()
    indexed.edit(POLICY, "no more than 10 minutes", "no more than 15 minutes")
    indexed.append_clause("19.9 Pigeons may not be fed from Council windows.")

    report = indexed.reload()

    assert [(c.kind, c.section) for c in report.changes] == [("changed", "4.3"), ("added", "19.9")]
    assert "than 10 minutes → than 15 minutes" in report.summary()
    assert report.to_json()["changes"][0]["summary"] == report.changes[0].summary
    (logged,) = read_log(indexed.index_dir)
    assert (logged.previous_version, logged.version) == (before, report.knowledge_version)
    assert read_log(indexed.index_dir, since=before) == [logged]
    with pytest.raises(LookupError, match="not in the change log"):
        read_log(indexed.index_dir, since="0000")

    nothing = indexed.reload()  # nothing changed: nothing logged
    assert not nothing.changes and len(read_log(indexed.index_dir, since=before)) == 1
    assert "4.3 (" in markdown([logged]) and "## Knowledge version" in markdown([logged])


def test_policybot_changes_prints_the_briefing(indexed: Site) -> None:  # noqa: F811
    indexed.edit(POLICY, "no more than 10 minutes", "no more than 15 minutes")
    indexed.reload()
    environ = {"POLICYBOT_DATA_DIR": str(indexed.data_dir), "POLICYBOT_ENV_FILE": "", "PATH": ""}

    shown = subprocess.run(
        [EXE, "changes"], env=environ, capture_output=True, text=True, timeout=60
    )
    as_json = subprocess.run(
        [EXE, "changes", "--format", "json"],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    unknown = subprocess.run(
        [EXE, "changes", "--since", "0000"], env=environ, capture_output=True, text=True, timeout=60
    )

    assert shown.returncode == 0 and "than 10 minutes → than 15 minutes" in shown.stdout
    assert json.loads(as_json.stdout)[0]["changes"][0]["section"] == "4.3"
    assert unknown.returncode == 1 and "not in the change log" in unknown.stderr
