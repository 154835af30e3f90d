"""Giving memory back to the system after a burst of temporary allocations.

Loading the embedding model makes onnxruntime optimise its graph, and building an index
tokenizes every clause: both free most of what they allocate, but glibc keeps the freed
pages in the process (measured: 58 MB after loading the model, for good). ``malloc_trim``
returns them, so that a serving process's resident memory is what it really uses.
"""

from __future__ import annotations

import ctypes
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    """glibc, or None on a system without it (musl, macOS): nothing to trim there."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (a no-op without glibc)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
