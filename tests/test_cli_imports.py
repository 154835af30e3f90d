"""``policybot ask`` loads only what answering needs (issue 15): no migrations, no Chroma (a
small build is searched from its vector file), no chat platform SDK or web server, and no
SQLAlchemy (approved answers are looked for with the standard library first: see
tests/bot/test_approved_presence.py). Checked in a fresh interpreter, as `python -X
importtime` would see it."""

from __future__ import annotations

import subprocess
import sys

#: Modules the one-shot `ask` path must not import.
UNUSED_BY_ASK = (
    "alembic",
    "sqlalchemy",
    "chromadb",
    "slack_bolt",
    "slack_sdk",
    "botbuilder",
    "aiohttp",
)


def test_the_ask_command_path_imports_no_storage_sdk_or_server() -> None:
    script = (
        "import sys\n"
        "import policybot.cli, adapters.console, bot.engine, bot.reload.index\n"
        "import bot.answers.retrieval, bot.approved.presence, bot.conversation.follow_up\n"
        "from adapters.console import render\n"
        f"unused = {set(UNUSED_BY_ASK)!r}\n"
        "print(','.join(sorted({n.split('.')[0] for n in sys.modules} & unused)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == ""
