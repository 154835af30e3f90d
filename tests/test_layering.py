"""The core never loads a chat platform's SDK or the web server (DESIGN.md), nor ``openai``
until a model is configured."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("slack_bolt", "slack_sdk", "botbuilder", "aiohttp", "openai")


def test_importing_every_core_module_loads_no_platform_sdk() -> None:
    script = (
        "import importlib, pkgutil, sys, bot\n"
        "for m in pkgutil.walk_packages(bot.__path__, 'bot.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_public_surface_is_sorted_and_complete() -> None:
    import bot

    assert bot.__all__ == sorted(bot.__all__)
    for name in bot.__all__:
        assert hasattr(bot, name), name
