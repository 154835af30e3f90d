"""Ports: the interfaces the core calls and the adapters implement.

:class:`Notifier` is how escalations and policy-change announcements reach people. The core
never calls it directly when a case changes or an announcement is confirmed: it writes an
outbox row in the same transaction as the change, and :meth:`bot.cases.outbox.Outbox.flush` calls
the notifier later (see ``bot/cases/outbox.py``). A method that raises means "not delivered": the
row stays pending and is retried with backoff.

:class:`Phraser` is how a language model rewrites an extractive answer (``bot/llm/phrasing.py``).

:class:`StateStore` keeps what every ``serve`` instance must know alike about the chat
platforms (``bot/platform_state.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from bot.case_views import CaseView
from bot.models import LLMUsage, Team

if TYPE_CHECKING:  # the case commands import this module and need no search libraries
    from bot.answers.answering import Draft
    from bot.answers.retrieval import Evidence


class Notifier(Protocol):
    """Delivers escalation notifications to a chat platform.

    Calls are synchronous and may take a while (a platform's HTTP API); they are made outside
    any database transaction. An async adapter runs its coroutine on its own event loop and
    waits for it (``asyncio.run_coroutine_threadsafe(...).result(timeout)``). Keep each call
    shorter than the outbox lease (five minutes), or a second flusher may deliver it again.
    """

    def post_case(self, case: CaseView) -> None:
        """Announce a new case in its team's channel (a case card with Claim, Reply, Resolve)."""

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        """Send a reviewer's reply to the asker.

        Args:
            conversation_ref: the reference the adapter gave when the case was opened, or,
                for a case logged without one (from the CLI), the asker's ``platform:user``
                id. ``case.platform`` says which platform it belongs to.
            case: the case (on an anonymous case it names nobody).
            text: the reply, neutral markdown.
        """

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        """Re-announce the team's cases that nobody has claimed within the SLA."""

    def announce(self, platform: str, text: str) -> None:
        """Post a policy-change announcement (neutral markdown) in the announcement channel
        of ``platform`` (``SLACK_ANNOUNCE_CHANNEL``, ``TEAMS_ANNOUNCE_CHANNEL``)."""

    def message_person(self, platform: str, address: str, text: str) -> None:
        """Send one person a direct message (neutral markdown), never in a channel.

        Args:
            platform: ``slack`` or ``teams``.
            address: the conversation reference the adapter gave when they asked, or their
                ``platform:user`` id.
            text: the message.
        """

    def notify_team(self, team: Team, text: str) -> None:
        """Post a message to the team's channel (neutral markdown), such as the approved
        answers a reload suspended until a reviewer looks at them."""


@dataclass
class Delivered:
    """One call a :class:`RecordingNotifier` received."""

    kind: str
    team: str
    cases: tuple[CaseView, ...]
    conversation_ref: str = ""
    text: str = ""

    @property
    def case_ids(self) -> tuple[str, ...]:
        return tuple(case.id for case in self.cases)


@dataclass
class RecordingNotifier:
    """A :class:`Notifier` that records every call in memory, for tests and dry runs.

    Attributes:
        delivered: the calls received, in order.
        fail_next: this many following calls raise ``ConnectionError``, as a platform that
            is down would; each failing call counts one down.
    """

    delivered: list[Delivered] = field(default_factory=list)
    fail_next: int = 0

    def post_case(self, case: CaseView) -> None:
        self._record(Delivered("post_case", case.team, (case,)))

    def deliver_reply(self, conversation_ref: str, case: CaseView, text: str) -> None:
        self._record(Delivered("deliver_reply", case.team, (case,), conversation_ref, text))

    def remind(self, team: Team, cases: Sequence[CaseView]) -> None:
        self._record(Delivered("remind", team, tuple(cases)))

    def announce(self, platform: str, text: str) -> None:
        self._record(Delivered("announce", platform, (), text=text))

    def message_person(self, platform: str, address: str, text: str) -> None:
        self._record(Delivered("message_person", platform, (), address, text))

    def notify_team(self, team: Team, text: str) -> None:
        self._record(Delivered("notify_team", team, (), text=text))

    def of_kind(self, kind: str) -> list[Delivered]:
        """The calls of one kind (``post_case``, ``deliver_reply``, ``remind``,
        ``announce``, ``message_person``); ``team`` holds the platform of the last two."""
        return [call for call in self.delivered if call.kind == kind]

    def _record(self, call: Delivered) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise ConnectionError("platform unavailable")
        self.delivered.append(call)


class StateStore(Protocol):
    """Short strings by platform, kind and key, shared by every instance that uses the store.

    Implementations: :class:`bot.platform_state.DatabaseStateStore` (the database) and
    :class:`bot.platform_state.MemoryStateStore` (one process).
    """

    def add(self, platform: str, kind: str, key: str, value: str = "") -> bool:
        """Keep ``value`` unless the key is kept already; True when this call kept it.
        Atomic: of two callers at once, one only gets True."""
        ...

    def put(self, platform: str, kind: str, key: str, value: str) -> None:
        """Keep ``value``, replacing what the key held."""
        ...

    def get(self, platform: str, kind: str, key: str) -> str | None:
        """What the key holds, or None."""
        ...

    def delete(self, platform: str, kind: str, key: str) -> None:
        """Forget the key (nothing happens when it is not kept)."""
        ...


class Phraser(Protocol):
    """Rewrites an answered extractive draft in natural language, from the same clauses.

    The engine calls it only for a draft that answers the question: whether the documents
    cover a question, and whom to escalate it to, stay the engine's decisions.
    """

    def phrase(
        self, question: str, evidence: Evidence, draft: Draft
    ) -> tuple[Draft, LLMUsage | None]:
        """The draft to answer with (``draft`` itself when the model's answer is unusable)
        and what the model call cost (None when no call was made). Never raises."""
        ...
