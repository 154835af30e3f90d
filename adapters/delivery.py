"""Delivering case notifications through the chat platforms: at once after a step, and on the
server's timer.

The core queues a notification with the change that causes it (the outbox); this module takes
it to exactly one platform (:class:`PlatformDispatch`). After a step that queues something (a
case opened, a reply, the asker's choice), an adapter calls :meth:`Deliveries.soon`, so that
the team or the asker hears of it at once in Slack and in Teams alike; ``policybot serve``
also delivers every ``TICK_SECONDS`` (SLA reminders, retries of failed deliveries).

The server and the platform adapters both import this module, never each other.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from aiohttp import web

from bot import FlushResult
from bot.assistant import Assistant
from bot.case_views import CaseView
from bot.models import Team

log = logging.getLogger(__name__)


class PlatformNotifier(Protocol):
    """A chat platform's side of :class:`bot.ports.Notifier`, plus what dispatch needs."""

    platform: str

    def serves_team(self, team: Team) -> bool:
        """Whether this platform has a channel configured for ``team``."""

    def post_case(self, case: CaseView) -> None: ...

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None: ...

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None: ...

    def announce(self, platform: str, text: str) -> None: ...

    def message_person(self, platform: str, address: str, text: str) -> None: ...

    def notify_team(self, team: Team, text: str) -> None: ...


class PlatformDispatch:
    """The Notifier the outbox calls: each delivery goes to exactly one platform.

    A case is announced on the asker's own platform when it has a channel for the team,
    else on the first platform that has one; a reply goes to the platform its conversation
    reference belongs to. One platform per delivery means a retry never posts twice.
    """

    def __init__(self, notifiers: Sequence[PlatformNotifier]) -> None:
        self._notifiers = list(notifiers)

    def _for_team(self, team: Team, preferred: str = "") -> PlatformNotifier:
        serving = [n for n in self._notifiers if n.serves_team(team)]
        if not serving:
            raise LookupError(f"no chat platform has a channel for the {team} team")
        return next((n for n in serving if n.platform == preferred), serving[0])

    def post_case(self, case: CaseView) -> None:
        self._for_team(case.team, case.platform).post_case(case)

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        platform = conversation_ref.split(":", 1)[0] if ":" in conversation_ref else ""
        for wanted in (platform, case.platform):
            for notifier in self._notifiers:
                if notifier.platform == wanted:
                    notifier.deliver_reply(conversation_ref, case, text)
                    return
        raise LookupError(f"no chat platform to reach {case.platform} askers")

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        self._for_team(team).remind(team, cases)

    def announce(self, platform: str, text: str) -> None:
        self._on(platform).announce(platform, text)

    def message_person(self, platform: str, address: str, text: str) -> None:
        self._on(platform).message_person(platform, address, text)

    def _on(self, platform: str) -> PlatformNotifier:
        for notifier in self._notifiers:
            if notifier.platform == platform:
                return notifier
        raise LookupError(f"{platform} is not mounted on this server")

    def notify_team(self, team: Team, text: str) -> None:
        self._for_team(team).notify_team(team, text)


class Deliveries:
    """The server's deliveries, shared by every platform mounted on it.

    Args:
        assistant: the core, whose outbox is delivered.
        at_once: deliver in the background after each step (:meth:`soon`); tests that
            deliver by hand, as the timer would, turn it off.
    """

    def __init__(self, assistant: Assistant, *, at_once: bool = True) -> None:
        self.notifiers: list[PlatformNotifier] = []
        self._assistant = assistant
        self._at_once = at_once
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="deliver")

    def dispatch(self) -> PlatformDispatch:
        """The notifier of every mounted platform, as the outbox calls it."""
        return PlatformDispatch(self.notifiers)

    def soon(self) -> None:
        """Deliver what is due in the background, now (after a step that queued something)."""
        if self._at_once and self.notifiers:
            self._worker.submit(self._flush)

    def tick(self) -> FlushResult:
        """Queue due SLA reminders and deliver what is due (blocking: call it on a thread)."""
        return self._assistant.tick(self.dispatch())

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)

    def _flush(self) -> None:
        try:
            self._assistant.deliver(self.dispatch())
        except Exception:  # the timer retries what this flush could not send
            log.exception("delivering notifications after a step failed")


DELIVERIES = web.AppKey("deliveries", Deliveries)
