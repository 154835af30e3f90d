"""Which files in the knowledge directory may be read."""

from __future__ import annotations

from pathlib import Path


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, links followed, is within the directory ``root`` (resolved).

    A link in the knowledge directory must not make any readable file on the machine a
    policy document (or a hints file) that staff are answered from.
    """
    return path.resolve().is_relative_to(root)
