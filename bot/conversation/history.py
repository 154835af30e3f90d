"""A conversation's recent questions, so that a follow-up is understood with them.

Staff talk in threads and chats: "can I use Facebook at work?", then "what about on my own
phone?". Each conversation (a Slack thread or DM, a Teams conversation, a console session:
whatever :attr:`~bot.models.Question.thread` names) keeps a short window of its last
questions, :data:`WINDOW_TURNS` at most, forgotten after a quiet period
(``POLICYBOT_CONVERSATION_MINUTES``, ten minutes by default): a message after a long pause
starts afresh. Whether a new message depends on the window, and how the two are combined,
is :mod:`bot.conversation.follow_up`'s decision.

The window is kept in the platform state (:mod:`bot.platform_state`, kind
:data:`~bot.platform_state.CONVERSATION`), so every ``serve`` instance on one database sees the same
conversation, whichever of them the platform sends the next message to. Like the rest of
that state it is a help, never a reason to fail: a store that cannot be read gives an empty
window (the question is answered alone).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.answers.text import terms

if TYPE_CHECKING:  # the database: imported by what keeps windows, not by what reads turns
    from bot.platform_state import PlatformState
    from bot.storage.db import Clock

log = logging.getLogger(__name__)

#: Earlier questions a conversation keeps.
WINDOW_TURNS = 3
#: Minutes of quiet after which a conversation's earlier questions are forgotten.
DEFAULT_QUIET_MINUTES = 10.0
#: The longest earlier question kept, in characters (a follow-up needs its subject only).
TURN_CHARS = 600
#: An acknowledgement is at most this many words.
ACKNOWLEDGEMENT_WORDS = 6

_ACKNOWLEDGEMENT = re.compile(
    r"^\W*(?:thanks|thank\s+you|thankyou|thx|ty|cheers|ta|great|perfect|brilliant|lovely|"
    r"cool|nice|awesome|excellent|fab|ok|okay|k|got\s+it|understood|will\s+do|noted|"
    r"makes\s+sense|right|fair\s+enough)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Turn:
    """One earlier question of a conversation.

    Attributes:
        asked: the question as the asker typed it.
        searched: what was searched for it: ``asked``, or, for a follow-up, the text it was
            understood as (so that a third message inherits the first one's subject).
        answer_id: the answer it got (what the audit of a follow-up points to).
        at: when it was asked (UTC).
    """

    asked: str
    searched: str
    answer_id: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "asked": self.asked,
            "searched": self.searched,
            "answer_id": self.answer_id,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Turn:
        """Read a turn back.

        Raises:
            KeyError, TypeError, ValueError: ``data`` is not a stored turn.
        """
        return cls(
            asked=str(data["asked"]),
            searched=str(data["searched"]),
            answer_id=str(data["answer_id"]),
            at=datetime.fromisoformat(str(data["at"])),
        )


def acknowledges(text: str) -> bool:
    """Whether a message only acknowledges an answer ("thanks, that's great!", "ok cool"):
    short, opening with thanks or agreement, and asking nothing."""
    return (
        bool(_ACKNOWLEDGEMENT.match(text))
        and "?" not in text
        and len(text.split()) <= ACKNOWLEDGEMENT_WORDS
    )


def carries_subject(text: str) -> bool:
    """Whether a message is worth remembering: "ok thanks" and "thanks, that's great!" are
    not, and are left out of the window so that the question before them stays the one a
    follow-up is read with."""
    return bool(terms(text)) and not acknowledges(text)


def recent(turns: Sequence[Turn], now: datetime, quiet: timedelta) -> list[Turn]:
    """The turns still in the window at ``now``: the conversation is forgotten once it has
    been quiet for ``quiet`` (measured from its last question), and keeps its last
    :data:`WINDOW_TURNS` questions."""
    if not turns or now - max(t.at for t in turns) > quiet:
        return []
    return sorted(turns, key=lambda t: t.at)[-WINDOW_TURNS:]


class Conversations:
    """The windows of every conversation, in the shared platform state.

    Args:
        state: the platform state to keep them in (called on each use: the database's
            while it is available, this process's memory while it is not).
        quiet_minutes: minutes of quiet after which a window is forgotten; 0 turns
            follow-ups off (every question is answered alone).
        clock: the current UTC time (default: the system's; tests pass a fake).
    """

    def __init__(
        self,
        state: Callable[[], PlatformState],
        *,
        quiet_minutes: float = DEFAULT_QUIET_MINUTES,
        clock: Clock | None = None,
    ) -> None:
        # Here, not at the top: the engine reads turns (``Turn``) and must not load the
        # database libraries for it (the one-shot ``policybot ask``).
        from bot.platform_state import CONVERSATION
        from bot.storage.db import utcnow

        self._state = state
        self._quiet = timedelta(minutes=quiet_minutes)
        self._clock = clock or utcnow
        self._kind = CONVERSATION

    @property
    def enabled(self) -> bool:
        return self._quiet > timedelta(0)

    def window(self, platform: str, thread: str) -> list[Turn]:
        """The earlier questions of ``thread`` still in its window, oldest first."""
        if not thread or not self.enabled:
            return []
        stored = self._state().recall(platform, self._kind, thread)
        return recent(_parse(stored, thread), self._clock(), self._quiet)

    def add(self, platform: str, thread: str, *, asked: str, searched: str, answer_id: str) -> None:
        """Add a question to ``thread``'s window (dropping what has expired)."""
        if not thread or not self.enabled:
            return
        now = self._clock()
        turn = Turn(asked[:TURN_CHARS], searched[:TURN_CHARS], answer_id, now)
        kept = [*self.window(platform, thread), turn][-WINDOW_TURNS:]
        value = json.dumps({"turns": [t.to_json() for t in kept]}, ensure_ascii=False)
        self._state().remember(platform, self._kind, thread, value)


def _parse(stored: str | None, thread: str) -> list[Turn]:
    """The turns of a stored window; a damaged one is logged and counts as empty."""
    if not stored:
        return []
    try:
        return [Turn.from_json(t) for t in json.loads(stored)["turns"]]
    except (KeyError, TypeError, ValueError):
        log.warning("the stored window of conversation %r is unreadable: starting afresh", thread)
        return []
