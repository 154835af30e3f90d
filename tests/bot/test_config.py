"""Settings: one typed object per part, read once, errors naming the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import ConfigError

EXE = str(Path(sys.executable).with_name("policybot"))


def test_slack_and_teams_settings_are_typed_and_decide_which_platforms_run() -> None:
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "shh",
            "SLACK_HR_CHANNEL": "C1",
            "TEAMS_LOCAL_DEV": "true",
        }
    )
    assert settings.platforms == ("slack", "teams")
    assert settings.slack.hr_channel == "C1" and not settings.slack.socket_mode
    assert settings.teams.local_dev and settings.teams.unauthenticated
    assert "shh" not in repr(settings.slack) and "xoxb" not in repr(settings.slack)
    assert Settings.from_env({}).platforms == ()


@pytest.mark.parametrize(
    ("variables", "variable"),
    [
        ({"TEAMS_LOCAL_DEV": "maybe"}, "TEAMS_LOCAL_DEV"),
        ({"TEAMS_ALLOW_REMOTE_DEV": "2"}, "TEAMS_ALLOW_REMOTE_DEV"),
        ({"POLICYBOT_PRIVATE_SITUATIONS": "sometimes"}, "POLICYBOT_PRIVATE_SITUATIONS"),
        ({"POLICYBOT_PUBLIC_URL": "policybot.example.gov.uk"}, "POLICYBOT_PUBLIC_URL"),
    ],
)
def test_a_flag_that_is_neither_on_nor_off_stops_the_start(
    variables: dict[str, str], variable: str
) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env(variables)


@pytest.mark.parametrize(
    ("variables", "variable"),
    [
        ({"SLACK_BOT_TOKEN": "xoxb-test"}, "SLACK_SIGNING_SECRET"),
        (
            {"SLACK_BOT_TOKEN": "x", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "ftp://x"},
            "SLACK_API_URL",
        ),
    ],
)
def test_a_slack_set_up_that_cannot_work_names_its_variable(
    variables: dict[str, str], variable: str
) -> None:
    settings = Settings.from_env(variables)
    assert "slack" in settings.platforms
    with pytest.raises(ConfigError, match=variable):
        settings.slack  # noqa: B018


def test_platform_variables_are_read_only_through_their_typed_part() -> None:
    with pytest.raises(KeyError, match="Settings.slack"):
        Settings.from_env({"SLACK_BOT_TOKEN": "x"}).get("SLACK_BOT_TOKEN")
    assert Settings.from_env({"OPENAI_MODEL": "m"}).get("OPENAI_MODEL") == "m"


def test_serve_refuses_a_slack_set_up_that_cannot_work_before_it_says_it_serves(
    tmp_path: Path,
) -> None:
    environ = {
        "PATH": "",
        "POLICYBOT_DATA_DIR": str(tmp_path),
        "POLICYBOT_ENV_FILE": "",
        "SLACK_BOT_TOKEN": "xoxb-test",
    }
    done = subprocess.run([EXE, "serve"], env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "SLACK_SIGNING_SECRET" in done.stderr and "serving on" not in done.stderr


def test_private_answers_are_on_unless_turned_off_and_the_public_url_is_kept_bare() -> None:
    assert Settings.from_env({}).private_situations is True
    assert Settings.from_env({"POLICYBOT_PRIVATE_SITUATIONS": ""}).private_situations is True
    assert Settings.from_env({"POLICYBOT_PRIVATE_SITUATIONS": "false"}).private_situations is False
    assert Settings.from_env({"POLICYBOT_PRIVATE_SITUATIONS": "1"}).private_situations is True
    assert Settings.from_env({}).public_url == ""
    url = Settings.from_env({"POLICYBOT_PUBLIC_URL": " https://bot.example.gov.uk/ "}).public_url
    assert url == "https://bot.example.gov.uk"
