"""A slow Microsoft key endpoint: the Teams call that needs the keys waits for them, and
nothing else does (``/healthz``, Slack)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.adapters.slack.fake_slack import FakeSlack
from tests.adapters.teams.openid import APP_ID, OpenIdEndpoint, token
from tests.fault.conftest import Served, responding, start
from tests.processes import until

pytestmark = pytest.mark.fault


async def test_a_slow_key_endpoint_holds_up_no_other_route(
    serving: tuple[dict[str, str], list[Served]],
    fake_slack: FakeSlack,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    trusted, rogue = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in "ab")
    slow = OpenIdEndpoint(trusted, hold=True)
    env, _ = serving
    env.update(MICROSOFT_APP_ID=APP_ID, MICROSOFT_APP_PASSWORD="not-a-real-secret")
    point_at_local_keys = [
        "from botframework.connector.auth import ChannelValidation",
        f"ChannelValidation.open_id_metadata_endpoint = {slow.url!r}",
    ]
    try:
        served = await start(
            serving, fake_slack, data_dir, tmp_path / "serve.log", before=point_at_local_keys
        )
        assert (await responding(served))[0] == 200
        # Signed with a key Microsoft does not publish under that id: refused once the keys
        # have come, so the bot sends nothing anywhere.
        activity = {
            "type": "message",
            "id": "fault-1",
            "channelId": "msteams",
            "serviceUrl": "http://127.0.0.1:9/",
            "from": {"id": "29:asker", "name": "Jo Bloggs"},
            "recipient": {"id": "28:policybot"},
            "conversation": {"id": "a:personal", "conversationType": "personal"},
            "text": "Can I use Facebook at lunchtime?",
        }
        bearer = {"Authorization": f"Bearer {token(rogue, 'http://127.0.0.1:9/', kid='trusted')}"}
        teams_call = served.session.post(
            served.instance.url + "/api/messages", json=activity, headers=bearer
        )
        async with aiohttp.ClientSession() as other:
            pending = asyncio.ensure_future(teams_call)
            await until(slow.received.is_set, "the key fetch reached the key endpoint", 30)

            health = await other.get(served.instance.url + "/healthz")
            answer, _ = await served.ask("How long are quarantined emails kept?")
            # Both answered while the key endpoint still held the fetch.
            assert slow.holding and not pending.done()
            assert health.status == 200 and "30 days" in answer.text

            slow.release()
            response = await pending
            assert response.status == 401
            response.release()
    finally:
        slow.close()
