"""``policybot announce``: the preview, the prompt, --yes, --json, --by and its refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from bot.cases.casework import Casework
from bot.storage.db import utcnow
from tests.bot.conftest import ADMIN, PROJECT_ROOT, Backend, FakeClock
from tests.bot.test_announcements import CHANGED, asked, reload_log

EXE = str(Path(sys.executable).with_name("policybot"))
PLATFORMS = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "s",
    "SLACK_ANNOUNCE_CHANNEL": "C0NEWS",
}


def announce(database: Backend, *args: str, stdin: str = "") -> tuple[int, str, str]:
    done = subprocess.run(
        [EXE, "announce", *args],
        env=database.env(**PLATFORMS),
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def seeded(database: Backend) -> None:
    """Someone asked in Slack about 4.3, then a reload changed it, a minute ago (the
    command line runs on the real clock)."""
    clock = FakeClock(utcnow() - timedelta(minutes=2))
    work = Casework.open(database.settings(), clock=clock)
    try:
        asked(work, "slack:U1", "4.3")
        clock.advance(minutes=1)
        reload_log(work, CHANGED)
    finally:
        work.close()


def pending(database: Backend) -> list[str]:
    work = Casework.open(database.settings())
    try:
        return [row.kind for row in work.outbox.pending()]
    finally:
        work.close()


def test_the_preview_asks_before_announcing(database: Backend) -> None:
    seeded(database)

    status, out, err = announce(database)  # no --by: a preview only
    assert status == 0 and "To announce it: policybot announce --by" in err
    assert "than 10 minutes → than 15 minutes" in out
    assert "To be posted in the announcement channel on Slack." in out
    assert "1 direct message to 1 person" in out

    status, out, _ = announce(database, "--by", ADMIN, stdin="n\n")
    assert status == 0 and out.rstrip().endswith("Nothing was announced.")
    assert pending(database) == []

    status, out, _ = announce(database, "--by", ADMIN, stdin="y\n")
    assert status == 0, out
    assert "1 direct message queued" in out and "`policybot serve` delivers it" in out
    assert sorted(pending(database)) == ["announce", "notify"]
    listed = subprocess.run(
        [EXE, "escalations", "deliveries"],
        env=database.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "2 notification(s) queued" in listed and "None" not in listed
    assert " announce attempts=0" in listed and " notify attempts=0" in listed

    status, out, _ = announce(database, "--by", ADMIN, "--yes")
    assert status == 0 and "Nothing to announce" in out and len(pending(database)) == 2


def test_json_yes_and_refusals(database: Backend) -> None:
    seeded(database)
    assert announce(database, "--yes")[0] == 2  # --yes needs --by

    status, _, err = announce(database, "--yes", "--by", "slack:USTAFF")
    assert status == 1 and "only PolicyBot admins can announce" in err
    status, _, err = announce(database, "--since", "v9")
    assert status == 1 and "not in the change log" in err

    status, out, _ = announce(database, "--yes", "--by", ADMIN, "--json")
    assert status == 0
    data = json.loads(out)
    assert (data["since"], data["version"], data["announced"], data["by"]) == (
        "v1",
        "v2",
        True,
        ADMIN,
    )
    assert data["channels"] == ["slack"]
    assert data["notifications"] == {
        "messages": 1,
        "people": 1,
        "unreachable": 0,
        "muted": 0,
        "already_told": 0,
    }
    assert data["changes"][0]["section"] == "4.3" and data["changes"][0]["kind"] == "changed"
    assert "Policy update" in data["text"]
