"""Building the index from ``knowledge/``: atomic, incremental, one reload at a time.

Layout under ``<data dir>/index``::

    CURRENT                 the live build's id (replaced atomically)
    reload.lock             held while a reload runs
    parsed/                 each document's content hash and parsed clauses (bot.reload.parse_cache)
    builds/<id>/manifest.json, chunks.json, vectors.npy, hints.json, keyword/, glossary.toml,
                chroma/

A reload builds a complete new build beside the live one and only then rewrites
``CURRENT``; any failure before that leaves the live build answering. Documents whose
content has not changed are taken parsed from ``parsed/`` (an untouched file is not even
read), and vectors of clauses whose text has not changed are copied from the live build's
``vectors.npy`` instead of re-embedded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt
from filelock import FileLock, Timeout

from bot.answers.keyword import KEYWORD_DIR, KeywordIndex, keyword_texts
from bot.answers.routing import MODEL_FILE, ROUTING_FILE, Examples
from bot.errors import (
    DocumentLoadError,
    IndexNotBuiltError,
    KnowledgeStoreError,
    ReloadInProgressError,
)
from bot.knowledge.changes import (
    CLAUSES_FILE,
    ChangeSet,
    ClauseChange,
    append_log,
    compare,
    kept_clauses,
    read_clauses,
    write_clauses,
)
from bot.knowledge.documents import (
    DOCUMENTS_FILE,
    INFO_FILE,
    document_infos,
    due_for_review,
    write_infos,
)
from bot.knowledge.embeddings import Embedder, Vectors
from bot.knowledge.glossary import GLOSSARY_FILE
from bot.knowledge.hints import HINTS_DIR, Hint, hint_files, read_hints
from bot.knowledge.store import ChromaStore
from bot.knowledge.vector_file import read_vectors, write_vectors
from bot.llm.hints import HintWriter, generate_hints
from bot.models import Chunk
from bot.phrases import RELOAD_RUNNING
from bot.reload.build_store import fill_store
from bot.reload.parse_cache import ParseCache
from bot.reload.report import DocumentChange, ReloadReport
from bot.reload.routing_build import EXAMPLE_VECTORS, train_routing

log = logging.getLogger(__name__)

#: Admin-editable settings kept in the knowledge directory beside the documents; each
#: build keeps a copy, so that a build always answers with the settings it was made with.
#: The clause hints (``hints/*.toml``) are settings too.
CONFIG_FILES = (GLOSSARY_FILE, ROUTING_FILE, DOCUMENTS_FILE)

#: Bump when the loaders, chunking or the embedded text change, so that a reload parses and
#: rebuilds everything.
BUILD_FORMAT = "8"

#: Parsed documents and content hashes kept between reloads (``bot.reload.parse_cache``).
PARSED_DIR = "parsed"

#: Clauses embedded between two progress reports.
EMBED_STEP = 32

Progress = Callable[[int, int], None]
StoreFactory = Callable[[Path, str], ChromaStore]


def embedding_text(chunk: Chunk) -> str:
    """What is embedded for a chunk: a question-and-answer item with its question."""
    heading = chunk.heading_path[-1] if len(chunk.heading_path) > 2 else ""
    return f"{chunk.title}. {chunk.text}" if heading and chunk.title in heading else chunk.text


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Manifest:
    """What a build was made from, written beside it."""

    build_id: str
    knowledge_version: str
    embedder: str
    build_format: str
    built_at: str
    files: dict[str, str]
    clauses: dict[str, int]
    chunk_count: int
    #: The model that wrote hints for clauses without any ("" when none did).
    hint_writer: str = ""

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text(encoding="utf-8")))

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")


@dataclass
class Build:
    """A finished build on disk: its manifest, chunks and vector store."""

    path: Path
    manifest: Manifest
    chunks: list[Chunk]
    store: ChromaStore

    @property
    def glossary_path(self) -> Path:
        return self.path / GLOSSARY_FILE

    @property
    def documents_path(self) -> Path:
        return self.path / INFO_FILE

    @property
    def routing_model_path(self) -> Path:
        return self.path / MODEL_FILE

    @property
    def routing_examples_path(self) -> Path:
        return self.path / EXAMPLE_VECTORS


class IndexManager:
    """Owns ``<data dir>/index``: opens the live build and reloads it.

    Args:
        index_dir: where builds live.
        embedder: makes the embedder builds are made and queried with.
        store_factory: makes the vector store for a build (directory, build id); the
            default keeps an embedded Chroma in the build directory.
        embedder_name: tells the embedder's name without loading the model (optional), so
            that a reload with nothing to do stays fast.
        hint_writer: writes hints for clauses that have none (a language model; optional).
    """

    def __init__(
        self,
        index_dir: Path,
        *,
        embedder: Callable[[], Embedder],
        store_factory: StoreFactory,
        embedder_name: Callable[[], str] | None = None,
        hint_writer: HintWriter | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.hint_writer = hint_writer
        self._embedder_factory = embedder
        self._embedder: Embedder | None = None
        self._embedder_name = embedder_name
        self._store_factory = store_factory

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = self._embedder_factory()
        return self._embedder

    @property
    def _builds(self) -> Path:
        return self.index_dir / "builds"

    @property
    def _current_file(self) -> Path:
        return self.index_dir / "CURRENT"

    def current_id(self) -> str | None:
        """The live build's id, or None before the first reload."""
        try:
            return self._current_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def current_path(self) -> Path | None:
        """The live build's directory, or None before the first reload."""
        build_id = self.current_id()
        return self._builds / build_id if build_id else None

    def current_manifest(self) -> Manifest | None:
        build_id = self.current_id()
        if build_id is None:
            return None
        try:
            return Manifest.read(self._builds / build_id / "manifest.json")
        except (OSError, ValueError, TypeError) as exc:
            raise KnowledgeStoreError(f"build {build_id} is unreadable: {exc}") from exc

    def open(self) -> Build:
        """The live build. Raises IndexNotBuiltError before the first reload."""
        manifest = self.current_manifest()
        if manifest is None:
            raise IndexNotBuiltError(
                "The policy documents have not been indexed yet: run `policybot reload`."
            )
        path = self._builds / manifest.build_id
        raw = json.loads((path / "chunks.json").read_text(encoding="utf-8"))
        chunks = [Chunk.from_metadata(c["id"], c["text"], c) for c in raw]
        store = self._store_factory(path, manifest.build_id)
        store.records_source = lambda: read_vectors(path, chunks)
        store.texts = {c.id: c.text for c in chunks}
        return Build(path, manifest, chunks, store)

    def reload(self, knowledge_dir: Path, *, progress: Progress | None = None) -> ReloadReport:
        """Index ``knowledge_dir`` atomically; see the module docstring.

        Raises:
            ReloadInProgressError: another reload holds the lock.
            DocumentLoadError: a supported file cannot be read (nothing is changed).
        """
        self.index_dir.mkdir(parents=True, exist_ok=True)
        try:
            with FileLock(str(self.index_dir / "reload.lock"), timeout=0):
                return self._reload_locked(knowledge_dir, progress)
        except Timeout:
            raise ReloadInProgressError(RELOAD_RUNNING) from None

    def _reload_locked(self, knowledge_dir: Path, progress: Progress | None) -> ReloadReport:
        # The document libraries take most of a second to import: only a reload needs them.
        from bot.knowledge.chunking import chunk_documents
        from bot.knowledge.loaders import discover, distinct_titles, load_document

        started = time.perf_counter()
        if not knowledge_dir.is_dir():
            raise KnowledgeStoreError(f"{knowledge_dir} is not a directory")
        files, skipped = discover(knowledge_dir, ignore=set(CONFIG_FILES))
        cache = ParseCache(self.index_dir / PARSED_DIR, version=BUILD_FORMAT)
        hashes = {p.name: cache.content_hash(p, _read) for p in files}
        config = {name: _file_sha(knowledge_dir / name) for name in _config_names(knowledge_dir)}
        version = _sha(json.dumps([sorted(hashes.items()), sorted(config.items())]).encode())[:12]
        previous = self.current_manifest()
        changes = _changes(previous, hashes)
        if (
            previous is not None
            and previous.knowledge_version == version
            and previous.embedder == self.embedder_name()
            and previous.build_format == BUILD_FORMAT
            and previous.hint_writer == self._hint_writer_name
        ):
            _save_cache(cache, hashes, prune=False)
            return ReloadReport(
                knowledge_version=version,
                previous_version=previous.knowledge_version,
                rebuilt=False,
                documents=tuple(
                    DocumentChange(name, "unchanged", previous.clauses.get(name, 0))
                    for name in sorted(hashes)
                ),
                skipped=tuple(p.name for p in skipped),
                chunks=previous.chunk_count,
                elapsed_s=time.perf_counter() - started,
            )
        documents = distinct_titles(
            [cache.document(p, hashes[p.name], load_document) for p in files]
        )
        chunks = chunk_documents(documents)
        if not chunks:
            raise KnowledgeStoreError(f"{knowledge_dir} holds no policy documents to index")
        hints = read_hints(knowledge_dir, chunks)
        generated: tuple[Hint, ...] = ()
        if self.hint_writer is not None:
            generated = generate_hints(chunks, hints.hints, self.hint_writer, self.index_dir)
            hints = replace(hints, hints=hints.hints + generated)
        clauses = {d.source: len(d.clauses) for d in documents}
        kept = kept_clauses(documents)
        infos, info_problems = document_infos(documents, knowledge_dir)
        today = datetime.now(UTC).date()
        overdue = tuple(
            f"{i.source} was due for review by {i.review_text}"
            for i in due_for_review(infos.values(), today)
        )
        examples = Examples.load(knowledge_dir / ROUTING_FILE)
        unlisted = tuple(
            f"{source} is not in {ROUTING_FILE}'s written_for: questions about it are judged "
            "without the list of questions the documents do not answer (review that list, "
            "then add the document)"
            for source in examples.unlisted(clauses)
        )
        clause_changes: tuple[ClauseChange, ...] = ()
        if previous is not None and (before := read_clauses(self._builds / previous.build_id)):
            clause_changes = compare(before, kept)
        build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{version[:8]}-{secrets.token_hex(2)}"
        path = self._builds / build_id
        store = self._store_factory(path, build_id)
        live = self._live_build(previous)
        try:
            texts = [embedding_text(c) for c in chunks] + [h.text for h in hints.hints]
            vectors, reused = self._embed(texts, *self._previous_vectors(live), progress)
            hints_embedded = int((~reused[len(chunks) :]).sum())
            reused_chunks = int(reused[: len(chunks)].sum())
            path.mkdir(parents=True, exist_ok=True)
            seed = (live.store, live.chunks, live.path) if live is not None else None
            fill_store(store, chunks, hints.hints, vectors, previous=seed)
            write_vectors(path, vectors, hints.hints)
            # Saved so that opening the build maps the keyword index instead of building it.
            KeywordIndex(keyword_texts(chunks, hints.hints)).save(path / KEYWORD_DIR)
            for name in config:
                if config[name]:
                    (path / name).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(knowledge_dir / name, path / name)
            _write_chunks(path / "chunks.json", chunks)
            write_clauses(path / CLAUSES_FILE, kept)
            write_infos(path / INFO_FILE, infos.values())
            train_routing(
                examples,
                path,
                live=live.path if live is not None else None,
                embed=self._embed,
                sha=lambda text: _sha(text.encode()),
            )
            Manifest(
                build_id=build_id,
                knowledge_version=version,
                embedder=self.embedder.name,
                build_format=BUILD_FORMAT,
                built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                files=hashes,
                clauses=clauses,
                chunk_count=len(chunks),
                hint_writer=self._hint_writer_name,
            ).write(path / "manifest.json")
            store.close()
            self._switch(build_id)
        except BaseException:
            store.drop()
            shutil.rmtree(path, ignore_errors=True)
            raise
        _save_cache(cache, hashes, prune=True)
        if clause_changes and previous is not None:
            at = datetime.now(UTC).isoformat(timespec="seconds")
            change_set = ChangeSet(version, previous.knowledge_version, at, clause_changes)
            append_log(self.index_dir, change_set)
        self._prune(keep={build_id, previous.build_id if previous else ""})
        return ReloadReport(
            knowledge_version=version,
            previous_version=previous.knowledge_version if previous else None,
            rebuilt=True,
            documents=tuple(
                DocumentChange(name, changes.get(name, "unchanged"), clauses.get(name, 0))
                for name in sorted({*hashes, *changes})
            ),
            skipped=tuple(p.name for p in skipped),
            chunks=len(chunks),
            embedded=len(chunks) - reused_chunks,
            reused=reused_chunks,
            parsed=cache.parsed,
            elapsed_s=time.perf_counter() - started,
            settings_changed=self._settings_changed(previous, config),
            hints=len(hints.hints),
            hints_embedded=hints_embedded,
            hints_generated=len(generated),
            warnings=hints.problems + info_problems + overdue + unlisted,
            changes=clause_changes,
        )

    @property
    def _hint_writer_name(self) -> str:
        return self.hint_writer.name if self.hint_writer is not None else ""

    def _settings_changed(
        self, previous: Manifest | None, config: dict[str, str]
    ) -> tuple[str, ...]:
        """The settings files added, changed or removed since the previous build."""
        if previous is None:
            return ()
        before = self._builds / previous.build_id
        names = set(config) | set(_config_names(before))
        return tuple(sorted(n for n in names if _file_sha(before / n) != config.get(n, "")))

    def embedder_name(self) -> str:
        """The configured embedder's name, without loading the model when avoidable."""
        if self._embedder is None and self._embedder_name is not None:
            return self._embedder_name()
        return self.embedder.name

    def _embed(
        self,
        texts: Sequence[str],
        known: dict[str, int],
        matrix: Vectors,
        progress: Progress | None = None,
    ) -> tuple[Vectors, npt.NDArray[np.bool_]]:
        """Vectors of ``texts``: a text whose hash is in ``known`` takes that row of
        ``matrix``, the others are embedded, each distinct text once; and which of them
        were reused."""
        rows = np.fromiter(
            (known.get(_sha(t.encode()), -1) for t in texts), dtype=np.intp, count=len(texts)
        )
        reused = rows >= 0
        # Longest first, so that each batch pads to a similar length and the progress bar
        # slows down at the start rather than the end. A text met twice (a clause repeated
        # word for word in two documents) is embedded once: its vector does not depend on
        # the batch it is in.
        todo = np.flatnonzero(~reused).tolist()
        missing = sorted(dict.fromkeys(texts[i] for i in todo), key=lambda t: -len(t))
        fresh: dict[str, Vectors] = {}
        for start in range(0, len(missing), EMBED_STEP):
            batch = missing[start : start + EMBED_STEP]
            fresh.update(zip(batch, self.embedder.embed(batch), strict=True))
            if progress is not None:
                progress(min(start + EMBED_STEP, len(missing)), len(missing))
        width = len(next(iter(fresh.values()))) if fresh else matrix.shape[1] if reused.any() else 0
        vectors = np.empty((len(texts), width), dtype=np.float32)
        if reused.any():
            vectors[reused] = matrix[rows[reused]]
        for i in todo:
            vectors[i] = fresh[texts[i]]
        return vectors, reused

    def _live_build(self, previous: Manifest | None) -> Build | None:
        """The live build, for a new one made with the same embedder to start from."""
        if previous is None or previous.embedder != self.embedder_name():
            return None
        try:
            return self.open()
        except (OSError, ValueError, KeyError, TypeError, KnowledgeStoreError) as exc:
            log.warning("the live build cannot be read (%s): making the new one whole", exc)
            return None

    @staticmethod
    def _previous_vectors(live: Build | None) -> tuple[dict[str, int], Vectors]:
        """The live build's vectors (clauses, then hints) and the row of each by the hash
        of the text it embeds."""
        if live is None:
            return {}, np.zeros((0, 0), dtype=np.float32)
        try:
            stored, vectors, hints, hint_vectors = live.store.records()
        except Exception as exc:  # a damaged old build only costs re-embedding
            log.warning("could not reuse vectors of build %s: %s", live.manifest.build_id, exc)
            return {}, np.zeros((0, 0), dtype=np.float32)
        finally:
            live.store.close()
        by_id = {c.id: c for c in live.chunks}
        known = {
            _sha(embedding_text(by_id[c.id]).encode()): row
            for row, c in enumerate(stored)
            if c.id in by_id
        }
        known.update((_sha(h.text.encode()), len(stored) + row) for row, h in enumerate(hints))
        parts = [np.asarray(v, dtype=np.float32) for v in (vectors, hint_vectors) if len(v)]
        matrix = np.concatenate(parts) if parts else np.zeros((0, 0), dtype=np.float32)
        return known, matrix

    def _switch(self, build_id: str) -> None:
        tmp = self.index_dir / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(build_id + "\n", encoding="utf-8")
        os.replace(tmp, self._current_file)

    def _prune(self, keep: set[str]) -> None:
        """Remove builds other than the live and the previous one (a server may still be
        reading the previous one until it notices the switch)."""
        if not self._builds.is_dir():
            return
        for path in self._builds.iterdir():
            if path.name in keep:
                continue
            store = self._store_factory(path, path.name)
            if store.path is not None and store.path.is_relative_to(path):
                # An embedded store goes with its build's directory: opening it only to
                # delete its collection would import Chroma and cost a second.
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                store.drop()
            except KnowledgeStoreError as exc:
                # Keep the directory, so that the next reload tries the drop again.
                log.warning("could not remove build %s yet: %s", path.name, exc)
                continue
            finally:
                store.close()
            shutil.rmtree(path, ignore_errors=True)


def _changes(previous: Manifest | None, hashes: dict[str, str]) -> dict[str, str]:
    before = previous.files if previous else {}
    changes = {name: "removed" for name in before if name not in hashes}
    for name, sha in hashes.items():
        if name not in before:
            changes[name] = "added"
        elif before[name] != sha:
            changes[name] = "changed"
    return changes


def _save_cache(cache: ParseCache, hashes: dict[str, str], *, prune: bool) -> None:
    """Keep the parse cache for the next reload; failing costs that reload time only."""
    try:
        cache.save(hashes, prune=prune)
    except OSError as exc:
        log.warning("could not keep the parsed documents for the next reload: %s", exc)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentLoadError(path.name, f"cannot be read ({exc.strerror or exc})") from exc


def _config_names(directory: Path) -> list[str]:
    """The settings files of a knowledge directory (or a build), relative to it."""
    names = [name for name in CONFIG_FILES if (directory / name).is_file()]
    return names + [f"{HINTS_DIR}/{p.name}" for p in hint_files(directory)]


def _file_sha(path: Path) -> str:
    return _sha(_read(path)) if path.is_file() else ""


def _write_chunks(path: Path, chunks: Sequence[Chunk]) -> None:
    rows = [{"id": c.id, "text": c.text, **c.metadata()} for c in chunks]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
