"""`policybot insights` from a seeded database: counts, themes and medians checked exactly."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.cases.casework import Casework
from bot.cases.service import CaseRequest
from bot.knowledge.embeddings import Vectors
from bot.models import Answer, Citation, Question
from bot.ops.insights import gather, markdown
from tests.bot.conftest import COMMS, HR, STAFF, Backend, FakeClock

EXE = str(Path(sys.executable).with_name("policybot"))


def run_policybot(backend: Backend, *args: str) -> tuple[int, str, str]:
    done = subprocess.run(
        [EXE, *args], env=backend.env(), capture_output=True, text=True, timeout=120
    )
    return done.returncode, done.stdout, done.stderr


def by_topic(texts: Sequence[str]) -> Vectors:
    """Parking questions point one way, everything else another: meaning, made checkable."""
    return np.asarray([[1.0, 0.0] if "park" in t else [0.0, 1.0] for t in texts])


def asked(work: Casework, answer_id: str, text: str, section: str | None) -> None:
    citations = (Citation("policy.md", section, "Use", "…", 0.9),) if section else ()
    answer = Answer(text, section is not None, "…", citations, id=answer_id)
    work.audit.record(Question(text, user_id=STAFF, platform="slack"), answer)


def test_the_report_counts_groups_and_times_what_happened(work: Casework, clock: FakeClock) -> None:
    asked(work, "a1", "facebook at lunch?", "4.2")
    asked(work, "a2", "insta at lunch?", "4.2")
    asked(work, "a3", "tiktok on shift?", "4.3")
    asked(work, "d1", "where do I park my car", None)
    asked(work, "d2", "can I park at the depot", None)
    asked(work, "d3", "best pizza near the office", None)
    work.feedback.record("a3", False, rater=STAFF)
    first = work.cases.open(CaseRequest("hr", STAFF, "one")).id
    second = work.cases.open(CaseRequest("hr", STAFF, "two")).id
    work.cases.open(CaseRequest("communications", STAFF, "three"))
    clock.advance(hours=2)
    work.cases.reply(first, "We will call you.", by=HR)
    clock.advance(hours=2)
    work.cases.reply(second, "Noted.", by=HR)
    clock.advance(hours=1)
    work.cases.resolve(first, by=HR)
    clock.advance(hours=9)
    assert work.remind() == {"communications": [work.cases.list("communications")[0].id]}

    report = gather(work.db, by_topic)

    assert (report.questions, report.answered) == (6, 3)
    assert report.top_clauses == (("policy.md 4.2", 2), ("policy.md 4.3", 1))
    assert [(t.count, set(t.examples)) for t in report.declined_themes] == [
        (2, {"where do I park my car", "can I park at the depot"}),
        (1, {"best pizza near the office"}),
    ]
    assert report.unhelpful == (("tiktok on shift?", ("policy.md 4.3",)),)
    hr, comms = report.teams["hr"], report.teams["communications"]
    assert (hr.cases, hr.first_reply_median, hr.first_reply_p90) == (2, 3.0, 4.0)
    assert (hr.resolution_median, hr.sla_breaches) == (5.0, 0)
    assert (comms.cases, comms.first_reply_median, comms.sla_breaches) == (1, None, 1)
    text = markdown(report)
    assert "6 questions, 50% answered" in text and "2× " in text
    assert STAFF not in text and COMMS not in text  # nobody is named


def test_the_command_prints_json_and_refuses_a_bad_date(database: Backend) -> None:
    code, out, _ = run_policybot(database, "insights", "--format", "json")
    assert code == 0 and json.loads(out)["questions"] == 0
    code, _, err = run_policybot(database, "insights", "--since", "last tuesday")
    assert code == 1 and "is not a date" in err
