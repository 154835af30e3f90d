"""Who a person is, when a platform knows them by more than one id.

A person is ``<platform>:<id>``. Some platforms give two ids for one person: Teams gives the
Microsoft Entra object id (the same in every app, shown in the Entra admin centre) and the
``29:`` id this bot sees. Admins may configure either in ``POLICYBOT_ADMINS`` and the reviewer
lists; the one configured wins, so that the person's rights are checked (in the core, against
the configured ids) whichever id the platform sent first. Otherwise the first id given wins:
for Teams the Entra id, which outlives a re-registered bot.
"""

from __future__ import annotations

from bot.config import Settings


def configured_people(settings: Settings) -> frozenset[str]:
    """Everyone the settings name: admins and both teams' reviewers."""
    return settings.admins | settings.hr_reviewers | settings.comms_reviewers


def person_of(platform: str, ids: tuple[str | None, ...], settings: Settings) -> str:
    """The ``<platform>:<id>`` of a person the platform knows by ``ids``, most durable first
    (see the module docstring); ``<platform>:unknown`` when it gave none."""
    candidates = [f"{platform}:{i}" for i in ids if i]
    if not candidates:
        return f"{platform}:unknown"
    configured = configured_people(settings)
    return next((c for c in candidates if c in configured), candidates[0])
