"""Hybrid retrieval: vectors (Chroma) and BM25, fused by reciprocal rank.

The question is searched with its glossary expansions; the parts of a long clause are
merged back into the clause, so results are clauses, best first.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.answers.keyword import KeywordIndex, keyword_text
from bot.answers.text import STOPWORDS, terms, words
from bot.knowledge.embeddings import Embedder, Vectors
from bot.knowledge.glossary import Glossary, Matches
from bot.knowledge.store import ChromaStore
from bot.models import Chunk

#: Reciprocal-rank constant: small, because only the first few ranks matter here.
RRF_K = 10
DENSE_WEIGHT = 1.0
KEYWORD_WEIGHT = 0.8
CANDIDATES = 40
#: Up to this many chunks and hints, the build's vectors are read once when it goes live
#: and searched exactly in memory; a larger corpus is searched by Chroma's own index. At 80
#: times the shipped library (22,467 vectors, 35 MB) an exact search costs about 2 ms of CPU
#: on one core, no more than a Chroma query, without importing Chroma or holding its index.
EXACT_SEARCH_LIMIT = 50_000
#: How many of the nearest hints :attr:`Evidence.asked` averages.
NEAREST_HINTS = 3

# "Leicester City Council", "manchester council's", "Acme Ltd"
_BODY = re.compile(
    r"\b((?:[A-Za-z][\w&-]*\s+){1,2}?)(?:city\s+|county\s+|borough\s+|district\s+|"
    r"metropolitan\s+|town\s+)?(?:council|authority|nhs\s+trust)\b",
    re.IGNORECASE,
)
_GENERIC_MODIFIERS = frozenset(
    "the our this that my your a an local parish town county city district borough other "
    "another any neighbouring each every which what whose their its same whole".split()
)

# "clause 4.3", "clause 11.2 of the policy", "clause 14.4 of the Email and Internet ... standard"
_REFERENCE = re.compile(
    r"\bclause\s+(\d+(?:\.\d+)+)(?:\s+of\s+the\s+((?:[A-Za-z][A-Za-z ]*?\s)?"
    r"(?:policy|standard|procedure|guidance)))?\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Hit:
    """A clause found for a question, with the evidence for it."""

    chunk: Chunk
    score: float
    dense: float
    keyword: float
    #: The best similarity of the question to the clause's hints (0 without hints).
    hint: float = 0.0

    @property
    def meaning(self) -> float:
        """Similarity in meaning: the best of the clause's own and its hints'."""
        return max(self.dense, self.hint)


@dataclass(frozen=True)
class QueryTerm:
    """A content word of the question, the words that may stand for it, and its weight."""

    term: str
    alternatives: frozenset[str]
    idf: float


@dataclass(frozen=True)
class Evidence:
    """What the search saw, for judging whether the documents cover the question."""

    query: tuple[QueryTerm, ...]
    hits: tuple[Hit, ...]
    hit_terms: tuple[frozenset[str], ...] = ()
    #: Names of other organisations the question asks about ("Leicester City Council"):
    #: the documents are one council's own, so they cannot answer for another.
    other_bodies: tuple[str, ...] = ()
    #: Similarity of the question to the documents as a whole (their mean vector): low
    #: for questions about anything else (pizza, the weather).
    topicality: float = 0.0
    #: The question's embedding (what routing reads).
    vector: Vectors | None = None
    #: The best raw BM25 score of any clause (0 when no word of the question is known).
    keyword_top: float = 0.0
    #: How many words the question has.
    words: int = 0
    #: The question searched for.
    question: str = ""
    #: How close the question is to the questions the clauses' hints say they answer (the
    #: mean similarity of the NEAREST_HINTS nearest; 0 without hints).
    asked: float = 0.0
    #: How close the question is to example questions the documents answer, and to ones
    #: they do not (:meth:`bot.answers.routing.RoutingModel.scope`; 0 without examples).
    inside: float = 0.0
    outside: float = 0.0
    #: Whether ``inside`` and ``outside`` were measured (the answer gate then reads them).
    scoped: bool = False

    @property
    def query_terms(self) -> tuple[str, ...]:
        return tuple(q.term for q in self.query)

    def matched_share(self, top: int = 1) -> float:
        """The idf-weighted share of the question's words found in the ``top`` clauses.

        A question about parking or another council shares only common words ("staff",
        "Council") with even its best clause, so its share is low.
        """
        total = sum(q.idf for q in self.query)
        if not total or not self.hit_terms:
            return 0.0
        found = frozenset().union(*self.hit_terms[:top])
        return sum(q.idf for q in self.query if q.alternatives & found) / total


class Retriever:
    """Searches one build's clauses.

    Args:
        chunks: the build's chunks, in the order of the keyword index.
        store: the build's vector store.
        embedder: the embedder the build was made with.
        glossary: the build's glossary.
        keyword_dir: where the build saved its keyword index (optional: without it, or
            when it cannot be used, the index is built from the chunks).
    """

    def __init__(
        self,
        chunks: Sequence[Chunk],
        *,
        store: ChromaStore,
        embedder: Embedder,
        glossary: Glossary,
        keyword_dir: Path | None = None,
    ) -> None:
        self._chunks = list(chunks)
        self._by_id = {c.id: i for i, c in enumerate(self._chunks)}
        self._store = store
        self._embedder = embedder
        self.glossary = glossary
        self._size = Counter(c.source for c in self._chunks)
        self._hinted: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._hint_starts: npt.NDArray[np.intp] = np.zeros(0, dtype=np.intp)
        self._matrix, self._centroid = self._read_vectors(store)
        texts = [keyword_text(c, self.hints.get(i, ())) for i, c in enumerate(self._chunks)]
        self._keyword = (
            KeywordIndex.open(keyword_dir, texts) if keyword_dir else KeywordIndex(texts)
        )

    def _read_vectors(self, store: ChromaStore) -> tuple[Vectors | None, Vectors]:
        """The build's clause and hint vectors (for exact search of a small corpus), and
        the clauses' normalised mean (the documents' overall subject)."""
        stored, vectors, hints, hint_vectors = store.records()
        self._hint_owner = {
            h.id: self._by_id[h.chunk_id] for h in hints if h.chunk_id in self._by_id
        }
        self.hints: dict[int, list[str]] = {}
        for hint in hints:
            if hint.chunk_id in self._by_id:
                self.hints.setdefault(self._by_id[hint.chunk_id], []).append(hint.text)
        if not len(vectors):
            return None, np.zeros(0, dtype=np.float32)
        mean: Vectors = vectors.mean(axis=0)
        centroid = mean / max(float(np.linalg.norm(mean)), 1e-9)
        if len(stored) + len(hints) > EXACT_SEARCH_LIMIT:
            return None, centroid
        # Hint rows grouped by their clause, so that a clause's best hint is one reduceat.
        kept = sorted(
            (i for i, h in enumerate(hints) if h.chunk_id in self._by_id),
            key=lambda i: self._by_id[hints[i].chunk_id],
        )
        matrix = np.zeros((len(self._chunks) + len(kept), vectors.shape[1]), dtype=np.float32)
        # One copy of the rows, not a row at a time (22,000 slices of a mapped file).
        rows = [(self._by_id[c.id], i) for i, c in enumerate(stored) if c.id in self._by_id]
        if rows:
            at, source = (np.asarray(column, dtype=np.intp) for column in zip(*rows, strict=True))
            matrix[at] = vectors[source]
        if kept:
            matrix[len(self._chunks) :] = hint_vectors[kept]
        owner = np.asarray([self._by_id[hints[i].chunk_id] for i in kept], dtype=np.intp)
        self._hinted, self._hint_starts = np.unique(owner, return_index=True)
        return matrix, centroid

    def _nearest(self, vector: Vectors) -> tuple[dict[int, float], dict[int, float], float]:
        """The nearest clauses to ``vector``: their own cosine similarity, and the best
        similarity of their hints, by chunk position; and the mean similarity of the
        NEAREST_HINTS hints closest to it, whichever clauses they belong to."""
        n = len(self._chunks)
        if self._matrix is not None:
            similarity = self._matrix @ vector
            own = similarity[:n]
            hinted = np.full(n, -1.0, dtype=np.float32)
            if len(self._hinted):
                hinted[self._hinted] = np.maximum.reduceat(similarity[n:], self._hint_starts)
            best = np.maximum(own, hinted)
            order = top(best, CANDIDATES)
            return (
                {int(i): float(own[i]) for i in order},
                {int(i): float(hinted[i]) for i in order if hinted[i] > -1.0},
                _top_mean(similarity[n:]),
            )
        own_found: dict[int, float] = {}
        hint_found: dict[int, float] = {}
        hint_scores = []
        for rid, score in self._store.query(vector, CANDIDATES * 4):
            if rid in self._hint_owner:
                index = self._hint_owner[rid]
                hint_found[index] = max(score, hint_found.get(index, -1.0))
                hint_scores.append(score)
            elif rid in self._by_id:
                own_found[self._by_id[rid]] = score
        return own_found, hint_found, _top_mean(np.asarray(hint_scores, dtype=np.float32))

    def _query_terms(self, question: str, matches: Matches) -> tuple[QueryTerm, ...]:
        """The question's content words, each with its glossary alternatives and idf."""
        alternatives: dict[str, set[str]] = {t: {t} for t in terms(question)}
        for phrase, mapped in matches:
            extra = set(terms(" ".join(mapped)))
            for term in terms(phrase):
                alternatives.setdefault(term, {term}).update(extra)
        return tuple(
            QueryTerm(t, frozenset(alts), self._weight(t, alts)) for t, alts in alternatives.items()
        )

    def _weight(self, term: str, alternatives: set[str]) -> float:
        known = [self._keyword.idf(a) for a in alternatives if self._keyword.knows(a)]
        return max(known) if known else self._keyword.idf(term)

    def search(self, question: str, k: int = 5) -> Evidence:
        """The ``k`` best clauses for ``question``, with the evidence for judging them."""
        matches = self.glossary.matches(question)
        expanded = self.glossary.expand(question, matches)
        keyword = self._keyword.scores(terms(expanded))
        vector = self._embedder.embed([expanded])[0]
        dense = np.zeros(len(self._chunks), dtype=np.float32)
        hinted = np.zeros(len(self._chunks), dtype=np.float32)
        own, hint_best, asked = self._nearest(vector)
        for index, similarity in own.items():
            dense[index] = similarity
        for index, similarity in hint_best.items():
            hinted[index] = similarity
        meaning = {i: max(own.get(i, -1.0), hint_best.get(i, -1.0)) for i in {*own, *hint_best}}
        dense_rank = {i: r for r, i in enumerate(sorted(meaning, key=lambda i: -meaning[i]))}
        keyword_order = top(keyword, CANDIDATES)
        keyword_rank = {int(i): r for r, i in enumerate(keyword_order) if keyword[i] > 0}
        fused: dict[int, float] = {}
        for index, rank in dense_rank.items():
            fused[index] = DENSE_WEIGHT / (RRF_K + rank)
        for index, rank in keyword_rank.items():
            fused[index] = fused.get(index, 0.0) + KEYWORD_WEIGHT / (RRF_K + rank)
        top_keyword = float(keyword.max()) if len(keyword) else 0.0
        order = self._merge_parts(sorted(fused, key=lambda i: -fused[i]))[:k]
        hits = tuple(
            Hit(
                chunk=self._chunks[i],
                score=fused[i],
                dense=float(dense[i]),
                keyword=float(keyword[i]) / top_keyword if top_keyword > 0 else 0.0,
                hint=float(hinted[i]),
            )
            for i in order
        )
        return Evidence(
            query=self._query_terms(question, matches),
            hits=hits,
            hit_terms=tuple(self._keyword.term_sets[i] for i in order),
            topicality=float(vector @ self._centroid) if len(self._centroid) else 0.0,
            other_bodies=self.other_bodies(question),
            vector=vector,
            keyword_top=top_keyword,
            words=len(question.split()),
            question=question,
            asked=asked,
        )

    def other_bodies(self, question: str) -> tuple[str, ...]:
        """Organisations named in the question that the documents never mention."""
        found = []
        for match in _BODY.finditer(question):
            before = words(match.group(1))
            if any(w in _GENERIC_MODIFIERS for w in before):
                continue  # "the council", "slagging the council off": this council
            name = terms(" ".join(before))
            if name and not any(self._keyword.knows(t) for t in name):
                found.append(match.group(0).strip())
        return tuple(found)

    def resolve_reference(self, chunk: Chunk, text: str) -> Chunk | None:
        """The clause that ``text`` (from ``chunk``) sends the reader to, if it names one.

        "clause 4.3 of the policy" is looked up in the document whose title best matches
        "the policy"; a bare "clause 13.4" in the chunk's own document.
        """
        match = _REFERENCE.search(text)
        if match is None:
            return None
        number, named = match.group(1), (match.group(2) or "").lower()
        candidates = [c for c in self._chunks if c.section == number and c.part == 0]
        if named:
            wanted = set(words(named)) - STOPWORDS
            candidates = [
                c for c in candidates if wanted and wanted <= set(words(c.document_title))
            ]
            candidates.sort(key=lambda c: (c.source == chunk.source, -self._size[c.source]))
        else:
            candidates = [c for c in candidates if c.source == chunk.source]
        return candidates[0] if candidates else None

    def _merge_parts(self, order: Iterable[int]) -> list[int]:
        """Keep the best part of each clause (parts share source, number and title)."""
        seen: set[tuple[str, str, str]] = set()
        merged = []
        for index in order:
            chunk = self._chunks[index]
            key = (chunk.source, chunk.section, chunk.title)
            if key not in seen:
                seen.add(key)
                merged.append(index)
        return merged


def top(values: Vectors, k: int) -> npt.NDArray[np.intp]:
    """The positions of the ``k`` highest ``values``, highest first, equal values in order
    of position: what ``np.argsort(-values, kind="stable")[:k]`` gives, without sorting
    them all (at 80 times the shipped library, 0.03 ms of CPU against 0.2 ms)."""
    n = len(values)
    if n <= k:
        return np.argsort(-values, kind="stable")
    kth = np.partition(values, n - k)[n - k]
    # Every value at least the k-th highest: k of them, or more when some equal it.
    candidates = np.flatnonzero(values >= kth)
    order = candidates[np.argsort(-values[candidates], kind="stable")]
    return order[:k]


def _top_mean(similarity: Vectors) -> float:
    """The mean of the NEAREST_HINTS highest similarities (0 for none)."""
    k = min(NEAREST_HINTS, len(similarity))
    return float(np.partition(similarity, len(similarity) - k)[-k:].mean()) if k else 0.0
