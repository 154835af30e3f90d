"""The vector store: ChromaDB, kept behind one small class.

Each index build writes its own collection (``policybot-<build>``), so that a reload can
build beside the live index and switch only when complete. Embedded mode keeps each build
in its own directory; server mode (``CHROMA_HOST``) keeps the builds as collections of one
server. Embeddings are always computed by PolicyBot and handed to Chroma, so Chroma's own
embedding function (which downloads a model) is never used.

The clauses' texts are not stored in Chroma: they live in the build's ``chunks.json``, and
Chroma full-text indexes every document it is given, which cost a third of the CPU time of
writing a large library's records (9.4 s for 21,920 clauses here, 4.8 s without the texts)
and a third of the store's size. A hint keeps its text (hints are few). Records read back
from Chroma take their clauses' texts from :attr:`ChromaStore.texts`.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from bot.errors import KnowledgeStoreError
from bot.knowledge.embeddings import Vectors
from bot.knowledge.hints import Hint
from bot.knowledge.vector_file import Records
from bot.models import Chunk

log = logging.getLogger(__name__)

_ADD_BATCH = 2048


def _client_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


class ChromaStore:
    """One collection of clause chunks and their vectors.

    Args:
        connect: makes the ``chromadb`` client (persistent, HTTP or in-memory) on first use.
        collection: the collection name.
        path: the directory of an embedded store, if it is one.
    """

    def __init__(
        self, connect: Callable[[], Any], *, collection: str, path: Path | None = None
    ) -> None:
        self._connect = connect
        self._client: Any = None
        self._name = collection
        self._path = path
        self._collection: Any = None
        self._count: int | None = None
        #: Reads the records from elsewhere (a build's vector file) when it can; None
        #: then means "ask Chroma".
        self.records_source: Callable[[], Records | None] | None = None
        #: The clauses' texts by chunk id (the store does not keep them; see the module
        #: docstring), for records read back from Chroma.
        self.texts: Mapping[str, str] = {}

    @classmethod
    def persistent(cls, path: Path, *, collection: str) -> ChromaStore:
        """An embedded store in the directory ``path``."""

        def connect() -> Any:
            import chromadb

            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=_client_settings())

        return cls(connect, collection=collection, path=path)

    @classmethod
    def http(cls, host: str, port: int, *, collection: str) -> ChromaStore:
        """A store on a Chroma server (``chroma run``)."""

        def connect() -> Any:
            import chromadb

            try:
                return chromadb.HttpClient(host=host, port=port, settings=_client_settings())
            except Exception as exc:  # the client checks the server at once
                raise KnowledgeStoreError(
                    f"Chroma server {host}:{port} is unreachable: {exc}"
                ) from exc

        return cls(connect, collection=collection)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    @property
    def name(self) -> str:
        return self._name

    @property
    def path(self) -> Path | None:
        """The directory of an embedded store; None for a store on a server."""
        return self._path

    def copy_files_of(self, other: ChromaStore) -> bool:
        """Begin this embedded store as a copy of ``other``'s files (a finished build's,
        which nothing writes any more). False when either is not embedded, or ``other``
        has no files."""
        if self._path is None or other.path is None or not other.path.is_dir():
            return False
        other.close()
        self.close()
        shutil.rmtree(self._path, ignore_errors=True)
        shutil.copytree(other.path, self._path)
        return True

    def delete(self, ids: Sequence[str]) -> None:
        """Delete the records ``ids`` (chunks or hints)."""
        if not ids:
            return
        collection = self._open()
        self._count = None
        with self._guard("delete from"):
            for start in range(0, len(ids), _ADD_BATCH):
                collection.delete(ids=list(ids[start : start + _ADD_BATCH]))

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        """Turn any Chroma failure into KnowledgeStoreError, and reconnect next time."""
        try:
            yield
        except KnowledgeStoreError:
            raise
        except Exception as exc:
            self._collection = None
            self._count = None
            self._client = None  # a restarted server needs a new connection
            raise KnowledgeStoreError(f"Chroma could not {action} {self._name}: {exc}") from exc

    def create(self) -> None:
        """Create the collection afresh (cosine distance), dropping any leftover."""
        self.drop()
        with self._guard("create"):
            self._collection = self.client.create_collection(
                name=self._name,
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine"}},
            )

    def _open(self) -> Any:
        if self._collection is None:
            with self._guard("find (missing or unreachable)"):
                self._collection = self.client.get_collection(
                    name=self._name, embedding_function=None
                )
        return self._collection

    def add(self, chunks: Sequence[Chunk], vectors: Vectors) -> None:
        """Store ``chunks`` with their ``vectors`` (same order): their ids and metadata, not
        their texts."""
        self._add([c.id for c in chunks], None, [c.metadata() for c in chunks], vectors)

    def add_hints(self, hints: Sequence[Hint], vectors: Vectors) -> None:
        """Store clause ``hints`` with their ``vectors`` (same order) beside the chunks."""
        self._add(
            [h.id for h in hints],
            [h.text for h in hints],
            [{"hint_of": h.chunk_id} for h in hints],
            vectors,
        )

    def _add(
        self,
        ids: list[str],
        texts: list[str] | None,
        metadatas: list[dict[str, Any]],
        vectors: Vectors,
    ) -> None:
        collection = self._open()
        self._count = None
        with self._guard("add to"):
            for start in range(0, len(ids), _ADD_BATCH):
                end = start + _ADD_BATCH
                collection.add(
                    ids=ids[start:end],
                    documents=texts[start:end] if texts is not None else None,
                    metadatas=metadatas[start:end],
                    embeddings=vectors[start:end],
                )

    def query(self, vector: Vectors, k: int) -> list[tuple[str, float]]:
        """The ``k`` nearest record ids (chunks and hints) with their cosine similarity,
        best first."""
        k = min(k, self.count())
        if k == 0:
            return []
        collection = self._open()
        with self._guard("query"):
            found = collection.query(query_embeddings=[vector], n_results=k, include=["distances"])
        ids: list[str] = found["ids"][0]
        distances: list[float] = found["distances"][0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=True)]

    def count(self) -> int:
        """How many records (chunks and hints) the collection holds (remembered: a build
        never changes)."""
        if self._count is None:
            collection = self._open()
            with self._guard("count"):
                self._count = int(collection.count())
        return self._count

    def load(self) -> tuple[list[Chunk], Vectors]:
        """Every chunk and its vector."""
        chunks, vectors, _, _ = self.records()
        return chunks, vectors

    def records(self) -> Records:
        """Every chunk and every hint, each with its vectors (from ``records_source`` when it
        has them: Chroma is then not even connected). A chunk read from Chroma takes its
        text from :attr:`texts` (a build made before the texts left Chroma has its own)."""
        if self.records_source is not None and (found := self.records_source()) is not None:
            return found
        collection = self._open()
        with self._guard("read"):
            found = collection.get(include=["documents", "metadatas", "embeddings"])
        chunks: list[Chunk] = []
        hints: list[Hint] = []
        chunk_rows: list[int] = []
        hint_rows: list[int] = []
        rows = zip(found["ids"], found["documents"], found["metadatas"], strict=True)
        for row, (cid, text, meta) in enumerate(rows):
            if "hint_of" in meta:
                hints.append(Hint(str(meta["hint_of"]), text))
                hint_rows.append(row)
            else:
                text = self.texts.get(cid, text or "")
                chunks.append(Chunk.from_metadata(cid, text, dict(meta)))
                chunk_rows.append(row)
        vectors = np.asarray(found["embeddings"], dtype=np.float32)
        if not len(vectors):
            vectors = np.zeros((0, 0), dtype=np.float32)
        return chunks, vectors[chunk_rows], hints, vectors[hint_rows]

    def drop(self) -> None:
        """Delete the collection if it exists.

        Raises:
            KnowledgeStoreError: the store could not be reached to delete it.
        """
        from chromadb.errors import NotFoundError

        self._collection = None
        self._count = None
        if self._path is not None and not self._path.exists():
            return
        try:
            with self._guard("delete"):
                self.client.delete_collection(name=self._name)
        except KnowledgeStoreError as exc:
            if isinstance(exc.__cause__, NotFoundError | ValueError):
                return  # absent: nothing to drop
            raise

    def list_collections(self) -> list[str]:
        """Names of the collections on the same client (server mode cleans old builds)."""
        with self._guard("list the collections beside"):
            return [str(getattr(c, "name", c)) for c in self.client.list_collections()]

    def close(self) -> None:
        """Release the collection and the client (an embedded client holds open files)."""
        self._collection = None
        self._count = None
        client, self._client = self._client, None
        if client is not None and hasattr(client, "close"):
            try:
                client.close()
            except Exception as exc:  # closing is best effort; the files go with the process
                log.debug("closing the Chroma client of %s failed: %s", self._name, exc)
