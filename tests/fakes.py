"""Test doubles for the core's ports: a deterministic embedder that needs no model."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from bot.answers.text import terms


class FakeEmbedder:
    """Bag-of-stemmed-words vectors hashed into 64 dimensions: texts sharing words are
    similar, as with a real model, and every run gives the same vectors.

    Args:
        fail_after: raise after this many ``embed`` calls (to inject a failure mid-build).
    """

    dimension = 64

    def __init__(self, *, name: str = "fake:bag-of-words", fail_after: int | None = None) -> None:
        self._name = name
        self.fail_after = fail_after
        self.calls = 0
        self.texts_embedded = 0

    @property
    def name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("injected embedding failure")
        self.texts_embedded += len(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for term in terms(text) or ["empty"]:
                slot = int(hashlib.md5(term.encode()).hexdigest()[:8], 16) % self.dimension
                vectors[row, slot] += 1.0
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
        return vectors
