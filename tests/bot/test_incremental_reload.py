"""A reload of a large library re-reads and re-embeds only what changed (issue 15).

The parse cache (``<index>/parsed``) keeps each document's content hash and parsed clauses,
and each build keeps its vectors in ``vectors.npy``: these tests change, remove and damage
them through real reloads with the real loaders and an embedded Chroma (the embedder is the
deterministic ``FakeEmbedder``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bot.answers import retrieval
from bot.knowledge.vector_file import HINTS_FILE, VECTORS_FILE
from bot.models import Document
from bot.reload.index import PARSED_DIR, IndexManager
from bot.reload.parse_cache import STAT_FILE, ParseCache
from tests.bot.test_index import (
    CLAUSES,
    EMBEDDED_STORE,
    LUNCH_QUESTION,
    POLICY,
    TOTAL_CHUNKS,
    EmbedderFactory,
    Site,
    sections_cited,
)
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeEmbedder


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The shipped documents and an index of them with its parse cache, built once."""
    base = tmp_path_factory.mktemp("template")
    knowledge = base / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    IndexManager(base / "index", embedder=FakeEmbedder, store_factory=EMBEDDED_STORE).reload(
        knowledge
    )
    return knowledge, base / "index"


@pytest.fixture
def site(knowledge: Path, tmp_path: Path) -> Site:
    """A deployment that has not indexed anything yet."""
    return Site(knowledge, tmp_path / "data")


@pytest.fixture
def indexed(template: tuple[Path, Path], tmp_path: Path) -> Site:
    """A deployment indexed once: its documents keep their files (and so their stat)."""
    knowledge, index_dir = template
    site = Site(tmp_path / "knowledge", tmp_path / "data")
    shutil.copytree(knowledge, site.knowledge, copy_function=shutil.copy2)
    shutil.copytree(index_dir, site.index_dir)
    site.reload()  # the copies' new inodes are hashed once, as after a restore
    return site


def cache_entries(site: Site) -> set[str]:
    return {p.name for p in (site.index_dir / PARSED_DIR).glob("*.json")} - {STAT_FILE}


def live_build(site: Site) -> Path:
    return site.index_dir / "builds" / site.current().strip()


def test_the_first_reload_parses_every_document_and_keeps_them(site: Site) -> None:
    report = site.reload()

    assert report.parsed == len(CLAUSES)
    assert len(cache_entries(site)) == len(CLAUSES)
    hashes = json.loads((site.index_dir / PARSED_DIR / STAT_FILE).read_text(encoding="utf-8"))
    assert set(hashes) == set(CLAUSES)


def test_a_changed_document_alone_is_parsed_and_embedded_again(indexed: Site) -> None:
    indexed.edit(POLICY, "e-learning module within 3 months", "e-learning module within 2 months")
    embedders = EmbedderFactory()

    report = indexed.reload(embedders)

    assert report.rebuilt
    assert report.parsed == 1
    assert (report.embedded, report.reused) == (1, TOTAL_CHUNKS - 1)
    assert embedders.texts_embedded == 1
    # The policy's old parse is dropped: one entry per live document.
    assert len(cache_entries(indexed)) == len(CLAUSES)
    assert "2 months" in " ".join(c.text for c in indexed.chunks())


def test_a_removed_document_leaves_the_cache_and_nothing_is_parsed(indexed: Site) -> None:
    (indexed.knowledge / "social-media-guidance-for-staff.html").unlink()

    report = indexed.reload(EmbedderFactory())

    assert report.parsed == 0
    assert len(cache_entries(indexed)) == len(CLAUSES) - 1
    hashes = json.loads((indexed.index_dir / PARSED_DIR / STAT_FILE).read_text("utf-8"))
    assert "social-media-guidance-for-staff.html" not in hashes
    assert {c.source for c in indexed.chunks()} == set(CLAUSES) - {
        "social-media-guidance-for-staff.html"
    }


def test_a_damaged_cache_is_ignored_and_every_document_parsed_again(
    indexed: Site, caplog: pytest.LogCaptureFixture
) -> None:
    before = [(c.id, c.text) for c in indexed.chunks()]
    parsed = indexed.index_dir / PARSED_DIR
    # Truncated JSON, JSON of the wrong shape, and bytes that are not text at all.
    damage = [b'{"source": "x", "sec', b'{"sections": 7}', b"\xff\xfe\x00"]
    for number, entry in enumerate(sorted(parsed.glob("*.json"))):
        entry.write_bytes(damage[number % 3])
    indexed.append_clause("18.6 A new test clause about carrier pigeons.")

    with caplog.at_level(logging.WARNING, logger="bot.reload.parse_cache"):
        report = indexed.reload()

    assert report.parsed == len(CLAUSES)
    assert "damaged" in caplog.text
    after = [(c.id, c.text) for c in indexed.chunks()]
    assert set(before) < set(after)
    assert len(after) == len(before) + 1


def test_a_cached_parse_of_another_file_name_is_not_used(tmp_path: Path) -> None:
    """An entry is trusted only for the document it was made from."""
    document = tmp_path / "policy.md"
    document.write_text("# Policy\n\n## 1. Use\n\n1.1 Staff may post.\n", encoding="utf-8")
    cache = ParseCache(tmp_path / "parsed", version="test")
    parses: list[str] = []

    def parse(path: Path) -> Document:
        parses.append(path.name)
        return Document(source="elsewhere.md", title="Other", sections=())

    digest = cache.content_hash(document, Path.read_bytes)
    cache.document(document, digest, parse)
    cache.document(document, digest, parse)

    assert parses == ["policy.md", "policy.md"]


def test_an_untouched_file_is_not_read_again_but_an_edit_is_seen(tmp_path: Path) -> None:
    """The content hash comes from the stat for an untouched file; an edit of the same size
    with its modification time put back is still seen (its change time moved)."""
    document = tmp_path / "policy.md"
    document.write_text("1.1 Staff must complete the module within 3 months.\n", "utf-8")
    reads: list[str] = []

    def read(path: Path) -> bytes:
        reads.append(path.name)
        return path.read_bytes()

    first = ParseCache(tmp_path / "parsed", version="test")
    digest = first.content_hash(document, read)
    first.save([document.name], prune=False)
    again = ParseCache(tmp_path / "parsed", version="test")
    assert again.content_hash(document, read) == digest
    assert reads == ["policy.md"]

    stat = document.stat()
    document.write_text("1.1 Staff must complete the module within 2 months.\n", "utf-8")
    os.utime(document, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    edited = ParseCache(tmp_path / "parsed", version="test").content_hash(document, read)

    assert edited != digest
    assert reads == ["policy.md", "policy.md"]


def chroma_records(site: Site) -> dict[str, tuple[str, str, np.ndarray]]:
    """Every record the live build's Chroma holds, read from Chroma itself."""
    build = site.manager().open()
    chroma = EMBEDDED_STORE(build.path, build.manifest.build_id)
    try:
        chunks, vectors, hints, hint_vectors = chroma.records()
    finally:
        chroma.close()
    records = {c.id: (c.text, repr(c), v) for c, v in zip(chunks, vectors, strict=True)}
    records |= {h.id: (h.text, repr(h), v) for h, v in zip(hints, hint_vectors, strict=True)}
    return records


def test_a_rebuild_starts_from_the_live_store_and_holds_what_a_whole_build_holds(
    indexed: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    indexed.edit(POLICY, "e-learning module within 3 months", "e-learning module within 2 months")
    indexed.append_clause("18.6 A new test clause about carrier pigeons.")
    (indexed.knowledge / "social-media-guidance-for-staff.html").unlink()
    whole = Site(indexed.knowledge, tmp_path / "whole")

    with caplog.at_level(logging.INFO, logger="bot.reload.build_store"):
        indexed.reload()
    whole.reload()

    assert "started from a copy of the previous build's store" in caplog.text
    copied, written = chroma_records(indexed), chroma_records(whole)
    assert copied.keys() == written.keys()
    for record_id, (text, described, vector) in copied.items():
        assert (text, described) == written[record_id][:2]
        np.testing.assert_allclose(vector, written[record_id][2], atol=1e-6)
    assert sections_cited(indexed.bot(), LUNCH_QUESTION) == sections_cited(
        whole.bot(), LUNCH_QUESTION
    )


# --- each build's vector file ---------------------------------------------------------


def test_a_build_keeps_its_vectors_beside_its_store(indexed: Site) -> None:
    build = indexed.manager().open()
    vectors = np.load(build.path / VECTORS_FILE)
    hints = json.loads((build.path / HINTS_FILE).read_text(encoding="utf-8"))

    assert vectors.shape == (len(build.chunks) + len(hints), FakeEmbedder.dimension)
    chroma = EMBEDDED_STORE(build.path, build.manifest.build_id)  # no vector file: Chroma
    try:
        stored, stored_vectors, stored_hints, hint_vectors = chroma.records()
    finally:
        chroma.close()
    # Chroma normalises what it stores again (cosine space): equal to the last bit or two.
    row = {c.id: i for i, c in enumerate(build.chunks)}
    assert len(stored) == len(build.chunks)
    order = [row[c.id] for c in stored]
    np.testing.assert_allclose(vectors[order], stored_vectors, atol=1e-6)
    assert [[h.chunk_id, h.text] for h in stored_hints] == hints
    np.testing.assert_allclose(vectors[len(build.chunks) :], hint_vectors, atol=1e-6)


def test_a_small_build_answers_from_its_vector_file_without_chroma(indexed: Site) -> None:
    expected = sections_cited(indexed.bot(), LUNCH_QUESTION)
    shutil.rmtree(live_build(indexed) / "chroma")

    assert sections_cited(indexed.bot(), LUNCH_QUESTION) == expected
    assert not (live_build(indexed) / "chroma").exists()


@pytest.mark.parametrize("damage", ["missing", "wrong rows"])
def test_without_a_usable_vector_file_the_build_is_read_from_chroma(
    indexed: Site, damage: str
) -> None:
    expected = sections_cited(indexed.bot(), LUNCH_QUESTION)
    vectors = live_build(indexed) / VECTORS_FILE
    if damage == "missing":
        vectors.unlink()
    else:
        np.save(vectors, np.zeros((3, FakeEmbedder.dimension), dtype=np.float32))

    assert sections_cited(indexed.bot(), LUNCH_QUESTION) == expected
    report = indexed.reload(EmbedderFactory())
    assert not report.rebuilt  # a damaged file is no reason to rebuild: Chroma has it all


def test_a_build_above_the_exact_search_limit_answers_through_chroma_without_its_texts(
    indexed: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = indexed.bot().ask(LUNCH_QUESTION)
    monkeypatch.setattr(retrieval, "EXACT_SEARCH_LIMIT", 10)  # searched by Chroma's index
    (live_build(indexed) / VECTORS_FILE).unlink()  # and every record read from Chroma

    answer = indexed.bot().ask(LUNCH_QUESTION)

    assert answer.answered and answer.citations
    assert [(c.section, c.quote) for c in answer.citations] == [
        (c.section, c.quote) for c in expected.citations
    ]
    assert answer.text == expected.text
    assert all(c.quote for c in answer.citations)  # the texts come from chunks.json
