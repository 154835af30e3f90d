"""Storage faults: a long write lock held by another process, a lock at start-up, a
read-only database. Answers must not wait on the database, and no audit row nor event id may
be lost."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bot.cases.casework import Casework
from bot.config import Settings
from bot.storage.db import SQLITE_FILE
from tests.adapters.slack.fake_slack import FakeSlack
from tests.fault.conftest import (
    QUESTIONS,
    STAFF,
    Locker,
    Served,
    percentile,
    responding,
    start,
)
from tests.processes import until

pytestmark = pytest.mark.fault

LOCK_SECONDS = 45.0
#: Questions asked without the lock, then as many while it is held.
ASKED = 12


async def ask_many(served: Served, count: int, spacing: float) -> list[float]:
    """``count`` questions, one every ``spacing`` seconds, each awaited concurrently: the
    seconds each answer took."""

    async def one(n: int) -> float:
        await asyncio.sleep(n * spacing)
        return (await served.ask(QUESTIONS[n % len(QUESTIONS)]))[1]

    return list(await asyncio.gather(*(one(n) for n in range(count))))


def events_recorded(served: Served) -> int:
    """Slack event ids in the platform state every instance shares."""
    with sqlite3.connect(served.database, timeout=60) as connection:
        query = "SELECT count(*) FROM platform_state WHERE platform = 'slack' AND kind = 'event'"
        return int(connection.execute(query).fetchone()[0])


def report(label: str, latencies: list[float]) -> str:
    return (
        f"{label}: {len(latencies)} answers, p50 {percentile(latencies, 50) * 1000:.0f} ms, "
        f"p95 {percentile(latencies, 95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
    )


async def test_a_45_second_write_lock_delays_no_answer_and_loses_no_audit_row(
    serving: tuple[dict[str, str], list[Served]],
    fake_slack: FakeSlack,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    served = await start(serving, fake_slack, data_dir, tmp_path / "serve.log")
    status, _ = await responding(served)
    assert status == 200
    unlocked = await ask_many(served, ASKED, spacing=0.5)
    await until(lambda: served.audit_rows() == ASKED, "the audit rows of the unlocked answers")

    locker = Locker(served.database, LOCK_SECONDS)
    try:
        # One question every three seconds for the first 36 s of the lock.
        locked = await ask_many(served, ASKED, spacing=3.0)
        # Every question was answered while the other process still held the lock.
        assert locker.holding, "the lock ended before the answers came"
        assert served.audit_rows() == ASKED  # the database was locked: nothing written yet
        waiting = await served.get("/healthz")
        await until(lambda: not locker.holding, "the end of the lock", LOCK_SECONDS + 30)
    finally:
        locker.release()
    assert locker.process.returncode == 0  # the lock was held its 45 s, then rolled back
    await until(lambda: served.audit_rows() == 2 * ASKED, "every audit row after the lock", 60)
    lost = 2 * ASKED - served.audit_rows()
    assert lost == 0
    # The event ids recorded while the database was locked waited in the process, and were
    # written once it was free: another instance knows them as repeats.
    await until(lambda: events_recorded(served) == 2 * ASKED, "every event id after the lock", 60)
    assert waiting[0] == 503 and str(waiting[1]["database"]).startswith("unavailable")
    print(f"\n{report('no lock', unlocked)}\n{report(f'{LOCK_SECONDS:.0f} s write lock', locked)}")
    print(f"audit rows lost: {lost} of {2 * ASKED}")


async def test_a_database_locked_at_start_up_is_used_once_released_without_a_restart(
    serving: tuple[dict[str, str], list[Served]],
    fake_slack: FakeSlack,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    Casework.open(Settings(data_dir=data_dir)).close()  # the schema exists: the lock is the fault
    locker = Locker(data_dir / SQLITE_FILE, 600)  # until released
    try:
        served = await start(serving, fake_slack, data_dir, tmp_path / "serve.log")
        status, health = await responding(served)
        assert status == 503 and str(health["database"]).startswith("unavailable")
        answer, _ = await served.ask("Someone keeps abusing me on Twitter about my job")
    finally:
        locker.release()

    button = next(
        element
        for block in answer.blocks
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"] == "escalate_hr"
    )
    payload = {
        "type": "block_actions",
        "user": {"id": STAFF, "username": "staff"},
        "team": {"id": "T0001"},
        "api_app_id": "A0001",
        "trigger_id": "trig.fault.1",
        "actions": [{**button, "block_id": "answer_actions", "action_ts": "1.2"}],
        "response_url": f"{fake_slack.url}respond/fault-1",
        "container": {
            "type": "message",
            "message_ts": answer.result["ts"],
            "channel_id": answer.args["channel"],
            "is_ephemeral": False,
        },
        "channel": {"id": answer.args["channel"]},
        "message": {"ts": answer.result["ts"], "blocks": answer.blocks},
    }
    await served.slack_post(
        urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded"
    )
    (told,) = await until(lambda: fake_slack.of("response_url"), "the asker's receipt", 30)
    assert "Passed to the HR Advisory team as case HR-0001" in told.text, told.text
    await until(lambda: served.audit_rows() == 1, "the audit row of the answer given locked", 60)
    assert (await served.get("/healthz"))[0] == 200


async def test_a_read_only_database_makes_healthz_503_naming_the_database(
    serving: tuple[dict[str, str], list[Served]],
    fake_slack: FakeSlack,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    env, _ = serving
    Casework.open(Settings(data_dir=data_dir)).close()
    env["DATABASE_URL"] = f"sqlite:///file:{data_dir / SQLITE_FILE}?mode=ro&uri=true"
    served = await start(serving, fake_slack, data_dir, tmp_path / "serve.log", cwd=tmp_path)
    status, health = await responding(served)
    assert status == 503
    assert health["index"] == "ok" and str(health["database"]).startswith("unavailable")
    answer, _ = await served.ask("How long are quarantined emails kept?")
    assert "30 days" in answer.text  # staff are still answered
