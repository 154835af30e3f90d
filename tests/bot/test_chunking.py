"""Chunking: one chunk per clause, long clauses in overlapping parts, stable ids."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.knowledge.chunking import chunk_document, chunk_documents
from bot.knowledge.loaders import discover, load_document
from bot.models import Chunk, Clause, Document, Section

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge"


def load_corpus() -> list[Document]:
    return [load_document(path) for path in discover(KNOWLEDGE)[0]]


@pytest.fixture(scope="module")
def corpus() -> list[Document]:
    return load_corpus()


def one_clause_document(text: str, *, heading: str = "") -> Document:
    clause = Clause(
        number="7.3",
        text=text,
        section_number="7",
        section_title="Long clauses",
        heading=heading,
        heading_path=("Test Policy", "7. Long clauses"),
    )
    return Document("test.md", "Test Policy", (Section("7", "Long clauses", (clause,)),))


def sentences(count: int) -> str:
    """``count`` sentences of 8 words each, every word distinct."""
    return " ".join(" ".join(f"w{n}x{k}" for k in range(7)) + f" end{n}." for n in range(count))


def test_short_clauses_become_one_chunk_each(corpus: list[Document]) -> None:
    policy = next(d for d in corpus if d.source.endswith(".md"))
    chunks = chunk_document(policy)  # clause 2.4 alone is over 120 words, in two parts
    clauses = policy.clauses
    assert len(chunks) == len(clauses) + 1
    assert [(c.section, c.part) for c in chunks if c.part == 0] == [(c.number, 0) for c in clauses]
    first = chunks[0]
    assert first.text == clauses[0].text
    assert first.source == "electronic-communication-and-social-media-policy.md"
    assert first.document_title == "Electronic Communication and Social Media Policy"
    assert first.title == "Purpose and background"
    assert first.heading_path == clauses[0].heading_path


def test_question_heading_is_the_chunk_title(corpus: list[Document]) -> None:
    guidance = next(d for d in corpus if d.source.endswith(".html"))
    chunk = next(c for c in chunk_document(guidance) if c.section == "6.1")
    assert chunk.title == (
        "I am being abused or threatened online because of my job. What should I do?"
    )
    assert "Do not reply or engage." in chunk.text


def test_long_clause_is_split_with_overlap_at_sentence_breaks() -> None:
    document = one_clause_document(sentences(30))  # 240 words
    chunks = chunk_document(document, max_words=50, overlap_words=12)
    assert len(chunks) > 4
    assert [c.part for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert (chunk.section, chunk.title) == ("7.3", "Long clauses")
        assert chunk.heading_path == ("Test Policy", "7. Long clauses")
        assert len(chunk.text.split()) <= 50
        # Every part starts a sentence and ends one: all sentences are 8 words.
        assert re.match(r"w\d+x0 ", chunk.text)
        assert chunk.text.endswith(".")
    for before, after in zip(chunks, chunks[1:], strict=False):
        shared = before.text.split()[-8:]
        assert after.text.split()[:8] == shared  # one whole sentence repeated
    assert covered_in_order(chunks) == document.clauses[0].text.split()


def test_a_clause_without_sentence_breaks_is_cut_between_words() -> None:
    words = [f"word{n}" for n in range(100)]
    chunks = chunk_document(one_clause_document(" ".join(words)), max_words=40, overlap_words=10)
    parts = [c.text.split() for c in chunks]
    assert parts[0] == words[:40]
    assert parts[1] == words[30:70]
    assert parts[2] == words[60:100]
    assert all(set(p) <= set(words) for p in parts)  # no word cut in two


def test_lettered_lines_stay_on_their_own_lines_in_parts() -> None:
    items = "\n".join(f"({chr(97 + n)}) {sentences(1)[:-1]} item{n};" for n in range(12))
    chunks = chunk_document(one_clause_document(f"Staff must:\n{items}"), max_words=40)
    assert len(chunks) > 1
    for chunk in chunks:
        assert all(
            re.match(r"(\([a-l]\) |Staff must:)", line) for line in chunk.text.splitlines()[1:]
        )


def test_bad_sizes_are_refused() -> None:
    document = one_clause_document("Short.")
    with pytest.raises(ValueError):
        chunk_document(document, max_words=30, overlap_words=30)
    with pytest.raises(ValueError):
        chunk_document(document, max_words=0, overlap_words=0)


def test_ids_are_unique_across_the_corpus_and_stable(corpus: list[Document]) -> None:
    first = chunk_documents(corpus)
    second = chunk_documents(load_corpus())
    ids = [c.id for c in first]
    assert len(ids) == len(set(ids))
    assert ids == [c.id for c in second]
    assert all(re.fullmatch(r"[0-9a-f]{20}", i) for i in ids)


def test_duplicate_clause_numbers_get_distinct_ids(corpus: list[Document]) -> None:
    report = next(d for d in corpus if d.source.endswith(".txt"))
    ones = [c for c in chunk_document(report) if c.section == "1.1"]
    assert len(ones) == 2
    assert ones[0].id != ones[1].id


def test_same_number_and_text_twice_still_gets_two_ids() -> None:
    def none(section: str) -> Section:
        return Section("", section, (Clause("6.1", "None.", "", section),))

    report = Document("report.txt", "Report", (none("Health and Safety"), none("Property")))
    first, second = chunk_document(report)
    assert first.id != second.id


def test_id_follows_the_text() -> None:
    one = chunk_document(one_clause_document("Staff may park here."))[0]
    other = chunk_document(one_clause_document("Staff may not park here."))[0]
    assert one.id != other.id


def test_chunk_documents_keeps_document_order(corpus: list[Document]) -> None:
    chunks = chunk_documents(corpus)
    sources = list(dict.fromkeys(c.source for c in chunks))
    assert sources == [d.source for d in corpus]
    assert len(chunks) == sum(len(chunk_document(d)) for d in corpus)


def covered_in_order(chunks: list[Chunk]) -> list[str]:
    """The words of the parts with each overlap taken out once."""
    words = chunks[0].text.split()
    for chunk in chunks[1:]:
        part = chunk.text.split()
        overlap = next(n for n in range(len(part), -1, -1) if words[len(words) - n :] == part[:n])
        words += part[overlap:]
    return words
