"""A fitted logistic regression over named, standardised features, kept as JSON.

The answer gate (:mod:`bot.answers.gate`) and the clause chooser (:mod:`bot.answers.choice`)
are both
fitted offline with scikit-learn by ``scripts/fit_gate.py``; serving needs only this
arithmetic, so scikit-learn is never imported to answer a question.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Protocol, Self, TypeVar

import numpy as np

from bot.knowledge.embeddings import Vectors


@dataclass(frozen=True)
class Logistic:
    """``sigmoid(((x - mean) / scale) · weights + bias)`` over the features ``names``."""

    names: tuple[str, ...]
    mean: Vectors
    scale: Vectors
    weights: Vectors
    bias: float

    def probability(self, values: Vectors, known: tuple[str, ...]) -> float:
        """The probability for ``values``, whose columns are named by ``known``."""
        picked = values[[known.index(n) for n in self.names]]
        logit = float(((picked - self.mean) / self.scale) @ self.weights) + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))

    def to_json(self) -> dict[str, Any]:
        return {
            "features": list(self.names),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any], known: tuple[str, ...]) -> Logistic:
        """Read a fitted model, checking it was fitted on features this code computes.

        Raises:
            ValueError: the model names a feature not in ``known``.
        """
        names = tuple(data["features"])
        if not set(names) <= set(known):
            raise ValueError("fitted on other signals: run scripts/fit_gate.py")
        return cls(
            names=names,
            mean=np.asarray(data["mean"], dtype=np.float32),
            scale=np.asarray(data["scale"], dtype=np.float32),
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=float(data["bias"]),
        )

    @classmethod
    def from_sklearn(cls, names: tuple[str, ...], scaler: Any, regression: Any) -> Logistic:
        """From a fitted ``StandardScaler`` and ``LogisticRegression`` pair."""
        return cls(
            names=names,
            mean=scaler.mean_.astype(np.float32),
            scale=scaler.scale_.astype(np.float32),
            weights=regression.coef_[0].astype(np.float32),
            bias=float(regression.intercept_[0]),
        )


class _Fitted(Protocol):
    def to_json(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=_Fitted)


@dataclass(frozen=True)
class PerEmbedder(Generic[M]):
    """A model fitted with the signals of one embedding model (``full``), and its twin fitted
    on the signals that mean the same whatever model made the vectors (``lexical``)."""

    embedder: str
    full: M
    lexical: M

    def for_embedder(self, name: str) -> M:
        """The model to serve an index made by the embedding model ``name``."""
        return self.full if name == self.embedder else self.lexical

    def save(self, path: Path) -> None:
        data = {"embedder": self.embedder, "full": self.full.to_json()}
        data["lexical"] = self.lexical.to_json()
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")

    @classmethod
    def read_packaged(cls, name: str, parse: Any) -> Self:
        """The pair shipped as ``bot/data/<name>``; ``parse`` reads one model's JSON."""
        data = json.loads(resources.files("bot").joinpath("data", name).read_text("utf-8"))
        return cls(str(data["embedder"]), parse(data["full"]), parse(data["lexical"]))
