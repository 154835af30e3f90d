"""The Slack manifest parses and grants exactly what the adapter's code uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "manifest" / "slack" / "manifest.yaml"
CODE = ROOT / "adapters" / "slack"

#: The bot scope each Web API method the adapter calls needs (None: no scope).
SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "chat_update": "chat:write",
    "reactions_add": "reactions:write",
    "reactions_remove": "reactions:write",
    "users_info": "users:read",
    "conversations_open": "im:write",
    "views_open": None,
    "views_publish": None,
    "auth_test": None,
}
#: The manifest events each bolt listener needs.
EVENTS = {
    "app_mention": {"app_mention"},
    "message": {"message.im", "message.channels", "message.groups"},
    "app_home_opened": {"app_home_opened"},
}
#: The scopes each manifest event needs.
EVENT_SCOPES = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "app_home_opened": None,
}


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def code() -> str:
    return "\n".join(path.read_text() for path in sorted(CODE.glob("*.py")))


def test_the_manifest_is_complete_for_create_from_manifest() -> None:
    data = manifest()
    assert data["_metadata"]["major_version"] == 1
    assert 175 <= len(data["display_information"]["long_description"]) <= 4000
    assert len(data["display_information"]["description"]) <= 140
    home = data["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert not home["messages_tab_read_only_enabled"]
    assert data["features"]["bot_user"]["display_name"] == "PolicyBot"
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert data["settings"]["socket_mode_enabled"] is True  # no public URL by default


def test_every_web_api_call_in_the_code_has_its_scope() -> None:
    called = set(re.findall(r"client\.([a-z]+_[A-Za-z]+)\(", code()))
    assert called, "no Web API calls found"
    assert called <= SCOPES.keys(), f"add the scope of {called - SCOPES.keys()} to SCOPES"
    granted = set(manifest()["oauth_config"]["scopes"]["bot"])
    needed = {SCOPES[method] for method in called} - {None}
    assert needed <= granted


def test_every_listener_has_its_events_and_nothing_more_is_asked() -> None:
    data = manifest()
    listened = set(re.findall(r'app\.event\("([a-z_]+)"\)', code()))
    assert listened == EVENTS.keys()
    subscribed = set(data["settings"]["event_subscriptions"]["bot_events"])
    assert subscribed == set().union(*EVENTS.values())
    granted = set(data["oauth_config"]["scopes"]["bot"])
    needed = {EVENT_SCOPES[event] for event in subscribed} - {None}
    commands = set(re.findall(r'app\.command\("(/[a-z]+)"\)', code()))
    assert commands == {c["command"] for c in data["features"]["slash_commands"]} == {"/policy"}
    # Only what is used: events' and calls' scopes, commands, and im:read for DM events.
    assert granted == needed | {SCOPES[m] for m in SCOPES if SCOPES[m]} | {"commands", "im:read"}
