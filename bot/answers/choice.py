"""Which of the best clauses answers the question: a calibrated classifier per candidate.

The search ranks clauses by how close they are to the question; the clause that rules is not
always first (a guidance paragraph about LinkedIn outranks the policy clause that answers
"can I put my job on LinkedIn?"). For each of the first few candidates the chooser reads
what the search saw of it (closeness in meaning, its hints, keywords, the share of the
question's rare words it holds, its rank) and gives the probability that it answers the
question. The answer leads with the most probable clause and adds a second one when that
is nearly as probable.

Like the gate, the chooser is a logistic regression fitted on the tune split by
``scripts/fit_gate.py``; an index made by another embedding model is served by a chooser
fitted on the signals that do not depend on the model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from bot.answers.linear import Logistic, PerEmbedder
from bot.answers.retrieval import Evidence
from bot.knowledge.embeddings import Vectors

CHOICE_FILE = "choice.json"
#: How many of the best clauses the chooser weighs.
CANDIDATES = 3

FEATURES = (
    "meaning",
    "meaning_gap",
    "hint",
    "dense",
    "keyword",
    "rank",
    "coverage",
    "coverage_gap",
    "polar",
)
#: The signals that mean the same whatever model made the vectors.
LEXICAL = ("keyword", "rank", "coverage", "coverage_gap", "polar")

# A question asked for a yes or a no ("can I…", "am I allowed…", "is it ok…").
_YES_NO_QUESTION = re.compile(
    r"^\W*(?:can|could|may|might|am|is|are|was|were|do|does|did|should|shall|will|would|"
    r"must|have|has)\b",
    re.IGNORECASE,
)
_YES_NO_CLAUSE = re.compile(r"^\W*(?:yes|no)\b", re.IGNORECASE)


def is_polar(question: str) -> bool:
    """Whether ``question`` asks for a yes or a no."""
    return bool(_YES_NO_QUESTION.match(question))


def candidate_features(evidence: Evidence) -> list[Vectors]:
    """The signals of each clause found, in :data:`FEATURES` order (the coverage gap is to
    the best of the first :data:`CANDIDATES`)."""
    hits = evidence.hits
    if not hits:
        return []
    coverage = [_coverage(evidence, i) for i in range(len(hits))]
    best_coverage = max(coverage[:CANDIDATES])
    polar = is_polar(evidence.question)
    rows = []
    for rank, hit in enumerate(hits):
        values = (
            hit.meaning,
            hit.meaning - hits[0].meaning,
            hit.hint,
            hit.dense,
            hit.keyword,
            1.0 / (1 + rank),
            coverage[rank],
            coverage[rank] - best_coverage,
            1.0 if polar and _YES_NO_CLAUSE.match(hit.chunk.text) else 0.0,
        )
        rows.append(np.asarray(values, dtype=np.float32))
    return rows


def _coverage(evidence: Evidence, index: int) -> float:
    """The idf-weighted share of the question's words that clause ``index`` holds."""
    total = sum(q.idf for q in evidence.query)
    if not total or index >= len(evidence.hit_terms):
        return 0.0
    found = evidence.hit_terms[index]
    return sum(q.idf for q in evidence.query if q.alternatives & found) / total


@dataclass(frozen=True)
class Chooser:
    """A fitted per-candidate classifier: does this clause answer the question?"""

    model: Logistic

    def probabilities(self, evidence: Evidence) -> list[float]:
        """For each clause found, in the search's order, the probability that it answers
        the question."""
        return [self.model.probability(row, FEATURES) for row in candidate_features(evidence)]

    def to_json(self) -> dict[str, Any]:
        return self.model.to_json()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chooser:
        return cls(Logistic.from_json(data, FEATURES))


class Choosers(PerEmbedder[Chooser]):
    """The shipped choosers: the full one for the model it was fitted with, the lexical one
    for any other."""

    @classmethod
    @lru_cache(maxsize=1)
    def packaged(cls) -> Choosers:
        """The choosers shipped in ``bot/data`` (fitted on the tune split), read once."""
        return cls.read_packaged(CHOICE_FILE, Chooser.from_json)
