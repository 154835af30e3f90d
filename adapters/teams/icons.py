"""The Teams app icons, drawn here so that the project owns them: ``color.png`` and
``outline.png`` in ``manifest/teams/`` are this module's output.

Teams wants a full-colour 192×192 icon and a 32×32 outline icon that is white on a transparent
background. Both show a speech bubble with lines of text. Shapes are signed distance functions
(negative inside), so edges are anti-aliased without drawing at a larger size; PNGs are written
with zlib and struct, so no imaging library is needed.

Regenerate with ``python -m adapters.teams.icons manifest/teams``.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

RGBA = tuple[int, int, int, int]
Shape = Callable[[float, float], float]

COLOR_SIZE = 192
OUTLINE_SIZE = 32
TEAL = (0, 112, 122)
WHITE = (255, 255, 255)


def png(width: int, height: int, pixel: Callable[[int, int], RGBA]) -> bytes:
    """An 8-bit RGBA PNG whose pixel (x, y) is ``pixel(x, y)``."""
    rows = (
        b"\x00" + bytes(channel for x in range(width) for channel in pixel(x, y))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _box(cx: float, cy: float, half_w: float, half_h: float, radius: float) -> Shape:
    def distance(x: float, y: float) -> float:
        qx = abs(x - cx) - half_w + radius
        qy = abs(y - cy) - half_h + radius
        return math.hypot(max(qx, 0.0), max(qy, 0.0)) + min(max(qx, qy), 0.0) - radius

    return distance


def _triangle(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float]) -> Shape:
    corners = (a, b, c)

    def distance(x: float, y: float) -> float:
        nearest, signs = math.inf, []
        for (x0, y0), (x1, y1) in zip(corners, corners[1:] + corners[:1], strict=True):
            ex, ey, wx, wy = x1 - x0, y1 - y0, x - x0, y - y0
            t = min(max((wx * ex + wy * ey) / (ex * ex + ey * ey), 0.0), 1.0)
            nearest = min(nearest, math.hypot(wx - ex * t, wy - ey * t))
            signs.append(ex * wy - ey * wx >= 0)
        return -nearest if all(signs) or not any(signs) else nearest

    return distance


def _union(*shapes: Shape) -> Shape:
    return lambda x, y: min(shape(x, y) for shape in shapes)


def _lines(top: float, gap: float, half_h: float) -> Shape:
    return _union(
        _box(0.5, top, 0.1875, half_h, half_h),
        _box(0.5, top + gap, 0.1875, half_h, half_h),
        _box(0.4375, top + 2 * gap, 0.125, half_h, half_h),
    )


# The bubble and its lines of text, in a unit square; the outline's lines sit on whole
# pixels of a 32-pixel icon, so that they stay sharp at that size.
BUBBLE = _union(_box(0.5, 0.44, 0.32, 0.22, 0.09), _triangle((0.3, 0.6), (0.46, 0.6), (0.27, 0.8)))
LINES = _lines(0.36, 0.09, 0.03)
OUTLINE_LINES = _lines(10 / 32, 4 / 32, 1 / 32)


def _coverage(distance: float, size: int) -> float:
    """How much of a pixel a shape covers, from its distance to the pixel's centre."""
    return min(max(0.5 - distance * size, 0.0), 1.0)


def _mix(under: tuple[int, int, int], over: tuple[int, int, int], amount: float) -> RGBA:
    r, g, b = (round(u + (o - u) * amount) for u, o in zip(under, over, strict=True))
    return (r, g, b, 255)


def color_icon(size: int = COLOR_SIZE) -> bytes:
    """The full-colour icon: a white bubble with teal lines on teal."""

    def pixel(x: int, y: int) -> RGBA:
        u, v = (x + 0.5) / size, (y + 0.5) / size
        bubble = _coverage(BUBBLE(u, v), size)
        lines = _coverage(LINES(u, v), size)
        r, g, b, _ = _mix(TEAL, WHITE, bubble)
        return _mix((r, g, b), TEAL, lines)

    return png(size, size, pixel)


def outline_icon(size: int = OUTLINE_SIZE) -> bytes:
    """The outline icon: the bubble's outline and its lines, white on transparent."""
    stroke = 1.6 / size

    def pixel(x: int, y: int) -> RGBA:
        u, v = (x + 0.5) / size, (y + 0.5) / size
        ring = abs(BUBBLE(u, v)) - stroke / 2
        alpha = max(_coverage(ring, size), _coverage(OUTLINE_LINES(u, v), size))
        return (*WHITE, round(alpha * 255))

    return png(size, size, pixel)


def write_icons(directory: Path) -> tuple[Path, Path]:
    """Write ``color.png`` and ``outline.png`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    color, outline = directory / "color.png", directory / "outline.png"
    color.write_bytes(color_icon())
    outline.write_bytes(outline_icon())
    return color, outline


if __name__ == "__main__":
    for written in write_icons(Path(sys.argv[1] if len(sys.argv) > 1 else "manifest/teams")):
        print(written)
