"""Index builds: atomic, incremental by content hash, one reload at a time.

Every test runs on the real loaders, chunker and an embedded Chroma in a temporary data
directory; only the embedder is the fast, deterministic ``FakeEmbedder``. The shipped
documents are indexed once per module and the result copied for each test that needs an
existing index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

from bot.answers.routing import ROUTING_FILE, Examples
from bot.config import Settings
from bot.engine import PolicyBot, default_store
from bot.errors import (
    DocumentLoadError,
    EmbedderMismatchError,
    IndexNotBuiltError,
    NotAuthorizedError,
    ReloadInProgressError,
)
from bot.knowledge.embeddings import Embedder, Vectors
from bot.knowledge.glossary import GLOSSARY_FILE
from bot.knowledge.store import ChromaStore
from bot.knowledge.vector_file import HINTS_FILE
from bot.models import Chunk
from bot.reload.index import IndexManager, StoreFactory, embedding_text
from bot.reload.report import ReloadReport
from tests.conftest import KNOWLEDGE
from tests.fakes import FakeEmbedder

POLICY = "electronic-communication-and-social-media-policy.md"
CLAUSES = {
    "cabinet-report-social-media-policy.txt": 26,
    POLICY: 105,
    "email-and-internet-acceptable-use.pdf": 54,
    "official-social-media-accounts-procedure.docx": 49,
    "social-media-guidance-for-staff.html": 39,
}
TOTAL_CLAUSES = 273
TOTAL_CHUNKS = 274  # clause 2.4 of the policy is long enough to be split in two parts
TOTAL_HINTS = 1092  # four questions for each clause, in knowledge/hints/

PIGEON_CLAUSE = "18.6 A new test clause about carrier pigeons."
PIGEON_QUESTION = "Can I send messages by carrier pigeon?"
LUNCH_QUESTION = "Can I use Facebook at lunchtime?"
OTHER_MODEL = "fake:another-model"

EMBEDDED_STORE = default_store(Settings())


class EmbedderFactory:
    """Makes ``FakeEmbedder``s and remembers them, to count constructions and texts."""

    def __init__(self, *, name: str = "fake:bag-of-words", fail_after: int | None = None) -> None:
        self._name = name
        self._fail_after = fail_after
        self.made: list[FakeEmbedder] = []

    def name(self) -> str:
        return self._name

    def __call__(self) -> FakeEmbedder:
        embedder = FakeEmbedder(name=self._name, fail_after=self._fail_after)
        self.made.append(embedder)
        return embedder

    @property
    def texts_embedded(self) -> int:
        return sum(e.texts_embedded for e in self.made)


@dataclass
class Site:
    """A knowledge directory and a data directory, as one deployment has them."""

    knowledge: Path
    data_dir: Path

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    def settings(self, *, admins: frozenset[str] = frozenset()) -> Settings:
        return Settings(data_dir=self.data_dir, knowledge_dir=self.knowledge, admins=admins)

    def manager(
        self,
        embedder: Callable[[], Embedder] = FakeEmbedder,
        store_factory: StoreFactory = EMBEDDED_STORE,
    ) -> IndexManager:
        # Like the real embedders, an EmbedderFactory can tell its model's name unbuilt.
        name = embedder.name if isinstance(embedder, EmbedderFactory) else None
        return IndexManager(
            self.index_dir, embedder=embedder, store_factory=store_factory, embedder_name=name
        )

    def bot(
        self,
        embedder: Callable[[], Embedder] = FakeEmbedder,
        *,
        admins: frozenset[str] = frozenset(),
    ) -> PolicyBot:
        return PolicyBot(self.settings(admins=admins), embedder=embedder)

    def reload(self, embedder: Callable[[], Embedder] = FakeEmbedder) -> ReloadReport:
        return self.manager(embedder).reload(self.knowledge)

    def current(self) -> str:
        return (self.index_dir / "CURRENT").read_text(encoding="utf-8")

    def version(self) -> str:
        manifest = self.manager().current_manifest()
        assert manifest is not None, "no live build"
        return manifest.knowledge_version

    def builds(self) -> set[str]:
        return {p.name for p in (self.index_dir / "builds").iterdir()}

    def chunks(self) -> list[Chunk]:
        return self.manager().open().chunks

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.knowledge / name
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def append_clause(self, clause: str, name: str = POLICY) -> None:
        path = self.knowledge / name
        path.write_text(path.read_text(encoding="utf-8") + f"\n{clause}\n", encoding="utf-8")


def statuses(report: ReloadReport) -> dict[str, str]:
    return {d.source: d.status for d in report.documents}


def sections_cited(bot: PolicyBot, question: str) -> list[str]:
    return [c.section for c in bot.ask(question).citations]


def distinct_texts(site: Site) -> int:
    """How many texts a first reload embeds: each distinct clause or hint text once, and
    each distinct routing example once (a text met twice is embedded once)."""
    build = site.manager().open()
    hints = json.loads((build.path / HINTS_FILE).read_text(encoding="utf-8"))
    indexed = {embedding_text(c) for c in build.chunks} | {text for _, text in hints}
    examples = {text for text, _ in Examples.load(site.knowledge / ROUTING_FILE).labelled()}
    assert len(build.chunks) + len(hints) == TOTAL_CHUNKS + TOTAL_HINTS
    return len(indexed) + len(examples)


def numbered_document(title: str, clauses: int) -> str:
    """A Markdown policy document of ``clauses`` numbered clauses, the first about pigeons."""
    lines = [f"# {title}", "## 1. Carrier pigeons"]
    lines.append("1.1 Staff must not send Council correspondence by carrier pigeon.")
    lines += [
        f"1.{n} Test clause {n} about homing pigeon number {n * 7919}."
        for n in range(2, clauses + 1)
    ]
    return "\n\n".join(lines) + "\n"


def tree_fingerprint(directory: Path) -> dict[str, tuple[str, int]]:
    return {
        str(path.relative_to(directory)): (
            hashlib.sha256(path.read_bytes()).hexdigest(),
            path.stat().st_mtime_ns,
        )
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the shipped documents, built once per module, to copy from."""
    base = tmp_path_factory.mktemp("template")
    knowledge = base / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    index_dir = base / "index"
    IndexManager(index_dir, embedder=FakeEmbedder, store_factory=EMBEDDED_STORE).reload(knowledge)
    return index_dir


@pytest.fixture
def site(knowledge: Path, tmp_path: Path) -> Site:
    """A deployment that has not indexed anything yet."""
    return Site(knowledge, tmp_path / "data")


@pytest.fixture
def indexed(site: Site, template: Path) -> Site:
    """A deployment whose live index is the shipped documents (built with FakeEmbedder)."""
    shutil.copytree(template, site.index_dir)
    return site


# --- what a reload reports ------------------------------------------------------------


def test_the_first_reload_adds_every_document_with_its_clause_counts(site: Site) -> None:
    embedders = EmbedderFactory()

    report = site.reload(embedders)

    assert report.rebuilt
    assert report.previous_version is None
    assert re.fullmatch(r"[0-9a-f]{12}", report.knowledge_version)
    assert {d.source: (d.status, d.clauses) for d in report.documents} == {
        name: ("added", count) for name, count in CLAUSES.items()
    }
    assert (report.chunks, report.embedded, report.reused) == (TOTAL_CHUNKS, TOTAL_CHUNKS, 0)
    assert (report.hints, report.hints_embedded) == (TOTAL_HINTS, TOTAL_HINTS)
    assert embedders.texts_embedded == distinct_texts(site)
    assert f"5 documents, {TOTAL_CLAUSES} clauses, {TOTAL_CHUNKS} chunks" in report.summary()
    assert site.current().strip() in site.builds()
    assert site.version() == report.knowledge_version


def test_a_reload_with_nothing_changed_neither_rebuilds_nor_loads_the_embedder(
    indexed: Site,
) -> None:
    before = (indexed.current(), indexed.builds())
    version = indexed.version()
    embedders = EmbedderFactory()

    report = indexed.reload(embedders)

    assert not report.rebuilt
    assert "No changes" in report.summary()
    assert "embedded" not in report.summary()  # nothing was built, so no "0 embedded"
    assert embedders.made == []
    assert report.knowledge_version == report.previous_version == version
    assert set(statuses(report).values()) == {"unchanged"}
    assert report.chunks == TOTAL_CHUNKS
    assert (indexed.current(), indexed.builds()) == before


def test_an_edited_document_is_changed_and_only_its_new_chunks_are_embedded(
    indexed: Site,
) -> None:
    indexed.edit(POLICY, "e-learning module within 3 months", "e-learning module within 2 months")
    indexed.append_clause(PIGEON_CLAUSE)
    embedders = EmbedderFactory()
    progress: list[tuple[int, int]] = []

    report = indexed.manager(embedders).reload(
        indexed.knowledge, progress=lambda done, total: progress.append((done, total))
    )

    assert report.rebuilt
    assert statuses(report) == {name: "unchanged" for name in CLAUSES} | {POLICY: "changed"}
    assert "Changed: " + POLICY in report.summary()
    # Edited 18.1 and new 18.6 are the only chunks whose text is new.
    assert (report.chunks, report.embedded, report.reused) == (
        TOTAL_CHUNKS + 1,
        2,
        TOTAL_CHUNKS - 1,
    )
    assert embedders.texts_embedded == 2
    assert progress[-1] == (2, 2)
    assert PIGEON_CLAUSE[5:] in [c.text for c in indexed.chunks()]
    assert "18.6" in sections_cited(indexed.bot(), PIGEON_QUESTION)


def test_a_removed_document_is_reported_removed_and_leaves_the_index(indexed: Site) -> None:
    removed = "official-social-media-accounts-procedure.docx"
    (indexed.knowledge / removed).unlink()
    embedders = EmbedderFactory()

    report = indexed.reload(embedders)

    assert statuses(report)[removed] == "removed"
    assert "Removed: " + removed in report.summary()
    assert report.chunks == TOTAL_CHUNKS - CLAUSES[removed]
    assert report.embedded == 0 and embedders.texts_embedded == 0
    assert removed not in {c.source for c in indexed.chunks()}


def test_an_added_document_is_reported_added_and_answers(indexed: Site) -> None:
    (indexed.knowledge / "pigeon-procedure.md").write_text(
        numbered_document("Pigeon Procedure", 3), encoding="utf-8"
    )

    report = indexed.reload()

    assert statuses(report) == {name: "unchanged" for name in CLAUSES} | {
        "pigeon-procedure.md": "added"
    }
    assert "Added: pigeon-procedure.md" in report.summary()
    assert (report.embedded, report.reused) == (3, TOTAL_CHUNKS)
    assert "pigeon-procedure.md" in {c.source for c in indexed.bot().ask(PIGEON_QUESTION).citations}


def test_an_unsupported_file_is_skipped_and_listed(indexed: Site) -> None:
    (indexed.knowledge / "notes.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")

    report = indexed.reload()

    assert report.skipped == ("notes.xlsx",)
    assert (
        "Skipped (not a type read here, or a link out of the folder): notes.xlsx"
        in report.summary()
    )
    assert not report.rebuilt  # not a document, so not a change
    assert "notes.xlsx" not in statuses(report)


def test_a_glossary_change_rebuilds_without_embedding(indexed: Site) -> None:
    glossary = indexed.knowledge / GLOSSARY_FILE
    glossary.write_text(
        glossary.read_text(encoding="utf-8") + '\n"pigeon post" = ["letters"]\n', encoding="utf-8"
    )
    embedders = EmbedderFactory()

    report = indexed.reload(embedders)

    assert report.rebuilt
    assert report.settings_changed == (GLOSSARY_FILE,)
    assert f"Changed settings: {GLOSSARY_FILE}" in report.summary()
    assert set(statuses(report).values()) == {"unchanged"}
    assert embedders.texts_embedded == 0
    build = indexed.manager().open()
    assert build.glossary_path.read_bytes() == glossary.read_bytes()


# --- failures leave the live index answering --------------------------------------------


def test_a_corrupt_pdf_aborts_the_reload_and_the_previous_index_answers(indexed: Site) -> None:
    (indexed.knowledge / "bad.pdf").write_bytes(b"%PDF-1.7\n\x00\x01junk that is no PDF\x02")
    bot = indexed.bot()
    version = bot.ask(LUNCH_QUESTION).knowledge_version
    before = (indexed.current(), indexed.builds())

    with pytest.raises(DocumentLoadError, match="bad.pdf") as caught:
        bot.reload_documents()

    assert caught.value.path == "bad.pdf"
    assert (indexed.current(), indexed.builds()) == before
    answer = PolicyBot(indexed.settings(), embedder=FakeEmbedder).ask(LUNCH_QUESTION)
    assert answer.citations and answer.knowledge_version == version
    assert bot.ask(LUNCH_QUESTION).knowledge_version == version


def test_an_unreadable_document_aborts_the_reload_naming_it(
    indexed: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    locked = indexed.knowledge / "locked.md"
    locked.write_text("# Locked\n\n## 1. Rules\n\n1.1 Nobody may read this.\n")
    real_read = Path.read_bytes

    def read_bytes(path: Path) -> bytes:
        if path.name == "locked.md":  # tests run as root, which chmod cannot stop
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    before = indexed.current()
    with pytest.raises(DocumentLoadError, match="locked.md.*Permission denied"):
        indexed.bot().reload_documents()
    assert indexed.current() == before


class FailingStore(ChromaStore):
    """A real embedded store whose ``add`` writes some chunks, then fails (a full disk)."""

    build_dir: Path
    build_dir_existed = False

    def add(self, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        super().add(chunks[:10], vectors[:10])
        self.build_dir_existed = self.build_dir.is_dir()
        raise OSError(28, "No space left on device")

    @classmethod
    def in_build(cls, build_dir: Path) -> FailingStore:
        store = cls.persistent(build_dir / "chroma", collection="policybot")
        assert isinstance(store, FailingStore)
        store.build_dir = build_dir
        return store


def test_a_store_failure_mid_build_leaves_the_previous_build_live(indexed: Site) -> None:
    indexed.append_clause(PIGEON_CLAUSE)
    before = (indexed.current(), indexed.builds())
    stores: list[FailingStore] = []

    def failing_store(path: Path, build_id: str) -> ChromaStore:
        if build_id in before[1]:  # the live build, read for its vectors
            return EMBEDDED_STORE(path, build_id)
        stores.append(FailingStore.in_build(path))
        return stores[-1]

    with pytest.raises(OSError, match="No space left"):
        indexed.manager(store_factory=failing_store).reload(indexed.knowledge)

    assert stores and stores[0].build_dir_existed  # it failed half-way through a build
    assert (indexed.current(), indexed.builds()) == before
    assert not stores[0].build_dir.exists()
    assert "18.6" not in sections_cited(indexed.bot(), PIGEON_QUESTION)
    assert indexed.bot().ask(LUNCH_QUESTION).citations


def test_an_embedder_failure_mid_build_leaves_the_previous_build_live(indexed: Site) -> None:
    # 40 new clauses take two embedding batches; the second one fails.
    (indexed.knowledge / "pigeon-procedure.md").write_text(
        numbered_document("Pigeon Procedure", 40), encoding="utf-8"
    )
    before = (indexed.current(), indexed.builds())
    embedders = EmbedderFactory(fail_after=1)

    with pytest.raises(RuntimeError, match="injected embedding failure"):
        indexed.reload(embedders)

    assert embedders.texts_embedded > 0  # the failure came after some work was done
    assert (indexed.current(), indexed.builds()) == before
    bot = indexed.bot()
    assert bot.ask(LUNCH_QUESTION).citations
    assert "pigeon-procedure.md" not in {c.source for c in bot.ask(PIGEON_QUESTION).citations}


def test_a_reload_while_another_holds_the_lock_raises_reload_in_progress(indexed: Site) -> None:
    indexed.append_clause(PIGEON_CLAUSE)
    before = indexed.current()

    with FileLock(str(indexed.index_dir / "reload.lock")):
        with pytest.raises(ReloadInProgressError):
            indexed.reload()
        assert indexed.current() == before

    assert indexed.reload().rebuilt  # the same reload goes through once the lock is free


def test_opening_before_any_reload_raises_index_not_built(site: Site) -> None:
    manager = site.manager()

    assert manager.current_id() is None
    assert manager.current_manifest() is None
    with pytest.raises(IndexNotBuiltError, match="policybot reload"):
        manager.open()
    with pytest.raises(IndexNotBuiltError):
        site.bot().ask(LUNCH_QUESTION)


# --- what reloads leave behind ------------------------------------------------------------


def test_reloads_never_modify_the_knowledge_directory(site: Site) -> None:
    (site.knowledge / "notes.xlsx").write_bytes(b"not a document")
    before = tree_fingerprint(site.knowledge)

    site.reload()
    site.reload()
    site.bot().ask(LUNCH_QUESTION)

    assert tree_fingerprint(site.knowledge) == before


def test_only_the_live_and_the_previous_build_are_kept(indexed: Site) -> None:
    live = [indexed.current().strip()]
    for n in range(3):
        indexed.append_clause(f"18.{6 + n} Test clause {n} about carrier pigeons.")
        assert indexed.reload().rebuilt
        live.append(indexed.current().strip())

    assert len(set(live)) == 4
    assert indexed.builds() == {live[-1], live[-2]}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_pruned_builds_leave_no_open_files_behind(indexed: Site) -> None:
    bot = indexed.bot()
    first = indexed.current().strip()
    bot.ask(LUNCH_QUESTION)
    for n in range(2):  # the second rebuild prunes the first build
        indexed.append_clause(f"18.{6 + n} Test clause {n} about carrier pigeons.")
        bot.reload_documents()
        bot.ask(LUNCH_QUESTION)

    pruned = str(indexed.index_dir / "builds" / first)
    assert first not in indexed.builds()
    open_files = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            open_files.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed while listing
            continue
    assert [f for f in open_files if f.startswith(pruned)] == []


# --- the engine over the index --------------------------------------------------------------


def test_a_bot_follows_a_reload_made_by_another_bot(indexed: Site) -> None:
    serving = indexed.bot()
    before = serving.ask(PIGEON_QUESTION)
    assert "18.6" not in [c.section for c in before.citations]

    indexed.append_clause(PIGEON_CLAUSE)
    report = indexed.bot().reload_documents()  # e.g. `policybot reload` in another process

    after = serving.ask(PIGEON_QUESTION)
    assert after.knowledge_version == report.knowledge_version != before.knowledge_version
    assert "18.6" in [c.section for c in after.citations]


def test_an_index_built_by_another_embedder_is_refused_until_reloaded(indexed: Site) -> None:
    bot = indexed.bot(EmbedderFactory(name=OTHER_MODEL))

    with pytest.raises(EmbedderMismatchError, match="reload") as caught:
        bot.ask(LUNCH_QUESTION)
    assert "fake:bag-of-words" in str(caught.value) and OTHER_MODEL in str(caught.value)

    report = bot.reload_documents()

    assert report.rebuilt
    assert report.embedded == TOTAL_CHUNKS  # vectors of another model are not reused
    assert bot.ask(LUNCH_QUESTION).citations


def test_a_fresh_reload_rebuilds_an_index_of_another_embedder(indexed: Site) -> None:
    report = indexed.bot(EmbedderFactory(name=OTHER_MODEL)).reload_documents()

    assert report.rebuilt
    assert indexed.bot(EmbedderFactory(name=OTHER_MODEL)).ask(LUNCH_QUESTION).citations


def test_only_admins_may_reload_the_documents(indexed: Site) -> None:
    indexed.append_clause(PIGEON_CLAUSE)
    bot = indexed.bot(admins=frozenset({"slack:UADMIN", "teams:29:admin"}))
    before = indexed.current()

    with pytest.raises(NotAuthorizedError):
        bot.reload_documents(requested_by="slack:UNOTADMIN")
    assert indexed.current() == before

    assert bot.reload_documents(requested_by="slack:UADMIN").rebuilt
    assert indexed.current() != before
