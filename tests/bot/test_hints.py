"""Clause hints: read from knowledge/hints/, embedded at reload, searched beside clauses."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import DocumentLoadError
from bot.knowledge.hints import read_hints
from bot.models import Chunk
from tests.bot.test_index import POLICY, Site, indexed, site, template  # noqa: F401

CABINET = "cabinet-report-social-media-policy"


def chunk(section: str, title: str, source: str = f"{CABINET}.txt") -> Chunk:
    return Chunk(f"{source}-{section}-{title}", source, "Doc", section, title, "text")


def write(knowledge: Path, stem: str, text: str) -> None:
    folder = knowledge / "hints"
    folder.mkdir(exist_ok=True)
    (folder / f"{stem}.toml").write_text(text, encoding="utf-8")


def test_hints_attach_to_the_clause_they_name(tmp_path: Path) -> None:
    chunks = [chunk("1.1", "SUMMARY"), chunk("1.1", "Financial and Value for Money")]
    chunks.append(chunk("2.3", "RECOMMENDATION"))
    write(
        tmp_path,
        CABINET,
        '["2.3"]\nquestions = ["why unblock  facebook?", ""]\n'
        '["1.1 financial and value for money"]\nquestions = ["what does it cost"]\n',
    )
    found = read_hints(tmp_path, chunks)
    assert {(h.chunk_id, h.text) for h in found.hints} == {
        (chunks[2].id, "why unblock facebook?"),
        (chunks[1].id, "what does it cost"),
    }
    assert found.problems == ()


def test_entries_that_name_no_clause_are_reported_not_fatal(tmp_path: Path) -> None:
    chunks = [chunk("1.1", "SUMMARY"), chunk("1.1", "Financial and Value for Money")]
    write(tmp_path, CABINET, '["1.1"]\nquestions = ["a"]\n["9.9"]\nquestions = ["b"]\n')
    write(tmp_path, "no-such-document", '["1.1"]\nquestions = ["c"]\n')
    problems = read_hints(tmp_path, chunks).problems
    assert len(problems) == 3
    assert any('"1.1 SUMMARY" or "1.1 Financial and Value for Money"' in p for p in problems)
    assert any("[9.9]: no such clause" in p for p in problems)
    assert any("no document named no-such-document" in p for p in problems)


@pytest.mark.parametrize("text", ['["1.1"\nquestions = [', '["1.1"]\nquestions = "one"\n'])
def test_a_malformed_hints_file_aborts_with_its_name(tmp_path: Path, text: str) -> None:
    write(tmp_path, CABINET, text)
    with pytest.raises(DocumentLoadError, match=f"hints/{CABINET}.toml"):
        read_hints(tmp_path, [chunk("1.1", "SUMMARY")])


def test_a_question_in_a_clauses_own_words_finds_it_through_its_hint(site: Site) -> None:  # noqa: F811
    question = "zorblax quibbleware allowance"
    write(site.knowledge, Path(POLICY).stem, f'["4.6"]\nquestions = ["{question}"]\n')
    report = site.reload()
    assert report.warnings == ()
    bot = site.bot()
    assert bot.retriever().search(question).hits[0].chunk.section == "4.6"


def test_editing_hints_changes_the_version_and_embeds_only_the_new_ones(
    indexed: Site,  # noqa: F811
) -> None:
    before = indexed.version()
    path = indexed.knowledge / "hints" / f"{Path(POLICY).stem}.toml"
    text = path.read_text(encoding="utf-8")
    entry = '["18.5"]\nquestions = ['
    assert entry in text
    path.write_text(text.replace(entry, f'{entry}\n  "brand new hint",', 1), encoding="utf-8")
    report = indexed.reload()
    assert report.knowledge_version != before
    assert (report.embedded, report.hints_embedded) == (0, 1)
    assert report.settings_changed == (f"hints/{path.name}",)
