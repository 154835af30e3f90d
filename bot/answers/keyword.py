"""Keyword search (BM25, by bm25s) beside the vectors: policy questions hinge on exact
terms such as "YouTube", "MFA" or "politically restricted".

A reload builds the index and saves it in the build (``keyword/``); opening the build maps
it from there, which spares a one-question ``policybot ask`` of a large library the most
of a second it took to stem every text again. A saved index is used only when it was made
from exactly the texts being opened (a digest of them is kept beside it); one that is
missing, unreadable or made for other texts is ignored and the index is built in memory, as
before, without writing anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from bot.answers.text import terms
from bot.knowledge.hints import Hint
from bot.models import Chunk

log = logging.getLogger(__name__)

# bm25s logs every index build at DEBUG on a logger of its own.
logging.getLogger("bm25s").setLevel(logging.WARNING)

#: The saved index's directory inside a build.
KEYWORD_DIR = "keyword"
#: A saved index's format, the digest of its texts, and each term's column and document
#: frequency; the scores are in ``ARRAYS`` (bm25s's sparse matrix, by column).
TERMS_FILE = "terms.json"
ARRAYS = ("data.npy", "indices.npy", "indptr.npy")
#: Bump when what is saved changes; an index of another format is built again.
FORMAT = 1


class TermSets(Sequence[frozenset[str]]):
    """Each text's set of stemmed terms, made when asked for: a search reads only its few
    best clauses', and holding all of them cost a library of 20,000 clauses 32 MB."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._texts = texts

    def __len__(self) -> int:
        return len(self._texts)

    @overload
    def __getitem__(self, index: int) -> frozenset[str]: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[frozenset[str]]: ...

    def __getitem__(self, index: int | slice) -> frozenset[str] | Sequence[frozenset[str]]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return _term_set(self._texts[index])


def _term_set(text: str) -> frozenset[str]:
    return frozenset(terms(text) or ["∅"])


def keyword_texts(chunks: Sequence[Chunk], hints: Sequence[Hint]) -> list[str]:
    """What BM25 indexes for each clause: its title, its text, and the questions its hints
    say it answers (staff's own words for it), in the order of ``chunks``."""
    position = {c.id: i for i, c in enumerate(chunks)}
    questions: dict[int, list[str]] = {}
    for hint in hints:
        if hint.chunk_id in position:
            questions.setdefault(position[hint.chunk_id], []).append(hint.text)
    return [keyword_text(c, questions.get(i, ())) for i, c in enumerate(chunks)]


def keyword_text(chunk: Chunk, hints: Sequence[str]) -> str:
    """What BM25 indexes for one clause with the texts of its ``hints``."""
    return " ".join((chunk.title, chunk.text, *hints))


def digest(texts: Sequence[str]) -> str:
    """Identifies ``texts`` exactly (order included), to tell a saved index's texts."""
    sha = hashlib.sha256()
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        sha.update(len(encoded).to_bytes(8, "little"))
        sha.update(encoded)
    return sha.hexdigest()


class KeywordIndex:
    """BM25 over chunk texts, built in memory (:meth:`open` maps a saved one instead).

    bm25s builds the index (its per-term scores, a sparse matrix by column); a search adds
    up the query terms' columns as bm25s's own ``get_scores`` does, so that a saved index
    is searched without importing bm25s and scipy (about half a second of a one-shot start).

    Args:
        texts: one text per chunk, in the order the scores are returned.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        import bm25s  # only to build: a saved index is read with numpy alone

        texts = list(texts)
        tokenized = [terms(t) or ["∅"] for t in texts]
        frequency = Counter(t for doc in tokenized for t in set(doc))
        bm25 = bm25s.BM25()
        bm25.index(tokenized, show_progress=False)
        # bm25s numbers the terms in the order of a set of strings, which changes with
        # every process: the columns are put in the terms' alphabetical order, so that the
        # same texts always save the same files.
        names = sorted(frequency)
        scores = bm25.scores
        indptr = scores["indptr"]
        old = np.asarray([bm25.vocab_dict[t] for t in names], dtype=np.intp)
        starts, lengths = indptr[old], indptr[old + 1] - indptr[old]
        pointers = np.zeros(len(names) + 1, dtype=indptr.dtype)
        np.cumsum(lengths, out=pointers[1:])
        take = np.arange(int(pointers[-1])) + np.repeat(starts - pointers[:-1], lengths)
        self._set(
            texts,
            {t: frequency[t] for t in names},
            {t: i for i, t in enumerate(names)},
            scores["data"][take],
            scores["indices"][take],
            pointers,
        )

    def _set(
        self,
        texts: list[str],
        frequency: dict[str, int],
        columns: dict[str, int],
        *arrays: npt.NDArray[Any],
    ) -> None:
        self.term_sets = TermSets(texts)
        self._texts = texts
        self._frequency = frequency
        self._columns = columns
        self._data, self._indices, self._indptr = arrays
        self._size = len(texts)
        # BM25's idf; a word the documents never use gets the highest idf of all.
        self._unknown_idf = math.log(1 + (self._size + 0.5) / 0.5)

    @classmethod
    def open(cls, directory: Path, texts: Sequence[str]) -> KeywordIndex:
        """The index saved in ``directory`` (by :meth:`save`) when it was made from
        ``texts``; otherwise one built from them in memory (nothing is written)."""
        texts = list(texts)
        try:
            return cls._load(directory, texts)
        except FileNotFoundError:
            log.info("%s holds no keyword index: building it", directory.parent.name)
        # A damaged index raises whatever numpy or json make of it: it is only a cache, so
        # any failure to read it means building it again.
        except Exception as exc:
            log.warning("ignored the keyword index of %s: %s", directory.parent.name, exc)
        return cls(texts)

    @classmethod
    def _load(cls, directory: Path, texts: list[str]) -> KeywordIndex:
        meta = json.loads((directory / TERMS_FILE).read_text(encoding="utf-8"))
        if meta["format"] != FORMAT:
            raise ValueError(f"it is of format {meta['format']}, not {FORMAT}")
        if meta["documents"] != len(texts) or meta["digest"] != digest(texts):
            raise ValueError("it was made from other texts")
        names = [str(t) for t in meta["terms"]]
        frequency = dict(zip(names, map(int, meta["frequency"]), strict=True))
        columns = dict(zip(names, map(int, meta["columns"]), strict=True))
        arrays = [np.load(directory / name, mmap_mode="r") for name in ARRAYS]
        _check(len(texts), columns, *arrays)
        index = cls.__new__(cls)
        index._set(texts, frequency, columns, *arrays)
        return index

    def save(self, directory: Path) -> None:
        """Write the index into ``directory`` (replaced whole, never left half written)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}-"))
        try:
            for name, array in zip(ARRAYS, (self._data, self._indices, self._indptr), strict=True):
                np.save(staging / name, np.ascontiguousarray(array))
            names = list(self._frequency)
            meta = {
                "format": FORMAT,
                "documents": self._size,
                "digest": digest(self._texts),
                "terms": names,
                "frequency": [self._frequency[t] for t in names],
                "columns": [self._columns[t] for t in names],
            }
            (staging / TERMS_FILE).write_text(json.dumps(meta, ensure_ascii=False), "utf-8")
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(staging, directory)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def __len__(self) -> int:
        return self._size

    def knows(self, term: str) -> bool:
        """Whether the stemmed ``term`` occurs anywhere in the indexed texts."""
        return term in self._frequency

    def idf(self, term: str) -> float:
        """How rare the stemmed ``term`` is in the documents (highest when absent)."""
        df = self._frequency.get(term)
        if df is None:
            return self._unknown_idf
        return math.log(1 + (self._size - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: Sequence[str]) -> npt.NDArray[np.float32]:
        """BM25 score of every chunk for the stemmed ``query_terms`` (a term given twice
        counts twice, as in bm25s)."""
        scores = np.zeros(self._size, dtype=np.float32)
        for term in query_terms:
            column = self._columns.get(term)
            if column is not None:
                start, end = self._indptr[column], self._indptr[column + 1]
                np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores


def _check(
    documents: int,
    columns: dict[str, int],
    data: npt.NDArray[Any],
    indices: npt.NDArray[Any],
    indptr: npt.NDArray[Any],
) -> None:
    """Raise ValueError unless the loaded arrays fit ``documents`` texts and the terms'
    ``columns`` (a search must never index past the end of an array)."""
    if data.ndim != 1 or indices.ndim != 1 or indptr.ndim != 1 or data.dtype != np.float32:
        raise ValueError("its arrays are not of the expected shape")
    if len(indptr) == 0 or indptr[0] != 0:
        raise ValueError("its term pointers are damaged")
    if max(columns.values(), default=-1) >= len(indptr) - 1 or min(columns.values(), default=0) < 0:
        raise ValueError("its term pointers do not fit its vocabulary")
    if len(data) != len(indices) or int(indptr[-1]) != len(indices):
        raise ValueError("its arrays differ in length")
    if np.any(np.diff(indptr) < 0) or (
        len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= documents)
    ):
        raise ValueError("its arrays point outside the texts")
