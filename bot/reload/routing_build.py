"""A build's routing model: fitted on the example sentences, or taken from the live build.

The model depends only on the example sentences (their texts, labels and the documents the
questions not covered were written for) and on the embedder. When those are the same as the
live build's, which is every reload that changes documents only, the new build takes the
live build's model and example vectors as they are: fitting would give the same model, and
costs importing scikit-learn (seconds of CPU) besides.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.answers.routing import MODEL_FILE, ROUTING_FILE, Examples, fit
from bot.knowledge.embeddings import Vectors

log = logging.getLogger(__name__)

#: The routing example sentences' vectors, kept in a build for the next reload to reuse.
EXAMPLE_VECTORS = "routing-examples.npz"

#: Vectors of texts, some known by the hash of their text; and which were known.
Embed = Callable[[Sequence[str], dict[str, int], Vectors], tuple[Vectors, npt.NDArray[np.bool_]]]


def train_routing(
    examples: Examples,
    path: Path,
    *,
    live: Path | None,
    embed: Embed,
    sha: Callable[[str], str],
) -> bool:
    """Write the routing model and its examples' vectors into the build directory ``path``;
    True when they were taken from the live build rather than fitted.

    Args:
        examples: the example sentences of the knowledge directory.
        path: the new build's directory.
        live: the live build's directory when it was made with the same embedder.
        embed: embeds texts, reusing the rows of a matrix known by their texts' hashes.
        sha: the hash a text is known by.
    """
    if not examples.trainable:
        log.warning("%s has too few example sentences: no routing by meaning", ROUTING_FILE)
        return False
    labelled = examples.labelled()
    texts = [text for text, _ in labelled]
    labels = [label for _, label in labelled]
    shas = [sha(text) for text in texts]
    cached = _read_examples(live) if live is not None else None
    if cached is not None and live is not None:
        known_shas, known_labels, known_vectors = cached
        if (
            known_shas == shas
            and known_labels == labels
            and _written_for(live / MODEL_FILE) == list(examples.written_for)
        ):
            shutil.copyfile(live / EXAMPLE_VECTORS, path / EXAMPLE_VECTORS)
            shutil.copyfile(live / MODEL_FILE, path / MODEL_FILE)
            return True
        known = {s: row for row, s in enumerate(known_shas)}
    else:
        known, known_vectors = {}, np.zeros((0, 0), dtype=np.float32)
    vectors, _ = embed(texts, known, known_vectors)
    np.savez(
        path / EXAMPLE_VECTORS, sha=np.asarray(shas), labels=np.asarray(labels), vectors=vectors
    )
    fit(labels, vectors, examples.written_for).save(path / MODEL_FILE)
    return False


def _read_examples(build: Path) -> tuple[list[str], list[str], Vectors] | None:
    """A build's example hashes, labels and vectors; None when it has none (or they are
    unreadable: then they are embedded again)."""
    try:
        with np.load(build / EXAMPLE_VECTORS) as cache:
            shas = [str(s) for s in cache["sha"].tolist()]
            labels = [str(label) for label in cache["labels"].tolist()]
            vectors = np.asarray(cache["vectors"], dtype=np.float32)
    except (OSError, ValueError, KeyError):
        return None
    if len(shas) != len(vectors) or len(labels) != len(shas):
        return None
    return shas, labels, vectors


def _written_for(model: Path) -> list[str] | None:
    """The documents a fitted model's questions not covered were written for; None when the
    model file is missing or unreadable."""
    try:
        data = json.loads(model.read_text(encoding="utf-8"))
        return [str(d) for d in data.get("written_for", [])]
    except (OSError, ValueError, TypeError, AttributeError):
        return None
