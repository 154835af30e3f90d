"""Which of a person's platform ids is the person: the configured one, else the first."""

from __future__ import annotations

from bot.config import Settings
from bot.people import configured_people, person_of

SETTINGS = Settings.from_env(
    {
        "POLICYBOT_ADMINS": "teams:29:admin",
        "POLICYBOT_HR_REVIEWERS": "teams:aad-hr",
        "POLICYBOT_COMMS_REVIEWERS": "slack:UCOMMS",
    }
)


def test_everyone_the_settings_name_is_configured() -> None:
    assert configured_people(SETTINGS) == {"teams:29:admin", "teams:aad-hr", "slack:UCOMMS"}


def test_the_configured_id_wins_whichever_comes_first() -> None:
    # An admin configured by the id the bot sees, a reviewer by their Entra id.
    assert person_of("teams", ("aad-admin", "29:admin"), SETTINGS) == "teams:29:admin"
    assert person_of("teams", ("aad-hr", "29:hr"), SETTINGS) == "teams:aad-hr"


def test_anyone_else_is_their_first_id_and_nobody_is_unknown() -> None:
    assert person_of("teams", ("aad-staff", "29:staff"), SETTINGS) == "teams:aad-staff"
    assert person_of("teams", (None, "29:staff"), SETTINGS) == "teams:29:staff"
    assert person_of("teams", (), SETTINGS) == "teams:unknown"
    assert person_of("teams", (None, ""), SETTINGS) == "teams:unknown"
