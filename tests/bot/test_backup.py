"""`policybot backup`: a copy taken while the bot runs restores cases, audit and the index."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.audit.trail import KEY_FILE
from bot.cases.casework import Casework
from bot.config import Settings
from bot.engine import PolicyBot
from bot.errors import PolicyBotError
from bot.models import Question
from bot.ops.backup import backup
from tests.conftest import KNOWLEDGE

EXE = str(Path(sys.executable).with_name("policybot"))
QUESTION = "How long are quarantined emails kept?"


def test_a_backup_of_a_running_bot_restores_its_cases_audit_and_index(
    real_bot: PolicyBot, tmp_path: Path
) -> None:
    live = Settings(data_dir=tmp_path / "live", knowledge_dir=KNOWLEDGE)
    shutil.copytree(real_bot.settings.index_dir, live.index_dir)
    running = Assistant(PolicyBot(live), Casework.open(live))
    try:
        answer = running.ask(Question(QUESTION, user_id="slack:U1", platform="slack"))
        case = running.escalate(answer.id, "hr", note="please call me").case
        environ = {
            "PATH": "",
            "POLICYBOT_ENV_FILE": "",
            "POLICYBOT_DATA_DIR": str(live.data_dir),
        }
        done = subprocess.run(  # while the bot holds its database open
            [EXE, "backup", str(tmp_path / "copy")],
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        running.close()
    assert done.returncode == 0, done.stderr
    assert "the SQLite database" in done.stdout and "index build" in done.stdout

    restored = Settings(data_dir=tmp_path / "copy", knowledge_dir=KNOWLEDGE)
    again = Assistant(PolicyBot(restored), Casework.open(restored))
    try:
        assert again.work.cases.get(case.id).note == "please call me"
        (entry,) = again.work.audit.entries()
        assert entry.answer_id == answer.id
        assert (restored.data_dir / KEY_FILE).read_bytes() == (
            live.data_dir / KEY_FILE
        ).read_bytes()
        assert again.ask(Question(QUESTION, user_id="slack:U2")).answered  # the index came too
    finally:
        again.close()


def test_a_backup_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "there").mkdir()
    with pytest.raises(PolicyBotError, match="exists already"):
        backup(Settings(data_dir=tmp_path / "data"), tmp_path / "there")
