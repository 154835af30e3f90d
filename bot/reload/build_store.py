"""Filling a new build's vector store: from nothing, or from the previous build's.

Writing every record into Chroma costs a large library tens of seconds (Chroma commits each
batch to disk). When the previous build was embedded Chroma too and kept its vector file,
the new store starts as a copy of its files, and only the records that differ are deleted
and added: one edited document of a few hundred costs a copy and a few writes.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path

from bot.errors import KnowledgeStoreError
from bot.knowledge.embeddings import Vectors
from bot.knowledge.hints import Hint
from bot.knowledge.store import ChromaStore
from bot.knowledge.vector_file import read_vectors
from bot.models import Chunk

log = logging.getLogger(__name__)


def fill_store(
    store: ChromaStore,
    chunks: Sequence[Chunk],
    hints: Sequence[Hint],
    vectors: Vectors,
    *,
    previous: tuple[ChromaStore, Sequence[Chunk], Path] | None = None,
) -> int:
    """Store ``chunks`` and ``hints`` with ``vectors`` (chunks' rows first) in the new,
    empty ``store``; returns how many records were written.

    Args:
        previous: the live build's store, chunks and directory, to start from a copy of.
    """
    if previous is not None:
        written = _from_previous(store, chunks, hints, vectors, *previous)
        if written is not None:
            return written
    store.create()
    store.add(chunks, vectors[: len(chunks)])
    store.add_hints(hints, vectors[len(chunks) :])
    return len(chunks) + len(hints)


def _from_previous(
    store: ChromaStore,
    chunks: Sequence[Chunk],
    hints: Sequence[Hint],
    vectors: Vectors,
    old_store: ChromaStore,
    old_chunks: Sequence[Chunk],
    old_path: Path,
) -> int | None:
    """Copy the previous store and apply the difference; None when it cannot (then the
    store is filled from nothing)."""
    records = read_vectors(old_path, old_chunks)
    if records is None:
        return None  # what the old store holds is unknown without reading it all
    old_hints = records[2]
    try:
        if not store.copy_files_of(old_store):
            return None
        new_chunks, new_hints = set(chunks), set(hints)
        stale = [c.id for c in old_chunks if c not in new_chunks]
        stale += [h.id for h in old_hints if h not in new_hints]
        store.delete(stale)
        kept_chunks, kept_hints = set(old_chunks), set(old_hints)
        rows = [i for i, c in enumerate(chunks) if c not in kept_chunks]
        store.add([chunks[i] for i in rows], vectors[rows])
        hint_rows = [len(chunks) + i for i, h in enumerate(hints) if h not in kept_hints]
        store.add_hints([hints[i - len(chunks)] for i in hint_rows], vectors[hint_rows])
        if store.count() != len(chunks) + len(hints):
            raise KnowledgeStoreError("the copied store does not hold the build's records")
    except (KnowledgeStoreError, OSError) as exc:
        log.warning("could not start from the previous build's store (%s): writing it all", exc)
        store.close()
        if store.path is not None:
            shutil.rmtree(store.path, ignore_errors=True)
        return None
    written = len(stale) + len(rows) + len(hint_rows)
    log.info("started from a copy of the previous build's store: %d records written", written)
    return written
