"""PolicyBot's platform-free core: answers, citations, escalation suggestions, reloads.

Adapters (Slack, Teams, the console) hold an :class:`Assistant`, turn each platform event
into one call on it (a :class:`Question` to ask, a button to escalate or act on a case), and
render what they get back: an :class:`Answer`, an :class:`Escalated` case, a :class:`CaseView`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.assistant import Assistant, Escalated
    from bot.case_views import CaseView
    from bot.cases.outbox import FlushResult
    from bot.config import Settings
    from bot.engine import PolicyBot
    from bot.errors import (
        ConfigError,
        DocumentLoadError,
        EmbedderMismatchError,
        EscalationError,
        IndexNotBuiltError,
        KnowledgeStoreError,
        NotAuthorizedError,
        PolicyBotError,
        ReloadInProgressError,
    )
    from bot.models import Answer, Citation, Escalation, Question
    from bot.reload.report import ReloadReport

# Imported on first use: the command line's case commands need none of the engine's
# numerical libraries, and 24 of them may start at once.
_HOMES = {
    "Assistant": "bot.assistant",
    "CaseView": "bot.case_views",
    "Escalated": "bot.assistant",
    "FlushResult": "bot.cases.outbox",
    "PolicyBot": "bot.engine",
    "ReloadReport": "bot.reload.index",
    "Settings": "bot.config",
    **dict.fromkeys(
        [
            "ConfigError",
            "DocumentLoadError",
            "EmbedderMismatchError",
            "EscalationError",
            "IndexNotBuiltError",
            "KnowledgeStoreError",
            "NotAuthorizedError",
            "PolicyBotError",
            "ReloadInProgressError",
        ],
        "bot.errors",
    ),
    **dict.fromkeys(["Answer", "Citation", "Escalation", "Question"], "bot.models"),
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'bot' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)


__all__ = [
    "Answer",
    "Assistant",
    "CaseView",
    "Citation",
    "ConfigError",
    "DocumentLoadError",
    "EmbedderMismatchError",
    "Escalated",
    "Escalation",
    "EscalationError",
    "FlushResult",
    "IndexNotBuiltError",
    "KnowledgeStoreError",
    "NotAuthorizedError",
    "PolicyBot",
    "PolicyBotError",
    "Question",
    "ReloadInProgressError",
    "ReloadReport",
    "Settings",
]
