"""A build's vectors in a plain file beside its Chroma store.

Reading every vector back out of Chroma (with its text and metadata) costs a large
library seconds and hundreds of megabytes of Python objects, and needs ``chromadb``
imported. So each build also writes ``vectors.npy`` (float32, one row per chunk in the
order of ``chunks.json``, then one per hint) and ``hints.json`` (each hint's clause id and
text, in the same order). Opening a build maps the file instead: answering a small corpus
never imports Chroma, and a reload reuses the previous build's vectors from it. Chroma
keeps every record's vector (and is the search index of a large corpus), the clauses' texts
being in ``chunks.json``; a build without these files (made before them) is read from
Chroma as before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.knowledge.embeddings import Vectors
from bot.knowledge.hints import Hint
from bot.models import Chunk

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npy"
HINTS_FILE = "hints.json"

#: What a store's ``records()`` returns: chunks, their vectors, hints, their vectors.
Records = tuple[list[Chunk], Vectors, list[Hint], Vectors]


def write_vectors(path: Path, vectors: Vectors, hints: Sequence[Hint]) -> None:
    """Write a build's vectors (chunks, then ``hints``) into the build directory ``path``."""
    np.save(path / VECTORS_FILE, np.ascontiguousarray(vectors, dtype=np.float32))
    rows = [[h.chunk_id, h.text] for h in hints]
    (path / HINTS_FILE).write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")


def read_vectors(path: Path, chunks: Sequence[Chunk]) -> Records | None:
    """The records of the build in ``path`` whose chunks are ``chunks``, the vectors mapped
    from the file rather than read; None when the build has no such file or it does not
    fit the chunks (then the caller reads Chroma)."""
    try:
        vectors = np.load(path / VECTORS_FILE, mmap_mode="r")
        raw = json.loads((path / HINTS_FILE).read_text(encoding="utf-8"))
        hints = [Hint(str(chunk_id), str(text)) for chunk_id, text in raw]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError) as exc:
        log.warning("ignored the unreadable vector file of %s: %s", path.name, exc)
        return None
    if vectors.ndim != 2 or vectors.dtype != np.float32 or len(vectors) != len(chunks) + len(hints):
        log.warning("ignored the vector file of %s: it does not match its chunks", path.name)
        return None
    split = len(chunks)
    return list(chunks), vectors[:split], hints, vectors[split:]
