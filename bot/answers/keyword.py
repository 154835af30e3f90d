"""Keyword search (BM25, by bm25s) beside the vectors: policy questions hinge on exact
terms such as "YouTube", "MFA" or "politically restricted"."""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence
from typing import overload

import bm25s
import numpy as np

from bot.answers.text import terms

# bm25s logs every index build at DEBUG on a logger of its own.
logging.getLogger("bm25s").setLevel(logging.WARNING)


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


class KeywordIndex:
    """BM25 over chunk texts, built in memory when an index is opened (milliseconds).

    Args:
        texts: one text per chunk, in the order the scores are returned.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        texts = list(texts)
        tokenized = [terms(t) or ["∅"] for t in texts]
        self.term_sets = TermSets(texts)
        frequency = Counter(t for doc in tokenized for t in set(doc))
        n = len(texts)
        # BM25's idf; a word the documents never use gets the highest idf of all.
        self._idf = {t: math.log(1 + (n - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        self._unknown_idf = math.log(1 + (n + 0.5) / 0.5)
        self._vocabulary = set(frequency)
        self._bm25 = bm25s.BM25()
        self._bm25.index(tokenized, show_progress=False)
        self._size = len(texts)

    def __len__(self) -> int:
        return self._size

    def knows(self, term: str) -> bool:
        """Whether the stemmed ``term`` occurs anywhere in the indexed texts."""
        return term in self._vocabulary

    def idf(self, term: str) -> float:
        """How rare the stemmed ``term`` is in the documents (highest when absent)."""
        return self._idf.get(term, self._unknown_idf)

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the stemmed ``query_terms``."""
        known = [t for t in query_terms if t in self._vocabulary]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
