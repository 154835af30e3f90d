"""Whether the documents answer a question: a calibrated classifier over retrieval signals.

The signals are what the search saw: how close in meaning the best clause is (its own text,
and the questions its hints say it answers), how strongly it matches on keywords, the share
of the question's rare words the best clauses contain, how close the question is to the
documents as a whole, the margin over the next clause, whether the two rankings agree, and
the question's length; and, when the routing examples include questions the documents do not
answer, how close the question is to those and to questions they do answer (the other routing
examples, and every clause's hints, so that a document added with hints is in scope): staff
ask about a detail the documents never give in words very like the clause that comes closest.
A logistic regression over them, fitted on the tune split of the
evaluation questions by ``scripts/fit_gate.py``, gives the probability that the documents
cover the question; ``policybot eval`` shows how well that probability is calibrated.

Similarities in meaning are on the scale of the model that made them, so the full gate
serves only the embedding model it was fitted with; an index built by any other model
(``POLICYBOT_EMBEDDING_MODEL``, OpenAI embeddings) is gated on the signals that do not
depend on it (keywords, the share of rare words, agreement, length), fitted the same way.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from bot.answers.linear import Logistic, PerEmbedder
from bot.answers.retrieval import Evidence
from bot.knowledge.embeddings import Vectors

GATE_FILE = "gate.json"

FEATURES = (
    "meaning",
    "dense",
    "share",
    "topicality",
    "keyword",
    "margin",
    "agree",
    "other_body",
    "length",
    "inside",
    "outside",
)
#: The signals of a build whose examples do not say where the documents stop.
UNSCOPED = FEATURES[:-2]
#: The signals that mean the same whatever model made the vectors.
LEXICAL = ("share", "keyword", "agree", "other_body", "length")


def features(evidence: Evidence) -> Vectors:
    """The retrieval signals of a search, in the order of :data:`FEATURES`."""
    hits = evidence.hits
    if not hits:
        return np.zeros(len(FEATURES), dtype=np.float32)
    best = hits[0]
    runner = hits[1].meaning if len(hits) > 1 else 0.0
    values = (
        best.meaning,
        best.dense,
        evidence.matched_share(3),
        evidence.topicality,
        math.log1p(evidence.keyword_top),
        best.meaning - runner,
        1.0 if best.keyword >= 0.999 else 0.0,
        1.0 if evidence.other_bodies else 0.0,
        math.log(max(evidence.words, 1)),
        evidence.inside,
        evidence.outside,
    )
    return np.asarray(values, dtype=np.float32)


@dataclass(frozen=True)
class Gate:
    """A fitted logistic regression over retrieval signals, and the probability above
    which the engine answers."""

    model: Logistic
    threshold: float = 0.5

    @property
    def features(self) -> tuple[str, ...]:
        return self.model.names

    def probability(self, evidence: Evidence) -> float:
        """The probability that the documents cover the question."""
        if not evidence.hits or not evidence.query:
            return 0.0
        return self.model.probability(features(evidence), FEATURES)

    def to_json(self) -> dict[str, object]:
        return {**self.model.to_json(), "threshold": self.threshold}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Gate:
        return cls(Logistic.from_json(data, FEATURES), float(data.get("threshold", 0.5)))


@dataclass(frozen=True)
class Gates(PerEmbedder[Gate]):
    """The shipped gates: the full one for the model it was fitted with, the lexical one
    for any other, and the full one's twin without the example questions' signals
    (``unscoped``) for a build whose examples do not say where the documents stop."""

    unscoped: Gate | None = None

    @classmethod
    @lru_cache(maxsize=1)
    def packaged(cls) -> Gates:
        """The gates shipped in ``bot/data`` (fitted on the tune split), read once."""
        gates = cls.read_packaged(GATE_FILE, Gate.from_json)
        data = json.loads(resources.files("bot").joinpath("data", GATE_FILE).read_text("utf-8"))
        if "unscoped" in data:
            gates = replace(gates, unscoped=Gate.from_json(data["unscoped"]))
        return gates

    def for_build(self, embedder: str, *, scoped: bool) -> Gate:
        """The gate for a build made by the embedding model ``embedder``, whose examples
        do (``scoped``) or do not include questions the documents do not answer."""
        gate = self.for_embedder(embedder)
        if gate is self.full and not scoped and self.unscoped is not None:
            return self.unscoped
        return gate

    def save(self, path: Path) -> None:
        super().save(path)
        if self.unscoped is not None:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["unscoped"] = self.unscoped.to_json()
            path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
