"""Memory given back to the system (``bot.knowledge.memory``)."""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from bot.knowledge import memory

pytestmark = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")


def resident_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def test_freed_heap_is_given_back_to_the_system() -> None:
    # Blocks above Python's own small-object allocator come from glibc's heap; one block
    # made after them pins the heap's top, so freeing them alone returns nothing.
    blocks = [bytes(2000) + bytes([n % 256]) for n in range(40_000)]
    pin = bytes(3000)
    del blocks
    before = resident_mb()

    memory.release_free_memory()

    assert before - resident_mb() > 40
    assert len(pin) == 3000


def test_heaps_can_be_limited_on_glibc() -> None:
    assert memory._libc() is not None
    memory.limit_heaps(2)  # later threads share the heaps there are; nothing to observe here
