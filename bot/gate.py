"""Whether the documents answer a question: a calibrated classifier over retrieval signals.

The signals are what the search saw: how close in meaning the best clause is (its own text,
and the questions its hints say it answers), how strongly it matches on keywords, the share
of the question's rare words the best clauses contain, how close the question is to the
documents as a whole, the margin over the next clause, whether the two rankings agree, and
the question's length. A logistic regression over them, fitted on the tune split of the
evaluation questions by ``scripts/fit_gate.py``, gives the probability that the documents
cover the question; ``policybot eval`` shows how well that probability is calibrated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bot.embeddings import Vectors
from bot.retrieval import Evidence

GATE_FILE = "gate.json"

FEATURES = (
    "meaning",
    "dense",
    "hint",
    "share",
    "topicality",
    "keyword",
    "margin",
    "agree",
    "other_body",
    "length",
)


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
        best.hint,
        evidence.matched_share(3),
        evidence.topicality,
        math.log1p(evidence.keyword_top),
        best.meaning - runner,
        1.0 if best.keyword >= 0.999 else 0.0,
        1.0 if evidence.other_bodies else 0.0,
        math.log(max(evidence.words, 1)),
    )
    return np.asarray(values, dtype=np.float32)


@dataclass(frozen=True)
class Gate:
    """A fitted logistic regression over standardised retrieval signals."""

    mean: Vectors
    scale: Vectors
    weights: Vectors
    bias: float
    threshold: float = 0.5

    def probability(self, evidence: Evidence) -> float:
        """The probability that the documents cover the question."""
        if not evidence.hits or not evidence.query:
            return 0.0
        z = (features(evidence) - self.mean) / self.scale
        logit = float(z @ self.weights) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
            "threshold": self.threshold,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Gate:
        if data.get("features") != list(FEATURES):
            raise ValueError("the gate was fitted on other features: run scripts/fit_gate.py")
        return cls(
            mean=np.asarray(data["mean"], dtype=np.float32),
            scale=np.asarray(data["scale"], dtype=np.float32),
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),  # type: ignore[arg-type]
            threshold=float(data.get("threshold", 0.5)),  # type: ignore[arg-type]
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def packaged(cls) -> Gate:
        """The gate shipped in ``bot/data`` (fitted on the tune split)."""
        text = resources.files("bot").joinpath("data", GATE_FILE).read_text(encoding="utf-8")
        return cls.from_json(json.loads(text))
