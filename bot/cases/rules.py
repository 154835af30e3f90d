"""The rules of the case machine: which step each status allows, and refusals worded for people.

:data:`~bot.case_views.ACTIONS` says which buttons a case offers in its status; :data:`ALLOWED`
says which statuses each step accepts, from any surface (a button, the command line). Every
button is allowed (``tests/bot/test_case_rules.py`` checks it); the command line may also
reopen an answered case, which no card offers.

Refusals are written for the person who pressed the button or typed the command, so that
adapters show them as they are.
"""

from __future__ import annotations

from bot.case_views import WAITING, Status
from bot.models import TEAM_NAMES, Team

ALLOWED: dict[str, tuple[Status, ...]] = {
    "claim": WAITING,
    # A reply on an unclaimed case claims it too, as helpdesk tools do.
    "reply": (*WAITING, "claimed", "answered"),
    "resolve": ("claimed", "answered"),
    "reopen": ("answered", "resolved"),
}
EVENTS = {
    "claim": "claimed",
    "reply": "replied",
    "resolve": "resolved",
    "reopen": "reopened",
    "note": "noted",
}
_VERBS = {"reply": "reply to", "note": "add a note to"}


def refusal(ref: str, action: str, status: str, claimed_by: str | None) -> str:
    """Why ``action`` cannot be taken on case ``ref`` in ``status``, and what to do instead."""
    if action == "claim" and status == "claimed":
        return f"{ref} is already claimed by {claimed_by}"
    if action == "claim":
        return f"{ref} is {status}: only an open or reopened case can be claimed"
    if action == "reopen":
        return f"{ref} is {status}: only an answered or resolved case can be reopened"
    if status == "resolved":
        if action == "resolve":
            return f"{ref} is already resolved"
        return f"{ref} is resolved: reopen it before you reply to it"
    return f"{ref} is {status}: claim it before you resolve it"


REVIEWER_SETTINGS: dict[Team, str] = {
    "hr": "POLICYBOT_HR_REVIEWERS",
    "communications": "POLICYBOT_COMMS_REVIEWERS",
}
"""Where each team's reviewers are configured, for a refusal to say how to become one."""


def not_a_reviewer(ref: str, action: str, team: Team) -> str:
    """The refusal for someone who is neither a reviewer of the case's team nor an admin."""
    verb = _VERBS.get(action, action)
    setting = REVIEWER_SETTINGS[team]
    return (
        f"Sorry, only the {TEAM_NAMES[team]} reviewers and PolicyBot admins can {verb} {ref}. "
        f"A PolicyBot admin adds reviewers to {setting}."
    )


def not_the_asker(ref: str) -> str:
    """The refusal for someone other than the asker adding to a case."""
    return f"Sorry, only the person who asked can add to {ref}."


def held_for_the_asker(ref: str) -> str:
    """The refusal of a step on a case whose asker is still choosing whether to be named."""
    return (
        f"{ref} is not ready yet: its asker is still choosing whether to show their name. "
        "Please try again in two minutes."
    )
