"""Policy-change announcements (admins only) and staff muting the messages they bring
(see :mod:`bot.cases.announcements`)."""

from __future__ import annotations

from bot.cases.announcements import Announced, Preview
from bot.cases.notices import mute_reply
from bot.usecases.core import Core


class Announcing:
    """Announcements (see the module docstring).

    Args:
        core: the shared parts.
    """

    def __init__(self, core: Core) -> None:
        self._core = core

    def preview_announcement(self, by: str | None, *, since: str | None = None) -> Preview:
        return self._core.work.announcements.preview(since, by=by)

    def announce(
        self, by: str, *, since: str | None = None, version: str | None = None
    ) -> Announced:
        return self._core.work.announcements.confirm(by, since=since, version=version)

    def mute(self, person: str, platform: str, *, muted: bool = True) -> str:
        contacts = self._core.work.contacts
        changed = contacts.mute(person) if muted else contacts.unmute(person)
        return mute_reply(platform, muted=muted, changed=changed)
