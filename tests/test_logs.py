"""Logs for people and for log collectors (``--log-format json``): a real subprocess."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

from bot.engine import PolicyBot
from policybot.logs import JsonFormatter
from tests.conftest import KNOWLEDGE
from tests.postgres import free_port

EXE = str(Path(sys.executable).with_name("policybot"))


def _environ(data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "POLICYBOT_DATA_DIR": str(data_dir),
        "POLICYBOT_KNOWLEDGE_DIR": str(KNOWLEDGE),
        **extra,
    }


def test_a_record_is_one_json_object_with_its_traceback() -> None:
    try:
        raise ValueError("broken \u00e9")
    except ValueError:
        record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "failed: %s", ("it",), None)
        record.exc_info = sys.exc_info()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.x"
    assert entry["message"] == "failed: it"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: broken \u00e9" in entry["exception"]


def test_every_line_a_command_logs_is_json_when_asked(real_bot: PolicyBot) -> None:
    environ = _environ(real_bot.settings.data_dir, POLICYBOT_LOG_FORMAT="json")
    done = subprocess.run(
        [EXE, "--verbose", "reload"], capture_output=True, text=True, env=environ, timeout=120
    )
    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert entries, "a verbose reload logs what it did"
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)


def test_an_unknown_log_format_is_refused_by_name(real_bot: PolicyBot) -> None:
    done = subprocess.run(
        [EXE, "--log-format", "xml", "reload"],
        capture_output=True,
        text=True,
        env=_environ(real_bot.settings.data_dir),
        timeout=60,
    )
    assert done.returncode != 0
    assert "--log-format" in done.stderr and "xml" in done.stderr


def test_serve_tells_its_start_up_summary_as_json_records(real_bot: PolicyBot) -> None:
    port = free_port()
    environ = _environ(real_bot.settings.data_dir, POLICYBOT_PORT=str(port))
    server = subprocess.Popen(
        [EXE, "--log-format", "json", "serve"],
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )
    try:
        assert server.stderr is not None
        lines = []
        for line in server.stderr:
            lines.append(line)
            if "serving on" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    entries = [json.loads(line) for line in lines]
    assert entries[-1]["message"].startswith(f"PolicyBot serving on http://127.0.0.1:{port}")
    assert any("database" in entry["message"].lower() for entry in entries)
    assert {entry["logger"] for entry in entries} >= {"policybot.start"}
