"""Giving memory back to the system after a burst of temporary allocations.

Loading the embedding model makes onnxruntime optimise its graph: it frees most of what it
allocates, but glibc keeps the freed pages in the process (measured: 58 MB, for good).
``malloc_trim`` returns them, so that a serving process's resident memory is what it really
uses. And glibc gives each new thread a heap of its own (up to 8 per core), each keeping
its own freed pages: embedding on two threads raised a reload's peak by 76 MB, two heaps in
all by 10 MB (measured on 2 cores: 363 MB with one thread, 439 MB with two, 373 MB with two
threads and two heaps).
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


#: ``mallopt``'s parameter for the most heaps glibc makes (``M_ARENA_MAX``).
_M_ARENA_MAX = -8


def limit_heaps(count: int) -> None:
    """Let glibc make at most ``count`` heaps for this process's threads (a no-op without
    glibc). Threads beyond share them; the heaps already made stay."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(_M_ARENA_MAX, count)


def release_free_memory() -> None:
    """Return the C heap's free pages to the system (a no-op without glibc)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
