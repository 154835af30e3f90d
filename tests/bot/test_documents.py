"""Each document's version, owner and review date; answers from an overdue one say so."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import DocumentLoadError
from bot.knowledge.documents import DOCUMENTS_FILE, document_infos, parse_date, stated
from bot.models import Document
from bot.ops import doctor
from tests.bot.test_index import POLICY, Site, site  # noqa: F401
from tests.fakes import FakeEmbedder


def document(preamble: str, source: str = "policy.md") -> Document:
    return Document(source=source, title="The Policy", sections=(), preamble=preamble)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-31", date(2027, 3, 31)),
        ("31 March 2027", date(2027, 3, 31)),
        ("November 2027", date(2027, 11, 30)),
        ("February 2028", date(2028, 2, 29)),
        ("soon", None),
    ],
)
def test_review_dates_are_read_as_written(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_what_a_document_states_in_its_opening_lines() -> None:
    info = stated(
        document(
            "Sample. Version 1.0 (November 2026). Review date: November 2027. Owner: Head of HR."
        )
    )
    assert (info.version, info.owner, info.review_by) == ("1.0", "Head of HR", date(2027, 11, 30))
    assert not info.overdue(date(2027, 11, 30)) and info.overdue(date(2027, 12, 1))


def test_the_admins_file_wins_and_its_mistakes_are_reported(tmp_path: Path) -> None:
    (tmp_path / DOCUMENTS_FILE).write_text(
        '["policy"]\nowner = "Head of Communications"\nreview_date = "2026-01-31"\n'
        '["missing"]\nowner = "Nobody"\n',
        encoding="utf-8",
    )
    infos, problems = document_infos([document("Version 2.1. Review date: May 2030.")], tmp_path)
    info = infos["policy.md"]
    assert (info.version, info.owner, info.review_by) == (
        "2.1",
        "Head of Communications",
        date(2026, 1, 31),
    )
    assert problems == (f"{DOCUMENTS_FILE} [missing]: no document named missing",)
    (tmp_path / DOCUMENTS_FILE).write_text("[broken", encoding="utf-8")
    with pytest.raises(DocumentLoadError, match=DOCUMENTS_FILE):
        document_infos([document("")], tmp_path)


def test_a_document_past_its_review_date_is_flagged_and_its_answers_say_so(site: Site) -> None:  # noqa: F811
    (site.knowledge / DOCUMENTS_FILE).write_text(
        f'["{Path(POLICY).stem}"]\nreview_date = "2020-01-31"\n', encoding="utf-8"
    )
    bot = PolicyBot(site.settings(), embedder=FakeEmbedder)

    report = bot.reload_documents()

    assert f"{POLICY} was due for review by 31 January 2020" in report.warnings
    assert [i.source for i in bot.documents_due()] == [POLICY]
    answer = bot.ask("Can I use social media during my lunch break?")
    cited = {c.source for c in answer.citations}
    assert (POLICY in cited) == any("Due for review" in n for n in answer.notices)
    settings = Settings(data_dir=site.data_dir, knowledge_dir=site.knowledge)
    (check,) = doctor.run(settings, [("reviews", doctor.check_reviews)])
    assert check.status == "warning" and POLICY in check.detail
