"""OpenAI embeddings (``POLICYBOT_EMBEDDINGS=openai``), as an
:class:`~bot.knowledge.embeddings.Embedder`.

The embedder's name (``openai:text-embedding-3-small``, or ``azure-openai:<deployment>``) is
known from the settings alone, so that a reload with nothing to do makes no network call; the
index records it, and an index built by another embedder is refused until it is reloaded.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from bot.config import Settings
from bot.errors import ConfigError, KnowledgeStoreError
from bot.knowledge.embeddings import Embedder, Vectors
from bot.llm.config import LLMConfig, make_client

if TYPE_CHECKING:
    from openai import OpenAI

#: Texts per request; far below the API's limits (2,048 inputs, 300,000 tokens).
BATCH_SIZE = 64
#: Retries of a failed request: a reload is not in a hurry, but should not hang either.
MAX_RETRIES = 2


def embedder_name(config: LLMConfig) -> str:
    """The name an index built with this model records."""
    prefix = "azure-openai" if config.azure else "openai"
    return f"{prefix}:{config.embedding_model}"


def openai_embedder(settings: Settings) -> tuple[Callable[[], Embedder], Callable[[], str]]:
    """Makes the OpenAI embedder on first use, and tells its name without making it.

    Raises:
        ConfigError: no model server is configured.
    """
    config = LLMConfig.from_settings(settings)
    if config is None:
        raise ConfigError(
            "POLICYBOT_EMBEDDINGS=openai needs OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT "
            "and AZURE_OPENAI_API_KEY)"
        )
    return (lambda: OpenAIEmbedder(config)), (lambda: embedder_name(config))


class OpenAIEmbedder:
    """Embeds texts with an OpenAI (or Azure OpenAI, or compatible) embedding model.

    Args:
        config: the model settings; ``config.embedding_model`` is the model (or deployment).
        batch_size: texts per request.
    """

    def __init__(self, config: LLMConfig, *, batch_size: int = BATCH_SIZE) -> None:
        self._config = config
        self._batch_size = batch_size
        self._client: OpenAI | None = None
        self._dimension = 0

    @property
    def name(self) -> str:
        return embedder_name(self._config)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``; returns an ``(n, dim)`` float32 array of unit vectors.

        Raises:
            KnowledgeStoreError: the server failed or answered with the wrong count.
        """
        parts = [
            self._embed_batch(texts[start : start + self._batch_size])
            for start in range(0, len(texts), self._batch_size)
        ]
        if not parts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        vectors = np.concatenate(parts)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: Vectors = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        self._dimension = unit.shape[1]
        return unit

    def _embed_batch(self, texts: Sequence[str]) -> Vectors:
        import openai

        try:
            response = self._openai().embeddings.create(
                model=self._config.embedding_model,
                # The API refuses empty strings.
                input=[text or " " for text in texts],
                encoding_format="base64",
            )
        except openai.OpenAIError as exc:
            status = getattr(exc, "status_code", None)
            raise KnowledgeStoreError(
                f"{self.name} embeddings failed: {type(exc).__name__}"
                + (f" (HTTP {status})" if status else "")
            ) from exc
        data = sorted(response.data, key=lambda item: item.index)
        if len(data) != len(texts):
            raise KnowledgeStoreError(
                f"{self.name} returned {len(data)} embeddings for {len(texts)} texts"
            )
        return np.stack([_decode(item.embedding) for item in data])

    def _openai(self) -> OpenAI:
        if self._client is None:
            self._client = make_client(
                self._config, max_retries=MAX_RETRIES, timeout=self._config.timeout
            )
        return self._client


def _decode(raw: object) -> Vectors:
    """A vector from the base64 little-endian float32 the client asked for, or a list of
    floats from a server that ignores ``encoding_format``."""
    if isinstance(raw, str):
        return np.frombuffer(base64.b64decode(raw), dtype="<f4").astype(np.float32)
    return np.asarray(raw, dtype=np.float32)
