"""``policybot teams-package``: the zip an admin uploads, with the committed icons."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from policybot.cli import app

APP_ID = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"


def package(tmp_path: Path, *args: str) -> tuple[int, str, Path]:
    output = tmp_path / "out" / "policybot.zip"
    result = CliRunner().invoke(app, ["teams-package", *args, "--output", str(output)])
    return result.exit_code, result.output, output


def read_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and RGBA rows of an 8-bit RGBA PNG, checking its structure on the way."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks: dict[bytes, bytes] = {}
    at = 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        tag, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks[tag] = chunks.get(tag, b"") + body
        at += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 6) and b"IEND" in chunks
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 4 * width
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)  # no filter: the pixels can be read directly
    return width, height, [row[1:] for row in rows]


def test_the_package_holds_the_filled_manifest_and_both_icons(tmp_path: Path) -> None:
    code, output, zip_path = package(tmp_path, "--app-id", APP_ID, "--domain", "bot.example.gov.uk")
    assert code == 0, output
    with zipfile.ZipFile(zip_path) as archive:
        assert archive.testzip() is None
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
        color, outline = archive.read("color.png"), archive.read("outline.png")

    assert manifest["id"] == APP_ID
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID
    assert sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    commands = [c for listed in bot["commandLists"] for c in listed["commands"]]
    assert {"help", "reload"} <= {c["title"] for c in commands}
    assert all(len(c["title"]) <= 32 and len(c["description"]) <= 128 for c in commands)
    assert manifest["validDomains"] == ["bot.example.gov.uk"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert len(manifest["name"]["short"]) <= 30
    assert len(manifest["description"]["short"]) <= 80
    assert "${{" not in json.dumps(manifest)

    width, height, _ = read_png(color)
    assert (width, height) == (192, 192)
    width, height, rows = read_png(outline)
    assert (width, height) == (32, 32)
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    # Teams wants the outline white on transparent: every visible pixel is white.
    assert all(p[:3] == b"\xff\xff\xff" for p in pixels if p[3])
    assert any(p[3] == 0 for p in pixels) and any(p[3] == 255 for p in pixels)


def test_without_a_domain_the_manifest_lists_none(tmp_path: Path) -> None:
    code, output, zip_path = package(tmp_path, "--app-id", APP_ID)
    assert code == 0, output
    with zipfile.ZipFile(zip_path) as archive:
        assert json.loads(archive.read("manifest.json"))["validDomains"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--app-id", "my-bot"], "must be a GUID"),
        (["--app-id", APP_ID, "--domain", "https://bot.example.gov.uk/api"], "host name"),
    ],
)
def test_bad_options_are_refused_with_a_reason(
    tmp_path: Path, args: list[str], message: str
) -> None:
    code, output, zip_path = package(tmp_path, *args)
    assert code == 1 and message in output
    assert not zip_path.exists()
